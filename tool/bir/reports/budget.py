"""Budgets: each budget record (a cost centre's capital and operating amounts for a calendar year) set
against the register's actuals and a forecast to the year end.

The figures use the cost report's own definitions (`bir.reports.context`), restricted to the records whose
`financial.cost_centre` is the budget's cost centre:
- capital actual: purchase costs (`purchase_base`) dated in the year, on or before the as-of date; the
  forecast adds those dated later in the year (records planned or ordered with a purchase date);
- operating actual: recurring charges (`Recurring.spent_between`, as the TCO counts them) falling in the
  year up to the as-of date, plus maintenance costs dated then (`maintenance.cost`); the forecast adds the
  charges from the as-of date to the year end of records that are not ended (contracts that renew keep
  charging past their end, as in the cost forecast).
- variance: forecast (capital + operating) minus budget (capital + operating), in the base currency;
  `over` when positive, `under` when negative. Spend in the as-of year of cost centres without a budget
  for it is listed apart (`unbudgeted`).

An approved budget of the as-of year or later whose forecast exceeds it is a risk finding (`budget.overrun`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from bir.base.model import ADMINISTRATIVE_KINDS, Record, to_decimal
from bir.reports.context import Context, Recurring
from bir.reports.cost import renews
from bir.reports.maintenance import maintenance_cost
from bir.reports.money import ZERO, to_base
from bir.reports.opsmodels import BudgetLine, BudgetReport
from bir.reports.risk import Check, Hit, register, risk_rule


@dataclass(frozen=True, slots=True)
class Spend:
    capital_actual: Decimal
    capital_forecast: Decimal
    operating_actual: Decimal
    operating_forecast: Decimal
    records: tuple[str, ...]


def _charges(c: Recurring, first: dt.date | None, after: dt.date, until: dt.date, *, ignore_end: bool = False) -> Decimal:
    """Charges of `c` in (after, until], counted from its start (else `first`, the record's start of service)."""
    if until <= after:
        return ZERO
    if c.start is None:
        if first is None:
            return ZERO
        c = Recurring(c.record, c.index, c.description, c.amount, c.months, first, c.end)
    return c.spent_between(after, until, ignore_end=ignore_end)


def spend(ctx: Context, records: list[Record], year: int) -> Spend:
    """What `records` cost in `year`: actuals up to the as-of date and the forecast to the year end."""
    as_of = ctx.as_of
    y0, y1 = dt.date(year, 1, 1) - dt.timedelta(days=1), dt.date(year, 12, 31)
    cap_a = cap_f = op_a = op_f = ZERO
    used: set[str] = set()
    for rec in records:
        purchase, bought = ctx.purchase_base(rec), rec.date("financial.purchase_date")
        if purchase is not None and bought is not None and bought.year == year:
            used.add(rec.id)
            if bought <= as_of:
                cap_a += purchase
            cap_f += purchase
        sched = ctx.schedule(rec)
        first = sched.start if sched is not None else None
        cut = min(y1, as_of)
        for c in ctx.recurring(rec):
            got = _charges(c, first, y0, cut)
            ahead = ZERO if ctx.is_ended(rec) else _charges(c, first, max(y0, as_of), y1, ignore_end=renews(rec))
            if got or ahead:
                used.add(rec.id)
            op_a += got
            op_f += got + ahead
        maint = maintenance_cost(ctx, rec, y0, cut)
        if maint:
            used.add(rec.id)
            op_a += maint
            op_f += maint
    return Spend(ctx.money(cap_a), ctx.money(cap_f), ctx.money(op_a), ctx.money(op_f), tuple(sorted(used)))


def _by_centre(ctx: Context) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = defaultdict(list)
    for rec in ctx.register:
        centre = rec.get("financial.cost_centre")
        if isinstance(centre, str) and rec.kind not in ADMINISTRATIVE_KINDS:
            out[centre].append(rec)
    return out


def _amount(ctx: Context, rec: Record, key: str) -> Decimal | None:
    value = to_decimal(rec.data.get(key))
    currency = rec.data.get("currency")
    return None if value is None else to_base(value, currency if isinstance(currency, str) else None, ctx.config)


def budget_lines(ctx: Context) -> list[BudgetLine]:
    """One line per budget record (computed once per context)."""
    cached = ctx.cache.get("budget:lines")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    centres = _by_centre(ctx)
    lines = []
    for bud in ctx.of_kind("budget"):
        centre, year = bud.data.get("cost_centre"), bud.data.get("year")
        if not isinstance(centre, str) or not isinstance(year, int):
            continue
        s = spend(ctx, centres.get(centre, []), year)
        cap, op = _amount(ctx, bud, "capital"), _amount(ctx, bud, "operating")
        total_budget = None if cap is None and op is None else ctx.money((cap or ZERO) + (op or ZERO))
        total = ctx.money(s.capital_forecast + s.operating_forecast)
        variance = None if total_budget is None else ctx.money(total - total_budget)
        position = "unbudgeted" if variance is None else "over" if variance > 0 else "under" if variance < 0 else "on budget"
        lines.append(BudgetLine(centre, year, bud.id, bud.status, cap, s.capital_actual, s.capital_forecast, op,
                                s.operating_actual, s.operating_forecast, total_budget, total, variance, position,
                                (bud.id, *s.records)))
    lines.sort(key=lambda b: (-b.year, b.cost_centre, b.budget))
    ctx.cache["budget:lines"] = lines
    return lines


def budget_report(ctx: Context) -> BudgetReport:
    lines = budget_lines(ctx)
    year = ctx.as_of.year
    budgeted = {(b.cost_centre, b.year) for b in lines}
    unbudgeted = []
    for centre, records in sorted(_by_centre(ctx).items()):
        if (centre, year) in budgeted:
            continue
        s = spend(ctx, records, year)
        total = ctx.money(s.capital_forecast + s.operating_forecast)
        if total or s.capital_actual or s.operating_actual:
            party = ctx.rec(centre)
            unbudgeted.append(BudgetLine(centre, year, "", party.status if party else "", None, s.capital_actual, s.capital_forecast,
                                         None, s.operating_actual, s.operating_forecast, None, total, None, "unbudgeted", s.records))
    return BudgetReport(ctx.as_of, ctx.config.base_currency, lines, unbudgeted, warnings=list(ctx.warnings))


def budget_overrun(ctx: Context) -> Check:
    """An approved budget of the as-of year or later is not exceeded by its cost centre's forecast to the
    year end (capital + operating, see the budget report).

    Passes: budget 100000, actuals 60000 and 30000 more charged by the year end.
    Fails:  budget 100000, forecast 112500 (over by 12500).
    """
    for line in budget_lines(ctx):
        bud = ctx.rec(line.budget)
        if bud is None or bud.status != "approved" or line.year < ctx.as_of.year or line.variance is None:
            continue
        yield line.budget, (Hit(f"budget {line.budget} ({line.cost_centre}, {line.year}): forecast {line.total_forecast} exceeds "
                                f"the budget {line.total_budget} by {line.variance}",
                                "cut or defer spending, or raise the budget (a change of the budget record)",
                                (line.cost_centre,)) if line.variance > 0 else None)


OVERRUN = register(risk_rule("budget.overrun", "medium", "approved budgets are not exceeded by the forecast", budget_overrun))
