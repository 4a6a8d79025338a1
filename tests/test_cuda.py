"""The CUDA path: the same results as the CPU within float tolerance, and a whole run.
Skipped without a GPU (CI has none; run on a GPU machine with `python -m pytest tests/test_cuda.py`)."""

from __future__ import annotations

import json

import pytest
import torch

from seqgan.cli import main
from seqgan.config import DiscriminatorConfig, GeneratorConfig
from seqgan.models import Discriminator, Generator
from seqgan.models.lstm import sample_categorical
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
    gen = Generator(gcfg, torch.Generator().manual_seed(0))
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
    gen = Generator(gcfg, torch.Generator().manual_seed(0)).cuda()
    disc = Discriminator(DiscriminatorConfig(emb_dim=8, filter_sizes=[2, 3], num_filters=[4, 4]), 100, 10,
                         torch.Generator().manual_seed(1)).cuda()
    g = torch.Generator(device="cuda").manual_seed(3)
    Y = gen.sample(16, g)
    r = rollout_rewards(gen, disc, Y, 4, g, score_chunk=50)
    assert r.rewards.device.type == "cuda" and r.rewards.shape == (16, 10)
    for p in range(1, 10):
        assert torch.equal(r.completions[p - 1, :, :, :p], Y[:, :p].expand(4, -1, -1))


def test_whole_run_on_cuda(tiny_yaml, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "--device", "cuda", "-q"]) == 0
    records = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert {r["phase"] for r in records} == {"mle", "discriminator", "adversarial"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["device"] == "cuda"
    # resume on cuda: extend the finished run by one iteration
    assert main(["train", "--resume", str(out), "--set", "adversarial.iterations=4", "-q"]) == 0
    steps = [json.loads(ln)["step"] for ln in (out / "metrics.jsonl").read_text().splitlines()
             if json.loads(ln)["phase"] == "adversarial"]
    assert steps == [0, 1, 2, 3]
