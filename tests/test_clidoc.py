"""The CLI reference page is generated from the commands and cannot drift from them."""

from __future__ import annotations

from pathlib import Path

from bir.cli.reference import render

PAGE = Path(__file__).resolve().parent.parent / "site" / "docs" / "reference" / "cli.md"


def test_committed_reference_is_the_generated_one() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "site/docs/reference/cli.md is out of date: run `python -m bir.cli.reference > site/docs/reference/cli.md`")


def test_every_command_is_documented() -> None:
    from bir.cli import cli

    text = render()
    for name in cli.commands:
        assert f"## `bir {name}`" in text
    assert "### `bir import csv`" in text
    assert "| `--where FILTER` |" in text
