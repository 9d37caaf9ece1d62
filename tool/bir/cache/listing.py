"""Main's listing of its register, signed: a pull request's job learns its files from git, not by listing them.

A full `bir validate` lists the register (a status of every file: 0.45-0.8 s at 100,000 files) and then asks
the result cache for each file's verdict by its content key. In a pull request's job nearly all of those files
are main's, unchanged, and git already knows which are not. So main's job (the one that holds the signing key,
`bir.cache.trust`) keeps, beside its signed verdicts, the *listing* of the register it judged: the id of the
`registry/` tree, and every file's kind, name and content key (`<context>.tree` with its `.sig`). It keeps one
only when its working tree was exactly that tree: every file a plainly named record file (no problem in the
listing), nothing changed or untracked, ignored files included.

A pull request's job (`from_main`) then takes main's listing and git's answers instead of listing the register:
- the working tree is its HEAD's `registry/` tree (git reports no tracked change and no untracked file there,
  ignored ones included);
- `git diff-tree` from main's tree to that one gives the files added, changed and removed: only those are
  read, and each must be a regular, plainly named record file in a kind's folder;
- every folder holds as many entries as the two say (an empty folder, which git does not track, makes it
  differ: a folder that is not a kind is a problem of the listing, so the register is listed);
- no tracked `.gitattributes` and no `info/attributes` (they can make a checked-out file's bytes differ from
  its blob, and main's content key is of main's bytes).
Anything else, and whenever the listing is missing, of another context or not signed by the trusted key, the
register is listed as always. The files then judged are those a listing would find, with the content keys
of their bytes; what each verdict is, and the rules across records, are as in a full run. A listing cannot
make an invalid record valid: the verdicts come from the signed packs (`bir.cache.results`) or a check, and
a record whose content is not main's is read and checked.

What git is trusted with here it is trusted with already (`bir.cache.gitkeys`); the runner's own git
configuration (`core.autocrlf`, a global attributes file) is the job's, not the pull request's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any

from bir.base.layout import RECORD_DIR
from bir.base.model import KINDS
from bir.read.files import Candidate, plain_record_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bir.base.problems import Problem
    from bir.check.ruleset import RuleSet
    from bir.git.plumbing import TreeChange
    from bir.git.worktree import Answers, Snapshot, Tracked

SUFFIX = "tree"
_KEY_BYTES = 20  # a content key (`bir.check.checker.content_key`)
_PREFIX = RECORD_DIR + "/"
_MODES = frozenset({"100644", "100755"})  # a regular file in git (a link is 120000, a submodule 160000)


@dataclass(frozen=True, slots=True)
class Listing:
    """A register as main's job listed it: the `registry/` tree's id, and each kind's files (sorted names, and
    their content keys joined)."""

    tree: str
    kinds: dict[str, tuple[tuple[str, ...], bytes]]


@dataclass(slots=True)
class Listed:
    """The working tree's files as main's listing and git give them: the candidates (in a listing's order), the
    content keys of those that are main's, and what git said of the working tree (for its snapshot)."""

    candidates: list[Candidate]
    known: dict[str, bytes]
    answers: Answers

    def keys(self) -> dict[str, bytes]:
        """For `bir.check.checker.load`: the content keys known without reading the files (main's)."""
        return self.known


def _pack(folder: Path, context: str) -> Path:
    return folder / f"{context[:32]}.{SUFFIX}"


def keep(rules: RuleSet, root: Path, snapshot: Snapshot | str, candidates: Sequence[Candidate],
         discovery: Sequence[Problem], keys: dict[str, bytes]) -> None:
    """On main's job (a signing key set): keep the listing of a run whose working tree was exactly HEAD's
    `registry/` tree (`snapshot`, taken after the files were read), with no problem in the listing."""
    from bir.cache.results import context_of, results_dir, write_pack
    from bir.cache.trust import signing_key
    from bir.git.worktree import Snapshot

    key = signing_key()
    folder = results_dir()
    if key is None or folder is None or not isinstance(snapshot, Snapshot) or discovery or len(keys) != len(candidates):
        return
    if any(p.startswith(_PREFIX) for p in snapshot.tracked) or any(p.startswith(_PREFIX) for p, _ in snapshot.changed):
        return
    kinds: dict[str, tuple[list[str], list[bytes]]] = {}
    for c in candidates:
        name = c.path[len(_PREFIX) + len(c.kind) + 1:]
        if not plain_record_name(name) or c.path != f"{_PREFIX}{c.kind}/{name}":
            return
        names, found = kinds.setdefault(c.kind, ([], []))
        names.append(name)
        found.append(keys[c.path])
    from bir.git.plumbing import Git, GitError

    try:
        if Git(root).may_convert_checkouts():
            return
    except (GitError, OSError):
        return
    table: dict[bytes, Any] = {b"tree": snapshot.tree,
                               b"kinds": {kind: (tuple(names), b"".join(found)) for kind, (names, found) in kinds.items()}}
    context = context_of(rules)
    write_pack(_pack(folder, context), context, table, key)


def read(shared: Path, context: str) -> Listing | None:
    """Main's listing for `context`, from the shared layer's folder `shared`, when its signature verifies (None
    otherwise)."""
    from bir.cache.results import read_signed

    table = read_signed(_pack(shared, context), context)
    if table is None:
        return None
    tree, kinds = table.get(b"tree"), table.get(b"kinds")
    if not isinstance(tree, str) or not isinstance(kinds, dict):
        return None
    for kind, entry in kinds.items():
        if kind not in KINDS or not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], tuple)
                                     and isinstance(entry[1], bytes) and len(entry[1]) == _KEY_BYTES * len(entry[0])):
            return None
        names = entry[0]
        if not all(type(name) is str for name in names) or not all(a < b for a, b in pairwise(names)):
            return None  # not one name each, in a listing's order
    return Listing(tree, kinds)


def from_main(root: Path, rules: RuleSet, asked: Tracked | None = None) -> Listed | None:
    """The working tree's files from main's signed listing and git's diff of main's tree against HEAD's, when
    the two describe it exactly (see the module's notes); None when the register must be listed, or when
    there is no result cache to read main's verdicts through (as `ResultStore.open` decides). `asked`: git's
    diff of a commit against the working tree, already asked by the caller: taken when that commit is HEAD."""
    if not os.environ.get("BIR_CACHE_SHARED") or not rules.fingerprint or os.environ.get("BIR_NO_RESULT_CACHE"):
        return None  # decided before anything is imported: an unchanged re-run loads neither checker nor PyYAML
    from bir.cache.results import context_of, results_dir, shared_dir
    from bir.cache.trust import trusted_key

    if results_dir() is None or trusted_key() is None:
        return None
    from bir.base.journal import settle

    context = context_of(rules)
    shared = shared_dir()
    if shared is None or not _pack(shared, context).is_file() or not settle(root):
        return None  # no listing to take (or a write to complete first, which a listing of the files reports)
    from concurrent.futures import ThreadPoolExecutor

    from bir.git.plumbing import Git, GitError
    from bir.git.worktree import Answers

    try:
        git = Git(root)
        head = git.head() if not git.prefix else None
        if head is None:
            return None
        pool = ThreadPoolExecutor(max_workers=4)  # each waits on its own git process
        try:
            tree = pool.submit(git.tree_id, head, RECORD_DIR)
            tracked = asked.changes if asked is not None and asked.head == head else \
                pool.submit(git.diff_tracked, head, None).result
            # untracked files, ignored ones too, and folders git does not track (an empty one too)
            others = pool.submit(git.untracked, ignored_too=True, folders=True)
            converts = pool.submit(git.may_convert_checkouts)
            # meanwhile: main's files, as if nothing changed
            listing = read(shared, context)
            if listing is None or not _plain_folders(root):
                return None
            files = {kind: _main_files(kind, entry) for kind, entry in listing.kinds.items()}
            answers = Answers(tree.result(), tracked(), [], [])
            if others.result() or converts.result() or not answers.tree:
                return None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # no git thread left running: a validation may fork next
        if any(c.path.startswith(_PREFIX) or (c.old_path or "").startswith(_PREFIX) for c in answers.tracked):
            return None  # the working tree is not HEAD's tree
        changes = git.tree_changes(listing.tree, answers.tree) if answers.tree != listing.tree else []
    except (GitError, OSError):
        return None
    return _with_changes(root, listing, files, changes, answers)


_UNLISTED = (0, 0, 0, 0)  # a file's status, not taken: nothing compares it (a later unchanged re-run lists the files)


def _main_files(kind: str, entry: tuple[tuple[str, ...], bytes]) -> tuple[list[Candidate], dict[str, bytes]]:
    """One kind's files in main's listing: the candidates in order, and path -> content key."""
    names, joined = entry
    prefix = f"{_PREFIX}{kind}/"
    paths = [prefix + name for name in names]
    make = tuple.__new__
    keys = [joined[i:i + _KEY_BYTES] for i in range(0, len(joined), _KEY_BYTES)]
    return [make(Candidate, (path, kind, _UNLISTED)) for path in paths], dict(zip(paths, keys, strict=True))


def _with_changes(root: Path, listing: Listing, files: dict[str, tuple[list[Candidate], dict[str, bytes]]],
                  changes: Sequence[TreeChange], answers: Answers) -> Listed | None:
    """Main's files with git's changes from main's tree to HEAD's: a changed or added file is read (with its
    status), a removed one is gone; None when a change is not a plain record file's."""
    names: dict[str, set[str]] = {}
    read_anew: set[str] = set()
    for change in changes:
        kind, _, name = change.path.partition("/")
        if kind not in KINDS or not plain_record_name(name):
            return None
        held = names.get(kind)
        if held is None:
            held = names[kind] = set(listing.kinds[kind][0]) if kind in listing.kinds else set()
        if change.status == "D" and name in held:
            held.discard(name)
        elif change.status in ("A", "M") and change.mode in _MODES and (name in held) == (change.status == "M"):
            held.add(name)
            read_anew.add(f"{_PREFIX}{kind}/{name}")
        else:
            return None  # a type change, a link, a submodule, or a diff that does not fit the listing
    candidates: list[Candidate] = []
    known: dict[str, bytes] = {}
    base = os.fspath(root) + os.sep
    for kind in sorted({*files, *names}):
        kept, keys = files.get(kind, ([], {}))
        if kind not in names:
            candidates.extend(kept)
            known.update(keys)
            continue
        prefix = f"{_PREFIX}{kind}/"
        for name in sorted(names[kind]):
            path = prefix + name
            if path not in read_anew:
                candidates.append(Candidate(path, kind, _UNLISTED))
                known[path] = keys[path]
                continue
            try:
                st = os.lstat(base + path)
            except OSError:
                return None
            if not S_ISREG(st.st_mode):
                return None
            candidates.append(Candidate(path, kind, (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)))
    return Listed(candidates, known, answers)


def _plain_folders(root: Path) -> bool:
    """Whether `registry/` is a folder holding only kind folders (git names what else they hold)."""
    base = root / RECORD_DIR
    try:
        if base.is_symlink() or not base.is_dir():
            return False
        with os.scandir(base) as it:
            return all(entry.name in KINDS and entry.is_dir(follow_symlinks=False) for entry in it)
    except OSError:
        return False
