"""Depreciation conventions, each checked against figures computed by hand (stated beside each case), and
the presets against the figures GLPI's and Snipe-IT's own test suites publish."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bir.base.model import Record
from bir.point.point import at_worktree
from bir.reports import build_report
from bir.reports.depreciation import Schedule, calendar, days_30_360, days_glpi, declining_months, schedule, settings
from bir.reports.models import CostReport
from support import day, hardware, loaded_register

PROJECT = Path(__file__).resolve().parent.parent
D = Decimal


def sched(cost: str, life: int, start: str, **kw: Any) -> Schedule:
    base = Schedule("x", kw.pop("method", "straight_line"), D(cost), D(kw.pop("residual", "0")), life, day(start),
                    kw.pop("currency", "EUR"), **kw)
    return base


def books(s: Schedule, *days: str) -> list[str]:
    return [str(s.book_value(day(d))) for d in days]


def charges(s: Schedule) -> list[tuple[str, str]]:
    return [(p.booked.isoformat(), str(p.charge)) for p in s.periods]


def test_no_lag_at_a_period_end() -> None:
    """1,200.00 over 12 months from 1 January: 100.00 booked on the last day of each month, so the book value is
    1,100.00 on 31 January and 0.00 on 31 December (not a month later)."""
    s = sched("1200.00", 12, "2026-01-01")
    assert books(s, "2025-12-31", "2026-01-30", "2026-01-31", "2026-12-30", "2026-12-31") == [
        "1200.00", "1200.00", "1100.00", "100.00", "0.00"]
    assert s.fully_depreciated_on == s.end_of_useful_life == day("2026-12-31")
    assert {c for _, c in charges(s)} == {"100.00"}


def test_full_month_rounds_the_exact_fraction() -> None:
    """1,200.00 over 36 months from 15 January 2024, the month of the start in full: after k months the
    accumulated depreciation is 1,200 x k / 36 rounded half up (33.33, 66.67, 100.00, ...), so the charges are
    33.33 or 33.34 and add up to 1,200.00 exactly; done on 31 December 2026."""
    s = sched("1200.00", 36, "2024-01-15")
    assert books(s, "2024-01-30", "2024-01-31", "2024-02-29", "2024-03-31", "2026-11-30", "2026-12-31") == [
        "1200.00", "1166.67", "1133.33", "1100.00", "33.33", "0.00"]
    assert sum(p.charge for p in s.periods) == D("1200.00") and len(s.periods) == 36
    assert s.fully_depreciated_on == day("2026-12-31")


def test_mid_month() -> None:
    """1,200.00 over 12 months from 20 January, mid-month: January counts half (50.00), February to December
    100.00 each, January of the next year the other half (50.00)."""
    s = sched("1200.00", 12, "2026-01-20", first_period="mid_month")
    got = charges(s)
    assert got[0] == ("2026-01-31", "50.00") and got[-1] == ("2027-01-31", "50.00") and len(got) == 13
    assert {c for _, c in got[1:-1]} == {"100.00"}


@pytest.mark.parametrize(("day_count", "first", "last"), [
    ("actual", "38.71", "61.29"),  # 20-31 January is 12 of 31 days: 100 x 12 / 31 = 38.709...
    ("30/360", "36.67", "63.33"),  # 30/360: 20 January to 1 February is 30 + 1 - 20 = 11 days of 30
])
def test_daily_proration(day_count: str, first: str, last: str) -> None:
    s = sched("1200.00", 12, "2026-01-20", proration="daily", day_count=day_count)
    got = charges(s)
    assert got[0] == ("2026-01-31", first) and got[-1] == ("2027-01-31", last)
    assert {c for _, c in got[1:-1]} == {"100.00"}


def test_day_counts() -> None:
    assert days_30_360(day("2010-03-04"), day("2011-01-01")) == 297  # 360 - 60 - 3
    assert days_30_360(day("2024-01-31"), day("2024-03-31")) == 60  # a 31st start counts as the 30th, and so the end
    assert days_30_360(day("2010-08-02"), day("2011-05-01")) == 269
    assert days_glpi(day("2010-03-04"), day("2010-12-31")) == 297  # 9 months 27 days
    assert days_glpi(day("2010-08-02"), day("2011-05-01")) == 270  # 8 months 30 days: PHP borrows August's 31


def test_half_year_conventions() -> None:
    """1,200.00 over 12 months in a calendar fiscal year. half_year: the life starts on 1 July whenever in the
    year the asset started, so March to June book nothing and the year holds 600.00; a start in November
    catches up on 30 November (5 months of the half, 500.00). half_year_conditional: a start in the first half
    counts from 1 January (March books 300.00 at once), a start in the second half from 1 July."""
    s = sched("1200.00", 12, "2026-03-15", first_period="half_year")
    assert books(s, "2026-06-30", "2026-07-31", "2026-12-31", "2027-06-30") == ["1200.00", "1100.00", "600.00", "0.00"]
    s = sched("1200.00", 12, "2026-11-15", first_period="half_year")
    assert books(s, "2026-11-29", "2026-11-30", "2026-12-31", "2027-06-30") == ["1200.00", "700.00", "600.00", "0.00"]
    s = sched("1200.00", 12, "2026-03-15", first_period="half_year_conditional")
    assert books(s, "2026-03-31", "2026-12-31") == ["900.00", "0.00"]
    s = sched("1200.00", 12, "2026-09-10", first_period="half_year_conditional")
    assert books(s, "2026-12-31", "2027-06-30") == ["600.00", "0.00"]


def test_fiscal_year_end_and_yearly_booking() -> None:
    """A fiscal year ending 31 March, booked yearly, the start month in full: 1,200.00 over 12 months from
    15 January 2026 books January to March (3 of 12 months, 300.00) on 31 March 2026 and the rest (900.00) on
    31 March 2027; on 30 June 2026 the book value is 900.00."""
    s = sched("1200.00", 12, "2026-01-15", period="year", fiscal_year_end="03-31")
    assert charges(s) == [("2026-03-31", "300.00"), ("2027-03-31", "900.00")]
    assert books(s, "2026-03-30", "2026-06-30", "2027-03-31") == ["1200.00", "900.00", "0.00"]
    years = [(fy.year, str(o), str(c), str(e)) for fy, o, c, e in s.fiscal_years()]
    assert years == [(2026, "1200.00", "300.00", "900.00"), (2027, "900.00", "900.00", "0.00")]


@pytest.mark.parametrize(("value", "years", "fiscal_end", "use_date", "expected"), [
    # GLPI's tests/functional/InfocomTest.php, dataLinearAmortise (value, duration, fiscal date, use date)
    ("100000", 5, "12-31", "2010-03-04", [(2010, "16500.00", "83500.00"), (2011, "20000.00", "63500.00"),
                                          (2012, "20000.00", "43500.00"), (2013, "20000.00", "23500.00"),
                                          (2014, "20000.00", "3500.00"), (2015, "3500.00", "0.00")]),
    ("10000", 4, "05-01", "2010-08-02", [(2011, "1875.00", "8125.00"), (2012, "2500.00", "5625.00"),
                                         (2013, "2500.00", "3125.00"), (2014, "2500.00", "625.00"),
                                         (2015, "625.00", "0.00")]),
    ("10000", 4, "05-01", "2024-08-02", [(2025, "1875.00", "8125.00"), (2026, "2500.00", "5625.00"),
                                         (2027, "2500.00", "3125.00")]),  # the third case: the use date two years back
])
def test_glpi_preset_reproduces_glpis_published_figures(value: str, years: int, fiscal_end: str, use_date: str,
                                                         expected: list[tuple[int, str, str]]) -> None:
    """GLPI: annuity = value / duration a year; the first year prorated by the 30/360 days from the use date to
    the fiscal date (2010-03-04 to 12-31: 9 months 27 days = 297 days: 20,000 x 297 / 360 = 16,500; 2010-08-02 to
    05-01: 8 months 30 days = 270 days: 2,500 x 270 / 360 = 1,875); the last year takes the rest."""
    rec = Record("x", "hardware", "", hardware("x", status_dates={"in_use": use_date}, financial={
        "purchase_cost": int(value), "depreciation": {"preset": "glpi", "useful_life_months": years * 12,
                                                     "fiscal_year_end": fiscal_end}}))
    s = schedule(rec, _config())
    assert s is not None
    got = [(fy.year, str(charge), str(closing)) for fy, _o, charge, closing in s.fiscal_years()]
    assert got[:len(expected)] == expected


def test_glpi_first_case_on_the_standard_30_360() -> None:
    """The standard 30/360 (US) count gives GLPI's first case too (297 days to the end of 31 December); its second
    case counts 269 days there (2,500 x 269 / 360 = 1,868.06), one less than PHP's diff."""
    s = sched("100000", 60, "2010-03-04", period="year", proration="daily", day_count="30/360")
    assert charges(s)[0] == ("2010-12-31", "16500.00")
    s = sched("10000", 48, "2010-08-02", period="year", proration="daily", day_count="30/360", fiscal_year_end="04-30")
    assert charges(s)[0] == ("2011-04-30", "1868.06")


def _config() -> Any:
    return at_worktree(PROJECT, dt.date.today()).config


def _snipe(preset: str, purchase: str, **dep: Any) -> Schedule:
    rec = Record("x", "hardware", "", hardware("x", status_dates={"in_use": "2030-01-01"}, financial={
        "purchase_date": purchase, "purchase_cost": 4000, "depreciation": {"preset": preset, "useful_life_months": 36, **dep}}))
    s = schedule(rec, _config())
    assert s is not None and s.start == day(purchase)  # Snipe-IT counts from the purchase date
    return s


def test_snipeit_linear_reproduces_its_published_figures() -> None:
    """Snipe-IT's tests/Unit/DepreciationTest.php: 4,000 over 36 months bought a decade ago with a floor of 1,000
    is worth 1,000; with a 50 % floor, 2,000. By hand: months complete on the same day a month later, the value
    is 4,000 - 3,000 x months / 36 rounded to cents (3,916.67 after one month)."""
    assert _snipe("snipeit", "2016-11-28", residual_value=1000).book_value(day("2026-11-28")) == D("1000.00")
    assert _snipe("snipeit", "2016-11-28", residual_percent=50).book_value(day("2026-11-28")) == D("2000.00")
    s = _snipe("snipeit", "2024-01-15", residual_value=1000)
    assert books(s, "2024-02-14", "2024-02-15", "2027-01-14", "2027-01-15") == ["4000.00", "3916.67", "1083.33", "1000.00"]


def test_snipeit_half_year_presets() -> None:
    """Snipe-IT's half-year conventions over 3 years (4,000: 666.67 a half-year). "Always applied": bought 15
    March 2024, nothing by 30 June, half a year (666.67) on 31 December, then a half-year each 30 June and 31
    December; zero on 30 June 2027. "Applied with condition": bought in the first half, the first half-year
    counts (3,333.33 on 30 June 2024); bought in September, only the second. (Snipe-IT itself counts a
    first half as done from 1 June; the presets book it on 30 June.)"""
    s = _snipe("snipeit_half_year", "2024-03-15")
    assert books(s, "2024-06-30", "2024-12-31", "2025-06-30", "2027-06-29", "2027-06-30") == [
        "4000.00", "3333.33", "2666.67", "666.67", "0.00"]
    s = _snipe("snipeit_half_year_conditional", "2024-03-15")
    assert books(s, "2024-06-30", "2024-12-31", "2026-12-31") == ["3333.33", "2666.67", "0.00"]
    s = _snipe("snipeit_half_year_conditional", "2024-09-10")
    assert books(s, "2024-12-31", "2027-06-30") == ["3333.33", "0.00"]


def test_declining_balance_monthly_and_yearly() -> None:
    """Double declining over 5 months of 1,000.00: 400 (40 % of 1,000), 240, 144, then straight line is larger
    (108 > 86.40) for the last two. Yearly over 5 years of 10,000.00 from 1 January: 40 % a year, 4,000,
    2,400, 1,440, then straight line over the last two years (1,080 > 864)."""
    assert list(declining_months(D("1000.00"), D("0"), 5, D(2))) == [D(x) for x in ("400.00", "240.00", "144.00", "108.00", "108.00")]
    assert list(declining_months(D("1000.00"), D("100.00"), 5, D(2))) == [D(x) for x in ("400.00", "240.00", "144.00", "86.40", "29.60")]
    s = sched("10000.00", 60, "2024-01-01", method="declining_balance", rate=D(2), period="year")
    assert [c for _, c in charges(s)] == ["4000.00", "2400.00", "1440.00", "1080.00", "1080.00"]


def test_minor_units_of_the_currency() -> None:
    """100,000 yen over 3 months: JPY has no minor unit, so 33,333 / 33,334 / 33,333 (the exact thirds rounded)."""
    s = sched("100000", 3, "2026-01-01", currency="JPY")
    assert [c for _, c in charges(s)] == ["33333", "33334", "33333"]


def test_book_value_is_read_from_the_schedule_on_any_day() -> None:
    """For random conventions and days (fixed seed): the book value is the cost less the charges booked by that
    day, the charges add up to the depreciable amount, and each fiscal year closes on the book value of its
    last day."""
    rng = random.Random(20261128)
    for _ in range(120):
        kw: dict[str, Any] = {"period": rng.choice(["month", "half_year", "year"]),
                              "fiscal_year_end": rng.choice(["12-31", "03-31", "06-30", "05-01", "01-30"])}
        if rng.random() < 0.4:
            kw.update(proration="daily", day_count=rng.choice(["actual", "30/360", "30/360_glpi"]))
        else:
            kw["first_period"] = rng.choice(["full_month", "mid_month", "half_year", "half_year_conditional"])
        start = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(1500))
        s = sched(f"{rng.randrange(100, 100000)}.{rng.randrange(100):02d}", rng.randrange(1, 97), start.isoformat(),
                  residual=str(rng.choice([0, 10])), **kw)
        assert sum(p.charge for p in s.periods) == s.depreciable, kw
        assert all(p.charge >= 0 for p in s.periods), kw
        for _k in range(10):
            when = start + dt.timedelta(days=rng.randrange(-30, 3000))
            assert s.book_value(when) == s.cost - sum((p.charge for p in s.periods if p.booked <= when), D(0)), kw
        for fy, _opening, _charge, closing in s.fiscal_years():
            assert closing == s.book_value(fy.end), kw


def test_settings_layer_over_each_other() -> None:
    """Preset < register default < kind < class < cost centre < record."""
    config = _config()
    object.__setattr__(config, "defaults", {
        "depreciation": {"fiscal_year_end": "03-31", "useful_life_months": 99},
        "hardware": {"depreciation": {"method": "straight_line", "useful_life_months": 48}},
        "by_class": {"laptop": {"useful_life_months": 36}},
        "by_cost_centre": {"cc-us": {"preset": "snipeit_half_year"}},
    })
    rec = Record("x", "hardware", "", hardware("x", **{"class": "laptop"}, financial={"cost_centre": "cc-us", "purchase_cost": 10,
                                                                                    "depreciation": {"period": "year"}}))
    got = settings(rec, config)
    assert (got["method"], got["useful_life_months"], got["fiscal_year_end"], got["first_period"], got["period"], got["start"]) == (
        "straight_line", 36, "03-31", "half_year", "year", "purchase")


def test_cost_report_schedule_section(tmp_path: Path) -> None:
    """The cost report's depreciation line and its schedule per fiscal year, for a server of 6,000.00 over 60
    months from 1 February 2024 (100.00 a month): 2024 books 11 months (1,100.00), 2025 and 2026 twelve each."""
    reg = loaded_register(tmp_path / "reg", [hardware("srv-1", financial={"purchase_date": "2024-01-20", "purchase_cost": 6000})])
    rep = build_report("cost", reg, dt.date(2026, 2, 1))
    assert isinstance(rep, CostReport)
    line = rep.depreciation[0]
    assert (line.cost, line.accumulated, line.book_value, line.convention) == (
        D("6000.00"), D("2400.00"), D("3600.00"), "monthly, first period full month, fiscal year to 12-31")
    years = [(y.fiscal_year, str(y.opening), str(y.charge), str(y.closing)) for y in rep.depreciation_years]
    assert years[:3] == [(2024, "6000.00", "1100.00", "4900.00"), (2025, "4900.00", "1200.00", "3700.00"),
                         (2026, "3700.00", "1200.00", "2500.00")]
    assert years[-1] == (2029, "100.00", "100.00", "0.00")  # the 60th month is January 2029


def _from_periods(s: Schedule, days: list[dt.date]) -> tuple[Any, ...]:
    """What the reports read of a schedule, computed from its periods as the module documents it (the oracle
    of the straight line's closed form)."""
    periods = s.periods
    booked = [p.booked for p in periods]
    acc = [ZERO_ if not (n := sum(b <= d for b in booked)) else periods[n - 1].accumulated for d in days]
    first = next((p.booked for p in periods if p.accumulated >= s.depreciable), s.start)
    years: list[tuple[int, str, str, str]] = []
    book = s.cost  # a year opens on the book value the year before closed on, the first on the cost
    for p in periods:
        fy = calendar(s.fiscal_year_end).year_of(p.booked)
        if years and years[-1][0] == fy.year:
            y, opening, charge, _ = years[-1]
            years[-1] = (y, opening, str(D(charge) + p.charge), str(p.book_value))
        else:
            years.append((fy.year, str(book), str(ZERO_ + p.charge), str(p.book_value)))
        book = p.book_value
    return ([str(a) for a in acc], [str(s.cost - a) for a in acc], periods[-1].booked, first, years)


ZERO_ = D("0.00")  # money.ZERO, what accumulated() gives before the first period


def _closed(s: Schedule, days: list[dt.date]) -> tuple[Any, ...]:
    fresh = Schedule(*(getattr(s, f) for f in Schedule.__dataclass_fields__))  # nothing built yet
    acc = [fresh.accumulated(d) for d in days]
    years = [(fy.year, str(o), str(c), str(b)) for fy, o, c, b in fresh.fiscal_years()]
    return ([str(a) for a in acc], [str(fresh.book_value(d)) for d in days], fresh.end_of_useful_life,
            fresh.fully_depreciated_on, years)


def test_the_straight_line_closed_form_equals_its_periods() -> None:
    """The reports read a straight line's accumulated amount, book value, end of useful life, the day it is
    fully depreciated and its fiscal years from the closed form, without building the periods: on 3,000
    random schedules (every period, first-period rule, day count and fiscal year end; costs that are and are
    not whole minor units, residuals, three currencies) each equals what the periods give, text for text,
    and none of them built the periods."""
    rng = random.Random(20261202)
    checked = 0
    for _ in range(3000):
        period = rng.choice(["month", "half_year", "year"])
        proration = rng.choice(["monthly", "monthly", "daily"])
        first = rng.choice(["full_month", "mid_month", "half_year", "half_year_conditional", "anniversary"])
        if first == "anniversary" and proration != "daily":
            first = "full_month"
        currency = rng.choice(["EUR", "EUR", "JPY", "KWD"])
        cost = D(rng.choice(["1200.00", "999.99", "0.05", "1.00", "12345.678", "7", "100000.00", "33.333"]))
        residual = D(rng.choice(["0", "0", "100.00", "0.01", "999.99"]))
        start = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(0, 2500))
        s = Schedule("x", "straight_line", cost, min(residual, cost), rng.choice([1, 2, 5, 11, 12, 13, 36, 60, 61, 84]),
                     start, currency, D(2), period, proration, first, rng.choice(["actual", "30/360", "30/360_glpi"]),
                     rng.choice(["12-31", "06-30", "03-31", "02-28", "09-30"]))
        days = [start + dt.timedelta(days=rng.randrange(-40, 2900)) for _ in range(6)] + [start, start - dt.timedelta(days=1)]
        fresh = Schedule(*(getattr(s, f) for f in Schedule.__dataclass_fields__))
        closed = _closed(fresh, days)
        assert "periods" not in fresh.__dict__ or first == "anniversary"
        assert closed == _from_periods(s, days), s
        checked += 1
    assert checked == 3000


def test_the_calendar_tables_equal_month_start() -> None:
    """The month tables a schedule reads its periods' days from give what `month_start` gives, for every
    fiscal year end (a short February, the 30th and 31st) and ranges reaching before and after what the
    tables held, and `month_of` is the fiscal month a day falls in."""
    rng = random.Random(7)
    for end in ("12-31", "06-30", "02-28", "01-31", "09-30", "03-31"):
        cal = calendar(end)
        for _ in range(300):
            day_ = dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(0, 20000))
            fy = cal.year_of(day_)
            first, step = rng.randrange(-30, 30), rng.choice([1, 6, 12])
            months = range(first, first + step * rng.randrange(1, 15), step)
            assert cal.month_starts(fy, months) == [cal.month_start(fy, m) for m in months]
            assert cal.month_ends(fy, months) == [cal.month_start(fy, m) - dt.timedelta(days=1) for m in months]
            assert cal.month_of(fy, day_) == max(m for m in range(12) if cal.month_start(fy, m) <= day_)
