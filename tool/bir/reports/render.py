"""Renderers: text, Markdown, JSON and CSV of any report model. They format; they never compute.

Text and Markdown show at most a few record ids per cell (JSON and CSV carry them all). CSV cells that a
spreadsheet would read as a formula get a leading `'` (`bir.base.escape.csv_cell`).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import orjson

from bir.base import escape
from bir.base.escape import csv_cell
from bir.reports.models import Section
from bir.reports.opsmodels import AnyReport as Report

MAX_IDS = 6


def cell(value: Any, *, full: bool = True) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dt.date, Decimal, int)):
        return str(value) if not isinstance(value, dt.date) else value.isoformat()
    if isinstance(value, (tuple, list)):
        items = [cell(v) for v in value]
        if not full and len(items) > MAX_IDS:
            return ", ".join(items[:MAX_IDS]) + f" … (+{len(items) - MAX_IDS})"
        return ", ".join(items)
    return str(value)


def columns(section: Section) -> list[str]:
    if not section.lines:
        return []
    return [f.name for f in dataclasses.fields(section.lines[0])]


def _title(report: Report) -> str:
    return f"{report.name} report as of {report.as_of.isoformat()}"


def text(report: Report) -> str:
    out = [_title(report), *(f"warning: {w}" for w in report.warnings), ""]
    for sec in report.sections():
        out.append(f"== {sec.title} ({len(sec.lines)})")
        if sec.note:
            out.append(f"   {sec.note}")
        cols = columns(sec)
        if cols:
            rows = [[cell(getattr(line, c), full=False) for c in cols] for line in sec.lines]
            widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
            out.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
            for r in rows:
                out.append("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
        else:
            out.append("(none)")
        out.append("")
    return "\n".join(out)


def markdown(report: Report) -> str:
    out = [f"# {_title(report).capitalize()}", ""]
    out += [f"> **Warning:** {escape.markdown(w)}" for w in report.warnings] + ([""] if report.warnings else [])
    for sec in report.sections():
        out += [f"## {escape.markdown(sec.title)} ({len(sec.lines)})", ""]
        if sec.note:
            out += [f"_{escape.markdown(sec.note)}_", ""]
        cols = columns(sec)
        if not cols:
            out += ["(none)", ""]
            continue
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "---|" * len(cols))
        for line in sec.lines:
            out.append("| " + " | ".join(escape.markdown(cell(getattr(line, c), full=False)) for c in cols) + " |")
        out.append("")
    return "\n".join(out)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def _document(report: Report) -> dict[str, Any]:
    """The report's top level: its name and day first, then its fields as they are."""
    out: dict[str, Any] = {"report": report.name, "as_of": report.as_of.isoformat()}
    out.update((f.name, getattr(report, f.name)) for f in dataclasses.fields(report) if f.name not in ("name", "as_of"))
    return out


def as_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data: money as strings (exact), dates as ISO strings."""
    return {k: _plain(v) for k, v in _document(report).items()}


def _encode_default(value: Any) -> Any:
    """What orjson does not write itself, written as `as_dict` writes it."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):  # datetimes too: orjson's own form differs from isoformat()
        return value.isoformat()
    if isinstance(value, float):  # a number that keeps its written text: as json writes it, float.__repr__
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON data")


def as_json(report: Report) -> str:
    """`as_dict` as indented JSON. Written by orjson (10x the standard library's indented encoder, which
    is pure Python: 0.2 s for a risk report of 10,000 records); the standard library writes what orjson
    refuses (an integer past 64 bits), so both give the same text."""
    try:
        text = orjson.dumps(_document(report), default=_encode_default,
                            option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME).decode()
    except orjson.JSONEncodeError:
        text = json.dumps(as_dict(report), indent=2, ensure_ascii=False)
    return text + "\n"


def as_csv(report: Report) -> str:
    """One block per section: a header row starting with `section`, then its lines; blank line between."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for w in report.warnings:
        writer.writerow(["warning", csv_cell(w)])
    if report.warnings:
        writer.writerow([])
    for i, sec in enumerate(report.sections()):
        if i:
            writer.writerow([])
        cols = columns(sec)
        writer.writerow(["section", *cols] if cols else ["section"])
        for line in sec.lines:
            writer.writerow([sec.name, *(csv_cell(cell(getattr(line, c))) for c in cols)])
    return buf.getvalue()


RENDERERS = {"text": text, "markdown": markdown, "json": as_json, "csv": as_csv}


def render(report: Report, fmt: str) -> str:
    return RENDERERS[fmt](report)
