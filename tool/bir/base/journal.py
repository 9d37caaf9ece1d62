"""All or nothing: several files of a register replaced together, even when the writer is killed midway.

`commit(root, files)`, under the register lock (`bir.base.lock`):
1. stages every new content in a temporary file beside its target, each written and flushed to disk;
2. writes the journal, `.bir-cache/journal`: the list of (temporary file, target) pairs. Once it is on disk
   the write has happened, whatever comes next;
3. renames each temporary file over its target, then removes the journal.

A command killed before step 2 leaves only temporary files: the next writer removes them (`sweep`), and the
register is as it was (rolled back). Killed during step 3, it leaves the journal: the next command that
takes the lock renames the temporary files still there (rolled forward), so the register holds every new
file. Readers settle a pending journal too (`settle`), so no command ever reads a half-applied write.

The journal is data from the register's folder, so it is read as hostile: anything but pairs of a temporary
file and a target in the same folder under the register is refused, and a refused journal is removed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from bir.base.atomic import is_temporary, stage, sync_folder, write_bytes
from bir.base.layout import CACHE_DIR, FEED_DIR, RECORD_DIR, SCHEMA_DIR
from bir.base.lock import held, register_lock
from bir.base.problems import UsageError

JOURNAL_FILE = "journal"
FORMAT = 1


def journal_path(root: Path) -> Path:
    return root / CACHE_DIR / JOURNAL_FILE


def locked(root: Path, *, timeout: float | None = None) -> contextlib.AbstractContextManager[None]:
    """The register lock (`bir.base.lock`), as writers take it: a write a killed command left half done is
    completed, and leftover temporary files are removed, before the block runs."""
    def tidy() -> None:
        recover(root)
        sweep(root)

    return register_lock(root, timeout=timeout, on_acquire=tidy)


def commit(root: Path, files: Mapping[str, bytes]) -> list[str]:
    """Replace every file of `files` (path relative to `root` -> new content) at once; the paths written.

    Takes the register lock (or joins it when this process holds it already)."""
    if not files:
        return []
    with locked(root):
        staged: list[tuple[str, str]] = []
        try:
            for rel, data in files.items():
                _check_rel(rel)
                if (root / rel).is_dir() and not (root / rel).is_symlink():
                    raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(root / rel))
                staged.append((stage(root / rel, data).relative_to(root).as_posix(), rel))
            for parent in {(root / rel).parent for _tmp, rel in staged}:
                sync_folder(parent)
            body = json.dumps({"format": FORMAT, "files": staged}).encode("utf-8")
            write_bytes(journal_path(root), body)
        except BaseException:
            for name, _rel in staged:
                with contextlib.suppress(OSError):
                    os.unlink(root / name)
            raise
        _apply(root, staged)
        return [rel for _tmp, rel in staged]


def _apply(root: Path, staged: Iterable[tuple[str, str]]) -> None:
    """Rename each staged file still there over its target, then remove the journal."""
    folders = set()
    for tmp, rel in staged:
        source = root / tmp
        if source.is_file() and not source.is_symlink():
            os.replace(source, root / rel)
            folders.add((root / rel).parent)
    for folder in folders:
        sync_folder(folder)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(journal_path(root))


def _check_rel(rel: str) -> None:
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in rel or "\0" in rel:
        raise ValueError(f"not a path inside the register: {rel!r}")


def _read(root: Path) -> list[tuple[str, str]] | None:
    """The journal's pairs, or None when it is not one this module wrote."""
    path = journal_path(root)
    try:
        if path.is_symlink():
            return None
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("files"), list):
        return None
    pairs: list[tuple[str, str]] = []
    for item in doc["files"]:
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            return None
        tmp, rel = item
        try:
            _check_rel(tmp)
            _check_rel(rel)
        except ValueError:
            return None
        tmp_folder, _, tmp_name = tmp.rpartition("/")
        rel_folder, _, rel_name = rel.rpartition("/")
        if tmp_folder != rel_folder or not is_temporary(tmp_name) or not tmp_name.startswith(f".{rel_name}."):
            return None
        pairs.append((tmp, rel))
    return pairs


def pending(root: Path) -> bool:
    """Whether a write was interrupted after its journal was written (one stat)."""
    try:
        return os.path.lexists(journal_path(root))
    except OSError:
        return False


def recover(root: Path) -> bool:
    """Complete the write a killed command left in the journal (the caller holds the register lock); True
    when there was one."""
    if not pending(root):
        return False
    pairs = _read(root)
    if pairs is None:  # not ours: its temporary files (if any) are swept as leftovers
        with contextlib.suppress(OSError):
            os.unlink(journal_path(root))
        return True
    _apply(root, pairs)
    return True


def settle(root: Path, timeout: float | None = None) -> bool:
    """For readers: complete a pending journal before the register is read. False when one is pending and
    cannot be completed here (a writer holds the lock past `timeout`, default BIR_LOCK_TIMEOUT, or the
    register is read-only)."""
    if not pending(root):
        return True
    try:
        if held(root):
            recover(root)
        else:
            with locked(root, timeout=timeout):
                pass  # taking the lock completes the journal
    except (OSError, UsageError):
        return False
    return not pending(root)


def sweep(root: Path) -> list[str]:
    """Remove the temporary files killed writers left in the register's folders (the caller holds the
    lock, so none of them is being written); the paths removed."""
    removed: list[str] = []
    folders = [Path(), Path(RECORD_DIR), Path(SCHEMA_DIR), Path(FEED_DIR)]
    base = root / RECORD_DIR
    try:
        with os.scandir(base) as it:
            folders += [Path(RECORD_DIR) / e.name for e in it if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
    except OSError:
        pass
    for folder in folders:
        try:
            with os.scandir(root / folder) as it:
                leftovers = [e.name for e in it if is_temporary(e.name) and not e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for name in leftovers:
            with contextlib.suppress(OSError):
                os.unlink(root / folder / name)
                removed.append((folder / name).as_posix())
    return removed
