"""Stock-takes: audit records, what they found, and the audit coverage of the locations holding records.

An audit record (`bir audit SCAN --location ID` writes one) names a facility, a date, an auditor and its
results. A location is covered by the last completed audit of it, or of a place it is part of (an audit of
a building counts for its rooms): its next audit is due `audits.interval_days` after that audit (default
365; `audits.by_facility_type` gives another interval per facility type). Only locations that hold records
(located in them or in places part of them: `LocationFigures.holds`) need audits.

The next audit date of a location is a lifecycle event (`event.audit_due`, a reminder); a location past it,
or never audited, is a risk finding (`location.audit_overdue`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bir.base.model import Record
from bir.reports.context import Context
from bir.reports.opsmodels import AuditLine, AuditReport, CoverageLine
from bir.reports.risk import Check, Hit, register, risk_rule

DEFAULT_INTERVAL = 365
DUE_DAYS = 30


def interval_days(ctx: Context, facility: Record) -> int:
    """The audit interval of a location: by its facility type, else `audits.interval_days`, else 365."""
    policy = ctx.config.raw.get("audits") or {}
    by_type = policy.get("by_facility_type") or {}
    ftype = facility.data.get("facility_type")
    if isinstance(ftype, str) and isinstance(by_type.get(ftype), int):
        return int(by_type[ftype])
    value = policy.get("interval_days")
    return int(value) if isinstance(value, int) else DEFAULT_INTERVAL


def holdings(ctx: Context) -> dict[str, tuple[str, ...]]:
    """Facility -> the records located in it or in places part of it (the figures' definition)."""
    cached = ctx.cache.get("audits:holdings")
    if cached is None:
        from bir.reports.figures import location_holdings

        cached = ctx.cache["audits:holdings"] = {fid: held for fid, (held, _) in location_holdings(ctx).items()}
    return cached  # type: ignore[no-any-return]


def _parents(ctx: Context) -> dict[str, str]:
    out: dict[str, str] = {}
    for fac in ctx.of_kind("facility"):
        for rel in ctx.relations(fac):
            if rel.type == "part_of":
                out.setdefault(fac.id, rel.target)
    return out


def last_audits(ctx: Context) -> dict[str, Record]:
    """Facility -> its last completed audit on or before the as-of date, or the last of a place it is part of."""
    cached = ctx.cache.get("audits:last")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    own: dict[str, Record] = {}
    for aud in ctx.of_kind("audit"):
        day = aud.date("date")
        where = aud.data.get("location")
        if aud.status != "completed" or day is None or day > ctx.as_of or not isinstance(where, str):
            continue
        mine = own.get(where)
        if mine is None or (day, aud.id) > (mine.date("date") or dt.date.min, mine.id):
            own[where] = aud
    parents = _parents(ctx)
    out: dict[str, Record] = {}
    for fac in ctx.of_kind("facility"):
        best: Record | None = None
        node: str | None = fac.id
        seen: set[str] = set()
        while node is not None and node not in seen:
            seen.add(node)
            cand = own.get(node)
            if cand is not None and (best is None or (cand.date("date") or dt.date.min) > (best.date("date") or dt.date.min)):
                best = cand
            node = parents.get(node)
        if best is not None:
            out[fac.id] = best
    ctx.cache["audits:last"] = out
    return out


def next_audit(ctx: Context, facility: Record) -> dt.date | None:
    """When a location is next due for a stock-take; None when it was never audited."""
    last = last_audits(ctx).get(facility.id)
    day = last.date("date") if last is not None else None
    return None if day is None else day + dt.timedelta(days=interval_days(ctx, facility))


def audit_events(ctx: Context, rec: Record) -> list[tuple[dt.date, str]]:
    """The next audit of an in-service location holding records, as a (date, detail) lifecycle event."""
    if rec.kind != "facility" or not ctx.in_service(rec) or not holdings(ctx).get(rec.id):
        return []
    due = next_audit(ctx, rec)
    if due is None:
        return []
    last = last_audits(ctx)[rec.id]
    return [(due, f"stock-take due ({interval_days(ctx, rec)} days after {last.id} of {last.date('date')})")]


def audit_report(ctx: Context) -> AuditReport:
    as_of = ctx.as_of
    held = holdings(ctx)
    last = last_audits(ctx)
    audits: list[AuditLine] = []
    for aud in ctx.of_kind("audit"):
        results = aud.data.get("results") if isinstance(aud.data.get("results"), dict) else {}
        assert isinstance(results, dict)
        lists = {k: [str(v) for v in results.get(k) or () if isinstance(v, str)] for k in ("present", "missing", "wrong_place", "unexpected")}
        seen = results.get("seen")
        audits.append(AuditLine(aud.id, str(aud.data.get("location", "")), aud.date("date"), str(aud.data.get("auditor", "")),
                                aud.status, seen if isinstance(seen, int) else 0, len(lists["present"]), len(lists["missing"]),
                                len(lists["wrong_place"]),
                                len(lists["unexpected"]),
                                tuple(sorted({aud.id, *lists["present"], *lists["missing"], *lists["wrong_place"]}))))
    audits.sort(key=lambda a: (a.date or dt.date.min, a.audit), reverse=True)
    coverage: list[CoverageLine] = []
    for fac in ctx.of_kind("facility"):
        records = held.get(fac.id, ())
        if not records or ctx.is_ended(fac):
            continue
        interval = interval_days(ctx, fac)
        last_aud = last.get(fac.id)
        due = next_audit(ctx, fac)
        days = None if due is None else (due - as_of).days
        state = "never" if days is None else "overdue" if days < 0 else "due" if days <= DUE_DAYS else "audited"
        coverage.append(CoverageLine(fac.id, str(fac.data.get("facility_type", "")), len(records),
                                     last_aud.date("date") if last_aud is not None else None,
                                     last_aud.id if last_aud is not None else "",
                                     interval, due, days, state, tuple(records)))
    order = {"never": 0, "overdue": 1, "due": 2, "audited": 3}
    coverage.sort(key=lambda c: (order[c.state], c.next_due or dt.date.min, c.location))
    audited = sum(1 for c in coverage if c.state in ("audited", "due"))
    pct = (Decimal(100) * audited / len(coverage)).quantize(Decimal("0.1")) if coverage else None
    totals: dict[str, Decimal | int] = {"locations": len(coverage), "audited": audited}
    if pct is not None:
        totals["coverage_pct"] = pct
    return AuditReport(as_of, audits, coverage, totals, warnings=list(ctx.warnings))


def audit_overdue(ctx: Context) -> Check:
    """A location (facility in service) holding records had a completed stock-take within its audit interval
    (`audits.interval_days`, by facility type), itself or through a place it is part of.

    Passes: a building with 40 laptops audited on 2026-05-12, interval 365, on 2026-11-28.
    Fails:  the same building last audited on 2025-05-12, or never.
    """
    held = holdings(ctx)
    for fac in ctx.of_kind("facility"):
        if not ctx.in_service(fac) or not held.get(fac.id):
            continue
        due = next_audit(ctx, fac)
        if due is None:
            yield fac.id, Hit(f"location {fac.id} holds {len(held[fac.id])} record(s) and was never audited",
                              f"count it: bir audit SCAN --location {fac.id}")
        elif due < ctx.as_of:
            last = last_audits(ctx)[fac.id]
            yield fac.id, Hit(f"location {fac.id}: stock-take overdue since {due} (last: {last.id} of {last.date('date')})",
                              f"count it: bir audit SCAN --location {fac.id}", (last.id,))
        else:
            yield fac.id, None


OVERDUE = register(risk_rule("location.audit_overdue", "low", "locations holding records are audited within the interval",
                             audit_overdue))
