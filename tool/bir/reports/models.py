"""Report models: plain dataclasses, one per report, whose lines each name the records and rule behind them.

The site, the change impact and `bir report` use these same values; `render.py` only formats them. A
report is a list of sections; a section is a titled list of lines (dataclasses of one type).

Over 400 lines on purpose: every report's model in one module, the one list of the shapes every view
renders (dataclasses only, no logic).
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
    support and end of life (`overdue` when already past), up to three years ahead, with the plan's decision
    for it (the one the decisions report and the forecast use) and the replacement price.""")
REUSE = _figure("lifecycle.reuse_candidate", "hardware that can be reused", """
    Hardware in stock that is still supported (not past end of support or life) and within its useful life.""")
RETIREMENT = _figure("lifecycle.retirement_candidate", "records to consider retiring", """
    In-service hardware or software past its useful life, end of life or end of support, or fully
    depreciated.""")
EXCHANGE_RATE = _figure("cost.exchange_rate", "the exchange rates the figures use", """
    The configured rate of each currency to the base currency (`exchange_rates` in bir.yaml), with its date.""")
DEPRECIATION = _figure("cost.depreciation", "depreciation and book value", """
    Accumulated depreciation and book value on the as-of date by the record's method (straight line,
    declining balance, none) over its useful life, by its conventions (`convention`: the booking period,
    the first period's proration, the fiscal year end, the preset): the charges booked by the end of that
    day. A record disposed of, lost or stolen has no book value.""")
DEPRECIATION_YEAR = _figure("cost.depreciation_schedule", "depreciation charge per fiscal year", """
    Each depreciated record's charge schedule by fiscal year (ending on its `fiscal_year_end`): the book
    value at the start of the year, the charges booked in it and the book value at its end, in the
    record's currency. The book value on any day is read from the same schedule.""")
CAPITAL = _figure("cost.capital", "capital spend per year", "Purchase costs (base currency) by the year of `financial.purchase_date`.")
RUN = _figure("cost.run", "annual run cost", """
    Recurring costs in force on the as-of date, of records that are not ended, per year (monthly x 12,
    quarterly x 4), in base-currency cents each, by service, cost centre, owner and kind. A component of
    several services is split equally between them (remainder cents to the first): the service lines add up
    to the register's total, with "(no service)" for cost outside any service.""")
TCO = _figure("cost.tco", "total cost of ownership per record", """
    Purchase cost + recurring charges from the start to the as-of date + planned recurring charges up to the
    cost's end (else the end of useful life, else 36 months ahead). A record that has ended (retired,
    disposed, expired...) is charged nothing from the day it ended (`ended`) and plans nothing. `since`
    and `until` are the period the line covers. Plus the costs of the maintenance log
    entries dated on or before the as-of date (`maintenance`).""")
TCO_SERVICE = _figure("cost.tco_service", "total cost of ownership per service", """
    The TCO of a service's components, each split equally over the services it serves (as run cost is).""")
FORECAST = _figure("cost.forecast", "spend forecast", """
    Charges in the next 12 and 36 months: recurring costs, contract renewals (auto-renewing or decided to
    renew), and replacements of in-service hardware the plan replaces: now, where the decision is replace,
    else on its replacement date; priced from the dated catalogue (else the historical purchase price, said
    so). Hardware the plan reuses a spare for or keeps is not bought.""")
SCORE = _figure("risk.score", "risk score per service", """
    The sum of the severity weights (high 5, medium 3, low 1) of the open findings touching the service.""")
LICENCE_POSITION = _figure("licence.position", "licence position", """
    Consumption against entitlement per active licence, counted by its metric (devices, cores, people for
    per-user and subscription seats, sites; concurrent use only when declared), or the declared, dated
    consumption with its source where the licence has one: over (consumption above quantity, with its
    true-up cost), under (unused entitlement, with its value), compliant, or unknown.""")
DECISION = _figure("decision.retire_reuse_replace", "purchase, reuse or retire", """
    One decision per component that needs one, from one plan: in-service hardware retirement candidates
    reuse the one spare allocated to them (each spare offered once), are replaced (out of support, or
    keeping costs more per year than a replacement depreciates; priced from the dated catalogue) or kept;
    software past its support is upgraded, or gets extended support (kept while bought extended support
    runs); licences are trued up, reduced or cancelled before their notice deadline; cloud services that
    serve nothing are cancelled before theirs.""")


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
    replacement_cost: Decimal | None  # base currency (the catalogue's price, else the purchase price); None: no price
    decision: str  # the plan's: replace (when due), reuse, keep (see the decisions report)
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
    decision: str  # the decisions report's recommendation for it
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
    convention: str  # the booking period, first-period proration, fiscal year end and preset, in words
    records: tuple[str, ...]
    rule: str = DEPRECIATION


@dataclass(frozen=True, slots=True)
class DepreciationYearLine:
    record: str
    fiscal_year: int  # the calendar year the fiscal year ends in
    start: dt.date
    end: dt.date
    currency: str
    opening: Decimal  # book value at the start of the fiscal year
    charge: Decimal  # depreciation booked in it
    closing: Decimal  # book value at its end
    records: tuple[str, ...]
    rule: str = DEPRECIATION_YEAR


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
    since: dt.date | None  # the first day the line counts (purchase, else the first charge)
    until: dt.date | None  # the last day it counts: the as-of date, or the end of the planned charges
    ended: dt.date | None  # the day the record ended (nothing is charged from then), when it has
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
    depreciation_years: list[DepreciationYearLine] = field(default_factory=list)

    def sections(self) -> list[Section]:
        cur = self.base_currency
        return [
            Section("rates", f"Exchange rates to {cur}", self.rates),
            Section("depreciation", f"Depreciation and book value (record currency; base {cur})", self.depreciation),
            Section("depreciation_years", "Depreciation charge per fiscal year (record currency)", self.depreciation_years,
                    "the schedule the book value on any day is read from"),
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
    consumption_source: str  # how consumption was counted ("devices", "people", "declared <date>: <source>")
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
    recommendation: str  # reuse | replace | keep | upgrade | extend_support | true_up | reduce | cancel
    why: str
    kind: str
    deadline: dt.date | None  # the last day to act (a notice deadline), when there is one
    price_source: str  # where replace_cost comes from: the catalogue entry and its date, or a historical price
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
