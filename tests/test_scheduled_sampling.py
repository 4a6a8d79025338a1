"""Scheduled Sampling (seqgan/methods/scheduled_sampling.py): its token mixing by hand, p = 1 is MLE
exactly and a decaying p departs from it, the authors' schedule (`start_p`) and coin
(`coin=per_run`), and a chi-square test that the inputs not kept are drawn from the generator's
p(. | the mixed prefix)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch
from torch import Tensor

import seqgan.methods.scheduled_sampling as ss_method
from seqgan.config import GeneratorConfig
from seqgan.methods.options.scheduled_sampling import ScheduledSamplingConfig
from seqgan.methods.scheduled_sampling import run_coin, scheduled_inputs
from seqgan.models import build_generator
from runs import metrics_without_timing, one_token_generator, train_cli, weights

SMALL = {"seed": 5,
         "oracle.seed": 2,
         "discriminator": None,
         "pretrain": {"generator_epochs": 4, "discriminator_rounds": 1},
         "adversarial": None,
         "train": {"eval_samples": 64, "checkpoint_every": 1, "keep_checkpoints": 1, "threads": 1,
                   "tensorboard": False}}


@pytest.fixture(scope="module")
def small_yaml(tiny_config) -> Path:
    return tiny_config(**SMALL)


def records(run: Path, phase: str) -> list[dict]:
    return [r for r in metrics_without_timing(run) if r["phase"] == phase]


# ----------------------------------------------------------------------------- the authors' schedule and coin

def test_defaults_keep_bengio_s_per_token_coin_from_p_1():
    c = ScheduledSamplingConfig()
    assert (c.coin, c.start_p, c.decay, c.min_p) == ("per_token", 1.0, 0.002, 0.0)
    assert ScheduledSamplingConfig(start_p=2.0).problems("scheduled_sampling") == [
        "scheduled_sampling.start_p=2.0 must be in [0, 1]"]


def test_start_p_sets_the_rate_of_epoch_0(small_yaml, tmp_path):
    assert train_cli(small_yaml, tmp_path / "ss", "method=scheduled_sampling", "scheduled_sampling.start_p=0.998",
                 "scheduled_sampling.decay=0.002") == 0
    assert [r["ss_p"] for r in records(tmp_path / "ss", "scheduled_sampling")] == pytest.approx(
        [0.998, 0.996, 0.994, 0.992])


def test_run_coin_is_one_draw_of_the_seed():
    assert run_coin(5) == run_coin(5)
    us = [run_coin(s) for s in range(200)]
    assert all(0.0 <= u < 1.0 for u in us) and len(set(us)) == 200


def test_per_run_coin_is_teacher_forcing_while_u_below_p_then_samples_everywhere(small_yaml, tmp_path, monkeypatch):
    """u < p_0, p_1 and u > p_2, p_3: epochs 0 and 1 are MLE's, bit for bit, and in epochs 2 and 3
    every input after the start token is the generator's sample (keep all false)."""
    u = run_coin(5)
    assert u + 0.15 <= 1.0
    keeps: list[Tensor] = []
    real = ss_method.scheduled_inputs

    def recording(gen, tokens, keep, rng=None):
        keeps.append(keep.clone())
        return real(gen, tokens, keep, rng)

    monkeypatch.setattr(ss_method, "scheduled_inputs", recording)
    assert train_cli(small_yaml, tmp_path / "ss", "method=scheduled_sampling", "scheduled_sampling.coin=per_run",
                 f"scheduled_sampling.start_p={u + 0.15}", "scheduled_sampling.decay=0.1") == 0
    ss = records(tmp_path / "ss", "scheduled_sampling")
    assert [r["ss_p"] > u for r in ss] == [True, True, False, False]
    assert keeps and all(not k.any() for k in keeps)
    monkeypatch.setattr(ss_method, "scheduled_inputs", real)
    assert train_cli(small_yaml, tmp_path / "mle", "method=mle") == 0
    mle = records(tmp_path / "mle", "mle")
    assert [r["g_loss"] for r in ss[:2]] == [r["g_loss"] for r in mle[:2]]
    assert all(a["g_loss"] != b["g_loss"] for a, b in zip(ss[2:], mle[2:]))
    batches = (256 // 32)  # batches per epoch: one scheduled_inputs call each, in epochs 2 and 3 only
    assert len(keeps) == 2 * batches


def test_per_run_with_the_authors_rates_above_u_is_mle(small_yaml, tmp_path):
    """The authors' run: their u (0.3975) is below every rate, so SS is teacher forcing throughout."""
    u = run_coin(5)
    assert train_cli(small_yaml, tmp_path / "ss", "method=scheduled_sampling", "scheduled_sampling.coin=per_run",
                 f"scheduled_sampling.start_p={min(1.0, u + 0.01)}", "scheduled_sampling.decay=0") == 0
    assert train_cli(small_yaml, tmp_path / "mle", "method=mle") == 0
    ss, mle = records(tmp_path / "ss", "scheduled_sampling"), records(tmp_path / "mle", "mle")
    assert [r["g_loss"] for r in ss] == [r["g_loss"] for r in mle]


# ----------------------------------------------------------------------------- the sampled inputs' law

def test_inputs_not_kept_follow_the_generator_given_the_mixed_prefix():
    """Chi-square, pooled over every (position t, mixed prefix inputs[:, :t]) cell: the input
    drawn at t where keep is false must follow p_G(. | inputs[:, :t]), the generator's prediction
    along the mixed path (teacher-forced logits on the mixed inputs). A 3-token vocabulary and a
    large init make each prediction depend strongly on the history, so an argmax draw, or a
    decoder stepped with the true token instead of the mixed one, is rejected."""
    stats = pytest.importorskip("scipy.stats")
    V, T, B = 3, 5, 40000
    gen = build_generator(GeneratorConfig(vocab_size=V, emb_dim=4, hidden_dim=8, seq_len=T, init_std=1.5),
                          torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(4)
    tokens = torch.randint(0, V, (B, T), generator=g)
    keep = torch.rand(B, T, generator=g) < 0.5
    inputs = scheduled_inputs(gen, tokens, keep, g)
    with torch.no_grad():
        probs = torch.softmax(gen(tokens, inputs=inputs).double(), dim=-1)  # [:, t-1]: p(. | inputs[:, :t])
    observed: dict[tuple, Counter] = {}
    expected: dict[tuple, Tensor] = {}
    for t in range(1, T):
        drawn = ~keep[:, t]
        for prefix, x, p in zip(inputs[drawn, :t].tolist(), inputs[drawn, t].tolist(), probs[drawn, t - 1]):
            key = (t, *prefix)
            observed.setdefault(key, Counter())[x] += 1
            expected[key] = expected.get(key, torch.zeros(V, dtype=torch.float64)) + p
    chi2, dof = 0.0, 0
    for key, e in expected.items():
        if e.min() < 5:  # a cell too thin for the chi-square approximation
            continue
        o = torch.tensor([observed[key][v] for v in range(V)], dtype=torch.float64)
        chi2 += float(((o - e) ** 2 / e).sum())
        dof += V - 1
    assert dof >= 20
    assert stats.chi2.sf(chi2, dof) > 1e-4, (chi2, dof)


# ----------------------------------------------------------------------------- token mixing, p = 1 is MLE

def test_scheduled_inputs_mix_true_and_sampled_tokens_by_hand():
    """A generator that always emits token 4: where keep is false the input is 4, else the true
    previous token; position 0 always reads the start token."""
    gen = one_token_generator(4)
    tokens = torch.tensor([[1, 2, 3, 5, 6], [6, 5, 3, 2, 1]])
    keep = torch.tensor([[False, True, False, True, False], [True, False, False, True, True]])
    inputs = scheduled_inputs(gen, tokens, keep, torch.Generator().manual_seed(1))
    assert inputs.tolist() == [[0, 1, 4, 3, 4], [0, 4, 4, 3, 2]]
    assert torch.equal(scheduled_inputs(gen, tokens, torch.ones_like(keep)), gen.inputs(tokens))



def test_scheduled_sampling_with_p_1_is_mle_exactly(baseline_yaml, tmp_path):
    assert train_cli(baseline_yaml, tmp_path / "mle", "method=mle") == 0
    assert train_cli(baseline_yaml, tmp_path / "ss", "method=scheduled_sampling", "scheduled_sampling.decay=0") == 0
    a, b = metrics_without_timing(tmp_path / "mle"), metrics_without_timing(tmp_path / "ss")
    assert [r["phase"] for r in b] == ["init"] + ["scheduled_sampling"] * 4
    for r, s in zip(a, b):
        s = {k: v for k, v in s.items() if k not in ("phase", "ss_p")}
        assert {k: v for k, v in r.items() if k != "phase"} == s
    wa, wb = weights(tmp_path / "mle"), weights(tmp_path / "ss")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)



def test_scheduled_sampling_lowers_p_and_departs_from_mle(baseline_yaml, tmp_path):
    assert train_cli(baseline_yaml, tmp_path / "ss", "method=scheduled_sampling") == 0
    recs = [r for r in metrics_without_timing(tmp_path / "ss") if r["phase"] == "scheduled_sampling"]
    assert [r["ss_p"] for r in recs] == pytest.approx([1.0, 0.9, 0.8, 0.7])
    assert train_cli(baseline_yaml, tmp_path / "mle", "method=mle") == 0
    mle = [r for r in metrics_without_timing(tmp_path / "mle") if r["phase"] == "mle"]
    assert recs[0]["g_loss"] == mle[0]["g_loss"]  # epoch 0 has p = 1
    assert recs[1]["g_loss"] != mle[1]["g_loss"]  # sampled inputs change the loss from epoch 1 on

