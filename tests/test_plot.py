"""`seqgan plot` and seqgan.plot.figure: a PNG of two runs' curves, drawn without touching the
caller's matplotlib, loss and accuracy on panels of their own with real and generated accuracy told
apart, and an MLE-only run drawn on the one panel it has lines for."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from seqgan.cli import main


def test_plot_two_runs(reference_run, tmp_path):
    pytest.importorskip("matplotlib")
    import shutil
    other = tmp_path / "other"
    shutil.copytree(reference_run, other)
    png = tmp_path / "curves.png"
    assert main(["plot", str(reference_run), str(other), "--label", "a", "--label", "b", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert main(["plot", str(tmp_path / "missing")]) == 2


def test_figures_leave_the_callers_matplotlib_as_it_was(reference_run, tmp_path):
    """A library call draws off-screen without importing pyplot or switching the caller's backend."""
    pytest.importorskip("matplotlib")
    code = ("import sys, matplotlib; matplotlib.use('svg'); from pathlib import Path; "
            "from seqgan.plot import plot_runs; "
            f"plot_runs([Path({str(reference_run)!r})], Path({str(tmp_path / 'c.png')!r})); "
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["svg", "False"] and (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_panels_axes_and_colours(reference_run, tmp_path):
    """Loss and accuracy on panels of their own, real and generated accuracy in different colours,
    and an MLE-only run gets the one panel it has lines for, with a legend of what is drawn."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt
    from seqgan.plot import figure
    fig = figure([reference_run])
    try:
        titles = [a.get_title() for a in fig.axes]
        assert len(titles) == 4 and "loss" in titles[1] and "accuracy" in titles[2] and "reward" in titles[3]
        real, fake = fig.axes[2].get_lines()
        assert real.get_color() != fake.get_color() and real.get_linestyle() != fake.get_linestyle()
        assert fig.axes[2].get_ylim()[1] <= 1.05  # accuracies only: the loss is elsewhere
        assert all(r["d_loss"] in fig.axes[1].get_lines()[0].get_ydata()
                   for r in map(json.loads, (reference_run / "metrics.jsonl").read_text().splitlines())
                   if r.get("d_loss") is not None)
    finally:
        plt.close(fig)
    mle_only = tmp_path / "mle_only"
    mle_only.mkdir()
    recs = [ln for ln in (reference_run / "metrics.jsonl").read_text().splitlines()
            if json.loads(ln)["phase"] in ("init", "mle")]
    (mle_only / "metrics.jsonl").write_text("\n".join(recs) + "\n")
    fig = figure([mle_only], ["mle"])
    try:
        assert len(fig.axes) == 1
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["mle"]
    finally:
        plt.close(fig)

