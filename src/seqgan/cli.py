"""The `seqgan` command line: `seqgan train`, `seqgan config`.

`main(argv) -> int` runs in-process (tests call it); errors in the user's input print
one line `seqgan: error: ...` and return 2, before anything is written.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import textwrap
from pathlib import Path
from typing import Optional

from seqgan.config import ConfigError, describe, dump_yaml, load_config, preset_names

TRAIN_EPILOG = """\
examples:
  seqgan train                                   # the 'quick' preset on the built-in seeded oracle
  seqgan train --preset paper --oracle ../shared/reference/seqgan_oracle.npz
  seqgan train --preset paper --set adversarial.iterations=0 --set pretrain.discriminator_rounds=0
  seqgan train --config my.yaml --set adversarial.rollout_num=8 --out runs/rollout8
  seqgan config --list                           # every config key with its default and meaning
"""


def _default_out(preset: str, seed: int) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path("runs") / f"{preset}__{seed}__{stamp}"
    n = 1
    while out.exists():
        n += 1
        out = Path("runs") / f"{preset}__{seed}__{stamp}-{n}"
    return out


def cmd_train(args: argparse.Namespace) -> int:
    if args.config and args.preset:
        raise ConfigError("give either --preset or --config, not both")
    source = args.config or args.preset or "quick"
    overrides = list(args.set or [])
    if args.oracle:
        overrides.append(f"oracle.path={args.oracle}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.device:
        overrides.append(f"device={args.device}")
    cfg = load_config(source, overrides)
    if cfg.oracle.path and not Path(cfg.oracle.path).is_file():
        raise ConfigError(f"oracle.path={cfg.oracle.path}: no such file")
    name = Path(source).stem if args.config else source
    out = Path(args.out) if args.out else _default_out(name, cfg.seed)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out {out}: directory exists and is not empty; choose a new one")
    if args.print_config:
        print(dump_yaml(cfg), end="")
    from seqgan.models.oracle import OracleFileError
    from seqgan.train import train
    try:
        train(cfg, out, quiet=args.quiet)
    except OracleFileError as e:
        raise ConfigError(str(e)) from None
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    if args.list:
        for key, tp, default, doc in describe():
            print(f"{key} = {default!r}  ({tp})")
            if doc:
                print(textwrap.fill(doc, 88, initial_indent="    ", subsequent_indent="    "))
        return 0
    cfg = load_config(args.config or args.preset or "quick", args.set or [])
    print(dump_yaml(cfg), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seqgan",
        description="SeqGAN (Yu et al., AAAI-17): an LSTM generator pre-trained by maximum likelihood, then "
                    "trained by policy gradient against a CNN discriminator with Monte Carlo rollout rewards.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'seqgan <command> --help' for each command's options.")
    sub = p.add_subparsers(dest="command", metavar="<command>")

    t = sub.add_parser(
        "train", help="train on the synthetic oracle task (MLE, discriminator pre-training, adversarial)",
        description="Run a whole SeqGAN experiment and write a run directory: config.yaml, metrics.jsonl, "
                    "experiment-log.txt (the original's format), real_data.txt, generator/discriminator "
                    "weights (safetensors), generator_samples.txt, summary.json.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=TRAIN_EPILOG)
    _config_args(t)
    t.add_argument("--oracle", metavar="FILE.npz", help="the original's oracle parameters (= oracle.path)")
    t.add_argument("--seed", type=int, help="= --set seed=N")
    t.add_argument("--device", choices=["auto", "cpu", "cuda"], help="= --set device=...")
    t.add_argument("--out", metavar="DIR", help="run directory (default runs/<preset>__<seed>__<date-time>)")
    t.add_argument("--print-config", action="store_true", help="print the resolved config first")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")
    t.set_defaults(func=cmd_train)

    c = sub.add_parser("config", help="print a resolved config, or --list every key",
                       description="Print the resolved config of a preset or file with overrides applied, "
                                   "or list every key with its type, default and meaning.")
    _config_args(c)
    c.add_argument("--list", action="store_true", help="list every key with its default and meaning")
    c.set_defaults(func=cmd_config)
    return p


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", choices=preset_names(), help="a preset shipped with the package (default: quick)")
    p.add_argument("--config", metavar="FILE.yaml", help="a YAML config file (keys as in 'seqgan config --list')")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override one key, e.g. --set adversarial.rollout_num=8 (repeatable)")


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except ConfigError as e:
        print(f"seqgan: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seqgan: interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    sys.exit(main())
