"""The README stays true to the code: its configuration table is `seqgan config --markdown`, and
every command, preset and method it should name is named."""

from __future__ import annotations

from seqgan.cli import build_parser, config_table
from seqgan.config import preset_names
from seqgan.methods import METHODS

from conftest import REPO


def readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def test_the_readme_config_table_is_the_code_s():
    assert config_table() in readme(), "README's key table differs: paste `seqgan config --markdown` into it"


def test_the_readme_names_every_command_preset_and_method():
    text = readme()
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command in sub.choices:  # type: ignore[union-attr]
        assert f"seqgan {command}" in text, command
    for preset in preset_names():
        assert f"`{preset}`" in text, preset
    for method in METHODS:
        assert f"`{method}`" in text, method
