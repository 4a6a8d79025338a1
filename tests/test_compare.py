"""`seqgan compare` (seqgan/compare.py): its means, SDs and Welch's t-test equal scipy's and the
formula's; groups read from the same runs as the reference (Table 1's Random and MLE rows, stages of
the SeqGAN runs) are tested by scipy's ttest_rel paired by seed, the others by Welch's ttest_ind, and
the markdown and the JSON name each p's test; an unfinished run is refused, and the `pretrained`
stage is the last MLE evaluation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import seqgan.reproduce as reproduce
from seqgan.cli import main
from seqgan.compare import CompareError, RunValues, summarise, to_json, to_markdown

stats = pytest.importorskip("scipy.stats")

SEQGAN = {0: 8.70, 1: 8.79, 2: 8.66, 3: 8.75}   # seed -> final NLL-oracle
INIT = {0: 10.31, 1: 10.29, 2: 10.35, 3: 10.30}  # seed -> the same runs' init evaluation
MLE = {0: 9.05, 1: 9.02, 2: 9.10}


def runs(method: str, values: dict[int, float], order: list[int]) -> list[RunValues]:
    return [RunValues(Path(f"/r/{method}__{s}"), method, s, "oracle", {"nll_oracle": values[s]}) for s in order]


def test_paired_groups_use_ttest_rel_by_seed_others_welch():
    groups = {"random": runs("seqgan", INIT, [3, 1, 0, 2]),  # another order than the reference's: pair by seed
              "mle": runs("mle", MLE, [0, 1, 2]),
              "seqgan": runs("seqgan", SEQGAN, [0, 1, 2, 3])}
    rows = {r.name: r for r in summarise(groups, ["nll_oracle"], "seqgan", paired={"random"})}
    seeds = [0, 1, 2, 3]
    p_rel = stats.ttest_rel([INIT[s] for s in seeds], [SEQGAN[s] for s in seeds]).pvalue
    assert rows["random"].p_values["nll_oracle"] == pytest.approx(p_rel, rel=1e-12)
    assert rows["random"].tests == {"nll_oracle": "paired"}
    p_welch = stats.ttest_ind(list(MLE.values()), list(SEQGAN.values()), equal_var=False).pvalue
    assert rows["mle"].p_values["nll_oracle"] == pytest.approx(p_welch, rel=1e-12)
    assert rows["mle"].tests == {"nll_oracle": "welch"}
    assert rows["seqgan"].p_values == {} and rows["seqgan"].tests == {}
    # the paired p is not Welch's on the same numbers
    assert abs(p_rel - stats.ttest_ind(list(INIT.values()), list(SEQGAN.values()), equal_var=False).pvalue) > 1e-6
    md = to_markdown(list(rows.values()), ["nll_oracle"], "seqgan")
    line = {ln.split(" | ")[0]: ln for ln in md.splitlines()}
    assert "(paired)" in line["| Random"] and "(Welch)" in line["| MLE"]
    out = to_json(list(rows.values()), ["nll_oracle"], "seqgan")
    assert {g["name"]: g["test"] for g in out["groups"]} == {
        "random": {"nll_oracle": "paired"}, "mle": {"nll_oracle": "welch"}, "seqgan": {}}


def test_pairing_uses_only_shared_seeds_and_refuses_a_seed_twice():
    groups = {"mle": runs("seqgan", {**MLE, 7: 9.5}, [7, 2, 1, 0]), "seqgan": runs("seqgan", SEQGAN, [0, 1, 2, 3])}
    row = next(r for r in summarise(groups, ["nll_oracle"], "seqgan", paired={"mle"}) if r.name == "mle")
    assert row.p_values["nll_oracle"] == pytest.approx(
        stats.ttest_rel([MLE[s] for s in (0, 1, 2)], [SEQGAN[s] for s in (0, 1, 2)]).pvalue, rel=1e-12)
    twice = {"mle": runs("seqgan", MLE, [0, 0, 1]), "seqgan": runs("seqgan", SEQGAN, [0, 1, 2, 3])}
    with pytest.raises(CompareError, match="two runs of seed 0"):
        summarise(twice, ["nll_oracle"], "seqgan", paired={"mle"})


def test_without_paired_summarise_is_welch_as_before():
    groups = {"random": runs("seqgan", INIT, [0, 1, 2, 3]), "seqgan": runs("seqgan", SEQGAN, [0, 1, 2, 3])}
    row = summarise(groups, ["nll_oracle"], "seqgan")[0]  # bench.py's call
    assert row.p_values["nll_oracle"] == pytest.approx(
        stats.ttest_ind(list(INIT.values()), list(SEQGAN.values()), equal_var=False).pvalue, rel=1e-12)


def _fake_run(d: Path, method: str, seed: int, init: float, pretrained: float, final: float) -> Path:
    d.mkdir()
    (d / "summary.json").write_text(json.dumps({
        "method": method, "seed": seed, "wall_time_s": 1.0,
        "evaluations": {"init": {"phase": "init", "step": 0, "nll_oracle": init, "nll_test": init},
                        "final": {"phase": "adversarial", "step": 9, "nll_oracle": final, "nll_test": final}}}))
    (d / "metrics.jsonl").write_text(json.dumps({"phase": "mle", "step": 1, "nll_oracle": pretrained,
                                                 "nll_test": pretrained}) + "\n")
    return d


def test_table1_pairs_random_and_mle_with_seqgan_and_welch_for_the_other_methods(tmp_path, monkeypatch):
    monkeypatch.setattr(reproduce, "plot_methods", lambda *a, **k: None)
    dirs = [_fake_run(tmp_path / f"seqgan__{s}", "seqgan", s, INIT[s], 9.0 + 0.03 * s * s, SEQGAN[s])
            for s in range(4)]
    dirs += [_fake_run(tmp_path / f"pg_bleu__{s}", "pg_bleu", s, INIT[s], 9.0, 8.9 + 0.02 * s) for s in range(3)]
    reproduce.table1(tmp_path, dirs)
    groups = {g["name"]: g for g in json.loads((tmp_path / "table1.json").read_text())["groups"]}
    assert groups["random"]["test"] == {"nll_oracle": "paired", "nll_test": "paired"}
    assert groups["mle"]["test"]["nll_oracle"] == "paired" and groups["pg_bleu"]["test"]["nll_oracle"] == "welch"
    assert groups["mle"]["p_value"]["nll_oracle"] == pytest.approx(stats.ttest_rel(
        [9.0 + 0.03 * s * s for s in range(4)], [SEQGAN[s] for s in range(4)]).pvalue, rel=1e-12)
    md = (tmp_path / "table1.md").read_text()
    assert "paired by seed for Random and MLE" in md


def test_compare_statistics_equal_scipy_and_welchs_formula(tmp_path):
    stats = pytest.importorskip("scipy.stats")
    values = {"seqgan": [8.70, 8.74, 8.69, 8.75], "mle": [9.05, 9.02, 9.08], "pg_bleu": [8.95]}
    dirs = []
    for method, vals in values.items():
        for seed, v in enumerate(vals):
            d = tmp_path / f"{method}__{seed}"
            d.mkdir()
            (d / "summary.json").write_text(json.dumps({
                "method": method, "seed": seed, "wall_time_s": 10.0 + seed,
                "evaluations": {"init": {"phase": "init", "step": 0, "nll_oracle": 10.3, "nll_test": 10.3},
                                "final": {"phase": "adversarial", "step": 9, "nll_oracle": v, "nll_test": v - 0.4}}}))
            dirs.append(str(d))
    assert main(["compare", *dirs, "--json", "--out", str(tmp_path / "t.json")]) == 0
    out = json.loads((tmp_path / "t.json").read_text())
    groups = {g["name"]: g for g in out["groups"]}
    a, b = values["mle"], values["seqgan"]
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    va = sum((x - ma) ** 2 for x in a) / (len(a) - 1)
    vb = sum((x - mb) ** 2 for x in b) / (len(b) - 1)
    assert groups["mle"]["mean"]["nll_oracle"] == pytest.approx(ma)
    assert groups["mle"]["sd"]["nll_oracle"] == pytest.approx(math.sqrt(va))
    # Welch: t = (ma - mb) / sqrt(va/na + vb/nb), Welch-Satterthwaite degrees of freedom
    se2 = va / len(a) + vb / len(b)
    t = (ma - mb) / math.sqrt(se2)
    dof = se2 ** 2 / ((va / len(a)) ** 2 / (len(a) - 1) + (vb / len(b)) ** 2 / (len(b) - 1))
    p = 2 * stats.t.sf(abs(t), dof)
    assert groups["mle"]["p_value"]["nll_oracle"] == pytest.approx(p, rel=1e-9)
    assert groups["mle"]["p_value"]["nll_oracle"] == pytest.approx(
        stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-12)
    assert groups["pg_bleu"]["n"] == 1 and groups["pg_bleu"]["p_value"] == {}  # n = 1: no test
    assert "seqgan" not in [g for g in groups["seqgan"]["p_value"]]



def test_compare_refuses_an_unfinished_run(tmp_path, capsys):
    (tmp_path / "r").mkdir()
    assert main(["compare", str(tmp_path / "r")]) == 2
    assert "summary.json: not found" in capsys.readouterr().err



def test_the_pretrained_stage_is_the_last_mle_evaluation(tmp_path):
    from seqgan.compare import CompareError, read_run
    run = tmp_path / "r"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"method": "seqgan", "seed": 4, "evaluations": {}}))
    recs = [{"phase": "init", "step": 0, "nll_oracle": 11.0},
            {"phase": "mle", "step": 0, "g_loss": 7.0, "nll_oracle": 10.0, "nll_test": 8.0, "wall_time_s": 1.0},
            {"phase": "mle", "step": 1, "g_loss": 6.9, "samples_per_s": 900.0},
            {"phase": "mle", "step": 2, "g_loss": 6.8, "nll_oracle": 9.5, "nll_test": 7.5, "wall_time_s": 2.0},
            {"phase": "adversarial", "step": 0, "nll_oracle": 9.0}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    v = read_run(run, "pretrained")
    assert v.values == {"nll_oracle": 9.5, "nll_test": 7.5} and v.seed == 4 and v.task == "oracle"
    (run / "metrics.jsonl").write_text(json.dumps(recs[0]) + "\n")
    with pytest.raises(CompareError, match="no evaluation of MLE pre-training"):
        read_run(run, "pretrained")

