"""The rules reference is generated from the catalog and committed: it cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

from bir.api.rulesdoc import catalog, render

PAGE = Path(__file__).resolve().parent.parent / "site" / "docs" / "reference" / "rules.md"


def test_committed_reference_is_the_generated_one() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), "run: python -m bir.api.rulesdoc > site/docs/reference/rules.md"


def test_every_rule_has_a_section_with_its_examples() -> None:
    page = render()
    for rule in catalog().values():
        assert f"### `{rule.id}`" in page
        passes, fails = rule.examples()
        if passes:
            assert f"- **Passes**: {passes}" in page and f"- **Fails**: {fails}" in page
