"""Formatting of figures on the site. The figures themselves come from the report models
(`bir.reports.figures`); nothing here computes one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def days_until(day: dt.date | None, on: dt.date) -> int | None:
    return None if day is None else (day - on).days


def money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f} {currency}"
