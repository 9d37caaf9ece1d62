"""Rendering a change report: text for people, Markdown for the pull request. Record text reaches the
terminal only through `escape.terminal` and Markdown only through `escape.markdown`; `--format github`
prints annotations and this one verdict line, never record text on a line of its own."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from bir.base.escape import markdown as md
from bir.base.escape import terminal
from bir.base.problems import Problem
from bir.change.model import ChangeReport
from bir.check.reporters import summary_line
from bir.history.changerecord import ChangeRecord

MAX_RECORD_ROWS = 200
MAX_PROBLEM_ROWS = 200
MAX_MARKDOWN = 65_000
MAX_VALUE = 60  # characters of a field value shown in a table cell


def _value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, default=str)


def _cut(text: str, limit: int = MAX_VALUE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _money(v: Decimal) -> str:
    return f"{v:,.2f}"


def _signed(v: Decimal) -> str:
    return ("+" if v > 0 else "") + _money(v)


def all_problems(report: ChangeReport) -> list[Problem]:
    return report.violations + report.head_problems + report.base_rule_problems


def validated(report: ChangeReport) -> str:
    """What validating the head's whole register found, in `bir validate`'s words ("" when it was not)."""
    return "" if report.head_summary is None else f"the head's register: {summary_line(report.head_summary)}"


def verdict(report: ChangeReport) -> str:
    n = sum(1 for p in report.violations if p.is_error)
    h = sum(1 for p in report.head_problems if p.is_error)
    b = sum(1 for p in report.base_rule_problems if p.is_error)
    if n == 0 and h == 0 and b == 0:
        notes = []
        if report.rules:
            notes.append("changes the rules: review them")
        if report.impact.risks_introduced:
            notes.append(f"{len(report.impact.risks_introduced)} new risk(s) below the blocking severity")
        return "✅ No policy violations" + (f" ({'; '.join(notes)})" if notes else "")
    parts = []
    if n:
        parts.append(f"{n} policy violation{'s' if n != 1 else ''}")
    if h:
        parts.append(f"{h} validation error{'s' if h != 1 else ''} on the head")
    if b:
        parts.append(f"{b} error{'s' if b != 1 else ''} by the base's rules")
    return "❌ " + ", ".join(parts)


def compared(report: ChangeReport, short: bool = True) -> str:
    """What the head was compared with, in words."""
    base = report.base[:7] if short else report.base
    if report.base_tip and report.base_tip != report.base:
        return (f"the merge base {base} of {report.base_ref or report.base_tip[:7]} (at {report.base_tip[:7]}) and the head: "
                "changes merged there since are not this change's")
    return f"{report.base_ref or base} ({base})" if report.base_ref and report.base_ref != report.base else base


def render_text(report: ChangeReport) -> str:
    c = report.counts()
    head = report.head[:7] if report.head else "the working tree"
    lines = [verdict(report).replace("✅ ", "").replace("❌ ", ""),
             f"compared {head} with {terminal(compared(report))}",
             f"records: {c['added']} added, {c['modified']} modified, {c['renamed']} renamed, {c['removed']} removed"]
    if report.head_summary is not None:
        lines.append(validated(report))
    for r in report.records:
        what = f"{r.change:<8} {r.kind}/{terminal(r.id)}"
        if r.change == "renamed":
            what += f" (from {terminal(r.old_path or '')})"
        if r.emptied:
            what += " (the file holds no record)"
        if r.path_taken:
            what += f" (path: {' -> '.join(r.path_taken)})"
        lines.append(what)
        for fc in (r.fields[:50] if r.change in ("modified", "renamed") else []):
            lines.append(f"    {terminal(fc.path)}: {terminal(_cut(_value(fc.old), 200))} -> {terminal(_cut(_value(fc.new), 200))}")
        if r.change in ("modified", "renamed") and len(r.fields) > 50:
            lines.append(f"    … and {len(r.fields) - 50} more fields")
    if report.rules:
        lines.append("rules changed (the base's rules judged this change; the head's must also hold):")
        for f in report.rules.files:
            lines.append(f"  {f.status} {terminal(f.path)}")
        for fc in report.rules.config:
            lines.append(f"    bir.yaml {terminal(fc.path)}: {terminal(_cut(_value(fc.old), 200))} -> {terminal(_cut(_value(fc.new), 200))}")
        for path, fields in report.rules.schemas.items():
            for fc in fields[:50]:
                lines.append(f"    {terminal(path)} {terminal(fc.path)}: {terminal(_cut(_value(fc.old), 120))} -> "
                             f"{terminal(_cut(_value(fc.new), 120))}")
    for ofile in report.other_files:
        lines.append(f"{'changed':<8} {terminal(ofile.path)}")
    for p in report.violations + report.head_problems:
        pos = f"{p.path}:{p.line}:{p.column}" if p.line else p.path
        lines.append(f"{terminal(pos)}: {p.severity.value}: {terminal(p.message)} [{p.rule}]")
    for p in report.base_rule_problems:
        pos = f"{p.path}:{p.line}:{p.column}" if p.line else p.path
        lines.append(f"{terminal(pos)}: {p.severity.value}: by the base's rules: {terminal(p.message)} [{p.rule}]")
    i = report.impact
    lines.append(f"one-off cost: {_money(i.one_off)} {i.currency}; annual run cost of the changed records: "
                 f"{_money(i.annual_base)} -> {_money(i.annual_head)} {i.currency} ({_signed(i.annual_delta)} to the register's total)")
    for lc in i.licences:
        lines.append(f"licence {terminal(lc.licence)} ({lc.metric}): {lc.consumption_before} -> {lc.consumption_after} used of "
                     f"{lc.quantity_after}; true-up {_money(lc.true_up_before or Decimal(0))} -> "
                     f"{_money(lc.true_up_after or Decimal(0))} {i.currency}")
    lines.append("services affected: " + (", ".join(terminal(s.id) for s in i.services) or "none"))
    for sp in i.spof_introduced:
        lines.append(f"single point of failure introduced: {terminal(sp.record)} for {terminal(sp.service)}")
    for sp in i.spof_resolved:
        lines.append(f"single point of failure resolved: {terminal(sp.record)} for {terminal(sp.service)}")
    for risk in i.risks_introduced:
        lines.append(f"risk introduced ({risk.severity}): {terminal(risk.message)} [{risk.rule}]")
    for risk in i.risks_resolved:
        lines.append(f"risk resolved ({risk.severity}): {terminal(risk.message)} [{risk.rule}]")
    lines.append(f"impact computed over {i.examined} record(s) the change can affect")
    for note in i.notes:
        lines.append(f"note: {terminal(note)}")
    return "\n".join(lines) + "\n"


def render_markdown(report: ChangeReport, limit: int = MAX_RECORD_ROWS) -> str:
    """A verdict line, then tables; large changes summarised to stay within a comment's 65,536 characters."""
    c = report.counts()
    i = report.impact
    out = [f"### {verdict(report)}", "",
           f"**Register change**: {md(report.head[:7] if report.head else 'working tree')} compared with "
           f"{md(compared(report))}: {c['added']} added, {c['modified']} modified, {c['renamed']} renamed, "
           f"{c['removed']} removed; one-off cost **{_money(i.one_off)} {md(i.currency)}**, annual run cost "
           f"**{_signed(i.annual_delta)} {md(i.currency)}**, {len(i.services)} service(s) affected.", ""]
    if report.head_summary is not None:
        found = report.head_summary
        out[-1:-1] = ["", f"Validated the head's whole register: {found.records} records, **{found.errors} error(s)**, "
                          f"{found.warnings} warning(s)."]
    problems = all_problems(report)
    if problems:
        out += ["#### Policy violations and head problems", "", "| file | line | rule | message |", "|---|---|---|---|"]
        base_only = {id(p) for p in report.base_rule_problems}
        for p in problems[:MAX_PROBLEM_ROWS]:
            prefix = "by the base's rules: " if id(p) in base_only else ""
            out.append(f"| {md(p.path)} | {p.line or ''} | `{p.rule}` | {md(prefix + _cut(p.message, 300))} |")
        if len(problems) > MAX_PROBLEM_ROWS:
            out.append(f"| … | | | and {len(problems) - MAX_PROBLEM_ROWS} more |")
        out.append("")
    if report.rules:
        out += ["#### Rules changed", "", "The base's rules judged this change; its records must also pass the head's.", "",
                "| file | field | before | after |", "|---|---|---|---|"]
        for fc in report.rules.config[:limit]:
            out.append(f"| bir.yaml | {md(fc.path)} | {md(_cut(_value(fc.old)))} | {md(_cut(_value(fc.new)))} |")
        for path, fields in report.rules.schemas.items():
            for fc in fields[:limit]:
                out.append(f"| {md(path)} | {md(fc.path)} | {md(_cut(_value(fc.old)))} | {md(_cut(_value(fc.new)))} |")
        for f in report.rules.files:
            if f.path != "bir.yaml" and f.path not in report.rules.schemas:
                out.append(f"| {md(f.path)} | ({ {'A': 'added', 'D': 'deleted', 'M': 'changed', 'R': 'renamed'}[f.status] }) | | |")
        out.append("")
    if report.records:
        out += ["#### Records changed", "", "| change | record | status | fields |", "|---|---|---|---|"]
        for r in report.records[:limit]:
            status = md(r.new_status or r.old_status or "")
            if r.old_status and r.new_status and r.old_status != r.new_status:
                status = " → ".join(md(s) for s in (r.path_taken or (r.old_status, r.new_status)))
            shown = [f"{md(f.path)}: {md(_cut(_value(f.old)))} → {md(_cut(_value(f.new)))}"
                     for f in r.fields[:8]] if r.change in ("modified", "renamed") else []
            if r.change in ("modified", "renamed") and len(r.fields) > 8:
                shown.append(f"… {len(r.fields) - 8} more")
            label = f"{md(r.kind)}/{md(r.id)}"
            if r.change == "renamed":
                label += f" (from {md(r.old_path or '')})"
            if r.emptied:
                label += " (emptied)"
            out.append(f"| {r.change} | {label} | {status} | {'<br>'.join(shown)} |")
        if len(report.records) > limit:
            out.append(f"| … | and {len(report.records) - limit} more records | | |")
        out.append("")
    if report.other_files:
        out += ["Other files changed: " + ", ".join(md(f.path) for f in report.other_files), ""]
    out += ["#### Cost impact", "", f"| | {md(i.currency)} |", "|---|---:|",
            f"| one-off cost | {_money(i.one_off)} |",
            f"| annual run cost of the changed records, before | {_money(i.annual_base)} |",
            f"| annual run cost of the changed records, after | {_money(i.annual_head)} |",
            f"| change in the register's annual run cost | {_signed(i.annual_delta)} |"]
    if i.licences:
        out.append(f"| change in licence true-up cost | {_signed(i.true_up_delta)} |")
    out.append("")
    if i.licences:
        out += ["#### Licences", "", "| licence | metric | used before | used after | quantity | true-up after |",
                "|---|---|---:|---:|---:|---:|"]
        for lc in i.licences[:limit]:
            out.append(f"| {md(lc.licence)} | {md(lc.metric)} | {lc.consumption_before} | {lc.consumption_after} | "
                       f"{lc.quantity_after} | {_money(lc.true_up_after or Decimal(0))} |")
        out.append("")
    if i.services:
        out += ["#### Services affected", "", "| service | name | through |", "|---|---|---|"]
        for s in i.services[:limit]:
            out.append(f"| {md(s.id)} | {md(s.name)} | {md(' → '.join(s.via))} |")
        if len(i.services) > limit:
            out.append(f"| … | and {len(i.services) - limit} more | |")
        out.append("")
    if i.spof_introduced or i.spof_resolved:
        out += ["#### Single points of failure", "", "| | service | component |", "|---|---|---|"]
        for label, points in (("introduced", i.spof_introduced), ("resolved", i.spof_resolved)):
            for sp in points[:limit]:
                out.append(f"| {label} | {md(sp.service)} | {md(sp.record)} |")
        out.append("")
    if i.risks_introduced or i.risks_resolved:
        out += ["#### Risks", "", "| | severity | rule | record | finding |", "|---|---|---|---|---|"]
        for label, risks in (("introduced", i.risks_introduced), ("resolved", i.risks_resolved)):
            for risk in risks[:limit]:
                out.append(f"| {label} | {risk.severity} | `{risk.rule}` | {md(risk.record)} | {md(_cut(risk.message, 300))} |")
        out.append("")
    out.append(f"_The impact covers the {i.examined} records the change can affect (the changed records, what rests on "
               "them, the services they serve with all their components, the licences they consume)._")
    for note in i.notes:
        out.append(f"_Note: {md(note)}_")
    text = "\n".join(out) + "\n"
    if len(text) > MAX_MARKDOWN and limit > 10:
        return render_markdown(report, limit=limit // 2)
    if len(text) > MAX_MARKDOWN:
        text = text[:MAX_MARKDOWN - 100].rsplit("\n", 1)[0] + "\n\n… (cut to fit GitHub's size limit; run `bir change` locally)\n"
    return text


def record_markdown(record: ChangeRecord) -> str:
    """The change record's section of the pull-request comment."""
    if not record.problems:
        return "#### Change record\n\n✅ The pull request states every required field of the change record.\n"
    lines = ["#### Change record", "", "❌ The pull request's change record is incomplete:", ""]
    lines += [f"- {md(p.message)}" for p in record.problems]
    return "\n".join(lines) + "\n"
