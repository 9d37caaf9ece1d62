"""The cost report: depreciation and book value, capital spend, annual run cost, TCO and forecast.

All figures are in the base currency (converted with the configured rate, listed in the report), except
the depreciation lines, which are in the record's own currency with the book value also in base currency.

- Capital spend: purchase cost by year of `financial.purchase_date`.
- Annual run cost: recurring costs in force on the as-of date of records that are not ended, annualised
  (monthly x 12, quarterly x 4), by service, cost centre, owner and kind. A component supporting several
  services is split equally between them (remainder cents to the first), so service totals add up to
  the register total without double counting; cost outside any service shows as "(no service)".
- Depreciation: each record's line (method and conventions, accumulated, book value) and its charge
  schedule per fiscal year (opening book value, charge, closing book value), both read from the one
  schedule of `bir.reports.depreciation`.
- TCO per record: purchase + recurring charged from its start to the as-of date + planned recurring
  charges up to its end (the cost's `end`, else the end of useful life, else 36 months ahead) +
  maintenance carried out to the as-of date (`maintenance.cost`). A record that has ended charges nothing
  from the day it ended and plans nothing. Each line says the period it covers (`since`, `until`).
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
from bir.reports.context import GONE, Context, ended_on
from bir.reports.decisions import replacement
from bir.reports.depreciation import add_months
from bir.reports.maintenance import maintenance_cost
from bir.reports.models import (
    CapitalLine,
    CostReport,
    DepreciationLine,
    DepreciationYearLine,
    ForecastLine,
    RateLine,
    RunCostLine,
    ServiceTcoLine,
    TcoLine,
)
from bir.reports.money import ZERO, normalised, quantum, to_base

NO_SERVICE = "(no service)"
NONE = "(none)"


def split(amount: Decimal, keys: tuple[str, ...], currency: str = "EUR") -> list[tuple[str, Decimal]]:
    """`amount` split equally over `keys` in whole minor units of `currency`; the remainder units go to the
    first keys."""
    if not keys:
        return [(NO_SERVICE, amount)]
    n = len(keys)
    unit = quantum(currency)
    share = (amount / n).quantize(unit, rounding="ROUND_DOWN")
    rest = int((amount - share * n) / unit)
    return [(k, share + (unit if i < rest else ZERO * unit)) for i, k in enumerate(keys)]


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
    base = cfg.base_currency
    money = ctx.money
    as_of = ctx.as_of
    used = currencies_used(ctx)
    rates = [RateLine(cur, rate, base, cfg.rates_date) for cur, rate in sorted(cfg.rates.items()) if cur in used]
    depreciation: list[DepreciationLine] = []
    years: list[DepreciationYearLine] = []
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
            cur = sched.currency
            depreciation.append(DepreciationLine(rec.id, sched.method, cur, sched.cost, sched.residual,
                                                 sched.life_months, sched.start, sched.accumulated(as_of), normalised(book, cur),
                                                 to_base(book, cur, cfg), sched.fully_depreciated_on, sched.convention, (rec.id,)))
            years.extend(DepreciationYearLine(rec.id, fy.year, fy.start, fy.end, cur, opening, charge, closing, (rec.id,))
                         for fy, opening, charge, closing in sched.fiscal_years())
        bought = rec.date("financial.purchase_date")
        if purchase is not None and bought is not None and bought <= as_of:
            capital[bought.year].append((rec.id, purchase))
        services = ctx.services_of.get(rec.id, ())
        costs = ctx.recurring(rec)
        to_date = planned = ZERO
        f12 = f36 = ZERO
        useful_end = sched.end_of_useful_life if sched is not None else None
        firsts: list[dt.date] = [bought] if bought is not None else []
        untils: list[dt.date] = []
        for c in costs:
            first = c.start or (sched.start if sched else None)
            if first is not None and first <= as_of:
                firsts.append(first)
                to_date += c.spent_between(first - dt.timedelta(days=1), as_of)
                untils.append(min(as_of, c.end) if c.end is not None else as_of)
            if ended:
                continue
            if c.active(as_of):
                annual = money(c.annual())
                for key, share in split(annual, services, base):
                    run[("service", key)].append((rec.id, share))
                run[("cost_centre", str(rec.get("financial.cost_centre") or NONE))].append((rec.id, annual))
                run[("owner", rec.owner or NONE)].append((rec.id, annual))
                run[("kind", rec.kind)].append((rec.id, annual))
            until = c.end or useful_end or in36
            if until > as_of:
                planned += c.spent_between(as_of, until)
                untils.append(until)
            ignore_end = renews(rec)
            f12 += c.spent_between(as_of, in12, ignore_end=ignore_end)
            f36 += c.spent_between(as_of, in36, ignore_end=ignore_end)
        if f36:
            end = ctx.end_date(rec)
            category = "renewal" if renews(rec) and end is not None and end < in36 else "recurring"
            detail = f"renews after {end}" if category == "renewal" else ", ".join(c.description for c in costs if c.description)
            forecast.append(ForecastLine(category, rec.id, money(f12), money(f36), detail, (rec.id,)))
        plan = replacement(ctx, rec)
        if plan is not None and plan.cost is not None and plan.due <= in36:
            forecast.append(ForecastLine("replacement", rec.id, plan.cost if plan.due <= in12 else money(ZERO), plan.cost,
                                         f"{plan.reason} {plan.due}; {plan.price_source}", (rec.id,)))
        maintained = maintenance_cost(ctx, rec, None, as_of)
        total = (purchase or ZERO) + to_date + planned + maintained
        if total:
            stop = ended_on(rec, cfg) if ended else None
            tco.append(TcoLine(rec.id, rec.kind, purchase or money(ZERO), money(to_date), money(planned), money(maintained),
                               money(total),
                               min(firsts) if firsts else None, max(untils) if untils else (bought or None), stop, (rec.id,)))
            if services:
                for key, share in split(money(total), services, base):
                    svc_tco[key].append((rec.id, share))
    zero = money(ZERO)
    capital_lines = [CapitalLine(year, money(sum((a for _, a in items), zero)), len(items), tuple(sorted(r for r, _ in items)))
                     for year, items in sorted(capital.items())]
    dims = {"service": 0, "cost_centre": 1, "owner": 2, "kind": 3}
    run_lines = [RunCostLine(by, key, money(sum((a for _, a in items), zero)), tuple(sorted({r for r, _ in items})))
                 for (by, key), items in sorted(run.items(), key=lambda kv: (dims[kv[0][0]], kv[0][1]))]
    shared_count = {s: sum(1 for r, _ in items if len(ctx.services_of.get(r, ())) > 1) for s, items in svc_tco.items()}
    svc_lines = [ServiceTcoLine(s, money(sum((a for _, a in items), zero)), len(items), shared_count[s],
                                tuple(sorted(r for r, _ in items))) for s, items in sorted(svc_tco.items())]
    depreciation.sort(key=lambda d: d.record)
    years.sort(key=lambda y: (y.record, y.fiscal_year))
    tco.sort(key=lambda t: t.record)
    order = {"replacement": 0, "renewal": 1, "recurring": 2}
    forecast.sort(key=lambda f: (order[f.category], f.record))
    totals = {
        "next_12_months": money(sum((f.next_12_months for f in forecast), zero)),
        "next_36_months": money(sum((f.next_36_months for f in forecast), zero)),
    }
    overall = {
        "annual_run_cost": money(sum((line.annual for line in run_lines if line.by == "kind"), zero)),
        "book_value": money(sum((d.book_value_base for d in depreciation), zero)),
        "capital": money(sum((c.amount for c in capital_lines), zero)),
    }
    return CostReport(as_of, base, rates, depreciation, capital_lines, run_lines, tco, svc_lines, forecast, totals,
                      overall, warnings=list(ctx.warnings), depreciation_years=years)
