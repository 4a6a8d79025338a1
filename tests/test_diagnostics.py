"""`train.diagnostics`: the rank correlation against scipy, the reward statistics and the
discriminator probe by hand, and a run that logs them without changing any result."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from scipy import stats

from seqgan.cli import main
from seqgan.diagnostics import discriminator_probe, reward_stats, spearman

from runs import metrics_without_timing, train_cli


def test_spearman_equals_scipy_per_column():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(50, 7, generator=g, dtype=torch.float64), torch.randn(50, 7, generator=g, dtype=torch.float64)
    b[:, 3] = a[:, 3] * 2 + 1  # a monotone column: exactly 1
    b[:, 4] = -a[:, 4] ** 3     # a decreasing one: exactly -1
    ours = spearman(a, b, dim=0)
    for t in range(7):
        assert ours[t].item() == pytest.approx(stats.spearmanr(a[:, t], b[:, t]).statistic, abs=1e-12)
    assert spearman(torch.ones(5, 1), torch.randn(5, 1, generator=g), dim=0).item() == 0.0  # constant: 0, not NaN


def test_reward_stats_by_hand():
    q = torch.tensor([[0.2, 0.4, 0.6],
                      [0.1, 0.1, 0.4]])
    lp = torch.tensor([[-1.0, -2.0, -1.0],
                       [-3.0, -1.0, -2.0]])
    s = reward_stats(q, lp)
    assert s["reward_mean"] == pytest.approx(1.8 / 6)
    sd_row0 = (((0.2 - 0.4) ** 2 + 0 + (0.6 - 0.4) ** 2) / 3) ** 0.5
    sd_row1 = (((0.1 - 0.2) ** 2 * 2 + (0.4 - 0.2) ** 2) / 3) ** 0.5
    assert s["reward_sd_tokens"] == pytest.approx((sd_row0 + sd_row1) / 2)
    assert s["reward_sd_seqs"] == pytest.approx(abs(0.4 - 0.2) / 2)  # population sd of the two means
    assert s["reward_sd_batch"] == pytest.approx((0.05 + 0.15 + 0.1) / 3)
    # two sequences per position: rank correlation +1 where Q and log p order them alike, -1 otherwise
    # position 0: q 0.2 > 0.1, lp -1 > -3: +1; position 1: q 0.4 > 0.1, lp -2 < -1: -1; position 2: +1
    assert s["reward_oracle_spearman"] == pytest.approx(1 / 3)
    # prefixes: cumulative lp (-1, -3, -4) and (-3, -4, -6): the first is higher at every t: +1, +1, +1
    assert s["reward_oracle_spearman_prefix"] == pytest.approx(1.0)


class _FixedD:
    def __init__(self, probs):
        self.probs = probs

    def prob_real(self, x, chunk=0):
        return self.probs[x[:, 0]]


def test_discriminator_probe_by_hand():
    d = _FixedD(torch.tensor([0.9, 0.2, 0.6, 0.4]))
    real = torch.tensor([[0], [1], [2]])  # p = 0.9, 0.2, 0.6: 2 of 3 called real
    fake = torch.tensor([[3], [1]])       # p = 0.4, 0.2: both called fake
    out = discriminator_probe(d, {"train_real": (real, True), "fresh_fake": (fake, False)})  # type: ignore[arg-type]
    assert out["d_prob_train_real"] == pytest.approx(1.7 / 3) and out["d_acc_train_real"] == pytest.approx(2 / 3)
    assert out["d_prob_fresh_fake"] == pytest.approx(0.3) and out["d_acc_fresh_fake"] == 1.0


def test_a_run_with_diagnostics_logs_them_and_changes_nothing_else(tiny_yaml, tmp_path):
    plain, diag = tmp_path / "plain", tmp_path / "diag"
    assert train_cli(tiny_yaml, plain) == 0
    assert main(["train", "--config", str(tiny_yaml), "--out", str(diag), "--set", "train.diagnostics=true", "-q"]) == 0
    keys = (
        "d_prob_train_real",
        "d_prob_heldout_real",
        "d_prob_fresh_fake",
        "reward_oracle_spearman",
        "reward_sd_tokens",
    )
    a, b = metrics_without_timing(plain), metrics_without_timing(diag)
    assert len(a) == len(b)
    for ra, rb in zip(a, b):  # every plain key equal; the extra keys are the diagnostics'
        assert {k: rb[k] for k in ra} == ra
        assert all(
            k.startswith(("d_prob_", "d_acc_train", "d_acc_heldout", "d_acc_fresh", "reward_sd_", "reward_oracle_"))
            for k in set(rb) - set(ra)
        )
    adv = [r for r in b if r["phase"] == "adversarial"]
    assert all("reward_oracle_spearman" in r and -1 <= r["reward_oracle_spearman"] <= 1 for r in adv)
    evals = [r for r in adv if "nll_oracle" in r]
    assert evals and all(0 <= r[k] <= 1 for r in evals for k in keys[:3])
    for name in ("generator.safetensors", "discriminator.safetensors"):
        wa, wb = load_file(str(plain / name)), load_file(str(diag / name))
        assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert json.loads((diag / "summary.json").read_text())["evaluations"]["final"]["d_prob_train_real"] >= 0
