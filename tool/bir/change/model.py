"""The change as data: the records a pull request adds, modifies, renames or removes, its policy problems
and its impact. `bir.change.compute` fills these; `bir.change.render` formats them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bir.base.diff import FieldChange
from bir.base.model import Record
from bir.base.problems import Problem
from bir.git.plumbing import FileChange


@dataclass(slots=True)
class RecordChange:
    """A record the change adds, modifies, renames or removes."""

    change: str  # added | modified | renamed | removed
    id: str
    kind: str
    path: str
    old_path: str | None = None
    old_id: str | None = None
    old_status: str | None = None
    new_status: str | None = None
    fields: list[FieldChange] = field(default_factory=list)
    base: Record | None = None
    head: Record | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"change": self.change, "id": self.id, "kind": self.kind, "path": self.path, "old_path": self.old_path,
                "old_id": self.old_id, "old_status": self.old_status, "new_status": self.new_status,
                "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in self.fields]}


@dataclass(frozen=True, slots=True)
class AffectedService:
    id: str
    name: str
    via: tuple[str, ...]  # the chain from the changed record to the service, changed record first

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "via": list(self.via)}


@dataclass(frozen=True, slots=True)
class RiskFinding:
    rule: str
    record: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "record": self.record, "message": self.message}


@dataclass(slots=True)
class Impact:
    currency: str
    one_off: Decimal = Decimal("0.00")
    annual_base: Decimal = Decimal("0.00")
    annual_head: Decimal = Decimal("0.00")
    services: list[AffectedService] = field(default_factory=list)
    risks_introduced: list[RiskFinding] = field(default_factory=list)
    risks_resolved: list[RiskFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def annual_delta(self) -> Decimal:
        return self.annual_head - self.annual_base

    def to_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "one_off": str(self.one_off), "annual_base": str(self.annual_base),
                "annual_head": str(self.annual_head), "annual_delta": str(self.annual_delta),
                "services": [s.to_dict() for s in self.services],
                "risks_introduced": [r.to_dict() for r in self.risks_introduced],
                "risks_resolved": [r.to_dict() for r in self.risks_resolved],
                "notes": self.notes}


@dataclass(slots=True)
class ChangeReport:
    base: str
    head: str | None  # None: the working tree
    records: list[RecordChange]
    other_files: list[FileChange]
    violations: list[Problem]
    head_problems: list[Problem]
    impact: Impact

    @property
    def errors(self) -> int:
        return sum(1 for p in self.violations + self.head_problems if p.is_error)

    @property
    def failed(self) -> bool:
        return self.errors > 0

    def counts(self) -> dict[str, int]:
        out = {"added": 0, "modified": 0, "renamed": 0, "removed": 0}
        for r in self.records:
            out[r.change] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "head": self.head, "counts": self.counts(),
                "records": [r.to_dict() for r in self.records],
                "other_files": [{"status": f.status, "path": f.path, "old_path": f.old_path} for f in self.other_files],
                "violations": [p.to_dict() for p in self.violations],
                "head_problems": [p.to_dict() for p in self.head_problems],
                "impact": self.impact.to_dict()}


