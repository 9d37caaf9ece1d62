"""`bir validate`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from bir.cli import cli, resolve_root


@cli.command("validate")
@click.argument("register_root", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "github", "json"]), default=None,
              help="Output format (default: github under GitHub Actions, else text).")
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@click.option("--no-cache", is_flag=True, help="Ignore the cache of the last run.")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Validate the register as it stood at the end of DATE (YYYY-MM-DD; a past day is read from git "
                   "history with the rules of that day), judged on that day.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Worker processes (default: one per core).")
def validate_cmd(register_root: Path | None, fmt: str | None, strict: bool, no_cache: bool, as_of: str | None,
                 jobs: int | None) -> int:
    """Check every record: strict YAML, its schema, its lifecycle, and the rules across records.

    Exit codes: 0 clean, 1 problems found (with --strict, warnings too), 2 usage or configuration error,
    3 internal error.
    """
    from bir.api import validate
    from bir.cache.validation import exit_code
    from bir.check import reporters

    result = validate(resolve_root(register_root), as_of=as_of, use_cache=not no_cache, jobs=jobs)
    fmt = fmt or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    out = sys.stdout
    if fmt == "json":
        reporters.as_json(result.summary, result.problems, out)
    elif fmt == "github":
        reporters.github(result.summary, result.problems, out)
        summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_file:
            with open(summary_file, "a", encoding="utf-8") as handle:
                handle.write(reporters.markdown_summary(result.summary, result.problems))
    else:
        reporters.text(result.summary, result.problems, out, colour=reporters.use_colour(sys.stdout))
    return exit_code(result.problems, strict)
