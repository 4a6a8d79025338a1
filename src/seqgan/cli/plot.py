"""`seqgan plot`: learning curves of runs as a PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

from seqgan.cli.common import Commands, check_out, writing_out
from seqgan.config import ConfigError


def cmd_plot(args: argparse.Namespace) -> int:
    from seqgan.plot import PlotError, plot_runs
    check_out(args.out, args.run_dirs)
    try:
        with writing_out(args.out or str(Path(args.run_dirs[0]) / "curves.png")):
            out = plot_runs([Path(r) for r in args.run_dirs], Path(args.out) if args.out else None,
                            labels=args.label, x=args.x)
    except PlotError as e:
        raise ConfigError(str(e)) from None
    print(out)
    return 0


def add_parser(sub: Commands) -> None:
    """`seqgan plot`'s options."""
    pl = sub.add_parser(
        "plot", help="learning curves of one or more runs as a PNG",
        description="Plot NLL-oracle (MLE and adversarial phases, the boundary marked), discriminator loss and "
                    "accuracy, and the mean reward of one or more runs, overlaid with a legend. Needs matplotlib "
                    "(pip install 'seqgan[plot]').",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  seqgan plot runs/mle_only runs/seqgan --label MLE --label SeqGAN --out curves.png\n")
    pl.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    pl.add_argument("--out", metavar="FILE.png", help="output file (default: curves.png in the first run directory)")
    pl.add_argument("--label", action="append", help="legend label per run, in order (default: directory names)")
    pl.add_argument("--x", choices=["step", "wall"], default="step",
                    help="x axis: step (MLE epochs, then adversarial iterations; default) or wall (seconds of wall "
                         "time since the run started: time to quality)")
    pl.set_defaults(func=cmd_plot)
