"""`bir validate`: the whole register checked, with a cache that makes an unchanged re-run nearly free."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple, Protocol

from bir import __version__
from bir.base.atomic import read_cache, write_cache
from bir.base.problems import Problem, Severity
from bir.check.checker import LoadResult, discover, load
from bir.read.config import CONFIG_FILE, SCHEMA_DIR, Config, load_config
from bir.read.schemas import SchemaSet, compiled_cache_dir

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bir.git.plumbing import FileChange, Git
    from bir.git.worktree import Snapshot, Stamp

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

    def save(self, path: Path, token: str) -> None:
        """Write the index in shards, so a reader that wants a few targets reads a few shards."""
        import hashlib
        import pickle

        from bir.base.atomic import seal, write_bytes

        shards: list[dict[str, str]] = [{} for _ in range(RELATION_SHARDS)]
        for target, packed in self._packed.items():
            shards[_shard(target)][target] = packed
        blobs = [pickle.dumps(s, protocol=pickle.HIGHEST_PROTOCOL) for s in shards]
        table, offset = [], 0
        for blob in blobs:
            table.append((offset, len(blob), hashlib.sha256(blob).digest()))
            offset += len(blob)
        header = seal(pickle.dumps((token, table), protocol=pickle.HIGHEST_PROTOCOL))
        if header is None:
            return
        try:
            write_bytes(path, len(header).to_bytes(8, "big") + header + b"".join(blobs), durable=False)
        except OSError:
            pass


RELATION_SHARDS = 256


class CacheDamaged(Exception):
    """A cache file changed under a reader: the reader goes without it."""


def _shard(target: str) -> int:
    import zlib

    return zlib.crc32(target.encode("utf-8", "surrogateescape")) % RELATION_SHARDS


class StoredRelations:
    """A relation index written by `RelationIndex.save`, read shard by shard as targets are asked for.

    The header is sealed with the user's cache key and names each shard's digest, so nothing that did not
    come from this tool is ever unpickled.
    """

    def __init__(self, handle: BinaryIO, table: list[tuple[int, int, bytes]], start: int) -> None:
        # The file stays open: if another run replaces it meanwhile, this one keeps reading its own.
        self._handle, self._table, self._start = handle, table, start
        self._shards: dict[int, dict[str, str]] = {}

    @classmethod
    def open(cls, path: Path, token: str) -> StoredRelations | None:
        import pickle

        from bir.base.atomic import unseal

        handle = None
        try:
            if path.is_symlink():
                return None
            handle = open(path, "rb", buffering=0)  # kept open by the instance; read where asked
            size = int.from_bytes(handle.read(8), "big")
            payload = unseal(handle.read(size)) if 0 < size < 1 << 24 else None
            value = pickle.loads(payload) if payload is not None else None  # noqa: S301 -- sealed by this user's key
            if isinstance(value, tuple) and len(value) == 2 and value[0] == token \
                    and isinstance(value[1], list) and len(value[1]) == RELATION_SHARDS:
                return cls(handle, value[1], 8 + size)
        except Exception:  # noqa: S110 -- a damaged cache is a missing cache
            pass
        if handle is not None:
            handle.close()
        return None

    def _load(self, index: int) -> dict[str, str]:
        import hashlib
        import pickle

        shard = self._shards.get(index)
        if shard is None:
            offset, length, digest = self._table[index]
            try:
                self._handle.seek(self._start + offset)
                blob = self._handle.read(length)
            except OSError as exc:
                raise CacheDamaged(str(exc)) from None
            if hashlib.sha256(blob).digest() != digest:
                raise CacheDamaged("a shard of the relation index does not match its digest")
            value = pickle.loads(blob)  # noqa: S301 -- its digest is in the sealed header
            shard = value if isinstance(value, dict) else {}
            self._shards[index] = shard
        return shard

    def get(self, target: str, default: object = ()) -> list[tuple[str, str]]:
        return RelationIndex(self._load(_shard(target))).get(target)


class Relations(Protocol):
    def get(self, target: str, default: object = ()) -> list[tuple[str, str]]: ...


@dataclass(slots=True)
class Validation:
    summary: Summary
    problems: list[Problem]
    cached: bool = False
    relations: Relations | None = None  # with want_relations: target id -> [(source file, relation type)]


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


def _key(root: Path, schemas: SchemaSet) -> str:
    config_bytes = (root / CONFIG_FILE).read_bytes()
    # Today's date is in the key: a rule (date.future) depends on it.
    return hashlib.sha256(b"\0".join([__version__.encode(), schemas.fingerprint.encode(), config_bytes,
                                      dt.date.today().isoformat().encode()])).hexdigest()


def load_register(root: Path, *, jobs: int | None = None) -> LoadResult:
    """Every valid record of the register at `root`, with the problems found (for reports and the site)."""
    config, schemas = open_register(root)
    return load(root, config, schemas, want_data=True, jobs=jobs)


# Cache files, all in .bir-cache/ and sealed (see atomic.py):
# - validate.pickle: (key, fingerprint of every file, summary, problems, token): an unchanged re-run of
#   `bir validate` compares fingerprints and is done;
# - worktree.pickle: (format, key, token, worktree snapshot, summary, problems): `bir change` checks the
#   snapshot through git, without listing the register;
# - relations.bin: who points at whom, in shards, for the run whose token it carries.
VALIDATE_CACHE, WORKTREE_CACHE, RELATIONS_CACHE = "validate.pickle", "worktree.pickle", "relations.bin"


def validate(root: Path, *, use_cache: bool = True, jobs: int | None = None, want_relations: bool = False) -> Validation:
    """Validate the register at `root` (files as they are on disk).

    With `want_relations`, also return who points at whom, kept with the cache: finding the records that
    point at a changed record then costs a look-up, not a search of the register.
    """
    from bir.git import worktree

    folder = _cache_dir(root)
    if use_cache and folder is not None:
        through_git = _validated_through_git(root, want_relations)
        if through_git is not None:
            return through_git
    config, schemas = open_register(root)
    clock_ns = worktree.clock(folder) if folder is not None else None
    stamps = worktree.folder_stamps(root)  # before the files are listed: a later change shows in them
    candidates, found = discover(root)
    key = _key(root, schemas)
    prints = {c.path: c.fingerprint for c in candidates}
    if use_cache and folder is not None:
        cached = read_cache(folder / VALIDATE_CACHE)
        if isinstance(cached, tuple) and len(cached) == 5 and cached[0] == key and cached[1] == prints:
            relations = StoredRelations.open(folder / RELATIONS_CACHE, cached[4]) if want_relations else None
            if relations is not None or not want_relations:
                if not (folder / WORKTREE_CACHE).is_file():
                    # No snapshot yet (the last full run's timestamps were too recent to trust): every file
                    # is as that run saw it, so this run's stamps and clock, taken before the listing, can
                    # describe it.
                    _keep_snapshot(root, folder, clock_ns, stamps, key, cached[4], cached[2], cached[3])
                return Validation(cached[2], cached[3], cached=True, relations=relations)
    result = load(root, config, schemas, want_data=False, candidates=candidates, discovery_problems=found, jobs=jobs)
    summary = summarise(result)
    relations_index = relation_index(result)
    if folder is not None:
        import os

        token = os.urandom(8).hex()
        relations_index.save(folder / RELATIONS_CACHE, token)
        write_cache(folder / VALIDATE_CACHE, (key, prints, summary, result.problems, token))
        _keep_snapshot(root, folder, clock_ns, stamps, key, token, summary, result.problems)
    return Validation(summary, result.problems, relations=relations_index if want_relations else None)


def _keep_snapshot(root: Path, folder: Path, clock_ns: int | None, stamps: tuple[Stamp, ...], key: str, token: str,
                   summary: Summary, problems: list[Problem]) -> None:
    """Write worktree.pickle: the snapshot with the result, or (when git cannot describe this register)
    a record that there is none, so unchanged re-runs do not ask git again. After a racy attempt the file
    is removed: the next unchanged re-run tries again."""
    from bir.git import worktree

    snapshot = _snapshot(root, clock_ns, stamps)
    if snapshot == worktree.RACY:
        try:
            (folder / WORKTREE_CACHE).unlink(missing_ok=True)
        except OSError:
            pass
        return
    kept = snapshot if isinstance(snapshot, worktree.Snapshot) else None
    write_cache(folder / WORKTREE_CACHE, (worktree.SNAPSHOT_FORMAT, key, token, kept, summary, problems))


def _validated_through_git(root: Path, want_relations: bool) -> Validation | None:
    """The cached result, when git shows the working tree unchanged since (one `git diff`, no listing)."""
    from bir.git.plumbing import Git, GitError

    folder = _cache_dir(root)
    kept = _kept_snapshot(folder) if folder is not None else None
    if kept is None or kept.summary.records < SNAPSHOT_MIN_FILES:
        return None  # no snapshot worth checking: spare the git processes
    try:
        git = Git(root)
        head = git.head()
        if head is None:
            return None
        found = validate_worktree(root, git, lambda: git.diff_tracked(head, None), kept=kept)
    except (GitError, OSError):
        return None
    if found is None:
        return None
    checked = found[0]
    if not want_relations:
        checked.relations = None
    return checked


def _snapshot(root: Path, clock_ns: int | None, stamps: tuple[Stamp, ...]) -> Snapshot | str:
    """The working tree's snapshot for `bir change`, or why there is none (worktree.RACY: worth trying
    again on a later run; anything else: not)."""
    from bir.git import worktree
    from bir.git.plumbing import Git, GitError

    if clock_ns is None:
        return "no clock"
    try:
        return worktree.take(root, Git(root), clock_ns, stamps)
    except (GitError, OSError):
        return "no git"


# Below this many files, listing the register costs less than starting the git processes that check the
# snapshot (measured: 0.3 s against 0.4 s at 1,000 files; 2.0 s against 0.6 s at 100,000).
SNAPSHOT_MIN_FILES = 10_000


class _Kept(NamedTuple):
    """What worktree.pickle holds beside its format number."""

    key: str
    token: str
    snapshot: Snapshot
    summary: Summary
    problems: list[Problem]


def _kept_snapshot(folder: Path) -> _Kept | None:
    """The snapshot kept in `folder` with the result it describes (None when there is none, or it is of
    another format)."""
    from bir.git import worktree

    cached = read_cache(folder / WORKTREE_CACHE)
    if not (isinstance(cached, tuple) and len(cached) == 6 and cached[0] == worktree.SNAPSHOT_FORMAT
            and isinstance(cached[3], worktree.Snapshot) and isinstance(cached[4], Summary)):
        return None
    return _Kept(*cached[1:])


def validate_worktree(root: Path, git: Git, tracked: Callable[[], Sequence[FileChange]],
                      kept: _Kept | None = None) -> tuple[Validation, tuple[str, ...]] | None:
    """The cached validation of the working tree, when git shows it unchanged since (None otherwise), and
    the untracked files git does not ignore. `tracked` gives git's diff of HEAD against the working tree
    (asked for last: git may still be computing it); `kept` is the snapshot when already read."""
    from bir.git import worktree

    folder = _cache_dir(root)
    if folder is None:
        return None
    kept = kept if kept is not None else _kept_snapshot(folder)
    if kept is None:
        return None
    _config, schemas = open_register(root)
    if kept.key != _key(root, schemas) or not worktree.holds(root, git, kept.snapshot, tracked()):
        return None
    relations = StoredRelations.open(folder / RELATIONS_CACHE, kept.token)
    if relations is None:
        return None
    return Validation(kept.summary, kept.problems, cached=True, relations=relations), kept.snapshot.untracked


def relation_index(result: LoadResult) -> RelationIndex:
    """Who points at whom: target id -> [(source file, relation type)], from the facts every load computes."""
    out = RelationIndex()
    for facts in result.index.values():
        for f in facts:
            for _jpath, target, _allowed, label in f.references:
                if label.startswith("relation "):
                    out.add(target, f.path, label[len("relation "):])
    return out


def exit_code(problems: list[Problem], strict: bool) -> int:
    if any(p.severity is Severity.ERROR for p in problems):
        return 1
    if strict and problems:
        return 1
    return 0
