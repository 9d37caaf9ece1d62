"""The figures every page and every command shows, per record, service, party and location: read from the
report models and the shared context, never computed a second way.

- A record's book value is its `cost.depreciation` line's (base currency); records whose method is `none`
  have none. Its annual run cost is the `cost.run` definition for that record alone (shared or not), its
  TCO the `cost.tco` line's, its end of support and life the lifecycle dates (record, else feed).
- A service's annual run cost and TCO are its share of its components' (split equally over the services
  each component serves), exactly its `cost.run` and `cost.tco_service` lines; the full figures beside them
  count every component in full and are labelled so. Its components and single points of failure are the
  dependency graph's (`bir.reports.graph`).
- A party's figures are the cost report's lines by owner and by cost centre; a location holds what is
  located in it or in the places that are part of it.
- The summary (the dashboard) counts records, the components in service (parties and waivers are never in
  service), and the deadlines and reminders due in the next 90 days apart.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bir.base.model import ADMINISTRATIVE_KINDS
from bir.reports.context import Context, annual_run_cost, purchase_base
from bir.reports.models import CostReport, Finding, LicencePosition, LicenceReport, LifecycleReport, RiskReport
from bir.reports.money import ZERO

if TYPE_CHECKING:
    from bir.reports.models import DecisionReport

DUE_DAYS = 90  # the dashboard's window for deadlines and reminders
NOT_IN_SERVICE_KINDS = ADMINISTRATIVE_KINDS  # records that are never in service


@dataclass(frozen=True, slots=True)
class RecordFigures:
    record: str
    book_value: Decimal | None  # base currency; None: not depreciated (no schedule, or method none)
    purchase_cost: Decimal | None  # base currency
    annual_run_cost: Decimal  # base currency, the record's own (not split over services)
    tco: Decimal | None
    end_of_support: dt.date | None
    end_of_life: dt.date | None
    life_source: str
    days_to_end_of_support: int | None
    services: tuple[str, ...]  # the services it is a component of
    single_point_of_failure_for: tuple[str, ...]
    findings: tuple[Finding, ...]  # open risk findings about it
    licence: LicencePosition | None


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    service: str
    components: tuple[str, ...]
    shared: int  # components that also serve other services
    annual_run_cost: Decimal  # its share: the cost.run line by service
    annual_run_cost_full: Decimal  # every component's run cost in full
    tco: Decimal  # its share: the cost.tco_service line
    book_value_full: Decimal  # every component's book value in full
    single_points_of_failure: tuple[str, ...]
    findings: tuple[Finding, ...]  # open findings touching it
    risk_score: int | None


@dataclass(frozen=True, slots=True)
class PartyFigures:
    party: str
    owns: tuple[str, ...]
    holds: tuple[str, ...]  # assigned to it
    pays_for: tuple[str, ...]  # records whose financial.cost_centre it is
    annual_run_cost_owned: Decimal  # the cost.run line by owner
    annual_run_cost_paid: Decimal  # the cost.run line by cost centre
    book_value_paid: Decimal  # book value of what it pays for
    members: tuple[str, ...]  # parties that are member_of it


@dataclass(frozen=True, slots=True)
class LocationFigures:
    location: str
    holds: tuple[str, ...]  # records located in it or in a place that is part of it (not the places themselves)
    places: tuple[str, ...]  # facilities that are part of it, at any depth
    book_value: Decimal


@dataclass(frozen=True, slots=True)
class Summary:
    records: int
    by_kind: dict[str, int]
    components: int  # records that can be in service (parties and waivers cannot)
    in_service: int  # of those, in service on the as-of date
    annual_run_cost: Decimal
    book_value: Decimal
    open_risks: dict[str, int]  # severity -> findings
    deadlines_due: int  # deadline events in the next DUE_DAYS days
    reminders_due: int  # reminder events (verification, end of useful life) in the next DUE_DAYS days


@dataclass(slots=True)
class Figures:
    records: dict[str, RecordFigures]
    services: dict[str, ServiceFigures]
    parties: dict[str, PartyFigures]
    locations: dict[str, LocationFigures]
    summary: Summary


def figures(ctx: Context, reports: Mapping[str, Any]) -> Figures:
    """Every figure of every record, service, party and location, from the reports over `ctx`."""
    cost, risk, lic, life = reports["cost"], reports["risk"], reports["licences"], reports["lifecycle"]
    assert isinstance(cost, CostReport) and isinstance(risk, RiskReport)
    assert isinstance(lic, LicenceReport) and isinstance(life, LifecycleReport)
    config, as_of, graph = ctx.register.config, ctx.as_of, ctx.graph
    book = {d.record: d.book_value_base for d in cost.depreciation}
    tco = {t.record: t.total for t in cost.tco}
    licences = {p.licence: p for p in lic.positions}
    by_record: dict[str, list[Finding]] = defaultdict(list)
    by_service: dict[str, list[Finding]] = defaultdict(list)
    for f in risk.findings:
        by_record[f.record].append(f)
        for sid in f.services:
            by_service[sid].append(f)
    spof = {sid: graph.single_points_of_failure(sid) for sid in graph.components_of}
    spof_for: dict[str, list[str]] = defaultdict(list)
    for sid, comps in spof.items():
        for c in comps:
            spof_for[c].append(sid)
    run: dict[str, Decimal] = {}
    records: dict[str, RecordFigures] = {}
    for rec in ctx.register:
        annual = annual_run_cost(rec, config, as_of)
        run[rec.id] = annual
        lifedates = ctx.life(rec)
        eos = lifedates.eos or lifedates.eol
        records[rec.id] = RecordFigures(
            rec.id, book.get(rec.id), purchase_base(rec, config), annual, tco.get(rec.id), lifedates.eos, lifedates.eol,
            lifedates.source, None if eos is None else (eos - as_of).days, ctx.services_of.get(rec.id, ()),
            tuple(spof_for.get(rec.id, ())), tuple(by_record.get(rec.id, ())), licences.get(rec.id))
    run_lines = {(line.by, line.key): line.annual for line in cost.run}
    tco_lines = {t.service: t.total for t in cost.tco_services}
    scores = {s.service: s.score for s in risk.services}
    services: dict[str, ServiceFigures] = {}
    for sid, members in graph.components_of.items():
        comps = tuple(members)
        services[sid] = ServiceFigures(
            sid, comps, sum(1 for c in comps if len(ctx.services_of.get(c, ())) > 1),
            run_lines.get(("service", sid), ZERO), sum((run[c] for c in comps), ZERO), tco_lines.get(sid, ZERO),
            sum((book.get(c) or ZERO for c in comps), ZERO), spof[sid], tuple(by_service.get(sid, ())), scores.get(sid))
    parties = _parties(ctx, run_lines, book)
    locations = _locations(ctx, book)
    return Figures(records, services, parties, locations, _summary(ctx, cost, risk, life))


def _parties(ctx: Context, run_lines: Mapping[tuple[str, str], Decimal], book: Mapping[str, Decimal]) -> dict[str, PartyFigures]:
    owns: dict[str, list[str]] = defaultdict(list)
    holds: dict[str, list[str]] = defaultdict(list)
    pays: dict[str, list[str]] = defaultdict(list)
    members: dict[str, list[str]] = defaultdict(list)
    for rec in ctx.register:
        if rec.owner and rec.owner != rec.id:
            owns[rec.owner].append(rec.id)
        holder = rec.data.get("assigned_to")
        if isinstance(holder, str):
            holds[holder].append(rec.id)
        centre = rec.get("financial.cost_centre")
        if isinstance(centre, str):
            pays[centre].append(rec.id)
        for rel in ctx.relations(rec):
            if rel.type == "member_of":
                members[rel.target].append(rec.id)
    out: dict[str, PartyFigures] = {}
    for party in ctx.of_kind("party"):
        pid = party.id
        paid = sorted(pays.get(pid, ()))
        out[pid] = PartyFigures(pid, tuple(sorted(owns.get(pid, ()))), tuple(sorted(holds.get(pid, ()))), tuple(paid),
                                run_lines.get(("owner", pid), ZERO), run_lines.get(("cost_centre", pid), ZERO),
                                sum((book.get(r) or ZERO for r in paid), ZERO), tuple(sorted(members.get(pid, ()))))
    return out


def location_holdings(ctx: Context) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Facility -> (the records located in it or in a place that is part of it, not the places themselves;
    the facilities part of it at any depth): the one definition of what a location holds."""
    inside: dict[str, list[str]] = defaultdict(list)  # place -> records located directly in it
    parts: dict[str, list[str]] = defaultdict(list)  # place -> facilities part_of it
    for rec in ctx.register:
        for rel in ctx.relations(rec):
            if rel.type == "located_in":
                inside[rel.target].append(rec.id)
            elif rel.type == "part_of" and rec.kind == "facility":
                parts[rel.target].append(rec.id)
    out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for place in ctx.of_kind("facility"):
        places: set[str] = set()
        stack = [place.id]
        while stack:
            for sub in parts.get(stack.pop(), ()):
                if sub not in places and sub != place.id:
                    places.add(sub)
                    stack.append(sub)
        held = sorted({r for p in (place.id, *places) for r in inside.get(p, ())} - places - {place.id})
        out[place.id] = (tuple(held), tuple(sorted(places)))
    return out


def _locations(ctx: Context, book: Mapping[str, Decimal]) -> dict[str, LocationFigures]:
    return {pid: LocationFigures(pid, held, places, sum((book.get(r) or ZERO for r in held), ZERO))
            for pid, (held, places) in location_holdings(ctx).items()}


def _summary(ctx: Context, cost: CostReport, risk: RiskReport, life: LifecycleReport) -> Summary:
    by_kind = Counter(r.kind for r in ctx.register)
    components = [r for r in ctx.register if r.kind not in NOT_IN_SERVICE_KINDS]
    due = [e for e in life.events if 0 <= e.days <= DUE_DAYS]
    return Summary(
        len(ctx.register), dict(sorted(by_kind.items())), len(components), sum(1 for r in components if ctx.in_service(r)),
        cost.totals.get("annual_run_cost", ZERO), cost.totals.get("book_value", ZERO),
        {s: sum(1 for f in risk.findings if f.severity == s) for s in ("high", "medium", "low")},
        sum(1 for e in due if e.category == "deadline"), sum(1 for e in due if e.category == "reminder"))


# ---------------------------------------------------------------- chart figures
# What the site's charts show, each an aggregate of the figures above or of report lines, defined once here.

SUPPORT_QUARTERS = 12  # the end-of-support chart: this quarter and the eleven after it (three years)


@dataclass(frozen=True, slots=True)
class Tally:
    """One bar of a chart: its key, an amount per series (a count, or a base-currency amount) and its records."""

    key: str
    values: tuple[tuple[str, Decimal], ...]  # (series, amount), in the series order of the chart
    records: tuple[str, ...]

    @property
    def total(self) -> Decimal:
        return sum((v for _, v in self.values), ZERO)


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def support_ends_by_quarter(ctx: Context, figs: Figures, quarters: int = SUPPORT_QUARTERS) -> list[Tally]:
    """In-service records by the quarter their support ends (end of support, else end of life): every quarter
    from the as-of date's to `quarters` - 1 after it, plus `overdue` first (already ended, still in service)."""
    start = ctx.as_of.year * 4 + (ctx.as_of.month - 1) // 3
    keys = [f"{(start + i) // 4}-Q{(start + i) % 4 + 1}" for i in range(quarters)]
    found: dict[str, list[str]] = {k: [] for k in ("overdue", *keys)}
    for rid, f in figs.records.items():
        day = f.end_of_support or f.end_of_life
        rec = ctx.register.records.get(rid)
        if day is None or rec is None or not ctx.in_service(rec):
            continue
        key = "overdue" if day < ctx.as_of else quarter_of(day)
        if key in found:
            found[key].append(rid)
    if not found["overdue"]:
        del found["overdue"]
    return [Tally(k, (("records", Decimal(len(v))),), tuple(sorted(v))) for k, v in found.items()]


FORECAST_CATEGORIES = ("recurring", "renewal", "replacement")


def forecast_by_category(cost: CostReport) -> list[Tally]:
    """The spend forecast's two windows stacked by category: one tally per window (next 12 / 36 months),
    each with the sum of the forecast lines of every category; the totals are `cost.forecast_totals`."""
    out = []
    for window in ("next_12_months", "next_36_months"):
        sums = dict.fromkeys(FORECAST_CATEGORIES, ZERO)
        records: set[str] = set()
        for line in cost.forecast:
            amount = getattr(line, window)
            sums[line.category] = sums.get(line.category, ZERO) + amount
            if amount:
                records.add(line.record)
        out.append(Tally(window, tuple(sums.items()), tuple(sorted(records))))
    return out


def capital_by_year(cost: CostReport, years: int = 8) -> list[Tally]:
    """Purchases (capital spend) of the last `years` years that had any: the `cost.capital` lines."""
    lines = sorted(cost.capital, key=lambda c: c.year)[-years:]
    return [Tally(str(c.year), (("purchases", c.amount),), c.records) for c in lines]


def book_value_by_class(ctx: Context, cost: CostReport) -> list[Tally]:
    """Book value (base currency) by asset class: the hardware class for hardware, else the kind; largest first."""
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    records: dict[str, list[str]] = defaultdict(list)
    for d in cost.depreciation:
        rec = ctx.register.records.get(d.record)
        if rec is None:
            continue
        key = (ctx.hw_class(rec) or "hardware") if rec.kind == "hardware" else rec.kind.replace("_", " ")
        sums[key] += d.book_value_base
        records[key].append(d.record)
    order = sorted(sums, key=lambda k: (-sums[k], k))
    return [Tally(k, (("book value", sums[k]),), tuple(sorted(records[k]))) for k in order]


SEVERITY_ORDER = ("high", "medium", "low")


def risk_by_service(figs: Figures, limit: int = 15) -> list[Tally]:
    """Open findings per service by severity, the services with the highest risk score first (`limit` of them).
    The services are ranked first and only those shown are counted: a large register's services have millions
    of findings between them."""
    top = heapq.nsmallest(limit, ((-(sf.risk_score or 0), sid) for sid, sf in figs.services.items() if sf.findings))
    out = []
    for _score, sid in top:
        findings = figs.services[sid].findings
        counts = Counter(f.severity for f in findings)
        out.append(Tally(sid, tuple((s, Decimal(counts.get(s, 0))) for s in SEVERITY_ORDER),
                         tuple(sorted({f.record for f in findings}))))
    return out


def licence_use(lic: LicenceReport) -> list[Tally]:
    """Per licence: the consumption within the entitlement, the unused entitlement and the excess over it."""
    out = []
    for p in lic.positions:
        used = min(p.consumption, p.quantity)
        out.append(Tally(p.licence, (("used", Decimal(used)), ("unused", Decimal(p.unused)), ("over", Decimal(p.excess))),
                         p.records))
    return out


def decisions_by_recommendation(dec: DecisionReport) -> list[Tally]:
    """Retirement candidates by recommendation (reuse, replace, keep, retire)."""
    found: dict[str, list[str]] = defaultdict(list)
    for d in dec.decisions:
        found[d.recommendation].append(d.record)
    order = [k for k in ("reuse", "replace", "keep", "retire") if k in found] + sorted(set(found) - {"reuse", "replace", "keep", "retire"})
    return [Tally(k, (("records", Decimal(len(found[k]))),), tuple(sorted(found[k]))) for k in order]


def records_by_state(life: LifecycleReport) -> list[Tally]:
    """Records by state over every kind (the `lifecycle.count` lines added up), most first."""
    sums: dict[str, list[str]] = defaultdict(list)
    for c in life.counts:
        sums[c.state].extend(c.records)
    order = sorted(sums, key=lambda k: (-len(sums[k]), k))
    return [Tally(k, (("records", Decimal(len(sums[k]))),), tuple(sorted(sums[k]))) for k in order]


__all__ = [
    "Figures",
    "LocationFigures",
    "PartyFigures",
    "RecordFigures",
    "ServiceFigures",
    "Summary",
    "Tally",
    "book_value_by_class",
    "capital_by_year",
    "decisions_by_recommendation",
    "figures",
    "forecast_by_category",
    "licence_use",
    "location_holdings",
    "records_by_state",
    "risk_by_service",
    "support_ends_by_quarter",
]
