"""Compare finished runs, grouped: mean ± sd over seeds and Welch's t-test against a reference
group, in the layout of the paper's Table 1 (`seqgan compare`, `seqgan reproduce table1`).

Each run contributes one value per metric: its last evaluation (`final`), its evaluation
of the untrained generator (`init`, the "Random" row), both from `summary.json`, or the last
evaluation of its MLE pre-training (`pretrained`, the "MLE" row, from `metrics.jsonl`). The
p-value of a group is `scipy.stats.ttest_ind(group, reference, equal_var=False)` (Welch),
two-sided; for a group read from the same runs as the reference (`paired`: Table 1's Random and
MLE rows are stages of the SeqGAN runs) it is `scipy.stats.ttest_rel` on the values paired by
seed. With fewer than two runs (or two shared seeds) there is no test.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from seqgan.methods import label
from seqgan.plan import MLE

#: the metrics a comparison reports, by task; lower is better for the NLLs, higher for BLEU
ORACLE_METRICS = ("nll_oracle", "nll_test")
DATA_METRICS = ("nll_test", "bleu2", "bleu3", "bleu4", "bleu5", "self_bleu4")
LABELS = {"nll_oracle": "NLL-oracle", "nll_test": "NLL-test", "self_bleu4": "Self-BLEU-4",
          **{f"bleu{n}": f"BLEU-{n}" for n in range(2, 6)}}
#: the evaluation metrics of a metrics.jsonl record (read_run's 'pretrained' stage keeps these)
EVAL_METRICS = ("nll_oracle", "nll_test", "nll_valid", *(f"bleu{n}" for n in range(2, 6)),
                *(f"self_bleu{n}" for n in range(2, 6)), "mean_len")


class CompareError(RuntimeError):
    """A run directory that cannot be compared (unfinished, unreadable)."""


@dataclass
class RunValues:
    run_dir: Path
    method: str
    seed: int
    task: str
    values: dict[str, float]
    wall_time_s: Optional[float] = None
    setting: Optional[dict[str, Any]] = None
    """What the values were measured on (`run_setting`); None without a config.yaml."""


def read_run(run_dir: str | Path, stage: str = "final") -> RunValues:
    """The values of one finished run at `stage`: 'final' (its last evaluation), 'init' (the
    untrained generator's) or 'pretrained' (the last evaluation of MLE pre-training, read from
    metrics.jsonl: the generator of `generator_mle.safetensors`, the paper's MLE row; with
    pretrain.select=best_valid the evaluation of the MLE epoch the run kept, 'mle_best')."""
    run_dir = Path(run_dir)
    path = run_dir / "summary.json"
    if not path.is_file():
        raise CompareError(f"{path}: not found; is {run_dir} a finished seqgan run? (resume it to finish it)")
    try:
        s = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CompareError(f"{path}: unreadable ({e})") from None
    if stage == "pretrained" and "mle_best" in s.get("evaluations", {}):
        record = s["evaluations"]["mle_best"]  # pretrain.select=best_valid: the MLE generator the run kept
    elif stage == "pretrained":  # a metrics.jsonl record: keep its evaluation, not its training statistics
        record = _last_mle_evaluation(run_dir)
        record = {k: v for k, v in record.items() if k in EVAL_METRICS}
    else:
        evals = s.get("evaluations", {})
        if stage not in evals:
            raise CompareError(f"{path}: no '{stage}' evaluation (a run of seqgan >= 0.2 has 'init' and 'final')")
        record = evals[stage]
    # summary.json holds a NaN (a diverged run) as null: it stays NaN here, so that the run is neither
    # dropped from its group's mean nor taken for a run of the other task
    values = {k: math.nan if v is None else float(v) for k, v in record.items()
              if k not in ("phase", "step") and (v is None or isinstance(v, (int, float)) and not isinstance(v, bool))}
    setting = run_setting(run_dir)
    task = setting["task"] if setting is not None else "oracle" if "nll_oracle" in values else "data"
    return RunValues(run_dir, str(s.get("method", "seqgan")), int(s.get("seed", 0)), task, values,
                     s.get("wall_time_s"), setting)


def run_setting(run_dir: Path) -> Optional[dict[str, Any]]:
    """What a run's numbers are measured on, which runs pooled in one table must share: the task,
    the oracle (its file, or its seed and sizes), the vocabulary size and the sequence length.
    None for a directory without config.yaml (nothing to check)."""
    from seqgan.config import ConfigError, load_run_config, load_run_sizes
    if not (run_dir / "config.yaml").is_file():
        return None
    try:
        cfg = load_run_config(run_dir)
        sizes = load_run_sizes(run_dir)
    except ConfigError as e:
        raise CompareError(str(e)) from None
    o = cfg.oracle
    oracle = (None if cfg.task != "oracle" else f"file {Path(o.path).resolve()}" if o.path else
              f"seeded (seed {o.seed}, emb_dim {o.emb_dim}, hidden_dim {o.hidden_dim}, init_std {o.init_std})")
    return {"task": cfg.task, "oracle": oracle, "vocab_size": sizes.vocab_size, "seq_len": sizes.seq_len}


def check_comparable(runs: Sequence[RunValues]) -> None:
    """Refuse a run given twice (the same directory, however spelled) and runs measured on
    different settings (`run_setting`): pooled, their mean and t-test would mean nothing."""
    seen: dict[str, Path] = {}
    for r in runs:
        key = str(Path(r.run_dir).resolve())
        if key in seen:
            raise CompareError(f"{r.run_dir}: the same run as {seen[key]}, given twice; give each run once")
        seen[key] = r.run_dir
    first = next((r for r in runs if r.setting is not None), None)
    for r in runs:
        if first is None or first.setting is None or r.setting is None:
            continue
        a, b = first.setting, r.setting
        differ = [k for k in a if a[k] != b[k]]
        if differ:
            what = "; ".join(f"{k} {a[k]} vs {b[k]}" for k in differ)
            raise CompareError(f"{first.run_dir} and {r.run_dir} differ in {what}; compare only runs of the same "
                               f"task, oracle, vocabulary and sequence length")


def _last_mle_evaluation(run_dir: Path) -> dict[str, Any]:
    """The last record of phase 'mle' in the run's metrics.jsonl that carries an evaluation."""
    from seqgan.plot import PlotError, read_metrics
    try:
        records = read_metrics(run_dir)
    except PlotError as e:
        raise CompareError(str(e)) from None
    evals = [r for r in records if r.get("phase") == MLE and ("nll_oracle" in r or "nll_test" in r)]
    if not evals:
        raise CompareError(f"{run_dir / 'metrics.jsonl'}: no evaluation of MLE pre-training "
                           "(pretrain.generator_epochs = 0?)")
    return evals[-1]


@dataclass
class Row:
    name: str
    n: int
    stats: dict[str, tuple[float, float]] = field(default_factory=dict)
    """metric -> (mean, sd); sd is the sample standard deviation (n - 1), nan for n = 1."""
    p_values: dict[str, float] = field(default_factory=dict)
    """metric -> the two-sided p-value against the reference group (absent for it, or n < 2)."""
    tests: dict[str, str] = field(default_factory=dict)
    """metric -> the test of its p-value: 'welch' (scipy ttest_ind, equal_var=False) or 'paired'
    (scipy ttest_rel on the values paired by seed)."""
    values: dict[str, list[float]] = field(default_factory=dict)
    wall_time_s: Optional[float] = None
    """Mean wall time of the group's runs."""


def _by_seed(name: str, runs: list[RunValues], metric: str) -> dict[int, float]:
    """seed -> the metric's value in a group to be paired; one run per seed."""
    out: dict[int, float] = {}
    for r in runs:
        if metric in r.values:
            if r.seed in out:
                raise CompareError(f"group {name} has two runs of seed {r.seed} ({r.run_dir}); a paired "
                                   "t-test pairs by seed, so give one run per seed")
            out[r.seed] = r.values[metric]
    return out


def summarise(groups: dict[str, list[RunValues]], metrics: Sequence[str], reference: Optional[str],
              paired: Optional[set[str]] = None) -> list[Row]:
    """Mean ± sd per group and metric, and a two-sided t-test of each group against `reference`:
    Welch's, or for the groups in `paired` (read from the same runs as the reference, e.g. their
    init or pre-trained stage) the paired t-test over the seeds both groups hold."""
    from scipy import stats as sps

    paired = paired or set()
    rows = []
    for name, runs in groups.items():
        row = Row(name, len(runs))
        for m in metrics:
            vals = [r.values[m] for r in runs if m in r.values]
            if not vals:
                continue
            mean = math.fsum(vals) / len(vals)
            sd = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else math.nan
            row.stats[m], row.values[m] = (mean, sd), vals
        times = [r.wall_time_s for r in runs if r.wall_time_s is not None]
        row.wall_time_s = sum(times) / len(times) if times else None
        rows.append(row)
    ref = next((r for r in rows if r.name == reference), None)
    if ref is not None:
        for row in rows:
            if row is ref:
                continue
            for m, vals in row.values.items():
                if row.name in paired:
                    mine, theirs = _by_seed(row.name, groups[row.name], m), _by_seed(ref.name, groups[ref.name], m)
                    seeds = sorted(set(mine) & set(theirs))
                    if len(seeds) >= 2:
                        row.p_values[m] = float(sps.ttest_rel([mine[k] for k in seeds],
                                                              [theirs[k] for k in seeds]).pvalue)
                        row.tests[m] = "paired"
                    continue
                other = ref.values.get(m, [])
                if len(vals) >= 2 and len(other) >= 2:
                    row.p_values[m] = float(sps.ttest_ind(vals, other, equal_var=False).pvalue)
                    row.tests[m] = "welch"
    return rows


def group_runs(runs: list[RunValues], by: str = "method") -> dict[str, list[RunValues]]:
    groups: dict[str, list[RunValues]] = {}
    for r in runs:
        key = r.method if by == "method" else str(r.run_dir.parent if by == "parent" else r.run_dir.name)
        groups.setdefault(key, []).append(r)
    return groups


def compare(run_dirs: Sequence[str | Path], by: str = "method", reference: Optional[str] = "seqgan",
            metrics: Optional[Sequence[str]] = None) -> tuple[list[Row], list[str]]:
    """Read, group and summarise `run_dirs`; returns the rows and the metrics reported."""
    runs = [read_run(d) for d in run_dirs]
    if not runs:
        raise CompareError("no runs to compare")
    check_comparable(runs)
    tasks = {r.task for r in runs}
    if len(tasks) > 1:
        raise CompareError("these runs mix the oracle task and runs on your data; compare them separately")
    metrics = list(metrics or (ORACLE_METRICS if tasks == {"oracle"} else DATA_METRICS))
    groups = group_runs(runs, by)
    return summarise(groups, metrics, reference if reference in groups else None), metrics


def _fmt(mean: float, sd: float) -> str:
    return f"{mean:.3f}" if math.isnan(sd) else f"{mean:.3f} ± {sd:.3f}"


def _fmt_p(p: Optional[float], test: Optional[str] = None) -> str:
    if p is None:
        return ""
    text = f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"
    return f"{text} ({TEST_LABELS[test]})" if test else text


#: how the markdown names each test
TEST_LABELS = {"welch": "Welch", "paired": "paired"}


def to_markdown(rows: list[Row], metrics: Sequence[str], reference: Optional[str],
                paper: Optional[dict[str, float]] = None) -> str:
    """The table: one row per group, mean ± sd (n) per metric, and p against the reference, each
    followed by its test: '(Welch)' or '(paired)' (paired t-test by seed)."""
    head = ["method", "n"]
    for m in metrics:
        head.append(LABELS.get(m, m))
        if reference:
            head.append(f"p vs {label(reference)}")
    if paper:
        head.append("the paper")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [label(row.name), str(row.n)]
        for m in metrics:
            cells.append(_fmt(*row.stats[m]) if m in row.stats else "")
            if reference:
                cells.append(_fmt_p(row.p_values.get(m), row.tests.get(m)))
        if paper:
            cells.append(f"{paper[row.name]:.3f}" if row.name in paper else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_json(rows: list[Row], metrics: Sequence[str], reference: Optional[str]) -> dict[str, Any]:
    """The rows as JSON-ready data (NaN, from a diverged run, as null: strict JSON)."""
    from seqgan.files import json_safe
    return json_safe({"reference": reference, "metrics": list(metrics), "groups": [
        {"name": r.name, "n": r.n, "wall_time_s": r.wall_time_s,
         "mean": {m: s[0] for m, s in r.stats.items()},
         "sd": {m: (None if math.isnan(s[1]) else s[1]) for m, s in r.stats.items()},
         "values": r.values, "p_value": r.p_values, "test": r.tests} for r in rows]})
