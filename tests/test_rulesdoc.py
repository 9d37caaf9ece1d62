"""Every rule documents itself with a passing and a failing example, and the rules page is up to date."""

from __future__ import annotations

from bir.api.rulesdoc import render
from bir.check.rules import RULES
from conftest import PROJECT


def test_every_rule_has_passing_and_failing_example() -> None:
    for rule in RULES:
        assert "Passes:" in rule.doc and "Fails:" in rule.doc, rule.id


def test_rules_page_is_generated() -> None:
    page = PROJECT / "site" / "docs" / "reference" / "rules.md"
    assert page.read_text(encoding="utf-8") == render(), "run: python -m bir.api.rulesdoc > site/docs/reference/rules.md"
