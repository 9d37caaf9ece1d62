"""`bir report NAME`, `bir feed import` and `bir feed update`."""

from __future__ import annotations

from pathlib import Path

import click

from bir.cli import EXIT_OK, cli, resolve_root, root_option

# The names of bir.reports.REPORTS (a test checks they agree; the reports are not imported to start the CLI).
REPORT_NAMES = ("lifecycle", "cost", "risk", "licences", "decisions", "assignments", "audits", "maintenance",
                "vulnerabilities", "budget")


def warn_point(point: object, problems: list[object] | None = None) -> None:
    """Say on stderr what opening the register found (no commit on that day, ...) and how many records the
    command left out because they have errors."""
    from bir.base.problems import Problem
    from bir.point.point import Point

    assert isinstance(point, Point)
    for p in point.warnings:
        click.echo(f"bir: warning: {p.message}", err=True)
    errors = sum(1 for p in problems or [] if isinstance(p, Problem) and p.is_error)
    if errors:
        click.echo(f"bir: warning: {errors} validation error(s): the records that have them are left out; "
                   "run `bir validate` to see them", err=True)


@cli.command("report")
@click.argument("name", type=click.Choice(REPORT_NAMES))
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Evaluate on DATE (YYYY-MM-DD; default today). A past date uses the register as it stood "
                   "at the end of that day; a future date projects today's register.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "csv"]), default="text",
              help="Output format.")
@root_option
def report_cmd(name: str, as_of: str | None, fmt: str, root: Path | None) -> int:
    """Lifecycle, cost, risk, licence and decision reports of the register, and its assignments (who holds
    what, from git history), audits (stock-take coverage), maintenance, vulnerabilities (pinned OSV
    advisories) and budgets.

    Every line names the records and the rule behind it. Exit codes: 0 done, 2 usage or configuration
    error (for example a currency without an exchange rate), 3 internal error.
    """
    from bir.api import report
    from bir.reports.render import render

    evaluation, rep = report(name, resolve_root(root), as_of=as_of)
    warn_point(evaluation.point, list(evaluation.loaded.problems))
    click.echo(render(rep, fmt), nl=False)
    return EXIT_OK


@cli.group("feed")
def feed_group() -> None:
    """Lifecycle feeds (endoflife.date) pinned in the register."""


@feed_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@root_option
def feed_import(files: tuple[Path, ...], root: Path | None) -> int:
    """Copy endoflife.date API v1 product documents (the JSON of /api/v1/products/<name>) into
    feeds/endoflife/<product>.json, and OSV advisories (one advisory, or an OSV API answer with `vulns`) into
    feeds/osv/<id>.json, validated and normalised. All files are checked before any is written.
    """
    from bir.write.feeds import import_files

    base = resolve_root(root)
    for path in import_files(base, list(files)):
        click.echo(f"imported {path.relative_to(base).as_posix()}")
    return EXIT_OK


@feed_group.command("update")
@click.argument("products", nargs=-1, metavar="[PRODUCT]...")
@click.option("--base-url", default="https://endoflife.date/api/v1", show_default=True, envvar="BIR_FEED_URL",
              help="The endoflife.date API v1 base URL (https only; environment: BIR_FEED_URL).")
@click.option("--timeout", type=click.FloatRange(0.1, 300), default=15.0, show_default=True,
              help="Seconds to wait for each answer (each product is tried three times).")
@click.option("--osv", "osv", is_flag=True,
              help="Instead: ask the OSV database which advisories affect the register's software packages (purls) "
                   "and pin them in feeds/osv/.")
@click.option("--osv-url", default="https://api.osv.dev/v1", show_default=True, envvar="BIR_OSV_URL",
              help="The OSV API base URL for --osv (https only; environment: BIR_OSV_URL).")
@root_option
def feed_update(products: tuple[str, ...], base_url: str, timeout: float, osv: bool, osv_url: str, root: Path | None) -> int:
    """Fetch the endoflife.date documents of PRODUCTs (default: every product pinned in feeds/endoflife/)
    and pin them with the day they were fetched; with --osv, the OSV advisories of the register's software.
    All are fetched and checked before any is written; offline or on any failure nothing changes (exit 2).
    An unchanged document is left as it is.
    """
    from bir.write.feeds import update

    base = resolve_root(root)
    if osv:
        from bir.base.problems import UsageError
        from bir.write.osv import update as update_osv

        if products:
            raise UsageError("--osv asks about the register's own software: give no PRODUCT with it")
        pinned = update_osv(base, base_url=osv_url, timeout=timeout)
        for p in pinned:
            click.echo(f"{'updated' if p.changed else 'unchanged'} {p.path.relative_to(base).as_posix()}")
        click.echo(f"{len(pinned)} advisories affect the register's software packages")
        return EXIT_OK
    for item in update(base, products, base_url=base_url, timeout=timeout):
        where = item.path.relative_to(base).as_posix()
        if item.changed:
            click.echo(f"updated {where} ({item.releases} releases, fetched {item.fetched_on})")
        else:
            click.echo(f"unchanged {where} (as fetched {item.fetched_on or 'before'})")
    return EXIT_OK
