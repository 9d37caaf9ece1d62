"""Atomic file writes: write a temporary file beside the target, then rename it over the target.

A reader (or a crash) sees either the old file or the new one, never half of either. The temporary file
is `.<name>.<8 random characters>.tmp` in the target's folder (`is_temporary` knows the shape): one a
killed writer left behind is not a record, is ignored by validation and removed by the next writing command
(`bir.base.journal.sweep`). Several files changed together go through `bir.base.journal.commit`.

A write the environment refuses (read-only file system, disk full, permission denied) raises an
`OSError` naming the target (not the temporary file), so the command can say which path in one sentence.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from pathlib import Path
from typing import NoReturn

# mkstemp's names: `.<name>.` + 8 characters of [a-z0-9_] + `.tmp`
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$", re.DOTALL)
# What the environment refuses, as opposed to a bug: said in one sentence with the path, exit code 2.
ENVIRONMENT_ERRNOS = frozenset({errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EISDIR,
                                errno.ENOTDIR, errno.ENOENT, errno.EEXIST, errno.ENAMETOOLONG, errno.ELOOP,
                                errno.EMLINK, errno.EFBIG, errno.EIO, errno.ETXTBSY, errno.EBUSY, errno.EXDEV,
                                errno.ENOTEMPTY, errno.EMFILE, errno.ENFILE})


def is_temporary(name: str) -> bool:
    """Whether a file name is one of this module's temporary files (`.<name>.<random>.tmp`)."""
    return name.startswith(".") and name.endswith(".tmp") and _TEMPORARY.match(name) is not None


def _naming(exc: OSError, path: Path) -> OSError:
    """`exc` with the target as its file name: the temporary file means nothing to a user."""
    if exc.errno is None:
        return exc
    out = OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(path))
    out.__cause__ = exc
    return out


def _discard(tmp: str | Path, exc: BaseException, path: Path) -> NoReturn:
    """After a failed write: remove the temporary file, and raise `exc` (an OSError naming `path`)."""
    with contextlib.suppress(OSError):
        os.unlink(tmp)
    if isinstance(exc, OSError):
        raise _naming(exc, path) from exc
    raise exc


def stage(path: Path, data: bytes, *, durable: bool = True) -> Path:
    """Write `data` into a new temporary file beside `path` (its mode that of `path`, else 0644) and return
    the temporary file's path: renaming it over `path` is the write. Nothing is left behind on failure."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _naming(exc, path) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if path.exists() and not path.is_symlink():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
    except BaseException as exc:
        _discard(tmp, exc, path)
    return Path(tmp)


def write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data` atomically; `durable` also waits until the data is on disk (files users
    keep). A cache goes without: after a crash it may be empty, which its seal reports as missing."""
    tmp = stage(path, data, durable=durable)
    try:
        os.replace(tmp, path)
    except BaseException as exc:
        _discard(tmp, exc, path)
    if durable:
        sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (where the system allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


# -- the tool's own caches ------------------------------------------------------------------------------
# A cache file is a pickle (or a marshal dump), and loading one can run code or crash the interpreter:
# a cache that arrived with a pull request (a `.bir-cache/` committed by force, say) must never be loaded. Every cache file is therefore sealed with
# an HMAC under a key that lives only in this user's cache folder; anything that does not verify is
# treated as missing and rebuilt.
_MAGIC = b"bir-cache 1\n"
_MAC_BYTES = 32
_key: bytes | None = None


def user_cache_dir() -> Path | None:
    """The user's cache folder for bir (`BIR_CACHE_DIR`, else `$XDG_CACHE_HOME/bir`, else `~/.cache/bir`)."""
    base = os.environ.get("BIR_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    folder = Path(base) if base else Path.home() / ".cache"
    folder = folder / "bir" if not os.environ.get("BIR_CACHE_DIR") else folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return None if folder.is_symlink() else folder


def register_cache_dir(root: Path) -> Path | None:
    """Where the caches of the register at `root` live: `$BIR_CACHE_DIR/registers/<digest of its path>/` when
    `BIR_CACHE_DIR` is set (so CI can keep every cache in one folder), else the register's `.bir-cache/`.
    None when that folder is a symbolic link (a cache is never read through one). The register's lock and
    journal stay in its own `.bir-cache/` either way: they are not caches."""
    import hashlib

    from bir.base.layout import CACHE_DIR

    shared = os.environ.get("BIR_CACHE_DIR")
    if shared:
        where = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:16]
        folder = Path(shared) / "registers" / where
    else:
        folder = root / CACHE_DIR
    return None if folder.is_symlink() else folder


def _seal_key() -> bytes | None:
    """This user's cache key (32 random bytes, created on first use, readable by the user only)."""
    global _key
    if _key is not None:
        return _key
    folder = user_cache_dir()
    if folder is None:
        return None
    path = folder / "cache-key"
    for _attempt in range(2):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as handle:
                key = handle.read(64)
            if len(key) == 32:
                _key = key
                return key
            return None  # not a key this tool wrote: go without caches rather than trust it
        except FileNotFoundError:
            pass
        except OSError:
            return None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue  # another process created it first: read theirs
        except OSError:
            return None
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(32))
    return None


def seal(payload: bytes) -> bytes | None:
    """`payload` with this user's MAC in front (None when there is no key: no cache then)."""
    import hashlib
    import hmac

    key = _seal_key()
    if key is None:
        return None
    return _MAGIC + hmac.new(key, payload, hashlib.sha256).digest() + payload


def unseal(data: bytes) -> bytes | None:
    """The payload of a sealed cache file, or None when it was not sealed by this user's key."""
    import hashlib
    import hmac

    key = _seal_key()
    if key is None or not data.startswith(_MAGIC):
        return None
    start = len(_MAGIC) + _MAC_BYTES
    payload = data[start:]
    if not hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).digest(), data[len(_MAGIC):start]):
        return None
    return payload


def read_cache(path: Path, *, codec: str = "pickle") -> object | None:
    """A value this tool wrote into its own cache, or None when it is missing, a symbolic link,
    damaged or not sealed by this user: a cache is rebuilt, never trusted.

    `codec` is "pickle" (any value) or "marshal" (tuples, lists, strings and numbers only, several
    times faster both ways; the Python version is part of what is sealed).
    """
    try:
        if path.is_symlink() or not path.is_file():
            return None
        payload = unseal(path.read_bytes())
        if payload is None:
            return None
        if codec == "marshal":
            import marshal

            tag = _marshal_tag()
            if not payload.startswith(tag):
                return None
            loaded: object = marshal.loads(payload[len(tag):])  # noqa: S302 -- sealed by this user's key
            return loaded
        import pickle

        value: object = pickle.loads(payload)  # noqa: S301 -- sealed by this user's key (see above)
    except Exception:
        return None
    return value


def write_cache(path: Path, value: object, *, codec: str = "pickle") -> None:
    """Write `value` into the cache atomically, sealed; a read-only checkout simply goes without."""
    try:
        if codec == "marshal":
            import marshal

            payload = _marshal_tag() + marshal.dumps(value)  # type: ignore[arg-type]
        else:
            import pickle

            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        data = seal(payload)
        if data is not None:
            write_bytes(path, data, durable=False)
    except (OSError, ValueError):
        pass


def _marshal_tag() -> bytes:
    import sys

    return f"marshal {sys.version_info[0]}.{sys.version_info[1]}\n".encode()


def read_cache_verified(data: bytes, *, codec: str = "pickle") -> object | None:
    """The value of a cache file that another machine's bir sealed, for a caller that has verified `data`
    itself (a signature by a trusted key, `bir.cache.trust`): its MAC, made with a key this user does not
    hold, is skipped. Never call it on bytes that were not verified."""
    try:
        if not data.startswith(_MAGIC):
            return None
        payload = data[len(_MAGIC) + _MAC_BYTES:]
        if codec == "marshal":
            import marshal

            tag = _marshal_tag()
            if not payload.startswith(tag):
                return None
            loaded: object = marshal.loads(payload[len(tag):])  # noqa: S302 -- verified by the caller
            return loaded
        import pickle

        value: object = pickle.loads(payload)  # noqa: S301 -- verified by the caller
    except Exception:
        return None
    return value
