"""`bir change`, `bir history` and `bir log`: the change process and the audit trail."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TextIO

import click

from bir.cli import EXIT_OK, EXIT_PROBLEMS, cli, resolve_root, root_option


def _stdout() -> TextIO:
    return sys.stdout


def _annotations(problems: list[object], out: TextIO) -> None:
    from bir.base.problems import Problem
    from bir.check.reporters import write_annotations

    write_annotations([p for p in problems if isinstance(p, Problem)], out)


def _record_markdown(record: object) -> str:
    from bir.base.escape import markdown as md_cell
    from bir.history.changerecord import ChangeRecord

    assert isinstance(record, ChangeRecord)
    if not record.problems:
        return "#### Change record\n\n✅ The pull request states every required field of the change record.\n"
    lines = ["#### Change record", "", "❌ The pull request's change record is incomplete:", ""]
    lines += [f"- {md_cell(p.message)}" for p in record.problems]
    return "\n".join(lines) + "\n"


@cli.command("change")
@root_option
@click.option("--base", "base", default=None, metavar="REF", help="The commit the change starts from (e.g. origin/main).")
@click.option("--head", "head", default=None, metavar="REF", help="The changed commit (default: the working tree).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "github", "json"]), default="text",
              help="Output format; `github` prints annotations and appends the markdown to the job summary.")
@click.option("--event", "event", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A GitHub pull_request event payload: check the pull request's change record too.")
@click.option("--markdown-out", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the markdown report to this file (for a pull-request comment).")
def change_cmd(root: Path | None, base: str | None, head: str | None, fmt: str, event: Path | None,
               markdown_out: Path | None) -> int:
    """Compare the register at --base with the head: records changed, policy violations, impact.

    Exit codes: 0 no violations, 1 policy violations, head validation errors or an incomplete change
    record, 2 usage error, 3 internal error.
    """
    from bir.base.problems import UsageError
    from bir.history.changerecord import check_event
    from bir.point.point import at_worktree

    register_root = resolve_root(root)
    if base is None and event is None:
        raise UsageError("give --base REF (the commit the change starts from), --event FILE, or both")
    record = check_event(event, at_worktree(register_root, dt.date.today()).config.change_required_fields) if event is not None else None
    out = _stdout()
    failed = bool(record and record.problems)
    if base is None:
        assert record is not None
        md = _record_markdown(record)
        if fmt == "json":
            json.dump({"change_record": record.to_dict()}, out, indent=2, ensure_ascii=False)
            out.write("\n")
        elif fmt == "github":
            _annotations(list(record.problems), out)
            _append_summary(md)
        elif fmt == "markdown":
            out.write(md)
        else:
            for p in record.problems:
                out.write(f"{p.path}: {p.severity.value}: {p.message} [{p.rule}]\n")
            out.write("change record complete\n" if not record.problems else "")
        if markdown_out is not None:
            markdown_out.write_text(md, encoding="utf-8")
        return EXIT_PROBLEMS if failed else EXIT_OK

    from bir.change.compute import compute_change
    from bir.change.render import render_markdown, render_text

    report = compute_change(register_root, base, head)
    md = render_markdown(report) + (_record_markdown(record) if record is not None else "")
    if fmt == "json":
        data = report.to_dict()
        if record is not None:
            data["change_record"] = record.to_dict()
        json.dump(data, out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    elif fmt == "markdown":
        out.write(md)
    elif fmt == "github":
        _annotations([*report.violations, *report.head_problems, *(record.problems if record else [])], out)
        out.write(render_text(report))
        _append_summary(md)
    else:
        out.write(render_text(report))
        if record is not None:
            for p in record.problems:
                out.write(f"{p.path}: {p.severity.value}: {p.message} [{p.rule}]\n")
    if markdown_out is not None:
        markdown_out.write_text(md, encoding="utf-8")
    return EXIT_PROBLEMS if report.failed or failed else EXIT_OK


def _append_summary(md: str) -> None:
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(md)


@cli.command("history")
@root_option
@click.argument("record_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
def history_cmd(root: Path | None, record_id: str, fmt: str) -> int:
    """Every commit that touched the record RECORD_ID, newest first, with its field-level changes.

    Follows renames. Reads the first-parent history of the current branch in one pass.
    """
    from bir.history.trail import record_history

    entries = record_history(resolve_root(root), record_id)
    out = _stdout()
    if fmt == "json":
        json.dump({"id": record_id, "history": [e.to_dict() for e in entries]}, out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
        return EXIT_OK
    for e in entries:
        pr = f" (#{e.pr})" if e.pr else ""
        ct = f" [{e.change_type}]" if e.change_type else ""
        where = f" from {e.old_path}" if e.change == "renamed" else ""
        out.write(f"{e.short} {e.date[:10]} {e.author}{pr}{ct}: {e.change} {e.path}{where} — {e.subject}\n")
        for f in e.fields or []:
            out.write(f"    {f.path}: {_show(f.old)} -> {_show(f.new)}\n")
    return EXIT_OK


def _show(value: object) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


@cli.command("log")
@root_option
@click.option("--since", "since", default=None, metavar="DATE", help="Only changes merged on or after DATE (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", help="Output format.")
def log_cmd(root: Path | None, since: str | None, fmt: str) -> int:
    """The register's change log: merged changes, newest first, with their records and change record."""
    from bir.base.escape import markdown as md_cell
    from bir.history.trail import change_log

    entries = change_log(resolve_root(root), since)
    out = _stdout()
    if fmt == "json":
        json.dump([e.to_dict() for e in entries], out, indent=2, ensure_ascii=False)
        out.write("\n")
        return EXIT_OK
    if fmt == "markdown":
        out.write("| date | commit | PR | type | change | records |\n|---|---|---|---|---|---|\n")
    for e in entries:
        s = e.summary()
        counts = ", ".join(f"{n} {k}" for k, n in s.items() if n)
        ids = ", ".join(r.id for r in e.records[:10]) + (f" and {len(e.records) - 10} more" if len(e.records) > 10 else "")
        ctype = e.record.get("change_type", "")
        if fmt == "markdown":
            out.write(f"| {e.date[:10]} | `{e.short}` | {f'#{e.pr}' if e.pr else ''} | {md_cell(ctype)} | {md_cell(e.subject)} "
                      f"| {md_cell(counts)}: {md_cell(ids)} |\n")
        else:
            pr = f" #{e.pr}" if e.pr else ""
            out.write(f"{e.short} {e.date[:10]}{pr} {e.author}{f' [{ctype}]' if ctype else ''}: {e.subject}\n"
                      f"    {counts}: {ids}\n")
    return EXIT_OK
