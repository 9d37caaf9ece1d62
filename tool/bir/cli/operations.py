"""`bir assign`, `bir return` and `bir audit`: hand-outs and stock-takes, written as ordinary edits."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bir.cli import EXIT_OK, EXIT_PROBLEMS, cli, resolve_root, root_option
from bir.cli.authoring import _run


@cli.command("assign")
@click.argument("record_id", metavar="ID")
@click.argument("holder", metavar="PERSON|LOCATION")
@click.option("--date", "date", default=None, metavar="DATE", help="The day the holder receives it (default: today).")
@click.option("--accepted-on", "accepted_on", default=None, metavar="DATE",
              help="The day the holder signed for it (needed where the assignments policy in bir.yaml asks for it).")
@click.option("--acceptance", default=None, metavar="REF", help="Reference of the signed acceptance (form, ticket or URL).")
@click.option("--dry-run", is_flag=True, help="Check and list the edit without writing.")
@root_option
def assign_cmd(record_id: str, holder: str, date: str | None, accepted_on: str | None, acceptance: str | None,
               dry_run: bool, root: Path | None) -> int:
    """Hand a device out to a person (a party) or a location (a facility, e.g. a loan pool).

    Writes `assigned_to` and `assignment.date` (and the acceptance), checked before it is written; the
    commit that carries it is the hand-out's history (`bir report assignments`). Refused, with nothing
    written, for a device that has ended, a holder that is not active, or a missing acceptance the policy
    asks for. Example: `bir assign lt-0013 mark-evans --accepted-on 2026-11-30 --acceptance HO-2026-114`.
    """
    from bir.write.assign import assign

    r = resolve_root(root)
    return _run(lambda: assign(r, record_id, holder, date=date, accepted_on=accepted_on, acceptance=acceptance,
                               dry_run=dry_run), dry_run)


@cli.command("return")
@click.argument("record_id", metavar="ID")
@click.option("--date", "date", default=None, metavar="DATE", help="The day it came back (default: today).")
@click.option("--dry-run", is_flag=True, help="Check and list the edit without writing.")
@root_option
def return_cmd(record_id: str, date: str | None, dry_run: bool, root: Path | None) -> int:
    """Take a device back: `assigned_to` is removed and `assignment.returned_on` set."""
    from bir.write.assign import return_device

    r = resolve_root(root)
    return _run(lambda: return_device(r, record_id, date=date, dry_run=dry_run), dry_run)


@cli.command("audit")
@click.argument("scan", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--location", required=True, metavar="ID", help="The facility counted.")
@click.option("--auditor", required=True, metavar="PARTY", help="Who counted (set as verified_by on the records seen).")
@click.option("--date", "date", default=None, metavar="DATE", help="The day of the stock-take (default: today).")
@click.option("--classes", default=None, metavar="CLASS,...", help="Count only these hardware classes (e.g. laptop,monitor).")
@click.option("--id", "audit_id", default=None, help="The audit record's id (default: aud-<date>-<location>).")
@click.option("--note", default=None, help="What was counted and what was left out (scope.note).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@click.option("--dry-run", is_flag=True, help="Compare and report without writing.")
@root_option
def audit_cmd(scan: Path, location: str, auditor: str, date: str | None, classes: str | None, audit_id: str | None,
              note: str | None, fmt: str, dry_run: bool, root: Path | None) -> int:
    """Compare a stock-take's SCAN (asset tags or serial numbers: one a line, or a CSV with an asset_tag or
    serial_number column) with the register at a location, and record it.

    Reports the records present, missing, in the wrong place, and the values that match no record; writes
    the audit record and sets last_verified / verified_by on the records seen where they belong (never on a
    mismatch), all or nothing. Exit codes: 0 the scan and the register agree, 1 mismatches (recorded), 2
    usage error.
    """
    from bir.cli.authoring import echo_problems
    from bir.write.audit import audit
    from bir.write.workspace import AuthoringError

    wanted = tuple(c.strip() for c in classes.split(",") if c.strip()) if classes else ()
    try:
        result = audit(resolve_root(root), scan, location, auditor=auditor, date=date, classes=wanted, audit_id=audit_id,
                       note=note, dry_run=dry_run)
    except AuthoringError as exc:
        echo_problems(exc.problems)
        click.echo(f"bir: {exc}", err=True)
        return EXIT_PROBLEMS
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        from bir.base.escape import terminal

        for f in result.findings:
            click.echo(f"{terminal(f.record or f.value)}: {terminal(f.message)} [{f.rule}]")
        for e in result.plan.changed:
            click.echo(f"{'would write' if dry_run else 'wrote'} {e.path}")
        click.echo(f"{result.seen} seen, {len(result.present)} present, {len(result.missing)} missing, "
                   f"{len(result.wrong_place)} in the wrong place, {len(result.unexpected)} unexpected")
    return EXIT_PROBLEMS if result.findings else EXIT_OK
