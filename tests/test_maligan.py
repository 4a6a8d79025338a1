"""MaliGAN (methods/maligan.py): the normalised importance weights and the step's gradient against
hand computations, the continuations of real prefixes, the mixed-MLE schedule, the controls, exact
resume after SIGKILL, and torchrun against one process."""

from __future__ import annotations

from contextlib import nullcontext
from types import SimpleNamespace

import json
import math
from pathlib import Path

import pytest
import torch

from runs import (GAN, one_token_generator, kill_and_resume_equals, metrics_without_timing,
                  train_cli, torchrun_worker, train_finite)


from seqgan.config import GeneratorConfig, Sizes, load_config
from seqgan.distributed import SINGLE
from seqgan.methods.maligan import (continue_prefixes, density_ratio, importance_weights, maligan_step,
                                    maligan_update)
from seqgan.models import build_generator
from test_interface import assert_control_trains_no_critic

@pytest.fixture(scope="module")
def gan_yaml(tiny_config) -> Path:
    return tiny_config(**GAN, maligan={"samples_per_prefix": 4, "prefix_start": 4, "prefix_step": 2,
                                       "prefix_every": 2})


# ----------------------------------------------------------------------------- MaliGAN

def test_maligan_weights_by_hand():
    """r = D/(1-D), normalised within groups of m, minus 1/m; or r = D ('prob')."""
    d = torch.tensor([0.2, 0.5, 0.8, 0.9])
    r = density_ratio(d, "ratio")
    torch.testing.assert_close(r, torch.tensor([0.25, 1.0, 4.0, 9.0]))
    w = importance_weights(r, 2, "mean")
    torch.testing.assert_close(w, torch.tensor([0.25 / 1.25 - 0.5, 1 / 1.25 - 0.5, 4 / 13 - 0.5, 9 / 13 - 0.5]))
    torch.testing.assert_close(importance_weights(r, 4, "none"), r / 14.25)
    torch.testing.assert_close(density_ratio(d, "prob"), d)


def _fake_run(gen, real, prefix_start, m, batch=8, seed=7):
    cfg = load_config(None, [f"maligan.prefix_start={prefix_start}", f"maligan.samples_per_prefix={m}",
                             "train.grad_clip=1e9"])
    return SimpleNamespace(cfg=cfg, pg_batch=batch, sizes=Sizes(gen.vocab_size, gen.seq_len), world=SINGLE,
                           rngs={"train": torch.Generator().manual_seed(seed)}, real=real, gen=gen,
                           optimizers={"pg": torch.optim.SGD(gen.parameters(), lr=1.0)}, autocast=nullcontext,
                           trained=lambda name: gen)


@pytest.mark.parametrize("N", [0, 3])
def test_maligan_step_s_update_is_the_hand_computed_gradient(N):
    """One step of the code training runs (SGD lr 1, no clip: the update is minus the gradient) against
    autograd of the loss written out: -sum_i w_i sum_{t>=N} log G(y_t|y_<t) - 1/(bN) sum_i sum_{t<N} log G,
    with w from a fixed 'discriminator' and the same draws. Fails when the weights are normalised over
    the whole batch instead of each group (checked), or the MLE part is dropped."""
    gcfg = GeneratorConfig(vocab_size=9, emb_dim=5, hidden_dim=6, seq_len=6, init_std=0.5)
    gen = build_generator(gcfg, torch.Generator().manual_seed(0))
    real = torch.randint(0, 9, (20, 6), generator=torch.Generator().manual_seed(1))

    def disc(Y):  # a fixed D(Y) in (0, 1) that differs between sequences
        return torch.sigmoid((Y.float() * torch.arange(1, 7)).sum(1) / 20 - 2)

    m, b = 2, 8
    run = _fake_run(gen, real, N, m, b)
    before = {k: v.clone() for k, v in gen.state_dict().items()}
    maligan_step(run, disc, N)
    after = gen.state_dict()
    # by hand, with the same draws
    ref = build_generator(gcfg, torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(7)
    pick = torch.randint(20, (b // m,), generator=g)
    Y = continue_prefixes(ref, real[pick], N, m, g)
    if N:
        assert torch.equal(Y[:, :N], real[pick].repeat_interleave(m, 0)[:, :N])  # the real prefixes are kept
    r = [float(p / (1 - p)) for p in disc(Y)]
    w = []
    for i in range(b):
        grp = r[(i // m) * m:(i // m + 1) * m]
        w.append(r[i] / sum(grp) - 1.0 / m)
    logp = ref.log_probs(Y)  # (b, T)
    loss = -sum(w[i] * logp[i, N:].sum() for i in range(b))
    if N:
        loss = loss - logp[:, :N].sum() / (b * N)
    loss.backward()
    for (k, p), (_, v0) in zip(ref.named_parameters(), before.items()):
        torch.testing.assert_close(after[k] - v0, -p.grad, atol=1e-5, rtol=1e-4, msg=k)


def test_maligan_continuations_follow_the_generator_given_the_prefix():
    """Continuations of a prefix are the generator's draws from the state after the prefix: with a
    generator that always emits token 4 after anything, every continued position is 4."""
    gen = one_token_generator(4)
    real = torch.tensor([[1, 2, 3, 5, 6], [6, 5, 3, 2, 1]])
    Y = continue_prefixes(gen, real, 2, 3, torch.Generator().manual_seed(0))
    assert Y.tolist() == [[1, 2, 4, 4, 4]] * 3 + [[6, 5, 4, 4, 4]] * 3



def test_a_constant_reward_gives_maligan_no_update(gan_yaml, tmp_path):
    """Constant D: the normalised weights are 1/m each, minus the baseline 1/m: zero."""
    adv = assert_control_trains_no_critic("maligan", gan_yaml, tmp_path / "c")
    assert adv and all(r["weight_sd"] == 0.0 for r in adv)


@pytest.mark.slow  # the default suite keeps exact resume: test_checkpoint (SeqGAN)
def test_maligan_resumes_exactly_after_sigkill(gan_yaml, tmp_path):
    ref = tmp_path / "ref"
    sets = ["method=maligan", "adversarial.iterations=30"]  # long enough that the kill lands inside it
    train_finite(gan_yaml, ref, "maligan", sets)
    kill_and_resume_equals(gan_yaml, ref, tmp_path / "run", sets, ["generator.safetensors",
                                                                    "discriminator.safetensors"])


def test_maligan_mixed_mle_schedule_is_logged(gan_yaml, tmp_path):
    """N = max(0, 4 - 2 * (i // 2)) over the 6 iterations: 4, 4, 2, 2, 0, 0."""
    out = tmp_path / "m"
    assert train_cli(gan_yaml, out, "method=maligan", "adversarial.iterations=6") == 0
    adv = [r for r in metrics_without_timing(out) if r["phase"] == "adversarial"]
    assert [r["prefix_len"] for r in adv] == [4, 4, 2, 2, 0, 0]


@pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                    reason="needs torch.distributed with gloo")
@pytest.mark.parametrize("N", [0, 2])
def test_torchrun_update_equals_the_single_process_update(tmp_path, N):
    """2 gloo processes, each with two of the four groups of a fixed global batch and fixed D outputs:
    the update equals the single-process update on the whole batch (the MLE prefix's 1/(B N) counts the
    global batch: checked by dropping the world size from it)."""
    w, got = torchrun_worker("dist_maligan_worker", str(N))
    fixed_problem, maligan_run = w.fixed_problem, w.maligan_run
    gen, Y, d = fixed_problem()
    W0 = gen.W_out.detach().clone()
    maligan_update(maligan_run(gen, gen, SINGLE), Y, d, N)
    assert not torch.equal(gen.W_out, W0)
    for k, v in gen.state_dict().items():
        torch.testing.assert_close(got[k], v, atol=1e-5, rtol=1e-5, msg=k)


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_maligan_runs_with_every_generator_kind(kind, gan_yaml, tmp_path):
    out = tmp_path / "run"
    assert train_cli(gan_yaml, out, "method=maligan", f"generator.kind={kind}", "adversarial.iterations=2") == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["method"] == "maligan" and all(math.isfinite(v) for ph in s["nll_oracle"].values() for _, v in ph)
    import seqgan
    gen = seqgan.load(out)
    assert gen.kind == kind and gen.sample(3, seed=0).shape == (3, 8)
