"""History, the change log and time travel, on a real git repository with fixed dates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bir.api import validate
from bir.git.plumbing import Git
from bir.history.trail import all_history, change_log, pr_number, record_history
from bir.point.point import commit_as_of, open_point
from support import RECORDS, commit, git, make_register, run


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = make_register(tmp_path_factory.mktemp("hist") / "reg", records=RECORDS, git_init=True)
    commit(r, "Initial register", date="2026-01-05T10:00:00+00:00")
    path = r / "registry/hardware/srv-02.yaml"
    path.write_text(path.read_text().replace("name: Server 02", "name: Storage server"))
    commit(r, "Rename the storage server (#11)\n\nChange-Type: standard\nChange-Reason: clarity\n",
           date="2026-02-10T23:30:00+01:00")
    git(r, "mv", "registry/hardware/srv-02.yaml", "registry/hardware/srv-store.yaml")
    new = r / "registry/hardware/srv-store.yaml"
    new.write_text(new.read_text().replace("id: srv-02", "id: srv-store"))
    commit(r, "Merge pull request #12 from team/rename\n\nNew id", date="2026-03-01T08:00:00+00:00")
    (r / "README.md").write_text("not a record\n")
    commit(r, "Docs only", date="2026-03-02T08:00:00+00:00")
    return r


def test_pr_number() -> None:
    assert [pr_number(s) for s in ("Fix (#12)", "Merge pull request #7 from a/b", "Fix #3 later", "x")] == [12, 7, None, None]


def test_history_follows_renames(repo: Path) -> None:
    entries = record_history(repo, "srv-store")
    assert [(e.change, e.path, e.pr, e.date, e.change_type) for e in entries] == [
        ("renamed", "registry/hardware/srv-store.yaml", 12, "2026-03-01T08:00:00+00:00", None),
        ("modified", "registry/hardware/srv-02.yaml", 11, "2026-02-10T23:30:00+01:00", "standard"),
        ("added", "registry/hardware/srv-02.yaml", None, "2026-01-05T10:00:00+00:00", None),
    ]
    assert [(f.path, f.old, f.new) for f in entries[0].fields or []] == [("id", "srv-02", "srv-store")]
    assert [(f.path, f.old, f.new) for f in entries[1].fields or []] == [("name", "Server 02", "Storage server")]
    assert entries[0].author == "Alice Admin"
    assert record_history(repo, "srv-02") == entries  # the old id leads to the same history


def test_all_history_one_pass(repo: Path) -> None:
    history = all_history(repo)
    assert sorted(history) == sorted([Path(p).stem for p in RECORDS] + ["srv-store"])
    assert all(e.fields is None for v in history.values() for e in v)
    assert len(history["srv-01"]) == 1


def test_unknown_record(repo: Path) -> None:
    with pytest.raises(Exception, match="no history for 'nope'"):
        record_history(repo, "nope")


def test_change_log(repo: Path) -> None:
    log = change_log(repo)
    assert [(e.short == e.commit[:7], e.subject.split("\n")[0], e.pr, e.record.get("change_type"), e.summary()) for e in log] == [
        (True, "Merge pull request #12 from team/rename", 12, None, {"added": 0, "modified": 0, "renamed": 1, "removed": 0}),
        (True, "Rename the storage server (#11)", 11, "standard", {"added": 0, "modified": 1, "renamed": 0, "removed": 0}),
        (True, "Initial register", None, None, {"added": 7, "modified": 0, "renamed": 0, "removed": 0}),
    ]
    assert [r.to_dict() for r in log[0].records] == [{"change": "renamed", "id": "srv-store", "kind": "hardware", "old_id": "srv-02"}]
    assert [e.pr for e in change_log(repo, since="2026-02-10")] == [12, 11]
    assert change_log(repo, since="2026-03-02") == []


def test_cli_history_and_log(repo: Path) -> None:
    code, out, err = run("history", "--root", repo, "srv-store")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith(" 2026-03-01 Alice Admin (#12): renamed registry/hardware/srv-store.yaml from "
                             "registry/hardware/srv-02.yaml — Merge pull request #12 from team/rename")
    assert lines[1] == "    id: srv-02 -> srv-store"
    code, out, err = run("log", "--root", repo, "--format", "json", "--since", "2026-02-01")
    assert [e["pr"] for e in json.loads(out)] == [12, 11]


AS_OF = [
    # (date, records at the end of that day (None: before the first commit), name of srv-02 then)
    ("2026-01-04", None, None),
    ("2026-01-05", 7, "Server 02"),
    ("2026-02-10", 7, "Storage server"),  # 23:30 +01:00 is still the 10th in the commit's own time zone
    ("2026-02-28", 7, "Storage server"),
    ("2026-03-01", 7, None),
]


@pytest.mark.parametrize(("day", "count", "name"), AS_OF)
def test_as_of(repo: Path, day: str, count: int | None, name: str | None) -> None:
    sha = commit_as_of(Git(repo), dt.date.fromisoformat(day))
    assert (sha is None) == (count is None)
    result = open_point(repo, as_of=day).load()
    assert len(result.register) == (count or 0)
    rec = result.register.get("srv-02")
    assert (rec.name if rec else None) == name


def test_validate_as_of(repo: Path) -> None:
    v = validate(repo, as_of="2026-02-28")
    assert (v.summary.records, v.summary.errors) == (7, 0)
    before = validate(repo, as_of="2025-12-31")
    assert [p.rule for p in before.problems] == ["history.before-first-commit"]
    with pytest.raises(Exception, match="not a date"):
        validate(repo, as_of="yesterday")
