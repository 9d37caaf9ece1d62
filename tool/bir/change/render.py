"""Rendering a change report: text for people, Markdown for the pull request, JSON for tools."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from bir.change.model import ChangeReport

MAX_RECORD_ROWS = 200
MAX_PROBLEM_ROWS = 200
MAX_MARKDOWN = 65_000


def _value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, default=str)


def _money(v: Decimal) -> str:
    return f"{v:,.2f}"


def _signed(v: Decimal) -> str:
    return ("+" if v > 0 else "") + _money(v)


def verdict(report: ChangeReport) -> str:
    n = sum(1 for p in report.violations if p.is_error)
    h = sum(1 for p in report.head_problems if p.is_error)
    if n == 0 and h == 0:
        return "✅ No policy violations"
    parts = []
    if n:
        parts.append(f"{n} policy violation{'s' if n != 1 else ''}")
    if h:
        parts.append(f"{h} validation error{'s' if h != 1 else ''} on the head")
    return "❌ " + ", ".join(parts)


def render_text(report: ChangeReport) -> str:
    c = report.counts()
    lines = [verdict(report).replace("✅ ", "").replace("❌ ", ""),
             f"records: {c['added']} added, {c['modified']} modified, {c['renamed']} renamed, {c['removed']} removed"]
    for r in report.records:
        what = f"{r.change:<8} {r.kind}/{r.id}"
        if r.change == "renamed":
            what += f" (from {r.old_path})"
        lines.append(what)
        for fc in (r.fields[:50] if r.change in ("modified", "renamed") else []):
            lines.append(f"    {fc.path}: {_value(fc.old)} -> {_value(fc.new)}")
        if r.change in ("modified", "renamed") and len(r.fields) > 50:
            lines.append(f"    … and {len(r.fields) - 50} more fields")
    for ofile in report.other_files:
        lines.append(f"{'changed':<8} {ofile.path} (configuration or schema)")
    for p in report.violations + report.head_problems:
        pos = f"{p.path}:{p.line}:{p.column}" if p.line else p.path
        lines.append(f"{pos}: {p.severity.value}: {p.message} [{p.rule}]")
    i = report.impact
    lines.append(f"one-off cost: {_money(i.one_off)} {i.currency}; annual run cost: {_money(i.annual_base)} -> "
                 f"{_money(i.annual_head)} {i.currency} ({_signed(i.annual_delta)})")
    lines.append("services affected: " + (", ".join(s.id for s in i.services) or "none"))
    for risk in i.risks_introduced:
        lines.append(f"risk introduced: {risk.message} [{risk.rule}]")
    for risk in i.risks_resolved:
        lines.append(f"risk resolved: {risk.message} [{risk.rule}]")
    for note in i.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def render_markdown(report: ChangeReport, limit: int = MAX_RECORD_ROWS) -> str:
    """A verdict line, then tables; large changes summarised to stay within a comment's 65,536 characters."""
    from bir.base.escape import markdown as md_cell

    c = report.counts()
    i = report.impact
    out = [f"### {verdict(report)}", "",
           f"**Register change** `{report.base[:7]}` → `{report.head[:7] if report.head else 'working tree'}`: "
           f"{c['added']} added, {c['modified']} modified, {c['renamed']} renamed, {c['removed']} removed; "
           f"one-off cost **{_money(i.one_off)} {i.currency}**, annual run cost **{_signed(i.annual_delta)} {i.currency}**, "
           f"{len(i.services)} service(s) affected.", ""]
    problems = report.violations + report.head_problems
    if problems:
        out += ["#### Policy violations and head problems", "", "| file | line | rule | message |", "|---|---|---|---|"]
        for p in problems[:MAX_PROBLEM_ROWS]:
            out.append(f"| {md_cell(p.path)} | {p.line or ''} | `{md_cell(p.rule)}` | {md_cell(p.message)} |")
        if len(problems) > MAX_PROBLEM_ROWS:
            out.append(f"| … | | | and {len(problems) - MAX_PROBLEM_ROWS} more |")
        out.append("")
    if report.records:
        out += ["#### Records changed", "", "| change | record | status | fields |", "|---|---|---|---|"]
        for r in report.records[:limit]:
            status = md_cell(r.new_status or r.old_status or "")
            if r.old_status and r.new_status and r.old_status != r.new_status:
                status = f"{md_cell(r.old_status)} → {md_cell(r.new_status)}"
            shown = [f"`{md_cell(f.path)}`: {md_cell(_value(f.old))[:60]} → {md_cell(_value(f.new))[:60]}"
                     for f in r.fields[:8]] if r.change in ("modified", "renamed") else []
            if r.change in ("modified", "renamed") and len(r.fields) > 8:
                shown.append(f"… {len(r.fields) - 8} more")
            label = f"`{md_cell(r.kind)}/{md_cell(r.id)}`"
            if r.change == "renamed":
                label += f" (from `{md_cell(r.old_path or '')}`)"
            out.append(f"| {r.change} | {label} | {status} | {'<br>'.join(shown)} |")
        if len(report.records) > limit:
            out.append(f"| … | and {len(report.records) - limit} more records | | |")
        out.append("")
    if report.other_files:
        out += ["Configuration and schema files changed: " + ", ".join(f"`{md_cell(f.path)}`" for f in report.other_files), ""]
    out += ["#### Cost impact", "", f"| | {md_cell(i.currency)} |", "|---|---:|",
            f"| one-off cost | {_money(i.one_off)} |", f"| annual run cost before | {_money(i.annual_base)} |",
            f"| annual run cost after | {_money(i.annual_head)} |",
            f"| change in annual run cost | {_signed(i.annual_delta)} |", ""]
    if i.services:
        out += ["#### Services affected", "", "| service | name | through |", "|---|---|---|"]
        for s in i.services[:limit]:
            out.append(f"| `{md_cell(s.id)}` | {md_cell(s.name)} | {md_cell(' → '.join(s.via))} |")
        if len(i.services) > limit:
            out.append(f"| … | and {len(i.services) - limit} more | |")
        out.append("")
    if i.risks_introduced or i.risks_resolved:
        out += ["#### Risks", "", "| | rule | record | finding |", "|---|---|---|---|"]
        for label, items in (("introduced", i.risks_introduced), ("resolved", i.risks_resolved)):
            for f in items[:limit]:
                out.append(f"| {label} | `{md_cell(f.rule)}` | `{md_cell(f.record)}` | {md_cell(f.message)} |")
        out.append("")
    for note in i.notes:
        out.append(f"_Note: {md_cell(note)}_")
    text = "\n".join(out) + "\n"
    if len(text) > MAX_MARKDOWN and limit > 10:
        return render_markdown(report, limit=limit // 2)
    if len(text) > MAX_MARKDOWN:
        text = text[:MAX_MARKDOWN - 100] + "\n\n… (cut to fit GitHub's size limit; run `bir change` locally)\n"
    return text


