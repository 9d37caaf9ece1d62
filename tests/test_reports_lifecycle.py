"""The lifecycle report: counts, ages, events within horizons, refresh plan, reuse and retirement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bir.base.model import Register
from bir.reports import all_reports, build_report
from bir.reports.models import DecisionReport, LicenceReport, LifecycleReport
from support import TEAM, commit, git, hardware, loaded_register, make_register, run, service, write_records

AS_OF = dt.date(2026, 11, 28)


def laptop(rid: str, status: str, bought: str, **extra: Any) -> dict[str, Any]:
    dates = {"in_stock": bought} if status == "in_stock" else {"in_use": bought}
    return hardware(rid, **{"class": "laptop", "status": status, "status_dates": dates,
                            "financial": {"purchase_date": bought, "purchase_cost": 1200.00}, **extra})


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Register:
    return loaded_register(tmp_path_factory.mktemp("life") / "reg", [
        service("svc-a"),
        laptop("lt-old", "in_use", "2023-01-15"),                     # 36 months end 2026-01-15: retire
        laptop("lt-stock", "in_stock", "2025-06-01"),                  # reuse candidate
        laptop("lt-stock-old", "in_stock", "2022-01-01"),              # past useful life: not reusable
        laptop("lt-soon", "in_use", "2024-01-10", warranty_end="2026-12-20", last_verified="2025-12-10"),
        hardware("srv-1", end_of_support="2027-02-01",
                 financial={"purchase_date": "2024-01-20", "purchase_cost": 6000.00}),
        {"id": "ctr-1", "kind": "contract", "name": "c", "owner": "team-it", "status": "active",
         "status_dates": {"active": "2024-01-01"}, "contract_type": "support", "start": "2024-01-01", "end": "2027-03-31",
         "notice_period_days": 90, "last_verified": "2026-10-01",
         "financial": {"recurring_costs": [{"amount": 1200.00, "period": "yearly"}]}},
        {"id": "lic-1", "kind": "licence", "name": "l", "owner": "team-it", "status": "active",
         "status_dates": {"active": "2024-01-01"}, "metric": "per_user", "quantity": 10, "term": {"end": "2027-10-01"},
         "last_verified": "2026-10-01", "true_up_unit_cost": 10.00},
    ])


@pytest.fixture(scope="module")
def report(reg: Register) -> LifecycleReport:
    rep = build_report("lifecycle", reg, AS_OF)
    assert isinstance(rep, LifecycleReport)
    return rep


def test_counts_and_ages(report: LifecycleReport) -> None:
    counts = {(c.kind, c.state): c.count for c in report.counts}
    assert counts[("hardware", "in_use")] == 3 and counts[("hardware", "in_stock")] == 2 and counts[("party", "active")] == 1
    ages = {(a.kind, a.age): a.records for a in report.ages}
    assert ages[("hardware", "3-4y")] == ("lt-old",) and ages[("hardware", "4-5y")] == ("lt-stock-old",)


def test_events_within_horizons(report: LifecycleReport) -> None:
    got = [(e.date.isoformat(), e.days, e.horizon, e.rule, e.record) for e in report.events]
    assert got == [
        ("2026-12-10", 12, 30, "event.verification_due", "lt-soon"),
        ("2026-12-20", 22, 30, "event.warranty_end", "lt-soon"),
        # 36 months from 10 January 2024, January in full: the last is December 2026
        ("2026-12-31", 33, 90, "event.end_of_useful_life", "lt-soon"),
        ("2026-12-31", 33, 90, "event.notice_deadline", "ctr-1"),
        ("2027-02-01", 65, 90, "event.end_of_support", "srv-1"),
        ("2027-03-31", 123, 365, "event.contract_end", "ctr-1"),
        ("2027-10-01", 307, 365, "event.licence_expiry", "lic-1"),
        # last verified 2026-10-01 + 365 days
        *[("2027-10-01", 307, 365, "event.verification_due", r)
          for r in ("ctr-1", "lic-1", "lt-old", "lt-stock", "lt-stock-old", "srv-1", "svc-a")],
    ]


def test_refresh_reuse_retirement(report: LifecycleReport) -> None:
    assert [(r.quarter, r.record, r.reason, r.decision) for r in report.refresh] == [
        ("overdue", "lt-old", "end of useful life", "reuse"),
        ("2026-Q4", "lt-soon", "end of useful life", "replace"),
        ("2027-Q1", "srv-1", "end of support", "replace"),
    ]
    # in stock since 1 June 2025: June 2025 to October 2026 booked by 28 November, 17 of 36 months: 1200 x 17 / 36
    assert [(r.record, r.book_value) for r in report.reuse] == [("lt-stock", Decimal("633.33"))]
    assert [(r.record, r.reasons, r.decision) for r in report.retirement] == [("lt-old", ("past useful life",), "reuse")]


def test_decisions_and_licences(reg: Register) -> None:
    reports = all_reports(reg, AS_OF)
    assert set(reports) == {"lifecycle", "cost", "risk", "licences", "decisions", "assignments", "audits", "maintenance",
                            "vulnerabilities", "budget"}
    dec = reports["decisions"]
    assert isinstance(dec, DecisionReport)
    assert [(d.record, d.recommendation, d.reuse_candidates) for d in dec.decisions] == [
        ("lic-1", "cancel", ()), ("lt-old", "reuse", ("lt-stock",))]
    assert dec.decisions[0].deadline == dt.date(2027, 10, 1)  # no notice period: the term's end
    lic = reports["licences"]
    assert isinstance(lic, LicenceReport)
    p = lic.positions[0]
    assert (p.licence, p.consumption, p.position, p.unused, p.waste) == ("lic-1", 0, "under", 10, Decimal("100.00"))


def test_future_date_projects_today(reg: Register) -> None:
    later = build_report("lifecycle", reg, dt.date(2027, 2, 2))
    assert isinstance(later, LifecycleReport)
    assert [r.record for r in later.retirement] == ["lt-old", "lt-soon", "srv-1"]


def test_cli_report_formats(reg: Register, tmp_path: Path) -> None:
    for fmt in ("text", "markdown", "json", "csv"):
        code, _out, err = run("report", "lifecycle", "--root", reg.root, "--as-of", "2030-01-01", "--format", fmt)
        assert code == 0, err
    code, _out, err = run("report", "lifecycle", "--root", reg.root, "--as-of", "2026-13-01")
    assert code == 2 and "not a date" in err


def test_past_date_uses_the_register_of_that_day(tmp_path: Path) -> None:
    from bir.reports.depreciation import add_months

    def lic(quantity: int) -> dict[str, Any]:
        return {"id": "lic-1", "kind": "licence", "name": "l", "owner": "team-it", "status": "active",
                "status_dates": {"active": "2024-01-01"}, "metric": "per_device", "quantity": quantity,
                "true_up_unit_cost": 10.00}

    devices = [hardware(f"lt-{i}", **{"class": "laptop", "relations": [{"type": "licensed_by", "target": "lic-1"}]})
               for i in (1, 2)]
    root = make_register(tmp_path / "reg", records=[TEAM, lic(1), *devices], git_init=True)
    commit(root, "register", date="2026-01-10T12:00:00+00:00")
    write_records(root, [lic(2)])
    git(root, "commit", "-q", "-am", "true-up", date="2026-06-01T12:00:00+00:00")
    code, out, err = run("report", "licences", "--root", root, "--as-of", "2026-03-01", "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[1].startswith("positions,lic-1,,per_device,1,2,over,1,0,10.00,10.00,0.00,")
    future = add_months(dt.date.today(), 1).isoformat()
    _code, out, _err = run("report", "licences", "--root", root, "--as-of", future, "--format", "csv")
    assert out.splitlines()[1].startswith("positions,lic-1,,per_device,2,2,compliant,0,0,")


def test_invalid_records_are_left_out_with_a_warning(tmp_path: Path) -> None:
    root = make_register(tmp_path / "reg", records=[TEAM, hardware("srv-ok"), hardware("srv-bad", status="flying")])
    code, out, err = run("report", "lifecycle", "--root", root, "--as-of", "2030-01-01", "--format", "csv")
    assert code == 0
    assert "validation error(s): the records that have them are left out; run `bir validate`" in err
    assert "counts,hardware,in_use,1,srv-ok," in out
