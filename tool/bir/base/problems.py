"""Problems are data: every stage reports what is wrong as `Problem` values; reporters only format them.

A problem is made by its rule (`bir.base.rules.Rule.problem`), so every rule id is declared and documented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the register, positioned in the file that has it.

    `line` and `column` are 1-based; 0 means "the file as a whole". `json_path` names the field
    (`/financial/purchase_cost`), empty for problems of the file itself.
    """

    path: str
    line: int
    column: int
    severity: Severity
    rule: str
    message: str
    hint: str = ""
    json_path: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule, self.message)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity.value,
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
            "json_path": self.json_path,
        }


@dataclass(slots=True)
class Summary:
    """What a validation found, in numbers."""

    records: int
    errors: int
    warnings: int
    by_kind: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"records": self.records, "errors": self.errors, "warnings": self.warnings, "by_kind": self.by_kind}


class UsageError(Exception):
    """A problem with how the tool was called or configured (exit code 2), said in one sentence."""
