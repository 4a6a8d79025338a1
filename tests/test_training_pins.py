"""Pins of the training code that mutants survived: the policy-gradient update's clip and sign
through `seqgan.train.adversarial.pg_update` (the function every g-step runs), the clip a run
passes it, and the in-run evaluation's sample count and temperature."""

from __future__ import annotations

import copy
import inspect
from pathlib import Path

import pytest
import torch

import seqgan.train.adversarial as adversarial
from seqgan.cli import main
from seqgan.config import GeneratorConfig
from seqgan.models import build_generator
from seqgan.policies import Policy
from seqgan.train.adversarial import pg_update
from runs import metrics_without_timing


def _generator() -> Policy:
    return build_generator(GeneratorConfig(vocab_size=11, emb_dim=6, hidden_dim=8, seq_len=5, init_std=0.5),
                           torch.Generator().manual_seed(0))


def _written_out_grads(gen: Policy, Y: torch.Tensor, Q: torch.Tensor) -> tuple[float, list[torch.Tensor]]:
    """L = -sum_{b,t} Q[b, t] log p(y_t | y_<t) from the teacher-forced logits, and its gradient."""
    ref = copy.deepcopy(gen)
    logp = torch.log_softmax(ref(Y), dim=-1).gather(2, Y.unsqueeze(2)).squeeze(2)  # (B, T)
    loss = -(Q * logp).sum()
    return float(loss.detach()), list(torch.autograd.grad(loss, list(ref.parameters())))


def _sgd_change(gen: Policy, Y: torch.Tensor, Q: torch.Tensor, clip: float) -> tuple[adversarial.PGStats, list]:
    ours = copy.deepcopy(gen)
    before = [p.detach().clone() for p in ours.parameters()]
    stats = pg_update(ours, torch.optim.SGD(ours.parameters(), lr=1.0), Y, Q, "none", "sum", clip, lm=ours)
    return stats, [p0 - p.detach() for p0, p in zip(before, ours.parameters())]


def test_pg_update_with_sgd_lr_1_steps_by_minus_the_gradient_of_minus_sum_q_log_p():
    """The sign: with no clip in reach, the parameter change of SGD(lr=1) is +grad of
    -sum Q log p (so the step raises log p where Q > 0)."""
    gen = _generator()
    Y = gen.sample(9, seed=1)
    Q = torch.rand(Y.shape, generator=torch.Generator().manual_seed(2))
    loss, grads = _written_out_grads(gen, Y, Q)
    stats, change = _sgd_change(gen, Y, Q, 1e9)
    assert stats.loss == pytest.approx(loss, rel=1e-5)
    for d, g in zip(change, grads):
        torch.testing.assert_close(d, g, atol=2e-5, rtol=1e-4)


def test_pg_update_clips_the_global_gradient_norm_to_grad_clip():
    """Clip 5.0 on a gradient of norm well above 5: the step is the written-out gradient scaled
    by 5 / ||g|| (torch's clip_grad_norm_, eps 1e-6), and grad_norm reports ||g|| before clipping."""
    gen = _generator()
    Y = gen.sample(9, seed=1)
    Q = 50.0 * torch.rand(Y.shape, generator=torch.Generator().manual_seed(2))
    _, grads = _written_out_grads(gen, Y, Q)
    norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))
    assert norm > 20.0
    stats, change = _sgd_change(gen, Y, Q, 5.0)
    assert stats.grad_norm == pytest.approx(norm, rel=1e-4)
    scale = 5.0 / (norm + 1e-6)
    for d, g in zip(change, grads):
        torch.testing.assert_close(d, g * scale, atol=2e-6, rtol=1e-4)
    step = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(d) for d in change])))
    assert step == pytest.approx(5.0, rel=1e-4)


TINY = {"seed": 5,
        "oracle": {"seed": 2, "num_samples": 128, "test_samples": 64},
        "generator": {"vocab_size": 30, "seq_len": 6},
        "discriminator": None,
        "pretrain": {"generator_epochs": 2, "discriminator_rounds": 1},
        "adversarial": {"iterations": 2, "rollout_num": 1},
        "train": {"eval_every": 1, "eval_samples": 96, "checkpoint_every": 1, "keep_checkpoints": 1, "threads": 1,
                  "tensorboard": False, "grad_clip": 3.5}}


@pytest.fixture(scope="module")
def tiny_yaml(tiny_config) -> Path:
    return tiny_config(**TINY)


def test_a_run_s_g_steps_clip_at_train_grad_clip(tiny_yaml, tmp_path, monkeypatch):
    clips: list[float] = []
    real = adversarial.pg_update

    def recording(*args, **kwargs):
        clips.append(inspect.signature(real).bind(*args, **kwargs).arguments["grad_clip"])
        return real(*args, **kwargs)

    monkeypatch.setattr(adversarial, "pg_update", recording)
    assert main(["train", "--config", str(tiny_yaml), "--out", str(tmp_path / "run"), "-q",
                 "--set", "method=pg_bleu"]) == 0
    assert clips == [3.5, 3.5]  # one g-step per iteration


def test_in_run_evaluation_samples_train_eval_samples_at_temperature_1(tiny_yaml, tmp_path, monkeypatch):
    """Every evaluation (init, then each of the 2 MLE epochs) samples train.eval_samples (96)
    sequences from the generator at temperature 1; no other sampling in an MLE run asks for 96."""
    calls: list[tuple[int, float]] = []
    real = Policy.sample

    def recording(self, *args, **kwargs):
        bound = inspect.signature(real).bind(self, *args, **kwargs)
        bound.apply_defaults()
        calls.append((bound.arguments["num"], bound.arguments["temperature"]))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Policy, "sample", recording)
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q", "--set", "method=mle"]) == 0
    evaluations = [r for r in metrics_without_timing(out) if "nll_oracle" in r]
    assert len(evaluations) == 3
    assert [c for c in calls if c[0] == 96] == [(96, 1.0)] * 3
    assert all(t == 1.0 for _, t in calls)
