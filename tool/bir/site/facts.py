"""Computed values shown on the site: money in the base currency, annual run cost, book value, end dates.

The report models (`bir.reports`) are the source of truth for the report pages; these small functions give
the per-record figures a record page shows (book value today, days to end of support, run cost).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bir.base.config import Config
from bir.base.model import Record

CENT = Decimal("0.01")


def annual_run_cost(config: Config, rec: Record, on: dt.date) -> Decimal:
    """Recurring costs that run on `on`, per year, in the base currency (as the reports count them)."""
    from bir.reports.context import annual_run_cost as run_cost

    return run_cost(rec, config, on).quantize(CENT)


def purchase_cost(config: Config, rec: Record) -> Decimal | None:
    from bir.reports.context import purchase_base

    return purchase_base(rec, config)


def book_value(config: Config, rec: Record, on: dt.date) -> Decimal | None:
    """Book value on `on` in the base currency, from the reports' depreciation schedule (nothing once the
    record is gone: disposed, lost or stolen)."""
    from bir.reports.context import GONE
    from bir.reports.depreciation import schedule
    from bir.reports.money import to_base

    plan = schedule(rec, config)
    if plan is None:
        return None
    value = Decimal(0) if rec.status in GONE else plan.book_value(on)
    return to_base(value, plan.currency, config)


def days_until(day: dt.date | None, on: dt.date) -> int | None:
    return None if day is None else (day - on).days


def end_of_support(rec: Record) -> dt.date | None:
    return rec.date("end_of_support") or rec.date("end_of_life")


def money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f} {currency}"
