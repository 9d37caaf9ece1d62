"""What every report needs, computed once per run: the relation index, the services each record
contributes to, lifecycle dates from feeds and records, and depreciation schedules.

Everything here is linear in the size of the register (plus the size of each service's dependency tree),
so all reports together cost about as much as loading the register once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bir.base.config import Config
from bir.base.model import Record, Register, Relation, parse_date, to_decimal
from bir.read.feeds import Feed, cycle_of
from bir.reports import depreciation as dep
from bir.reports.graph import Graph
from bir.reports.money import ZERO, round_to, to_base

PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
ENDED = frozenset({"retired", "disposed", "lost", "stolen"})  # out of service for good: costs stop
GONE = frozenset({"disposed", "lost", "stolen"})  # no longer held: no book value (the rest is written off)


@dataclass(frozen=True, slots=True)
class LifeDates:
    """End of support and end of life of a component, and where each came from (record or feed); the end of
    extended support the feed offers, the extended support bought (on the record, or an active
    `extended_support` contract covering it), and the end of sale."""

    eos: dt.date | None
    eol: dt.date | None
    eoes: dt.date | None
    source: str  # "record", "feed:<product>@<cycle>", "record+feed:..." or ""
    eos_flagged: dt.date | None = None  # the feed marks it out of active support with no date: known by this day
    eol_flagged: dt.date | None = None  # the feed marks it end of life with no date: known by this day
    extended_until: dt.date | None = None  # extended support bought, running to this day
    extended_source: str = ""  # "record" or the contract id
    end_of_sale: dt.date | None = None

    def past_eol(self, day: dt.date) -> bool:
        return (self.eol is not None and self.eol <= day) or (self.eol is None and self.eol_flagged is not None
                                                               and self.eol_flagged <= day)

    def past_eos(self, day: dt.date) -> bool:
        return (self.eos is not None and self.eos <= day) or (self.eos is None and self.eos_flagged is not None
                                                               and self.eos_flagged <= day)

    def extended(self, day: dt.date) -> bool:
        """Extended support bought and still running on `day`."""
        return self.extended_until is not None and day <= self.extended_until

    def eol_text(self) -> str:
        return self.eol.isoformat() if self.eol is not None else "date not published"

    def eos_text(self) -> str:
        return self.eos.isoformat() if self.eos is not None else "date not published"


@dataclass(slots=True)
class Context:
    register: Register
    as_of: dt.date
    feeds: dict[str, Feed]
    warnings: list[str] = field(default_factory=list)
    inverse: dict[str, list[tuple[str, Record]]] = field(default_factory=dict)
    graph: Graph = field(default_factory=lambda: Graph({}, set(), {}, frozenset()))
    services_of: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the graph's, for short
    components_of: dict[str, list[str]] = field(default_factory=dict)
    in_service_ids: set[str] = field(default_factory=set)
    ended_ids: set[str] = field(default_factory=set)
    rels: dict[str, list[Relation]] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # results shared between reports (licence positions)
    _schedules: dict[str, dep.Schedule | None] = field(default_factory=dict)
    _life: dict[str, LifeDates] = field(default_factory=dict)
    _recurring: dict[str, tuple[Recurring, ...]] = field(default_factory=dict)
    _purchase: dict[str, Decimal | None] = field(default_factory=dict)
    _by_kind: dict[str, list[Record]] = field(default_factory=dict)

    @property
    def config(self) -> Any:
        return self.register.config

    def of_kind(self, kind: str) -> list[Record]:
        """`register.of_kind(kind)` (the records of `kind` in register order), from one pass over the register
        made on first use: the reports ask 25 times, and each ask read every record."""
        if not self._by_kind:
            by_kind: dict[str, list[Record]] = {}
            for rec in self.register.records.values():
                by_kind.setdefault(rec.kind, []).append(rec)
            self._by_kind = by_kind
        return list(self._by_kind.get(kind, ()))

    def rec(self, rid: str) -> Record | None:
        return self.register.records.get(rid)

    def in_service(self, record: Record) -> bool:
        return record.id in self.in_service_ids

    def is_ended(self, record: Record) -> bool:
        """Retired, disposed, lost or stolen, or in a final state (expired, terminated)."""
        return record.id in self.ended_ids

    def relations(self, record: Record) -> list[Relation]:
        return self.rels.get(record.id, [])

    def schedule(self, record: Record) -> dep.Schedule | None:
        if record.id not in self._schedules:
            self._schedules[record.id] = dep.schedule(record, self.config)
        return self._schedules[record.id]

    def life(self, record: Record) -> LifeDates:
        """Record dates win over the feed: a date on the record is a deliberate local fact; without one, the
        feed's eoasFrom / eolFrom apply, and its isEoas / isEol flags where it publishes no date. Extended
        support bought is the record's `extended_support.until`, or the end of an active
        `extended_support` contract the record is `covered_by` (the later of them)."""
        got = self._life.get(record.id)
        if got is not None:
            return got
        eos, eol = record.date("end_of_support"), record.date("end_of_life")
        source = "record" if (eos or eol) else ""
        eoes = eos_flag = eol_flag = None
        sale = record.date("end_of_sale")
        found = cycle_of(record, self.feeds) if record.kind in ("software", "hardware") else None
        if found is not None:
            product, cycle = found
            tag = f"feed:{product}@{cycle.name}"
            if eos is None and cycle.eoas is not None:
                eos, source = cycle.eoas, (source + "+" if source else "") + tag
            if eol is None and cycle.eol is not None:
                eol = cycle.eol
                source = source if tag in source else (source + "+" if source else "") + tag
            if eos is None and cycle.is_eoas:
                eos_flag, source = cycle.as_of or dt.date.min, source if tag in source else (source + "+" if source else "") + tag
            if eol is None and cycle.is_eol:
                eol_flag, source = cycle.as_of or dt.date.min, source if tag in source else (source + "+" if source else "") + tag
            eoes = cycle.eoes
            sale = sale or cycle.discontinued
        until, via = record.date("extended_support.until"), "record" if record.date("extended_support.until") else ""
        for rel in self.relations(record):
            ctr = self.rec(rel.target) if rel.type == "covered_by" else None
            if ctr is None or ctr.data.get("contract_type") != "extended_support" or not self.in_service(ctr):
                continue
            end = ctr.date("end")
            started = ctr.date("start")
            if end is not None and (started is None or started <= self.as_of) and (until is None or end > until):
                until, via = end, ctr.id
        got = LifeDates(eos, eol, eoes, source, eos_flag, eol_flag, until, via, sale)
        self._life[record.id] = got
        return got

    def hosts(self, record: Record) -> list[str]:
        """The records a software runs on: `installed_on` and `runs_on` targets and its installations' hosts."""
        out = [r.target for r in self.relations(record) if r.type in ("installed_on", "runs_on")]
        if record.kind == "software":
            for inst in record.data.get("installations") or ():
                if isinstance(inst, dict) and isinstance(inst.get("on"), str):
                    out.append(inst["on"])
        return [h for h in dict.fromkeys(out) if h in self.register.records]

    def hw_class(self, record: Record) -> str:
        value = record.data.get("class")
        return value if isinstance(value, str) else ""

    def data_bearing(self, record: Record) -> bool:
        """Stores data that must be sanitised before disposal: it stores information holding personal data,
        else as written (`data_bearing`), else by its class."""
        for rel in self.relations(record):
            info = self.rec(rel.target) if rel.type == "stores" else None
            if info is not None and info.data.get("personal_data") is True:
                return True
        flag = record.data.get("data_bearing")
        if isinstance(flag, bool):
            return flag
        return self.hw_class(record) in self.config.data_bearing_classes

    def currency(self, record: Record, cost: dict[str, Any] | None = None) -> str:
        if cost and isinstance(cost.get("currency"), str):
            return str(cost["currency"])
        cur = record.get("financial.currency")
        return cur if isinstance(cur, str) else str(self.config.base_currency)

    def purchase_base(self, record: Record) -> Decimal | None:
        """`purchase_base` of the record, computed once per run (the cost, budget and plan read it)."""
        if record.id not in self._purchase:
            self._purchase[record.id] = purchase_base(record, self.config)
        return self._purchase[record.id]

    def money(self, value: Decimal) -> Decimal:
        """`value` rounded half up to the base currency's minor unit (cents for EUR, whole yen for JPY)."""
        return round_to(value, self.config.base_currency)

    def end_date(self, record: Record) -> dt.date | None:
        """When an intangible runs out: contract `end`, else `term.end`."""
        return record.date("end") or record.date("term.end")

    def recurring(self, record: Record) -> tuple[Recurring, ...]:
        """`recurring_costs` of the record, computed once per run (the cost, budget and decisions read them)."""
        got = self._recurring.get(record.id)
        if got is None:
            got = self._recurring[record.id] = tuple(recurring_costs(record, self.config))
        return got


def ended_on(record: Record, config: Config) -> dt.date | None:
    """The day a record that is ended now entered its end (retired, disposed, lost, stolen, or a final state
    such as expired): the first ended state it entered after it was last in any other state. None when it is
    not ended, or the date is not recorded."""
    if not is_ended(record, config):
        return None
    dates = record.data.get("status_dates")
    if not isinstance(dates, dict):
        return None
    final = config.model_for(record.kind).final
    seen = sorted((d, state) for state, text in dates.items() if (d := parse_date(text)) is not None)
    out: dt.date | None = None
    for day, state in seen:
        if state in ENDED or state in final:
            out = day if out is None else out
        else:
            out = None
    return out or record.status_date(record.status)


def recurring_costs(record: Record, config: Config) -> list[Recurring]:
    """A record's recurring costs in the base currency; without their own dates they run from the record's
    start of service (or its contract or term start) to the end of its contract or term. A record that has
    ended (retired, disposed, expired...) stops charging on the day it ended: every cost ends the day before."""
    fin = record.data.get("financial")
    costs = fin.get("recurring_costs") if isinstance(fin, dict) else None
    if not isinstance(costs, list):
        return []
    default_start = dep.start_date(record) or record.date("start") or record.date("term.start")
    default_end = record.date("end") or record.date("term.end")
    stop = ended_on(record, config)
    last = stop - dt.timedelta(days=1) if stop is not None else None
    default_currency = fin.get("currency") if isinstance(fin, dict) and isinstance(fin.get("currency"), str) else None
    out = []
    for i, c in enumerate(costs):
        value = to_decimal(c.get("amount"))
        if value is None:
            continue
        currency = c.get("currency") if isinstance(c.get("currency"), str) else default_currency
        base = to_base(value, currency, config)
        end = parse_date(c.get("end")) or default_end
        if last is not None and (end is None or last < end):
            end = last
        out.append(Recurring(record.id, i, str(c.get("description", "")), base,
                             PERIOD_MONTHS.get(str(c.get("period")), 12), parse_date(c.get("start")) or default_start, end,
                             stop is not None and end == last))
    return out


def purchase_base(record: Record, config: Config) -> Decimal | None:
    """A record's purchase cost in base-currency cents (None when it has none): the one conversion the
    cost report, the site and the change impact share."""
    cost = to_decimal(record.get("financial.purchase_cost"))
    currency = record.get("financial.currency")
    return None if cost is None else to_base(cost, currency if isinstance(currency, str) else None, config)


def is_ended(record: Record, config: Config) -> bool:
    """Retired, disposed, lost or stolen, or in its lifecycle model's final state (expired, terminated):
    its recurring costs no longer run."""
    return record.status in ENDED or record.status in config.model_for(record.kind).final


def annual_run_cost(record: Record, config: Config, on: dt.date) -> Decimal:
    """What a record's recurring costs that run on `on` cost per year, in base-currency cents (each cost
    rounded, as the cost report adds them; nothing for an ended record): the one definition the cost
    report, the site and the change impact share."""
    if is_ended(record, config):
        return ZERO
    return sum((round_to(r.annual(), config.base_currency) for r in recurring_costs(record, config) if r.active(on)), ZERO)


@dataclass(frozen=True, slots=True)
class Recurring:
    """One recurring cost, in base currency: charged on `start` and every `months` after, until `end`."""

    record: str
    index: int
    description: str
    amount: Decimal
    months: int
    start: dt.date | None
    end: dt.date | None
    stopped: bool = False  # `end` is the day before the record ended (its own end was later, or none)

    def annual(self) -> Decimal:
        return self.amount * (12 // self.months)

    def active(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def charges_until(self, day: dt.date, start: dt.date | None = None) -> int:
        """Charges on or before `day` (and on or before `end`)."""
        first = self.start or start
        if first is None:
            return 0
        if self.end is not None and day > self.end:
            day = self.end
        if day < first:
            return 0
        return dep.months_completed(first, day) // self.months + 1

    def spent_between(self, after: dt.date, until: dt.date, *, ignore_end: bool = False) -> Decimal:
        """Charges in (after, until]. Without a start date, charging is taken to run from `after`."""
        cost = self if not ignore_end else Recurring(self.record, self.index, self.description, self.amount,
                                                      self.months, self.start, None)
        if cost.start is None:
            cost = Recurring(self.record, self.index, self.description, self.amount, self.months,
                             after + dt.timedelta(days=1), cost.end, cost.stopped)
        n = cost.charges_until(until) - cost.charges_until(after)
        return self.amount * max(n, 0) if n > 0 else ZERO


def build_context(register: Register, as_of: dt.date, feeds: Mapping[str, Feed],
                  warnings: Sequence[str] = ()) -> Context:
    """Everything the reports share about `register` on `as_of`, with the lifecycle `feeds` of the same point
    and the warnings of opening it (every report shows them)."""
    ctx = Context(register, as_of, dict(feeds), warnings=list(warnings))
    inverse: dict[str, list[tuple[str, Record]]] = defaultdict(list)
    models = {kind: register.config.model_for(kind) for kind in {r.kind for r in register}}
    for rec in register:
        status = rec.status
        model = models[rec.kind]
        if status in model.in_service:
            ctx.in_service_ids.add(rec.id)
        if status in ENDED or status in model.final:
            ctx.ended_ids.add(rec.id)
        rels = rec.relations
        if rels:
            ctx.rels[rec.id] = rels
        for rel in rels:
            inverse[rel.target].append((rel.type, rec))
    ctx.inverse = dict(inverse)
    ctx.graph = Graph.build(register.records, ctx.in_service_ids, register.config.redundancy)
    ctx.components_of = ctx.graph.components_of
    ctx.services_of = ctx.graph.services_of
    return ctx
