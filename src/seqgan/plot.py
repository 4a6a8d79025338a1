"""Learning curves from metrics.jsonl: `seqgan plot RUN_DIR [RUN_DIR ...]`.

Three panels, runs overlaid: NLL-oracle (NLL-test for runs on your data) against generator training steps (MLE epochs,
then adversarial iterations, with the boundary marked), the discriminator's loss and
accuracy on real and generated data, and the mean reward of the adversarial phase.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional


#: the curve of the first panel: the first of these a run has logged
MAIN_METRICS = {"nll_oracle": "NLL-oracle", "nll_test": "NLL-test", "nll_valid": "NLL-valid"}


class PlotError(RuntimeError):
    """Bad input to `plot_runs` (missing file, nothing to plot, matplotlib absent)."""


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        raise PlotError(f"{path}: not found; is {run_dir} a seqgan run directory?")
    records = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise PlotError(f"{path}:{i}: not a JSON object") from None
    return records


def plot_runs(run_dirs: list[Path], out: Optional[Path] = None, labels: Optional[list[str]] = None) -> Path:
    """Write the curves of `run_dirs` to `out` (PNG); returns the path written."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError("seqgan plot needs matplotlib: pip install 'seqgan[plot]'") from None
    if labels and len(labels) != len(run_dirs):
        raise PlotError(f"{len(labels)} --label values for {len(run_dirs)} runs; give one per run or none")
    labels = labels or [d.name for d in run_dirs]
    out = out or run_dirs[0] / "curves.png"
    fig, (ax_nll, ax_d, ax_r) = plt.subplots(1, 3, figsize=(16, 4.5))
    boundaries = set()
    names = set()
    for run_dir, label in zip(run_dirs, labels):
        recs = read_metrics(run_dir)
        mle = [r for r in recs if r["phase"] == "mle"]
        adv = [r for r in recs if r["phase"] == "adversarial"]
        n_mle = max((r["step"] for r in mle), default=-1) + 1
        key = next((k for k in MAIN_METRICS if any(k in r for r in recs)), "nll_oracle")
        names.add(MAIN_METRICS[key])
        xs = [r["step"] for r in mle if r.get(key) is not None] + \
             [n_mle + r["step"] for r in adv if r.get(key) is not None]
        ys = [r[key] for r in mle if r.get(key) is not None] + \
             [r[key] for r in adv if r.get(key) is not None]
        (line,) = ax_nll.plot(xs, ys, marker=".", label=label)
        if adv:
            boundaries.add((n_mle, line.get_color()))
        d = [r for r in recs if r["phase"] in ("discriminator", "adversarial") and r.get("d_loss") is not None]
        dx = list(range(len(d)))
        ax_d.plot(dx, [r["d_loss"] for r in d], color=line.get_color(), label=f"{label} loss")
        ax_d.plot(dx, [r["d_acc_real"] for r in d], color=line.get_color(), linestyle="--", label=f"{label} acc real")
        ax_d.plot(dx, [r["d_acc_fake"] for r in d], color=line.get_color(), linestyle=":", label=f"{label} acc fake")
        ax_r.plot([r["step"] for r in adv], [r["reward_mean"] for r in adv], color=line.get_color(), label=label)
    for x, color in boundaries:
        ax_nll.axvline(x, color=color, linestyle=":", alpha=0.6)
    if not any(len(ln.get_xdata()) for ax in (ax_nll, ax_d, ax_r) for ln in ax.lines):
        raise PlotError("nothing to plot: these runs' metrics.jsonl has no evaluations and no discriminator rounds")
    ax_nll.set(title=f"{' / '.join(sorted(names))} (dotted line: MLE -> adversarial)",
               xlabel="MLE epoch, then adversarial iteration",
               ylabel="nats / token")
    ax_d.set(title="discriminator (pre-training rounds, then d-steps)", xlabel="round", ylabel="loss / accuracy")
    ax_r.set(title="mean reward Q", xlabel="adversarial iteration", ylabel="reward")
    for ax in (ax_nll, ax_d, ax_r):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    from seqgan.files import atomic_write
    atomic_write(out, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return out
