"""`seqgan reproduce`: the paper's Table 1, or the bench of every method, over seeds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqgan import methods as registry
from seqgan.cli.common import Commands
from seqgan.config import ConfigError


def cmd_reproduce(args: argparse.Namespace) -> int:
    from seqgan.compare import CompareError
    from seqgan.files import RunDirBusy
    from seqgan.models import OracleFileError
    from seqgan.train.run import Interrupted
    if args.seeds < 1:
        raise ConfigError(f"--seeds {args.seeds}: must be >= 1")
    if args.oracle and not Path(args.oracle).is_file():
        raise ConfigError(f"--oracle {args.oracle}: no such file")
    bench = args.table == "bench"
    scales = ("cpu", "smoke") if bench else ("quick", "fast", "paper")
    scale = args.scale or scales[0]
    if scale not in scales:
        raise ConfigError(f"--scale {scale}: reproduce {args.table} has the scales {', '.join(scales)}")
    if not bench and (args.task or args.methods or args.sweep_samples):
        raise ConfigError("--task, --methods and --sweep-samples are options of `reproduce bench`")
    if args.sweep_samples is not None and args.sweep_samples < 2:
        raise ConfigError(f"--sweep-samples {args.sweep_samples}: give 2 or more")
    if args.task == "oracle40" and args.oracle:
        raise ConfigError("--oracle is the length-20 oracle; --task oracle40 uses its own seeded 64/64 oracle")
    out = Path(args.out or f"runs/{args.table}")
    extra = (args.set or []) + ([f"device={args.device}"] if args.device else [])
    try:
        if bench:
            from seqgan import bench as b
            rows = b.row_names(args.methods)
            dirs = b.run_rows(out, rows, args.seeds, args.task or "oracle", scale, args.oracle, extra, args.quiet)
            md = b.report(out, dirs, args.task or "oracle", args.oracle, quiet=args.quiet,
                          sweep_samples=args.sweep_samples)
            files = ["bench.md", "bench.json", "bench_curves.png", "bench_sweep.png"]
        else:
            from seqgan.reproduce import run_rows, table1
            _, md = table1(out, run_rows(out, scale, args.seeds, args.oracle, extra, args.quiet))
            files = ["table1.md", "table1.json", "table1.png"]
    except Interrupted as e:
        print(f"seqgan reproduce: {e}; run the same command again to continue", file=sys.stderr)
        return 128 + e.signum
    except (OracleFileError, RunDirBusy, CompareError) as e:
        raise ConfigError(str(e)) from None
    print(md, end="")
    print("seqgan reproduce: " + ", ".join(str(out / f) for f in files), file=sys.stderr)
    return 0


def add_parser(sub: Commands) -> None:
    """`seqgan reproduce`'s options."""
    from seqgan.reproduce import scale_times_text
    rp = sub.add_parser(
        "reproduce", help="the paper's Table 1 (table1), or every method and control over seeds (bench)",
        description="table1: train the rows of the paper's Table 1 for seeds 0..N-1 on the oracle task: Scheduled "
                    "Sampling, PG-BLEU and SeqGAN, whose runs also give the Random row (the untrained generator) and "
                    "the MLE row (the end of its pre-training); writes table1.md, table1.json and table1.png. "
                    + scale_times_text() + "\n\nbench: every registered method (" + ", ".join(
                        m for m in registry.METHODS if m != "mle") + "), the MLE baseline and the reward controls "
                    "(SeqGAN with a constant or random reward) for seeds 0..N-1, on the oracle at length 20 "
                    "(--task oracle) or a seeded 64/64 oracle at length 40 (--task oracle40); writes bench.md "
                    "(NLL-oracle and NLL-test at the last evaluation, mean ± sd, Welch's p against MLE, published "
                    "numbers; RelGAN's and LeakGAN's rows also against their own MLE stage, paired by seed), "
                    "bench.json, bench_curves.png and bench_sweep.png (every final generator over "
                    "temperatures). Scale cpu: the `laptop` schedule, each run within 30 minutes on 2 cores at "
                    "length 20 (RelGAN's rows, at beta_max 100 and 1000: the `relgan-cpu` preset); smoke: seconds, "
                    "checks the pipeline.\n\nFinished runs are skipped, interrupted "
                    "ones resumed (stop with Ctrl-C, run the same command again); a run made with another config "
                    "is refused.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  seqgan reproduce table1 --scale fast --seeds 3 "
               "--oracle ../shared/reference/seqgan_oracle.npz --out runs/table1\n"
               "  seqgan reproduce bench --seeds 3 --oracle ../shared/reference/seqgan_oracle.npz --out runs/bench\n"
               "  seqgan reproduce bench --task oracle40 --methods seqgan maligan --out runs/bench40\n")
    rp.add_argument("table", choices=["table1", "bench"])
    rp.add_argument("--scale", choices=["quick", "fast", "paper", "cpu", "smoke"],
                    help="table1: quick (default), fast, paper (see seqgan/reproduce.py); bench: cpu (default), smoke")
    rp.add_argument("--task", choices=["oracle", "oracle40"], help="bench: length 20 (default) or 40")
    rp.add_argument("--methods", nargs="+", metavar="ROW",
                    help="bench: the rows to train (default all): mle, the registered methods, relgan_1000 "
                         "(RelGAN at beta_max 1000), relgan_mle (RelGAN's own MLE stage), control_constant, "
                         "control_random")
    rp.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    rp.add_argument("--sweep-samples", type=int, metavar="N",
                    help="bench: each point of the temperature sweep draws N samples for NLL-oracle and scores "
                         "NLL-test on the first N held-out sequences (default: train.eval_samples and every "
                         "held-out sequence); for methods whose evaluation is slow (LeakGAN at length 40)")
    rp.add_argument("--oracle", metavar="FILE.npz", help="the original's oracle (default: the built-in seeded one)")
    rp.add_argument("--out", metavar="DIR", help="where the runs and tables go (default runs/table1 or runs/bench)")
    rp.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key in every row's config")
    rp.add_argument("--device", choices=["auto", "cpu", "cuda"], help="= --set device=...")
    rp.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    rp.set_defaults(func=cmd_reproduce)
