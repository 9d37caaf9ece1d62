"""One writer at a time: the register lock every command that writes into a register takes.

The lock is an advisory `flock` on `.bir-cache/write.lock`, held from before a command reads the records it
will change until after its last rename, so two `bir set` on the same record never lose an update: the
second waits for the first (up to `BIR_LOCK_TIMEOUT` seconds, default 30), then reads what the first wrote.
When the wait runs out it refuses, naming the command that holds the lock (its process id, command line and
since when). The kernel releases the lock when its holder dies, even by `kill -9`; a crash therefore never
leaves a register locked.

Writers take it through `bir.base.journal.locked`, which first completes (or rolls back) a write a crashed
command left half done and removes the temporary files killed writers left behind. The lock is re-entrant
within a thread: a command that takes it and calls a function that takes it again holds it once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bir.base.layout import CACHE_DIR
from bir.base.problems import UsageError

LOCK_FILE = "write.lock"
DEFAULT_TIMEOUT = 30.0
_local = threading.local()  # .held: resolved root -> depth, in this thread (another thread waits like another process)


def _depths() -> dict[str, int]:
    held: dict[str, int] | None = getattr(_local, "held", None)
    if held is None:
        held = _local.held = {}
    return held


class LockBusy(UsageError):
    """Another command is writing to the register and did not finish in time (exit code 2)."""


def _timeout() -> float:
    try:
        return max(0.0, float(os.environ.get("BIR_LOCK_TIMEOUT", DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


def lock_path(root: Path) -> Path:
    return root / CACHE_DIR / LOCK_FILE


def _open(root: Path) -> int:
    folder = root / CACHE_DIR
    if folder.is_symlink():
        raise UsageError(f"{folder} is a symbolic link; remove it (bir keeps its caches and its write lock there)")
    folder.mkdir(parents=True, exist_ok=True)
    return os.open(lock_path(root), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)


def holder(root: Path) -> str:
    """Who holds the lock, as its holder wrote it ("" when nobody said)."""
    try:
        fd = os.open(lock_path(root), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return ""
    try:
        return os.read(fd, 4096).decode("utf-8", "replace").strip()
    finally:
        os.close(fd)


def _describe() -> str:
    words = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))
    if len(words) > 200:
        words = words[:199] + "…"
    since = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    return f"process {os.getpid()} (`{words}`) since {since}"


@contextlib.contextmanager
def register_lock(root: Path, *, timeout: float | None = None, on_acquire: Callable[[], object] | None = None) -> Iterator[None]:
    """Hold the register's write lock for the block (waiting up to `timeout` seconds for another writer);
    `on_acquire` runs once the lock is taken (not when this process held it already)."""
    import fcntl

    key = str(Path(root).resolve())
    _held = _depths()
    if _held.get(key):
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    fd = _open(Path(root))
    try:
        wait = _timeout() if timeout is None else timeout
        deadline = time.monotonic() + wait
        pause = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    who = holder(Path(root)) or "another process"
                    raise LockBusy(f"another bir command is writing to {root}: {who}; nothing was changed. Wait for it "
                                   f"to finish and run the command again (waited {wait:g} s; BIR_LOCK_TIMEOUT sets how "
                                   "long)") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (_describe() + "\n").encode("utf-8"), 0)
        _held[key] = 1
        try:
            if on_acquire is not None:
                on_acquire()
            yield
        finally:
            _held.pop(key, None)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def held(root: Path) -> bool:
    """Whether this thread holds the register's lock."""
    return bool(_depths().get(str(Path(root).resolve())))
