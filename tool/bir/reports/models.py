"""Report models: plain dataclasses, one per report, whose lines each name the records and rule behind them.

The site, the change impact and `bir report` use these same values; `render.py` only formats them. A
report is a list of sections; a section is a titled list of lines (dataclasses of one type).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    title: str
    lines: list[Any]
    note: str = ""


# ---------------------------------------------------------------- lifecycle

@dataclass(frozen=True, slots=True)
class CountLine:
    kind: str
    state: str
    count: int
    records: tuple[str, ...]
    rule: str = "lifecycle.count"


@dataclass(frozen=True, slots=True)
class AgeLine:
    kind: str
    age: str  # bucket: "<1y", "1-2y", ... "5y+", "unknown"
    count: int
    records: tuple[str, ...]
    rule: str = "lifecycle.age"


@dataclass(frozen=True, slots=True)
class EventLine:
    date: dt.date
    days: int
    horizon: int  # the smallest configured horizon (days) containing the event
    event: str
    record: str
    kind: str
    detail: str
    records: tuple[str, ...]
    rule: str


@dataclass(frozen=True, slots=True)
class RefreshLine:
    quarter: str  # "2027-Q1", or "overdue"
    record: str
    hw_class: str
    reason: str
    date: dt.date
    replacement_cost: Decimal | None  # base currency; None when the record has no purchase cost
    records: tuple[str, ...]
    rule: str = "lifecycle.refresh"


@dataclass(frozen=True, slots=True)
class ReuseLine:
    record: str
    hw_class: str
    end_of_useful_life: dt.date | None
    end_of_support: dt.date | None
    book_value: Decimal | None
    records: tuple[str, ...]
    rule: str = "lifecycle.reuse_candidate"


@dataclass(frozen=True, slots=True)
class RetirementLine:
    record: str
    kind: str
    hw_class: str
    reasons: tuple[str, ...]
    book_value: Decimal | None
    records: tuple[str, ...]
    rule: str = "lifecycle.retirement_candidate"


@dataclass(slots=True)
class LifecycleReport:
    as_of: dt.date
    horizons: tuple[int, ...]
    counts: list[CountLine]
    ages: list[AgeLine]
    events: list[EventLine]
    refresh: list[RefreshLine]
    reuse: list[ReuseLine]
    retirement: list[RetirementLine]
    name: str = "lifecycle"

    def sections(self) -> list[Section]:
        h = "/".join(str(d) for d in self.horizons)
        return [
            Section("counts", "Records by kind and state", self.counts),
            Section("ages", "Age distribution (since in service, else purchase)", self.ages),
            Section("events", f"Upcoming events within {h} days", self.events),
            Section("refresh", "Refresh plan by quarter", self.refresh),
            Section("reuse", "Reuse candidates (in stock, supported, within useful life)", self.reuse),
            Section("retirement", "Retirement candidates", self.retirement),
        ]


# ---------------------------------------------------------------- cost

@dataclass(frozen=True, slots=True)
class RateLine:
    currency: str
    rate: Decimal
    base: str
    date: dt.date | None
    rule: str = "cost.exchange_rate"


@dataclass(frozen=True, slots=True)
class DepreciationLine:
    record: str
    method: str
    currency: str
    cost: Decimal
    residual: Decimal
    life_months: int
    start: dt.date
    accumulated: Decimal
    book_value: Decimal
    book_value_base: Decimal
    fully_depreciated_on: dt.date | None
    records: tuple[str, ...]
    rule: str = "cost.depreciation"


@dataclass(frozen=True, slots=True)
class CapitalLine:
    year: int
    amount: Decimal
    count: int
    records: tuple[str, ...]
    rule: str = "cost.capital"


@dataclass(frozen=True, slots=True)
class RunCostLine:
    by: str  # service | cost_centre | owner | kind
    key: str
    annual: Decimal
    records: tuple[str, ...]
    rule: str = "cost.run"


@dataclass(frozen=True, slots=True)
class TcoLine:
    record: str
    kind: str
    purchase: Decimal
    recurring_to_date: Decimal
    planned: Decimal
    total: Decimal
    records: tuple[str, ...]
    rule: str = "cost.tco"


@dataclass(frozen=True, slots=True)
class ServiceTcoLine:
    service: str
    total: Decimal
    components: int
    shared: int  # components shared with other services (their cost is split)
    records: tuple[str, ...]
    rule: str = "cost.tco_service"


@dataclass(frozen=True, slots=True)
class ForecastLine:
    category: str  # recurring | renewal | replacement
    record: str
    next_12_months: Decimal
    next_36_months: Decimal
    detail: str
    records: tuple[str, ...]
    rule: str = "cost.forecast"


@dataclass(slots=True)
class CostReport:
    as_of: dt.date
    base_currency: str
    rates: list[RateLine]
    depreciation: list[DepreciationLine]
    capital: list[CapitalLine]
    run: list[RunCostLine]
    tco: list[TcoLine]
    tco_services: list[ServiceTcoLine]
    forecast: list[ForecastLine]
    forecast_totals: dict[str, Decimal] = field(default_factory=dict)
    name: str = "cost"

    def sections(self) -> list[Section]:
        cur = self.base_currency
        return [
            Section("rates", f"Exchange rates to {cur}", self.rates),
            Section("depreciation", f"Depreciation and book value (record currency; base {cur})", self.depreciation),
            Section("capital", f"Capital spend per year ({cur})", self.capital),
            Section("run", f"Annual run cost ({cur}) by service, cost centre, owner and kind", self.run,
                    "a component supporting several services is split equally between them"),
            Section("tco", f"Total cost of ownership per record ({cur})", self.tco),
            Section("tco_services", f"Total cost of ownership per service ({cur})", self.tco_services,
                    "each component counted once: its cost split equally over the services it supports"),
            Section("forecast", f"Spend forecast ({cur})", self.forecast,
                    "totals: " + ", ".join(f"{k} {v}" for k, v in self.forecast_totals.items())),
        ]


# ---------------------------------------------------------------- risk

@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str  # high | medium | low
    record: str
    message: str
    hint: str
    records: tuple[str, ...]
    services: tuple[str, ...]
    waived_by: str = ""
    waiver_note: str = ""


@dataclass(frozen=True, slots=True)
class ServiceRisk:
    service: str
    criticality: str
    score: int
    findings: int
    rules: tuple[str, ...]
    records: tuple[str, ...]
    rule: str = "risk.score"


@dataclass(frozen=True, slots=True)
class ComplianceLine:
    rule: str
    severity: str
    scope: int
    failing: int
    waived: int
    compliant_pct: Decimal
    summary: str


@dataclass(slots=True)
class RiskReport:
    as_of: dt.date
    findings: list[Finding]
    waived: list[Finding]
    services: list[ServiceRisk]
    compliance: list[ComplianceLine]
    name: str = "risk"

    def sections(self) -> list[Section]:
        return [
            Section("findings", "Findings", self.findings),
            Section("waived", "Findings silenced by an active waiver", self.waived),
            Section("services", "Risk score per service", self.services,
                    "score = sum of severity weights (high 5, medium 3, low 1) of the open findings touching the service"),
            Section("compliance", "Rules: % compliant over their scope", self.compliance),
        ]


# ---------------------------------------------------------------- licences

@dataclass(frozen=True, slots=True)
class LicencePosition:
    licence: str
    product: str
    metric: str
    quantity: int
    consumption: int
    position: str  # compliant | over | under
    excess: int
    unused: int
    unit_cost: Decimal | None
    true_up_cost: Decimal | None
    waste: Decimal | None
    records: tuple[str, ...]  # the consumers
    rule: str = "licence.position"


@dataclass(slots=True)
class LicenceReport:
    as_of: dt.date
    base_currency: str
    positions: list[LicencePosition]
    name: str = "licences"

    def sections(self) -> list[Section]:
        return [Section("positions", f"Licence position per metric ({self.base_currency})", self.positions)]


# ---------------------------------------------------------------- decisions

@dataclass(frozen=True, slots=True)
class DecisionLine:
    record: str
    hw_class: str
    reasons: tuple[str, ...]
    reuse_candidates: tuple[str, ...]
    replace_cost: Decimal | None
    keep_cost_per_year: Decimal
    recommendation: str  # reuse | replace | keep | retire
    why: str
    records: tuple[str, ...]
    rule: str = "decision.retire_reuse_replace"


@dataclass(slots=True)
class DecisionReport:
    as_of: dt.date
    base_currency: str
    decisions: list[DecisionLine]
    name: str = "decisions"

    def sections(self) -> list[Section]:
        return [Section("decisions", f"Purchase / reuse / retire decisions ({self.base_currency})", self.decisions)]


Report = LifecycleReport | CostReport | RiskReport | LicenceReport | DecisionReport
