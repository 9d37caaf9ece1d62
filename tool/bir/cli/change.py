"""`bir change`, `bir history` and `bir log`: the change process and the audit trail."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TextIO

import click

from bir.base.escape import terminal
from bir.cli import EXIT_OK, EXIT_PROBLEMS, cli, resolve_root, root_option


def _stdout() -> TextIO:
    return sys.stdout


@cli.command("change")
@root_option
@click.option("--base", "base", default=None, metavar="REF",
              help="The branch the change is made against (e.g. origin/main): the head is compared with their merge base.")
@click.option("--head", "head", default=None, metavar="REF", help="The changed commit (default: the working tree).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "github", "json"]), default="text",
              help="Output format; `github` prints annotations and a verdict line, and appends the markdown to the job summary.")
@click.option("--event", "event", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A GitHub pull_request event payload: check the pull request's change record too.")
@click.option("--markdown-out", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the markdown report to this file (for a pull-request comment).")
def change_cmd(root: Path | None, base: str | None, head: str | None, fmt: str, event: Path | None,
               markdown_out: Path | None) -> int:
    """Compare the head with its merge base with --base: records changed, rules changed, policy violations
    judged by the base's rules, and the impact on everything the change can affect. The head's whole
    register is validated as `bir validate` does (its problems are reported and its errors fail the check),
    so a pull request's job runs this command alone.

    Exit codes: 0 no violations, 1 policy violations, head validation errors, a new risk at the blocking
    severity or an incomplete change record, 2 usage error, 3 internal error.
    """
    from bir.api import change
    from bir.change.render import record_markdown, render_markdown, render_text, validated, verdict
    from bir.check.reporters import write_annotations

    result = change(resolve_root(root), base=base, head=head, event=event)
    report, record = result.report, result.record
    out = _stdout()
    md = (render_markdown(report) if report is not None else "") + (record_markdown(record) if record is not None else "")
    if fmt == "json":
        data = report.to_dict() if report is not None else {}
        if record is not None:
            data["change_record"] = record.to_dict()
        json.dump(data, out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    elif fmt == "markdown":
        out.write(md)
    elif fmt == "github":
        write_annotations(result.problems(), out)
        if report is not None and report.head_summary is not None:
            out.write(validated(report) + "\n")
        out.write((verdict(report) if report is not None else "change record checked") + "\n")
        _append_summary(md)
    else:
        if report is not None:
            out.write(render_text(report))
        if record is not None:
            for p in record.problems:
                out.write(f"{terminal(p.path)}: {p.severity.value}: {terminal(p.message)} [{p.rule}]\n")
            if not record.problems:
                out.write("change record complete\n")
    if markdown_out is not None:
        from bir.base.atomic import write_text

        write_text(markdown_out, md)
    return EXIT_PROBLEMS if result.failed else EXIT_OK


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
        out.write(terminal(f"{e.short} {e.date[:10]} {e.author}{pr}{ct}: {e.change} {e.path}{where} — {e.subject}") + "\n")
        for f in e.fields or []:
            out.write(terminal(f"    {f.path}: {_show(f.old)} -> {_show(f.new)}") + "\n")
    return EXIT_OK


def _show(value: object) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


@cli.command("log")
@root_option
@click.option("--since", "since", default=None, metavar="DATE", help="Only changes merged on or after DATE (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", help="Output format.")
@click.option("--missing-record", is_flag=True,
              help="Only the merged changes whose change record lacks a field bir.yaml requires (exit 1 if any).")
def log_cmd(root: Path | None, since: str | None, fmt: str, missing_record: bool) -> int:
    """The register's change log: merged changes, newest first, with their records and change record (read
    from the commit's `Change-*` trailers, or from the pull-request template a squash merge put in it)."""
    from bir.api import log
    from bir.base.escape import markdown as md_cell

    found = log(resolve_root(root), since=since, missing_record=missing_record)
    entries = [e for e, _missing in found]
    out = _stdout()
    if fmt == "json":
        json.dump([e.to_dict() for e in entries], out, indent=2, ensure_ascii=False)
        out.write("\n")
        return EXIT_PROBLEMS if missing_record and entries else EXIT_OK
    if fmt == "markdown":
        out.write("| date | commit | PR | type | change | records |\n|---|---|---|---|---|---|\n")
    for e, missing in found:
        s = e.summary()
        counts = ", ".join(f"{n} {k}" for k, n in s.items() if n)
        ids = ", ".join(r.id for r in e.records[:10]) + (f" and {len(e.records) - 10} more" if len(e.records) > 10 else "")
        ctype = e.record.get("change_type", "")
        if fmt == "markdown":
            out.write(f"| {e.date[:10]} | `{e.short}` | {f'#{e.pr}' if e.pr else ''} | {md_cell(ctype)} | {md_cell(e.subject)} "
                      f"| {md_cell(counts)}: {md_cell(ids)} |\n")
        else:
            pr = f" #{e.pr}" if e.pr else ""
            out.write(terminal(f"{e.short} {e.date[:10]}{pr} {e.author}{f' [{ctype}]' if ctype else ''}: {e.subject}") + "\n"
                      + terminal(f"    {counts}: {ids}") + "\n")
            if missing:
                out.write(f"    change record lacks: {', '.join(missing)}\n")
    return EXIT_PROBLEMS if missing_record and entries else EXIT_OK
