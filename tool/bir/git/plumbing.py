"""All git access of the project: one module, argument lists only, never user text as an option.

git itself is the library: every question is a git command run with `subprocess`, each part measured against
what it replaced (on the generated registers of `bench/`, 2 cores; the commit that made the change has the
figures):
- the repository is the one git finds from the register's folder (`git rev-parse`, one process of about
  2 ms, with a calling git's variables removed), so linked worktrees, `.git` files and git's own rules for
  parent folders are git's;
- every git command runs in the register's folder, with one environment (no prompt, no pager, one
  language, no optional locks);
- blobs are read from one persistent `git cat-file --batch` process, kept for the life of a `Git`. Asking
  for one object at a time, a round trip each, took 4.9 s for 100,000 records against 0.73 s for the one
  `cat-file --batch` run given every name that it replaces. So the requests are written to that process in
  one go while the answers are read (0.67 s), and a command that reads blobs several times starts git once;
- the history pass reads `git log` as git writes it: the tree diffs (git) and the parsing (here) on two
  cores at once (whole output first, then parsing: +8 %; an object model's commit-by-commit diffs: 73 s
  against 0.79 s at 100,000 records x 1,000 commits).
Until the eighth round this module ran git through GitPython's command wrapper and found the repository
with its `Repo`. bir used nothing else of it, and importing it cost 35-40 ms (and a `git version` process)
in every command that reads git: 8 % of a pull request's check at 10,000 records.

Refs given by users are verified with `git rev-parse --verify --quiet --end-of-options <ref>^{commit}`
before use and passed on as full object ids. A calling git's GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE
(git sets them for hooks) never send bir to another repository: the repository is the one holding the
register's folder, and where such a variable is set, git is given that repository's own value instead.

Paths returned by this module are relative to the register root (which may be a sub-folder of the
repository), with POSIX separators.

Over 400 lines on purpose: it is every git access of the project, kept in one place.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from bir.base.gcpause import gc_paused
from bir.base.problems import UsageError

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_ZERO = "0" * 40
REGISTER_PATHS = ("registry", "bir.yaml", "schemas")
SHALLOW_HINT = ("the repository is a shallow clone, so the history needed is missing; fetch it with "
                "`git fetch --unshallow` (GitHub Actions: `actions/checkout` with `fetch-depth: 0`)")
NO_GIT = "git is not installed or not on PATH; install git to compare or read history"
# Never prompt, never page, read output in one stable language, and take no optional locks (a read
# never blocks a git the user runs at the same time).
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
_CALLER_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")
# What tells git which repository to use; none of it reaches the discovery of the register's own.
_LOCATORS = (*_CALLER_VARS, "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR", "GIT_NAMESPACE")
_EXE = "git"
# One header of `git cat-file --batch`; anything else ("<name> missing", "<name> ambiguous") is no blob.
_BATCH_HEADER = re.compile(rb"^([0-9a-f]{40}) (blob|tree|commit|tag) (\d+)\n$")
_INLINE_REQUEST = 4096  # bytes of requests written before reading: within any pipe's buffer


class GitError(UsageError):
    """git failed, or the folder is not in a git repository (exit code 2 with the reason)."""


class FileChange(NamedTuple):
    """One entry of a diff: status A/M/D/R (copies are reported as additions), paths relative to the root.

    A tuple, not a dataclass: a history pass holds one per file per commit and is kept in a pickle,
    where tuples cost a tenth of what slotted dataclasses do.
    """

    status: str
    path: str
    old_path: str | None = None
    old_blob: str | None = None
    new_blob: str | None = None


class TreeChange(NamedTuple):
    """One file of `git diff-tree`: status (A, M, D, T...), path inside the trees, mode on the new side."""

    status: str
    path: str
    mode: str


@dataclass(slots=True)
class Commit:
    """One first-parent commit of a history pass, with the files it changed under the given paths."""

    sha: str
    parents: tuple[str, ...]
    author: str
    author_email: str
    date: str  # author date, strict ISO 8601 with offset
    committer_date: str
    subject: str
    message: str
    changes: list[FileChange] = field(default_factory=list)

    @property
    def short(self) -> str:
        return self.sha[:7]


class Done(NamedTuple):
    """A finished git command: its exit code and its output."""

    returncode: int
    stdout: bytes
    stderr: str


def _discover(root: Path) -> tuple[Path, str, str]:
    """The work tree's top, the register's folder relative to it ("sub/dir/" or "") and the git folder, as git
    finds them from the register's folder (a calling git's variables removed)."""
    where = os.path.abspath(root)
    not_inside = (f"{root} is not inside a git repository; the register's history lives in git "
                  "(run `git init`, or pass the register's folder with --root)")
    if not os.path.isdir(where) or not os.access(where, os.R_OK | os.X_OK):
        raise GitError(f"{root} is not a folder this user can read")
    env = {k: v for k, v in os.environ.items() if k not in _LOCATORS}
    env.update(_ENV)
    try:
        found = subprocess.run([_EXE, "rev-parse", "--absolute-git-dir", "--is-bare-repository", "--is-inside-git-dir",
                                "--show-toplevel"], cwd=where, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                               check=False)
    except OSError:
        raise GitError(NO_GIT) from None
    lines = found.stdout.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) < 3:
        said = " ".join(line.strip() for line in found.stderr.decode("utf-8", "replace").splitlines() if line.strip())
        if not said or said.startswith("fatal: not a git repository"):
            raise GitError(not_inside)
        # git's whole answer: "detected dubious ownership ... call: git config --global --add safe.directory ..."
        raise GitError(f"the git repository holding {root} cannot be read: {said.removeprefix('fatal: ')[:500]}")
    git_dir = os.path.realpath(lines[0])
    if lines[1] == "true":
        raise GitError(f"{root} is inside a bare git repository, which has no files to read; clone it")
    if lines[2] == "true" or len(lines) < 4:
        raise GitError(f"{root} is inside the git folder {git_dir}; give the register's folder")
    top = os.path.realpath(lines[3])
    here = os.path.realpath(where)
    if here == git_dir or here.startswith(git_dir + os.sep):
        raise GitError(f"{root} is inside the git folder {git_dir}; give the register's folder")
    if here != top and not here.startswith(top.rstrip(os.sep) + os.sep):
        raise GitError(not_inside)
    rel = os.path.relpath(here, top)
    return Path(top), ("" if rel == "." else Path(rel).as_posix() + "/"), git_dir


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Stop a persistent git process (its input closed first: git ends by itself), and wait for it."""
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=1)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def work_tree_holder(folder: str) -> str | None:
    """The nearest folder from `folder` up that holds a `.git` (a folder, or a file pointing to one)."""
    current = os.path.realpath(folder)
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


class Git:
    """A repository seen from a register root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.top, self.prefix, self.git_dir = _discover(self.root)
        self._where = os.path.abspath(self.root)
        env = dict(_ENV)
        if any(var in os.environ for var in _CALLER_VARS):
            env.update(GIT_DIR=self.git_dir, GIT_WORK_TREE=str(self.top),
                       GIT_INDEX_FILE=os.path.join(self.git_dir, "index"))
        self._env = env  # over the process's environment as it is when git starts
        self._blobs = threading.Lock()  # the persistent cat-file process answers one batch at a time
        self._cat: subprocess.Popen[bytes] | None = None
        self._closer: weakref.finalize[[subprocess.Popen[bytes]], Git] | None = None

    # -- plumbing -------------------------------------------------------------------------------------
    def _start(self, args: Sequence[str], *, stdin: int | None = subprocess.DEVNULL,
               stderr: int = subprocess.PIPE) -> subprocess.Popen[bytes]:
        """git with `args` started in the register's folder, its output piped."""
        try:
            return subprocess.Popen([_EXE, "-c", "core.quotepath=off", *args], cwd=self._where, env={**os.environ, **self._env},
                                    stdin=stdin, stdout=subprocess.PIPE, stderr=stderr)
        except OSError:
            if not os.path.isdir(self._where):
                raise GitError(f"{self.root} is not a folder this user can read") from None
            raise GitError(NO_GIT) from None

    def _run(self, args: Sequence[str], *, check: bool = True) -> Done:
        proc = self._start(args)
        out, err_bytes = proc.communicate()
        code = proc.returncode
        err = err_bytes.decode("utf-8", "replace")
        if check and code != 0:
            msg = err.strip().splitlines()
            raise GitError(f"git {args[0]} failed: {msg[-1] if msg else 'exit code ' + str(code)}")
        return Done(code, out, err)

    def run(self, args: Sequence[str]) -> bytes:
        return self._run(args).stdout

    def _rel(self, top_path: str) -> str | None:
        """A path relative to the repository top as a path relative to the register root (None outside it)."""
        if not self.prefix:
            return top_path
        return top_path[len(self.prefix):] if top_path.startswith(self.prefix) else None

    # -- refs -----------------------------------------------------------------------------------------
    def is_shallow(self) -> bool:
        return self.run(["rev-parse", "--is-shallow-repository"]).strip() == b"true"

    def resolve(self, ref: str) -> str:
        """The commit id `ref` names; a UsageError (with the fetch hint in a shallow clone) when there is none."""
        if not ref or "\0" in ref or ref.startswith("-"):
            raise UsageError(f"'{ref}' is not a git revision; give a branch, tag or commit such as origin/main")
        out = self._run(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], check=False)
        sha = out.stdout.decode().strip()
        if out.returncode != 0 or not _HEX40.match(sha):
            if self.is_shallow():
                raise UsageError(f"no commit '{ref}' here: {SHALLOW_HINT}")
            raise UsageError(f"no commit '{ref}' in this repository; fetch it (e.g. `git fetch origin main`) "
                             "or give another branch, tag or commit")
        return sha

    def remote_url(self, name: str) -> str | None:
        """The URL of remote `name` (None when there is none)."""
        if not name.isidentifier():
            return None
        out = self._run(["remote", "get-url", "--", name], check=False)
        url = out.stdout.decode("utf-8", "replace").strip() if out.returncode == 0 else ""
        return url or None

    def head(self) -> str | None:
        out = self._run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], check=False)
        sha = out.stdout.decode().strip()
        return sha if out.returncode == 0 and _HEX40.match(sha) else None

    def require_full_history(self) -> None:
        """History features need every commit: refuse a shallow clone rather than report a partial history."""
        if self.is_shallow():
            raise UsageError(SHALLOW_HINT)

    def merge_base(self, a: str, b: str) -> str | None:
        out = self._run(["merge-base", a, b], check=False)
        sha = out.stdout.decode().strip()
        return sha if out.returncode == 0 and _HEX40.match(sha) else None

    # -- trees and blobs ------------------------------------------------------------------------------
    def ls_tree(self, rev: str, paths: Sequence[str] = REGISTER_PATHS) -> dict[str, str]:
        """Every file at `rev` under `paths`: path (relative to the root) -> blob id."""
        out = self.run(["ls-tree", "-r", "-z", "--full-name", rev, "--", *paths])
        files: dict[str, str] = {}
        for entry in out.split(b"\0"):
            if not entry:
                continue
            meta, _, name = entry.partition(b"\t")
            mode, otype, oid = meta.decode().split()
            rel = self._rel(name.decode("utf-8", "surrogateescape"))
            if otype == "blob" and rel is not None and mode != "120000":  # symbolic links are never read
                files[rel] = oid
        return files

    def links(self, rev: str, paths: Sequence[str]) -> list[str]:
        """The symbolic links at `rev` under `paths` (relative to the root): never read, always reported."""
        out = self.run(["ls-tree", "-r", "-z", "--full-name", rev, "--", *paths])
        found = []
        for entry in out.split(b"\0"):
            meta, _, name = entry.partition(b"\t")
            if meta.startswith(b"120000 "):
                rel = self._rel(name.decode("utf-8", "surrogateescape"))
                if rel is not None:
                    found.append(rel)
        return sorted(found)

    def cat_blobs(self, names: Iterable[str]) -> dict[str, bytes | None]:
        """Read many objects through the persistent `git cat-file --batch`: name -> content (None when missing
        or not a blob).

        A name is a blob id or `<commit>:<path>` (path relative to the register root).
        """
        wanted = list(dict.fromkeys(names))
        if not wanted:
            return {}
        request = []
        for name in wanted:
            if "\n" in name or "\r" in name:  # cat-file reads one name a line: ask for such a path by its blob id
                rev, _, path = name.partition(":")
                listing = self.ls_tree(rev, [path]) if rev and path else {}
                request.append(listing.get(path, "0" * 40))
                continue
            if ":" in name and not _HEX40.match(name):
                rev, _, path = name.partition(":")
                request.append(f"{rev}:{self.prefix}{path}")
            else:
                request.append(name)
        payload = ("\n".join(request) + "\n").encode("utf-8", "surrogateescape")
        with self._blobs:
            try:
                return self._batch(wanted, payload)
            except (OSError, ValueError):
                pass  # the process ended (and was put away): reads are safe to ask again, of a new one
            try:
                return self._batch(wanted, payload)
            except (OSError, ValueError) as exc:
                raise GitError(f"git cat-file failed: {exc}") from None

    def _batch(self, wanted: list[str], payload: bytes) -> dict[str, bytes | None]:
        """One batch of requests to the persistent `cat-file --batch` process, written in one go (from a second
        thread when they could fill the pipe) while the answers are read."""
        proc = self._cat
        if proc is None or proc.poll() is not None:
            if proc is not None:
                self._put_away()
            # its errors are not read (a pipe nobody reads could fill and stop it): a failure shows in its answers
            proc = self._cat = self._start(["cat-file", "--batch"], stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
            self._closer = weakref.finalize(self, _end, proc)
        stdin, stdout = proc.stdin, proc.stdout
        if stdin is None or stdout is None:
            raise OSError("the cat-file process has no pipes")
        failed: list[BaseException] = []

        def feed() -> None:
            try:
                stdin.write(payload)
                stdin.flush()
            except (OSError, ValueError) as exc:  # the process ended: the reader sees it too
                failed.append(exc)

        writer = None
        if len(payload) <= _INLINE_REQUEST:
            feed()
        else:
            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
        result: dict[str, bytes | None] = {}
        try:
            for name in wanted:
                header = stdout.readline()
                if not header:
                    raise OSError(f"git stopped answering{': ' + str(failed[0]) if failed else ''}")
                found = _BATCH_HEADER.match(header)
                if found is None:
                    result[name] = None  # "<name> missing" / "ambiguous"
                    continue
                size = int(found.group(3))
                data = stdout.read(size + 1)
                if len(data) != size + 1:
                    raise OSError("git stopped in the middle of an object")
                result[name] = data[:size] if found.group(2) == b"blob" else None
        except BaseException:
            self._put_away()  # ends the process, so a writer blocked on a full pipe returns
            raise
        finally:
            if writer is not None:
                writer.join()
        return result

    def _put_away(self) -> None:
        """End the persistent cat-file process (the next batch starts a new one)."""
        proc, self._cat = self._cat, None
        if proc is not None:
            proc.kill()
            if self._closer is not None:
                self._closer()  # closes its pipes and waits for it, once
            self._closer = None

    def close(self) -> None:
        """End the persistent cat-file process now (it also ends when this `Git` is collected, or at exit)."""
        with self._blobs:
            self._put_away()

    def reader(self, rev: str, paths: Sequence[str] = REGISTER_PATHS) -> GitReader:
        return GitReader(self, rev, self.ls_tree(rev, paths))

    # -- diffs ----------------------------------------------------------------------------------------
    def diff(self, base: str, head: str | None, paths: Sequence[str] = REGISTER_PATHS) -> list[FileChange]:
        """Files changed from `base` to `head` (a commit, or None for the working tree, untracked files included)."""
        if head is None:
            return self.diff_tracked(base, None, paths) + [FileChange("A", p) for p in self.untracked(paths)]
        return self.diff_tracked(base, head, paths)

    def diff_tracked(self, base: str, head: str | None, paths: Sequence[str] = REGISTER_PATHS) -> list[FileChange]:
        """Tracked files changed from `base` to `head` (None: the working tree, seen through git's index)."""
        args = ["diff", "--no-ext-diff", "--no-textconv", "--raw", "-z", "-M", "--no-abbrev", "--full-index", base]
        if head is not None:
            args.append(head)
        return list(_parse_raw(_text(self.run([*args, "--", *paths])), self._rel if self.prefix else None))

    def tree_changes(self, old: str, new: str) -> list[TreeChange]:
        """Every file that differs between the trees (or commits) `old` and `new`, paths inside the trees as
        git writes them (no rename detection: a moved file is a removal and an addition)."""
        out = self.run(["diff-tree", "-r", "-z", "--raw", "--no-renames", "--no-abbrev", "--end-of-options", old, new])
        return [TreeChange(status.decode("ascii"), path.decode("utf-8", "surrogateescape"), new_mode.decode("ascii"))
                for _old_mode, new_mode, status, path in _TREE_ENTRY.findall(out)]

    def may_convert_checkouts(self) -> bool:
        """Whether the repository itself can make a checked-out file's bytes differ from its blob (end of line,
        encoding, ident): a tracked `.gitattributes` in any folder, or the git folder's `info/attributes`."""
        if os.path.lexists(os.path.join(self.git_dir, "info", "attributes")):
            return True
        return bool(self.run(["ls-files", "-z", "--full-name", "--", ":(top,glob)**/.gitattributes"]).strip(b"\0"))

    def untracked(self, paths: Sequence[str] = REGISTER_PATHS, *, ignored_too: bool = False,
                  folders: bool = False) -> list[str]:
        """Untracked files under `paths` (relative to the root): those git ignores only with `ignored_too`. With
        `folders`, a folder holding nothing tracked is named instead of its files (`name/`), an empty one too."""
        args = ["ls-files", "--others", "-z", "--full-name"]
        if not ignored_too:
            args.append("--exclude-standard")
        if folders:
            args.append("--directory")
        out = _text(self.run([*args, "--", *paths]))
        return [visible(rel) for name in out.split("\0") if name and (rel := self._rel(name)) is not None]

    def tree_id(self, rev: str, path: str) -> str:
        """The id of the tree (or blob) at `path` in commit `rev` ("" when there is none)."""
        out = self._run(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}:{self.prefix}{path}"], check=False)
        oid = out.stdout.decode().strip()
        return oid if out.returncode == 0 and _HEX40.match(oid) else ""

    def grep_words(self, words: Sequence[str], rev: str | None, paths: Sequence[str] = ("registry",)) -> set[str]:
        """Files (relative to the root) under `paths` that contain any of `words` as a whole word.

        A fast pre-filter (git's own multi-threaded search) before parsing: finding who points at a record
        costs a search over the bytes, not a parse of every record.
        """
        if not words:
            return set()
        args = ["grep", "-z", "-l", "-w", "-F", "-I", "--full-name", "--no-color"]
        if rev is None:
            args.append("--untracked")
        for w in words:
            args += ["-e", w]
        if rev is not None:
            if not _HEX40.match(rev):  # only resolved commit ids: git grep has no --end-of-options
                raise UsageError(f"'{rev}' is not a resolved commit id")
            args.append(rev)
        proc = self._run([*args, "--", *paths], check=False)
        if proc.returncode not in (0, 1):
            raise GitError(f"git grep failed: {proc.stderr.strip()}")
        found = set()
        for name in proc.stdout.split(b"\0"):
            if not name:
                continue
            text = name.decode("utf-8", "surrogateescape")
            if rev is not None and text.startswith(rev + ":"):
                text = text[len(rev) + 1:]
            rel = self._rel(text)
            if rel is not None:
                found.add(rel)
        return found

    # -- history --------------------------------------------------------------------------------------
    def log(self, paths: Sequence[str] = ("registry",), rev: str = "HEAD", since: str | None = None,
            until: str | None = None, first: Callable[[Commit], None] | None = None) -> list[Commit]:
        """First-parent history touching `paths`, newest first.

        The whole history is read once and kept in the register's cache folder (`.bir-cache`, or under `BIR_CACHE_DIR`); a later call reads only the
        commits added on top of the cached tip (when that tip is still on the first-parent line).

        When the whole history is read from git, `first` is called with its first (oldest) commit as soon
        as that is read, while git still reads the rest: a caller walking the history oldest first can
        start on it (the first commit often holds most of the entries: every record imported at once).
        """
        if since or until:
            return self._log(paths, [rev], since, until)
        tip = self._run(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], check=False)
        tip_sha = tip.stdout.decode().strip()
        if tip.returncode != 0 or not _HEX40.match(tip_sha):
            return self._log(paths, [rev])
        cache = self._log_cache(paths)
        cached = _read_log_cache(cache) if cache is not None else None
        if cached is not None and cached[0] == tip_sha:
            return cached[1]
        commits: list[Commit] | None = None
        if cached is not None:
            line = self._run(["rev-list", "--first-parent", tip_sha], check=False).stdout.decode().split()
            if cached[0] in line:
                commits = self._log(paths, [tip_sha, f"^{cached[0]}"]) + cached[1]
        if commits is None:
            commits = self._log(paths, [tip_sha], first=first)
        if cache is not None:
            from bir.base.atomic import write_cache

            write_cache(cache, (LOG_CACHE_FORMAT, tip_sha, [_packed(c) for c in commits]), codec="marshal")
        return commits

    def _log_cache(self, paths: Sequence[str]) -> Path | None:
        import hashlib

        from bir.base.atomic import register_cache_dir

        folder = register_cache_dir(self.root)
        if folder is None or (folder.exists() and not folder.is_dir()):
            return None
        key = hashlib.sha256("\0".join([self.prefix, *paths]).encode()).hexdigest()[:16]
        return folder / f"log-{key}.pickle"

    def _log(self, paths: Sequence[str], revs: list[str], since: str | None = None, until: str | None = None,
             first: Callable[[Commit], None] | None = None) -> list[Commit]:
        """One pass of `git log --first-parent --raw`."""
        fmt = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cI%x1f%s%x1f%B%x1f"
        args = ["log", "--first-parent", "--diff-merges=first-parent", "-z", "--raw", "-M", "--no-abbrev",
                "--no-ext-diff", "--no-textconv", f"--format={fmt}"]
        if since:
            args.append(f"--since={since}")
        if until:
            args.append(f"--until={until}")
        # At the top of the repository, the paths are filtered here rather than given to git: matching a
        # pathspec against every entry of 10,000-file folders makes git's tree diffs half as slow again.
        # The history is not split into ranges for several gits: a range starting in the middle costs
        # more than it saves, as the older trees are stored as deltas of the newer ones.
        spec = [] if not self.prefix else list(paths)
        # Parsed as git writes it: the tree diffs (git) and the parsing (here) run on two cores at once.
        # Newest first, as git walks (asking for --reverse makes git five times slower on a packed
        # repository, whose older trees are stored as deltas of the newer ones). So the first commit comes
        # last, and a register's first commit is often every record imported at once: for a whole history
        # it is read by a second git at the start, and parsed while the first one is still diffing.
        root = self._first_commit(revs[0]) if len(revs) == 1 and not since and not until else None
        parts: list[list[Commit]] = [[], []]
        with gc_paused():
            if root is None:
                results = [self._stream([*args, "--end-of-options", *revs, "--", *spec],
                                        lambda chunk: self._add_commit(chunk, parts[0], paths, not spec), b"\x1e")]
            else:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(1) as pool:
                    later = pool.submit(self._stream, [*args, "--end-of-options", revs[0], f"^{root}", "--", *spec],
                                        lambda chunk: self._add_commit(chunk, parts[0], paths, not spec), b"\x1e")
                    oldest = self._stream([*args, "-1", "--end-of-options", root, "--", *spec],
                                          lambda chunk: self._add_commit(chunk, parts[1], paths, not spec), b"\x1e")
                    if first is not None and oldest[0] == 0 and parts[1]:
                        first(parts[1][0])
                    results = [later.result(), oldest]
        for returncode, stderr in results:
            if returncode != 0:
                if self.head() is None:
                    return []  # no commit yet
                raise GitError(f"git log failed: {stderr.decode('utf-8', 'replace').strip()}")
        return parts[0] + parts[1]

    def _first_commit(self, rev: str) -> str | None:
        """The first commit of `rev`'s first-parent line (None when there is not exactly one)."""
        out = self._run(["rev-list", "--first-parent", "--max-parents=0", "--end-of-options", rev, "--"], check=False)
        roots = out.stdout.decode().split() if out.returncode == 0 else []
        return roots[0] if len(roots) == 1 and _HEX40.match(roots[0]) else None

    def _add_commit(self, chunk: bytes, commits: list[Commit], paths: Sequence[str], filter_paths: bool) -> None:
        head, _, raw = chunk.partition(b"\x1f\0")
        f = head.decode("utf-8", "replace").split("\x1f")
        if len(f) < 8:
            return
        sha, parents, author, email, adate, cdate, subject = f[:7]
        message = "\x1f".join(f[7:]).rstrip("\n")
        c = Commit(sha, tuple(parents.split()), author, email, adate, cdate, subject, message)
        c.changes = list(_parse_raw(_text(raw), self._rel if self.prefix else None))
        if filter_paths:
            c.changes = _within(c.changes, paths)
            if not c.changes:
                return  # the commit changed nothing under `paths`: git would not have listed it
        commits.append(c)

    def _stream(self, args: Sequence[str], each: Callable[[bytes], None], separator: bytes) -> tuple[int, bytes]:
        """Run git, handing each `separator`-delimited record of its output to `each` as soon as it is complete;
        the exit code and the error output."""
        proc = self._start(args)
        assert proc.stdout is not None and proc.stderr is not None
        errors: list[bytes] = []
        drain = threading.Thread(target=lambda: errors.append(proc.stderr.read() if proc.stderr else b""), daemon=True)
        drain.start()
        parts: list[bytes] = []  # the pieces of the record being read
        try:
            fd = proc.stdout.fileno()
            _widen_pipe(fd)
            while block := os.read(fd, 1 << 20):
                start = 0
                while (end := block.find(separator, start)) != -1:
                    parts.append(block[start:end])
                    record = b"".join(parts)
                    parts = []
                    if record:
                        each(record)
                    start = end + len(separator)
                parts.append(block[start:])
            record = b"".join(parts)
            if record:
                each(record)
        finally:
            proc.stdout.close()
            returncode = proc.wait()
            drain.join()
        return returncode, b"".join(errors)

    def first_parent_dates(self, rev: str = "HEAD") -> list[tuple[str, str]]:
        """(commit, committer date ISO) of every first-parent commit of `rev`, newest first."""
        if self.head() is None:
            return []
        out = self.run(["log", "--first-parent", "--format=%H %cI", "--end-of-options", rev, "--"])
        pairs = []
        for line in out.decode().splitlines():
            sha, _, date = line.partition(" ")
            pairs.append((sha, date))
        return pairs


# The log cache is marshalled (several times faster than pickling at 100,000 entries): each commit is a
# tuple whose last item holds its changes flattened, five strings (or None) per change. The format number
# changes when the tuples do.
LOG_CACHE_FORMAT = 3
_FIELDS = len(FileChange._fields)


def _packed(c: Commit) -> tuple[object, ...]:
    return (c.sha, c.parents, c.author, c.author_email, c.date, c.committer_date, c.subject, c.message,
            tuple(itertools.chain.from_iterable(c.changes)))


def _read_log_cache(path: Path) -> tuple[str, list[Commit]] | None:
    from bir.base.atomic import read_cache

    value = read_cache(path, codec="marshal")
    if not (isinstance(value, tuple) and len(value) == 3 and value[0] == LOG_CACHE_FORMAT and isinstance(value[1], str)
            and isinstance(value[2], list)):
        return None
    try:
        make = FileChange._make
        commits = [Commit(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7],
                          [make(t[8][i:i + _FIELDS]) for i in range(0, len(t[8]), _FIELDS)])
                   for t in value[2]]
    except (TypeError, ValueError, IndexError):
        return None
    return value[1], commits


def under(paths: Sequence[str]) -> Callable[[str | None], bool]:
    """A test of whether a path (relative to the root) is one of `paths` or inside one of them."""
    exact = frozenset(paths)
    folders = tuple(p + "/" for p in paths)

    def test(path: str | None) -> bool:
        return path is not None and (path.startswith(folders) or path in exact)

    return test


def _within(changes: list[FileChange], paths: Sequence[str]) -> list[FileChange]:
    """The changes under `paths`, as a pathspec would have shown them: a rename across the border becomes
    an addition or a removal."""
    inside_paths = under(paths)
    out = []
    for c in changes:
        inside = inside_paths(c.path)
        if c.status != "R":
            if inside:
                out.append(c)
        elif inside and inside_paths(c.old_path):
            out.append(c)
        elif inside:
            out.append(FileChange("A", c.path, None, None, c.new_blob))
        elif inside_paths(c.old_path):
            out.append(FileChange("D", c.old_path or "", None, c.old_blob, None))
    return out


# One entry of `--raw -z` output: `:old_mode new_mode old new STATUS\0path\0`, with a second path for a
# rename or copy (`R86\0old\0new\0`). Matched in C over the whole text: a first commit adding 100,000
# records is 100,000 entries.
_RAW_ENTRY = re.compile(r":(\d+) (\d+) ([0-9a-f]+) ([0-9a-f]+) (?:([RC])\d*\0([^\0]*)\0([^\0]*)|([A-Z])\d*\0([^\0]*))\0")
# The same without renames, over bytes (`tree_changes`): old mode, new mode, status, path.
_TREE_ENTRY = re.compile(rb":(\d+) (\d+) [0-9a-f]+ [0-9a-f]+ ([A-Z])\d*\0([^\0]*)\0")


def visible(path: str) -> str:
    """A path as it may be shown anywhere: control characters (a line break that would start a CI workflow
    command, say) and bytes that are not UTF-8 as escapes. Such a path is never a record's
    (`bir.base.layout.record_of`), so it is only ever shown, never read."""
    if path.isprintable():
        return path
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
                   for ch in path)


def _parse_raw(text: str, rel: Callable[[str], str | None] | None = None) -> Iterator[FileChange]:
    """The entries of `git diff --raw -z` (or `git log --raw -z`) output, decoded (paths made `visible`)."""
    for old_mode, new_mode, old_blob, new_blob, moved, src, dst, letter, path in _RAW_ENTRY.findall(text):
        if not (src + dst + path).isprintable():
            src, dst, path = visible(src), visible(dst), visible(path)
        if moved:
            src_rel, dst_rel = (rel(src), rel(dst)) if rel is not None else (src, dst)
            if dst_rel is None:
                continue
            if moved == "C":
                yield FileChange("A", dst_rel, None, None, new_blob)
            else:
                yield FileChange("R", dst_rel, src_rel, old_blob, new_blob)
            continue
        prel = rel(path) if rel is not None else path
        if prel is None:
            continue
        if letter != "A" and letter != "M" and letter != "D":
            letter = "M"  # T (type change) and anything newer
        yield FileChange(letter, prel, None,
                         None if old_blob == _ZERO or old_mode == "000000" else old_blob,
                         None if new_blob == _ZERO or new_mode == "000000" else new_blob)


def _widen_pipe(fd: int) -> None:
    """Ask for a 1 MiB pipe (Linux; 64 KiB by default): git then writes in fewer, larger turns."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def _text(data: bytes) -> str:
    """git output as text: paths that are not UTF-8 keep their bytes (surrogate escapes)."""
    return data.decode("utf-8", "surrogateescape")


class GitReader:
    """A `bir.check.checker.Reader` over one commit: relpath -> bytes, blobs fetched in batches through cat-file."""

    def __init__(self, git: Git, rev: str, files: dict[str, str]) -> None:
        self.git = git
        self.rev = rev
        self.files = files
        self._cache: dict[str, bytes] = {}

    def prefetch(self, paths: Iterable[str]) -> None:
        ids = {p: self.files[p] for p in paths if p in self.files and p not in self._cache}
        blobs = self.git.cat_blobs(ids.values())
        for p, oid in ids.items():
            data = blobs.get(oid)
            if data is not None:
                self._cache[p] = data

    def __call__(self, path: str) -> bytes:
        if path not in self._cache:
            if path not in self.files:
                raise FileNotFoundError(path)
            self.prefetch([path])
            if path not in self._cache:
                raise OSError(f"{path}: blob missing from the repository")
        return self._cache[path]
