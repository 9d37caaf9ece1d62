"""Maintenance: plans (what is done how often) and the log (what was done, with its result and cost).

A plan is `maintenance_plans: [{type, interval_months, first_due}]` on a record, or on a contract: a
contract's plan applies to every record it covers (`covered_by`) while the contract is in service. The log
is `maintenance_log: [{date, type, result, cost, currency, by}]` on the record the work was done on.

- Next due date of a plan: the last log entry of its type dated on or before the as-of date that passed or
  was done, plus the interval; without one, `first_due`; else the start of service plus the interval; else
  none (unscheduled). A failed entry does not count as done: the task stays due.
- State: overdue (due before the as-of date), due (within the smallest report horizon), scheduled.
- Cost: each log entry's cost in base-currency cents; a record's maintenance to date is part of its TCO
  (`cost.tco`) and of its cost centre's operating actuals (`budget.position`).

Due dates are lifecycle events (`event.maintenance_due`, a deadline) of in-service records; an overdue
plan of an in-service record is a risk finding (`maintenance.overdue`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from bir.base.model import Record, parse_date, to_decimal
from bir.reports.context import Context
from bir.reports.depreciation import add_months, start_date
from bir.reports.money import ZERO, to_base
from bir.reports.opsmodels import MaintenanceCostLine, MaintenancePlanLine, MaintenanceReport
from bir.reports.risk import Check, Hit, register, risk_rule

DONE = frozenset({"pass", "done"})


@dataclass(frozen=True, slots=True)
class Entry:
    date: dt.date
    type: str
    result: str
    cost: Decimal  # base currency, cents
    by: str


@dataclass(frozen=True, slots=True)
class PlanDue:
    type: str
    interval_months: int
    source: str
    last_done: dt.date | None
    last_result: str
    next_due: dt.date | None


def log_of(ctx: Context, rec: Record) -> list[Entry]:
    """The record's log entries with a valid date, oldest first, costs in base-currency cents."""
    items = rec.data.get("maintenance_log")
    if not isinstance(items, list):
        return []
    default_currency = rec.get("financial.currency")
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        day = parse_date(item.get("date"))
        if day is None:
            continue
        amount = to_decimal(item.get("cost"))
        currency = item.get("currency") if isinstance(item.get("currency"), str) else default_currency
        cost = to_base(amount, currency if isinstance(currency, str) else None, ctx.config) if amount is not None else ZERO
        out.append(Entry(day, str(item.get("type", "")), str(item.get("result", "")), cost, str(item.get("by") or "")))
    out.sort(key=lambda e: (e.date, e.type))
    return out


def maintenance_cost(ctx: Context, rec: Record, after: dt.date | None, until: dt.date) -> Decimal:
    """The record's maintenance costs dated in (after, until], base-currency cents: the one definition the TCO
    and the budget actuals share."""
    return sum((e.cost for e in log_of(ctx, rec) if (after is None or e.date > after) and e.date <= until), ZERO)


def _plans(rec: Record, source: str) -> Iterator[tuple[str, int, dt.date | None, str]]:
    items = rec.data.get("maintenance_plans")
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and isinstance(item.get("type"), str) and isinstance(item.get("interval_months"), int):
            yield item["type"], item["interval_months"], parse_date(item.get("first_due")), source


def plans_of(ctx: Context, rec: Record) -> list[PlanDue]:
    """Every plan that applies to a record (its own, then its in-service contracts'), with its next due date."""
    if rec.kind == "contract":
        return []  # a contract's plans are about the records it covers
    found = list(_plans(rec, "record"))
    for rel in ctx.relations(rec):
        ctr = ctx.rec(rel.target) if rel.type == "covered_by" else None
        if ctr is not None and ctr.kind == "contract" and ctx.in_service(ctr):
            found.extend(_plans(ctr, ctr.id))
    if not found:
        return []
    log = [e for e in log_of(ctx, rec) if e.date <= ctx.as_of]
    out = []
    for mtype, months, first_due, source in found:
        of_type = [e for e in log if e.type == mtype]
        done = [e for e in of_type if e.result in DONE]
        last_done = done[-1].date if done else None
        if last_done is not None:
            due: dt.date | None = add_months(last_done, months)
        elif first_due is not None:
            due = first_due
        else:
            began = start_date(rec)
            due = add_months(began, months) if began is not None else None
        out.append(PlanDue(mtype, months, source, last_done, of_type[-1].result if of_type else "", due))
    return out


def due_window(ctx: Context) -> int:
    """Days ahead in which a plan counts as due: the smallest report horizon."""
    return min(ctx.config.horizons_days or (30,))


def maintenance_report(ctx: Context) -> MaintenanceReport:
    as_of, window = ctx.as_of, due_window(ctx)
    plans: list[MaintenancePlanLine] = []
    costs: list[MaintenanceCostLine] = []
    for rec in ctx.register:
        log = [e for e in log_of(ctx, rec) if e.date <= as_of]
        if log:
            costs.append(MaintenanceCostLine(rec.id, len(log), sum(1 for e in log if e.result == "fail"), log[-1].date,
                                             sum((e.cost for e in log), ZERO), (rec.id,)))
        if ctx.is_ended(rec):
            continue
        for p in plans_of(ctx, rec):
            days = None if p.next_due is None else (p.next_due - as_of).days
            if days is None:
                state = "unscheduled"
            elif days < 0:
                state = "overdue"
            elif days <= window:
                state = "due"
            else:
                state = "scheduled"
            records = (rec.id,) if p.source == "record" else (rec.id, p.source)
            plans.append(MaintenancePlanLine(rec.id, rec.kind, p.type, p.interval_months, p.source, p.last_done, p.last_result,
                                             p.next_due, days, state, records))
    order = {"overdue": 0, "due": 1, "scheduled": 2, "unscheduled": 3}
    plans.sort(key=lambda p: (order[p.state], p.next_due or dt.date.max, p.record, p.type))
    costs.sort(key=lambda c: c.record)
    totals: dict[str, Decimal | int] = {
        "overdue": sum(1 for p in plans if p.state == "overdue"),
        "due": sum(1 for p in plans if p.state == "due"),
        "cost_to_date": ctx.money(sum((c.cost_to_date for c in costs), ZERO)),
    }
    return MaintenanceReport(as_of, ctx.config.base_currency, plans, costs, totals, warnings=list(ctx.warnings))


def maintenance_events(ctx: Context, rec: Record) -> list[tuple[dt.date, str]]:
    """The due dates of an in-service record's maintenance plans, as (date, detail) lifecycle events."""
    if not ctx.in_service(rec):
        return []
    out = []
    for p in plans_of(ctx, rec):
        if p.next_due is not None:
            where = "" if p.source == "record" else f" under contract {p.source}"
            out.append((p.next_due, f"{p.type.replace('_', ' ')} due (every {p.interval_months} months{where})"))
    return out


def maintenance_overdue(ctx: Context) -> Check:
    """An in-service record has no overdue maintenance: each of its plans (its own and those of the
    contracts covering it) was last passed or done within its interval, or is not yet due.

    Passes: a PAT test every 12 months, last passed 2026-03-01, on 2026-11-28.
    Fails:  the same plan last passed 2025-06-01 (due 2026-06-01), or only a failed test since.
    """
    for rec in ctx.register:
        if not ctx.in_service(rec):
            continue
        due = plans_of(ctx, rec)
        if not due:
            continue
        late = [p for p in due if p.next_due is not None and p.next_due < ctx.as_of]
        contracts = tuple(sorted({p.source for p in late if p.source != "record"}))
        yield rec.id, (Hit(f"{rec.kind} {rec.id}: maintenance overdue: "
                           + ", ".join(f"{p.type.replace('_', ' ')} due {p.next_due}" for p in late),
                           "carry it out and add a maintenance_log entry (date, type, result), or record a waiver",
                           contracts) if late else None)


OVERDUE = register(risk_rule("maintenance.overdue", "medium", "in-service records have no overdue maintenance",
                             maintenance_overdue))
