"""Report models: plain dataclasses, one per report, whose lines each name the records and rule behind them.

The site, the change impact and `bir report` use these same values; `render.py` only formats them. A
report is a list of sections; a section is a titled list of lines (dataclasses of one type).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bir.base.rules import define


def _figure(rule_id: str, summary: str, doc: str) -> str:
    """Declare the definition of a report line (a figure); lines carry its id in their `rule` field."""
    return define(rule_id, "info", "figure", summary, doc).id


COUNT = _figure("lifecycle.count", "records by kind and state", "Every record counted once, by kind and status.")
AGE = _figure("lifecycle.age", "age of the records that are not ended", """
    Years since the start of service (`status_dates.in_use` or `.active`), else since purchase, in buckets
    <1y, 1-2y, ... 5y+ (`unknown` without either date), for hardware, software, licences, cloud services and
    networks that are not ended.""")
REFRESH = _figure("lifecycle.refresh", "refresh plan by quarter", """
    In-service hardware by the quarter of its replacement date: the earliest of end of useful life, end of
    support and end of life (`overdue` when already past), up to three years ahead.""")
REUSE = _figure("lifecycle.reuse_candidate", "hardware that can be reused", """
    Hardware in stock that is still supported (not past end of support or life) and within its useful life.""")
RETIREMENT = _figure("lifecycle.retirement_candidate", "records to consider retiring", """
    In-service hardware or software past its useful life, end of life or end of support, or fully
    depreciated.""")
EXCHANGE_RATE = _figure("cost.exchange_rate", "the exchange rates the figures use", """
    The configured rate of each currency to the base currency (`exchange_rates` in bir.yaml), with its date.""")
DEPRECIATION = _figure("cost.depreciation", "depreciation and book value", """
    Accumulated depreciation and book value on the as-of date by the record's method (straight line,
    declining balance, none) over its useful life; a record disposed of, lost or stolen has no book value.""")
CAPITAL = _figure("cost.capital", "capital spend per year", "Purchase costs (base currency) by the year of `financial.purchase_date`.")
RUN = _figure("cost.run", "annual run cost", """
    Recurring costs in force on the as-of date, of records that are not ended, per year (monthly x 12,
    quarterly x 4), in base-currency cents each, by service, cost centre, owner and kind. A component of
    several services is split equally between them (remainder cents to the first): the service lines add up
    to the register's total, with "(no service)" for cost outside any service.""")
TCO = _figure("cost.tco", "total cost of ownership per record", """
    Purchase cost + recurring charges from the start to the as-of date + planned recurring charges up to the
    cost's end (else the end of useful life, else 36 months ahead) + the costs of the maintenance log entries
    dated on or before the as-of date.""")
TCO_SERVICE = _figure("cost.tco_service", "total cost of ownership per service", """
    The TCO of a service's components, each split equally over the services it serves (as run cost is).""")
FORECAST = _figure("cost.forecast", "spend forecast", """
    Charges in the next 12 and 36 months: recurring costs, contract renewals (auto-renewing or decided to
    renew), and replacements of in-service hardware reaching its replacement date (at its purchase cost).""")
SCORE = _figure("risk.score", "risk score per service", """
    The sum of the severity weights (high 5, medium 3, low 1) of the open findings touching the service.""")
LICENCE_POSITION = _figure("licence.position", "licence position", """
    Consumption against entitlement per active licence: over (consumption above quantity, with its true-up
    cost), under (unused entitlement, with its value) or compliant.""")
DECISION = _figure("decision.retire_reuse_replace", "purchase, reuse or retire", """
    For each in-service hardware retirement candidate: reuse a spare of the same class, replace it (out of
    support, or keeping costs more per year than a replacement depreciates), or keep it.""")


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
    rule: str = COUNT


@dataclass(frozen=True, slots=True)
class AgeLine:
    kind: str
    age: str  # bucket: "<1y", "1-2y", ... "5y+", "unknown"
    count: int
    records: tuple[str, ...]
    rule: str = AGE


@dataclass(frozen=True, slots=True)
class EventLine:
    date: dt.date
    days: int
    horizon: int  # the smallest configured horizon (days) containing the event
    event: str
    category: str  # deadline (something ends or must be acted on) | reminder (a check or planning milestone)
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
    rule: str = REFRESH


@dataclass(frozen=True, slots=True)
class ReuseLine:
    record: str
    hw_class: str
    end_of_useful_life: dt.date | None
    end_of_support: dt.date | None
    book_value: Decimal | None
    records: tuple[str, ...]
    rule: str = REUSE


@dataclass(frozen=True, slots=True)
class RetirementLine:
    record: str
    kind: str
    hw_class: str
    reasons: tuple[str, ...]
    book_value: Decimal | None
    records: tuple[str, ...]
    rule: str = RETIREMENT


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
    warnings: list[str] = field(default_factory=list)  # what opening the register found (no commit that day, ...)

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
    rule: str = EXCHANGE_RATE


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
    rule: str = DEPRECIATION


@dataclass(frozen=True, slots=True)
class CapitalLine:
    year: int
    amount: Decimal
    count: int
    records: tuple[str, ...]
    rule: str = CAPITAL


@dataclass(frozen=True, slots=True)
class RunCostLine:
    by: str  # service | cost_centre | owner | kind
    key: str
    annual: Decimal
    records: tuple[str, ...]
    rule: str = RUN


@dataclass(frozen=True, slots=True)
class TcoLine:
    record: str
    kind: str
    purchase: Decimal
    recurring_to_date: Decimal
    planned: Decimal
    maintenance: Decimal  # maintenance log costs to the as-of date
    total: Decimal
    records: tuple[str, ...]
    rule: str = TCO


@dataclass(frozen=True, slots=True)
class ServiceTcoLine:
    service: str
    total: Decimal
    components: int
    shared: int  # components shared with other services (their cost is split)
    records: tuple[str, ...]
    rule: str = TCO_SERVICE


@dataclass(frozen=True, slots=True)
class ForecastLine:
    category: str  # recurring | renewal | replacement
    record: str
    next_12_months: Decimal
    next_36_months: Decimal
    detail: str
    records: tuple[str, ...]
    rule: str = FORECAST


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
    totals: dict[str, Decimal] = field(default_factory=dict)  # annual_run_cost, book_value, capital (all years)
    name: str = "cost"
    warnings: list[str] = field(default_factory=list)  # what opening the register found (no commit that day, ...)

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
    rule: str = SCORE


@dataclass(frozen=True, slots=True)
class ComplianceLine:
    rule: str
    severity: str
    scope: int
    failing: int
    waived: int
    compliant_pct: Decimal | None  # None when the scope is empty: nothing was checked, so nothing is compliant
    summary: str


@dataclass(slots=True)
class RiskReport:
    as_of: dt.date
    findings: list[Finding]
    waived: list[Finding]
    services: list[ServiceRisk]
    compliance: list[ComplianceLine]
    name: str = "risk"
    warnings: list[str] = field(default_factory=list)  # what opening the register found (no commit that day, ...)

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
    rule: str = LICENCE_POSITION


@dataclass(slots=True)
class LicenceReport:
    as_of: dt.date
    base_currency: str
    positions: list[LicencePosition]
    name: str = "licences"
    warnings: list[str] = field(default_factory=list)  # what opening the register found (no commit that day, ...)

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
    rule: str = DECISION


@dataclass(slots=True)
class DecisionReport:
    as_of: dt.date
    base_currency: str
    decisions: list[DecisionLine]
    name: str = "decisions"
    warnings: list[str] = field(default_factory=list)  # what opening the register found (no commit that day, ...)

    def sections(self) -> list[Section]:
        return [Section("decisions", f"Purchase / reuse / retire decisions ({self.base_currency})", self.decisions)]


Report = LifecycleReport | CostReport | RiskReport | LicenceReport | DecisionReport
