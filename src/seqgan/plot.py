"""Learning curves from metrics.jsonl: `seqgan plot RUN_DIR [RUN_DIR ...] [--x step|wall]`.

Runs overlaid, one colour per run. The first panel is the main metric (NLL-oracle; NLL-test
for runs on your data, else NLL-valid) against generator training steps (MLE epochs, then
adversarial iterations, the boundary marked) or against wall-clock seconds (`--x wall`: time to
quality). Runs with a discriminator get a panel of its loss and one of its accuracy on real
(solid) and generated (dashed) sequences; runs with an adversarial phase a panel of the mean
reward. Panels nothing would be drawn in are left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional


#: the curve of the first panel: the first of these a run has logged
MAIN_METRICS = {"nll_oracle": "NLL-oracle", "nll_test": "NLL-test", "nll_valid": "NLL-valid"}
#: phases of generator training, in order, on the step axis
from seqgan.plan import ADVERSARIAL, DISCRIMINATOR, GENERATOR_PHASES, INIT  # noqa: E402


class PlotError(RuntimeError):
    """Bad input to `plot_runs` (missing file, nothing to plot, matplotlib absent)."""


def new_figure(figsize: tuple[float, float], needs: str = "seqgan plot") -> Any:
    """A matplotlib Figure of `figsize` inches, drawn off-screen for a file (`fig.savefig`): every
    figure seqgan writes (plot, sweep, reproduce, bench) starts here. It is not one of pyplot's
    figures: pyplot is not imported and no backend is chosen or switched, so the caller's process (a
    notebook, a GUI session, its own pyplot figures) is left as it was, and there is nothing to close.
    Without matplotlib: PlotError("<needs> needs matplotlib: pip install 'seqgan[plot]'")."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotError(f"{needs} needs matplotlib: pip install 'seqgan[plot]'") from None
    return Figure(figsize=figsize)


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        raise PlotError(f"{path}: not found; is {run_dir} a seqgan run directory?")
    records = []
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise PlotError(f"{path}: cannot read ({e.strerror})") from None
    for i, b in enumerate(raw.split(b"\n"), 1):
        if not b.strip():
            continue
        try:
            record = json.loads(b.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None
        if not isinstance(record, dict) or not isinstance(record.get("phase"), str):
            raise PlotError(f"{path}:{i}: not a metrics record (a JSON object with a 'phase'); "
                            f"remove the line or restore the file") from None
        records.append(record)
    return records


def main_curve(recs: list[dict[str, Any]], x: str = "step") -> tuple[str, list[float], list[float], Optional[float]]:
    """(metric, xs, ys, x of the MLE -> adversarial boundary) of one run's main metric."""
    key = next((k for k in MAIN_METRICS if any(r.get(k) is not None for r in recs)), "nll_oracle")
    xs: list[float] = []
    ys: list[float] = []
    offset, boundary = 0, None
    for phase in (INIT,) + GENERATOR_PHASES:
        rs = [r for r in recs if r["phase"] == phase]
        if phase == ADVERSARIAL and rs and xs:
            boundary = offset if x == "step" else rs[0]["wall_time_s"]
        for r in rs:
            if r.get(key) is not None:
                xs.append(r["wall_time_s"] if x == "wall" else (0 if phase == INIT else offset + r["step"]))
                ys.append(r[key])
        if phase != INIT and rs:
            offset += max(r["step"] for r in rs) + 1
    return key, xs, ys, boundary


def plot_runs(run_dirs: list[Path], out: Optional[Path] = None, labels: Optional[list[str]] = None,
              x: str = "step") -> Path:
    """Write the curves of `run_dirs` to `out` (PNG); returns the path written."""
    fig = figure(run_dirs, labels, x)
    out = out or run_dirs[0] / "curves.png"
    from seqgan.files import write_out
    write_out(out, lambda p: fig.savefig(p, dpi=110, format="png"))
    return out


def _lighter(colour: str) -> tuple[float, float, float]:
    """`colour` mixed half-way to white: the generated-sequence line beside the real one."""
    from matplotlib.colors import to_rgb
    r, g, b = to_rgb(colour)
    return (r + 1) / 2, (g + 1) / 2, (b + 1) / 2


def figure(run_dirs: list[Path], labels: Optional[list[str]] = None, x: str = "step") -> Any:
    """The matplotlib figure of `run_dirs`' curves: the main metric; with discriminator rounds, D's
    loss and its accuracy (real: the run's colour, solid; generated: lighter, dashed); with an
    adversarial phase, the mean reward. Panels with nothing to draw are left out."""
    if labels and len(labels) != len(run_dirs):
        raise PlotError(f"{len(labels)} --label values for {len(run_dirs)} runs; give one per run or none")
    labels = labels or [d.name for d in run_dirs]
    runs = [read_metrics(d) for d in run_dirs]
    has_d = any(r.get("d_loss") is not None for recs in runs for r in recs)
    has_reward = any(r.get("reward_mean") is not None for recs in runs for r in recs)
    n_panels = 1 + 2 * has_d + has_reward
    fig = new_figure((5.5 * n_panels, 4.5))
    axes = fig.subplots(1, n_panels, squeeze=False)
    ax_nll = axes[0][0]
    ax_loss, ax_acc = (axes[0][1], axes[0][2]) if has_d else (None, None)
    ax_r = axes[0][-1] if has_reward else None
    names, drawn = set(), 0
    from matplotlib import rcParams
    colours = rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (recs, label) in enumerate(zip(runs, labels)):
        colour = colours[i % len(colours)]
        key, xs, ys, boundary = main_curve(recs, x)
        names.add(MAIN_METRICS[key])
        if xs:
            ax_nll.plot(xs, ys, marker=".", color=colour, label=label)
            drawn += 1
            if boundary is not None:
                ax_nll.axvline(boundary, color=colour, linestyle=":", alpha=0.6)
        d = [r for r in recs if r["phase"] in (DISCRIMINATOR, ADVERSARIAL) and r.get("d_loss") is not None]
        if ax_loss is not None and ax_acc is not None and d:
            dx = list(range(len(d)))
            ax_loss.plot(dx, [r["d_loss"] for r in d], color=colour, label=label)
            ax_acc.plot(dx, [r["d_acc_real"] for r in d], color=colour, linestyle="-", label=f"{label}: real")
            ax_acc.plot(dx, [r["d_acc_fake"] for r in d], color=_lighter(colour), linestyle="--",
                        label=f"{label}: generated")
            drawn += 1
        adv = [r for r in recs if r["phase"] == ADVERSARIAL and r.get("reward_mean") is not None]
        if ax_r is not None and adv:
            ax_r.plot([r["step"] for r in adv], [r["reward_mean"] for r in adv], color=colour, label=label)
    if not drawn:
        raise PlotError("nothing to plot: these runs' metrics.jsonl has no evaluations and no discriminator rounds")
    ax_nll.set(title=f"{' / '.join(sorted(names))}" + (" (dotted: MLE -> adversarial)" if x == "step" else ""),
               xlabel="MLE epoch, then adversarial iteration" if x == "step" else "wall time (s)",
               ylabel="nats / token (lower is better)")
    if ax_loss is not None and ax_acc is not None:
        ax_loss.set(title="discriminator loss", xlabel="round (pre-training, then d-steps)", ylabel="loss")
        ax_acc.set(title="discriminator accuracy (solid: real, light dashed: generated)",
                   xlabel="round (pre-training, then d-steps)", ylabel="accuracy", ylim=(0, 1.02))
    if ax_r is not None:
        ax_r.set(title="mean reward Q", xlabel="adversarial iteration", ylabel="reward")
    for ax in axes[0]:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
