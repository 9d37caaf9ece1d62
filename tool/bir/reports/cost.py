"""The cost report: depreciation and book value, capital spend, annual run cost, TCO and forecast.

All figures are in the base currency (converted with the configured rate, listed in the report), except
the depreciation lines, which are in the record's own currency with the book value also in base currency.

- Capital spend: purchase cost by year of `financial.purchase_date`.
- Annual run cost: recurring costs in force on the as-of date of records that are not ended, annualised
  (monthly x 12, quarterly x 4), by service, cost centre, owner and kind. A component supporting several
  services is split equally between them (remainder cents to the first), so service totals add up to
  the register total without double counting; cost outside any service shows as "(no service)".
- TCO per record: purchase + recurring charged from its start to the as-of date + planned recurring
  charges up to its end (the cost's `end`, else the end of useful life, else 36 months ahead) +
  maintenance carried out to the as-of date (`maintenance.cost`).
  TCO per service: its components' TCO split the same way as run cost.
- Forecast (next 12 and 36 months): recurring charges (subscriptions, support, leases); contracts that
  renew (`renewal.type: auto` or `renewal.decision: renew`) keep charging past their end ("renewal");
  in-service hardware reaching end of useful life or support is replaced at its purchase cost
  ("replacement"; overdue replacements count in the first 12 months).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from bir.base.model import ADMINISTRATIVE_KINDS, Record
from bir.reports.context import GONE, Context
from bir.reports.depreciation import add_months
from bir.reports.lifecycle import replacement_date
from bir.reports.maintenance import maintenance_cost
from bir.reports.models import CapitalLine, CostReport, DepreciationLine, ForecastLine, RateLine, RunCostLine, ServiceTcoLine, TcoLine
from bir.reports.money import ZERO, cents, to_base

NO_SERVICE = "(no service)"
NONE = "(none)"


def split(amount: Decimal, keys: tuple[str, ...]) -> list[tuple[str, Decimal]]:
    """`amount` split equally over `keys` in whole cents; the remainder cents go to the first keys."""
    if not keys:
        return [(NO_SERVICE, amount)]
    n = len(keys)
    share = (amount / n).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    rest = int((amount - share * n) * 100)
    return [(k, share + (Decimal("0.01") if i < rest else ZERO)) for i, k in enumerate(keys)]


def currencies_used(ctx: Context) -> set[str]:
    """The currencies the register's amounts are written in (the rates the figures use)."""
    used: set[str] = set()
    for rec in ctx.register:
        fin = rec.data.get("financial")
        if not isinstance(fin, dict):
            continue
        if isinstance(fin.get("currency"), str):
            used.add(fin["currency"])
        for c in fin.get("recurring_costs") or ():
            if isinstance(c, dict) and isinstance(c.get("currency"), str):
                used.add(c["currency"])
    return used


def renews(rec: Record) -> bool:
    return rec.kind == "contract" and (rec.get("renewal.type") == "auto" or rec.get("renewal.decision") == "renew")


def cost_report(ctx: Context) -> CostReport:
    cfg = ctx.config
    as_of = ctx.as_of
    used = currencies_used(ctx)
    rates = [RateLine(cur, rate, cfg.base_currency, cfg.rates_date) for cur, rate in sorted(cfg.rates.items()) if cur in used]
    depreciation: list[DepreciationLine] = []
    capital: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    run: dict[tuple[str, str], list[tuple[str, Decimal]]] = defaultdict(list)
    tco: list[TcoLine] = []
    svc_tco: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    forecast: list[ForecastLine] = []
    in12, in36 = add_months(as_of, 12), add_months(as_of, 36)
    for rec in ctx.register:
        if rec.kind in ADMINISTRATIVE_KINDS:
            continue
        ended = ctx.is_ended(rec)
        sched = ctx.schedule(rec)
        purchase = ctx.purchase_base(rec)
        if sched is not None and sched.method != "none":
            book = ZERO if rec.status in GONE else sched.book_value(as_of)  # a disposal writes the rest off
            depreciation.append(DepreciationLine(rec.id, sched.method, sched.currency, sched.cost, sched.residual,
                                                 sched.life_months, sched.start, sched.accumulated(as_of), book,
                                                 to_base(book, sched.currency, cfg), sched.fully_depreciated_on, (rec.id,)))
        bought = rec.date("financial.purchase_date")
        if purchase is not None and bought is not None and bought <= as_of:
            capital[bought.year].append((rec.id, purchase))
        services = ctx.services_of.get(rec.id, ())
        costs = ctx.recurring(rec)
        to_date = planned = ZERO
        f12 = f36 = ZERO
        useful_end = sched.end_of_useful_life if sched is not None else None
        for c in costs:
            first = c.start or (sched.start if sched else None)
            if first is not None and first <= as_of:
                to_date += c.spent_between(first - dt.timedelta(days=1), as_of)
            if ended:
                continue
            if c.active(as_of):
                annual = cents(c.annual())
                for key, share in split(annual, services):
                    run[("service", key)].append((rec.id, share))
                run[("cost_centre", str(rec.get("financial.cost_centre") or NONE))].append((rec.id, annual))
                run[("owner", rec.owner or NONE)].append((rec.id, annual))
                run[("kind", rec.kind)].append((rec.id, annual))
            until = c.end or useful_end or in36
            if until > as_of:
                planned += c.spent_between(as_of, until)
            ignore_end = renews(rec)
            f12 += c.spent_between(as_of, in12, ignore_end=ignore_end)
            f36 += c.spent_between(as_of, in36, ignore_end=ignore_end)
        if f36:
            end = ctx.end_date(rec)
            category = "renewal" if renews(rec) and end is not None and end < in36 else "recurring"
            detail = f"renews after {end}" if category == "renewal" else ", ".join(c.description for c in costs if c.description)
            forecast.append(ForecastLine(category, rec.id, cents(f12), cents(f36), detail, (rec.id,)))
        if rec.kind == "hardware" and ctx.in_service(rec) and purchase is not None:
            due = replacement_date(ctx, rec)
            if due is not None and due[0] <= in36:
                forecast.append(ForecastLine("replacement", rec.id, purchase if due[0] <= in12 else ZERO, purchase,
                                             f"{due[1]} {due[0]}", (rec.id,)))
        maintained = maintenance_cost(ctx, rec, None, as_of)
        total = (purchase or ZERO) + to_date + planned + maintained
        if total:
            tco.append(TcoLine(rec.id, rec.kind, purchase or ZERO, cents(to_date), cents(planned), maintained, cents(total), (rec.id,)))
            if services:
                for key, share in split(cents(total), services):
                    svc_tco[key].append((rec.id, share))
    capital_lines = [CapitalLine(year, cents(sum((a for _, a in items), ZERO)), len(items), tuple(sorted(r for r, _ in items)))
                     for year, items in sorted(capital.items())]
    dims = {"service": 0, "cost_centre": 1, "owner": 2, "kind": 3}
    run_lines = [RunCostLine(by, key, cents(sum((a for _, a in items), ZERO)), tuple(sorted({r for r, _ in items})))
                 for (by, key), items in sorted(run.items(), key=lambda kv: (dims[kv[0][0]], kv[0][1]))]
    shared_count = {s: sum(1 for r, _ in items if len(ctx.services_of.get(r, ())) > 1) for s, items in svc_tco.items()}
    svc_lines = [ServiceTcoLine(s, cents(sum((a for _, a in items), ZERO)), len(items), shared_count[s],
                                tuple(sorted(r for r, _ in items))) for s, items in sorted(svc_tco.items())]
    depreciation.sort(key=lambda d: d.record)
    tco.sort(key=lambda t: t.record)
    order = {"replacement": 0, "renewal": 1, "recurring": 2}
    forecast.sort(key=lambda f: (order[f.category], f.record))
    totals = {
        "next_12_months": cents(sum((f.next_12_months for f in forecast), ZERO)),
        "next_36_months": cents(sum((f.next_36_months for f in forecast), ZERO)),
    }
    overall = {
        "annual_run_cost": cents(sum((line.annual for line in run_lines if line.by == "kind"), ZERO)),
        "book_value": cents(sum((d.book_value_base for d in depreciation), ZERO)),
        "capital": cents(sum((c.amount for c in capital_lines), ZERO)),
    }
    return CostReport(as_of, cfg.base_currency, rates, depreciation, capital_lines, run_lines, tco, svc_lines, forecast, totals,
                      overall, warnings=list(ctx.warnings))
