"""The operational reports on the record pages: what a holder holds and held (assignments), a cost centre's
budgets, a record's maintenance plans and the advisories that affect it. Lines are the report models'
own (`bir.reports.opsmodels`), indexed by the record whose page shows them; nothing is computed here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bir.reports.opsmodels import (
    AssignmentReport,
    BudgetLine,
    BudgetReport,
    HoldingPeriodLine,
    MaintenancePlanLine,
    MaintenanceReport,
    VulnerabilityLine,
    VulnerabilityReport,
)


@dataclass(slots=True)
class Operations:
    held: dict[str, list[HoldingPeriodLine]] = field(default_factory=dict)  # holder -> its periods, and record -> its
    budgets: dict[str, list[BudgetLine]] = field(default_factory=dict)  # cost centre -> its budget lines
    maintenance: dict[str, list[MaintenancePlanLine]] = field(default_factory=dict)
    vulnerabilities: dict[str, list[VulnerabilityLine]] = field(default_factory=dict)  # software and hosts

    @classmethod
    def of(cls, reports: Mapping[str, Any]) -> Operations:
        out = cls()
        held: dict[str, list[HoldingPeriodLine]] = defaultdict(list)
        assignments = reports.get("assignments")
        if isinstance(assignments, AssignmentReport):
            for p in assignments.periods:
                held[p.holder].append(p)
                held[p.record].append(p)
        budgets: dict[str, list[BudgetLine]] = defaultdict(list)
        budget = reports.get("budget")
        if isinstance(budget, BudgetReport):
            for b in (*budget.budgets, *budget.unbudgeted):
                budgets[b.cost_centre].append(b)
                if b.budget:
                    budgets[b.budget].append(b)
        maintenance: dict[str, list[MaintenancePlanLine]] = defaultdict(list)
        maint = reports.get("maintenance")
        if isinstance(maint, MaintenanceReport):
            for m in maint.plans:
                maintenance[m.record].append(m)
        vulns: dict[str, list[VulnerabilityLine]] = defaultdict(list)
        vuln = reports.get("vulnerabilities")
        if isinstance(vuln, VulnerabilityReport):
            for v in (*vuln.matches, *vuln.waived):
                for rid in (v.record, *v.hosts):
                    vulns[rid].append(v)
        out.held, out.budgets, out.maintenance, out.vulnerabilities = dict(held), dict(budgets), dict(maintenance), dict(vulns)
        return out

    def for_record(self, rid: str) -> dict[str, Any]:
        """The template variables of one record page."""
        return {"held": self.held.get(rid, []), "budgets": self.budgets.get(rid, []),
                "maintenance": self.maintenance.get(rid, []), "vulnerabilities": self.vulnerabilities.get(rid, [])}
