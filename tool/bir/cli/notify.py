"""`bir notify github`: the register's upcoming deadlines as GitHub issues."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bir.cli import EXIT_OK, cli, resolve_root, root_option

PAST = {"open": "opened", "update": "updated", "reopen": "reopened", "close": "closed"}


@cli.group("notify")
def notify_group() -> None:
    """Tell people about upcoming deadlines where they already work."""


@notify_group.command("github")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Take the deadlines of the lifecycle report on DATE (YYYY-MM-DD; default today).")
@click.option("--repository", envvar="GITHUB_REPOSITORY", default=None, metavar="OWNER/NAME",
              help="The repository whose issues hold the deadlines (environment: GITHUB_REPOSITORY, which GitHub "
                   "Actions sets).")
@click.option("--api-url", envvar="GITHUB_API_URL", default="https://api.github.com", show_default=True,
              help="GitHub's REST API (https only; environment: GITHUB_API_URL, which GitHub Actions sets).")
@click.option("--pause", type=click.FloatRange(0, 60), default=1.0, show_default=True,
              help="Seconds between two writes, as GitHub asks of integrations.")
@click.option("--dry-run", is_flag=True, help="Read the issues and say what would change; write nothing.")
@root_option
def notify_github(as_of: str | None, repository: str | None, api_url: str, pause: float, dry_run: bool,
                  root: Path | None) -> int:
    """Open one issue per upcoming deadline of the lifecycle report (`bir report lifecycle`: warranty, support,
    life, contract, licence and subscription ends, notice deadlines), labelled `bir-deadline`, by deadline,
    record kind and owner; update it while it is open and close it when the register no longer shows it.

    Reruns never duplicate: a marker in each issue names its deadline. Issues a person closed stay closed.
    The token is read from GITHUB_TOKEN (or GH_TOKEN), never from an option. Exit codes: 0 done, 2 usage,
    configuration or GitHub error (rate limit, missing permission, offline), 3 internal error.
    """
    from bir.api import evaluation
    from bir.base import escape
    from bir.base.problems import UsageError
    from bir.cli.report import warn_point
    from bir.write.githubapi import GitHub
    from bir.write.notify import notify_github

    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None
    if not repository:
        raise UsageError("no repository: set GITHUB_REPOSITORY to owner/name (GitHub Actions sets it) or give --repository")
    if token is None and not dry_run:
        raise UsageError("GITHUB_TOKEN is not set; in a workflow pass `env: GITHUB_TOKEN: ${{ github.token }}` "
                         "with `permissions: issues: write`")
    github = GitHub(repository, token, api=api_url, pause=pause)
    ev = evaluation(resolve_root(root), as_of=as_of)
    warn_point(ev.point, list(ev.loaded.problems))

    def say(verb: str, number: int | None, title: str) -> None:
        where = f" #{number}" if number else ""
        click.echo(f"would {verb}{where}: {escape.terminal(title)}" if dry_run else
                   f"{PAST[verb]}{where}: {escape.terminal(title)}")

    outcome = notify_github(ev, github, dry_run=dry_run, progress=say)
    counts = {verb: sum(1 for v, _, _ in outcome.done if v == verb) for verb in PAST}
    summary = ", ".join(f"{n} {'to ' + verb if dry_run else PAST[verb]}" for verb, n in counts.items())
    click.echo(f"{outcome.deadlines} upcoming deadline(s): {summary}, {outcome.unchanged} unchanged")
    if outcome.kept_open:
        click.echo(f"bir: warning: {outcome.kept_open} issue(s) left open: the register has validation errors, so a "
                   "deadline missing from the report may be a broken record, not a resolved one; run `bir validate`",
                   err=True)
    return EXIT_OK
