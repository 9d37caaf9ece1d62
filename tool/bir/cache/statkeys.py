"""Content keys remembered by file status: a file whose status (size, modification and status-change
times, inode) is as when its key was computed is not read again to be keyed.

The result cache keys each file by its content (`bir.check.checker.content_key`), so a run with a warm cache
still read every file to learn its key: at 10,000 records most of the cost of a report over a warm cache
after the parse was gone. Here each register keeps, in its own cache folder (`keys.bin`, sealed with the
user's key, `bir.base.atomic`), the key of every file with the status it had. It is git's index applied to
bir's keys, with git's guard against "racy" entries: a file changed within `RACY_NS` of the moment its key
was taken is not remembered, since a later write in the same clock tick could leave its times unchanged. A
write moves a file's status-change time, which no user can set back, so an entry whose status still matches
names the bytes the key was computed from.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bir.base.atomic import read_cache, register_cache_dir, write_cache
from bir.read.files import Candidate

MEMO = "keys.bin"
MEMO_FORMAT = 1
RACY_NS = 2_000_000_000  # files changed this close to the run's start are keyed again next time


class StatKeys:
    """The content keys a register's last run kept, by path and file status."""

    def __init__(self, folder: Path, started_ns: int) -> None:
        self.folder, self.started_ns = folder, started_ns
        self._table: dict[str, tuple[tuple[int, int, int, int], bytes]] | None = None

    @classmethod
    def open(cls, root: Path) -> StatKeys | None:
        """The keys kept for the register at `root`, read when first asked for (None when it has no cache
        folder). Call it before the register is listed: its clock decides which files are too recent to
        remember."""
        started = time.time_ns()
        folder = register_cache_dir(root)
        return None if folder is None else cls(folder, started)

    @property
    def table(self) -> dict[str, tuple[tuple[int, int, int, int], bytes]]:
        if self._table is None:
            got = read_cache(self.folder / MEMO, codec="marshal")
            ok = isinstance(got, tuple) and len(got) == 2 and got[0] == MEMO_FORMAT and isinstance(got[1], dict)
            self._table = got[1] if ok else {}  # type: ignore[index]
        return self._table

    def keys(self, candidates: Sequence[Candidate]) -> dict[str, bytes]:
        """path -> content key, for the candidates whose status is as when their key was taken."""
        table = self.table
        out: dict[str, bytes] = {}
        for c in candidates:
            got = table.get(c.path)
            if got is not None and got[0] == c.fingerprint and c.fingerprint != (0, 0, 0, 0):
                out[c.path] = got[1]
        return out

    def save(self, candidates: Sequence[Candidate], keys: Mapping[str, bytes]) -> None:
        """Keep the keys of this run's files (those changed too recently left out); written only when they
        differ from what was read."""
        limit = self.started_ns - RACY_NS
        table = {c.path: (c.fingerprint, key) for c in candidates
                 if (key := keys.get(c.path)) is not None and c.fingerprint[1] < limit and c.fingerprint[3] < limit}
        if table != self.table:
            write_cache(self.folder / MEMO, (MEMO_FORMAT, table), codec="marshal")
            self._table = table
