"""The CUDA path: the same results as the CPU within float tolerance, and a whole run.
Skipped without a GPU (CI has none; run on a GPU machine with `python -m pytest tests/test_cuda.py`)."""

from __future__ import annotations

import json

import pytest
import torch

from seqgan.cli import main
from seqgan.config import DiscriminatorConfig, GeneratorConfig
from seqgan.models import Discriminator, build_generator
from seqgan.policies.sampler import sample_categorical
from seqgan.rewards import DiscriminatorReward
from seqgan.rollout import rollout_rewards

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.fixture(autouse=True)
def no_tf32():
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def test_models_match_cpu():
    gcfg = GeneratorConfig()
    gen = build_generator(gcfg, torch.Generator().manual_seed(0))
    disc = Discriminator(DiscriminatorConfig(), 5000, 20, torch.Generator().manual_seed(1)).eval()
    x = torch.randint(0, 5000, (64, 20), generator=torch.Generator().manual_seed(2))
    lp_cpu, d_cpu = gen.log_probs(x), disc(x)
    gen_c, disc_c = gen.cuda(), disc.cuda()
    torch.testing.assert_close(gen_c.log_probs(x.cuda()).cpu(), lp_cpu, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(disc_c(x.cuda()).cpu(), d_cpu, atol=1e-3, rtol=1e-3)


def test_sampler_is_exact_on_cuda():
    g = torch.Generator(device="cuda").manual_seed(0)
    logits = torch.randn(50, device="cuda") * 2
    n = 400_000
    draws = sample_categorical(logits.expand(n, 50), g)
    counts = torch.bincount(draws, minlength=50).double().cpu()
    expected = torch.softmax(logits.double(), 0).cpu() * n
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert (chi2 - 49) / (2 * 49) ** 0.5 < 4.5


def test_rollout_on_cuda():
    gcfg = GeneratorConfig(vocab_size=100, emb_dim=8, hidden_dim=8, seq_len=10)
    gen = build_generator(gcfg, torch.Generator().manual_seed(0)).cuda()
    disc = Discriminator(DiscriminatorConfig(emb_dim=8, filter_sizes=[2, 3], num_filters=[4, 4]), 100, 10,
                         torch.Generator().manual_seed(1)).cuda()
    g = torch.Generator(device="cuda").manual_seed(3)
    Y = gen.sample(16, g)
    r = rollout_rewards(gen, DiscriminatorReward(disc, chunk=50), Y, 4, g)
    assert r.rewards.device.type == "cuda" and r.rewards.shape == (16, 10)
    for p in range(1, 10):
        assert torch.equal(r.completions[p - 1, :, :, :p], Y[:, :p].expand(4, -1, -1))


def test_whole_run_on_cuda(tiny_yaml, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "--device", "cuda", "-q"]) == 0
    records = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert {r["phase"] for r in records} == {"init", "mle", "discriminator", "adversarial"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["device"] == "cuda"
    # resume on cuda: extend the finished run by one iteration
    assert main(["train", "--resume", str(out), "--set", "adversarial.iterations=4", "-q"]) == 0
    steps = [json.loads(ln)["step"] for ln in (out / "metrics.jsonl").read_text().splitlines()
             if json.loads(ln)["phase"] == "adversarial"]
    assert steps == [0, 1, 2, 3]


@pytest.mark.parametrize("precision", ["tf32", "bf16"])
def test_reduced_precision_runs(precision, tiny_yaml, tmp_path):
    """tf32 / bf16 runs end with finite metrics close to the fp32 run's, and leave torch's TF32
    switches as they were."""
    runs = {}
    for p in ("fp32", precision):
        out = tmp_path / p
        assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "--device", "cuda", "-q",
                     "--set", f"train.precision={p}"]) == 0
        runs[p] = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert not torch.backends.cuda.matmul.allow_tf32  # restored (the fixture turned it off)
    fp32 = [r["nll_oracle"] for r in runs["fp32"] if "nll_oracle" in r]
    low = [r["nll_oracle"] for r in runs[precision] if "nll_oracle" in r]
    assert len(low) == len(fp32) and all(abs(a - b) < 0.05 * a for a, b in zip(low, fp32))


def test_bf16_mle_step_is_close_to_fp32():
    from seqgan.perf import autocast_for
    from seqgan.train.mle import mle_epoch
    from seqgan.train.run import make_adam
    x = torch.randint(0, 5000, (256, 20), generator=torch.Generator().manual_seed(1)).cuda()
    losses = {}
    for p in ("fp32", "bf16"):
        g = build_generator(GeneratorConfig(), torch.Generator().manual_seed(0)).cuda()
        losses[p] = mle_epoch(g, make_adam(g, 0.01), x, 64, 5.0, autocast=autocast_for(p, x.device))
        assert all(q.dtype == torch.float32 for q in g.parameters())  # fp32 master weights
    assert abs(losses["bf16"] - losses["fp32"]) < 0.02 * losses["fp32"]


def test_data_run_on_cuda(tmp_path):
    """task=data on the GPU: variable-length sampling, rollouts and masked losses."""
    from runs import write_corpus
    write_corpus(tmp_path, {"train.txt": 200, "test.txt": 40}, max_words=9)
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "train.txt"), "--test", str(tmp_path / "test.txt"),
                 "--out", str(out), "--device", "cuda", "-q",
                 "--set", "pretrain.generator_epochs=3", "--set", "pretrain.discriminator_rounds=1",
                 "--set", "adversarial.iterations=2", "--set", "eval.bleu_samples=100",
                 "--set", "train.precision=bf16"]) == 0
    recs = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(r["nll_test"] > 0 and 0 <= r["bleu2"] <= 1 for r in recs if "nll_test" in r)


def test_compiled_sampler_on_cuda():
    """train.compile=reduce-overhead on CUDA (inductor kernels replayed as CUDA graphs): the compiled
    step draws what the eager one draws (up to float rounding), rollouts keep their prefixes, and
    nothing falls back to eager. ('default' is the same without graphs, and is tested on CPU.)"""
    mode = "reduce-overhead"
    import warnings
    gcfg = GeneratorConfig(vocab_size=300, emb_dim=8, hidden_dim=16, seq_len=12, init_std=0.5)
    eager = build_generator(gcfg, torch.Generator().manual_seed(0)).cuda()
    comp = build_generator(gcfg, torch.Generator().manual_seed(0)).cuda()
    comp.set_compile(mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(2):  # the second call replays (CUDA graphs) instead of recording
            b = comp.sample(1300, seed=3)
        nll_b = comp.token_nll(b)
        Y = comp.sample(16, seed=4)
        disc = Discriminator(DiscriminatorConfig(emb_dim=8, filter_sizes=[2, 3], num_filters=[4, 4]), 300, 12,
                             torch.Generator().manual_seed(1)).cuda()
        r = rollout_rewards(comp, disc, Y, 4, torch.Generator(device="cuda").manual_seed(5))
    a = eager.sample(1300, seed=3)
    assert (a == b).all(1).float().mean().item() > 0.99
    torch.testing.assert_close(nll_b, eager.token_nll(b), rtol=1e-5, atol=1e-5)
    for p in range(1, 12):
        assert torch.equal(r.completions[p - 1, :, :, :p], Y[:, :p].expand(4, -1, -1))
