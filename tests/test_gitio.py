"""The git module: refs verified, blobs in one batch, raw diffs, shallow clones, a register in a sub-folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bir.base.problems import UsageError
from bir.git.plumbing import Git, GitError, _parse_raw
from support import commit, git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    (r / "reg" / "registry" / "hardware").mkdir(parents=True)
    (r / "reg" / "bir.yaml").write_text("name: x\n")
    (r / "reg" / "registry" / "hardware" / "a.yaml").write_text("id: a\n")
    (r / "other.txt").write_text("outside\n")
    git(r, "init", "-q", "-b", "main")
    commit(r, "one")
    git(r, "mv", "reg/registry/hardware/a.yaml", "reg/registry/hardware/b.yaml")
    (r / "reg" / "registry" / "hardware" / "c.yaml").write_text("id: c\n")
    (r / "other.txt").write_text("changed\n")
    commit(r, "two (#5)", date="2026-01-06T10:00:00+00:00")
    return r


def test_prefix_and_tree(repo: Path) -> None:
    g = Git(repo / "reg")
    assert g.prefix == "reg/"
    head = g.resolve("HEAD")
    files = g.ls_tree(head)
    assert sorted(files) == ["bir.yaml", "registry/hardware/b.yaml", "registry/hardware/c.yaml"]
    blobs = g.cat_blobs([files["registry/hardware/c.yaml"], f"{head}:bir.yaml", f"{head}:missing.yaml", "0" * 40])
    assert list(blobs.values()) == [b"id: c\n", b"name: x\n", None, None]


@pytest.mark.parametrize("ref", ["--output=/tmp/pwned", "-h", "", "HEAD\0x", "nope"])
def test_refs_are_verified(repo: Path, ref: str) -> None:
    with pytest.raises(UsageError):
        Git(repo / "reg").resolve(ref)


def test_diff_and_log(repo: Path) -> None:
    g = Git(repo / "reg")
    changes = g.diff(g.resolve("HEAD~1"), g.resolve("HEAD"))
    assert sorted((c.status, c.path, c.old_path) for c in changes) == [
        ("A", "registry/hardware/c.yaml", None), ("R", "registry/hardware/b.yaml", "registry/hardware/a.yaml")]
    (repo / "reg" / "registry" / "hardware" / "d.yaml").write_text("id: d\n")
    assert [(c.status, c.path) for c in g.diff(g.resolve("HEAD"), None)] == [("A", "registry/hardware/d.yaml")]
    log = g.log()
    assert [(c.subject, len(c.changes)) for c in log] == [("two (#5)", 2), ("one", 1)]
    assert log[0].date == "2026-01-06T10:00:00+00:00"


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not inside a git repository"):
        Git(tmp_path)


def test_shallow(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    g = Git(clone / "reg")
    assert g.is_shallow()
    with pytest.raises(UsageError, match="fetch-depth: 0"):
        g.require_full_history()
    with pytest.raises(UsageError, match="git fetch --unshallow"):
        g.resolve("HEAD~1")


def test_parse_raw_copies_and_types() -> None:
    z = "0" * 40
    fields = [f":100644 100644 {'a' * 40} {'b' * 40} C75", "x.yaml", "y.yaml",
              f":100644 120000 {'a' * 40} {'c' * 40} T", "z.yaml",
              f":000000 100644 {z} {'d' * 40} A", "n.yaml"]
    assert [(c.status, c.path, c.old_blob) for c in _parse_raw("\0".join(fields) + "\0")] == [
        ("A", "y.yaml", None), ("M", "z.yaml", "a" * 40), ("A", "n.yaml", None)]


@pytest.mark.parametrize("sub", ["", "infra"])
def test_log_keeps_only_changes_under_the_paths(tmp_path, sub) -> None:  # type: ignore[no-untyped-def]
    """At the top of a repository the paths are filtered after git (no pathspec); in a sub-folder git filters.
    Either way: commits outside the register are not listed, and a rename across its border is an
    addition or a removal."""
    from bir.git import plumbing as gitio

    top = _small_repo(tmp_path)
    root = top / sub if sub else top
    if sub:
        (root / "registry" / "party").mkdir(parents=True)
    body = "id: p-1\nname: a party with enough text to be recognised as the same file when it moves\n"
    (root / "registry" / "party" / "p-1.yaml").write_text(body)
    (top / "README.md").write_text("readme\n")
    commit(top, "add p-1")
    (top / "README.md").write_text("readme, changed\n")
    commit(top, "docs only")
    (root / "registry" / "party" / "p-1.yaml").rename(root / "p-1.yaml")
    commit(top, "move p-1 out of the register")
    (root / "p-1.yaml").rename(root / "registry" / "party" / "p-2.yaml")
    commit(top, "move it back as p-2")
    (root / "registry" / "party" / "p-2.yaml").rename(root / "registry" / "party" / "p-3.yaml")
    commit(top, "rename p-2 to p-3")
    seen = [(c.subject, [(x.status, x.path, x.old_path) for x in c.changes]) for c in gitio.Git(root).log()]
    assert seen == [
        ("rename p-2 to p-3", [("R", "registry/party/p-3.yaml", "registry/party/p-2.yaml")]),
        ("move it back as p-2", [("A", "registry/party/p-2.yaml", None)]),
        ("move p-1 out of the register", [("D", "registry/party/p-1.yaml", None)]),
        ("add p-1", [("A", "registry/party/p-1.yaml", None)]),
    ]


def test_history_is_cached_and_extended_incrementally(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bir.git import plumbing as gitio

    repo = _small_repo(tmp_path)

    def add_party(i: int) -> None:
        (repo / "registry" / "party" / f"p-{i}.yaml").write_text(f"id: p-{i}\n")
        git(repo, "add", "registry")
        git(repo, "commit", "-q", "-m", f"add p-{i}")

    add_party(1)
    add_party(2)
    first = gitio.Git(repo).log()
    assert [c.subject for c in first] == ["add p-2", "add p-1"]
    assert list((repo / ".bir-cache").glob("log-*.pickle"))
    add_party(3)
    ranges: list[list[str]] = []
    real = gitio.Git._log

    def spy(self, paths, revs, since=None, until=None):  # type: ignore[no-untyped-def]
        ranges.append(revs)
        return real(self, paths, revs, since, until)

    monkeypatch.setattr(gitio.Git, "_log", spy)
    second = gitio.Git(repo).log()
    assert [c.subject for c in second] == ["add p-3", "add p-2", "add p-1"]
    assert len(ranges) == 1 and ranges[0][1] == "^" + first[0].sha  # only the new commit was read
    assert gitio.Git(repo).log() == second and len(ranges) == 1  # unchanged: straight from the cache


def _small_repo(tmp_path: Path) -> Path:
    """An empty repository with a registry/party folder."""
    repo = tmp_path / "r"
    (repo / "registry" / "party").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    return repo


# -- discovery (git's own), the commands and the persistent blob reader ---------------------


def test_a_linked_worktree_and_a_symlinked_path_are_the_same_repository(repo: Path, tmp_path: Path) -> None:
    git(repo, "worktree", "add", "-q", str(tmp_path / "linked"), "HEAD")
    linked = Git(tmp_path / "linked" / "reg")
    assert (linked.top, linked.prefix) == (tmp_path / "linked", "reg/")
    assert linked.ls_tree(linked.resolve("HEAD")) == Git(repo / "reg").ls_tree(linked.resolve("HEAD"))
    (tmp_path / "alias").symlink_to(repo)
    seen = Git(tmp_path / "alias" / "reg")
    assert (seen.top, seen.prefix) == (repo, "reg/")
    assert seen.cat_blobs([f"{seen.resolve('HEAD')}:bir.yaml"]) == {f"{seen.resolve('HEAD')}:bir.yaml": b"name: x\n"}


def test_a_folder_that_holds_no_work_tree_is_refused(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(GitError, match="inside the git folder"):
        Git(repo / ".git" / "refs")
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "bare.git"))
    with pytest.raises(GitError, match="bare git repository"):
        Git(tmp_path / "bare.git")
    with pytest.raises(GitError, match="not a folder"):
        Git(tmp_path / "missing")


def test_a_repository_git_refuses_is_said_in_git_s_words(tmp_path: Path) -> None:
    """A repository owned by another user: git's refusal and its advice, in one sentence."""
    import os

    if os.geteuid() != 0:
        pytest.skip("needs to give a folder to another user")
    repo = tmp_path / "theirs"
    repo.mkdir()
    git(repo, "init", "-q")
    os.chown(repo, 65534, 65534)
    with pytest.raises(GitError) as caught:
        Git(repo)
    assert str(caught.value) == (
        f"the git repository holding {repo} cannot be read: detected dubious ownership in repository at '{repo}' "
        f"To add an exception for this directory, call: git config --global --add safe.directory {repo}")


def test_a_folder_named_like_a_variable_is_that_folder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A path is never expanded: the register in a folder named `$HOME` is not the home folder."""
    odd = repo / "$HOME"
    (odd / "registry").mkdir(parents=True)
    (odd / "registry" / "x.yaml").write_text("id: x\n")
    commit(repo, "odd")
    monkeypatch.setenv("HOME", str(repo / "reg"))
    g = Git(odd)
    assert g.prefix == "$HOME/" and list(g.ls_tree(g.resolve("HEAD"))) == ["registry/x.yaml"]


def test_a_calling_gits_variables_never_point_at_another_repository(repo: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A hook's GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE name the repository that runs the hook; bir reads
    the one holding the register, in a sub-folder too."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / "o.txt").write_text("o\n")
    commit(other, "other's only commit")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    g = Git(repo / "reg")
    assert (g.top, g.prefix) == (repo, "reg/")
    assert [c.subject for c in g.log()] == ["two (#5)", "one"]
    (repo / "reg" / "registry" / "hardware" / "c.yaml").write_text("id: c2\n")
    assert [(c.status, c.path) for c in g.diff(g.resolve("HEAD"), None)] == [("M", "registry/hardware/c.yaml")]
    assert g.cat_blobs([f"{g.resolve('HEAD')}:registry/hardware/c.yaml"]) == {
        f"{g.resolve('HEAD')}:registry/hardware/c.yaml": b"id: c\n"}


def test_without_git_on_the_path_the_error_says_so(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    g = Git(repo / "reg")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    for call in (g.head, lambda: g.log(), lambda: g.cat_blobs(["0" * 40])):
        with pytest.raises(GitError, match="git is not installed or not on PATH"):
            call()


def test_blobs_come_from_one_persistent_process(repo: Path) -> None:
    """Several batches, small and large (written from a second thread while read), one `git cat-file`."""
    g = Git(repo / "reg")
    head = g.resolve("HEAD")
    blob = g.ls_tree(head)["registry/hardware/c.yaml"]
    assert g.cat_blobs([blob]) == {blob: b"id: c\n"}
    process = g._cat
    assert process is not None
    many = [f"{head}:registry/hardware/c.yaml", f"{head}:bir.yaml", *(f"{head}:registry/missing-{i}.yaml" for i in range(400))]
    assert len("\n".join(many)) > 4096
    got = g.cat_blobs(many)
    assert (got[many[0]], got[many[1]], set(list(got.values())[2:])) == (b"id: c\n", b"name: x\n", {None})
    assert g.cat_blobs([head, f"{head}:registry"]) == {head: None, f"{head}:registry": None}  # a commit, a tree
    assert g._cat is process


def test_a_missing_name_that_looks_like_a_header_is_missing(repo: Path) -> None:
    """`<name> missing` for a path with spaces: `HEAD:x blob` gives the three words of a real header."""
    g = Git(repo / "reg")
    head = g.resolve("HEAD")
    names = [f"{head}:x blob", f"{head}:x blob 12", f"{head}:registry/hardware/c.yaml"]
    assert list(g.cat_blobs(names).values()) == [None, None, b"id: c\n"]


def test_a_cat_file_process_that_ended_is_replaced(repo: Path) -> None:
    g = Git(repo / "reg")
    blob = g.ls_tree(g.resolve("HEAD"))["bir.yaml"]
    assert g.cat_blobs([blob]) == {blob: b"name: x\n"}
    process = g._cat
    assert process is not None
    process.kill()
    process.wait()
    assert g.cat_blobs([blob]) == {blob: b"name: x\n"}
    replaced = g._cat
    assert replaced is not process and replaced is not None and replaced.poll() is None
    g.close()  # the process ends with its input closed, and is waited for
    assert g._cat is None and replaced.returncode is not None
    assert g.cat_blobs([blob]) == {blob: b"name: x\n"}  # a closed Git starts another on the next read


def test_blobs_from_several_threads_at_once(repo: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    g = Git(repo / "reg")
    head = g.resolve("HEAD")
    files = g.ls_tree(head)
    expected = {oid: g.cat_blobs([oid])[oid] for oid in files.values()}
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: g.cat_blobs([*files.values(), f"{head}:missing-{i}"]), range(40)))
    assert all({k: v for k, v in r.items() if v is not None} == expected for r in results)


def test_user_text_never_becomes_an_option(repo: Path, tmp_path: Path) -> None:
    """A ref or a path that starts with a dash is data to git: no file is written, nothing is run."""
    g = Git(repo / "reg")
    target = tmp_path / "pwned"
    for ref in (f"--output={target}", "--exec=touch " + str(target)):
        with pytest.raises(UsageError):
            g.resolve(ref)
    head = g.resolve("HEAD")
    assert g.cat_blobs([f"--output={target}", f"{head}:--output={target}"]) == {
        f"--output={target}": None, f"{head}:--output={target}": None}
    assert g.grep_words(["--output", f"--open-files-in-pager=touch {target}"], head) == set()
    assert not target.exists()
