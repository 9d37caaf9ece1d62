"""The change as data: the records a pull request adds, modifies, renames or removes, the rules it changes,
its policy problems and its impact. `bir.change.compute` fills these; `bir.change.render` formats them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bir.base.diff import FieldChange
from bir.base.model import Record
from bir.base.problems import Problem, Summary
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
    path_taken: tuple[str, ...] = ()  # the lifecycle states the record went through, when more than one step
    emptied: bool = False  # the file is still there but holds no record

    def to_dict(self) -> dict[str, Any]:
        return {"change": self.change, "id": self.id, "kind": self.kind, "path": self.path, "old_path": self.old_path,
                "old_id": self.old_id, "old_status": self.old_status, "new_status": self.new_status,
                "path_taken": list(self.path_taken), "emptied": self.emptied,
                "fields": [f.to_dict() for f in self.fields]}


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
    severity: str
    record: str
    message: str
    waived_by: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "record": self.record, "message": self.message,
                "waived_by": self.waived_by}


@dataclass(frozen=True, slots=True)
class SinglePoint:
    """A component that became (or stopped being) a single point of failure of a service."""

    service: str
    record: str

    def to_dict(self) -> dict[str, str]:
        return {"service": self.service, "record": self.record}


@dataclass(frozen=True, slots=True)
class LicenceChange:
    """A licence whose position the change moves: consumption and true-up before and after."""

    licence: str
    metric: str
    quantity_before: int
    quantity_after: int
    consumption_before: int
    consumption_after: int
    true_up_before: Decimal | None
    true_up_after: Decimal | None

    @property
    def true_up_delta(self) -> Decimal:
        return (self.true_up_after or Decimal(0)) - (self.true_up_before or Decimal(0))

    def to_dict(self) -> dict[str, Any]:
        return {"licence": self.licence, "metric": self.metric, "quantity_before": self.quantity_before,
                "quantity_after": self.quantity_after, "consumption_before": self.consumption_before,
                "consumption_after": self.consumption_after,
                "true_up_before": None if self.true_up_before is None else str(self.true_up_before),
                "true_up_after": None if self.true_up_after is None else str(self.true_up_after),
                "true_up_delta": str(self.true_up_delta)}


@dataclass(slots=True)
class Impact:
    """What the change does to everything it can affect: the changed records, what depends on them, the
    services they serve and the licences they consume, each compared base against head."""

    currency: str
    one_off: Decimal = Decimal("0.00")
    annual_base: Decimal = Decimal("0.00")  # annual run cost of the changed records before
    annual_head: Decimal = Decimal("0.00")  # ... and after: the register's total changes by the difference
    services: list[AffectedService] = field(default_factory=list)
    risks_introduced: list[RiskFinding] = field(default_factory=list)
    risks_resolved: list[RiskFinding] = field(default_factory=list)
    spof_introduced: list[SinglePoint] = field(default_factory=list)
    spof_resolved: list[SinglePoint] = field(default_factory=list)
    licences: list[LicenceChange] = field(default_factory=list)
    examined: int = 0  # records the impact was computed over
    notes: list[str] = field(default_factory=list)

    @property
    def annual_delta(self) -> Decimal:
        return self.annual_head - self.annual_base

    @property
    def true_up_delta(self) -> Decimal:
        return sum((lc.true_up_delta for lc in self.licences), Decimal(0))

    def to_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "one_off": str(self.one_off), "annual_base": str(self.annual_base),
                "annual_head": str(self.annual_head), "annual_delta": str(self.annual_delta),
                "true_up_delta": str(self.true_up_delta),
                "services": [s.to_dict() for s in self.services],
                "risks_introduced": [r.to_dict() for r in self.risks_introduced],
                "risks_resolved": [r.to_dict() for r in self.risks_resolved],
                "single_points_of_failure_introduced": [s.to_dict() for s in self.spof_introduced],
                "single_points_of_failure_resolved": [s.to_dict() for s in self.spof_resolved],
                "licences": [lc.to_dict() for lc in self.licences],
                "examined": self.examined, "notes": self.notes}


@dataclass(slots=True)
class RulesChange:
    """What the change does to the rules records are judged by: bir.yaml, the schemas, the site's
    configuration and the repository's workflows."""

    config: list[FieldChange] = field(default_factory=list)  # bir.yaml, field by field
    schemas: dict[str, list[FieldChange]] = field(default_factory=dict)  # schema file -> its changes
    files: list[FileChange] = field(default_factory=list)  # every rules file changed

    def __bool__(self) -> bool:
        return bool(self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"files": [{"status": f.status, "path": f.path, "old_path": f.old_path} for f in self.files],
                "config": [f.to_dict() for f in self.config],
                "schemas": {k: [f.to_dict() for f in v] for k, v in self.schemas.items()}}


@dataclass(slots=True)
class ChangeReport:
    base: str  # the commit the head is compared with: the merge base of --base and the head
    head: str | None  # None: the working tree
    records: list[RecordChange]
    other_files: list[FileChange]
    violations: list[Problem]
    head_problems: list[Problem]  # the head's problems by its own rules
    impact: Impact
    base_ref: str = ""  # what --base named
    base_tip: str = ""  # the commit --base named (the merge base differs when the head is behind it)
    rules: RulesChange = field(default_factory=RulesChange)
    base_rule_problems: list[Problem] = field(default_factory=list)  # head problems only the base's rules find
    blocking_risks: list[RiskFinding] = field(default_factory=list)  # new findings at or above the blocking severity
    required_fields: tuple[str, ...] = ()  # the change record fields the base's bir.yaml requires
    head_summary: Summary | None = None  # the head's whole register validated, in numbers (None: not validated)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.violations + self.head_problems + self.base_rule_problems if p.is_error)

    @property
    def failed(self) -> bool:
        return self.errors > 0 or bool(self.blocking_risks)

    def counts(self) -> dict[str, int]:
        out = {"added": 0, "modified": 0, "renamed": 0, "removed": 0}
        for r in self.records:
            out[r.change] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "base_ref": self.base_ref, "base_tip": self.base_tip, "head": self.head,
                "counts": self.counts(), "records": [r.to_dict() for r in self.records],
                "rules": self.rules.to_dict(),
                "other_files": [{"status": f.status, "path": f.path, "old_path": f.old_path} for f in self.other_files],
                "violations": [p.to_dict() for p in self.violations],
                "head_summary": self.head_summary.to_dict() if self.head_summary is not None else None,
                "head_problems": [p.to_dict() for p in self.head_problems],
                "base_rule_problems": [p.to_dict() for p in self.base_rule_problems],
                "blocking_risks": [r.to_dict() for r in self.blocking_risks],
                "impact": self.impact.to_dict()}
