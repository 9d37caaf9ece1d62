"""The library's entry points: one function per command, each opening the register at one point.

The command line (`bir.cli`) parses options, calls one of these, renders what it returns and picks the exit
code; other programs call them directly. Every function takes the register's root folder and, where the
command reads the past, `as_of` (a day) or `rev` (a commit): see `bir.point.point.open_point`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bir.base.problems import Problem, UsageError
from bir.point.point import Point, open_point

# What only some commands need is imported by them: `bir validate` does not pay for the reports, the
# change impact or the history (about 40 ms of imports).
if TYPE_CHECKING:
    from bir.cache.validation import Validation
    from bir.change.model import ChangeReport
    from bir.check.checker import LoadResult
    from bir.history.changerecord import ChangeRecord
    from bir.history.trail import LogEntry
    from bir.reports import Evaluation
    from bir.reports.opsmodels import AnyReport as Report

Day = dt.date | str | None


def validate(root: Path, *, as_of: Day = None, use_cache: bool = True, jobs: int | None = None,
             want_relations: bool = False) -> Validation:
    """`bir validate`: the register at the point (the working tree, or as of a day), checked by its own rules;
    the warnings of opening the point are among the problems."""
    return open_point(root, as_of=as_of, use_cache=use_cache).validation(use_cache=use_cache, jobs=jobs,
                                                                      want_relations=want_relations)


def load(root: Path, *, as_of: Day = None, rev: str | None = None, jobs: int | None = None) -> LoadResult:
    """Every valid record of the register at the point, with the problems found (exports, tools, tests)."""
    return open_point(root, rev=rev, as_of=as_of).load(jobs=jobs)


def evaluation(root: Path, *, as_of: Day = None, rev: str | None = None, jobs: int | None = None) -> Evaluation:
    """The register at the point with its reports (the site, exports with figures, `bir report`)."""
    from bir.reports import evaluate

    return evaluate(open_point(root, rev=rev, as_of=as_of), jobs=jobs)


def report(name: str, root: Path, *, as_of: Day = None) -> tuple[Evaluation, Report]:
    """`bir report NAME`: one report of the register at the point."""
    ev = evaluation(root, as_of=as_of)
    return ev, ev.report(name)


@dataclass(slots=True)
class ChangeCheck:
    """`bir change`: the change's report (with --base) and its change record (with --event)."""

    report: ChangeReport | None
    record: ChangeRecord | None

    @property
    def failed(self) -> bool:
        return bool(self.report is not None and self.report.failed) or bool(self.record is not None and self.record.problems)

    def problems(self) -> list[Problem]:
        out: list[Problem] = []
        if self.report is not None:
            out += self.report.violations + self.report.head_problems + self.report.base_rule_problems
        if self.record is not None:
            out += self.record.problems
        return out


def change(root: Path, *, base: str | None = None, head: str | None = None, event: Path | None = None) -> ChangeCheck:
    """`bir change`: the head (a commit, else the working tree) against its merge base with `base`, and the
    pull request's change record from a GitHub event payload. The change record's required fields are the
    base's (`change.required_fields`), else the working tree's when only the event is checked."""
    if base is None and event is None:
        raise UsageError("give --base REF (the commit the change starts from), --event FILE, or both")
    from bir.change.compute import compute_change
    from bir.history.changerecord import check_event

    report = compute_change(root, base, head) if base is not None else None
    required = report.required_fields if report is not None else open_point(root).config.change_required_fields
    record = check_event(event, required) if event is not None else None
    return ChangeCheck(report, record)


def log(root: Path, *, since: str | None = None, missing_record: bool = False) -> list[tuple[LogEntry, list[str]]]:
    """`bir log`: the merged changes, newest first, each with the change record fields it lacks (only those that
    lack one, with `missing_record`; the required fields are the working tree's `change.required_fields`)."""
    from bir.history.trail import change_log, without_record

    entries = change_log(root, since)
    if not missing_record:
        return [(e, []) for e in entries]
    return without_record(entries, open_point(root).config.change_required_fields)


__all__ = ["ChangeCheck", "Point", "change", "evaluation", "load", "log", "open_point", "report", "validate"]
