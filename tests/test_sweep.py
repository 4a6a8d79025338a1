"""Temperature sweeps: tempered sampling against the exact tempered distribution, tempered NLL
against a hand computation, and the sweep's T = 1 point against `seqgan evaluate`."""

from __future__ import annotations

import pytest
import torch
from scipy import stats

from seqgan.api import evaluate_run
from seqgan.cli import main
from seqgan.models import build_generator
from seqgan.sweep import sweep_runs


def exact_first_two(gen, t: float):
    """p_T(y1) and the marginal p_T(y2) = sum_v p_T(v) p_T(y2 | v), from logits / T by hand."""
    V = gen.vocab_size
    with torch.no_grad():
        first = torch.stack([torch.full((gen.seq_len,), v) for v in range(V)])  # (V, T): y1 = v
        h = gen.features(gen.inputs(first))  # (V, T, H)
        p1 = torch.softmax(gen.logits(h[0, 0:1]).double() / t, -1)[0]  # (V,) the same for every row
        p2_given = torch.softmax(gen.logits(h[:, 1]).double() / t, -1)  # (V, V): row v = p(y2 | y1 = v)
    return p1, p1 @ p2_given


@pytest.mark.parametrize("t", [0.5, 1.0, 2.0])
def test_tempered_samples_follow_the_exact_tempered_distribution(tiny_gen_cfg, t):
    gen = build_generator(tiny_gen_cfg, torch.Generator().manual_seed(0))
    n = 20000
    x = gen.sample(n, torch.Generator().manual_seed(3), temperature=t)
    p1, p2 = exact_first_two(gen, t)
    for col, p in ((0, p1), (1, p2)):
        counts = torch.bincount(x[:, col], minlength=gen.vocab_size).double()
        keep = p * n >= 5  # chi-square needs expected counts of at least 5
        assert counts[~keep].sum() <= 20
        f_exp = p[keep] * n
        f_exp = f_exp * counts[keep].sum() / f_exp.sum()
        assert stats.chisquare(counts[keep].numpy(), f_exp.numpy()).pvalue > 1e-3, (col, t)
    if t != 1.0:  # the test has the power to see a wrong temperature
        q1, _ = exact_first_two(gen, 1.0)
        counts = torch.bincount(x[:, 0], minlength=gen.vocab_size).double()
        keep = q1 * n >= 5
        f_exp = q1[keep] * n * counts[keep].sum() / (q1[keep] * n).sum()
        assert stats.chisquare(counts[keep].numpy(), f_exp.numpy()).pvalue < 1e-6


@pytest.mark.parametrize("t", [1.0, 0.7])
def test_tempered_nll_is_the_teacher_forced_nll_of_logits_over_t(tiny_gen_cfg, t):
    gen = build_generator(tiny_gen_cfg, torch.Generator().manual_seed(0))
    x = gen.sample(300, torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = gen.logits(gen.features(gen.inputs(x)).reshape(-1, gen.feature_dim)).double() / t
        by_hand = -torch.log_softmax(logits, -1).gather(1, x.reshape(-1, 1)).mean().item()
    assert gen.nll(x, temperature=t) == pytest.approx(by_hand, rel=1e-6)


def test_the_sweep_at_t_1_is_what_evaluate_reports(tiny_yaml, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q"]) == 0
    (final,), = [c.points for c in sweep_runs([out], [1.0], seed=5, quiet=True)]
    table = evaluate_run(out, seed=5)
    assert final["nll_oracle"] == table["nll_oracle"] and final["nll_test"] == table["nll_test"]
    both = sweep_runs([out], [0.8, 1.0], mle=True, seed=5, quiet=True)
    assert [c.stage for c in both] == ["mle", "final"]
    assert both[0].points[1]["nll_oracle"] == evaluate_run(out, seed=5, mle=True)["nll_oracle"]
    # evaluate --temperature T is the sweep's point at T (samples and the tempered NLL-test)
    cold = evaluate_run(out, seed=5, mle=True, temperature=0.8)
    assert table["temperature"] == 1.0 and cold["temperature"] == 0.8
    assert cold["nll_oracle"] == both[0].points[0]["nll_oracle"] != both[0].points[1]["nll_oracle"]
    assert cold["nll_test"] == both[0].points[0]["nll_test"] != both[0].points[1]["nll_test"]
    assert main(["sweep", str(out), "--temperatures", "0.8,1.0", "--json", "-q"]) == 0


def test_a_sweep_of_fewer_samples_scores_that_many_samples_and_the_first_held_out_sequences(tiny_yaml, tmp_path):
    """`samples` and `heldout` (reproduce bench --sweep-samples): NLL-oracle of N samples drawn at T from
    the sweep's seed, NLL-test of the first N held-out sequences at T, computed here directly."""
    from seqgan.api import load, run_inputs
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q"]) == 0
    (pts,), = [c.points for c in sweep_runs([out], [0.8], samples=50, heldout=50, seed=5, quiet=True)]
    gen = load(out)
    inputs = run_inputs(out, gen.config, gen.vocab)
    x = gen.sample(50, torch.Generator().manual_seed(5), temperature=0.8)
    assert inputs.heldout is not None and inputs.heldout.shape[0] > 50
    assert pts["nll_oracle"] == inputs.oracle.nll(x)
    assert pts["nll_test"] == gen.nll(inputs.heldout[:50], temperature=0.8) != gen.nll(inputs.heldout, temperature=0.8)
