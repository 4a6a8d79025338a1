"""`seqgan sweep`: quality against diversity over softmax temperatures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqgan.cli.common import Commands, check_out, check_seed, writing_out
from seqgan.config import ConfigError


def cmd_sweep(args: argparse.Namespace) -> int:
    import json

    from seqgan.api import RunLoadError
    from seqgan.sweep import SweepError, parse_temperatures, plot_curves, sweep_runs, to_markdown
    if args.samples is not None and args.samples < 2:
        raise ConfigError(f"--samples {args.samples}: must be >= 2")
    check_seed(args.seed)
    check_out(args.out, args.run_dirs)
    try:
        temps = parse_temperatures(args.temperatures)
        curves = sweep_runs(args.run_dirs, temps, args.mle, args.samples, args.seed, quiet=args.quiet,
                            chem=args.chem)
    except (SweepError, RunLoadError) as e:
        raise ConfigError(str(e)) from None
    if len({c.task for c in curves}) > 1:
        raise ConfigError("these runs mix the oracle task and runs on your data; sweep them separately")
    data = [{"label": c.label, "run_dir": c.run_dir, "stage": c.stage, "task": c.task, "points": c.points}
            for c in curves]
    if args.out:
        from seqgan.plot import PlotError
        try:
            with writing_out(args.out):
                plot_curves(curves, Path(args.out))
        except PlotError as e:  # matplotlib missing
            raise ConfigError(str(e)) from None
        print(f"seqgan sweep: figure written to {args.out}", file=sys.stderr)
    from seqgan.files import json_safe
    print(json.dumps(json_safe(data), indent=1) if args.json else to_markdown(curves),
          end="" if not args.json else "\n")
    return 0


def add_parser(sub: Commands) -> None:
    """`seqgan sweep`'s options."""
    sw = sub.add_parser(
        "sweep", help="quality against diversity over softmax temperatures (MLE baseline included with --mle)",
        description="For each run's generator (with --mle also its MLE baseline) and each temperature T "
                    "(logits / T): on the oracle task NLL-oracle of samples drawn at T (quality) and the tempered "
                    "model's NLL-test of the held-out oracle sequences (diversity); on your data BLEU-4/5 against "
                    "the test file (quality), Self-BLEU-4/5 and NLL-test (diversity); on molecules (the smiles "
                    "tokenizer) also validity and FCD to the test file (few samples bias FCD upwards: compare "
                    "models at equal --samples). Prints a markdown table "
                    "(or --json); --out draws the curves. A few seconds per model and temperature on 2 CPU "
                    "cores; not resumable. Caccia et al., ICLR 2020.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  seqgan sweep runs/laptop__0 --mle --out sweep.png\n"
               "  seqgan sweep runs/coco --mle --temperatures 0.7,0.8,0.9,1.0,1.1 --samples 2000 --json\n")
    sw.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    sw.add_argument("--mle", action="store_true",
                    help="also sweep each run's MLE baseline (generator_mle; generator_mle_best for a run made with "
                         "pretrain.select=best_valid)")
    sw.add_argument("--temperatures", default="0.5,0.6,0.7,0.8,0.9,1.0,1.1,1.2,1.3,1.4,1.5",
                    help="comma-separated, each finite and > 0 (default 0.5 to 1.5 by 0.1)")
    sw.add_argument("--samples", type=int, help="samples per temperature (default: the run's train.eval_samples "
                                                 "on the oracle task, eval.bleu_samples on your data)")
    sw.add_argument("--seed", type=int, default=0, help="sampling seed, the same at every T (default 0, as evaluate)")
    sw.add_argument("--out", metavar="FILE.png", help="draw the curves (needs matplotlib)")
    sw.add_argument("--json", action="store_true", help="print JSON instead of a markdown table")
    onoff = sw.add_mutually_exclusive_group()
    onoff.add_argument("--chem", dest="chem", action="store_true", default=None,
                       help="molecules: also the validity of the samples and their FCD to the test file (needs pip "
                            "install 'seqgan[chem]'; default: for runs with the smiles tokenizer)")
    onoff.add_argument("--no-chem", dest="chem", action="store_false", help="leave validity and FCD out")
    sw.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sw.set_defaults(func=cmd_sweep)
