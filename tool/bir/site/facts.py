"""Computed values shown on the site: money in the base currency, annual run cost, book value, end dates.

The report models (`bir.reports`) are the source of truth for the report pages; these small functions give
the per-record figures a record page shows (book value today, days to end of support, run cost).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..config import Config
from ..model import Record, to_decimal

_PERIODS = {"monthly": 12, "quarterly": 4, "yearly": 1}
CENT = Decimal("0.01")


def to_base(config: Config, amount: Decimal, currency: str | None) -> Decimal:
    cur = currency or config.base_currency
    if cur == config.base_currency:
        return amount
    rate = config.rates.get(cur)
    return (amount * rate) if rate is not None else amount


def annual_run_cost(config: Config, rec: Record, on: dt.date) -> Decimal:
    """Recurring costs that run on `on`, per year, in the base currency (as the reports count them)."""
    from ..reports.context import annual_run_cost as run_cost

    return run_cost(rec, config, on).quantize(CENT)


def purchase_cost(config: Config, rec: Record) -> Decimal | None:
    fin = rec.data.get("financial")
    if not isinstance(fin, dict):
        return None
    amount = to_decimal(fin.get("purchase_cost"))
    return None if amount is None else to_base(config, amount, fin.get("currency")).quantize(CENT)


def book_value(config: Config, rec: Record, on: dt.date) -> Decimal | None:
    """Book value on `on` in the base currency (straight line or declining balance, monthly steps)."""
    fin = rec.data.get("financial")
    if not isinstance(fin, dict):
        return None
    cost = to_decimal(fin.get("purchase_cost"))
    start = _date(fin.get("purchase_date")) or _date(fin.get("order_date"))
    if cost is None or start is None:
        return None
    dep = config.depreciation_defaults(rec.kind, rec.data.get("class") if isinstance(rec.data.get("class"), str) else None)
    if isinstance(fin.get("depreciation"), dict):
        dep.update(fin["depreciation"])
    method = dep.get("method", "none")
    life = int(dep.get("useful_life_months") or 0)
    residual = to_decimal(dep.get("residual_value")) or Decimal(0)
    if on < start:
        value = cost
    elif method == "none" or life <= 0:
        value = cost
    else:
        months = min((on.year - start.year) * 12 + on.month - start.month - (1 if on.day < start.day else 0), life)
        if method == "straight_line":
            value = cost - (cost - residual) * Decimal(months) / Decimal(life)
        else:
            rate = Decimal(str(dep.get("rate", 2.0))) / Decimal(life)
            value = cost * (1 - rate) ** months if rate < 1 else residual
            if months >= life:
                value = residual
        value = max(value, residual)
    if rec.status in ("disposed", "lost", "stolen"):
        value = Decimal(0)
    return to_base(config, value, fin.get("currency")).quantize(CENT)


def days_until(day: dt.date | None, on: dt.date) -> int | None:
    return None if day is None else (day - on).days


def end_of_support(rec: Record) -> dt.date | None:
    return rec.date("end_of_support") or rec.date("end_of_life")


def _date(value: object) -> dt.date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f} {currency}"
