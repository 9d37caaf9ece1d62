"""Assignments: holdings now and the periods before, from the git history of assigned_to; bir assign / return."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bir.api import evaluation
from bir.reports.opsmodels import AssignmentReport
from support import commit, make_register, run, snapshot, write

LAPTOP = """\
id: lt-1
kind: hardware
name: Laptop 1
owner: team-it
status: in_use
status_dates: {in_use: "2025-01-10"}
class: laptop
asset_tag: NW-1
"""
PERSON = """\
id: {pid}
kind: party
name: {pid}
owner: team-it
status: {status}
status_dates: {dates}
party_type: person
"""
TEAM = "id: team-it\nkind: party\nname: IT\nowner: team-it\nstatus: active\nparty_type: team\n"
POOL = "id: fac-pool\nkind: facility\nname: Loan pool\nowner: team-it\nstatus: active\nfacility_type: room\n"


def person(pid: str, retired: bool = False) -> str:
    dates = '{active: "2020-01-01", retired: "2026-03-31"}' if retired else '{active: "2020-01-01"}'
    extra = "retirement: {reason: left}\n" if retired else ""
    return PERSON.format(pid=pid, status="retired" if retired else "active", dates=dates) + extra


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_register(tmp_path / "reg", records={"hardware/lt-1.yaml": LAPTOP, "party/team-it.yaml": TEAM,
                                                    "party/ann.yaml": person("ann"), "party/bob.yaml": person("bob"),
                                                    "party/cas.yaml": person("cas", retired=True), "facility/fac-pool.yaml": POOL},
                         git_init=True)
    commit(root, "Add the laptop", date="2025-01-10T09:00:00+00:00")
    return root


def _report(root: Path, as_of: str | None = None) -> AssignmentReport:
    rep = evaluation(root, as_of=as_of).report("assignments")
    assert isinstance(rep, AssignmentReport)
    return rep


def test_history_of_hand_outs_and_returns(repo: Path) -> None:
    assert run("assign", "lt-1", "ann", "--date", "2025-02-01", "--accepted-on", "2025-02-01",
               "--acceptance", "HO-1", "--root", str(repo))[0] == 0
    commit(repo, "Hand lt-1 to Ann", "2025-02-03T09:00:00+00:00")
    assert run("return", "lt-1", "--date", "2025-06-30", "--root", str(repo))[0] == 0
    commit(repo, "lt-1 back", "2025-07-01T09:00:00+00:00")
    assert run("assign", "lt-1", "fac-pool", "--date", "2025-07-02", "--root", str(repo))[0] == 0  # a location: no acceptance
    commit(repo, "lt-1 to the loan pool", "2025-07-02T09:00:00+00:00")
    write(repo, "hardware/lt-1.yaml", (repo / "registry/hardware/lt-1.yaml").read_text().replace("fac-pool", "bob"))
    commit(repo, "lt-1 to Bob, edited by hand", "2025-09-15T09:00:00+00:00")
    rep = _report(repo)
    assert rep.history == "git" and rep.warnings == []
    # the hand-outs dated by `bir assign --date` and `bir return --date`; Bob's (by hand, no date) on its commit day
    assert [(p.holder, p.start, p.end, p.days) for p in rep.periods] == [
        ("ann", dt.date(2025, 2, 1), dt.date(2025, 6, 30), 149),
        ("fac-pool", dt.date(2025, 7, 2), dt.date(2025, 9, 15), 75),
        ("bob", dt.date(2025, 9, 15), None, (dt.date.today() - dt.date(2025, 9, 15)).days),
    ]
    assert [len(p.commit) for p in rep.periods] == [10, 10, 10]
    assert [(h.holder, h.record, h.acceptance) for h in rep.holdings] == [("bob", "lt-1", "missing")]
    assert {h.holder: (h.holds, h.held_before) for h in rep.holders} == {"ann": (0, 1), "bob": (1, 0), "fac-pool": (0, 1)}
    # as of a day in the past: the register and the history as they were then
    then = _report(repo, "2025-03-01")
    assert [(p.holder, p.start, p.end) for p in then.periods] == [("ann", dt.date(2025, 2, 1), None)]
    assert [(h.holder, h.since, h.acceptance) for h in then.holdings] == [("ann", dt.date(2025, 2, 1), "accepted")]
    risk = evaluation(repo).report("risk")
    assert [(f.rule, f.record) for f in risk.findings if f.rule.startswith("handout.")] == [  # type: ignore[attr-defined]
        ("handout.unaccepted", "lt-1")]


def test_uncommitted_hand_out_and_no_git(repo: Path, tmp_path: Path) -> None:
    assert run("assign", "lt-1", "ann", "--date", "2025-02-01", "--accepted-on", "2025-02-01", "--root", str(repo))[0] == 0
    rep = _report(repo)
    assert [(p.holder, p.start, p.end, p.commit) for p in rep.periods] == [("ann", dt.date(2025, 2, 1), None, "")]
    plain = tmp_path / "plain"
    import shutil

    shutil.copytree(repo, plain, ignore=shutil.ignore_patterns(".git"))
    rep = _report(plain)
    assert rep.history == "none"
    assert rep.warnings and rep.warnings[-1].startswith("no git history (") and "current holdings only" in rep.warnings[-1]
    assert [(h.holder, h.since) for h in rep.holdings] == [("ann", dt.date(2025, 2, 1))]


def test_assign_refuses_what_the_policy_and_the_lifecycle_forbid(repo: Path) -> None:
    before = snapshot(repo)
    code, _out, err = run("assign", "lt-1", "ann", "--root", str(repo))
    assert code == 2 and "asks the holder of a laptop to accept it" in err
    code, _out, err = run("assign", "lt-1", "cas", "--accepted-on", "2026-01-01", "--root", str(repo))
    assert code == 2 and "cas is retired" in err
    code, _out, err = run("assign", "lt-1", "team-it-x", "--root", str(repo))
    assert code == 2 and "'team-it-x' is not a record" in err
    code, _out, err = run("assign", "lt-1", "lt-1", "--root", str(repo))
    assert code == 2 and "'lt-1' is a hardware" in err
    code, _out, err = run("assign", "lt-1", "ann", "--accepted-on", "2026-02-30", "--root", str(repo))
    assert code == 2 and "'2026-02-30' is not a date" in err
    code, _out, err = run("return", "lt-1", "--root", str(repo))
    assert code == 2 and "not assigned to anyone" in err
    assert snapshot(repo) == before  # nothing written by any refusal
    stolen = 'status_dates: {in_use: "2025-01-10", stolen: "2025-03-01"}\nloss: {date: "2025-03-01", report: "P-1"}'
    write(repo, "hardware/lt-1.yaml", LAPTOP.replace("status: in_use", "status: stolen").replace(
        'status_dates: {in_use: "2025-01-10"}', stolen))
    code, _out, err = run("assign", "lt-1", "bob", "--accepted-on", "2026-01-01", "--root", str(repo))
    assert code == 2 and "lt-1 is stolen" in err


def test_leaver_still_holding_a_device(repo: Path) -> None:
    write(repo, "hardware/lt-1.yaml", LAPTOP + "assigned_to: cas\nassignment: {accepted_on: \"2025-01-10\"}\n")
    risk = evaluation(repo).report("risk")
    got = [(f.rule, f.record, f.message) for f in risk.findings if f.rule.startswith("handout.")]  # type: ignore[attr-defined]
    assert got == [("handout.holder_inactive", "lt-1", "lt-1 is assigned to cas, who is retired")]


def test_demo_assignments() -> None:
    from bir.point.point import at_worktree
    from bir.reports import evaluate

    root = Path(__file__).resolve().parent.parent
    ev = evaluate(at_worktree(root, dt.date(2026, 11, 28)))
    rep = ev.report("assignments")
    assert isinstance(rep, AssignmentReport)
    assert len(rep.holdings) == 70
    assert sorted(h.record for h in rep.holdings if h.acceptance == "missing") == ["lt-0031", "lt-0058", "ph-0002"]
    assert [(h.holder, h.holder_kind) for h in rep.holdings if h.record == "lt-0059"] == [("fac-bld-ams-hq", "facility")]
    risk = ev.report("risk")
    assert sorted((f.rule, f.record) for f in risk.findings if f.rule.startswith("handout.")) == [  # type: ignore[attr-defined]
        ("handout.holder_inactive", "lt-0057"), ("handout.unaccepted", "lt-0031"), ("handout.unaccepted", "lt-0058"),
        ("handout.unaccepted", "ph-0002")]


def test_a_holder_written_another_way_is_still_seen(repo: Path) -> None:
    """The byte pre-filter never hides a change: a quoted key is parsed, not skipped."""
    write(repo, "hardware/lt-1.yaml", LAPTOP + 'assignment: {accepted_on: "2025-03-01"}\n"assigned_to": ann\n')
    commit(repo, "Hand lt-1 to Ann", "2025-03-01T09:00:00+00:00")
    write(repo, "hardware/lt-1.yaml", LAPTOP + 'assignment: {accepted_on: "2025-05-01"}\n"assigned_to": bob\n')
    commit(repo, "Hand lt-1 to Bob", "2025-05-01T09:00:00+00:00")
    rep = _report(repo)
    assert [(p.holder, p.start, p.end) for p in rep.periods] == [("ann", dt.date(2025, 3, 1), dt.date(2025, 5, 1)),
                                                                   ("bob", dt.date(2025, 5, 1), None)]
