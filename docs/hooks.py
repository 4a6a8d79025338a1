"""MkDocs hook: the generated parts of the docs, made from the code at build time.

A page asks for a generated block with a line of its own, `<!-- gen: NAME -->`; the block is
made here from the same source the program uses, so the docs cannot drift from the code and
nothing generated is committed:

- `config-table`: every config key, its default and its docstring (`seqgan config --markdown`);
- `presets`: every preset shipped in `seqgan/presets/`, its first comment line and its command;
- `methods`: the method registry (`seqgan.methods.METHODS`), one row per method;
- `cli`: `seqgan --help` and every subcommand's `--help`, from `seqgan.cli.build_parser`;
- `api-methods`: a mkdocstrings block per registered method module and its options module;
- `api-rewards`: a mkdocstrings block per module of `seqgan.rewards`.

A new config key, preset, method, command, option or reward module appears in the docs by
itself. An unknown NAME fails the build.
"""

from __future__ import annotations

import argparse
import itertools
import os
import pkgutil
import re
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
# the docs describe the checked-out code, whatever copy of seqgan is installed
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "docs"))

from angles import escape  # noqa: E402 (needs the path above)

MARKER = re.compile(r"^<!-- gen: ([a-z-]+) -->$", re.M)
HELP_WIDTH = "100"  # argparse wraps --help to $COLUMNS: fixed, so the page does not depend on the terminal


def config_table() -> str:
    """`seqgan config --markdown`, split into one table per section (a heading each, to link to)."""
    from seqgan.cli import config_table as table
    header, rule, *rows = table().splitlines()
    sections: dict[str, list[str]] = {}
    for row in rows:
        key = row.split("`")[1]
        sections.setdefault(key.split(".")[0] if "." in key else "", []).append(row)
    parts = []
    for name, body in sections.items():
        parts += [f"### `{name}`" if name else "### Top level", "", header, rule, *body, ""]
    return "\n".join(parts)


def presets() -> str:
    from seqgan.config import preset_names
    rows = ["| preset | what it is | command |", "|---|---|---|"]
    folder = ROOT / "src" / "seqgan" / "presets"
    for name in preset_names():
        lines = (folder / f"{name}.yaml").read_text(encoding="utf-8").splitlines()
        comments = [ln[1:].strip() for ln in lines if ln.startswith("#")]
        at = next((i for i, c in enumerate(comments) if c.startswith("seqgan train")), None)
        command = f"seqgan train --preset {name}"
        if at is not None:  # the header's example command, with its continuation lines
            command = comments[at]
            while command.endswith("\\") and at + 1 < len(comments):
                at += 1
                command = command[:-1].rstrip() + " " + comments[at]
        # the header's first sentence: the comment lines before the first command or blank one
        head = " ".join(c for c in itertools.takewhile(lambda c: c and not c.startswith("seqgan"), comments))
        head = head.split(":", 1)[1].strip() if head.startswith(f"{name}:") else head
        what = re.split(r"(?<=[.)])\s+(?=[A-Z(])", head, maxsplit=1)[0]
        rows.append(f"| `{name}` | {what.replace('|', '/')} | `{command}` |")
    return "\n".join(rows) + "\n"


def methods() -> str:
    from seqgan.methods import METHODS
    rows = ["| method | name in tables | what it does | its config section |", "|---|---|---|---|"]
    for m in METHODS.values():
        section = f"`{m.name}.*`" if m.options else "none"
        rows.append(f"| `{m.name}` | {m.label} | {m.summary} | {section} |")
    return "\n".join(rows) + "\n"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli() -> str:
    from seqgan.cli import build_parser
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH
    try:
        parser = build_parser()
        parts = ["## seqgan\n", "```text\n" + parser.format_help() + "```\n"]
        for name, sub in _subcommands(parser).items():
            parts += [f"## seqgan {name}\n", "```text\n" + sub.format_help() + "```\n"]
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(parts)


def api_methods() -> str:
    from seqgan.methods import METHODS
    parts = []
    for m in METHODS.values():
        parts.append(f"### `{m.name}`\n\n::: seqgan.methods.{m.name}\n    options:\n      show_root_heading: false\n")
        if m.options:
            module, cls = m.options.split(":")
            module = module if "." in module else f"seqgan.methods.options.{module}"
            parts.append(f"::: {module}.{cls}\n    options:\n      heading_level: 4\n")
    return "\n".join(parts)


def api_rewards() -> str:
    import seqgan.rewards as rewards
    names = sorted(m.name for m in pkgutil.iter_modules(rewards.__path__) if not m.name.startswith("_"))
    return "\n".join(f"::: seqgan.rewards.{n}\n" for n in names)


BLOCKS: dict[str, Callable[[], str]] = {
    "config-table": config_table,
    "presets": presets,
    "methods": methods,
    "cli": cli,
    "api-methods": api_methods,
    "api-rewards": api_rewards,
}


def expand(markdown: str, where: str = "") -> str:
    """The page with every `<!-- gen: NAME -->` line replaced by its block."""
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in BLOCKS:
            raise ValueError(f"{where}: unknown generated block <!-- gen: {name} -->; known: {', '.join(BLOCKS)}")
        return BLOCKS[name]()
    return MARKER.sub(one, markdown)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return escape(expand(markdown, page.file.src_uri))
