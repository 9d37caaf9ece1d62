"""Main's signed listing (bir.cache.listing): a pull request's job takes main's files and git's diff instead of
listing the register, finds exactly what a full listing finds, and lists the register whenever the two might
not describe the working tree."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bir.api import validate
from bir.cache import trust
from bir.cache import validation as validation_module
from support import RECORDS, commit, git, make_register, write

PRIVATE, PUBLIC = trust.keygen()
BROKEN = """\
id: svc-shop
kind: service
name: Web shop
owner: team-nobody
status: active
status_dates: {active: "2024-01-01"}
criticality: sometimes
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BIR_CACHE_DIR", "BIR_CACHE_SHARED", "BIR_CACHE_TRUSTED_KEY", "BIR_CACHE_SIGNING_KEY", "BIR_NO_RESULT_CACHE"):
        monkeypatch.delenv(name, raising=False)


def _use(monkeypatch: pytest.MonkeyPatch, cache: Path, **env: str) -> None:
    """A machine of its own: its cache folder (and its own sealing key), with `env` set."""
    for name in ("BIR_CACHE_SHARED", "BIR_CACHE_TRUSTED_KEY", "BIR_CACHE_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BIR_CACHE_DIR", str(cache))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("bir.base.atomic._key", None)


def _lines(root: Path) -> list[str]:
    result = validate(root)
    return [f"{result.summary.records} {result.summary.errors} {result.summary.warnings} {result.summary.by_kind}",
            *(f"{p.path}:{p.line}:{p.column}:{p.severity.value}:{p.rule}:{p.message}" for p in result.problems)]


@pytest.fixture
def main_signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Main's repository, validated by main's job (the signing key set): the repository and its cache."""
    repo = make_register(tmp_path / "main", records=RECORDS, git_init=True)
    commit(repo, "First")
    _use(monkeypatch, tmp_path / "main-cache", BIR_CACHE_SIGNING_KEY=PRIVATE)
    assert _lines(repo)[0].startswith("7 0 0 ")
    assert len(list((tmp_path / "main-cache" / "results").glob("*.tree.sig"))) == 1
    return repo, tmp_path / "main-cache"


def _pr_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, main_cache: Path, clone: Path) -> tuple[list[str], bool]:
    """`bir validate` in a pull request's job (main's cache shared, its public key trusted): the lines, and
    whether the register was listed."""
    _use(monkeypatch, tmp_path / "pr-cache", BIR_CACHE_SHARED=str(main_cache), BIR_CACHE_TRUSTED_KEY=PUBLIC)
    shutil.rmtree(tmp_path / "pr-cache", ignore_errors=True)
    listed: list[int] = []
    real = validation_module.discover

    def counting(root: Path) -> object:
        listed.append(1)
        return real(root)

    monkeypatch.setattr(validation_module, "discover", counting)
    lines = _lines(clone)
    monkeypatch.setattr(validation_module, "discover", real)
    return lines, bool(listed)


def _fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clone: Path) -> list[str]:
    """The same working tree validated with no cache at all."""
    _use(monkeypatch, tmp_path / "fresh-cache", BIR_NO_RESULT_CACHE="1")
    shutil.rmtree(tmp_path / "fresh-cache", ignore_errors=True)
    shutil.rmtree(clone / ".bir-cache", ignore_errors=True)
    return _lines(clone)


def _edit(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / "registry" / rel
        path.write_text(path.read_text().replace(old, new, 1))
    return edit


def _ten_changes(root: Path) -> None:
    """Changed, broken, added, removed and renamed records, committed."""
    _edit("party/acme.yaml", "Acme Supplies", "Acme Supplies Ltd")(root)
    write(root, "service/svc-shop.yaml", BROKEN)
    write(root, "party/team-new.yaml", RECORDS["party/team-ops.yaml"].replace("team-ops", "team-new"))
    write(root, "network/net-new.yaml", "id: net-new\nkind: network\n")  # a kind main has no record of
    git(root, "rm", "-q", "registry/service/svc-portal.yaml")  # the servers point at it: references break
    git(root, "mv", "registry/party/team-ops.yaml", "registry/party/team-operations.yaml")


def _committed(change: Callable[[Path], None]) -> Callable[[Path], None]:
    def run(root: Path) -> None:
        change(root)
        git(root, "add", "-A")
        commit(root, "Change")
    return run


def _symlink(root: Path) -> None:
    os.symlink("acme.yaml", root / "registry" / "party" / "acme-link.yaml")


def _attributes(root: Path) -> None:
    (root / ".gitattributes").write_text("registry/party/*.yaml eol=crlf\n")


def _ignored(root: Path) -> None:
    (root / ".gitignore").write_text((root / ".gitignore").read_text() + "*.bak\n")
    git(root, "add", ".gitignore")
    commit(root, "Ignore backups")
    write(root, "party/acme.bak", "not a record\n")


def _schemas_changed(root: Path) -> None:
    path = root / "schemas" / "service.schema.json"
    path.write_text(path.read_text().replace('"title": "Service record"', '"title": "A service"', 1))


def _commit_only_untracked(root: Path) -> None:
    write(root, "party/team-late.yaml", RECORDS["party/team-ops.yaml"].replace("team-ops", "team-late"))


# (name, the change to the clone, whether main's listing is taken)
CASES: list[tuple[str, Callable[[Path], None], bool]] = [
    ("nothing changed", lambda root: None, True),
    ("records changed, broken, added, removed and renamed, committed", _committed(_ten_changes), True),
    ("every record of a kind removed, committed", _committed(lambda root: git(root, "rm", "-q", "-r", "registry/service")), True),
    ("an untracked record", _commit_only_untracked, False),
    ("an ignored file in a kind folder", _ignored, False),
    ("an edit not committed", _edit("party/acme.yaml", "Acme Supplies", "Acme"), False),
    ("an empty folder that is not a kind", lambda root: (root / "registry" / "bogus").mkdir(), False),
    ("an empty folder in a kind folder", lambda root: (root / "registry" / "party" / "old").mkdir(), False),
    ("a committed symbolic link", _committed(_symlink), False),
    ("a committed name that is not a record's", _committed(lambda root: write(root, "party/Acme.yaml", "id: x\n")), False),
    ("a committed file outside the kind folders", _committed(lambda root: write(root, "notes.yaml", "x: 1\n")), False),
    ("a committed .gitattributes", _committed(_attributes), False),
    ("the schemas changed (another context)", _committed(_schemas_changed), False),
]


def _ten_change_pull_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             main_signed: tuple[Path, Path]) -> tuple[Path, list[str]]:
    """A clone of main with the ten changes committed, validated by a pull request's job that takes main's
    listing: the clone and the lines."""
    repo, main_cache = main_signed
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    _committed(_ten_changes)(clone)
    got, listed = _pr_job(tmp_path, monkeypatch, main_cache, clone)
    assert not listed
    return clone, got


@pytest.mark.parametrize(("name", "change", "taken"), CASES, ids=[c[0] for c in CASES])
def test_a_pull_request_s_job_finds_what_a_full_listing_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             main_signed: tuple[Path, Path], name: str,
                                                             change: Callable[[Path], None], taken: bool) -> None:
    repo, main_cache = main_signed
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    change(clone)
    got, listed = _pr_job(tmp_path, monkeypatch, main_cache, clone)
    assert (not listed) == taken
    assert got == _fresh(tmp_path, monkeypatch, clone)


def test_the_changed_records_are_judged_and_the_rest_are_main_s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               main_signed: tuple[Path, Path]) -> None:
    """The exact problems of the ten-change pull request: the broken record's own, and those of the records
    pointing at the removed and renamed ones (judged across records, as in a full run)."""
    _, got = _ten_change_pull_request(tmp_path, monkeypatch, main_signed)
    rules = sorted({line.split(":")[4] for line in got[1:]})
    files = sorted({line.split(":")[0] for line in got[1:]})
    assert got[0].startswith("8 ")
    assert "schema.enum" in rules and "ref.unknown" in rules
    assert "registry/service/svc-shop.yaml" in files and "registry/network/net-new.yaml" in files


def test_main_keeps_no_listing_of_a_tree_it_did_not_see_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A listing is kept only with the signing key, for a working tree that is HEAD's tree with no problem in
    its listing."""
    repo = make_register(tmp_path / "main", records=RECORDS, git_init=True)
    commit(repo, "First")
    cases: list[tuple[str, dict[str, str], Callable[[Path], None] | None]] = [
        ("no signing key", {}, None),
        ("an untracked record", {"BIR_CACHE_SIGNING_KEY": PRIVATE}, _commit_only_untracked),
        ("a hidden file", {"BIR_CACHE_SIGNING_KEY": PRIVATE},
         _committed(lambda root: write(root, "party/.notes", "x\n"))),
    ]
    for i, (name, env, change) in enumerate(cases):
        if change is not None:
            change(repo)
        cache = tmp_path / f"cache-{i}"
        _use(monkeypatch, cache, **env)
        validate(repo)
        assert not list((cache / "results").glob("*.tree*")), name
        shutil.rmtree(repo / ".bir-cache", ignore_errors=True)


def test_a_listing_that_is_not_main_s_is_not_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  main_signed: tuple[Path, Path]) -> None:
    """A listing with a changed byte, one signed by another key, one trusted by no key, and one of a tree this
    repository does not hold: each time the register is listed, and the result is a full run's."""
    repo, main_cache = main_signed
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    _committed(_ten_changes)(clone)
    expected = _fresh(tmp_path, monkeypatch, clone)
    pack = next((main_cache / "results").glob("*.tree"))
    original = pack.read_bytes()

    def flipped() -> None:
        data = bytearray(original)
        data[len(data) // 2] ^= 1
        pack.write_bytes(bytes(data))

    def other_signer() -> None:
        other, _ = trust.keygen()
        pack.with_name(pack.name + ".sig").write_bytes(
            trust.signature_of(pack, original, trust._crypto().Ed25519PrivateKey.from_private_bytes(
                trust._key_bytes(other, "key"))))

    for name, spoil in (("a changed byte", flipped), ("another signer", other_signer)):
        spoil()
        got, listed = _pr_job(tmp_path, monkeypatch, main_cache, clone)
        assert listed and got == expected, name
        pack.write_bytes(original)
    # an unrelated repository with the same register but one record changed: main's tree is not in it
    other = make_register(tmp_path / "other", records=RECORDS, git_init=True)
    write(other, "party/acme.yaml", RECORDS["party/acme.yaml"].replace("Acme Supplies", "Acme Other"))
    commit(other, "Another history")
    shutil.copytree(main_cache, tmp_path / "main-cache-2")
    got, listed = _pr_job(tmp_path, monkeypatch, tmp_path / "main-cache-2", other)
    assert listed and got == _fresh(tmp_path, monkeypatch, other)


def test_bir_change_takes_the_snapshot_of_a_listed_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       main_signed: tuple[Path, Path]) -> None:
    """The job's `bir change` checks the snapshot the listing's run kept, with one `git diff`, and finds the
    same validation."""
    from bir.git.plumbing import Git
    from bir.point.point import open_point

    clone, got = _ten_change_pull_request(tmp_path, monkeypatch, main_signed)
    point = open_point(clone)
    found = validation_module.validate_worktree(clone, point.rules, Git(clone), lambda: Git(clone).diff_tracked("HEAD", None))
    assert found is not None
    checked = found[0]
    assert [f"{p.path}:{p.line}:{p.column}:{p.severity.value}:{p.rule}:{p.message}" for p in checked.problems] == got[1:]


def test_an_older_listing_of_main_is_still_true(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               main_signed: tuple[Path, Path]) -> None:
    """A listing replayed from an older commit of main (actions/cache restores the newest it finds): the diff
    from that older tree names every file changed since, and the result is a full run's."""
    repo, main_cache = main_signed
    _committed(_edit("party/acme.yaml", "Acme Supplies", "Acme Supplies Group"))(repo)
    write(repo, "hardware/srv-9.yaml", RECORDS["hardware/srv-01.yaml"].replace("srv-01", "srv-9"))
    _committed(lambda root: None)(repo)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    _committed(_ten_changes)(clone)
    got, listed = _pr_job(tmp_path, monkeypatch, main_cache, clone)
    assert not listed
    assert got == _fresh(tmp_path, monkeypatch, clone)
    assert got[0].startswith("9 ")  # main's seven, srv-9 added on main since, two added and one removed here


def test_the_job_s_bir_change_alone_lists_nothing_and_reads_the_change_between_commits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, main_signed: tuple[Path, Path]) -> None:
    """The pull request's job runs `bir change` alone: it validates through main's listing (the register is not
    listed), asks git once for the working tree against HEAD, reads the change between the two commits (no
    diff of the base against the working tree), and reports what a run without any cache reports."""
    from bir.change.compute import compute_change
    from bir.git import plumbing

    repo, main_cache = main_signed
    base = git(repo, "rev-parse", "HEAD").strip()
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    _committed(_ten_changes)(clone)
    _use(monkeypatch, tmp_path / "pr-cache", BIR_CACHE_SHARED=str(main_cache), BIR_CACHE_TRUSTED_KEY=PUBLIC)
    asked: list[tuple[str, str | None, tuple[str, ...]]] = []
    listed: list[Path] = []
    real_tracked, real_discover = plumbing.Git.diff_tracked, validation_module.discover

    def tracked(self: plumbing.Git, old: str, new: str | None, paths: tuple[str, ...] = plumbing.REGISTER_PATHS) -> object:
        asked.append((old, new, tuple(paths)))
        return real_tracked(self, old, new, paths)

    monkeypatch.setattr(plumbing.Git, "diff_tracked", tracked)
    monkeypatch.setattr(validation_module, "discover", lambda root: listed.append(root) or real_discover(root))
    report = compute_change(clone, base).to_dict()
    head = git(clone, "rev-parse", "HEAD").strip()
    register = [(old, new) for old, new, paths in asked if paths == plumbing.REGISTER_PATHS]
    assert not listed
    assert register.count(("HEAD", None)) + register.count((head, None)) == 1  # the working tree against HEAD, once
    assert (base, None) not in register and (base, head) in register  # the change: between the two commits
    assert [(r["change"], r["id"]) for r in report["records"]] == [
        ("added", "net-new"), ("modified", "acme"), ("added", "team-new"), ("modified", "team-ops"),  # moved, same id
        ("removed", "svc-portal"), ("modified", "svc-shop")]
    assert report["head_summary"]["records"] == 8
    _use(monkeypatch, tmp_path / "no-cache", BIR_NO_RESULT_CACHE="1")
    shutil.rmtree(clone / ".bir-cache", ignore_errors=True)
    assert compute_change(clone, base).to_dict() == report


def test_main_hands_the_currency_table_on_signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 main_signed: tuple[Path, Path]) -> None:
    """The ISO 4217 table main's job built is signed into its results: a pull request's job with an empty
    cache of its own judges a changed amount without reading the package (30 ms), and never takes a table
    that does not verify."""
    import iso_4217

    from bir.cache import validators
    from bir.check.rules import money

    repo, main_cache = main_signed
    signed = list((main_cache / "results").glob("iso4217-c*.bin"))
    assert len(signed) == 1 and signed[0].with_name(signed[0].name + ".sig").is_file()
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    _committed(_edit("hardware/srv-01.yaml", "purchase_cost: 1000.00", "purchase_cost: 1000.005"))(clone)
    with monkeypatch.context() as patched:
        patched.delattr(iso_4217, "Currency")  # reading the package's lists fails in here
        money.iso_currencies.cache_clear()
        money.minor_units.cache_clear()
        got, listed = _pr_job(tmp_path, monkeypatch, main_cache, clone)
        assert not listed
        data = bytearray(signed[0].read_bytes())
        data[-1] ^= 1
        signed[0].write_bytes(bytes(data))
        _use(monkeypatch, tmp_path / "pr-cache-2", BIR_CACHE_SHARED=str(main_cache), BIR_CACHE_TRUSTED_KEY=PUBLIC)
        validators.take_currencies()
        own = money.installed_package().cached
        assert own is not None and not own.exists()  # the changed table was not taken
    money.iso_currencies.cache_clear()
    money.minor_units.cache_clear()
    assert any(":money.precision:" in line for line in got)  # the changed amount was judged
    assert got == _fresh(tmp_path, monkeypatch, clone)
