"""Rules as data: every finding bir can emit names a `Rule` declared once, with its documentation.

A rule has an id (`ref.unknown`), a severity, a scope (where in the flow it judges: reading a file, one
record, the whole register, a change, a risk, ...), a one-line summary and a docstring-like text that is
its user documentation; rules that judge have a passing and a failing example in that text (`Passes:` and
`Fails:` lines). Declaring a rule adds it to `CATALOG`; the rules reference (`bir.api.rulesdoc`) is
generated from the catalog, and `tests/test_rules_catalog.py` checks that no finding is made any other way,
so every id the tool can emit is documented.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

from bir.base.problems import Problem, Severity

# Scope -> title in the reference, in the order of the data flow.
SCOPES: dict[str, str] = {
    "file": "Files of the register",
    "yaml": "Strict YAML",
    "schema": "Schemas",
    "config": "Configuration",
    "record": "Each record",
    "register": "Across records",
    "history": "Points in time",
    "change": "Change policy (pull requests)",
    "change-record": "The change record",
    "risk": "Risk and audit",
    "event": "Lifecycle events",
    "figure": "Report figures",
    "reconcile": "Reconciliation with discovery",
    "text": "Text that deceives",
}
# Scopes whose rules judge something, and so document a passing and a failing example.
JUDGING = frozenset({"file", "yaml", "schema", "config", "record", "register", "change", "change-record", "risk",
                     "reconcile", "text"})
SEVERITIES = ("error", "warning", "high", "medium", "low", "info")
MESSAGE_LIMIT = 1000  # characters of a problem's message or hint (values in it are quoted shorter still)


class RuleError(ValueError):
    """A rule declared twice, or declared without what its scope requires."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of finding: its id, severity, scope and documentation."""

    id: str
    severity: str  # error | warning (problems); high | medium | low (risk); info (events and figures)
    scope: str
    summary: str
    doc: str

    def problem(self, path: str, line: int, column: int, message: str, hint: str = "", json_path: str = "") -> Problem:
        """A positioned problem of this rule (line and column 1-based, 0 for the file as a whole). Messages
        and hints are cut to MESSAGE_LIMIT characters: a value quoted in full never makes a 1 MB annotation."""
        if not message.isprintable():
            message = visible(message)
        if not hint.isprintable():
            hint = visible(hint)
        if len(message) > MESSAGE_LIMIT:
            message = message[: MESSAGE_LIMIT - 1] + "…"
        if len(hint) > MESSAGE_LIMIT:
            hint = hint[: MESSAGE_LIMIT - 1] + "…"
        if len(json_path) > MESSAGE_LIMIT:
            json_path = json_path[: MESSAGE_LIMIT - 1] + "…"
        return Problem(path, line, column, Severity(self.severity), self.id, message, hint, json_path)

    def examples(self) -> tuple[str, str]:
        """The passing and the failing example of the documentation ("" where there is none)."""
        found = _EXAMPLES.search(self.doc)
        if found is None:
            return "", ""
        return " ".join(found["passes"].split()), " ".join(found["fails"].split())

    def text(self) -> str:
        """The documentation without its examples."""
        found = _EXAMPLES.search(self.doc)
        return self.doc[: found.start()].strip() if found is not None else self.doc


def visible(text: str) -> str:
    """`text` with every character a terminal or a reader would not show as itself (controls, bidirectional
    and zero-width characters; line breaks excepted) written as an escape: messages quote record data."""
    return "".join(ch if ch.isprintable() or ch == "\n" else f"\\x{ord(ch):02x}" if ord(ch) < 0x100
                   else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}" for ch in text)


_EXAMPLES = re.compile(r"Passes:(?P<passes>.+?)Fails:(?P<fails>.+)$", re.DOTALL)
CATALOG: dict[str, Rule] = {}


def define(rule_id: str, severity: str, scope: str, summary: str, doc: str = "") -> Rule:
    """Declare a rule (once); `doc` defaults to the summary. Judging rules must give both examples."""
    if rule_id in CATALOG:
        raise RuleError(f"rule {rule_id} is declared twice")
    if scope not in SCOPES or severity not in SEVERITIES:
        raise RuleError(f"rule {rule_id}: unknown scope {scope!r} or severity {severity!r}")
    rule = Rule(rule_id, severity, scope, summary, inspect.cleandoc(doc or summary))
    if scope in JUDGING and not all(rule.examples()):
        raise RuleError(f"rule {rule_id} judges ({scope}) but its documentation lacks a Passes: or Fails: line")
    CATALOG[rule_id] = rule
    return rule
