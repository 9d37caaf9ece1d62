"""`bir change` on real git repositories: each policy rule passing and failing, renames, deletions, cost
deltas, services affected, the change record of a pull-request event, and the markdown size limit."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from bir.cache.validation import ValidateEntry, Validation
from bir.change.compute import compute_change
from bir.change.model import ChangeReport, Impact, RecordChange
from bir.change.render import render_markdown
from bir.history.changerecord import check_body, parse_body, trailers_of
from bir.point.point import at_worktree
from support import RECORDS, commit, git, make_register, run, write

TODAY = dt.date(2026, 6, 1)


def validate(repo: Path) -> Validation:
    """The working tree's validation judged on TODAY, the day every `compute_change` here is evaluated on."""
    return at_worktree(repo, TODAY).validation()


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_register(tmp_path_factory.mktemp("base") / "reg", records=RECORDS, git_init=True)
    commit(repo, "Initial register")
    return repo


@pytest.fixture
def repo(base_repo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "reg"
    shutil.copytree(base_repo, target, symlinks=True)
    return target


def edit(repo: Path, rel: str, old: str, new: str) -> None:
    path = repo / "registry" / rel
    text = path.read_text()
    assert old in text, (old, rel)
    path.write_text(text.replace(old, new, 1))


def retire_srv02(repo: Path) -> None:
    edit(repo, "hardware/srv-02.yaml", "status: in_stock\nstatus_dates: {in_stock: \"2024-01-10\"}",
         "status: retired\nstatus_dates: {in_stock: \"2024-01-10\", retired: \"2026-05-01\"}\nretirement: {reason: obsolete}")


def rename_srv02(repo: Path) -> None:
    git(repo, "mv", "registry/hardware/srv-02.yaml", "registry/hardware/srv-22.yaml")
    edit(repo, "hardware/srv-22.yaml", "id: srv-02", "id: srv-22")


def rename_untracked(repo: Path) -> None:
    (repo / "registry/hardware/srv-02.yaml").rename(repo / "registry/hardware/srv-22.yaml")
    edit(repo, "hardware/srv-22.yaml", "id: srv-02", "id: srv-22")


def conflict(repo: Path) -> None:
    edit(repo, "party/acme.yaml", "name: Acme Supplies\n",
         "<<<<<<< HEAD\nname: Acme Supplies\n=======\nname: Acme Ltd\n>>>>>>> feature\n")


CASES: dict[str, tuple[Callable[[Path], None], list[str], dict[str, int]]] = {
    # name: (the change, the rule ids it violates (policy and head validation), records added/modified/renamed/removed)
    "rename-field": (lambda r: edit(r, "party/acme.yaml", "Acme Supplies", "Acme Supplies BV"), [],
                     {"added": 0, "modified": 1, "renamed": 0, "removed": 0}),
    "transition-ok": (lambda r: edit(r, "hardware/srv-02.yaml", "status: in_stock\nstatus_dates: {in_stock: \"2024-01-10\"}",
                                     "status: in_use\nstatus_dates: {in_stock: \"2024-01-10\", in_use: \"2026-05-01\"}"),
                      [], {"added": 0, "modified": 1, "renamed": 0, "removed": 0}),
    "transition-bad": (lambda r: edit(r, "hardware/srv-02.yaml", "status: in_stock", "status: disposed"),
                       ["change.new-risk", "change.requires", "change.requires", "change.requires", "change.requires",
                        "change.requires", "change.requires", "change.transition", "lifecycle.requires", "lifecycle.requires",
                        "lifecycle.requires", "lifecycle.requires", "lifecycle.requires", "lifecycle.requires"],
                       {"added": 0, "modified": 1, "renamed": 0, "removed": 0}),
    "retire-ok": (retire_srv02, [], {"added": 0, "modified": 1, "renamed": 0, "removed": 0}),
    "retire-without-reason": (lambda r: edit(r, "hardware/srv-02.yaml", "status: in_stock", "status: retired"),
                              ["change.requires", "change.requires", "lifecycle.requires", "lifecycle.requires"],
                              {"added": 0, "modified": 1, "renamed": 0, "removed": 0}),
    "retire-in-use": (lambda r: edit(r, "hardware/srv-01.yaml", "status: in_use\nstatus_dates: {in_stock: \"2024-01-10\", in_use: \"2024-02-01\"}",
                                     "status: retired\nstatus_dates: {in_stock: \"2024-01-10\", in_use: \"2024-02-01\", "
                                     "retired: \"2026-05-01\"}\nretirement: {reason: replaced}"),
                      ["change.retire-in-use"], {"added": 0, "modified": 1, "renamed": 0, "removed": 0}),
    "retire-service-in-use": (lambda r: edit(r, "service/svc-portal.yaml", "status: active\nstatus_dates: {active: \"2024-01-01\"}",
                                             "status: retired\nstatus_dates: {active: \"2024-01-01\", retired: \"2026-05-01\"}\n"
                                             "retirement: {reason: merged}"),
                              ["change.retire-in-use"], {"added": 0, "modified": 1, "renamed": 0, "removed": 0}),
    "removed": (lambda r: (r / "registry/hardware/srv-02.yaml").unlink(), ["change.removed"],
                {"added": 0, "modified": 0, "renamed": 0, "removed": 1}),
    "renamed": (rename_srv02, ["change.renamed"], {"added": 0, "modified": 0, "renamed": 1, "removed": 0}),
    "renamed-untracked": (rename_untracked, ["change.renamed"], {"added": 0, "modified": 0, "renamed": 1, "removed": 0}),
    "added": (lambda r: write(r, "hardware/srv-03.yaml", RECORDS["hardware/srv-02.yaml"].replace("srv-02", "srv-03")), [],
              {"added": 1, "modified": 0, "renamed": 0, "removed": 0}),
    "conflict": (conflict, ["change.conflict", "yaml.syntax"], {"added": 0, "modified": 1, "renamed": 0, "removed": 0}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_policy_rules(repo: Path, name: str) -> None:
    mutate, rules, counts = CASES[name]
    mutate(repo)
    report = compute_change(repo, "HEAD", today=TODAY)
    found = sorted(p.rule for p in report.violations + report.head_problems if p.is_error)
    assert found == sorted(rules)
    assert report.counts() == counts
    assert report.failed == bool(rules)


def test_transition_message(repo: Path) -> None:
    edit(repo, "hardware/srv-02.yaml", "status: in_stock", "status: disposed")
    report = compute_change(repo, "HEAD", today=TODAY)
    [p] = [p for p in report.violations if p.rule == "change.transition"]
    assert p.path == "registry/hardware/srv-02.yaml"
    assert p.message == "srv-02: status 'in_stock' -> 'disposed' is not a transition of the 'physical' lifecycle model"
    assert p.hint == ("from 'in_stock' go to one of: in_use, lost, retired, stolen; to go in_stock -> retired -> disposed "
                      "in one change, date each state on the way in status_dates, with what it requires")


def test_field_changes_and_rename(repo: Path) -> None:
    rename_srv02(repo)
    edit(repo, "hardware/srv-22.yaml", "name: Server 02", "name: Server 22")
    report = compute_change(repo, "HEAD", today=TODAY)
    [rc] = report.records
    assert (rc.change, rc.id, rc.old_id, rc.old_path, rc.path) == (
        "renamed", "srv-22", "srv-02", "registry/hardware/srv-02.yaml", "registry/hardware/srv-22.yaml")
    assert [(f.path, f.old, f.new) for f in rc.fields] == [("id", "srv-02", "srv-22"), ("name", "Server 02", "Server 22")]
    [p] = report.violations
    assert p.message == "srv-22: id changed from 'srv-02' to 'srv-22' by renaming registry/hardware/srv-02.yaml to registry/hardware/srv-22.yaml"


COST_CASES = [
    # (change, one-off, annual before, annual after) in EUR; USD 0.92, GBP 1.17 (bir.yaml)
    ("add", lambda r: write(r, "hardware/srv-03.yaml", RECORDS["hardware/srv-02.yaml"].replace("srv-02", "srv-03") +
                            "financial:\n  purchase_cost: 1234.56\n  recurring_costs:\n"
                            "    - {description: a, amount: 10.00, currency: USD, period: monthly}\n"
                            "    - {description: b, amount: 25.00, currency: GBP, period: quarterly}\n"
                            "    - {description: c, amount: 99.99, period: yearly}\n"
                            "    - {description: ended, amount: 1000, period: yearly, end: \"2026-01-31\"}\n"),
     "1234.56", "0.00", "327.39"),
    ("reprice", lambda r: edit(r, "hardware/srv-01.yaml", "amount: 100.00, currency: USD, period: monthly",
                               "amount: 200.00, currency: USD, period: quarterly"), "0.00", "1104.00", "736.00"),
    ("price-up", lambda r: edit(r, "hardware/srv-01.yaml", "purchase_cost: 1000.00", "purchase_cost: 1500.50"),
     "500.50", "1104.00", "1104.00"),
    ("retire-stops-costs", lambda r: (r / "registry/software/app-portal.yaml").unlink() or edit(
        r, "hardware/srv-01.yaml", "status: in_use\nstatus_dates: {in_stock: \"2024-01-10\", in_use: \"2024-02-01\"}",
        "status: retired\nstatus_dates: {in_stock: \"2024-01-10\", in_use: \"2024-02-01\", retired: \"2026-05-01\"}\n"
        "retirement: {reason: replaced}"), "0.00", "1104.00", "0.00"),
]


@pytest.mark.parametrize(("name", "mutate", "one_off", "before", "after"), COST_CASES, ids=[c[0] for c in COST_CASES])
def test_cost_delta(repo: Path, name: str, mutate: Callable[[Path], None], one_off: str, before: str, after: str) -> None:
    mutate(repo)
    impact = compute_change(repo, "HEAD", today=TODAY).impact
    assert (impact.one_off, impact.annual_base, impact.annual_head) == (Decimal(one_off), Decimal(before), Decimal(after))
    assert impact.annual_delta == Decimal(after) - Decimal(before)


def test_services_affected_transitively(repo: Path) -> None:
    edit(repo, "hardware/srv-01.yaml", "name: Server 01", "name: Server one")
    impact = compute_change(repo, "HEAD", today=TODAY).impact
    assert [(s.id, s.via) for s in impact.services] == [
        ("svc-portal", ("srv-01", "app-portal", "svc-portal")),
        ("svc-shop", ("srv-01", "app-portal", "svc-portal", "svc-shop")),
    ]


def test_services_not_affected(repo: Path) -> None:
    edit(repo, "hardware/srv-02.yaml", "name: Server 02", "name: Server two")
    assert compute_change(repo, "HEAD", today=TODAY).impact.services == []


def test_head_commit_and_cli_exit_codes(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "registry/hardware/srv-02.yaml").unlink()
    head = commit(repo, "Remove srv-02 (#4)", date="2026-02-01T09:00:00+00:00")
    report = compute_change(repo, base, head, today=TODAY)
    assert [p.rule for p in report.violations] == ["change.removed"]
    res = run("change", "--root", str(repo), "--base", base, "--head", head, "--format", "json")
    assert res.code == 1, res.err
    data = json.loads(res.out)
    assert data["counts"] == {"added": 0, "modified": 0, "renamed": 0, "removed": 1}
    assert data["violations"][0]["rule"] == "change.removed"
    res = run("change", "--root", str(repo), "--base", head)
    assert res.code == 0, res.err
    assert res.out.splitlines()[0] == "No policy violations"


def test_github_format_and_summary(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "registry/hardware/srv-02.yaml").unlink()
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    res = run("change", "--root", str(repo), "--base", "HEAD", "--format", "github", "--markdown-out", str(tmp_path / "report.md"))
    assert res.code == 1
    assert res.out.splitlines()[0] == ("::error file=registry/hardware/srv-02.yaml,title=change.removed::srv-02: record "
                                       "removed from the register (hint: restore the record and set its status to disposed "
                                       "instead; the file stays as history)")
    assert summary.read_text().startswith("### ❌ 1 policy violation\n")
    assert (tmp_path / "report.md").read_text() == summary.read_text()


def test_bad_refs_are_usage_errors(repo: Path) -> None:
    for ref in ("--output=/tmp/x", "no-such-branch"):
        res = run("change", "--root", str(repo), "--base", ref)
        assert res.code == 2, res.err  # a usage error, never an internal one
        assert "Traceback" not in res.out + res.err


def test_shallow_clone_says_how_to_fetch(base_repo: Path, tmp_path: Path) -> None:
    commit(base_repo, "second", date="2026-01-06T10:00:00+00:00")
    try:
        clone = tmp_path / "clone"
        git(tmp_path, "clone", "-q", "--depth", "1", f"file://{base_repo}", str(clone))
        with pytest.raises(Exception, match=r"git fetch --unshallow.*fetch-depth: 0"):
            compute_change(clone, "HEAD~1")
    finally:
        git(base_repo, "reset", "-q", "--hard", "HEAD~1")


def test_markdown_stays_under_comment_limit() -> None:
    records = [RecordChange("modified", f"hw-{i:06d}", "hardware", f"registry/hardware/hw-{i:06d}.yaml", fields=[])
               for i in range(5000)]
    report = ChangeReport("a" * 40, None, records, [], [], [], Impact("EUR"))
    md = render_markdown(report)
    assert len(md) < 65_536
    assert md.splitlines()[0] == "### ✅ No policy violations"
    assert "| … | and 4800 more records | | |" in md


# -- the change record -----------------------------------------------------------------------------------
FULL_BODY = """\
## Change-Type
<!-- tick one -->
- [ ] standard
- [x] normal
- [ ] emergency

## Reason
Replace the failing database server.

## Risk
Low: the replica takes over.

## Impact
<!-- who notices -->

## Backout-Plan
Fail back to srv-db-01.

## Planned-Date
2026-05-02
"""

BODY_CASES = [
    ("complete", FULL_BODY, []),
    ("no-risk", FULL_BODY.replace("Low: the replica takes over.", "<!-- say it -->"), ["change.record-missing"]),
    ("nothing-ticked", FULL_BODY.replace("[x] normal", "[ ] normal"), ["change.record-missing"]),
    ("inline", "Change-Type: emergency\nReason: outage\nRisk: high\nBackout-Plan: revert\n", []),
    ("bad-type", "Change-Type: urgent\nReason: outage\nRisk: high\nBackout-Plan: revert\n", ["change.record-type"]),
    ("bad-date", FULL_BODY.replace("2026-05-02", "next week"), ["change.record-date"]),
    ("empty", "", ["change.record-missing"] * 4),
]


@pytest.mark.parametrize(("name", "body", "rules"), BODY_CASES, ids=[c[0] for c in BODY_CASES])
def test_change_record_body(name: str, body: str, rules: list[str]) -> None:
    record = check_body(body, ("change_type", "reason", "risk", "backout_plan"))
    assert [p.rule for p in record.problems] == rules


def test_parse_body_fields() -> None:
    assert parse_body(FULL_BODY) == {"change_type": "normal", "reason": "Replace the failing database server.",
                                     "risk": "Low: the replica takes over.", "impact": "",
                                     "backout_plan": "Fail back to srv-db-01.", "planned_date": "2026-05-02"}


def test_event_payload(repo: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "opened", "pull_request": {"number": 42, "body": FULL_BODY.replace(
        "Fail back to srv-db-01.", "")}}))
    res = run("change", "--root", str(repo), "--event", str(event))
    assert res.code == 1
    assert res.err == ""
    assert res.out == ("pull request #42: error: the pull request does not say its Backout-Plan (required by "
                       "change.required_fields) [change.record-missing]\n")
    event.write_text(json.dumps({"pull_request": {"number": 42, "body": FULL_BODY}}))
    res = run("change", "--root", str(repo), "--event", str(event), "--base", "HEAD")
    assert res.code == 0, res.err


def test_trailers_round_trip() -> None:
    record = check_body(FULL_BODY, ())
    message = "Replace srv-db-01 (#42)\n\n" + record.trailers() + "\n"
    assert trailers_of(message) == {"change_type": "normal", "reason": "Replace the failing database server.",
                                    "risk": "Low: the replica takes over.", "backout_plan": "Fail back to srv-db-01.",
                                    "planned_date": "2026-05-02"}


# -- the working tree checked through git: the cached validation reused without listing the register --------
def _no_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    import bir.cache.validation

    def refuse(root: Path) -> None:
        raise AssertionError("the register was listed: the cached validation should have been reused")

    monkeypatch.setattr(bir.cache.validation, "discover", refuse)


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_run_reuses_the_validation_through_git(repo: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first run validates the working tree and keeps a snapshot; the second, with nothing changed,
    checks the snapshot through git and never lists the register, and reports exactly the same."""
    mutate, _rules, _counts = CASES[name]
    mutate(repo)
    _after_the_clock_moves(repo)
    first = compute_change(repo, "HEAD", today=TODAY).to_dict()
    assert (repo / ".bir-cache" / "worktree.pickle").is_file()
    _no_listing(monkeypatch)
    assert compute_change(repo, "HEAD", today=TODAY).to_dict() == first


def _fresh(repo: Path) -> dict[str, object]:
    shutil.rmtree(repo / ".bir-cache", ignore_errors=True)
    return compute_change(repo, "HEAD", today=TODAY).to_dict()


EDITS_AFTER_VALIDATION: dict[str, Callable[[Path], None]] = {
    "tracked file edited in place": lambda r: edit(r, "party/acme.yaml", "name: Acme Supplies\n", "name: [broken\n"),
    "untracked record added": lambda r: write(r, "hardware/srv-09.yaml", RECORDS["hardware/srv-02.yaml"].replace("srv-02", "srv-09")),
    "untracked record edited in place": lambda r: edit(r, "hardware/srv-03.yaml", "id: srv-03", "id: srv-04"),
    "untracked record staged": lambda r: git(r, "add", "registry/hardware/srv-03.yaml") and None,
    "record removed": lambda r: (r / "registry" / "hardware" / "srv-02.yaml").unlink(),
    "configuration edited": lambda r: (r / "bir.yaml").write_text((r / "bir.yaml").read_text() + "\n# edited\n"),
}


@pytest.mark.parametrize("name", sorted(EDITS_AFTER_VALIDATION))
def test_edits_after_the_validation_are_seen(repo: Path, name: str) -> None:
    """Whatever changes after the snapshot (in place, added, staged, removed) makes the next run check again:
    its report is the report of a run without any cache."""
    write(repo, "hardware/srv-03.yaml", RECORDS["hardware/srv-02.yaml"].replace("srv-02", "srv-03"))
    compute_change(repo, "HEAD", today=TODAY)
    EDITS_AFTER_VALIDATION[name](repo)
    after = compute_change(repo, "HEAD", today=TODAY).to_dict()
    assert after == _fresh(repo)


def test_clean_checkout_against_another_base(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in CI: the pull request's commit checked out, the base another commit. With the snapshot holding,
    the change is the diff between the two commits."""
    base = git(repo, "rev-parse", "HEAD").strip()
    retire_srv02(repo)
    write(repo, "hardware/srv-03.yaml", RECORDS["hardware/srv-02.yaml"].replace("srv-02", "srv-03"))
    commit(repo, "Retire srv-02, add srv-03")
    _after_the_clock_moves(repo)
    first = compute_change(repo, base, today=TODAY).to_dict()
    assert first["counts"] == {"added": 1, "modified": 1, "renamed": 0, "removed": 0}
    _no_listing(monkeypatch)
    assert compute_change(repo, base, today=TODAY).to_dict() == first


def test_no_snapshot_when_timestamps_are_too_recent(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder changed in the same clock tick as the snapshot could change again unseen: no snapshot then.
    The next unchanged run (answered from the file listing) takes it, and `bir change` uses it."""
    from bir.git import worktree

    retire_srv02(repo)
    with monkeypatch.context() as m:
        m.setattr(worktree, "clock", lambda folder: 0)
        first = validate(repo)
    assert (repo / ".bir-cache" / "validate.pickle").is_file()
    assert not (repo / ".bir-cache" / "worktree.pickle").exists()
    _after_the_clock_moves(repo)
    assert validate(repo).cached
    assert (repo / ".bir-cache" / "worktree.pickle").is_file()
    expected = _fresh_copy_report(repo)
    _no_listing(monkeypatch)
    assert compute_change(repo, "HEAD", today=TODAY).to_dict() == expected
    assert first.summary.errors == 0


def _after_the_clock_moves(repo: Path) -> None:
    """Wait until the file system's clock (coarse: a few ms per tick) is past every register folder's last
    change, so a snapshot taken now trusts their timestamps."""
    import os

    latest = max(os.stat(d).st_ctime_ns for d in [repo / "registry", *(repo / "registry").iterdir()])
    probe = repo / ".bir-cache" / "probe"
    probe.parent.mkdir(exist_ok=True)
    while True:
        probe.write_bytes(b"")
        if os.stat(probe).st_ctime_ns > latest:
            probe.unlink()
            return


def _fresh_copy_report(repo: Path) -> dict[str, object]:
    """The change report of a copy of `repo` computed without any cache."""
    copy = repo.parent / "copy"
    shutil.copytree(repo, copy, symlinks=True, ignore=shutil.ignore_patterns(".bir-cache"))
    return compute_change(copy, "HEAD", today=TODAY).to_dict()


def test_register_in_a_sub_folder_reuses_the_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The snapshot speaks git's paths relative to the register root, also when that root is a sub-folder."""
    top = tmp_path / "repo"
    root = make_register(top / "infra" / "register", records=RECORDS)
    (root / ".gitignore").write_text(".bir-cache/\n")
    (top / "README.md").write_text("a repository holding more than the register\n")
    git(top, "init", "-q", "-b", "main")
    commit(top, "Initial register")
    retire_srv02(root)
    write(root, "hardware/srv-03.yaml", RECORDS["hardware/srv-02.yaml"].replace("srv-02", "srv-03"))
    _after_the_clock_moves(root)
    first = compute_change(root, "HEAD", today=TODAY).to_dict()
    assert first["counts"] == {"added": 1, "modified": 1, "renamed": 0, "removed": 0}
    _no_listing(monkeypatch)
    assert compute_change(root, "HEAD", today=TODAY).to_dict() == first


def test_a_damaged_relation_shard_falls_back_to_searching(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shard that does not match its digest (the file changed under the reader) is never unpickled: the
    change searches the files with git grep instead, and reports the same."""
    from bir.base.atomic import read_cache
    from bir.cache.relations import RELATIONS_CACHE, CacheDamaged, StoredRelations, _shard

    retire_srv02(repo)
    expected = compute_change(repo, "HEAD", today=TODAY).to_dict()
    cached = read_cache(repo / ".bir-cache" / "validate.pickle")
    assert isinstance(cached, ValidateEntry)
    stored = StoredRelations.open(repo / ".bir-cache" / RELATIONS_CACHE, cached.token)
    assert stored is not None and stored.get("srv-01") == [("registry/software/app-portal.yaml", "runs_on")]
    stored = StoredRelations.open(repo / ".bir-cache" / RELATIONS_CACHE, cached.token)
    assert stored is not None
    offset, length, _digest = stored._table[_shard("srv-01")]
    with open(repo / ".bir-cache" / RELATIONS_CACHE, "r+b") as handle:  # the same file, changed in place
        handle.seek(stored._start + offset + length // 2)
        byte = handle.read(1)
        handle.seek(stored._start + offset + length // 2)
        handle.write(bytes([byte[0] ^ 1]))
    with pytest.raises(CacheDamaged):
        stored.get("srv-01")
    assert validate(repo).cached  # the validation itself is not in that file
    assert compute_change(repo, "HEAD", today=TODAY).to_dict() == expected


def test_validate_rerun_in_git_needs_no_listing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`bir validate` in a git repository of 10,000 files or more: an unchanged re-run is answered from the
    snapshot through git; an edit in place is seen, and its problem reported. (Below that size listing the
    files is cheaper than starting git, and the re-run lists them.)"""
    import bir.cache.validation

    assert validate(repo).summary.records < bir.cache.validation.SNAPSHOT_MIN_FILES
    listed: list[Path] = []
    real = bir.cache.validation.discover
    monkeypatch.setattr(bir.cache.validation, "discover", lambda root: listed.append(root) or real(root))
    assert validate(repo).cached and listed == [repo]
    monkeypatch.setattr(bir.cache.validation, "discover", real)
    monkeypatch.setattr(bir.cache.validation, "SNAPSHOT_MIN_FILES", 0)
    shutil.rmtree(repo / ".bir-cache")
    first = validate(repo)
    assert not first.cached and first.summary.errors == 0
    real_discover = bir.cache.validation.discover
    _no_listing(monkeypatch)
    again = validate(repo)
    assert again.cached and again.summary.to_dict() == first.summary.to_dict() and again.problems == first.problems
    monkeypatch.setattr(bir.cache.validation, "discover", real_discover)
    edit(repo, "party/acme.yaml", "name: Acme Supplies\n", "name: [broken\n")
    after = validate(repo)
    assert not after.cached and [p.rule for p in after.problems] == ["yaml.syntax"]


def test_git_is_asked_once_for_the_keys_and_the_snapshot(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where git vouches for the files, the questions the snapshot needs are asked with the keys', while the
    register is listed: one `git diff` against HEAD per full run, not two; the snapshot holds on the re-run."""
    import bir.cache.gitkeys
    import bir.cache.validation
    from bir.git.plumbing import Git

    monkeypatch.setattr(bir.cache.gitkeys, "GIT_KEYS_MIN_FILES", 0)
    monkeypatch.setattr(bir.cache.validation, "SNAPSHOT_MIN_FILES", 0)
    diffs: list[str | None] = []
    real = Git.diff_tracked
    monkeypatch.setattr(Git, "diff_tracked", lambda self, base, head, *a: diffs.append(head) or real(self, base, head, *a))
    _after_the_clock_moves(repo)
    first = validate(repo)
    assert not first.cached and first.summary.errors == 0 and diffs == [None]
    _no_listing(monkeypatch)
    again = validate(repo)
    assert again.cached and again.problems == first.problems


def test_a_file_changed_after_git_answered_never_holds_the_snapshot(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git answers while the register is listed; a file edited after that (while the files are read) is not in
    those answers. The snapshot taken with them must not describe the edited file as judged: the next run
    sees the edit and reports its problem, and so does `bir change`."""
    import bir.cache.gitkeys
    import bir.cache.validation
    from bir.git import worktree

    monkeypatch.setattr(bir.cache.gitkeys, "GIT_KEYS_MIN_FILES", 0)
    monkeypatch.setattr(bir.cache.validation, "SNAPSHOT_MIN_FILES", 0)
    _after_the_clock_moves(repo)
    real = worktree.take
    asked: list[object] = []

    def edit_then_take(root: Path, git: object, clock_ns: int, folders: object, answers: object = None) -> object:
        asked.append(answers)
        edit(repo, "party/acme.yaml", "name: Acme Supplies\n", "name: [broken\n")
        return real(root, git, clock_ns, folders, answers)  # type: ignore[arg-type]

    monkeypatch.setattr(worktree, "take", edit_then_take)
    first = validate(repo)
    assert asked and asked[0] is not None  # the answers git gave during the listing
    assert not first.cached and first.summary.errors == 0  # judged before the edit
    monkeypatch.setattr(worktree, "take", real)
    after = validate(repo)
    assert not after.cached and [(p.path, p.rule) for p in after.problems] == [("registry/party/acme.yaml", "yaml.syntax")]
    change = compute_change(repo, "HEAD", today=TODAY).to_dict()
    assert change["counts"] == {"added": 0, "modified": 1, "renamed": 0, "removed": 0}


def test_an_unchanged_run_after_bir_s_own_code_changed_is_judged_again(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last verdict is bir's code's as well as the files': the version stays the same between two commits
    of a checkout, so the status of bir's modules is part of the cache's key (`code_stamp`)."""
    import bir.cache.stamp

    assert not validate(repo).cached and validate(repo).cached
    stamp = bir.cache.stamp.code_stamp()
    assert stamp == bir.cache.stamp.code_stamp() and len(stamp) == 64
    monkeypatch.setattr(bir.cache.stamp, "_STAMP", ["another build of bir"])
    assert not validate(repo).cached and validate(repo).cached


# States of the register the change does not touch, committed on the base: `bir change` validates the head's
# whole register, so it reports them exactly as `bir validate` does (the pull request's job runs it alone).
UNTOUCHED_PROBLEMS: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "clean": (lambda r: None, []),
    "schema error": (lambda r: edit(r, "hardware/srv-02.yaml", "class: server\n", "class: server\ncolour: red\n"),
                     ["schema.unknown-field"]),
    "dangling reference": (lambda r: edit(r, "hardware/srv-02.yaml", "class: server\n",
                                          "class: server\nrelations:\n  - {type: depends_on, target: srv-99}\n"),
                           ["ref.unknown"]),
    "yaml syntax": (lambda r: write(r, "hardware/srv-09.yaml", "id: srv-09\nkind: hardware\nname: [unclosed\n"),
                    ["yaml.syntax"]),
}


@pytest.mark.parametrize("name", sorted(UNTOUCHED_PROBLEMS))
def test_the_change_validates_the_whole_register_as_validate_does(repo: Path, name: str) -> None:
    mutate, rules = UNTOUCHED_PROBLEMS[name]
    mutate(repo)
    base = commit(repo, f"Base with {name}")
    edit(repo, "party/acme.yaml", "Acme Supplies", "Acme Supplies BV")
    commit(repo, "Rename Acme")
    validated = run("validate", str(repo), "--format", "github")
    changed = run("change", "--root", str(repo), "--base", base, "--format", "github", "--markdown-out", str(repo.parent / "r.md"))
    annotations = [line for line in validated.out.splitlines() if line.startswith("::")]
    assert [a.split("title=")[1].split("::")[0] for a in annotations] == rules
    summary = validated.out.splitlines()[len(annotations)]
    assert summary == f"{7 + (name == 'yaml syntax')} records: {len(rules)} error(s), 0 warning(s)"
    verdict = "❌ 1 validation error on the head" if rules else "✅ No policy violations"
    assert changed.out.splitlines() == [*annotations, f"the head's register: {summary}", verdict]
    assert changed.code == validated.code == (1 if rules else 0)
    paragraphs = (repo.parent / "r.md").read_text().split("\n\n")
    assert paragraphs[2] == (f"Validated the head's whole register: {7 + (name == 'yaml syntax')} records, "
                             f"**{len(rules)} error(s)**, 0 warning(s).")
    data = json.loads(run("change", "--root", str(repo), "--base", base, "--format", "json").out)
    assert data["head_summary"] == json.loads(run("validate", str(repo), "--format", "json").out)["summary"]
