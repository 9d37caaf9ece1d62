"""`bir import csv`, `bir export`, `bir reconcile`: data in from other tools, out to others, and checked
against what discovery sees."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bir.base.problems import UsageError
from bir.cli import EXIT_OK, EXIT_PROBLEMS, cli, resolve_root, root_option


@cli.group("import")
def import_group() -> None:
    """Bring records in from other tools' exports."""


@import_group.command("csv")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", required=True, help="The kind of the records the rows become (e.g. hardware).")
@click.option("--mapping", "mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A YAML file mapping other column names to fields (Snipe-IT's asset export needs none).")
@click.option("--owner", default=None, metavar="PARTY", help="The owner of new records (a party id).")
@click.option("--update", is_flag=True, help="Also change existing records (matched by id, asset tag or serial number).")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--delimiter", type=click.Choice([",", ";", "tab", "|"]), default=None,
              help="The column delimiter (default: detected from the header).")
@click.option("--decimal", type=click.Choice([".", ","]), default=None,
              help="The decimal mark of amounts, e.g. ',' for 1.299,00 (default: detected from the amounts).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@root_option
def import_csv_cmd(file: Path, kind: str, mapping: Path | None, owner: str | None, update: bool, dry_run: bool,
                   delimiter: str | None, decimal: str | None, fmt: str, root: Path | None) -> int:
    """Import rows of a CSV file as records of KIND, each checked before it is written.

    Every rejected row is reported with its row number (the header is row 1), column and reason; the
    other rows are imported. Existing records change only with --update; a second run changes nothing.
    Exit codes: 0 all rows imported or unchanged, 1 some rows rejected, 2 usage error (nothing written).
    """
    from bir.write.importers import import_csv

    result = import_csv(resolve_root(root), file, kind, mapping_path=mapping, owner=owner, update=update, dry_run=dry_run,
                        delimiter="\t" if delimiter == "tab" else delimiter, decimal=decimal)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        for r in result.rejected:
            col = f" column '{r.column}'" if r.column else ""
            click.echo(f"{file}: row {r.row}{col}: rejected: {r.reason}", err=True)
        verb = "would be " if dry_run else ""
        click.echo(f"{len(result.created)} {verb}created, {len(result.updated)} {verb}updated, "
                   f"{len(result.unchanged)} unchanged, {len(result.skipped)} existing (not changed without --update), "
                   f"{len({r.row for r in result.rejected})} rejected")
    return EXIT_PROBLEMS if result.rejected else EXIT_OK


@cli.command("export")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["json", "csv", "sqlite", "cyclonedx"]))
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Where to write: a file (json, cyclonedx: default standard output; sqlite: required) "
                   "or a folder (csv: one file per kind; required).")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Export the register as it stood at the end of DATE (YYYY-MM-DD), from git history.")
@root_option
def export_cmd(fmt: str, out: Path | None, as_of: str | None, root: Path | None) -> int:
    """Export the register's valid records as json, csv (one file per kind, with a UTF-8 byte-order mark),
    sqlite (typed tables, relations, exchange rates and the report figures as of the export date, with a
    datasette metadata file beside it) or cyclonedx (1.6 JSON, with the vulnerabilities (VEX) of the pinned
    OSV advisories that match its software).

    Records with errors are left out and reported; run `bir validate` to see why.
    """
    from bir.api import open_point
    from bir.cli.report import warn_point
    from bir.write import exporters

    point = open_point(resolve_root(root), as_of=as_of)
    vex = None
    if fmt in ("sqlite", "cyclonedx"):
        from bir.reports import evaluate

        evaluation = evaluate(point)
        result, register = evaluation.loaded, evaluation.register
        if fmt == "cyclonedx":
            from bir.reports.vulnerabilities import vex_of

            vex = vex_of(evaluation.context)
    else:
        result = point.load()
        register = result.register
    warn_point(point, list(result.problems))
    if fmt in ("json", "cyclonedx"):
        text = exporters.to_json(register) if fmt == "json" else exporters.cyclonedx_json(register, vex)
        if out is None:
            sys.stdout.write(text)
        else:
            from bir.base.atomic import write_text

            write_text(out, text)
            click.echo(f"wrote {out} ({len(register)} records)", err=True)
    elif fmt == "csv":
        if out is None:
            raise UsageError("export csv writes one file per kind: give a folder with --out")
        for path in exporters.write_csv(register, out):
            click.echo(f"wrote {path}", err=True)
    else:
        if out is None:
            raise UsageError("export sqlite needs a file: --out register.sqlite")
        meta = exporters.write_sqlite(evaluation, out)
        click.echo(f"wrote {out} ({len(register)} records, figures as of {point.day.isoformat()}) and {meta}; "
                   f"browse them with `datasette {out} --metadata {meta}`", err=True)
    return EXIT_OK


@cli.command("reconcile")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--stale-days", type=click.IntRange(0, None), default=30, show_default=True,
              help="An in-service record not seen for more days than this is reported.")
@click.option("--write", is_flag=True,
              help="Create records for unregistered devices and update matched ones (for a pull request).")
@click.option("--owner", default=None, metavar="PARTY", help="Owner of the records --write creates.")
@click.option("--class", "hw_class", default="other", show_default=True, help="Hardware class of the records --write creates.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@root_option
def reconcile_cmd(file: Path, stale_days: int, write: bool, owner: str | None, hw_class: str, fmt: str,
                  root: Path | None) -> int:
    """Compare a discovery scan (CSV or JSON: hostname, serial number, MAC address, software and version,
    last seen) with the register.

    Reports devices seen but not registered, in-service records not seen for --stale-days, and
    attributes that differ. Exit codes: 0 the scan and the register agree, 1 findings, 2 usage error.
    """
    from bir.write.reconcile import reconcile
    from bir.write.workspace import AuthoringError

    try:
        result = reconcile(resolve_root(root), file, stale_days=stale_days, write=write, owner=owner, hw_class=hw_class)
    except AuthoringError as exc:
        from bir.cli.authoring import echo_problems

        echo_problems(exc.problems)
        click.echo(f"bir: {exc}", err=True)
        return EXIT_PROBLEMS
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        from bir.base.escape import terminal

        for f in result.findings:  # a scan's device names are the scanner's text: shown, never obeyed
            click.echo(f"{terminal(f.record or f.device)}: {terminal(f.message)} [{f.rule}]")
        for path in result.written:
            click.echo(f"wrote {path}")
        click.echo(f"{result.devices} devices in the scan, {result.matched} matched, {len(result.findings)} finding(s)")
    return EXIT_PROBLEMS if result.findings else EXIT_OK
