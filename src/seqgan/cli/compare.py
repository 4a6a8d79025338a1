"""`seqgan compare`: mean ± sd over seeds per group and Welch's t-tests."""

from __future__ import annotations

import argparse
import sys

from seqgan.cli.common import Commands, check_out, writing_out
from seqgan.config import ConfigError


def cmd_compare(args: argparse.Namespace) -> int:
    import json

    from seqgan.compare import CompareError, compare, to_json, to_markdown
    check_out(args.out, args.run_dirs)
    try:
        rows, metrics = compare(args.run_dirs, args.by, args.reference)
    except CompareError as e:
        raise ConfigError(str(e)) from None
    reference = args.reference if any(r.name == args.reference for r in rows) else None
    if args.reference and reference is None:
        print(f"seqgan compare: no group is named {args.reference!r}: no t-tests", file=sys.stderr)
    text = json.dumps(to_json(rows, metrics, reference), indent=1) + "\n" if args.json else \
        to_markdown(rows, metrics, reference)
    if args.out:
        from seqgan.files import write_out
        with writing_out(args.out):
            write_out(args.out, lambda p: p.write_text(text, encoding="utf-8"))
    print(text, end="")
    return 0


def add_parser(sub: Commands) -> None:
    """`seqgan compare`'s options."""
    cp = sub.add_parser(
        "compare", help="mean ± sd over seeds per method and Welch's t-test against a reference (Table 1 layout)",
        description="Group finished runs (by method, by default) and report each group's final NLL-oracle and "
                    "NLL-test (runs on your data: NLL-test, BLEU-2..5, Self-BLEU-4) as mean ± sd with n, and the "
                    "two-sided Welch t-test p-value (scipy.stats.ttest_ind, equal_var=False) of each group against "
                    "the reference group.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  seqgan compare runs/table1/*__* --reference seqgan --out table.md\n")
    cp.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    cp.add_argument("--by", choices=["method", "parent", "name"], default="method",
                    help="group runs by their method (default), their parent directory, or each on its own")
    cp.add_argument("--reference", default="seqgan", help="the group the others are tested against (default seqgan)")
    cp.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    cp.add_argument("--out", metavar="FILE", help="also write the table (or JSON) to FILE")
    cp.set_defaults(func=cmd_compare)
