"""The register for the site, read again only where files changed since the last build.

`bir site serve` rebuilds on every change, and a rebuild of a large register would otherwise parse and
check every file again (25 s at 100,000 records) to find the ten that changed. The last build's records
are kept in `.bir-cache/site-records.pickle`, sealed like every cache (`bir.base.atomic`), with each file's
fingerprint (size, mtime, inode); a build lists the register (one stat per file), checks the files whose
fingerprint differs exactly as `bir.check.checker.load` does, and takes the others from the cache. The
register is the same, record for record and in the same order, as `Point.load` gives (a test compares
them). The cache is keyed by bir's version, the point's rules (configuration and schemas) and the day; a
file modified within two seconds of the cache being written is never taken from it (the racy-timestamp
rule of git's index). Only the working tree is cached: a commit is read from git as before.

The site needs the valid records only: the validation problems are `bir validate`'s business, so the
result carries none.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bir import __version__
from bir.base.atomic import read_cache, write_cache
from bir.base.gcpause import gc_paused
from bir.base.layout import CACHE_DIR
from bir.base.model import Record, Register
from bir.check.checker import LoadResult, check_files

CACHE_FILE = "site-records.pickle"
RACY_NS = 2_000_000_000


@dataclass(slots=True)
class _Entry:
    key: str
    files: dict[str, tuple[tuple[int, int, int], str | None, dict[str, Any] | None]]  # path -> (print, id, data)


def _key(point: Any) -> str:
    rules = point.rules
    return hashlib.sha256("\0".join([__version__, rules.fingerprint, rules.day.isoformat()]).encode()).hexdigest()


def load(point: Any) -> tuple[LoadResult, int]:
    """The working tree's register at `point` (valid records only) and how many files were read afresh."""
    root: Path = point.root
    folder = root / CACHE_DIR
    usable = not folder.is_symlink()
    key = _key(point)
    candidates, _problems = point.source.candidates()
    with gc_paused():
        cached = read_cache(folder / CACHE_FILE) if usable else None
        old = cached.files if isinstance(cached, _Entry) and cached.key == key else {}
        fresh_items = [(c.path, c.kind) for c in candidates if (old.get(c.path) or (None,))[0] != c.fingerprint]
        fresh = {}
        for res in check_files(root, fresh_items, point.rules, want_data=True):
            fresh[res.path] = (res.facts.id if res.facts is not None else None, res.data if res.facts is not None else None)
        register = Register(str(root), point.config)
        records = register.records
        files: dict[str, tuple[tuple[int, int, int], str | None, dict[str, Any] | None]] = {}
        by_kind: dict[str, int] = {}
        racy = time.time_ns() - RACY_NS
        for c in candidates:
            got = fresh.get(c.path)
            rid, data = got if got is not None else old[c.path][1:]
            by_kind[c.kind] = by_kind.get(c.kind, 0) + 1
            if data is not None and rid is not None and rid not in records:
                records[rid] = Record(rid, c.kind, c.path, data)
            files[c.path] = (c.fingerprint if c.fingerprint[1] < racy else (-1, -1, -1), rid, data)
        if usable and (fresh_items or len(files) != len(old)):
            folder.mkdir(exist_ok=True)
            write_cache(folder / CACHE_FILE, _Entry(key, files))
    return LoadResult(register, [], len(candidates), dict(sorted(by_kind.items()))), len(fresh_items)
