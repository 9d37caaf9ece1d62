"""Who points at whom in the working tree: target id -> [(source file, relation type)], kept with the cached
validation in 256 digest-checked shards, so `bir change` reads only the shards of the records it changes."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol

RELATIONS_CACHE = "relations.bin"


# The type under which a waiver is listed as pointing at the record it waives (not a relation: a change
# reads the waivers of the records it reaches through it, and no walk over relations follows it).
WAIVES = "waives"


class RelationIndex:
    """Who points at whom: target id -> [(source file, relation type)].

    Kept packed (one string per target) because it is stored with the cache and read on every
    `bir change`: a hundred thousand small tuples cost more to unpickle than the whole change check.
    """

    __slots__ = ("_packed",)

    def __init__(self, packed: dict[str, str] | None = None) -> None:
        self._packed = packed or {}

    @classmethod
    def packed(cls, sources: dict[str, list[str]]) -> RelationIndex:
        """The index of target id -> ["<source file>\t<relation type>", ...] (joined once: adding one
        source at a time copies a popular target's whole entry each time)."""
        return cls({target: "\n".join(lines) for target, lines in sources.items()})

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
        header = seal(pickle.dumps((RELATIONS_FORMAT, token, table), protocol=pickle.HIGHEST_PROTOCOL))
        if header is None:
            return
        try:
            write_bytes(path, len(header).to_bytes(8, "big") + header + b"".join(blobs), durable=False)
        except OSError:
            pass


RELATION_SHARDS = 256
# In the header: an index written by another format (2: waivers listed under the records they waive) is
# no index, and the validation it belongs to is done again.
RELATIONS_FORMAT = 2


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
            if isinstance(value, tuple) and len(value) == 3 and value[0] == RELATIONS_FORMAT and value[1] == token \
                    and isinstance(value[2], list) and len(value[2]) == RELATION_SHARDS:
                return cls(handle, value[2], 8 + size)
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
