"""`seqgan config`: a resolved config, or every key (--list, --markdown)."""

from __future__ import annotations

import argparse
import textwrap

from seqgan.cli.common import Commands, config_args
from seqgan.config import describe, dump_yaml, load_config


def config_table() -> str:
    """Every key as a markdown table (the docs site's configuration reference is made from it)."""
    def cell(v: object) -> str:
        return "null" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
    rows = ["| key | default | meaning |", "|---|---|---|"]
    rows += [f"| `{key}` | {cell(default)} | {doc.replace('|', '/')} |" for key, _, default, doc in describe()]
    return "\n".join(rows) + "\n"


def cmd_config(args: argparse.Namespace) -> int:
    if args.markdown:
        print(config_table(), end="")
        return 0
    if args.list:
        for key, tp, default, doc in describe():
            print(f"{key} = {default!r}  ({tp})")
            if doc:
                print(textwrap.fill(doc, 88, initial_indent="    ", subsequent_indent="    "))
        return 0
    cfg = load_config(args.config or args.preset or "quick", args.set or [])
    print(dump_yaml(cfg), end="")
    return 0


def add_parser(sub: Commands) -> None:
    """`seqgan config`'s options."""
    c = sub.add_parser("config", help="print a resolved config, or --list every key",
                       description="Print the resolved config of a preset or file with overrides applied, "
                                   "or list every key with its type, default and meaning.")
    config_args(c)
    c.add_argument("--list", action="store_true", help="list every key with its default and meaning")
    c.add_argument("--markdown", action="store_true",
                   help="the same as a markdown table (the docs' configuration reference)")
    c.set_defaults(func=cmd_config)
