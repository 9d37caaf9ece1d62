"""`bir init`, `bir new`, `bir set`, `bir transition`: create and edit records safely."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click

from bir.base.problems import Problem
from bir.cli import EXIT_OK, EXIT_PROBLEMS, cli, resolve_root, root_option


def echo_problems(problems: Iterable[Problem]) -> None:
    for p in problems:
        pos = f"{p.path}:{p.line}:{p.column}" if p.line else p.path
        click.echo(f"{pos}: {p.severity.value}: {p.message} [{p.rule}]", err=True)
        if p.hint:
            click.echo(f"    hint: {p.hint}", err=True)


def _run(fn: object, dry_run: bool = False) -> int:
    """Run an authoring function; a refused edit prints its problems and exits 1 with nothing written."""
    from bir.write.workspace import AuthoringError, Plan

    try:
        plan = fn()  # type: ignore[operator]
    except AuthoringError as exc:
        echo_problems(exc.problems)
        click.echo(f"bir: {exc}", err=True)
        return EXIT_PROBLEMS
    assert isinstance(plan, Plan)
    return _report(plan, dry_run)


def _report(plan: object, dry_run: bool = False) -> int:
    from bir.write.workspace import Plan

    assert isinstance(plan, Plan)
    if plan.problems:
        echo_problems(plan.problems)
        click.echo(f"bir: {len(plan.problems)} problem(s); nothing was written", err=True)
        return EXIT_PROBLEMS
    for note in plan.notes:
        click.echo(note)
    for e in plan.changed:
        verb = "created" if e.before is None else "changed"
        click.echo(f"{'would be ' + verb if dry_run else verb} {e.path}")
    if not plan.changed and not plan.notes:
        click.echo("nothing changed")
    return EXIT_OK


@cli.command("init")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="The register's name in bir.yaml (default: the folder's name).")
@click.option("--force", is_flag=True, help="Write into a folder that is not empty (existing files are never overwritten).")
@click.option("--bir-source", "bir_source", default=None, metavar="SOURCE",
              help="The exact bir the register's workflows and pre-commit hook install: a git commit "
                   "(git+https://github.com/<owner>/bir@<commit id>) or an archive with its hash (https://...whl#sha256=...). "
                   "Default: where this bir came from, when that is exact.")
def init_cmd(directory: Path, name: str | None, force: bool, bir_source: str | None) -> int:
    """Create a new register repository in DIRECTORY (default: the current folder).

    Writes bir.yaml, the schemas, a few example records, the GitHub workflow, pull-request template,
    CODEOWNERS, pre-commit configuration and editor settings. The result validates clean.
    """
    from bir.write.scaffold import init

    written, skipped = init(directory, name=name, force=force, bir_source=bir_source)
    for rel in written:
        click.echo(f"created {rel}")
    for rel in skipped:
        click.echo(f"kept existing {rel}")
    from bir.write.scaffold import REQUIREMENTS, pinned

    if not pinned(directory):
        click.echo(f"note: the workflows will not run until {REQUIREMENTS} names an exact bir (see its comments, "
                   "or run bir init again with --bir-source)", err=True)
    click.echo(f"a new register in {directory}: run `bir validate {directory}`")
    return EXIT_OK


@cli.command("new")
@click.argument("kind")
@click.option("--id", "record_id", default=None, help="The new record's id (default: the next free <prefix>-<n>).")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="A field of the new record (repeatable; dotted paths).")
@click.option("--dry-run", is_flag=True, help="Print the record instead of writing it.")
@root_option
def new_cmd(kind: str, record_id: str | None, sets: tuple[str, ...], dry_run: bool, root: Path | None) -> int:
    """Write a new record of KIND with defaults from bir.yaml, checked before it is written.

    The record starts in the initial state of its lifecycle model, dated today, with a
    `# yaml-language-server` schema line. Example: `bir new hardware --set owner=team-it --set class=laptop`.
    """
    from bir.write.authoring import new_record
    from bir.write.workspace import AuthoringError

    try:
        plan = new_record(resolve_root(root), kind, sets, record_id, dry_run=dry_run)
    except AuthoringError as exc:
        echo_problems(exc.problems)
        click.echo(f"bir: {exc}", err=True)
        return EXIT_PROBLEMS
    if dry_run and not plan.problems:
        click.echo(plan.edits[0].after.decode("utf-8"), nl=False)
        return EXIT_OK
    return _report(plan)


@cli.command("set")
@click.argument("args", nargs=-1, required=True, metavar="[ID] FIELD=VALUE...")
@click.option("--where", default=None, metavar="FILTER",
              help="Edit every record matching FIELD=VALUE[,FIELD=VALUE...] (e.g. kind=hardware,class=laptop) instead of one ID.")
@click.option("--dry-run", is_flag=True, help="Check and list the edits without writing.")
@root_option
def set_cmd(args: tuple[str, ...], where: str | None, dry_run: bool, root: Path | None) -> int:
    """Set fields of a record (or of every record matching --where), keeping comments and layout.

    FIELD=VALUE sets (dotted paths create nested fields), FIELD= removes, FIELD+=VALUE appends to a
    list, FIELD-=VALUE removes from a list. Values are read as plain YAML scalars (true, false, null,
    numbers; anything else is text); [a, b] and {k: v} as flow YAML. Every edited record is checked
    before anything is written; with several records, either all are written or none.
    """
    from bir.write.authoring import set_fields

    ids, sets = ([], list(args)) if where else ([args[0]], list(args[1:]))
    r = resolve_root(root)
    return _run(lambda: set_fields(r, ids, sets, where, dry_run=dry_run), dry_run)


@cli.command("transition")
@click.argument("args", nargs=-1, required=True, metavar="[ID] STATE")
@click.option("--where", default=None, metavar="FILTER", help="Move every record matching FIELD=VALUE[,...] instead of one ID.")
@click.option("--date", "date", default=None, metavar="DATE", help="The date the state was entered (default: today).")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="Fields the new state needs (repeatable).")
@click.option("--dry-run", is_flag=True, help="Check and list the edits without writing.")
@root_option
def transition_cmd(args: tuple[str, ...], where: str | None, date: str | None, sets: tuple[str, ...], dry_run: bool,
                   root: Path | None) -> int:
    """Move a record to another lifecycle state, dated in status_dates.

    Refused, with nothing written, when the lifecycle model in bir.yaml does not allow the move or
    the new state's required fields are missing. Example:
    `bir transition srv-old-01 retired --set retirement.reason="replaced by srv-new-01"`.
    """
    from bir.base.problems import UsageError
    from bir.write.authoring import transition

    expected = 1 if where else 2
    if len(args) != expected:
        raise UsageError("give ID STATE, or STATE with --where" if not where else "with --where, give only STATE")
    ids, state = ([], args[0]) if where else ([args[0]], args[1])
    r = resolve_root(root)
    return _run(lambda: transition(r, ids, state, where, date=date, sets=sets, dry_run=dry_run), dry_run)
