"""Depreciation by convention: a charge schedule per record, and the book value on any date read from it.

Settings come from `bir.yaml` and the record, each layer over the one before: a built-in preset (when one
is named), `defaults.depreciation` (the register's conventions), `defaults.<kind>.depreciation`,
`defaults.by_class.<class>`, `defaults.by_cost_centre.<party>`, then the record's own
`financial.depreciation`.

- `start`: `in_service` (default: the in-service date, else the purchase date) or `purchase` (the purchase
  date, else the in-service date).
- `period`: when charges are booked: `month` (default), `half_year` or `year`, all of the fiscal year that
  ends on `fiscal_year_end` (`MM-DD`, default `12-31`; fiscal months start the day after it, so with the
  default they are calendar months). A period's charge is booked on its last day; the book value on a day
  is the cost less the charges booked by the end of that day.
- `proration`: how the first period counts. `monthly` (default) by the `first_period` convention:
  `full_month` (the month of the start counts in full), `mid_month` (it counts half, and the month after
  the life's last full month the other half), `half_year` (the life starts in the middle of the first
  fiscal year, whenever the asset started: half a year in the first year), `half_year_conditional` (the
  life starts at the beginning of the fiscal half-year the start falls in: a start in the second half
  counts half a year in the first year) or `anniversary` (months run from the start day, each complete on
  the same day of the next month and booked then). `daily`: the first period counts the days from the
  start to its end by `day_count`: `actual` (days of the period), `30/360` (30/360 US, the bond basis:
  each month 30 days) or `30/360_glpi` (GLPI's count: the months and days of the calendar difference from
  the start to the fiscal year end, that day itself not counted, the days borrowing the length of the
  start month as PHP's DateTime::diff does; a month 30 days).
- Straight line: the depreciable amount (cost less the residual value, or `residual_percent` of the cost)
  over `useful_life_months`, accumulated as an exact fraction of the life and rounded half up to the
  currency's minor unit at each period end, so the charges add up to the depreciable amount exactly and
  the book value is the nearest amount to the exact one. 1,200.00 over 12 months from 1 January is 100.00
  a month, booked on the last day of each month: fully depreciated on 31 December.
- Declining balance: each period the book value times `rate` / life (per month of life in the period),
  switching to straight line over the remaining life as soon as that is larger, never below the residual;
  the period in which the life ends takes the rest. Rounded half up per period.
- A useful life of 0 months writes the asset down to its residual value on its start date. `none`: the book
  value stays the purchase cost.

Named presets reproduce the peers' figures (see PRESETS): `glpi` (GLPI's linear amortisation: yearly
annuities, the first year prorated by days on GLPI's 30/360 count to the fiscal year end), `snipeit`
(Snipe-IT's linear: whole months from the purchase date), `snipeit_half_year` and
`snipeit_half_year_conditional` (Snipe-IT's half-year conventions, "always applied" and "applied with
condition"), and `bir` (the default conventions).

Over 400 lines on purpose: the conventions (calendars, day counts, first-period rules, declining
balance) are one schedule builder; they are tested together against the peers' published figures.
"""

from __future__ import annotations

import bisect
import calendar as _calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from bir.base.model import Record, to_decimal
from bir.reports.money import ZERO, normalised, quantum, round_to

if TYPE_CHECKING:
    from bir.base.config import Config

METHODS = ("straight_line", "declining_balance", "none")
PERIODS = {"month": 1, "half_year": 6, "year": 12}
FIRST_PERIODS = ("full_month", "mid_month", "half_year", "half_year_conditional", "anniversary")
DAY_COUNTS = ("actual", "30/360", "30/360_glpi")
PRESETS: dict[str, dict[str, Any]] = {
    "bir": {"start": "in_service", "period": "month", "proration": "monthly", "first_period": "full_month"},
    "glpi": {"method": "straight_line", "start": "in_service", "period": "year", "proration": "daily",
             "day_count": "30/360_glpi"},
    "snipeit": {"method": "straight_line", "start": "purchase", "period": "month", "proration": "monthly",
                "first_period": "anniversary"},
    "snipeit_half_year": {"method": "straight_line", "start": "purchase", "period": "half_year", "proration": "monthly",
                          "first_period": "half_year"},
    "snipeit_half_year_conditional": {"method": "straight_line", "start": "purchase", "period": "half_year",
                                      "proration": "monthly", "first_period": "half_year_conditional"},
}
DEFAULTS: dict[str, Any] = {"method": "none", "rate": 2, "fiscal_year_end": "12-31", **PRESETS["bir"], "day_count": "actual"}
_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DAY = dt.timedelta(days=1)


def days_in_month(year: int, month: int) -> int:
    return 29 if month == 2 and _calendar.isleap(year) else _DAYS[month]


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus whole months, clamped to the last day of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, days_in_month(year, month)))


def months_completed(start: dt.date, as_of: dt.date) -> int:
    """Whole months from `start` completed on or before `as_of`, a month complete on the same day of the
    next month (0 before the first one is)."""
    if as_of < start:
        return 0
    n = (as_of.year - start.year) * 12 + as_of.month - start.month
    if add_months(start, n) > as_of:
        n -= 1
    return max(n, 0)


def days_30_360(a: dt.date, b: dt.date) -> int:
    """Days from `a` to `b` on the 30/360 US (bond) basis: a day-31 start counts as the 30th, and so does a
    day-31 end when the start is the 30th or 31st."""
    d1, d2 = min(a.day, 30), b.day
    if d2 == 31 and d1 == 30:
        d2 = 30
    return 360 * (b.year - a.year) + 30 * (b.month - a.month) + d2 - d1


def days_glpi(a: dt.date, b: dt.date) -> int:
    """GLPI's 30/360: the months and days from `a` to `b` as PHP's DateTime::diff gives them (a negative
    day remainder borrows the length of `a`'s month), a month counted as 30 days, years ignored."""
    months = (b.year - a.year) * 12 + b.month - a.month
    days = b.day - a.day
    if days < 0:
        days += days_in_month(a.year, a.month)
        months -= 1
    return (months % 12) * 30 + days


def start_date(record: Record, start: str = "in_service") -> dt.date | None:
    """The start of depreciation and of the useful life: the in-service date, else the purchase date (or
    the other way round with `start: purchase`)."""
    in_service = record.status_date("in_use") or record.status_date("active")
    purchase = record.date("financial.purchase_date")
    return (purchase or in_service) if start == "purchase" else (in_service or purchase)


class Period(NamedTuple):
    """One period of a charge schedule: its days, the charge booked, and the figures after it (a tuple: a
    register's schedules hold millions, and a tuple is made several times faster than an object)."""

    start: dt.date
    end: dt.date
    booked: dt.date  # the day the charge is booked (its last day; the next one for `anniversary`)
    charge: Decimal
    accumulated: Decimal
    book_value: Decimal


@dataclass(frozen=True, slots=True)
class FiscalYear:
    """A fiscal year: its last day and the record's figures over it."""

    year: int  # the calendar year its last day falls in
    start: dt.date
    end: dt.date


class FiscalCalendar:
    """Fiscal years ending on a month and day; fiscal months start the day after that day each month. The
    same few dates recur across a register's records, so lookups are remembered (`calendar` shares one
    calendar per year end)."""

    def __init__(self, end: str) -> None:
        month, day = (int(x) for x in end.split("-"))
        self.month, self.day = month, day
        self._years: dict[dt.date, FiscalYear] = {}
        self._starts: dict[int, dt.date] = {}
        self._first = 0  # the month index of _table[0]
        self._table: list[dt.date] = []  # month starts of consecutive month indexes
        self._ends: list[dt.date] = []  # the day before each

    def year_end(self, year: int) -> dt.date:
        return dt.date(year, self.month, min(self.day, days_in_month(year, self.month)))

    def year_of(self, day: dt.date) -> FiscalYear:
        got = self._years.get(day)
        if got is None:
            end = self.year_end(day.year)
            if end < day:
                end = self.year_end(day.year + 1)
            start = self.year_end(end.year - 1) + dt.timedelta(days=1)
            got = self._years[day] = FiscalYear(end.year, start, end)
        return got

    def month_start(self, fy: FiscalYear, m: int) -> dt.date:
        """The first day of fiscal month `m` of fiscal year `fy` (any integer; 0 is its first month): the day
        after the fiscal month-end day (the fiscal year's end day, or the month's last day when shorter)."""
        index = fy.end.year * 12 + self.month - 1 - 12 + m
        got = self._starts.get(index)
        if got is None:
            year, month = divmod(index, 12)
            got = self._starts[index] = dt.date(year, month + 1, min(self.day, days_in_month(year, month + 1))) + dt.timedelta(days=1)
        return got

    def _covered(self, fy: FiscalYear, lo: int, hi: int) -> int:
        """The position in the tables of fiscal month 0 of `fy`, the tables made to cover months `lo`..`hi`."""
        base = fy.end.year * 12 + self.month - 13
        first, last = self._first, self._first + len(self._table) - 1
        if not self._table or base + lo < first or base + hi > last:
            first = min(base + lo, first) if self._table else base + lo
            last = max(base + hi, last) if self._table else base + hi
            self._first = first
            self._table = [self._start_of(index) for index in range(first, last + 1)]
            self._ends = [d - _DAY for d in self._table]
        return base - self._first

    def _start_of(self, index: int) -> dt.date:
        year, month = divmod(index, 12)
        return dt.date(year, month + 1, min(self.day, days_in_month(year, month + 1))) + _DAY

    def month_starts(self, fy: FiscalYear, months: range) -> list[dt.date]:
        """`month_start(fy, m)` for each m of `months` (a non-empty range with a positive step)."""
        at = self._covered(fy, months.start, months[-1])
        return self._table[at + months.start:at + months[-1] + 1:months.step]

    def month_ends(self, fy: FiscalYear, months: range) -> list[dt.date]:
        """The day before `month_start(fy, m)` for each m of `months` (a non-empty range with a positive step)."""
        at = self._covered(fy, months.start, months[-1])
        return self._ends[at + months.start:at + months[-1] + 1:months.step]

    def month_of(self, fy: FiscalYear, day: dt.date) -> int:
        """The fiscal month of `fy` (0 to 11) that `day`, a day of `fy`, falls in."""
        at = self._covered(fy, 1, 12)
        return bisect.bisect_right(self._table, day, at + 1, at + 12) - (at + 1)


_CALENDARS: dict[str, FiscalCalendar] = {}


def calendar(end: str) -> FiscalCalendar:
    """The fiscal calendar of year end `end` (MM-DD), one per year end."""
    got = _CALENDARS.get(end)
    if got is None:
        got = _CALENDARS[end] = FiscalCalendar(end)
    return got


@dataclass(frozen=True)
class Schedule:
    """A record's depreciation in the record's currency: its settings and its charge schedule."""

    record: str
    method: str
    cost: Decimal
    residual: Decimal
    life_months: int
    start: dt.date
    currency: str
    rate: Decimal = Decimal(2)
    period: str = "month"
    proration: str = "monthly"
    first_period: str = "full_month"
    day_count: str = "actual"
    fiscal_year_end: str = "12-31"
    preset: str = ""

    @cached_property
    def periods(self) -> tuple[Period, ...]:
        """The charge schedule, built when first asked for (a report that needs only the settings or the
        start never pays for it)."""
        return () if self.method == "none" else tuple(build_periods(self))

    @cached_property
    def _line(self) -> _StraightLine | None:
        """The straight line's closed form (None for the other methods): what the reports read of a straight
        line is found from it without building the periods (41,788 schedules of 24-84 periods at 100k)."""
        if self.method in ("none", "declining_balance") or self.life_months <= 0 or (
                self.first_period == "anniversary" and self.proration != "daily"):
            return None
        return _StraightLine(self, _grid(self))

    @cached_property
    def _booked(self) -> list[dt.date]:
        line = self._line
        return line.booked if line is not None else [p.booked for p in self.periods]

    @cached_property
    def depreciable(self) -> Decimal:
        return max(self.cost - self.residual, ZERO) if self.method != "none" else ZERO

    @property
    def convention(self) -> str:
        """The conventions in a few words, for the reports."""
        if self.method == "none":
            return "none"
        first = (f"daily {self.day_count}" if self.proration == "daily" else self.first_period.replace("_", " "))
        text = f"{self.period.replace('_', ' ')}ly, first period {first}, fiscal year to {self.fiscal_year_end}"
        return f"{self.preset}: {text}" if self.preset else text

    @cached_property
    def end_of_useful_life(self) -> dt.date | None:
        """The last day of the useful life (the day the last charge is booked)."""
        if self.method == "none":
            return None
        if self._line is not None:
            return self._line.booked[-1]
        return self.periods[-1].booked if self.periods else self.start

    def accumulated(self, as_of: dt.date) -> Decimal:
        """Depreciation booked by the end of `as_of`."""
        n = bisect.bisect_right(self._booked, as_of)  # the periods booked by then (booked days ascend)
        if not n:
            return ZERO
        return self._line.accumulated(n - 1) if self._line is not None else self.periods[n - 1].accumulated

    def book_value(self, as_of: dt.date) -> Decimal:
        return self.cost - self.accumulated(as_of)

    @cached_property
    def fully_depreciated_on(self) -> dt.date | None:
        """The day the book value reaches the residual value (None for `none`)."""
        if self.method == "none":
            return None
        line = self._line
        if line is not None:  # the accumulated amount never falls: the first period that reaches it
            k = bisect.bisect_left(range(len(line.booked)), self.depreciable, key=line.accumulated)
            return line.booked[k] if k < len(line.booked) else self.start
        periods = self.periods
        n = bisect.bisect_left(periods, self.depreciable, key=attrgetter("accumulated"))
        return periods[n].booked if n < len(periods) else self.start

    def is_fully_depreciated(self, as_of: dt.date) -> bool:
        when = self.fully_depreciated_on
        return when is not None and when <= as_of

    def fiscal_years(self) -> list[tuple[FiscalYear, Decimal, Decimal, Decimal]]:
        """The schedule by fiscal year: (year, book value at its start, charge, book value at its end)."""
        cal = calendar(self.fiscal_year_end)
        out: list[tuple[FiscalYear, Decimal, Decimal, Decimal]] = []
        line = self._line
        if line is not None:  # a year's charge is what accumulated in it: no sum of periods
            opening, before = self.cost, line.before
            year = cal.year_of(line.booked[0])  # a straight line has at least one period
            for k, booked in enumerate(line.booked):
                if booked > year.end:
                    acc = line.accumulated(k - 1)
                    out.append((year, opening, ZERO + (acc - before), self.cost - acc))  # a sum from ZERO
                    opening, before, year = self.cost - acc, acc, cal.year_of(booked)
            acc = line.accumulated(len(line.booked) - 1)
            out.append((year, opening, ZERO + (acc - before), self.cost - acc))
            return out
        book = self.cost
        fy: FiscalYear | None = None
        opening = charge = ZERO
        for p in self.periods:  # booked days ascend: a fiscal year's periods follow each other
            if fy is None or p.booked > fy.end:
                if fy is not None:
                    out.append((fy, opening, charge, book))
                fy, opening, charge = cal.year_of(p.booked), book, ZERO
            charge += p.charge
            book = p.book_value
        if fy is not None:
            out.append((fy, opening, charge, book))
        return out


def settings(record: Record, config: Config) -> dict[str, Any]:
    """The record's depreciation settings: preset, register, kind, class, cost centre, record (see above)."""
    hw_class = record.data.get("class") if record.kind == "hardware" else None
    defaults = config.defaults
    merged: dict[str, Any] = {}
    layers: list[Any] = [defaults.get("depreciation"), (defaults.get(record.kind) or {}).get("depreciation")]
    if isinstance(hw_class, str):
        layers.append((defaults.get("by_class") or {}).get(hw_class))
    centre = record.get("financial.cost_centre")
    if isinstance(centre, str):
        layers.append((defaults.get("by_cost_centre") or {}).get(centre))
    layers.append(record.get("financial.depreciation"))
    for layer in layers:
        if isinstance(layer, dict):
            merged.update(layer)
    preset = PRESETS.get(str(merged.get("preset") or ""), {})
    return {**DEFAULTS, **preset, **merged}


def schedule(record: Record, config: Config) -> Schedule | None:
    """The record's depreciation schedule, or None when it has no purchase cost or no start date."""
    cost = to_decimal(record.get("financial.purchase_cost"))
    if cost is None:
        return None
    s = settings(record, config)
    start = start_date(record, str(s.get("start")))
    if start is None:
        return None
    currency = str(record.get("financial.currency") or config.base_currency)
    cost = normalised(cost, currency)
    method = str(s.get("method") or "none")
    life = int(s.get("useful_life_months") or 0)
    residual = to_decimal(s.get("residual_value")) or ZERO
    percent = to_decimal(s.get("residual_percent"))
    if percent is not None:
        residual = round_to(cost * percent / 100, currency)
    residual = normalised(min(residual, cost), currency)
    rate = to_decimal(s.get("rate")) or Decimal(2)
    return Schedule(record.id, method, cost, residual, life, start, currency, rate, str(s["period"]), str(s["proration"]),
                    str(s["first_period"]), str(s["day_count"]), str(s["fiscal_year_end"]), str(s.get("preset") or ""))


# ------------------------------------------------------------------------------------------- building

def build_periods(s: Schedule) -> list[Period]:
    """The charge schedule of `s` (`Schedule.periods`)."""
    if s.life_months <= 0:
        return [Period(s.start, s.start, s.start, s.depreciable, s.depreciable, s.cost - s.depreciable)]
    if s.first_period == "anniversary" and s.proration != "daily":
        return _anniversary(s)
    line = s._line  # the schedule's own straight line (None for declining balance), shared with its figures
    grid = line.grid if line is not None else _grid(s)
    bounds = list(zip(grid.starts, grid.booked, strict=False))
    bounds[0] = (max(s.start, grid.starts[0]), bounds[0][1])  # only the first period can start before the life
    if s.method == "declining_balance":
        return _declining(s, bounds, grid.ends, grid.virtual, grid.ends[0] - grid.size)
    line = line or _StraightLine(s, grid)
    out: list[Period] = []
    append = out.append
    before = line.before
    cost = s.cost
    make = tuple.__new__  # a Period, without the named tuple's argument handling
    for k, (a, b) in enumerate(bounds):
        acc = line.accumulated(k)
        append(make(Period, (a, b, b, acc - before, acc, cost - acc)))
        before = acc
    return out


class _Grid(NamedTuple):
    """Where a schedule's periods fall: the fiscal calendar's months from the start of the first fiscal year."""

    size: int  # months a period
    virtual: Fraction  # where the life starts
    ends: list[int]  # each period's end
    starts: list[dt.date]  # the first day of the period before each end, and the day after the last
    booked: list[dt.date]  # each period's last day, when its charge is booked


def _grid(s: Schedule) -> _Grid:
    cal = calendar(s.fiscal_year_end)
    fy0 = cal.year_of(s.start)
    size = PERIODS.get(s.period, 1)
    j = cal.month_of(fy0, s.start)  # position of the start, in fiscal months from the start of its fiscal year
    first_end = (j // size + 1) * size  # position (fiscal months) at the end of the period holding the start
    virtual = _virtual_start(s, cal, fy0, j, first_end, size)
    over = virtual + s.life_months - first_end  # the last period is the first that ends at or after the life
    count = 1 + max(0, -((-over.numerator) // (over.denominator * size)))
    months = range(first_end - size, first_end + count * size, size)  # the first period's start, then each end
    return _Grid(size, virtual, list(months[1:]), cal.month_starts(fy0, months), cal.month_ends(fy0, months[1:]))


class _StraightLine:
    """A straight line's accumulated amount after any period, in closed form: the exact fraction (E - V) / L
    of the life at the period's end E (V = num / den, so (E * den - num) / (L * den)), rounded half up to the
    minor unit, in integer arithmetic when the depreciable amount is a whole number of minor units. One
    formula for the periods (`build_periods`) and for what the reports read without them."""

    __slots__ = ("_currency", "_den", "_depreciable", "_ends", "_num", "_q", "_total", "_whole", "before", "booked", "grid")

    def __init__(self, s: Schedule, grid: _Grid) -> None:
        self._q = q = quantum(s.currency)
        units = s.depreciable / q
        self._num, self._den = grid.virtual.numerator, grid.virtual.denominator
        self._whole = s.life_months * self._den
        self._total = int(units) if units == units.to_integral_value() else None
        self._depreciable, self._currency, self._ends = s.depreciable, s.currency, grid.ends
        self.before = round_to(ZERO, s.currency)  # accumulated before the first period
        self.booked = grid.booked  # each period's last day, when its charge is booked
        self.grid = grid

    def accumulated(self, k: int) -> Decimal:
        """Accumulated by the end of period `k` (0 is the first)."""
        whole = self._whole
        n = self._ends[k] * self._den - self._num
        n = 0 if n < 0 else whole if n > whole else n
        if self._total is not None:
            return Decimal((2 * self._total * n + whole) // (2 * whole)) * self._q
        return round_to(self._depreciable * n / whole, self._currency)


def _virtual_start(s: Schedule, cal: FiscalCalendar, fy0: FiscalYear, j: int, first_end: int, size: int) -> Fraction:
    """Where the life starts, in fiscal months from the start of the first fiscal year."""
    if s.proration == "daily":
        period_start = cal.month_start(fy0, first_end - size)
        period_end = cal.month_start(fy0, first_end) - dt.timedelta(days=1)
        if s.day_count == "30/360":
            used, whole = days_30_360(s.start, period_end + dt.timedelta(days=1)), 30 * size
        elif s.day_count == "30/360_glpi":
            used, whole = days_glpi(s.start, period_end), 30 * size
        else:
            used, whole = (period_end - s.start).days + 1, (period_end - period_start).days + 1
        return first_end - Fraction(size * max(min(used, whole), 0), whole)
    if s.first_period == "mid_month":
        return Fraction(j) + Fraction(1, 2)
    if s.first_period == "half_year":
        return Fraction(6)
    if s.first_period == "half_year_conditional":
        return Fraction(0 if j < 6 else 6)
    return Fraction(j)


def _anniversary(s: Schedule) -> list[Period]:
    out: list[Period] = []
    before = round_to(ZERO, s.currency)
    for k in range(1, s.life_months + 1):
        acc = round_to(s.depreciable * k / s.life_months, s.currency)
        booked = add_months(s.start, k)
        out.append(Period(add_months(s.start, k - 1), booked - dt.timedelta(days=1), booked, acc - before, acc, s.cost - acc))
        before = acc
    return out


def _declining(s: Schedule, bounds: list[tuple[dt.date, dt.date]], ends: list[int], virtual: Fraction,
               first_start: int) -> list[Period]:
    # positions in units of 1 / den of a month (V = num / den), so every share of a period is an integer
    out: list[Period] = []
    den = virtual.denominator
    v = virtual.numerator
    book, residual, life_end = s.cost, s.residual, v + s.life_months * den
    per_unit = s.rate / (s.life_months * den)
    prev = first_start * den
    last = len(ends) - 1
    for i, ((a, b), end) in enumerate(zip(bounds, ends, strict=True)):
        e = end * den
        lo = max(prev, v)
        share = max(min(e, life_end) - lo, 0)
        left = book - residual
        if i == last or left <= 0:
            value = max(left, ZERO)
        else:
            remaining = life_end - lo
            db = round_to(book * per_unit * share, s.currency)
            sl = round_to(left * share / remaining, s.currency) if remaining > 0 else left
            value = min(max(db, sl), left)
        book -= value
        out.append(Period(a, b, b, value, s.cost - book, book))
        prev = e
    return out


def declining_months(cost: Decimal, residual: Decimal, life: int, rate: Decimal, currency: str = "EUR") -> tuple[Decimal, ...]:
    """Monthly amounts of declining balance over whole months with the switch to straight line, ending on
    the residual value (the `full_month` monthly case of the schedule)."""
    s = Schedule("x", "declining_balance", cost, residual, life, dt.date(2000, 1, 1), currency, rate)
    return tuple(p.charge for p in build_periods(s))
