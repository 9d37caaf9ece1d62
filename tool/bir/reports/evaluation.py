"""The reports of a register at a point: `evaluate(point)` computes them over one shared context (every
command and the site use it, so they see the same figures); `build_report(name, register, as_of)` computes
one report of a register in hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bir.base.gcpause import gc_paused
from bir.base.model import Register
from bir.check.checker import LoadResult
from bir.point.point import Point
from bir.read.feeds import Feed
from bir.reports.assignments import PointInfo, assignment_report
from bir.reports.audits import audit_report
from bir.reports.budget import budget_report
from bir.reports.context import Context, build_context
from bir.reports.cost import cost_report
from bir.reports.decisions import decision_report
from bir.reports.figures import Figures, figures
from bir.reports.licences import licence_report
from bir.reports.lifecycle import lifecycle_report
from bir.reports.maintenance import maintenance_report
from bir.reports.opsmodels import AnyReport as Report  # every report model, the operational ones included
from bir.reports.risk import risk_report
from bir.reports.vulnerabilities import vulnerability_report

REPORTS: dict[str, Callable[[Context], Report]] = {
    "lifecycle": lifecycle_report,
    "cost": cost_report,
    "risk": risk_report,
    "licences": licence_report,
    "decisions": decision_report,
    "assignments": assignment_report,
    "audits": audit_report,
    "maintenance": maintenance_report,
    "vulnerabilities": vulnerability_report,
    "budget": budget_report,
}


@dataclass(slots=True)
class Evaluation:
    """The register at one point with its reports, all computed over one context (so they agree)."""

    point: Point
    loaded: LoadResult
    context: Context
    _reports: dict[str, Report] = field(default_factory=dict)
    _figures: Figures | None = None

    @property
    def register(self) -> Register:
        return self.loaded.register

    def report(self, name: str) -> Report:
        """The report `name` (one of REPORTS), computed once."""
        if name not in REPORTS:
            raise KeyError(f"unknown report {name!r}; one of {', '.join(REPORTS)}")
        got = self._reports.get(name)
        if got is None:
            with gc_paused():
                got = self._reports[name] = REPORTS[name](self.context)
        return got

    def all(self) -> dict[str, Report]:
        return {name: self.report(name) for name in REPORTS}

    def figures(self) -> Figures:
        """Every record's, service's, party's and location's figures, from these reports (computed once)."""
        if self._figures is None:
            with gc_paused():
                self._figures = figures(self.context, self.all())
        return self._figures


def evaluate(point: Point, *, jobs: int | None = None) -> Evaluation:
    """Load the register at `point` (its valid records) and prepare its reports, evaluated on `point.day`."""
    loaded = point.load(jobs=jobs)
    with gc_paused():
        context = build_context(loaded.register, point.day, point.feeds, [p.message for p in point.warnings])
    context.cache["point"] = PointInfo(point.commit, point.empty)
    context.cache["osv"] = point.advisories
    return Evaluation(point, loaded, context)


def build_report(name: str, register: Register, as_of: dt.date, *, feeds: Mapping[str, Feed] | None = None,
                 context: Context | None = None) -> Report:
    """The report `name` (one of REPORTS) of `register` evaluated on `as_of`, with the lifecycle `feeds` given."""
    if name not in REPORTS:
        raise KeyError(f"unknown report {name!r}; one of {', '.join(REPORTS)}")
    with gc_paused():
        return REPORTS[name](context or build_context(register, as_of, feeds or {}))


def all_reports(register: Register, as_of: dt.date, *, feeds: Mapping[str, Feed] | None = None) -> dict[str, Report]:
    """Every report of `register`, computed over one shared context."""
    with gc_paused():
        ctx = build_context(register, as_of, feeds or {})
        return {name: fn(ctx) for name, fn in REPORTS.items()}


__all__ = ["REPORTS", "Evaluation", "all_reports", "build_context", "build_report", "evaluate"]
