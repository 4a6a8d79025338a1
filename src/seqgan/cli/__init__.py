"""The `seqgan` command line: `seqgan train | generate | evaluate | sweep | compare | reproduce | plot | config`.

One module per command (`seqgan.cli.train`, ...), each holding its parser (`add_parser`) beside its
handler (`cmd_<command>`); this module assembles them. `main(argv) -> int` runs in-process (tests
call it); errors in the user's input print one line `seqgan: error: ...` and return 2, before
anything is written. torch is imported only by the commands that need it, so `--help` and
`config` answer at once.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from seqgan.cli import compare, config, evaluate, generate, plot, reproduce, sweep, train
from seqgan.cli.config import config_table
from seqgan.cli.generate import GENERATE_BLOCK
from seqgan.config import ConfigError

__all__ = ["build_parser", "main", "entry", "config_table", "GENERATE_BLOCK"]

#: the commands in the order `seqgan --help` lists them
COMMANDS = (train, generate, evaluate, sweep, compare, reproduce, plot, config)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seqgan",
        description="SeqGAN (Yu et al., AAAI-17): an LSTM generator pre-trained by maximum likelihood, then "
                    "trained by policy gradient against a CNN discriminator with Monte Carlo rollout rewards.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'seqgan <command> --help' for each command's options.")
    sub = p.add_subparsers(dest="command", metavar="<command>")
    for command in COMMANDS:
        command.add_parser(sub)
    return p


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
