"""The register at one point: the working tree, a commit, or the end of a day, resolved once.

`open_point` reads, for that point, everything that gives the records their meaning: `bir.yaml` checked
against the config schema of the same point, `schemas/`, the lifecycle feeds in `feeds/`, the exchange
rates, the commit and the day the figures are evaluated on. Every command takes a `Point` (validate; the
base and the head of a change; every report; the site; exports), so an old register is always judged by the
rules, rates and feeds it had then, and two commands asked about the same day see the same register.

The day is the committer date of the current branch's first-parent commits, in the commit's own time zone:
"as of 2026-03-31" is the last commit made on or before that day as its committer's clock showed it. A day
before today reads that commit; today or a later day reads the working tree (a later day projects it).

Records are read only when asked for (`validation`, `load`, `read_many`), so a point costs little until then:
`bir change` opens two points and reads just the files the change touches. `load` (what the reports and the
site read) takes each file's verdict and data from the result cache (`bir.cache.results`) when its content
was judged before by the same rules, so unchanged content is never parsed again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bir.base.config import Config
from bir.base.layout import CONFIG_FILE, FEED_DIR, RECORD_DIR, SCHEMA_DIR
from bir.base.model import Register
from bir.base.problems import Problem, UsageError
from bir.base.rules import define
from bir.cache.configs import interpreted
from bir.check.ruleset import RuleSet
from bir.read.config import load_config, read_config_file
from bir.read.files import FILE_SYMLINK, Candidate, candidates_at, discover, read_regular
from bir.read.schemas import SchemaSet, compiled_cache_dir

if TYPE_CHECKING:
    from bir.cache.validation import Validation
    from bir.check.checker import LoadResult
    from bir.git.plumbing import Git, GitReader
    from bir.git.worktree import Tracked
    from bir.read.feeds import Feed
    from bir.read.osv import Advisory
    from bir.read.schemas import SharedValidators

BEFORE_FIRST_COMMIT = define("history.before-first-commit", "warning", "history", "the register existed on that day", """
    A day before the register's first commit was asked for (`--as-of`): the register was empty then, and
    every command says so rather than show an empty register as a clean one.
    """)


class Source(Protocol):
    """Where a point's record files come from."""

    def candidates(self) -> tuple[list[Candidate], list[Problem]]: ...

    def reader(self) -> GitReader | None: ...

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]: ...


class WorktreeSource:
    """The files on disk (symbolic links refused)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def candidates(self) -> tuple[list[Candidate], list[Problem]]:
        return discover(self.root)

    def reader(self) -> GitReader | None:
        return None  # the checker reads the files itself (in parallel)

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for p in paths:
            try:
                out[p] = read_regular(self.root, p)
            except OSError:
                out[p] = None
        return out


class CommitSource:
    """The files of one commit, listed only when the whole register is asked for."""

    def __init__(self, git: Git, sha: str) -> None:
        self.git, self.sha = git, sha
        self._reader: GitReader | None = None

    def _listing(self) -> GitReader:
        if self._reader is None:
            self._reader = self.git.reader(self.sha, (RECORD_DIR,))
        return self._reader

    def candidates(self) -> tuple[list[Candidate], list[Problem]]:
        found, problems = candidates_at(self._listing().files)
        for path in self.git.links(self.sha, (RECORD_DIR,)):
            problems.append(FILE_SYMLINK.problem(path, 0, 0, "symbolic link in the register; links are never followed",
                                                 "replace the link with the file itself, or remove it"))
        return found, sorted(problems, key=Problem.sort_key)

    def reader(self) -> GitReader | None:
        reader = self._listing()
        reader.prefetch(reader.files)  # one cat-file pass for every record
        return reader

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        wanted = list(paths)
        blobs = self.git.cat_blobs(f"{self.sha}:{p}" for p in wanted)
        return {p: blobs.get(f"{self.sha}:{p}") for p in wanted}


@dataclass
class Point:
    """The register at one point, with the rules of that point."""

    root: Path
    commit: str | None  # the commit read; None: the working tree
    day: dt.date  # the day figures and rules are evaluated on
    config: Config
    config_bytes: bytes
    schemas: SchemaSet
    source: Source
    warnings: list[Problem] = field(default_factory=list)
    empty: bool = False  # before the first commit: no records
    feed_files: dict[str, bytes] | None = None  # feeds/ of a commit (None: read from the working tree)
    _feeds: dict[str, Feed] | None = None

    @property
    def is_worktree(self) -> bool:
        return self.commit is None and not self.empty

    def describe(self) -> str:
        if self.empty:
            return f"the register before its first commit ({self.day.isoformat()})"
        if self.commit is None:
            return "the working tree"
        return f"commit {self.commit[:7]}"

    @property
    def feeds(self) -> dict[str, Feed]:
        """The lifecycle feeds of this point (an unreadable feed is a usage error: reports never guess)."""
        if self._feeds is None:
            if self.empty:
                self._feeds = {}
            elif self.feed_files is not None:
                from bir.read.feeds import feeds_from

                self._feeds = feeds_from(self.feed_files)
            else:
                from bir.read.feeds import load_feeds

                self._feeds = load_feeds(self.root)
        return self._feeds

    @cached_property
    def advisories(self) -> dict[str, Advisory]:
        """The OSV advisories pinned in feeds/osv/ at this point (an unreadable one is a usage error)."""
        if self.empty:
            return {}
        from bir.read.osv import advisories_from, load_advisories

        if self.feed_files is not None:
            return advisories_from(self.feed_files)
        return load_advisories(self.root)

    @property
    def rules(self) -> RuleSet:
        """What this point's records are judged by."""
        return RuleSet(self.config, self.schemas, self.day, self.rules_key)

    @cached_property
    def rules_key(self) -> str:
        """What the rules of this point are: its configuration and schemas (for caches and comparisons)."""
        import hashlib

        return hashlib.sha256(self.config_bytes + b"\0" + self.schemas.fingerprint.encode()).hexdigest()

    def validation(self, *, use_cache: bool = True, jobs: int | None = None, want_relations: bool = False,
                   tracked: Tracked | None = None) -> Validation:
        """Every problem of the register at this point (cached for the working tree), and a warning for each
        thing that opening the point found. `tracked`: git's diff of a commit against the working tree, asked
        already by the caller (see `bir.cache.validation.validate`)."""
        from bir.cache.validation import Validation, validate

        if self.is_worktree:
            checked = validate(self.root, self.rules, use_cache=use_cache, jobs=jobs, want_relations=want_relations,
                               tracked=tracked)
        else:
            result = self.load(want_data=False, jobs=jobs)
            checked = Validation(result.summary(), result.problems)
        if self.warnings:
            checked.problems = sorted([*self.warnings, *checked.problems], key=Problem.sort_key)
            checked.summary.warnings += len(self.warnings)
        return checked

    def load(self, *, want_data: bool = True, jobs: int | None = None, rules: RuleSet | None = None) -> LoadResult:
        """The register at this point: every valid record (with `want_data`), and the problems found, judged by
        this point's rules (or by `rules`: a change's head is also judged by its base's)."""
        from bir.check.checker import LoadResult, load

        if self.empty:
            return LoadResult(Register(str(self.root), self.config), [], 0, {})
        from bir.cache.gitkeys import KeySources
        from bir.cache.results import ResultStore

        judged_by = rules or self.rules
        store = ResultStore.open(judged_by)
        sources = KeySources.start(self.root) if store is not None and self.is_worktree else None
        candidates, problems = self.source.candidates()
        result = load(self.root, judged_by, candidates, problems, want_data=want_data,
                      reader=self.source.reader(), jobs=jobs, cache=store,
                      known=sources.known(candidates) if sources is not None else None)
        if store is not None:
            store.save()
        if sources is not None:
            sources.keep(candidates, result.keys)
        return result

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        """The bytes of some files of this point (None where a file is missing or unreadable)."""
        if self.empty:
            return dict.fromkeys(paths)
        return self.source.read_many(paths)


def parse_day(text: str) -> dt.date:
    """A day given by a user (YYYY-MM-DD), or a usage error saying how to write it."""
    try:
        day = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        from bir.check.rules.dates import why_not_a_day

        why = why_not_a_day(str(text))
        raise UsageError(f"'{str(text)[:40]}' is not a date{': ' + why if why else ''}; give it as YYYY-MM-DD") from None
    if len(text) != 10:
        raise UsageError(f"'{text}' is not a date; give it as YYYY-MM-DD")
    from bir.check.rules.dates import LAST_DAY

    if day > LAST_DAY:  # the reports count years ahead of the day: they would leave the calendar
        raise UsageError(f"'{text}' is after {LAST_DAY.isoformat()}, the last day bir reports on; give an earlier day")
    return day


def commit_as_of(git: Git, day: dt.date) -> str | None:
    """The last first-parent commit of the current branch made on or before `day`; None before the first."""
    git.require_full_history()
    for sha, cdate in git.first_parent_dates("HEAD"):
        try:
            when = dt.datetime.fromisoformat(cdate).date()
        except ValueError:
            continue
        if when <= day:
            return sha
    return None


def open_point(root: Path, *, rev: str | None = None, as_of: dt.date | str | None = None,
               today: dt.date | None = None, use_cache: bool = True) -> Point:
    """The register at `rev` (a commit, evaluated on `as_of` or today), else as it stood at the end of `as_of`
    (a past day: the last commit on or before it; today or later: the working tree), else the working tree.
    Without `use_cache` (`bir validate --no-cache`) the working tree's configuration is interpreted afresh."""
    today = today or dt.date.today()
    day = parse_day(as_of) if isinstance(as_of, str) else as_of
    from bir.git.plumbing import Git

    if rev is not None:
        git = Git(root)
        return at_commit(root, git, git.resolve(rev), day or today)
    if day is not None and day < today:
        git = Git(root)
        sha = commit_as_of(git, day)
        if sha is None:
            return _before_first_commit(root, git, day)
        return at_commit(root, git, sha, day)
    return at_worktree(root, day or today, use_cache=use_cache)


def shared_validators() -> SharedValidators | None:
    """Main's signed validators, read in a pull request's job and written by main's (`bir.cache.validators`)."""
    from bir.cache.validators import SignedValidators

    return SignedValidators.open()


def at_worktree(root: Path, day: dt.date, *, use_cache: bool = True) -> Point:
    """The working tree's register, its configuration checked against its own config schema."""
    schemas = SchemaSet.from_folder(root / SCHEMA_DIR, cache_dir=compiled_cache_dir())
    schemas.shared = shared_validators()
    text = read_config_file(root)
    config = interpreted(root, text, schemas) if use_cache else load_config(text, schemas)
    return Point(root, None, day, config, text, schemas, WorktreeSource(root))


def at_commit(root: Path, git: Git, sha: str, day: dt.date) -> Point:
    """The register of commit `sha`, with the configuration, schemas and feeds of that commit."""
    from bir.read.osv import OSV_DIR

    listing = git.ls_tree(sha, (CONFIG_FILE, SCHEMA_DIR, FEED_DIR, OSV_DIR))
    if CONFIG_FILE not in listing:
        raise UsageError(f"commit {sha[:7]} has no {CONFIG_FILE}; it holds no register")
    schema_names = [p for p in listing if p.startswith(SCHEMA_DIR + "/") and p.count("/") == 1 and p.endswith(".schema.json")]
    if not schema_names:
        raise UsageError(f"commit {sha[:7]} has no {SCHEMA_DIR}/ folder; it holds no register")
    feed_names = [p for p in listing if p.startswith((FEED_DIR + "/", OSV_DIR + "/")) and p.endswith(".json")]
    blobs = git.cat_blobs(listing[p] for p in [CONFIG_FILE, *schema_names, *feed_names])
    text = blobs.get(listing[CONFIG_FILE]) or b""
    schemas = SchemaSet.from_files({p.split("/", 1)[1]: blobs.get(listing[p]) or b"" for p in schema_names},
                                   f"{SCHEMA_DIR}/ of commit {sha[:7]}: ", cache_dir=compiled_cache_dir())
    schemas.shared = shared_validators()
    feeds = {p: blobs.get(listing[p]) or b"" for p in feed_names}
    return Point(root, sha, day, load_config(text, schemas), text, schemas, CommitSource(git, sha), feed_files=feeds)


def _before_first_commit(root: Path, git: Git, day: dt.date) -> Point:
    """No commit on or before `day`: an empty register, judged by the earliest rules there are (those of the
    first commit), with a warning every command shows."""
    dates = git.first_parent_dates("HEAD")
    if dates:
        first = at_commit(root, git, dates[-1][0], day)
        config, text, schemas = first.config, first.config_bytes, first.schemas
        since = f"; its first commit is of {dates[-1][1][:10]}"
    else:
        here = at_worktree(root, day)
        config, text, schemas = here.config, here.config_bytes, here.schemas
        since = "; it has no commit yet"
    note = BEFORE_FIRST_COMMIT.problem(CONFIG_FILE, 0, 0, f"the register had no commit on or before {day.isoformat()}: it was empty then{since}",
                   "give a later date")
    return Point(root, None, day, config, text, schemas, WorktreeSource(root), [note], empty=True, feed_files={})


def point_dict(point: Point) -> dict[str, object]:
    """What a JSON output says about the point it describes."""
    return {"commit": point.commit, "day": point.day.isoformat(), "where": point.describe(),
            "warnings": [p.to_dict() for p in point.warnings]}


__all__ = ["Point", "at_commit", "at_worktree", "commit_as_of", "open_point", "parse_day", "point_dict"]
