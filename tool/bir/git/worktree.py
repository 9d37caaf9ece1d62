"""The working tree in git's terms: does a cached validation still describe it, without reading it all?

`bir validate` keeps, beside its result, a snapshot of the working tree that git can check cheaply:
- the id of the committed `registry/` tree (HEAD),
- the files that differ from it (tracked files git reports as changed, and every untracked file under
  the register's folders), each with its size, modification time and inode,
- the status-change time of each register folder: adding, removing or renaming an entry changes its
  folder, so the set of names is known without listing them.

`bir change` then asks git what differs from HEAD (one `git diff`, in C and threaded, which it needs
for the change anyway) and compares. When the snapshot holds, the head's validation is the cached
one: the cost follows the size of the change, not the size of the register.

Timestamps are only trusted when they are older than the snapshot (as git does for its index): a
folder or file changed in the same clock tick as the snapshot makes the snapshot unusable, never wrong.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from bir.base.layout import RECORD_DIR, SCHEMA_DIR
from bir.git.plumbing import REGISTER_PATHS, FileChange, Git, under

if TYPE_CHECKING:
    from concurrent.futures import Executor

Stamp = tuple[str, int, int]  # folder, ctime_ns, inode
Print = tuple[int, int, int] | None  # size, mtime_ns, inode; None: the file is not there
SNAPSHOT_FORMAT = 2


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the working tree was when a validation ran, as git and the folders' stamps show it."""

    tree: str  # id of HEAD's registry/ tree
    folders: tuple[Stamp, ...]
    tracked: tuple[str, ...]  # sorted: tracked files git reports as differing from HEAD
    changed: tuple[tuple[str, Print], ...]  # sorted: those and the untracked files, with their prints
    untracked: tuple[str, ...]  # untracked files git does not ignore (part of a working-tree change)


def folder_stamps(root: Path) -> tuple[Stamp, ...]:
    """The register's folders (registry/, each folder in it, schemas/) with their ctime and inode."""
    out: list[Stamp] = []
    for rel in (RECORD_DIR, SCHEMA_DIR):
        try:
            st = os.lstat(root / rel)
        except OSError:
            continue
        out.append((rel, st.st_ctime_ns, st.st_ino))
    try:
        with os.scandir(root / RECORD_DIR) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    out.append((f"{RECORD_DIR}/{entry.name}", st.st_ctime_ns, st.st_ino))
    except OSError:
        pass
    return tuple(sorted(out))


def _print(root: Path, rel: str) -> Print:
    try:
        st = os.lstat(root / rel)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _prints(root: Path, paths: Iterable[str]) -> tuple[tuple[str, Print], ...]:
    return tuple(sorted((p, _print(root, p)) for p in set(paths)))


_IN_REGISTER = under(REGISTER_PATHS)


def _register_paths(tracked: Sequence[FileChange]) -> set[str]:
    """The register's paths a diff touches (both sides of a rename)."""
    return {path for change in tracked for path in (change.path, change.old_path) if path is not None and _IN_REGISTER(path)}


RACY = "racy"  # a timestamp too recent to be trusted: a later run may take the snapshot
NO_TREE = "no tree"  # HEAD has no committed registry/ (no commit yet, or the register is not tracked)


class Answers(NamedTuple):
    """What git says of the working tree against a commit (`Asked`)."""

    tree: str  # id of the commit's registry/ tree ("" when there is none)
    tracked: list[FileChange]  # tracked files that differ from the commit
    every_untracked: list[str]  # untracked files, those git ignores too
    visible: list[str]  # untracked files git does not ignore


class Tracked(NamedTuple):
    """git's diff of the commit `head` against the working tree (`Git.diff_tracked(head, None)`), asked by a
    caller that needs it too (`bir change`), so that a validation in the same run does not ask git again and
    compete with it for the disk and the cores. `changes()` waits for git's answer."""

    head: str
    changes: Callable[[], list[FileChange]]


class Asked:
    """What a snapshot needs, asked of git at once, each question a process of its own in `pool` (at 100,000
    files, one after the other they took 0.3 s)."""

    def __init__(self, pool: Executor, git: Git, rev: str = "HEAD") -> None:
        self.tree = pool.submit(git.tree_id, rev, RECORD_DIR)
        self.tracked = pool.submit(git.diff_tracked, rev, None)
        self.every_untracked = pool.submit(git.untracked, ignored_too=True)
        self.visible = pool.submit(git.untracked)

    def answers(self) -> Answers:
        """The answers, once git has given them all (git's errors raised here)."""
        return Answers(self.tree.result(), self.tracked.result(), self.every_untracked.result(), self.visible.result())


def take(root: Path, git: Git, clock_ns: int, folders: tuple[Stamp, ...], asked: Answers | None = None) -> Snapshot | str:
    """The snapshot of the working tree now, or why there is none (RACY, NO_TREE). `folders` were stamped,
    and `clock_ns` read from the file system's clock, before the files were read. `asked`: git's answers
    when they were asked for already, after the clock was read (`bir.cache.gitkeys` asks them while the
    register is listed); the files' own prints are always taken here, after the files were read, so a
    file changed while they were read shows as too recent."""
    if any(ctime >= clock_ns for _rel, ctime, _ino in folders):
        return RACY
    if asked is None:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(4) as pool:
            asked = Asked(pool, git).answers()
    if not asked.tree:
        return NO_TREE
    differing = _register_paths(asked.tracked)
    changed = _prints(root, differing | set(asked.every_untracked))
    if any(p is not None and p[1] >= clock_ns for _path, p in changed):
        return RACY
    return Snapshot(asked.tree, folders, tuple(sorted(differing)), changed, tuple(sorted(asked.visible)))


def holds(root: Path, git: Git, snapshot: Snapshot, tracked: Sequence[FileChange]) -> bool:
    """Whether the working tree is still what `snapshot` saw, given git's tracked changes against HEAD now."""
    if folder_stamps(root) != snapshot.folders or git.tree_id("HEAD", RECORD_DIR) != snapshot.tree:
        return False
    # The same files differ from HEAD as then (staging or unstaging one changes what is untracked), and
    # each of them, and each untracked file, is as it was.
    differing = _register_paths(tracked)
    if tuple(sorted(differing)) != snapshot.tracked:
        return False
    return _prints(root, differing | {p for p, _print in snapshot.changed}) == snapshot.changed


def clock(folder: Path) -> int | None:
    """The file system's clock now (ns), read by touching a file in `folder` (None when it cannot be)."""
    path = folder / "clock"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            return None
        with open(path, "wb"):
            pass
        return os.lstat(path).st_ctime_ns
    except OSError:
        return None
