"""The result cache: verdicts kept per content, the same as a fresh check, and never trusted unsealed or
unsigned (bir.cache.results, bir.cache.trust)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path

import pytest

from bir.base.model import Record
from bir.base.problems import UsageError
from bir.cache import trust
from bir.cache.results import ResultStore
from bir.check import checker
from bir.point.point import at_worktree
from support import CASES, RECORDS, commit, git, make_register, write

DAY = dt.date(2026, 11, 28)
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir() and not p.name.startswith("_"))


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("BIR_CACHE_DIR", str(folder))
    for name in ("BIR_CACHE_SHARED", "BIR_CACHE_TRUSTED_KEY", "BIR_CACHE_SIGNING_KEY", "BIR_NO_RESULT_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("bir.base.atomic._key", None)  # each test: the key of its own cache folder
    return folder


def judged(root: Path, day: dt.date = DAY, *, want_data: bool = False, cached: bool = True) -> tuple[list[str], ResultStore | None]:
    point = at_worktree(root, day)
    store = ResultStore.open(point.rules) if cached else None
    candidates, problems = point.source.candidates()
    result = checker.load(root, point.rules, candidates, problems, want_data=want_data, jobs=1, cache=store)
    if store is not None:
        store.save()
    lines = [f"{p.path}:{p.line}:{p.column}:{p.severity.value}:{p.rule}:{p.message}|{p.hint}|{p.json_path}" for p in result.problems]
    lines.append(f"records={len(result.register)} files={result.files} kinds={result.by_kind}")
    lines.extend(f"{rid}={sorted(r.data.items())!r}" for rid, r in sorted(result.register.records.items()))
    return lines, store


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_every_case_is_judged_the_same_from_the_cache(tmp_path: Path, case: Path) -> None:
    root = make_register(tmp_path / "reg", CASES / "_base", case)
    fresh, _ = judged(root, cached=False, want_data=True)
    first, store = judged(root, want_data=True)
    assert store is not None and store.hits == 0 and first == fresh
    again, store = judged(root, want_data=True)
    assert store is not None and store.misses == 0 and store.hits > 0
    assert again == fresh



def test_the_rules_across_records_judge_an_index_once(base_register: Path, cache_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The problems of the rules across records are kept for the last index (every path and content key): the
    same files are not judged again; a changed file, or a damaged memo, is."""
    runs: list[int] = []
    real = checker.check_register
    monkeypatch.setattr(checker, "check_register", lambda index, config: runs.append(len(index)) or real(index, config))
    target = base_register / "registry" / "hardware" / "srv-01.yaml"
    target.write_text(target.read_text().replace("owner: team-it", "owner: team-nobody", 1))
    first, _ = judged(base_register)
    assert len(runs) == 1 and any(":ref.unknown:owner 'team-nobody' is not a known record" in line for line in first)
    again, _ = judged(base_register)
    assert (len(runs), again) == (1, first)  # placed on the same line and column, from the memo
    target.write_text(target.read_text().replace("owner: team-nobody", "owner: team-it", 1))
    fixed, _ = judged(base_register)
    assert len(runs) == 2 and not any(":ref.unknown:" in line for line in fixed)
    memo = next((cache_dir / "results").glob("*.register"))
    memo.write_bytes(memo.read_bytes()[:-3] + b"xyz")
    assert judged(base_register)[0] == fixed and len(runs) == 3


def test_a_cached_file_is_not_parsed_again(base_register: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    judged(base_register, want_data=True)
    calls: list[str] = []
    real = checker.check_file
    monkeypatch.setattr(checker, "check_file", lambda path, *a, **k: calls.append(path) or real(path, *a, **k))
    judged(base_register, want_data=True)
    assert calls == []
    # A change to a record with no number: the one with a number (srv-01's cost, 4800.00) is read from the cache.
    target = base_register / "registry" / "party" / "team-it.yaml"
    target.write_text(target.read_text().replace("\nname: ", "\nname: Changed ", 1))
    changed, _ = judged(base_register, want_data=True)
    assert calls == [target.relative_to(base_register).as_posix()]
    # The packs written after that run hold every record again, its numbers with their written text: the next
    # run parses nothing and reads the same register.
    again, store = judged(base_register, want_data=True)
    assert calls == [target.relative_to(base_register).as_posix()] and store is not None and store.misses == 0
    assert again == changed and any("'purchase_cost': 4800.0" in line for line in again)


def _future_record(root: Path) -> str:
    path = next((root / "registry" / "hardware").glob("*.yaml"))
    text = path.read_text()
    assert "status: in_use" in text and "in_use: " in text
    lines = [("  in_use: \"2026-12-15\"" if line.startswith("  in_use: ") else line) for line in text.splitlines()]
    path.write_text("\n".join(lines) + "\n")
    return path.relative_to(root).as_posix()


@pytest.mark.parametrize("days", [(dt.date(2026, 12, 1), dt.date(2027, 1, 1)), (dt.date(2027, 1, 1), dt.date(2026, 12, 1)),
                                  (dt.date(2026, 12, 15), dt.date(2026, 12, 14)), (dt.date(2026, 12, 14), dt.date(2026, 12, 15))],
                         ids=["first-in-the-future", "first-in-the-past", "on-the-day-then-the-day-before",
                              "the-day-before-then-on-the-day"])
def test_the_day_is_applied_to_a_cached_verdict(base_register: Path, days: tuple[dt.date, dt.date]) -> None:
    """date.future depends on the day: a verdict cached on one day is right on another."""
    rel = _future_record(base_register)
    for day in days:
        fresh, _ = judged(base_register, day, cached=False)
        got, _ = judged(base_register, day)
        assert got == fresh
        future = [line for line in got if ":date.future:" in line]
        assert future == ([f"{rel}:9:11:warning:date.future:the record entered 'in_use' on 2026-12-15, "
                           "which is in the future|merge the change when it happens, or keep the earlier status until then"
                           "|/status_dates/in_use"] if day < dt.date(2026, 12, 15) else [])


def test_point_load_reads_through_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports and the site load the register with Point.load: a second load parses nothing (the demo
    register, checked by two processes the first time)."""
    root = make_register(tmp_path / "demo", demo=True)
    first = at_worktree(root, DAY).load(jobs=2)
    monkeypatch.setattr(checker, "check_file", lambda *a, **k: pytest.fail("parsed again"))
    second = at_worktree(root, DAY).load(jobs=2)
    assert second.problems == first.problems and second.summary() == first.summary()
    assert {k: v.data for k, v in second.register.records.items()} == {k: v.data for k, v in first.register.records.items()}
    assert len(second.register) == len(first.register) == len(list((root / "registry").rglob("*.yaml")))


def _texts(records: Iterable[Record]) -> dict[str, list[object]]:
    """Every text of the records' data with each object holding it: the keys (`key:status`) apart from the
    values and numbers' written text (`in_use`)."""
    texts: dict[str, list[object]] = {}

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                texts.setdefault(f"key:{k}", []).append(k)
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif type(value) is str:
            texts.setdefault(value, []).append(value)
        elif isinstance(value, float) and isinstance(getattr(value, "text", None), str):
            texts.setdefault(value.text, []).append(value.text)  # type: ignore[attr-defined]

    for rec in records:
        walk(rec.data)
    return {t: objs for t, objs in texts.items() if len(objs) > 1}


def _not_shared(repeated: dict[str, list[object]]) -> list[str]:
    return [t for t, objs in repeated.items() if any(o is not objs[0] for o in objs)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_register_loaded_through_the_cache_shares_each_text_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  jobs: int) -> None:
    """Equal texts of different records (a key, a state, a currency, the id records refer to, a number's
    written text) are one string in a register loaded through the cache: read back from the data pack, and
    in the first load too, which parses every file (in one process or two) and hands each record to the
    pack, whose strings the register then holds. The data equals a fresh parse's; a load without the cache
    keeps a copy of each text per record (what the check above tells apart)."""
    root = make_register(tmp_path / "demo", demo=True)
    first = at_worktree(root, DAY).load(jobs=jobs)  # parses every file and keeps the packs
    cached = at_worktree(root, DAY).load(jobs=jobs)
    monkeypatch.setenv("BIR_NO_RESULT_CACHE", "1")
    plain = at_worktree(root, DAY).load(jobs=jobs)
    data = {k: v.data for k, v in plain.register.records.items()}
    assert {k: v.data for k, v in first.register.records.items()} == data
    assert {k: v.data for k, v in cached.register.records.items()} == data
    for load in (first, cached):
        repeated = _texts(load.register)
        assert {"in_use", "EUR", "team-platform", "key:status", "key:owner"} <= set(repeated)
        assert _not_shared(repeated) == []
    assert {"in_use", "key:status"} <= set(_not_shared(_texts(plain.register)))


def test_the_caches_live_under_bir_cache_dir(base_register: Path, cache_dir: Path) -> None:
    from bir.api import validate

    validate(base_register)
    assert not (base_register / ".bir-cache").exists()
    assert len(list((cache_dir / "results").glob("*.facts"))) == 1
    assert {p.name for p in next((cache_dir / "registers").iterdir()).iterdir()} >= {"validate.pickle", "relations.bin"}


def test_the_log_cache_lives_under_bir_cache_dir(tmp_path: Path, cache_dir: Path) -> None:
    from bir.git.plumbing import Git

    repo = make_register(tmp_path / "repo", records=RECORDS, git_init=True)
    commit(repo, "First")
    assert len(Git(repo).log()) == 1
    assert not (repo / ".bir-cache").exists()
    assert [p.name.startswith("log-") for p in next((cache_dir / "registers").iterdir()).iterdir()] == [True]


def _invalid(root: Path) -> str:
    path = next((root / "registry" / "hardware").glob("*.yaml"))
    path.write_text(path.read_text().replace("\nowner: ", "\nowner_typo: ", 1))
    return path.relative_to(root).as_posix()


def _forge(root: Path, rel: str, store: ResultStore) -> None:
    """Plant a verdict saying the invalid file at `rel` is a clean record."""
    data = (root / rel).read_bytes()
    key = checker.content_key(rel, data)
    assert store.used[key][1]  # it has problems
    store.used[key] = ("hardware", (), None, None, False)


def test_a_pack_sealed_by_another_key_is_never_read(base_register: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rel = _invalid(base_register)
    _, store = judged(base_register)
    assert store is not None
    _forge(base_register, rel, store)
    monkeypatch.setattr("bir.base.atomic._key", b"k" * 32)  # the attacker's own key
    store._own_facts = set()
    store.save()
    monkeypatch.setattr("bir.base.atomic._key", None)
    got, store = judged(base_register)
    assert store is not None and store.hits == 0
    assert any(line.startswith(f"{rel}:") and ":schema." in line for line in got)


def test_a_pull_request_uses_main_s_signed_verdicts_and_writes_only_its_own(tmp_path: Path, base_register: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = trust.keygen()
    main_dir, pr_dir = tmp_path / "main-cache", tmp_path / "pr-cache"
    monkeypatch.setenv("BIR_CACHE_DIR", str(main_dir))
    monkeypatch.setenv("BIR_CACHE_SIGNING_KEY", private)
    fresh, _ = judged(base_register, cached=False)
    judged(base_register)
    assert len(list((main_dir / "results").glob("*.facts.sig"))) == 1
    shared_before = {p.name: p.read_bytes() for p in (main_dir / "results").iterdir()}
    # The pull request's job: another machine (its own key), main's cache restored read-only.
    monkeypatch.delenv("BIR_CACHE_SIGNING_KEY")
    monkeypatch.setattr("bir.base.atomic._key", None)
    monkeypatch.setenv("BIR_CACHE_DIR", str(pr_dir))
    monkeypatch.setenv("BIR_CACHE_SHARED", str(main_dir))
    (tmp_path / "main.pub").write_text(f"# main's key\n{public}\n")
    monkeypatch.setenv("BIR_CACHE_TRUSTED_KEY", str(tmp_path / "main.pub"))
    got, store = judged(base_register)
    assert got == fresh and store is not None and store.misses == 0
    # one changed record: only it is checked, only it goes into the job's own pack
    rel = _invalid(base_register)
    got, store = judged(base_register)
    assert store is not None and store.misses == 1 and any(line.startswith(f"{rel}:") for line in got)
    own = ResultStore.open(at_worktree(base_register, DAY).rules)
    assert own is not None and len(own._read("facts")[1]) == 1
    assert {p.name: p.read_bytes() for p in (main_dir / "results").iterdir()} == shared_before
    # without the trusted key the shared layer is not read at all
    monkeypatch.delenv("BIR_CACHE_TRUSTED_KEY")
    monkeypatch.setenv("BIR_CACHE_DIR", str(tmp_path / "third"))
    monkeypatch.setattr("bir.base.atomic._key", None)
    _, store = judged(base_register)
    assert store is not None and store.hits == 0


def test_a_planted_shared_pack_cannot_make_an_invalid_record_valid(tmp_path: Path, base_register: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A pull request's run can write its own cache scope, and so the folder the check restores: a pack it
    signs with a key of its own, or leaves unsigned, is ignored and the record is checked afresh."""
    _, public = trust.keygen()
    attacker_private, _ = trust.keygen()
    rel = _invalid(base_register)
    for signing in (attacker_private, ""):
        planted = tmp_path / f"planted-{bool(signing)}"
        monkeypatch.setenv("BIR_CACHE_DIR", str(planted))
        monkeypatch.setenv("BIR_CACHE_SIGNING_KEY", signing)
        monkeypatch.setattr("bir.base.atomic._key", None)
        _, store = judged(base_register)
        assert store is not None
        _forge(base_register, rel, store)
        store._own_facts = set()
        store.save()
        monkeypatch.delenv("BIR_CACHE_SIGNING_KEY")
        monkeypatch.setenv("BIR_CACHE_DIR", str(tmp_path / f"pr-{bool(signing)}"))
        monkeypatch.setenv("BIR_CACHE_SHARED", str(planted))
        monkeypatch.setenv("BIR_CACHE_TRUSTED_KEY", public)
        monkeypatch.setattr("bir.base.atomic._key", None)
        got, store = judged(base_register)
        assert store is not None and store.hits == 0
        assert any(line.startswith(f"{rel}:") and ":error:schema." in line for line in got)
        monkeypatch.delenv("BIR_CACHE_SHARED")


def test_a_signed_pack_with_a_changed_byte_is_ignored(tmp_path: Path, base_register: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = trust.keygen()
    main_dir = tmp_path / "main"
    monkeypatch.setenv("BIR_CACHE_DIR", str(main_dir))
    monkeypatch.setenv("BIR_CACHE_SIGNING_KEY", private)
    judged(base_register)
    pack = next((main_dir / "results").glob("*.facts"))
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 1
    pack.write_bytes(bytes(data))
    monkeypatch.delenv("BIR_CACHE_SIGNING_KEY")
    monkeypatch.setenv("BIR_CACHE_DIR", str(tmp_path / "pr"))
    monkeypatch.setenv("BIR_CACHE_SHARED", str(main_dir))
    monkeypatch.setenv("BIR_CACHE_TRUSTED_KEY", public)
    monkeypatch.setattr("bir.base.atomic._key", None)
    _, store = judged(base_register)
    assert store is not None and store.hits == 0


@pytest.mark.parametrize(("name", "value", "message"), [
    ("BIR_CACHE_SIGNING_KEY", "abc", "BIR_CACHE_SIGNING_KEY is not a key: write it as ed25519:<64 hex digits>"),
    ("BIR_CACHE_SIGNING_KEY", "ed25519:12zz", "BIR_CACHE_SIGNING_KEY is not a key: after `ed25519:` come 64 hex digits"),
    ("BIR_CACHE_TRUSTED_KEY", "ed25519:" + "00" * 31, "BIR_CACHE_TRUSTED_KEY is not a key: after `ed25519:` come 64 hex digits"),
])
def test_a_malformed_key_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(UsageError) as err:
        trust.signing_key() if name == "BIR_CACHE_SIGNING_KEY" else trust.trusted_key()
    assert str(err.value).startswith(message)


def test_a_missing_trusted_key_file_trusts_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIR_CACHE_TRUSTED_KEY", str(tmp_path / "absent.pub"))
    assert trust.trusted_key() is None


def test_keygen_pairs_sign_and_verify() -> None:
    private, public = trust.keygen()
    os.environ["BIR_CACHE_SIGNING_KEY"], os.environ["BIR_CACHE_TRUSTED_KEY"] = private, public
    try:
        signature = trust.sign(trust.signing_key(), b"pack")
        assert trust.verify(trust.trusted_key(), b"pack", signature)
        assert not trust.verify(trust.trusted_key(), b"pacK", signature)
    finally:
        del os.environ["BIR_CACHE_SIGNING_KEY"], os.environ["BIR_CACHE_TRUSTED_KEY"]


def test_git_vouches_for_the_files_it_tracks_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a clean clone, the files git reports unchanged from HEAD are keyed by their blob ids, unread; a
    changed, an untracked, and a file whose bytes on disk differ from the blob (eol=crlf) are read."""
    from bir.cache import gitkeys

    monkeypatch.setattr(gitkeys, "GIT_KEYS_MIN_FILES", 0)
    repo = make_register(tmp_path / "repo", records=RECORDS, git_init=True)
    (repo / ".gitattributes").write_text("registry/party/*.yaml eol=crlf\n")
    commit(repo, "First")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    fresh, _ = judged(clone, cached=False)
    judged(clone)  # fills the cache (every file read)
    read: list[str] = []
    real = checker._read_small
    monkeypatch.setattr(checker, "_read_small", lambda path, size: read.append(path) or real(path, size))

    def read_again() -> tuple[list[str], int]:
        read.clear()
        point = at_worktree(clone, DAY)
        store = ResultStore.open(point.rules)
        candidates, problems = point.source.candidates()
        keys = gitkeys.GitKeys.start(clone)
        assert keys is not None
        checker.load(clone, point.rules, candidates, problems, want_data=False, jobs=1, cache=store,
                     known=lambda: keys.keys(candidates))
        assert store is not None
        return sorted(Path(p).relative_to(clone).as_posix() for p in read), store.misses

    parties = sorted(p.relative_to(clone).as_posix() for p in (clone / "registry" / "party").glob("*.yaml"))
    assert parties and b"\r\n" in (clone / parties[0]).read_bytes()  # on disk unlike the blob: read
    assert read_again() == (parties, 0)
    assert judged(clone)[0] == fresh
    hardware = next((clone / "registry" / "hardware").glob("*.yaml"))
    hardware.write_text(hardware.read_text().replace("\nname: ", "\nname: X", 1))
    write(clone, "hardware/srv-new.yaml", hardware.read_text().replace(hardware.stem, "srv-new"))
    assert read_again() == (sorted([*parties, hardware.relative_to(clone).as_posix(), "registry/hardware/srv-new.yaml"]), 2)


def test_cached_index_entries_equal_fresh_ones_field_by_field(tmp_path: Path) -> None:
    """Every field of a record's index entry (what the cross-record rules read) comes back from the cache as
    the checker made it, and numbers keep their written text."""
    from bir.base.model import to_decimal

    root = make_register(tmp_path / "reg", CASES / "_base")
    point = at_worktree(root, DAY)
    candidates, problems = point.source.candidates()
    fresh = checker.load(root, point.rules, candidates, problems, want_data=True, jobs=1)
    store = ResultStore.open(point.rules)
    first = checker.load(root, point.rules, candidates, problems, want_data=True, jobs=1, cache=store)
    assert store is not None and store.hits == 0
    assert first.index == fresh.index  # the entries the store hands back as it keeps them
    assert {k: v.data for k, v in first.register.records.items()} == {k: v.data for k, v in fresh.register.records.items()}
    store.save()
    again_store = ResultStore.open(point.rules)
    again = checker.load(root, point.rules, candidates, problems, want_data=True, jobs=1, cache=again_store)
    assert again_store is not None and again_store.misses == 0
    assert again.index == fresh.index
    for rid, rec in fresh.register.records.items():
        cost = rec.get("financial.purchase_cost")
        if cost is not None:
            assert to_decimal(again.register.records[rid].get("financial.purchase_cost")) == to_decimal(cost)


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files read only to be keyed (checker._read_small), from now on."""
    calls: list[str] = []
    real = checker._read_small
    monkeypatch.setattr(checker, "_read_small", lambda path, size: calls.append(Path(path).name) or real(path, size))
    return calls


def test_unchanged_files_are_keyed_from_their_status(base_register: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bir.cache.statkeys: a run over a warm cache reads no file to key it while each file's status is as
    it was; a file rewritten with the same size and its modification time set back is still read again (its
    status-change time moved) and judged by its new content."""
    monkeypatch.setattr("bir.cache.statkeys.RACY_NS", 0)  # the files were written a moment ago
    point = at_worktree(base_register, DAY)
    first = point.load()
    assert first.errors == 0
    reads = _reads(monkeypatch)
    again = at_worktree(base_register, DAY).load()
    assert reads == [] and again.checked == 0 and sorted(again.register.records) == sorted(first.register.records)
    target = base_register / "registry" / "hardware" / "srv-01.yaml"
    before = target.stat()
    text = target.read_text()
    assert "status: in_use" in text
    target.write_text(text.replace("status: in_use", "status: broken"))  # same size, not a state
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size and target.stat().st_mtime_ns == before.st_mtime_ns
    changed = at_worktree(base_register, DAY).load()
    assert reads == ["srv-01.yaml"] and changed.checked == 1
    assert [p.rule for p in changed.problems if p.path == "registry/hardware/srv-01.yaml" and p.is_error]


def test_files_changed_just_before_the_run_are_not_remembered(base_register: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git's racy-entry guard: a file whose times are within RACY_NS of the run's start is keyed by its
    bytes again on the next run (a write in the same clock tick could leave its status unchanged)."""
    at_worktree(base_register, DAY).load()  # every file was written a moment ago: none remembered
    reads = _reads(monkeypatch)
    at_worktree(base_register, DAY).load()
    files = sorted(p.name for p in (base_register / "registry").glob("*/*.yaml"))
    assert sorted(reads) == files and len(files) >= 3


def test_a_pull_request_runs_main_s_signed_validators_and_no_other(tmp_path: Path, base_register: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """bir.cache.validators: main's job hands its compiled validators on, signed; a pull request's job runs
    them instead of compiling its own, and compiles its own for any that was changed or signed by another key."""
    import fastjsonschema

    private, public = trust.keygen()
    attacker, _ = trust.keygen()
    main_dir = tmp_path / "main"
    monkeypatch.setenv("BIR_CACHE_DIR", str(main_dir))
    monkeypatch.setenv("BIR_CACHE_SIGNING_KEY", private)
    judged(base_register)
    shared = {p.name.split("-")[1]: p for p in (main_dir / "results").glob("schema-*.bin")}
    assert {"hardware", "party", "service"} <= set(shared)
    assert all(p.with_name(p.name + ".sig").is_file() for p in shared.values())
    compiled: list[str] = []
    real = fastjsonschema.compile_to_code
    monkeypatch.setattr(fastjsonschema, "compile_to_code", lambda schema, **k: compiled.append(str(schema.get("title"))) or real(schema, **k))
    monkeypatch.delenv("BIR_CACHE_SIGNING_KEY")
    monkeypatch.setenv("BIR_CACHE_SHARED", str(main_dir))
    monkeypatch.setenv("BIR_CACHE_TRUSTED_KEY", public)
    for changed in ("hardware/srv-01.yaml", "party/team-it.yaml"):  # the pull request's change: checked afresh
        path = base_register / "registry" / changed
        path.write_text(path.read_text() + "# changed\n")
    fresh, _ = judged(base_register, cached=False)

    def pull_request(name: str) -> list[str]:
        monkeypatch.setenv("BIR_CACHE_DIR", str(tmp_path / name))
        monkeypatch.setattr("bir.base.atomic._key", None)
        compiled.clear()
        got, _ = judged(base_register)
        assert got == fresh
        return list(compiled)

    assert pull_request("pr-1") == []
    data = bytearray(shared["hardware"].read_bytes())
    data[-3] ^= 1
    shared["hardware"].write_bytes(bytes(data))
    party, sig = shared["party"], shared["party"].with_name(shared["party"].name + ".sig")
    sig.write_bytes(trust.sign(trust._crypto().Ed25519PrivateKey.from_private_bytes(trust._key_bytes(attacker, "key")),
                               party.read_bytes()))
    assert len(pull_request("pr-2")) == 2
    # main's signed service validator, with its signature, copied over the hardware one: not the same name
    service = shared["service"]
    shared["hardware"].write_bytes(service.read_bytes())
    shared["hardware"].with_name(shared["hardware"].name + ".sig").write_bytes(service.with_name(service.name + ".sig").read_bytes())
    assert sorted(pull_request("pr-3")) == ["Hardware record", "Party record"]


def test_a_signed_pack_copied_under_another_name_is_ignored(tmp_path: Path, base_register: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Main's signed data pack (with its signature) copied over its facts pack, by a run that can write the
    restored cache: it does not verify, so the records are checked afresh and nothing fails."""
    private, public = trust.keygen()
    main_dir = tmp_path / "main"
    monkeypatch.setenv("BIR_CACHE_DIR", str(main_dir))
    monkeypatch.setenv("BIR_CACHE_SIGNING_KEY", private)
    fresh, _ = judged(base_register, want_data=True, cached=False)
    judged(base_register, want_data=True)
    facts, data = next((main_dir / "results").glob("*.facts")), next((main_dir / "results").glob("*.data"))
    facts.write_bytes(data.read_bytes())
    facts.with_name(facts.name + ".sig").write_bytes(data.with_name(data.name + ".sig").read_bytes())
    monkeypatch.delenv("BIR_CACHE_SIGNING_KEY")
    monkeypatch.setenv("BIR_CACHE_DIR", str(tmp_path / "pr"))
    monkeypatch.setenv("BIR_CACHE_SHARED", str(main_dir))
    monkeypatch.setenv("BIR_CACHE_TRUSTED_KEY", public)
    monkeypatch.setattr("bir.base.atomic._key", None)
    got, store = judged(base_register, want_data=True)
    assert got == fresh and store is not None and store.hits == 0


def test_a_run_with_compiled_validators_does_not_load_the_compiler(tmp_path: Path, base_register: Path) -> None:
    """The code fastjsonschema generates imports the package (13 ms); the code kept in the cache leaves that
    line out and is given its exceptions, so a run over compiled validators never loads it, and a refused
    record is still refused."""
    import subprocess
    import sys

    import fastjsonschema

    from bir.read.schemas import _GENERATED_IMPORT

    assert _GENERATED_IMPORT in fastjsonschema.compile_to_code({"type": "object"}, use_formats=False)
    bad = base_register / "registry" / "hardware" / "srv-01.yaml"
    bad.write_text(bad.read_text().replace("status: in_use", "status: 42"))
    script = ("import sys; from pathlib import Path; from bir.api import validate; "
              f"r = validate(Path({str(base_register)!r}), use_cache=False, jobs=1); "
              "print(sorted({p.rule for p in r.problems}), 'fastjsonschema' in sys.modules)")
    env = {**os.environ, "BIR_CACHE_DIR": str(tmp_path / "cold")}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout.strip()
            for _ in range(2)]
    assert runs == ["['schema.type'] True", "['schema.type'] False"]


def test_the_configuration_is_interpreted_once_per_content(base_register: Path, cache_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`bir.yaml` is checked and interpreted once for its bytes, its schemas and bir's code; an edit of any of
    them interprets it again, a configuration that fails is never kept, and a damaged memo is ignored."""
    import bir.cache.configs
    import bir.cache.stamp
    from bir.read.config import ConfigError, load_config

    calls: list[bytes] = []

    def counting(text: bytes, schemas: object) -> object:
        calls.append(text)
        return load_config(text, schemas)  # type: ignore[arg-type]

    monkeypatch.setattr(bir.cache.configs, "load_config", counting)
    monkeypatch.setattr("bir.point.point.load_config", counting)
    first = at_worktree(base_register, DAY).config
    again = at_worktree(base_register, DAY).config
    assert len(calls) == 1 and again == first and again.name == first.name

    config = base_register / "bir.yaml"
    config.write_bytes(config.read_bytes() + b"\n# an edit\n")
    assert at_worktree(base_register, DAY).config == first and len(calls) == 2
    at_worktree(base_register, DAY)
    assert len(calls) == 2

    schema = base_register / "schemas" / "hardware.schema.json"
    schema.write_text(schema.read_text().replace('"title": "Hardware record"', '"title": "Hardware"', 1))
    at_worktree(base_register, DAY)
    assert len(calls) == 3

    monkeypatch.setattr(bir.cache.stamp, "_STAMP", ["another build of bir"])
    at_worktree(base_register, DAY)
    assert len(calls) == 4

    memo = next(cache_dir.glob("registers/*/configuration.pickle"))
    memo.write_bytes(memo.read_bytes()[:-1] + b"\0")  # the seal no longer matches: interpreted again
    at_worktree(base_register, DAY)
    assert len(calls) == 5

    saved = config.read_bytes()
    config.write_bytes(saved + b"name: [not, a, name]\n")
    for expected in (6, 7):  # an invalid configuration fails every time, and is never kept
        with pytest.raises(ConfigError):
            at_worktree(base_register, DAY)
        assert len(calls) == expected
    config.write_bytes(saved)  # as before the failures: the memo of that content still stands
    assert at_worktree(base_register, DAY).config == first and len(calls) == 7
    at_worktree(base_register, DAY, use_cache=False)  # `bir validate --no-cache`: afresh
    assert len(calls) == 8


def test_an_unchanged_re_run_loads_neither_the_checker_nor_pyyaml(tmp_path: Path, base_register: Path) -> None:
    """An unchanged re-run reads the last verdict: it loads no parser and no checker (PyYAML alone takes about
    10 ms to import), and a run after an edit loads them again and finds the problem."""
    import subprocess
    import sys

    script = ("import sys\nfrom bir.cli import main\n"  # what `python -m bir` runs, up to its exit
              "try:\n    main(['validate', sys.argv[1], '--format', 'json'])\n"
              "except SystemExit as exc:\n"
              "    print(exc.code, sorted(m for m in ('yaml', 'bir.read.yamlstrict', 'bir.check.checker', 're2') "
              "if m in sys.modules), file=sys.stderr)\n")
    env = {**os.environ, "BIR_CACHE_DIR": str(tmp_path / "runs")}

    def run() -> str:
        done = subprocess.run([sys.executable, "-c", script, str(base_register)], capture_output=True, text=True,
                              env=env, check=True)
        return done.stderr.strip()

    full = "0 ['bir.check.checker', 'bir.read.yamlstrict', 're2', 'yaml']"
    assert [run(), run()] == [full, "0 []"]
    record = base_register / "registry" / "hardware" / "srv-01.yaml"
    record.write_text(record.read_text().replace("status: in_use", "status: 42"))
    assert run() == full.replace("0 ", "1 ", 1)
    assert run() == "1 []"


@pytest.mark.parametrize("paths", [[], ["registry/party/a.yaml"], ["registry/party/a.yaml", "registry/party/b\udcff.yaml",
                                                                   "registry/hardware/é.yaml"]], ids=["none", "one", "three"])
def test_the_index_digest_is_every_path_and_key_in_order(paths: list[str]) -> None:
    """`path\\0key\\0path\\0key...` in the listing's order, paths as their bytes on disk (not UTF-8 kept)."""
    from hashlib import blake2b

    from bir.check.checker import index_digest
    from bir.read.files import Candidate

    candidates = [Candidate(p, "party", (0, 0, 0, 0)) for p in paths]
    keys = {p: bytes([i]) * 20 for i, p in enumerate(paths)}
    layout = b"\0".join(p.encode("utf-8", "surrogateescape") + b"\0" + keys[p] for p in paths)
    assert index_digest(candidates, keys) == blake2b(layout, digest_size=32).digest()
    if len(paths) > 1:
        assert index_digest(candidates[::-1], keys) != index_digest(candidates, keys)
