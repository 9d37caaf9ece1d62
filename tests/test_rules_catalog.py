"""One way to write a rule: every id the tool can emit is declared in the catalog, and so documented.

The code is read as syntax trees: a problem is never built from a literal rule id (only `Rule.problem`
builds problems), and every string in the code that looks like a rule id (its first part is the first part
of a declared id) is a declared id. The reference page is generated from the catalog (test_rulesdoc.py).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bir.api.rulesdoc import catalog
from bir.base.rules import JUDGING

PACKAGE = Path(__file__).resolve().parent.parent / "tool" / "bir"
CATALOG = catalog()
NOT_RULES = {"yaml.schemas"}  # an editor setting written by `bir init`
_ID = re.compile(r"^[a-z_]+\.[a-z][a-z_-]*$")


def _sources() -> list[tuple[Path, ast.AST]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(PACKAGE.rglob("*.py"))]


def test_no_problem_is_built_from_a_literal_rule_id() -> None:
    wrong = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Problem":
                rule = node.args[4] if len(node.args) > 4 else next((k.value for k in node.keywords if k.arg == "rule"), None)
                if isinstance(rule, ast.Constant):
                    wrong.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert wrong == []


def test_every_string_that_looks_like_a_rule_id_is_declared() -> None:
    prefixes = {rule_id.split(".")[0] for rule_id in CATALOG}
    undeclared = set()
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _ID.match(node.value):
                if node.value.split(".")[0] in prefixes and node.value not in CATALOG and node.value not in NOT_RULES:
                    undeclared.add(f"{node.value} ({path.relative_to(PACKAGE)}:{node.lineno})")
    assert sorted(undeclared) == []


def test_judging_rules_document_a_passing_and_a_failing_example() -> None:
    missing = [r.id for r in CATALOG.values() if r.scope in JUDGING and not all(r.examples())]
    assert missing == []


def test_the_catalog_covers_every_stage_that_judges() -> None:
    scopes = {r.scope for r in CATALOG.values()}
    assert {"file", "yaml", "schema", "config", "record", "register", "history", "change", "change-record", "risk",
            "event", "figure", "reconcile"} <= scopes
    assert {"ref.unknown", "change.transition", "change.conflict", "service.single_point_of_failure",
            "reconcile.stale", "event.notice_deadline", "cost.run", "history.before-first-commit"} <= set(CATALOG)
