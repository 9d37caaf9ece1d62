"""`bir report {lifecycle,cost,risk,licences,decisions}` and `bir feed import`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from bir.base.problems import UsageError
from bir.cli import EXIT_OK, cli, resolve_root, root_option

REPORT_NAMES = ("lifecycle", "cost", "risk", "licences", "decisions")


def _parse_day(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--as-of '{text}' is not a date; write YYYY-MM-DD") from exc


def _feeds_as_of(root: Path, as_of: dt.date) -> dict[str, Any] | None:
    """The lifecycle feeds committed at the end of `as_of` (None before the first commit)."""
    from bir.git.plumbing import Git
    from bir.point.asof import commit_as_of
    from bir.read.feeds import FEED_DIR, feeds_from

    sha = commit_as_of(root, as_of)
    if sha is None:
        return None
    reader = Git(root).reader(sha, (FEED_DIR,))
    return feeds_from({path: reader(path) for path in reader.files})


def load_for_report(root: Path, as_of: dt.date) -> tuple[object, dict[str, Any] | None]:
    """The register to evaluate and its feeds: as they stood at the end of a past day (from git), else
    today's (feeds None: read from the working tree)."""
    from bir.check.checker import LoadResult

    result: LoadResult
    feeds = None
    if as_of < dt.date.today():
        try:
            from bir.point.asof import load_register_as_of
        except ImportError as exc:
            raise UsageError("--as-of a past date needs the register's history (bir.timetravel), "
                             "which this version of bir does not have yet") from exc
        result = load_register_as_of(root, as_of.isoformat())
        feeds = _feeds_as_of(root, as_of)
    else:
        from bir.cache.validation import load_register

        result = load_register(root)
    errors = result.errors
    if errors:
        click.echo(f"bir: warning: {errors} validation error(s): the records that have them are left out of the "
                   "report; run `bir validate` to see them", err=True)
    return result.register, feeds


@cli.command("report")
@click.argument("name", type=click.Choice(REPORT_NAMES))
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Evaluate on DATE (YYYY-MM-DD; default today). A past date uses the register as it stood "
                   "at the end of that day; a future date projects today's register.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "csv"]), default="text",
              help="Output format.")
@root_option
def report_cmd(name: str, as_of: str | None, fmt: str, root: Path | None) -> int:
    """Lifecycle, cost, risk, licence and decision reports of the register.

    Every line names the records and the rule behind it. Exit codes: 0 done, 2 usage or configuration
    error (for example a currency without an exchange rate), 3 internal error.
    """
    from bir.base.model import Register
    from bir.reports import build_context, build_report
    from bir.reports.render import render

    day = _parse_day(as_of)
    register, feeds = load_for_report(resolve_root(root), day)
    assert isinstance(register, Register)
    context = build_context(register, day, feeds)
    click.echo(render(build_report(name, register, day, context), fmt), nl=False)
    return EXIT_OK


@cli.group("feed")
def feed_group() -> None:
    """Lifecycle feeds (endoflife.date) pinned in the register."""


@feed_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@root_option
def feed_import(files: tuple[Path, ...], root: Path | None) -> int:
    """Copy endoflife.date API v1 product documents (the JSON of /api/v1/products/<name>) into
    feeds/endoflife/<product>.json, validated and normalised. All files are checked before any is written.
    """
    from bir.read.feeds import import_files

    base = resolve_root(root)
    for path in import_files(base, list(files)):
        click.echo(f"imported {path.relative_to(base).as_posix()}")
    return EXIT_OK
