"""Content keys from git: in a checkout, git already knows the blob id of every record file it tracks.

The result cache keys a file by its path and its git blob id (`bir.check.checker.content_key` computes the
id from the bytes it reads). For a large register in a clean clone (as in CI) reading every file only to
learn an id git has is most of the cost of a cached run, so the ids of the files git vouches for are taken
from HEAD's tree instead: a file counts only when git reports it unchanged from HEAD (`git diff HEAD`, which
checks every file against git's index and re-reads the ones whose timestamps it cannot trust), it is not
untracked, and its size on disk is the blob's size. The size check catches the attributes that make the
bytes on disk differ from the blob without git reporting a change (`eol`, `working-tree-encoding`,
`ident`): such a file is read and keyed by its own bytes.

Blob ids are SHA-1. A file the check judges was either read (and keyed by its own bytes) or vouched for by
git, whose hashing detects the known collision attacks; and a collision would have to pair two valid UTF-8
YAML records, one of them judged on main.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bir.base.layout import RECORD_DIR
from bir.git.plumbing import FileChange, Git, GitError, work_tree_holder
from bir.read.files import Candidate

if TYPE_CHECKING:
    from concurrent.futures import Future

    from bir.cache.statkeys import StatKeys
    from bir.git.worktree import Answers, Asked

# Below this many files, reading them costs less than the git processes that would spare it.
GIT_KEYS_MIN_FILES = 5_000


class GitKeys:
    """The git processes under way (started by `start`), and the keys they give (`keys`)."""

    def __init__(self, tree: Future[dict[str, tuple[int, bytes]]], changed: Future[list[FileChange]],
                 untracked: Future[list[str]], asked: Asked | None = None) -> None:
        self._tree, self._changed, self._untracked, self._asked = tree, changed, untracked, asked

    @classmethod
    def start(cls, root: Path, *, snapshot: bool = False) -> GitKeys | None:
        """Ask git, in the background, about the register at `root` while the caller lists it (None when it
        is not worth it: a small register, no git, no commit, or a register in a sub-folder of its
        repository). With `snapshot`, ask too what the working tree's snapshot needs (`answers`): `bir
        validate` takes one after the files are read, and the same questions asked twice cost the processes
        twice (at 100,000 files, 0.2 s)."""
        if likely_files(root) < GIT_KEYS_MIN_FILES or not _is_top(root):
            return None
        try:
            git = Git(root)
            head = git.head() if not git.prefix else None
        except (GitError, OSError):
            return None
        if head is None:
            return None
        from concurrent.futures import ThreadPoolExecutor

        from bir.git.worktree import Asked

        pool = ThreadPoolExecutor(max_workers=5 if snapshot else 3)  # each waits on its own git process
        try:
            tree = pool.submit(_tree, git, head)
            if snapshot:
                asked = Asked(pool, git, head)
                return cls(tree, asked.tracked, asked.visible, asked)
            return cls(tree, pool.submit(git.diff_tracked, head, None, (RECORD_DIR,)), pool.submit(git.untracked, (RECORD_DIR,)))
        finally:
            pool.shutdown(wait=False)

    def keys(self, candidates: Sequence[Candidate]) -> dict[str, bytes]:
        """path -> content key, for the candidates git vouches for (empty when git failed)."""
        try:
            tree, changed, untracked = self._tree.result(), self._changed.result(), self._untracked.result()
        except (GitError, OSError):
            return {}
        dirty = set(untracked)
        for change in changed:
            dirty.add(change.path)
            if change.old_path:
                dirty.add(change.old_path)
        out: dict[str, bytes] = {}
        for c in candidates:
            found = tree.get(c.path)
            if found is not None and found[0] == c.fingerprint[0] and c.path not in dirty:
                out[c.path] = found[1]
        return out

    def answers(self) -> Answers | None:
        """What the working tree's snapshot needs (`bir.git.worktree.take`), asked of git while the register was
        listed: against the same commit whose blobs vouched for the files (None when not asked, or git failed)."""
        if self._asked is None:
            return None
        try:
            return self._asked.answers()
        except (GitError, OSError):
            return None


class KeySources:
    """Where a load of the working tree gets content keys without reading the files: those git vouches for,
    and those kept by file status (`bir.cache.statkeys`)."""

    def __init__(self, memo: StatKeys | None, from_git: GitKeys | None) -> None:
        self.memo, self.from_git = memo, from_git

    @classmethod
    def start(cls, root: Path, *, snapshot: bool = False) -> KeySources:
        """Call it before the register is listed: git then works meanwhile, and the memo's clock dates the files.
        With `snapshot`, git is also asked what the working tree's snapshot needs (`GitKeys.start`)."""
        from bir.cache.statkeys import StatKeys

        return cls(StatKeys.open(root), GitKeys.start(root, snapshot=snapshot))

    def known(self, candidates: Sequence[Candidate]) -> Callable[[], dict[str, bytes]]:
        """For `bir.check.checker.load`: the keys git vouches for, then those kept by file status."""

        def known() -> dict[str, bytes]:
            out = self.from_git.keys(candidates) if self.from_git is not None else {}
            if self.memo is not None:
                out.update(self.memo.keys(candidates))
            return out

        return known

    def keep(self, candidates: Sequence[Candidate], keys: Mapping[str, bytes]) -> None:
        """Remember this load's keys by file status, unless git vouches for the files (it keys them next time
        too)."""
        if self.memo is not None and self.from_git is None:
            self.memo.save(candidates, keys)


def _tree(git: Git, head: str) -> dict[str, tuple[int, bytes]]:
    """Every regular file of HEAD's registry/: path -> (size, content key); read in a thread, while the
    register is listed."""
    from bir.check.checker import blob_key

    listing = git.run(["ls-tree", "-r", "-z", "-l", "--full-name", head, "--", RECORD_DIR])
    out: dict[str, tuple[int, bytes]] = {}
    for entry in listing.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        parts = meta.split()
        if len(parts) != 4 or parts[1] != b"blob" or parts[0] == b"120000" or len(parts[2]) != 40 or not parts[3].isdigit():
            continue
        path = name.decode("utf-8", "surrogateescape")
        out[path] = (int(parts[3]), blob_key(path, bytes.fromhex(parts[2].decode("ascii"))))
    return out


def _is_top(root: Path) -> bool:
    """Whether `root` is the top of its work tree (a `.git` in it), checked without starting git: a
    register in a sub-folder of its repository gets no keys from git, so it need not pay for asking."""
    return work_tree_holder(os.path.abspath(root)) == os.path.realpath(root)


def likely_files(root: Path) -> int:
    """About how many entries the kind folders hold, from their sizes (a folder grows with its entries on
    the common file systems): only to decide whether asking git is worth starting before the listing."""
    total = 0
    try:
        with os.scandir(root / RECORD_DIR) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
    except OSError:
        return 0
    return total // 32
