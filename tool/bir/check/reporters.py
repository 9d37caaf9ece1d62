"""Reporters only format problems: text for people, GitHub annotations for CI, JSON for tools."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from itertools import groupby
from typing import TextIO

from bir.base.escape import markdown, terminal, workflow_data, workflow_property
from bir.base.problems import Problem, Severity, Summary

_COLOURS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m"}
_RESET, _BOLD, _DIM = "\033[0m", "\033[1m", "\033[2m"


def use_colour(stream: TextIO) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def _pos(p: Problem) -> str:
    return f"{p.path}:{p.line}:{p.column}" if p.line else p.path


def text(summary: Summary, problems: list[Problem], out: TextIO, colour: bool = False) -> None:
    for path, group in groupby(problems, key=lambda p: p.path):
        if colour:
            out.write(f"{_BOLD}{path}{_RESET}\n")
        for p in group:
            sev = f"{_COLOURS[p.severity]}{p.severity.value}{_RESET}" if colour else p.severity.value
            out.write(f"{terminal(_pos(p))}: {sev}: {terminal(p.message)} [{p.rule}]\n")
            if p.hint:
                out.write(f"    {_DIM if colour else ''}hint: {terminal(p.hint)}{_RESET if colour else ''}\n")
    kinds = ", ".join(f"{k} {n}" for k, n in summary.by_kind.items())
    verdict = "clean" if not summary.errors and not summary.warnings else f"{summary.errors} error(s), {summary.warnings} warning(s)"
    out.write(f"{summary.records} records ({kinds}): {verdict}\n")


def write_annotations(problems: Iterable[Problem], out: TextIO) -> None:
    """Workflow commands: one annotation per problem, escaped so record text cannot inject commands."""
    for p in problems:
        level = "error" if p.severity is Severity.ERROR else "warning"
        props = f"file={workflow_property(p.path)}"
        if p.line:
            props += f",line={p.line},col={p.column}"
        props += f",title={workflow_property(p.rule)}"
        msg = p.message + (f" (hint: {p.hint})" if p.hint else "")
        out.write(f"::{level} {props}::{workflow_data(msg)}\n")


def summary_line(summary: Summary) -> str:
    """A validation in one line, as `bir validate --format github` ends (and `bir change` says of the head)."""
    return f"{summary.records} records: {summary.errors} error(s), {summary.warnings} warning(s)"


def github(summary: Summary, problems: list[Problem], out: TextIO) -> None:
    write_annotations(problems, out)
    out.write(summary_line(summary) + "\n")


def markdown_summary(summary: Summary, problems: Iterable[Problem], limit: int = 200) -> str:
    problems = list(problems)
    icon = "✅" if not summary.errors else "❌"
    lines = [f"## {icon} Register validation", "",
             f"{summary.records} records: **{summary.errors} error(s)**, {summary.warnings} warning(s)", ""]
    if problems:
        lines += ["| file | line | severity | rule | message |", "|---|---|---|---|---|"]
        for p in problems[:limit]:
            lines.append(f"| {markdown(p.path)} | {p.line} | {p.severity.value} | `{p.rule}` | {markdown(p.message)} |")
        if len(problems) > limit:
            lines.append(f"\n… and {len(problems) - limit} more; run `bir validate` locally for the full list.")
    return "\n".join(lines) + "\n"


def as_json(summary: Summary, problems: list[Problem], out: TextIO) -> None:
    json.dump({"summary": summary.to_dict(), "problems": [p.to_dict() for p in problems]}, out, indent=2, ensure_ascii=False)
    out.write("\n")
