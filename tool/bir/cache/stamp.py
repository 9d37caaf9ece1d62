"""bir's own code as the file system shows it: part of the key of every cache that stays on this machine.

The version alone stays the same between two commits of a checkout of bir, so after a `git pull` a cache
keyed by it would replay the verdict of the code before. Reading the modules, as the result cache's context
must (`bir.cache.results.code_digest`: that cache is shared between machines), costs several times more than
their status; the caches keyed by this stamp never leave the machine.
"""

from __future__ import annotations

import hashlib
import os

_STAMP: list[str] = []


def code_stamp() -> str:
    """A digest of every module of bir: its path, size and modification time (computed once a process)."""
    if not _STAMP:
        import bir

        folder = os.path.dirname(os.path.abspath(bir.__file__))
        digest = hashlib.sha256()
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(f for f in filenames if f.endswith(".py")):
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                digest.update(f"{os.path.relpath(path, folder)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode("utf-8", "surrogateescape"))
        _STAMP.append(digest.hexdigest())
    return _STAMP[0]
