"""The plan for every component, computed once per context: what the lifecycle report, the decisions and the
forecast all read, so they agree on every record.

- Retirement candidates: in-service hardware or software past its useful life, end of life or end of
  support, or fully depreciated (`retirement_reasons`).
- Replacement date of in-service hardware: the earliest of end of useful life, end of support and end of
  life (`replacement_date`).
- Replacement price: the latest entry of the dated catalogue (`catalogue` in bir.yaml) priced on or before
  the day, for the record's model (hardware) or product (software), else for its class (hardware) or kind;
  without one, the record's own purchase price, said to be historical with its date.
- One allocation of spares: in-stock hardware that is supported and within its useful life (a reuse
  candidate) goes to one retirement candidate of its class, the most urgent first (past end of life, out of
  support, past useful life, fully depreciated; then the earliest replacement date, then the id); the
  newest spare first. Each spare is offered once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bir.base.model import Record, parse_date, to_decimal
from bir.reports.context import Context
from bir.reports.money import to_base

URGENCY = ("past end of life", "out of support", "past useful life", "fully depreciated")


def retirement_reasons(ctx: Context, rec: Record) -> tuple[str, ...]:
    """Why an in-service component is a candidate for retirement (empty: it is not)."""
    as_of = ctx.as_of
    reasons: list[str] = []
    sched = ctx.schedule(rec)
    if sched is not None and sched.end_of_useful_life is not None and sched.end_of_useful_life <= as_of:
        reasons.append("past useful life")
    life = ctx.life(rec)
    if life.past_eol(as_of):
        reasons.append("past end of life")
    elif life.past_eos(as_of):
        reasons.append("out of support")
    if sched is not None and sched.method != "none" and sched.is_fully_depreciated(as_of) and "past useful life" not in reasons:
        reasons.append("fully depreciated")
    return tuple(reasons)


def is_reuse_candidate(ctx: Context, rec: Record) -> bool:
    """In stock, still supported, and within its useful life."""
    if rec.kind != "hardware" or rec.status != "in_stock":
        return False
    life = ctx.life(rec)
    as_of = ctx.as_of
    if life.past_eos(as_of) or life.past_eol(as_of):
        return False
    sched = ctx.schedule(rec)
    return not (sched is not None and sched.end_of_useful_life is not None and sched.end_of_useful_life <= as_of)


def replacement_date(ctx: Context, rec: Record) -> tuple[dt.date, str] | None:
    """When in-service hardware should be replaced: the earliest of end of useful life, support, life."""
    options: list[tuple[dt.date, str]] = []
    sched = ctx.schedule(rec)
    if sched is not None and sched.end_of_useful_life is not None:
        options.append((sched.end_of_useful_life, "end of useful life"))
    life = ctx.life(rec)
    if life.eos:
        options.append((life.eos, "end of support"))
    if life.eol:
        options.append((life.eol, "end of life"))
    return min(options) if options else None


@dataclass(frozen=True, slots=True)
class Price:
    amount: Decimal  # base currency
    source: str  # "catalogue <date>: <description>" or "historical purchase price of <date>"


def catalogue_price(ctx: Context, rec: Record) -> Price | None:
    """The price of a replacement for `rec` on the day (see the module documentation); found once per
    record (the decisions ask for it several times)."""
    prices: dict[str, Price | None] = ctx.cache.setdefault("catalogue prices", {})
    if rec.id in prices:
        return prices[rec.id]
    got = prices[rec.id] = _catalogue_price(ctx, rec)
    return got


def _catalogue(ctx: Context) -> list[tuple[str, Any, Any, int, dt.date, Decimal, str, str]]:
    """The catalogue's entries priced by the day, read once: (kind, class, replaces, rank, date, price,
    currency, description)."""
    found: list[tuple[str, Any, Any, int, dt.date, Decimal, str, str]] | None = ctx.cache.get("catalogue")
    if found is not None:
        return found
    found = ctx.cache["catalogue"] = []
    for entry in ctx.config.raw.get("catalogue") or ():
        if not isinstance(entry, dict):
            continue
        priced = parse_date(entry.get("date"))
        price = to_decimal(entry.get("price"))
        if priced is None or price is None or priced > ctx.as_of:
            continue
        rank = 2 if entry.get("replaces") is not None else 1 if entry.get("class") is not None else 0
        label = str(entry.get("description") or entry.get("replaces") or entry.get("class") or "")
        found.append((entry.get("kind", "hardware"), entry.get("class"), entry.get("replaces"), rank, priced, price,
                      str(entry.get("currency") or ctx.config.base_currency), label))
    return found


def _catalogue_price(ctx: Context, rec: Record) -> Price | None:
    best: tuple[int, dt.date, Decimal, str, str] | None = None
    model, product = rec.data.get("model"), rec.data.get("product")
    for kind, cls, replaces, rank, priced, price, currency, label in _catalogue(ctx):
        if kind != rec.kind:
            continue
        if cls is not None and cls != rec.data.get("class"):
            continue
        if replaces is not None and replaces not in (model, product):
            continue
        if best is None or (rank, priced) > best[:2]:
            best = (rank, priced, price, currency, label or rec.kind)
    if best is not None:
        return Price(to_base(best[2], best[3], ctx.config), f"catalogue {best[1].isoformat()}: {best[4]}")
    own = ctx.purchase_base(rec)
    if own is None:
        return None
    bought = rec.date("financial.purchase_date")
    return Price(own, f"historical purchase price of {bought.isoformat()}" if bought else "historical purchase price")


def _urgency(reasons: tuple[str, ...]) -> int:
    return min((URGENCY.index(r) for r in reasons if r in URGENCY), default=len(URGENCY))


def allocation(ctx: Context) -> dict[str, str]:
    """Retirement candidate (in-service hardware) -> the one spare allocated to it (computed once; read it,
    never change it)."""
    got = ctx.cache.get("spares")
    if got is not None:
        return got  # type: ignore[no-any-return]
    spares: dict[str, list[Record]] = defaultdict(list)
    candidates: list[tuple[int, dt.date, str, str]] = []
    for rec in ctx.of_kind("hardware"):
        if is_reuse_candidate(ctx, rec):
            spares[ctx.hw_class(rec)].append(rec)
        elif ctx.in_service(rec):
            reasons = retirement_reasons(ctx, rec)
            if reasons:
                due = replacement_date(ctx, rec)
                candidates.append((_urgency(reasons), due[0] if due else dt.date.max, rec.id, ctx.hw_class(rec)))
    def newest(r: Record) -> tuple[int, str]:
        s = ctx.schedule(r)
        end = s.end_of_useful_life if s is not None and s.end_of_useful_life is not None else dt.date.max
        return -end.toordinal(), r.id

    queues = {cls: [r.id for r in sorted(items, key=newest)] for cls, items in spares.items()}
    out: dict[str, str] = {}
    for _u, _d, rid, cls in sorted(candidates):
        queue = queues.get(cls)
        if queue:
            out[rid] = queue.pop(0)
    ctx.cache["spares"] = out
    return out
