"""The working tree's validation, cached so that an unchanged re-run is nearly free.

Cache files, all in the register's cache folder (`.bir-cache/`, or under `BIR_CACHE_DIR`: see
`bir.base.atomic.register_cache_dir`) and sealed with the user's key (`bir.base.atomic`), each a named entry:
- `validate.pickle` (`ValidateEntry`): the result with every file's fingerprint: an unchanged re-run of
  `bir validate` compares fingerprints and is done;
- `worktree.pickle` (`WorktreeEntry`): the same result with a snapshot of the working tree in git's terms:
  `bir change` checks the snapshot through git, without listing the register;
- `relations.bin`: who points at whom, in shards (`bir.cache.relations`), for the run whose token it carries.

Every entry is keyed by the rules it was judged by (the point's configuration and schemas), the day and the
version of bir. A full run reads each file's verdict from the result cache (`bir.cache.results`) when its
content was judged before, so a fresh clone with a restored cache parses only what changed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bir import __version__
from bir.base.atomic import read_cache, register_cache_dir, write_cache
from bir.base.problems import Problem, Severity, Summary
from bir.cache.relations import RELATIONS_CACHE, WAIVES, RelationIndex, Relations, StoredRelations
from bir.cache.stamp import code_stamp
from bir.git import worktree
from bir.read.files import discover

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bir.cache.gitkeys import KeySources
    from bir.check.checker import LoadResult
    from bir.check.ruleset import RuleSet
    from bir.git.plumbing import FileChange, Git
    from bir.git.worktree import Answers, Snapshot, Stamp, Tracked


@dataclass(slots=True)
class Validation:
    summary: Summary
    problems: list[Problem]
    cached: bool = False
    relations: Relations | None = None  # with want_relations: target id -> [(source file, relation type)]


def _cache_dir(root: Path) -> Path | None:
    return register_cache_dir(root)


def _key(rules: RuleSet) -> str:
    """What a cached result depends on besides the files: bir's version and code, the rules and the day (a
    rule, date.future, depends on it)."""
    return hashlib.sha256(b"\0".join([__version__.encode(), code_stamp().encode(), rules.fingerprint.encode(),
                                      rules.day.isoformat().encode()])).hexdigest()


@dataclass(slots=True)
class ValidateEntry:
    """validate.pickle: a full run's result with the fingerprint (size, mtime, inode, ctime) of every file it
    read: ctime too, as a same-size overwrite that sets the modification time back still moves it."""

    key: str
    prints: dict[str, tuple[int, int, int, int]]
    summary: Summary
    problems: list[Problem]
    token: str  # the relation index written with it


@dataclass(slots=True)
class WorktreeEntry:
    """worktree.pickle: a full run's result with the working tree's snapshot in git's terms (None when git
    cannot describe this register, so unchanged re-runs do not ask git again)."""

    format: int
    key: str
    token: str
    snapshot: Snapshot | None
    summary: Summary
    problems: list[Problem]


VALIDATE_CACHE, WORKTREE_CACHE = "validate.pickle", "worktree.pickle"


def validate(root: Path, rules: RuleSet, *, use_cache: bool = True, jobs: int | None = None,
             want_relations: bool = False, tracked: Tracked | None = None) -> Validation:
    """Validate the working tree at `root` (files as they are on disk) by `rules`.

    With `want_relations`, also return who points at whom, kept with the cache: finding the records that
    point at a changed record then costs a look-up, not a search of the register. `tracked`: git's diff of
    HEAD against the working tree, asked already by the caller (taken only while HEAD is that commit).
    """
    folder = _cache_dir(root)
    key = _key(rules)
    if use_cache and folder is not None:
        through_git = _validated_through_git(root, rules, want_relations)
        if through_git is not None:
            return through_git
    clock_ns = worktree.clock(folder) if folder is not None else None
    stamps = worktree.folder_stamps(root)  # before the files are listed: a later change shows in them
    from bir.cache import listing
    from bir.cache.gitkeys import KeySources

    # In a pull request's job: main's signed listing and git's diff name the files, unlisted (a snapshot
    # needs a clock, and a clock a folder)
    listed = listing.from_main(root, rules, tracked) if use_cache and clock_ns is not None else None
    sources: KeySources | None = None
    prints: dict[str, tuple[int, int, int, int]] | None = None  # of each file listed (none from main's listing)
    if listed is not None:
        candidates, found = listed.candidates, list[Problem]()
        known: Callable[[], dict[str, bytes]] | None = listed.keys
    else:
        # before the listing; git is asked for the snapshot's answers meanwhile too
        sources = KeySources.start(root, snapshot=clock_ns is not None) if use_cache else None
        candidates, found = discover(root)
        prints = {c.path: c.fingerprint for c in candidates}
        if use_cache and folder is not None:
            cached = read_cache(folder / VALIDATE_CACHE)
            if isinstance(cached, ValidateEntry) and cached.key == key and cached.prints == prints:
                relations = StoredRelations.open(folder / RELATIONS_CACHE, cached.token) if want_relations else None
                if relations is not None or not want_relations:
                    if not (folder / WORKTREE_CACHE).is_file():
                        # No snapshot yet (the last full run's timestamps were too recent to trust): every file
                        # is as that run saw it, so this run's stamps and clock, taken before the listing, can
                        # describe it.
                        _keep_snapshot(root, folder, clock_ns, stamps, key, cached.token, cached.summary,
                                       cached.problems, _answers(sources))
                    return Validation(cached.summary, cached.problems, cached=True, relations=relations)
        known = sources.known(candidates) if sources is not None else None
    # What a full run needs, loaded only when one is due: an unchanged re-run never loads the checker or PyYAML.
    from bir.cache.results import ResultStore
    from bir.check.checker import load

    store = ResultStore.open(rules) if use_cache else None
    if store is not None and os.environ.get("BIR_CACHE_SHARED"):  # a pull request's job: main's currency table
        from bir.cache.validators import take_currencies

        take_currencies()
    result = load(root, rules, candidates, found, want_data=False, jobs=jobs, cache=store,
                  known=known if store is not None else None)
    if store is not None:
        store.save()
        if sources is not None:
            sources.keep(candidates, result.keys)
    summary = result.summary()
    relations_index = relation_index(result)
    if folder is not None:
        token = os.urandom(8).hex()
        relations_index.save(folder / RELATIONS_CACHE, token)
        if prints is not None:  # main's listing gives no file's status to compare with on the next run
            write_cache(folder / VALIDATE_CACHE, ValidateEntry(key, prints, summary, result.problems, token))
        snapshot = _keep_snapshot(root, folder, clock_ns, stamps, key, token, summary, result.problems,
                                  listed.answers if listed is not None else _answers(sources))
        if store is not None and listed is None:
            listing.keep(rules, root, snapshot, candidates, found, result.keys)
        if os.environ.get("BIR_CACHE_SIGNING_KEY", "").strip():  # main's job: what pull requests' jobs take from it
            from bir.cache.validators import hand_on_currencies

            hand_on_currencies()
    return Validation(summary, result.problems, relations=relations_index if want_relations else None)


def _answers(sources: KeySources | None) -> Answers | None:
    return sources.from_git.answers() if sources is not None and sources.from_git is not None else None


def _keep_snapshot(root: Path, folder: Path, clock_ns: int | None, stamps: tuple[Stamp, ...], key: str, token: str,
                   summary: Summary, problems: list[Problem], asked: Answers | None = None) -> Snapshot | str:
    """Write worktree.pickle: the snapshot with the result, or (when git cannot describe this register)
    a record that there is none, so unchanged re-runs do not ask git again. After a racy attempt the file
    is removed: the next unchanged re-run tries again. `asked`: git's answers, asked while the files were
    listed (else they are asked now). The snapshot, or why there is none."""
    snapshot = _snapshot(root, clock_ns, stamps, asked)
    if snapshot == worktree.RACY:
        try:
            (folder / WORKTREE_CACHE).unlink(missing_ok=True)
        except OSError:
            pass
        return snapshot
    kept = snapshot if isinstance(snapshot, worktree.Snapshot) else None
    write_cache(folder / WORKTREE_CACHE, WorktreeEntry(worktree.SNAPSHOT_FORMAT, key, token, kept, summary, problems))
    return snapshot


def _validated_through_git(root: Path, rules: RuleSet, want_relations: bool) -> Validation | None:
    """The cached result, when git shows the working tree unchanged since (one `git diff`, no listing)."""
    from bir.git.plumbing import Git, GitError

    folder = _cache_dir(root)
    kept = _kept_snapshot(folder) if folder is not None else None
    if kept is None or kept.summary.records < SNAPSHOT_MIN_FILES:
        return None  # no snapshot worth checking: spare the git processes
    try:
        git = Git(root)
        head = git.head()
        if head is None:
            return None
        found = validate_worktree(root, rules, git, lambda: git.diff_tracked(head, None), kept=kept)
    except (GitError, OSError):
        return None
    if found is None:
        return None
    checked = found[0]
    if not want_relations:
        checked.relations = None
    return checked


def _snapshot(root: Path, clock_ns: int | None, stamps: tuple[Stamp, ...], asked: Answers | None = None) -> Snapshot | str:
    """The working tree's snapshot for `bir change`, or why there is none (worktree.RACY: worth trying
    again on a later run; anything else: not)."""
    from bir.git.plumbing import Git, GitError

    if clock_ns is None:
        return "no clock"
    try:
        return worktree.take(root, Git(root), clock_ns, stamps, asked)
    except (GitError, OSError):
        return "no git"


# Below this many files, listing the register costs less than starting the git processes that check the
# snapshot (measured: 0.3 s against 0.4 s at 1,000 files; 2.0 s against 0.6 s at 100,000).
SNAPSHOT_MIN_FILES = 10_000


def _kept_snapshot(folder: Path) -> WorktreeEntry | None:
    """The snapshot kept in `folder` with the result it describes (None when there is none, or it is of
    another format)."""
    cached = read_cache(folder / WORKTREE_CACHE)
    if not (isinstance(cached, WorktreeEntry) and cached.format == worktree.SNAPSHOT_FORMAT
            and isinstance(cached.snapshot, worktree.Snapshot) and isinstance(cached.summary, Summary)):
        return None
    return cached


def validate_worktree(root: Path, rules: RuleSet, git: Git, tracked: Callable[[], Sequence[FileChange]],
                      kept: WorktreeEntry | None = None) -> tuple[Validation, tuple[str, ...]] | None:
    """The cached validation of the working tree, when git shows it unchanged since (None otherwise), and
    the untracked files git does not ignore. `tracked` gives git's diff of HEAD against the working tree
    (asked for last: git may still be computing it); `kept` is the snapshot when already read."""
    folder = _cache_dir(root)
    if folder is None:
        return None
    kept = kept if kept is not None else _kept_snapshot(folder)
    if kept is None or kept.snapshot is None:
        return None
    if kept.key != _key(rules) or not worktree.holds(root, git, kept.snapshot, tracked()):
        return None
    relations = StoredRelations.open(folder / RELATIONS_CACHE, kept.token)
    if relations is None:
        return None
    return Validation(kept.summary, kept.problems, cached=True, relations=relations), kept.snapshot.untracked


_UNSEEN = "\0unseen"  # no label's relation type


def relation_index(result: LoadResult) -> RelationIndex:
    """Who points at whom: target id -> [(source file, relation type)], from the facts every load computes:
    the relations, the installations (software installed on a host rests on it), and the waivers (listed
    under the record they waive, as `waives`)."""
    from bir.check.rules import link_of

    sources: dict[str, list[str]] = {}
    types: dict[str, str | None] = {}  # label -> relation type (a few dozen labels, 700,000 references)
    for facts in result.index.values():
        for f in facts:
            waiver = f.kind == "waiver"
            for ref in f.references:
                label = ref[3]
                rtype = types.get(label, _UNSEEN)
                if rtype is _UNSEEN:
                    rtype = types[label] = link_of(label)
                if not rtype and waiver and label == "record":
                    rtype = WAIVES
                if rtype:
                    found = sources.get(ref[1])
                    if found is None:
                        sources[ref[1]] = [f"{f.path}\t{rtype}"]
                    else:
                        found.append(f"{f.path}\t{rtype}")
    return RelationIndex.packed(sources)


def exit_code(problems: list[Problem], strict: bool) -> int:
    if any(p.severity is Severity.ERROR for p in problems):
        return 1
    if strict and problems:
        return 1
    return 0
