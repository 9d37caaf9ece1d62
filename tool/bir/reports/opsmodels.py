"""Report models of the operational reports: assignments, stock-takes (audits), maintenance, vulnerabilities
and budgets. Plain dataclasses like those of `models.py`: each line names its records and the figure's rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from bir.reports.models import Report, Section, _figure

HOLDING = _figure("assignments.holding", "who holds what now", """
    Every record with an `assigned_to` on the as-of date: the holder (a party, or a location such as a loan
    pool), since when (the current hand-out's `assignment.date`, else the day git first shows this holder),
    and whether the holder accepted it where the assignments policy asks for acceptance.""")
HOLDING_PERIOD = _figure("assignments.history", "who held what when", """
    Each period a record was assigned to one holder, from the git history of `assigned_to` (first-parent
    commits up to the as-of date): from the commit's `assignment.date` (else its commit day) to the next
    change (a return's `assignment.returned_on`, else the next holder's start); an open period lasts to now.""")
HOLDER = _figure("assignments.holder", "what each holder holds and held", """
    Per holder: the records held on the as-of date and those held before (from the history).""")
AUDIT_RESULT = _figure("audits.result", "what a stock-take found", """
    Per audit record: the records present, missing and in the wrong place, and the tags or serial numbers
    seen that match no record (its `results`, as `bir audit` compared the scan with the register).""")
AUDIT_COVERAGE = _figure("audits.coverage", "audit coverage per location", """
    Every facility holding records (located in it or in places part of it): its last completed audit, the
    interval of the audits policy (`audits.interval_days`, by facility type), the next due date and whether
    it is audited (within the interval), due (within 30 days), overdue, or never audited.""")
MAINTENANCE_PLAN = _figure("maintenance.plan", "maintenance due per plan", """
    Per maintenance plan of a record that is not ended (its own, or of a contract that covers it): the last
    entry of the plan's type that passed or was done, the next due date (that entry + the interval, else
    `first_due`, else the start of service + the interval) and its state: overdue, due (within the smallest
    report horizon), scheduled, or unscheduled (no date to count from).""")
MAINTENANCE_COST = _figure("maintenance.cost", "maintenance cost per record", """
    The costs of a record's maintenance log entries dated on or before the as-of date, in base-currency
    cents (entry currency, else the record's, else the base currency); part of the record's TCO.""")
VULNERABILITY = _figure("vulnerabilities.match", "software affected by an advisory", """
    A software record that is not ended whose package (purl type, namespace and name) and version an OSV
    advisory pinned in feeds/osv/ names as affected (an explicit `versions` entry, or a range: introduced <=
    version < fixed, or <= last_affected), else whose CPE vendor, product and version the advisory's CPE names;
    with the advisory's severity (CVSS base score from the vector, else the database's own rating), the
    hosts it is installed on or runs on and the services they support.""")
BUDGET_POSITION = _figure("budget.position", "budget against actuals and forecast", """
    Per budget record (cost centre and year): capital actuals (purchase costs of the cost centre's records
    dated in the year, up to the as-of date), operating actuals (their recurring charges in the year up to
    the as-of date, by the cost report's charge definition, plus maintenance costs), the forecast to the
    year end (future purchases dated in the year, recurring charges to the year end of records not ended),
    and the variance: forecast minus budget (over when positive).""")


# ---------------------------------------------------------------- assignments

@dataclass(frozen=True, slots=True)
class HoldingLine:
    holder: str
    holder_kind: str  # party | facility | unknown
    record: str
    hw_class: str
    since: dt.date | None
    accepted_on: dt.date | None
    acceptance: str  # accepted | missing | not required
    records: tuple[str, ...]
    rule: str = HOLDING


@dataclass(frozen=True, slots=True)
class HoldingPeriodLine:
    record: str
    holder: str
    start: dt.date | None  # None: a current hand-out without a date, and no history to date it
    end: dt.date | None  # None: held now
    days: int | None
    commit: str  # the commit that made the hand-out ("" for the working tree)
    records: tuple[str, ...]
    rule: str = HOLDING_PERIOD


@dataclass(frozen=True, slots=True)
class HolderLine:
    holder: str
    holder_kind: str
    holder_status: str
    holds: int
    held_before: int
    records: tuple[str, ...]  # held now, then held before
    rule: str = HOLDER


@dataclass(slots=True)
class AssignmentReport:
    as_of: dt.date
    history: str  # "git" or "none" (no git history: current holdings only)
    holdings: list[HoldingLine]
    periods: list[HoldingPeriodLine]
    holders: list[HolderLine]
    name: str = "assignments"
    warnings: list[str] = field(default_factory=list)

    def sections(self) -> list[Section]:
        note = "" if self.history == "git" else "no git history: the periods start at the current hand-outs"
        return [
            Section("holdings", "Who holds what now", self.holdings),
            Section("periods", "Who held what when (from the git history of assigned_to)", self.periods, note),
            Section("holders", "Per holder: held now and before", self.holders),
        ]


# ---------------------------------------------------------------- audits

@dataclass(frozen=True, slots=True)
class AuditLine:
    audit: str
    location: str
    date: dt.date | None
    auditor: str
    status: str
    seen: int
    present: int
    missing: int
    wrong_place: int
    unexpected: int
    records: tuple[str, ...]
    rule: str = AUDIT_RESULT


@dataclass(frozen=True, slots=True)
class CoverageLine:
    location: str
    facility_type: str
    holds: int
    last_audit: dt.date | None
    audit: str
    interval_days: int
    next_due: dt.date | None
    days_to_due: int | None
    state: str  # audited | due | overdue | never
    records: tuple[str, ...]
    rule: str = AUDIT_COVERAGE


@dataclass(slots=True)
class AuditReport:
    as_of: dt.date
    audits: list[AuditLine]
    coverage: list[CoverageLine]
    totals: dict[str, Decimal | int] = field(default_factory=dict)  # locations, audited, coverage_pct
    name: str = "audits"
    warnings: list[str] = field(default_factory=list)

    def sections(self) -> list[Section]:
        pct = self.totals.get("coverage_pct")
        return [
            Section("coverage", "Audit coverage per location holding records", self.coverage,
                    f"{self.totals.get('audited', 0)} of {self.totals.get('locations', 0)} locations audited within their interval"
                    + (f" ({pct} %)" if pct is not None else "")),
            Section("audits", "Stock-takes and what they found", self.audits),
        ]


# ---------------------------------------------------------------- maintenance

@dataclass(frozen=True, slots=True)
class MaintenancePlanLine:
    record: str
    kind: str
    type: str
    interval_months: int
    source: str  # "record", or the id of the contract whose plan it is
    last_done: dt.date | None
    last_result: str  # the last entry of the type, whatever its result ("" without one)
    next_due: dt.date | None
    days: int | None
    state: str  # overdue | due | scheduled | unscheduled
    records: tuple[str, ...]
    rule: str = MAINTENANCE_PLAN


@dataclass(frozen=True, slots=True)
class MaintenanceCostLine:
    record: str
    entries: int
    failed: int
    last: dt.date | None
    cost_to_date: Decimal
    records: tuple[str, ...]
    rule: str = MAINTENANCE_COST


@dataclass(slots=True)
class MaintenanceReport:
    as_of: dt.date
    base_currency: str
    plans: list[MaintenancePlanLine]
    costs: list[MaintenanceCostLine]
    totals: dict[str, Decimal | int] = field(default_factory=dict)  # overdue, due, cost_to_date
    name: str = "maintenance"
    warnings: list[str] = field(default_factory=list)

    def sections(self) -> list[Section]:
        return [
            Section("plans", "Maintenance plans: next due date", self.plans,
                    f"{self.totals.get('overdue', 0)} overdue, {self.totals.get('due', 0)} due soon"),
            Section("costs", f"Maintenance carried out and its cost ({self.base_currency})", self.costs,
                    f"total {self.totals.get('cost_to_date', 0)}"),
        ]


# ---------------------------------------------------------------- vulnerabilities

@dataclass(frozen=True, slots=True)
class VulnerabilityLine:
    advisory: str
    aliases: tuple[str, ...]
    severity: str  # critical | high | medium | low | unknown
    score: Decimal | None
    record: str
    package: str
    version: str
    matched_by: str  # purl | cpe
    fixed: str  # the first fixed version after the record's, "" when none is known
    hosts: tuple[str, ...]
    services: tuple[str, ...]
    summary: str
    waived_by: str
    records: tuple[str, ...]
    rule: str = VULNERABILITY


@dataclass(frozen=True, slots=True)
class SoftwareCoverageLine:
    record: str
    identifier: str  # purl | cpe | none
    ecosystem: str  # purl type or cpe part; "" for none
    advisories: int
    records: tuple[str, ...]
    rule: str = VULNERABILITY


@dataclass(slots=True)
class VulnerabilityReport:
    as_of: dt.date
    advisories_pinned: int
    matches: list[VulnerabilityLine]
    waived: list[VulnerabilityLine]
    coverage: list[SoftwareCoverageLine]
    name: str = "vulnerabilities"
    warnings: list[str] = field(default_factory=list)

    def sections(self) -> list[Section]:
        return [
            Section("matches", f"Software affected by the {self.advisories_pinned} pinned advisories", self.matches),
            Section("waived", "Matches silenced by an active waiver (rule software.vulnerable)", self.waived),
            Section("coverage", "Software records and how they can be matched", self.coverage),
        ]


# ---------------------------------------------------------------- budget

@dataclass(frozen=True, slots=True)
class BudgetLine:
    cost_centre: str
    year: int
    budget: str  # the budget record ("" for spend without a budget)
    status: str
    capital_budget: Decimal | None
    capital_actual: Decimal
    capital_forecast: Decimal
    operating_budget: Decimal | None
    operating_actual: Decimal
    operating_forecast: Decimal
    total_budget: Decimal | None
    total_forecast: Decimal
    variance: Decimal | None  # forecast minus budget; None without a budget
    position: str  # over | under | on budget | unbudgeted
    records: tuple[str, ...]
    rule: str = BUDGET_POSITION


@dataclass(slots=True)
class BudgetReport:
    as_of: dt.date
    base_currency: str
    budgets: list[BudgetLine]
    unbudgeted: list[BudgetLine]
    name: str = "budget"
    warnings: list[str] = field(default_factory=list)

    def sections(self) -> list[Section]:
        cur = self.base_currency
        return [
            Section("budgets", f"Budgets against actuals and forecast to the year end ({cur})", self.budgets,
                    "variance = forecast (capital + operating) minus budget; over when positive"),
            Section("unbudgeted", f"Spend in {self.as_of.year} of cost centres without a budget for it ({cur})", self.unbudgeted),
        ]


AnyReport = Report | AssignmentReport | AuditReport | MaintenanceReport | VulnerabilityReport | BudgetReport
