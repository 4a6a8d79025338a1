"""`seqgan reproduce table1`: the paper's Table 1 (NLL-oracle of Random, MLE, Scheduled Sampling,
PG-BLEU and SeqGAN on the synthetic oracle task) over several seeds, with Welch's t-tests.

Scheduled Sampling, PG-BLEU and SeqGAN are trained for each seed in their own run directories
under DIR (`<method>__<seed>`); a finished run is skipped, an interrupted one resumed, so the
command can be stopped (Ctrl-C) and run again. Then DIR gets `table1.md`, `table1.json` and
`table1.png` (the NLL-oracle curves of each method, mean ± sd over the seeds).

The Random and MLE rows are read from the SeqGAN runs, as in the paper: Random is the
untrained generator's evaluation (`init`), MLE the last evaluation of its pre-training
(`pretrained`, the weights in `generator_mle.safetensors`). A `method=mle` run of the same
seed and length is the same computation to the bit (tested), so it is not trained again.

Scales (the schedules; model sizes and learning rates are the paper's at every scale):

- quick: SeqGAN the `quick` preset (MLE 30 epochs); Scheduled Sampling 30 epochs;
  PG-BLEU 30 MLE epochs + 25 iterations.
- fast: SeqGAN the `laptop` preset (MLE 50 epochs); Scheduled Sampling as long as that MLE;
  PG-BLEU the same loop (MLE 50 epochs, 10 iterations of 4 g-steps at batch 16).
- paper: the original's schedule: MLE 120 epochs, SeqGAN the `paper` preset, Scheduled
  Sampling 300 epochs, PG-BLEU 120 MLE epochs + 200 iterations with N = 1.

PG-BLEU is "the SeqGAN loop with D replaced by BLEU": at every scale it has SeqGAN's MLE
epochs, iterations, g-steps and batch size (tested).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from seqgan.compare import Row, read_run, summarise, to_json, to_markdown
from seqgan.methods import label
from seqgan.config import Config, load_config
from seqgan.plan import GENERATOR_PHASES, MLE

#: the paper's Table 1 (NLL-oracle, 100,000 samples)
PAPER_TABLE1 = {"random": 10.310, "mle": 9.038, "scheduled_sampling": 8.985, "pg_bleu": 8.946, "seqgan": 8.736}
#: the methods trained (Random and MLE are stages of the SeqGAN runs)
ROWS = ("scheduled_sampling", "pg_bleu", "seqgan")

#: scale -> method -> (preset, overrides)
SCALES: dict[str, dict[str, tuple[str, list[str]]]] = {
    "quick": {
        "scheduled_sampling": ("quick", ["method=scheduled_sampling"]),
        "pg_bleu": ("quick", ["method=pg_bleu"]),
        "seqgan": ("quick", []),
    },
    "fast": {
        "scheduled_sampling": ("laptop", ["method=scheduled_sampling"]),
        "pg_bleu": ("laptop", ["method=pg_bleu"]),
        "seqgan": ("laptop", []),
    },
    "paper": {
        "scheduled_sampling": ("paper", ["method=scheduled_sampling", "pretrain.generator_epochs=300"]),
        "pg_bleu": ("paper", ["method=pg_bleu"]),
        "seqgan": ("paper", []),
    },
}

#: wall time of one seed of every row on 2 CPU cores, for --help. Measured end to end, seeds
#: 0-2, idle machine, 2026-12-02, on two 2-core machines, the second 1.7-2.0x faster (the same
#: `laptop` GRU run: MLE epoch 5.35 s against 2.62 s, whole run 12.9 min against 7.6 min):
#: fast 28-31 min per seed on the first, quick 36 min for 3 seeds on the second; each range
#: is the measurement and its scaling to the other machine (paper: estimated from its pieces).
SCALE_TIMES = {"quick": "12-24 minutes per seed", "fast": "15-30 minutes per seed",
               "paper": "10-20 hours per seed (the SeqGAN row; a GPU is the place for it)"}


def scale_times_text() -> str:
    """The --help sentence on how long each scale takes."""
    return ("Time on 2 CPU cores (two machines measured, one about 2x faster): "
            + "; ".join(f"{k}: {v}" for k, v in SCALE_TIMES.items()) + ".")


def row_config(scale: str, method: str, seed: int, oracle: Optional[str], extra: Sequence[str]) -> Config:
    preset, overrides = SCALES[scale][method]
    sets = list(overrides) + [f"seed={seed}"] + ([f"oracle.path={oracle}"] if oracle else []) + list(extra)
    return load_config(preset, sets)


def run_rows(out: Path, scale: str, seeds: int, oracle: Optional[str], extra: Sequence[str], quiet: bool,
             device: Optional[str] = None) -> list[Path]:
    """Train (or resume, or skip) every row for seeds 0..seeds-1 (`seqgan.rows.train_rows`: a row's
    run made with another config is refused); returns the run directories."""
    from seqgan.rows import RowRun, train_rows

    extra = list(extra) + ([f"device={device}"] if device else [])
    runs = [RowRun(label(method), seed, row_config(scale, method, seed, oracle, extra), out / f"{method}__{seed}")
            for seed in range(seeds) for method in ROWS]
    train_rows(runs, "seqgan reproduce", quiet)
    return [r.run_dir for r in runs]


def table1(out: Path, run_dirs: Sequence[Path]) -> tuple[list[Row], str]:
    """Write table1.md, table1.json and table1.png into `out` from the finished runs."""
    finals = [read_run(d) for d in run_dirs]
    seqgan_dirs = [r.run_dir for r in finals if r.method == "seqgan"]
    groups: dict[str, list[Any]] = {"random": [read_run(d, "init") for d in seqgan_dirs],
                                    "mle": [read_run(d, "pretrained") for d in seqgan_dirs]}
    for method in ROWS:
        groups[method] = [r for r in finals if r.method == method]
    groups = {k: v for k, v in groups.items() if v}
    metrics = ["nll_oracle", "nll_test"]
    rows = summarise(groups, metrics, "seqgan", paired={"random", "mle"})  # stages of the SeqGAN runs themselves
    md = ("NLL-oracle and NLL-test (nats per token; mean ± sd over seeds, n runs), the two-sided t-test p-value "
          "of each row against SeqGAN (paired by seed for Random and MLE, stages of the SeqGAN runs; Welch's for "
          "the other methods' runs), and the paper's Table 1 (NLL-oracle).\n\n"
          + to_markdown(rows, metrics, "seqgan", PAPER_TABLE1))
    (out / "table1.md").write_text(md, encoding="utf-8")
    (out / "table1.json").write_text(json.dumps({"paper": PAPER_TABLE1, **to_json(rows, metrics, "seqgan")},
                                                indent=1), encoding="utf-8")
    plot_methods(run_dirs, out / "table1.png")
    return rows, md


def plot_methods(run_dirs: Sequence[Path], out: Path, group: Optional[Callable[[Path], str]] = None,
                 labels: Callable[[str], str] = label) -> Optional[Path]:
    """NLL-oracle against generator training units (MLE epochs, then adversarial iterations), mean
    ± sd over each group's runs (default: by method; the SeqGAN runs' pre-training is the MLE
    group). Skipped (None) without matplotlib."""
    from seqgan.plot import PlotError, new_figure
    try:
        fig = new_figure((8, 5))
    except PlotError:
        return None
    curves: dict[str, list[dict[float, float]]] = {}
    for d in run_dirs:
        s = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        phases = s.get("nll_oracle", {})
        points: dict[float, float] = {}
        offset = 0
        for phase in GENERATOR_PHASES:
            pts = phases.get(phase, [])
            for step, v in pts:
                points[offset + step] = v
            if pts:
                offset += int(pts[-1][0]) + 1
        method = s.get("method", "seqgan")
        curves.setdefault(group(d) if group else method, []).append(points)
        if (group(d) if group else method) == "seqgan":  # the MLE row: its pre-training
            curves.setdefault("mle", []).append({x: v for x, v in phases.get(MLE, [])})
    ax = fig.subplots()
    for method, runs in curves.items():
        xs = sorted(set().union(*[set(r) for r in runs]))
        xs = [x for x in xs if all(x in r for r in runs)]
        means = [sum(r[x] for r in runs) / len(runs) for x in xs]
        sds = [math.sqrt(sum((r[x] - m) ** 2 for r in runs) / max(len(runs) - 1, 1)) for x, m in zip(xs, means)]
        (line,) = ax.plot(xs, means, label=f"{labels(method)} (n={len(runs)})")
        ax.fill_between(xs, [m - s for m, s in zip(means, sds)], [m + s for m, s in zip(means, sds)],
                        color=line.get_color(), alpha=0.2)
    ax.set(xlabel="generator training: MLE epochs, then adversarial iterations", ylabel="NLL-oracle (nats / token)",
           title="NLL-oracle by method (mean ± sd over seeds; lower is better)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    from seqgan.files import atomic_write
    atomic_write(out, lambda p: fig.savefig(p, dpi=110, format="png"))
    return out
