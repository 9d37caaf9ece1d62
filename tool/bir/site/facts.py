"""Formatting of figures on the site. The figures themselves come from the report models
(`bir.reports.figures`); nothing here computes one."""

from __future__ import annotations

from decimal import Decimal


def money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f} {currency}"
