"""The two sides of a change, read only where the change reaches.

The head (the working tree or a commit) reads files on demand and finds who points at a record through the
relation index kept with the cached validation, else through `git grep` (a byte search in C) over the head.
The base needs no search of its own: every file the change does not touch is byte for byte the same on both
sides, so the base is the head with the changed files put back as they were.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bir.base.layout import RECORD_DIR, record_of
from bir.base.model import KINDS, Record
from bir.cache.relations import WAIVES, CacheDamaged, Relations
from bir.git.plumbing import Git
from bir.read.yamlstrict import parse


def parse_record(path: str, data: bytes | None) -> Record | None:
    """The record a file holds, or None (not a record file, unparsable, or not a mapping). A mapping with
    problems (a duplicate key, a control character) is still the record as written: the change shows it, and
    the head's validation reports what is wrong with it."""
    where = record_of(path)
    if data is None or where is None:
        return None
    parsed = parse(data, path)
    if not isinstance(parsed.value, dict):
        return None
    value: dict[str, Any] = parsed.value
    rid = value.get("id") if isinstance(value.get("id"), str) else where[1]
    kind = value.get("kind") if value.get("kind") in KINDS else where[0]
    return Record(str(rid), str(kind), path, value)


def holds_no_record(path: str, data: bytes | None) -> bool:
    """A file that reads cleanly as YAML but holds no record: empty, `~`, `null`, `---`, a list or a scalar."""
    if data is None:
        return False
    parsed = parse(data, path)
    if parsed.problems:
        return any(p.rule == "yaml.empty" for p in parsed.problems)
    return not isinstance(parsed.value, dict)


class Head:
    """Read access to the head: the working tree (`sha` None) or a commit, files fetched and parsed on demand."""

    def __init__(self, git: Git, root: Path, sha: str | None, relations: Relations | None = None) -> None:
        self.git, self.root, self.sha = git, root, sha
        self.relations = relations  # the working tree's relation index, from the validation cache
        self.records: dict[str, Record | None] = {}  # path -> record

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        wanted = list(paths)
        if self.sha is None:
            from bir.read.files import read_regular

            out: dict[str, bytes | None] = {}
            for p in wanted:
                try:
                    out[p] = read_regular(self.root, p)
                except OSError:
                    out[p] = None
            return out
        blobs = self.git.cat_blobs(f"{self.sha}:{p}" for p in wanted)
        return {p: blobs.get(f"{self.sha}:{p}") for p in wanted}

    def load(self, paths: Iterable[str]) -> None:
        todo = [p for p in paths if p not in self.records]
        for p, data in self.read_many(todo).items():
            self.records[p] = parse_record(p, data)

    def sources(self, ids: list[str]) -> dict[str, set[str]]:
        """For each id, the files of the records whose relations name it (a superset is fine: callers parse)."""
        if self.relations is not None:
            try:
                return {i: {src for src, rtype in self.relations.get(i, ()) if rtype != WAIVES} for i in ids}
            except CacheDamaged:  # the cache changed under this run: search the files instead
                self.relations = None
        found = self.git.grep_words(ids, self.sha)
        return dict.fromkeys(ids, found)

    def pointing_at(self, ids: list[str], types: frozenset[str]) -> dict[str, list[tuple[str, Record]]]:
        """For each id: the records with a relation of one of `types` to it, and the relation type."""
        by_id = self.sources(ids)
        files = sorted({f for fs in by_id.values() for f in fs})
        self.load(files)
        wanted = set(ids)
        out: dict[str, list[tuple[str, Record]]] = {}
        for p in files:
            rec = self.records.get(p)
            if rec is None:
                continue
            for rel in rec.relations:
                if rel.target in wanted and rel.type in types and rel.target != rec.id and p in by_id[rel.target]:
                    out.setdefault(rel.target, []).append((rel.type, rec))
        return out

    def by_id(self, ids: Iterable[str]) -> dict[str, Record]:
        """Head records by id, found through their file name in any kind folder."""
        paths = [f"{RECORD_DIR}/{k}/{i}.yaml" for i in ids for k in KINDS]
        if self.sha is None:  # one stat per kind and id (4,000 for a change's neighbourhood): no Path for each
            base = os.path.join(self.root, "")
            paths = [p for p in paths if os.path.isfile(base + p)]
        self.load(paths)
        return {r.id: r for p in paths if (r := self.records.get(p)) is not None}

    def waivers_on(self, ids: set[str]) -> dict[str, Record]:
        """The head's waivers of the records `ids` (their `record` is one of them): through the relation
        index when there is one (it lists each waiver under its record), else every waiver is read."""
        if self.relations is not None:
            try:
                paths = sorted({src for i in ids for src, rtype in self.relations.get(i, ()) if rtype == WAIVES})
            except CacheDamaged:  # the cache changed under this run: read them all instead
                self.relations = None
        if self.relations is None:
            folder = f"{RECORD_DIR}/waiver"
            if self.sha is None:
                found = self.root / folder
                paths = sorted(f"{folder}/{p.name}" for p in found.glob("*.yaml")) if found.is_dir() else []
            else:
                paths = sorted(self.git.ls_tree(self.sha, (folder,)))
        self.load(paths)
        return {r.id: r for p in paths if (r := self.records.get(p)) is not None and r.data.get("record") in ids}


class Base:
    """The base: the head with the changed files as they were (`changed`: path -> the base's record, None where
    the base has no record at that path)."""

    def __init__(self, head: Head, changed: Mapping[str, Record | None]) -> None:
        self.head, self.changed = head, dict(changed)
        self.changed_ids = {r.id for r in self.changed.values() if r is not None}
        self.head_changed_ids = {r.id for p in self.changed if (r := head.records.get(p)) is not None}

    def by_id(self, ids: Iterable[str]) -> dict[str, Record]:
        wanted = set(ids)
        out = {rid: rec for rid, rec in self.head.by_id(wanted).items() if rec.path not in self.changed}
        out.update({r.id: r for r in self.changed.values() if r is not None and r.id in wanted})
        return out

    def pointing_at(self, ids: list[str], types: frozenset[str]) -> dict[str, list[tuple[str, Record]]]:
        found = self.head.pointing_at(ids, types)
        wanted = set(ids)
        out = {i: [(t, r) for t, r in found.get(i, []) if r.path not in self.changed] for i in ids}
        for rec in self.changed.values():
            if rec is None:
                continue
            for rel in rec.relations:
                if rel.target in wanted and rel.type in types and rel.target != rec.id:
                    out[rel.target].append((rel.type, rec))
        return {i: v for i, v in out.items() if v}

    def waivers_on(self, ids: set[str]) -> dict[str, Record]:
        out = {rid: rec for rid, rec in self.head.waivers_on(ids).items() if rec.path not in self.changed}
        out.update({r.id: r for r in self.changed.values()
                    if r is not None and r.kind == "waiver" and r.data.get("record") in ids})
        return out
