"""The register as it stood at a commit or at the end of a day, read from git without a checkout.

The configuration and the schemas are read from the same commit as the records, so an old register is
judged by the rules it had then. The day is the committer date of the first-parent commits of the
current branch, in the commit's own time zone: "as of 2026-03-31" is the last commit made on or before
that day as its author's clock showed it.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from bir.base.model import KINDS, Register
from bir.base.problems import Problem, UsageError, error, warning
from bir.cache.validation import Validation, summarise
from bir.check.checker import Candidate, LoadResult, load
from bir.git.plumbing import Git, GitReader
from bir.read.config import CONFIG_FILE, RECORD_DIR, SCHEMA_DIR, load_config
from bir.read.schemas import SchemaSet, compiled_cache_dir


def candidates_at(files: dict[str, str]) -> tuple[list[Candidate], list[Problem]]:
    """The record files of a tree listing, and a problem for each file under registry/ that cannot be one."""
    found: list[Candidate] = []
    problems: list[Problem] = []
    for path in sorted(files):
        parts = path.split("/")
        if parts[0] != RECORD_DIR:
            continue
        if len(parts) != 3:
            problems.append(error(path, 0, 0, "file.location", "a record lives at registry/<kind>/<id>.yaml",
                                  "move it into registry/<kind>/"))
        elif parts[1] not in KINDS:
            problems.append(error(path, 0, 0, "file.unknown-kind", f"folder '{parts[1]}' is not a kind",
                                  f"records live in one of: {', '.join(KINDS)}"))
        elif parts[2].startswith("."):
            continue
        elif not parts[2].endswith(".yaml"):
            problems.append(error(path, 0, 0, "file.extension", f"'{parts[2]}' is not a .yaml record file",
                                  "records are `.yaml` files"))
        else:
            found.append(Candidate(path, parts[1]))
    return found, problems


def schemas_at(root: Path, reader: GitReader) -> SchemaSet:
    """The schemas of a commit: written to a private temporary folder (SchemaSet reads a folder)."""
    names = [p for p in reader.files if p.startswith(SCHEMA_DIR + "/") and p.endswith(".schema.json") and p.count("/") == 1]
    if not names:
        raise UsageError(f"commit {reader.rev[:7]} has no {SCHEMA_DIR}/ folder; it holds no register")
    reader.prefetch(names)
    tmp = Path(tempfile.mkdtemp(prefix="bir-schemas-"))
    for name in names:
        (tmp / name.split("/", 1)[1]).write_bytes(reader(name))
    try:
        return SchemaSet(tmp, cache_dir=compiled_cache_dir())  # reads every schema now
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def register_at(root: Path, rev: str, *, want_data: bool = True, jobs: int | None = None) -> LoadResult:
    """Load (and validate) the register at commit `rev`, its configuration and schemas included."""
    git = Git(root)
    sha = git.resolve(rev)
    reader = git.reader(sha)
    if CONFIG_FILE not in reader.files:
        raise UsageError(f"commit {sha[:7]} has no {CONFIG_FILE}; it holds no register")
    config = load_config(root, text=reader(CONFIG_FILE))
    schemas = schemas_at(root, reader)
    candidates, problems = candidates_at(reader.files)
    reader.prefetch(c.path for c in candidates)  # one cat-file pass for every record
    return load(root, config, schemas, want_data=want_data, candidates=candidates, discovery_problems=problems,
                reader=reader, jobs=jobs)


def parse_day(date_str: str) -> dt.date:
    try:
        return dt.date.fromisoformat(date_str)
    except (TypeError, ValueError):
        raise UsageError(f"'{date_str}' is not a date; give it as YYYY-MM-DD") from None


def commit_as_of(root: Path, date: dt.date | str) -> str | None:
    """The last first-parent commit of the current branch made on or before `date`; None before the first."""
    day = parse_day(date) if isinstance(date, str) else date
    git = Git(root)
    git.require_full_history()
    for sha, cdate in git.first_parent_dates("HEAD"):
        try:
            when = dt.datetime.fromisoformat(cdate).date()
        except ValueError:
            continue
        if when <= day:
            return sha
    return None


def load_register_as_of(root: Path, date_str: str, *, want_data: bool = True, jobs: int | None = None) -> LoadResult:
    """The register as it stood at the end of `date_str`; empty (and one warning) before the first commit."""
    day = parse_day(date_str)
    sha = commit_as_of(root, day)
    if sha is None:
        config = load_config(root)
        return LoadResult(Register(str(root), config), [warning(
            CONFIG_FILE, 0, 0, "history.before-first-commit",
            f"the register had no commit on or before {day.isoformat()}; it was empty then", "give a later date")], 0, {})
    return register_at(root, sha, want_data=want_data, jobs=jobs)


def validate_as_of(root: Path, date_str: str, jobs: int | None = None) -> Validation:
    """`bir validate --as-of DATE`: the register at the end of that day, checked by the rules of that day."""
    result = load_register_as_of(root, date_str, want_data=False, jobs=jobs)
    return Validation(summarise(result), result.problems)

