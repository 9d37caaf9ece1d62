"""The library's entry points: one function per command, each opening the register at one point.

The command line (`bir.cli`) parses options, calls one of these, renders what it returns and picks the exit
code; other programs call them directly. Every function takes the register's root folder and, where the
command reads the past, `as_of` (a day) or `rev` (a commit): see `bir.point.point.open_point`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bir.cache.validation import Validation
from bir.check.checker import LoadResult
from bir.point.point import Point, open_point
from bir.reports import Evaluation, evaluate
from bir.reports.models import Report

Day = dt.date | str | None


def validate(root: Path, *, as_of: Day = None, use_cache: bool = True, jobs: int | None = None,
             want_relations: bool = False) -> Validation:
    """`bir validate`: the register at the point (the working tree, or as of a day), checked by its own rules;
    the warnings of opening the point are among the problems."""
    return open_point(root, as_of=as_of).validation(use_cache=use_cache, jobs=jobs, want_relations=want_relations)


def load(root: Path, *, as_of: Day = None, rev: str | None = None, jobs: int | None = None) -> LoadResult:
    """Every valid record of the register at the point, with the problems found (exports, tools, tests)."""
    return open_point(root, rev=rev, as_of=as_of).load(jobs=jobs)


def evaluation(root: Path, *, as_of: Day = None, rev: str | None = None, jobs: int | None = None) -> Evaluation:
    """The register at the point with its reports (the site, exports with figures, `bir report`)."""
    return evaluate(open_point(root, rev=rev, as_of=as_of), jobs=jobs)


def report(name: str, root: Path, *, as_of: Day = None) -> tuple[Evaluation, Report]:
    """`bir report NAME`: one report of the register at the point."""
    ev = evaluation(root, as_of=as_of)
    return ev, ev.report(name)


__all__ = ["Evaluation", "Point", "evaluation", "load", "open_point", "report", "validate"]
