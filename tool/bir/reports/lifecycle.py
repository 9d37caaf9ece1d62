"""The lifecycle report: counts by kind and state, ages, upcoming events, refresh plan, reuse and
retirement candidates.

Events (each with its rule id) are looked for up to the longest configured horizon
(`reports.horizons_days`, default 30/90/365) after the as-of date, for records not yet ended:
- `event.warranty_end`, `event.end_of_support`, `event.end_of_life` (record dates, else the feed),
  `event.end_of_extended_support` (extended support bought), `event.end_of_sale` (record, else the feed);
- `event.contract_end` and `event.notice_deadline` (contract end minus `notice_period_days`);
- `event.licence_expiry` (licence `term.end`), `event.term_end` (cloud service `term.end`);
- `event.end_of_useful_life` (depreciation start + useful life);
- `event.verification_due` (`last_verified` + `reports.verification_period_days`);
- `event.maintenance_due` (the next due date of each maintenance plan of an in-service record);
- `event.audit_due` (the next stock-take of a location holding records: last audit + the audit interval).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from bir.base.model import KINDS, Record
from bir.base.rules import define
from bir.reports.audits import audit_events
from bir.reports.context import Context
from bir.reports.decisions import decisions, replacement
from bir.reports.depreciation import start_date
from bir.reports.maintenance import maintenance_events
from bir.reports.models import AgeLine, CountLine, EventLine, LifecycleReport, RefreshLine, RetirementLine, ReuseLine
from bir.reports.plan import is_reuse_candidate, replacement_date, retirement_reasons

__all__ = ["is_reuse_candidate", "lifecycle_report", "replacement_date", "retirement_reasons"]


def _event(rule_id: str, category: str, summary: str) -> str:
    """Declare a kind of lifecycle event: a deadline (something ends, or must be acted on by then) or a
    reminder (a check or a planning milestone: nothing lapses on the day)."""
    EVENT_CATEGORY[rule_id] = category
    return define(rule_id, "info", "event", summary, f"{summary.capitalize()} (a {category}).").id


EVENT_CATEGORY: dict[str, str] = {}
WARRANTY_END = _event("event.warranty_end", "deadline", "the warranty of hardware or software ends")
END_OF_SUPPORT = _event("event.end_of_support", "deadline", "end of support (record date, else the feed's)")
END_OF_LIFE = _event("event.end_of_life", "deadline", "end of life (record date, else the feed's)")
END_OF_EXTENDED_SUPPORT = _event("event.end_of_extended_support", "deadline",
                                 "extended support bought ends (the record's, or its extended-support contract's end)")
END_OF_SALE = _event("event.end_of_sale", "reminder", "end of sale: the model can no longer be bought (record, else the feed)")
CONTRACT_END = _event("event.contract_end", "deadline", "a contract ends")
NOTICE_DEADLINE = _event("event.notice_deadline", "deadline", "the last day to give notice on a contract (end minus notice period)")
LICENCE_EXPIRY = _event("event.licence_expiry", "deadline", "a licence term ends")
TERM_END = _event("event.term_end", "deadline", "a cloud service's subscription term ends")
END_OF_USEFUL_LIFE = _event("event.end_of_useful_life", "reminder", "hardware reaches the end of its useful life")
VERIFICATION_DUE = _event("event.verification_due", "reminder", "a record is due to be verified again")
MAINTENANCE_DUE = _event("event.maintenance_due", "deadline", "a maintenance plan of an in-service record falls due")
AUDIT_DUE = _event("event.audit_due", "reminder", "a location holding records is due for its next stock-take")


AGE_BUCKETS = ("<1y", "1-2y", "2-3y", "3-4y", "4-5y", "5y+")


def _age_bucket(start: dt.date | None, as_of: dt.date) -> str:
    if start is None:
        return "unknown"
    years = (as_of - start).days / 365.25
    return AGE_BUCKETS[min(int(max(years, 0)), 5)]


def events_of(ctx: Context, rec: Record) -> list[tuple[dt.date, str, str]]:
    """Every dated event of a record: (date, rule id, detail)."""
    out: list[tuple[dt.date, str, str]] = []
    cfg = ctx.config
    if rec.kind in ("hardware", "software"):
        w = rec.date("warranty_end")
        if w:
            out.append((w, WARRANTY_END, "warranty ends"))
        life = ctx.life(rec)
        if life.eos:
            out.append((life.eos, END_OF_SUPPORT, f"end of support ({life.source})"))
        if life.eol:
            out.append((life.eol, END_OF_LIFE, f"end of life ({life.source})"))
        if life.extended_until:
            out.append((life.extended_until, END_OF_EXTENDED_SUPPORT, f"extended support bought ends ({life.extended_source})"))
        if life.end_of_sale:
            out.append((life.end_of_sale, END_OF_SALE, "end of sale: the model can no longer be bought"))
    if rec.kind == "contract":
        end = rec.date("end")
        if end:
            out.append((end, CONTRACT_END, "contract ends"))
            notice = rec.data.get("notice_period_days")
            if isinstance(notice, int) and notice > 0:
                decision = rec.get("renewal.decision") or "none"
                out.append((end - dt.timedelta(days=notice), NOTICE_DEADLINE,
                            f"last day to give notice ({notice} days before {end}); renewal decision: {decision}"))
    if rec.kind == "licence" and rec.date("term.end"):
        out.append((rec.date("term.end"), LICENCE_EXPIRY, "licence term ends"))  # type: ignore[arg-type]
    if rec.kind == "cloud_service" and rec.date("term.end"):
        out.append((rec.date("term.end"), TERM_END, "subscription term ends"))  # type: ignore[arg-type]
    sched = ctx.schedule(rec)
    if sched is not None and sched.end_of_useful_life is not None and rec.kind == "hardware":
        out.append((sched.end_of_useful_life, END_OF_USEFUL_LIFE, f"end of useful life ({sched.life_months} months)"))
    verified = rec.date("last_verified")
    if verified and rec.kind not in ("waiver",):
        due = verified + dt.timedelta(days=cfg.verification_period_days)
        out.append((due, VERIFICATION_DUE, f"verification due (last verified {verified})"))
    out.extend((when, MAINTENANCE_DUE, detail) for when, detail in maintenance_events(ctx, rec))
    out.extend((when, AUDIT_DUE, detail) for when, detail in audit_events(ctx, rec))
    return out


def _quarter(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def lifecycle_report(ctx: Context) -> LifecycleReport:
    as_of = ctx.as_of
    horizons = tuple(sorted(ctx.config.horizons_days)) or (30, 90, 365)
    limit = as_of + dt.timedelta(days=max(horizons))
    counts: dict[tuple[str, str], list[str]] = defaultdict(list)
    ages: dict[tuple[str, str], list[str]] = defaultdict(list)
    events: list[EventLine] = []
    refresh: list[RefreshLine] = []
    reuse: list[ReuseLine] = []
    retire: list[RetirementLine] = []
    refresh_end = as_of + dt.timedelta(days=3 * 365)
    plan = decisions(ctx)
    for rec in ctx.register:
        counts[(rec.kind, rec.status)].append(rec.id)
        if ctx.is_ended(rec):
            continue
        if rec.kind in ("hardware", "software", "licence", "cloud_service", "network"):
            ages[(rec.kind, _age_bucket(start_date(rec), as_of))].append(rec.id)
        for when, rule_id, detail in events_of(ctx, rec):
            if as_of <= when <= limit:
                days = (when - as_of).days
                horizon = next(h for h in horizons if days <= h)
                events.append(EventLine(when, days, horizon, rule_id.removeprefix("event."), EVENT_CATEGORY[rule_id],
                                        rec.id, rec.kind, detail,
                                        (rec.id,), rule_id))
        if rec.kind == "hardware":
            hw_class = ctx.hw_class(rec)
            if ctx.in_service(rec):
                due = replacement_date(ctx, rec)
                if due is not None and due[0] <= refresh_end:
                    quarter = "overdue" if due[0] < as_of else _quarter(due[0])
                    decided = plan.get(rec.id)
                    bought = replacement(ctx, rec)
                    refresh.append(RefreshLine(quarter, rec.id, hw_class, due[1], due[0], bought.cost if bought else None,
                                               decided.recommendation if decided else "replace", (rec.id,)))
            if is_reuse_candidate(ctx, rec):
                sched = ctx.schedule(rec)
                reuse.append(ReuseLine(rec.id, hw_class, sched.end_of_useful_life if sched else None, ctx.life(rec).eos,
                                       sched.book_value(as_of) if sched else None, (rec.id,)))
        if rec.kind in ("hardware", "software") and ctx.in_service(rec):
            reasons = retirement_reasons(ctx, rec)
            if reasons:
                sched = ctx.schedule(rec)
                decided = plan.get(rec.id)
                retire.append(RetirementLine(rec.id, rec.kind, ctx.hw_class(rec), reasons,
                                             sched.book_value(as_of) if sched and sched.method != "none" else None,
                                             decided.recommendation if decided else "", (rec.id,)))
    kind_order = {k: i for i, k in enumerate(KINDS)}
    count_lines = [CountLine(k, s, len(ids), tuple(sorted(ids)))
                   for (k, s), ids in sorted(counts.items(), key=lambda kv: (kind_order.get(kv[0][0], 99), kv[0][1]))]
    bucket_order = {b: i for i, b in enumerate((*AGE_BUCKETS, "unknown"))}
    age_lines = [AgeLine(k, b, len(ids), tuple(sorted(ids)))
                 for (k, b), ids in sorted(ages.items(), key=lambda kv: (kind_order.get(kv[0][0], 99), bucket_order[kv[0][1]]))]
    events.sort(key=lambda e: (e.date, e.rule, e.record))
    refresh.sort(key=lambda r: ("0" if r.quarter == "overdue" else r.quarter, r.date, r.record))
    reuse.sort(key=lambda r: (r.hw_class, r.record))
    retire.sort(key=lambda r: (r.kind, r.record))
    return LifecycleReport(as_of, horizons, count_lines, age_lines, events, refresh, reuse, retire, warnings=list(ctx.warnings))
