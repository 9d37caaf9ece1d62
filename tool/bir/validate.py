"""`bir validate`: the whole register checked, with a cache that makes an unchanged re-run nearly free."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .atomic import read_cache, write_cache
from .config import CONFIG_FILE, SCHEMA_DIR, Config, load_config
from .loader import Candidate, LoadResult, discover, load
from .problems import Problem, Severity
from .schemas import SchemaSet, compiled_cache_dir

CACHE_DIR = ".bir-cache"


@dataclass(slots=True)
class Summary:
    records: int
    errors: int
    warnings: int
    by_kind: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"records": self.records, "errors": self.errors, "warnings": self.warnings, "by_kind": self.by_kind}


class RelationIndex:
    """Who points at whom: target id -> [(source file, relation type)].

    Kept packed (one string per target) because it is stored with the cache and read on every
    `bir change`: a hundred thousand small tuples cost more to unpickle than the whole change check.
    """

    __slots__ = ("_packed",)

    def __init__(self, packed: dict[str, str] | None = None) -> None:
        self._packed = packed or {}

    def add(self, target: str, source: str, rtype: str) -> None:
        entry = f"{source}\t{rtype}"
        old = self._packed.get(target)
        self._packed[target] = entry if old is None else f"{old}\n{entry}"

    def get(self, target: str, default: object = ()) -> list[tuple[str, str]]:
        packed = self._packed.get(target)
        if packed is None:
            return []
        return [tuple(line.split("\t", 1)) for line in packed.split("\n")]  # type: ignore[misc]

    def to_dict(self) -> dict[str, list[tuple[str, str]]]:
        return {t: self.get(t) for t in sorted(self._packed)}

    def __reduce__(self) -> tuple[type[RelationIndex], tuple[dict[str, str]]]:
        return (RelationIndex, (self._packed,))


@dataclass(slots=True)
class Validation:
    summary: Summary
    problems: list[Problem]
    cached: bool = False
    relations: RelationIndex | None = None  # with want_relations: target id -> [(source file, relation type)]


def summarise(result: LoadResult) -> Summary:
    return Summary(result.files, result.errors, result.warnings, result.by_kind)


def open_register(root: Path) -> tuple[Config, SchemaSet]:
    config = load_config(root)
    return config, SchemaSet(root / SCHEMA_DIR, cache_dir=compiled_cache_dir())


def _cache_dir(root: Path) -> Path | None:
    folder = root / CACHE_DIR
    if folder.is_symlink():
        return None
    return folder


def _cache_key(root: Path, schemas: SchemaSet, candidates: list[Candidate]) -> tuple[str, dict[str, tuple[int, int, int]]]:
    config_bytes = (root / CONFIG_FILE).read_bytes()
    # Today's date is in the key: a rule (date.future) depends on it.
    key = hashlib.sha256(b"\0".join([__version__.encode(), schemas.fingerprint.encode(), config_bytes,
                                     dt.date.today().isoformat().encode()])).hexdigest()
    return key, {c.path: c.fingerprint for c in candidates}


def load_register(root: Path, *, jobs: int | None = None) -> LoadResult:
    """Every valid record of the register at `root`, with the problems found (for reports and the site)."""
    config, schemas = open_register(root)
    return load(root, config, schemas, want_data=True, jobs=jobs)


def validate(root: Path, *, use_cache: bool = True, jobs: int | None = None, want_relations: bool = False) -> Validation:
    """Validate the register at `root` (files as they are on disk).

    With `want_relations`, also return who points at whom, kept with the cache: finding the records that
    point at a changed record then costs a look-up, not a search of the register.
    """
    config, schemas = open_register(root)
    candidates, found = discover(root)
    cache_file = (_cache_dir(root) or root) / "validate.pickle"
    key, prints = _cache_key(root, schemas, candidates)
    if use_cache and _cache_dir(root) is not None:
        cached = _read_cache(cache_file)
        if cached is not None and cached[0] == key and cached[1] == prints:
            relations = _read_relations(cache_file.with_name("relations.pickle"), key, prints) if want_relations else None
            if relations is not None or not want_relations:
                return Validation(cached[2], cached[3], cached=True, relations=relations)
    result = load(root, config, schemas, want_data=False, candidates=candidates, discovery_problems=found, jobs=jobs)
    summary = summarise(result)
    relations = relation_index(result)
    if _cache_dir(root) is not None:
        write_cache(cache_file, (key, prints, summary, result.problems))
        write_cache(cache_file.with_name("relations.pickle"), (key, prints, relations))
    return Validation(summary, result.problems, relations=relations if want_relations else None)


def _read_relations(path: Path, key: str, prints: dict[str, tuple[int, int, int]]) -> RelationIndex | None:
    value = read_cache(path)
    if isinstance(value, tuple) and len(value) == 3 and value[0] == key and value[1] == prints \
            and isinstance(value[2], RelationIndex):
        return value[2]
    return None


def relation_index(result: LoadResult) -> RelationIndex:
    """Who points at whom: target id -> [(source file, relation type)], from the facts every load computes."""
    out = RelationIndex()
    for facts in result.index.values():
        for f in facts:
            for _jpath, target, _allowed, label in f.references:
                if label.startswith("relation "):
                    out.add(target, f.path, label[len("relation "):])
    return out


def _read_cache(path: Path) -> tuple[str, dict[str, tuple[int, int, int]], Summary, list[Problem]] | None:
    value = read_cache(path)
    if isinstance(value, tuple) and len(value) == 4:
        return value  # type: ignore[return-value]
    return None


def exit_code(problems: list[Problem], strict: bool) -> int:
    if any(p.severity is Severity.ERROR for p in problems):
        return 1
    if strict and problems:
        return 1
    return 0
