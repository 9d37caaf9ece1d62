"""Atomic file writes: write a temporary file beside the target, then rename it over the target.

A reader (or a crash) sees either the old file or the new one, never half of either.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists() and not path.is_symlink():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def read_cache(path: Path) -> object | None:
    """A value this tool pickled into its own git-ignored cache folder, or None when it is missing,
    a symbolic link, or damaged: a cache is rebuilt, never trusted."""
    import pickle

    try:
        if path.is_symlink() or not path.is_file():
            return None
        value: object = pickle.loads(path.read_bytes())  # noqa: S301 -- written by write_cache, in .bir-cache
    except Exception:
        return None
    return value


def write_cache(path: Path, value: object) -> None:
    """Pickle `value` into the cache atomically; a read-only checkout simply goes without."""
    import pickle

    try:
        write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass
