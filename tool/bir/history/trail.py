"""The audit trail: every record's history and the register's change log, from ONE pass over git history.

`git log --first-parent --raw -M` over `registry/` lists, per merged change, the files it touched with
their old and new blob ids. Walking that list from the oldest commit forwards follows renames (a record's
history continues under its new path); field-level changes are computed from the two blobs of each entry,
all fetched in one `git cat-file --batch` pass, and only when asked for.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bir.base.gcpause import gc_paused
from bir.base.layout import KIND_FOLDERS, RECORD_DIR, record_of
from bir.base.problems import UsageError
from bir.git.plumbing import Commit, Git
from bir.history.changerecord import record_of_message

if TYPE_CHECKING:
    from bir.base.diff import FieldChange

_PR_SUFFIX = re.compile(r"\(#(\d+)\)\s*$")
_PR_MERGE = re.compile(r"^Merge pull request #(\d+)\b")


def pr_number(subject: str) -> int | None:
    """The pull request a first-parent commit merged: `Title (#123)` (squash) or `Merge pull request #123`."""
    m = _PR_SUFFIX.search(subject) or _PR_MERGE.match(subject)
    return int(m.group(1)) if m else None


@dataclass(slots=True)
class HistoryEntry:
    """One commit that touched one record."""

    commit: str
    date: str  # committer date: when the change entered the branch
    author: str
    subject: str
    pr: int | None
    change: str  # added | modified | renamed | removed
    path: str
    old_path: str | None = None
    old_blob: str | None = None
    new_blob: str | None = None
    change_type: str | None = None
    fields: list[FieldChange] | None = None  # None: not computed (path-level history)

    @property
    def short(self) -> str:
        return self.commit[:7]

    def to_dict(self) -> dict[str, Any]:
        return {"commit": self.commit, "date": self.date, "author": self.author, "subject": self.subject, "pr": self.pr,
                "change": self.change, "path": self.path, "old_path": self.old_path, "change_type": self.change_type,
                "fields": None if self.fields is None else [{"path": f.path, "old": f.old, "new": f.new} for f in self.fields]}


@dataclass(slots=True)
class LogRecord:
    change: str
    id: str
    kind: str
    old_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"change": self.change, "id": self.id, "kind": self.kind, "old_id": self.old_id}


@dataclass(slots=True)
class LogEntry:
    """One merged change of the register."""

    commit: str
    date: str
    author: str
    subject: str
    pr: int | None
    record: dict[str, str]  # the change record from the commit's trailers or template (snake_case -> value)
    records: list[LogRecord] = field(default_factory=list)

    @property
    def short(self) -> str:
        return self.commit[:7]

    def summary(self) -> dict[str, int]:
        out = {"added": 0, "modified": 0, "renamed": 0, "removed": 0}
        for r in self.records:
            out[r.change] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"commit": self.commit, "date": self.date, "author": self.author, "subject": self.subject, "pr": self.pr,
                "change_record": self.record, "summary": self.summary(), "records": [r.to_dict() for r in self.records]}


_KIND = {"A": "added", "M": "modified", "D": "removed", "R": "renamed"}


def _commits(root: Path, first: Callable[[Commit], None] | None = None) -> list[Commit]:
    git = Git(root)
    git.require_full_history()
    return git.log((RECORD_DIR,), first=first)


def all_history(root: Path, *, fields: bool = False, commits: list[Commit] | None = None) -> dict[str, list[HistoryEntry]]:
    """Every record's history, newest first, from one pass: record id -> entries.

    A renamed record's history continues under its new id, and the old id maps to the same list.
    With `fields`, each entry carries its field-level changes (all blobs read in one cat-file pass).
    """
    with gc_paused():
        walk = _Walk()
        if commits is None:
            # The first commit is walked while git still reads the others (see Git.log).
            commits = _commits(root, first=walk.add)
        for c in reversed(commits):
            if c.sha not in walk.walked:
                walk.add(c)
        return walk.result(root, fields)


class _Walk:
    """The history walk, one commit at a time from the oldest: it follows each record through renames."""

    def __init__(self) -> None:
        self.lineage: dict[str, list[HistoryEntry]] = {}  # current path -> its entries (oldest first)
        self.by_id: dict[str, list[HistoryEntry]] = {}
        self.walked: set[str] = set()

    def add(self, c: Commit) -> None:
        """Walk one commit (each commit once, oldest first). The hot loop of a history pass: one turn per
        file per commit, so record_of is inlined."""
        lineage, by_id = self.lineage, self.by_id
        kind_name, entry_of, folders = _KIND, HistoryEntry, KIND_FOLDERS
        self.walked.add(c.sha)
        change_type = record_of_message(c.message).get("change_type") if "hange" in c.message else None
        pr = pr_number(c.subject)
        sha, date, author, subject = c.sha, c.committer_date, c.author, c.subject
        for status, path, old_path, old_blob, new_blob in c.changes:
            folder, _, name = path.rpartition("/")
            rid = name[:-5] if folder in folders and name.endswith(".yaml") else None
            entry = entry_of(sha, date, author, subject, pr, kind_name[status], path, old_path, old_blob, new_blob, change_type)
            if status == "R" and old_path is not None:
                where, old_where = record_of(path), record_of(old_path)
                if where is None and old_where is None:
                    continue
                entries = lineage.pop(old_path, [])
                if old_where is not None:
                    by_id.setdefault(old_where[1], entries)
                    if where == old_where:
                        entry.change = "modified"  # the same record moved (a kind folder renamed, say)
            elif rid is None:
                continue
            else:
                entries = lineage.get(path)  # type: ignore[assignment]
                if entries is None:  # a new file, or a record deleted and restored: its history continues
                    entries = by_id.get(rid, [])
            entries.append(entry)
            if status == "D":
                lineage.pop(path, None)
            else:
                lineage[path] = entries
            if rid is not None:
                by_id[rid] = entries

    def result(self, root: Path, fields: bool) -> dict[str, list[HistoryEntry]]:
        """Record id -> its entries, newest first."""
        distinct = list({id(v): v for v in self.by_id.values()}.values())
        for entries in distinct:
            entries.reverse()
        if fields:
            fill_fields(root, [e for v in distinct for e in v])
        return self.by_id


def fill_fields(root: Path, entries: list[HistoryEntry]) -> None:
    """Set each entry's field-level changes (`bir.base.diff.diff_fields` of its old and new blob), reading
    every blob in one batch: `record_history` does it for one record, the site for the changes it shows."""
    from bir.base.diff import diff_fields
    from bir.read.yamlstrict import parse

    blobs = Git(root).cat_blobs([b for e in entries for b in (e.old_blob, e.new_blob) if b])
    parsed: dict[str, dict[str, Any] | None] = {}

    def data(blob: str | None, path: str) -> dict[str, Any] | None:
        if blob is None:
            return None
        if blob not in parsed:
            raw = blobs.get(blob)
            value = parse(raw, path).value if raw is not None else None
            parsed[blob] = value if isinstance(value, dict) else None
        return parsed[blob]

    for e in entries:
        e.fields = diff_fields(data(e.old_blob, e.old_path or e.path), data(e.new_blob, e.path))


def record_history(root: Path, record_id: str) -> list[HistoryEntry]:
    """One record's history with field-level changes, newest first (renames followed)."""
    history = all_history(root)
    if record_id not in history:
        raise UsageError(f"no history for '{record_id}': no commit on this branch touched a record with that id "
                         "(check the id, or commit the record first)")
    entries = history[record_id]
    fill_fields(root, entries)
    return entries


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"'{value}' is not a date; give it as YYYY-MM-DD") from None


def change_log(root: Path, since: str | None = None, *, commits: list[Commit] | None = None) -> list[LogEntry]:
    """The register's change log, newest first: each first-parent commit that touched records since `since`."""
    day = _day(since)
    commits = commits if commits is not None else _commits(root)
    out = []
    for c in commits:
        if day is not None:
            try:
                if dt.datetime.fromisoformat(c.committer_date).date() < day:
                    continue
            except ValueError:
                pass
        entry = LogEntry(c.sha, c.committer_date, c.author, c.subject, pr_number(c.subject), record_of_message(c.message))
        for f in c.changes:
            where = record_of(f.path) or (record_of(f.old_path) if f.old_path else None)
            if where is None:
                continue
            old = record_of(f.old_path) if f.old_path else None
            kind = _KIND[f.status]
            if kind == "renamed" and old == where:
                kind = "modified"
            entry.records.append(LogRecord(kind, where[1], where[0], old[1] if old and kind == "renamed" else None))
        if entry.records:
            out.append(entry)
    return out


def without_record(entries: list[LogEntry], required: tuple[str, ...]) -> list[tuple[LogEntry, list[str]]]:
    """The merged changes whose change record lacks a required field, with the fields it lacks."""
    from bir.history.changerecord import missing_fields

    return [(e, missing) for e in entries if (missing := missing_fields(e.record, required))]
