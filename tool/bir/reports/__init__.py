"""The asset-management engine: lifecycle, cost, risk, licence and decision reports as data.

`build_report(name, register, as_of)` computes one report; `all_reports(register, as_of)` computes all of
them over one shared index (the site uses this). Report models are in `models.py`; `render.py` formats them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bir.base.gcpause import gc_paused
from bir.base.model import Register
from bir.reports.context import Context, build_context
from bir.reports.cost import cost_report
from bir.reports.decisions import decision_report
from bir.reports.licences import licence_report
from bir.reports.lifecycle import lifecycle_report
from bir.reports.models import Report
from bir.reports.risk import risk_report

REPORTS: dict[str, Callable[[Context], Report]] = {
    "lifecycle": lifecycle_report,
    "cost": cost_report,
    "risk": risk_report,
    "licences": licence_report,
    "decisions": decision_report,
}


def build_report(name: str, register: Register, as_of: dt.date, context: Context | None = None) -> Report:
    """The report `name` (one of REPORTS) of `register` evaluated on `as_of`."""
    if name not in REPORTS:
        raise KeyError(f"unknown report {name!r}; one of {', '.join(REPORTS)}")
    with gc_paused():
        return REPORTS[name](context or build_context(register, as_of))


def all_reports(register: Register, as_of: dt.date) -> dict[str, Report]:
    """Every report, computed over one shared index of the register."""
    with gc_paused():
        ctx = build_context(register, as_of)
        return {name: fn(ctx) for name, fn in REPORTS.items()}


__all__ = ["REPORTS", "all_reports", "build_context", "build_report"]
