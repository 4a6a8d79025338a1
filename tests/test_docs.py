"""The docs stay true to the code.

What the docs (README.md, docs/**/*.md and benchmarks/README.md, which the site includes) write
as code, in backticks or in code blocks, must exist: every `section.key` that names a config
section is a config key, every `--set KEY=VALUE` is accepted by the config, every `seqgan
<command>` is a command, and every option written after a command is that command's option.
And the other way round: every command, preset and method is documented by hand in docs/ (the
generated references list them all by construction, so they do not count).
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from seqgan.cli import build_parser
from seqgan.config import Config, ConfigError, _is_section, describe, load_config, parse_override, preset_names
from seqgan.methods import METHODS

from conftest import REPO

DOCS = REPO / "docs"
GENERATED = re.compile(r"^<!-- gen: [a-z-]+ -->$", re.M)


def doc_files() -> list[Path]:
    return [REPO / "README.md", REPO / "benchmarks" / "README.md", *sorted(DOCS.rglob("*.md"))]


def code_fragments(text: str) -> list[str]:
    """The text's code: each line of a fenced block (a line ending in a backslash joined with
    the next, as the shell does), and each inline code span of the prose."""
    out: list[str] = []
    fenced, pending = False, ""
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced, pending = not fenced, ""
            continue
        if fenced:
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            out.append(pending + line)
            pending = ""
        else:
            out += [m.group(2) for m in re.finditer(r"(`+)(.+?)\1", line)]
    return out


def all_fragments() -> list[tuple[str, str]]:
    return [(f.relative_to(REPO).as_posix(), frag) for f in doc_files()
            for frag in code_fragments(f.read_text(encoding="utf-8"))]


KEYS = {key for key, _, _, _ in describe()}
SECTIONS = {name for name, f in Config.model_fields.items() if _is_section(f.annotation)}
# `generator.safetensors`, `maligan.py`, `data.py`: file names, not keys
FILE_EXTENSIONS = {"py", "yaml", "json", "jsonl", "txt", "png", "md", "npz", "safetensors", "sha256", "lock", "csv"}
KEY_LIKE = re.compile(r"(?<![\w./-])(" + "|".join(sorted(SECTIONS, key=len, reverse=True)) + r")\.([a-z_]\w*)")


def documented_keys(fragment: str) -> list[str]:
    """Every `section.key` the fragment names, for a section of the config."""
    return [f"{m.group(1)}.{m.group(2)}" for m in KEY_LIKE.finditer(fragment) if m.group(2) not in FILE_EXTENSIONS]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


COMMAND = re.compile(r"(?<![\w./-])seqgan ([a-z][\w-]*)")


def command_lines(fragment: str) -> list[tuple[str, list[str]]]:
    """(command, the words after it up to a comment or the next shell command) for each `seqgan
    <command>` in the fragment."""
    out, consumed = [], 0
    for m in COMMAND.finditer(fragment):
        if m.start() < consumed:  # `--methods mle seqgan maligan`: an argument, not a command
            continue
        rest = re.split(r"\s#|&&|\|\||;|\|(?=\s)", fragment[m.end():])[0]
        consumed = m.end() + len(rest)
        try:
            words = shlex.split(rest)
        except ValueError:  # an unbalanced quote in prose
            words = rest.split()
        out.append((m.group(1), words))
    return out


def test_every_documented_config_key_exists():
    bad = [(where, key) for where, frag in all_fragments() for key in documented_keys(frag) if key not in KEYS]
    assert not bad, f"documented keys that are not config keys: {bad}"


def test_every_documented_set_is_accepted_by_the_config():
    """`--set KEY=VALUE` in the docs names a key and a value the config takes (placeholders in
    capitals are skipped)."""
    bad = []
    for where, frag in all_fragments():
        for _, words in command_lines(frag):
            sets = [words[i + 1] for i, word in enumerate(words[:-1])
                    if word == "--set" and not words[i + 1][:1].isupper()]
            for one in sets:
                if parse_override(one)[0] not in KEYS:
                    bad.append((where, one, "no such key"))
            sets = [one for one in sets if parse_override(one)[0] in KEYS]
            if not sets:
                continue
            # the command's --set together: one may need another (reward.mix < 1 needs reward.objective)
            base = ["task=data", "data.train=x.txt"] if any(o.startswith("data.") for o in sets) else []
            try:
                load_config("quick", base + sets)
            except ConfigError as e:
                bad.append((where, " ".join(sets), str(e)))
    assert not bad, f"documented --set the config refuses: {bad}"


def test_every_documented_command_and_option_exists():
    commands = subcommands()
    every_option = set().union(*(options(p) for p in commands.values()), options(build_parser()))
    bad = []
    for where, frag in all_fragments():
        found = command_lines(frag)
        for command, words in found:
            if command not in commands:
                bad.append((where, f"seqgan {command}"))
                continue
            known = options(commands[command])
            bad += [(where, f"seqgan {command} {w}") for w in words
                    if re.fullmatch(r"--?[a-zA-Z][\w-]*", w.split("=")[0]) and w.split("=")[0] not in known]
        # an option named on its own: `--mle`, `--set KEY=VALUE` (benchmarks/README.md's are its scripts')
        if not found and frag.startswith("-") and where != "benchmarks/README.md":
            opt = frag.split()[0].split("=")[0]
            if re.fullmatch(r"--[a-z][\w-]*", opt) and opt not in every_option:
                bad.append((where, opt))
    assert not bad, f"documented commands or options that do not exist: {bad}"


def hand_written_docs() -> str:
    """docs/**/*.md as written (the generated blocks are not in the files)."""
    return "\n".join(GENERATED.sub("", f.read_text(encoding="utf-8")) for f in sorted(DOCS.rglob("*.md")))


def test_every_command_preset_and_method_is_documented():
    text = hand_written_docs()
    missing = [f"seqgan {c}" for c in subcommands() if f"seqgan {c}" not in text]
    missing += [f"preset {p}" for p in preset_names() if f"`{p}`" not in text]
    missing += [f"method {m}" for m in METHODS if f"`{m}`" not in text]
    assert not missing, f"not documented anywhere in docs/ (name them in a guide): {missing}"


@pytest.mark.parametrize("doc", ["README.md", "docs/index.md"])
def test_relative_links_point_at_files(doc):
    """The README is read on its own (GitHub, PyPI): its links to docs pages must exist. (MkDocs
    checks the site's own links when it builds strictly.)"""
    path = REPO / doc
    bad = []
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        if not (path.parent / target.split("#")[0]).exists():
            bad.append(target)
    assert not bad, f"{doc}: links to missing files: {bad}"


def test_the_checks_see_keys_commands_and_options():
    """The extractors find what they are meant to, so the tests above cannot pass by finding nothing."""
    frags = code_fragments("x `--set adversarial.rollout_num=8` y\n```bash\nseqgan train --preset paper \\\n"
                           "    --set train.threads=2  # a comment --not-an-option\n```\n")
    assert [" ".join(f.split()) for f in frags] == [
        "--set adversarial.rollout_num=8",
        "seqgan train --preset paper --set train.threads=2 # a comment --not-an-option"]
    assert documented_keys(frags[1]) == ["train.threads"]
    assert documented_keys("seqgan.train.steps generator.safetensors train/run.py") == []
    assert command_lines(frags[1]) == [("train", ["--preset", "paper", "--set", "train.threads=2"])]
    assert command_lines("seqgan reproduce bench --methods mle seqgan maligan && seqgan plot x") == [
        ("reproduce", ["bench", "--methods", "mle", "seqgan", "maligan"]), ("plot", ["x"])]
    assert len(all_fragments()) > 500 and any(documented_keys(f) for _, f in all_fragments())
