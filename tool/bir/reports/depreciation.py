"""Depreciation by month: straight-line, declining balance, or none.

Conventions (hand-checkable, and tested that way):
- Depreciation starts on the in-service date (`status_dates.in_use`, or `status_dates.active`), else the
  purchase date. Month *k* (1-based) is complete on the same day *k* months later; a start on the 31st
  completes in short months on their last day (31 January -> 28 or 29 February -> 31 March).
- Straight-line: (cost - residual) / life, rounded down to the cent, each month; the last month takes the
  remainder, so 1,200.00 over 36 months is 35 x 33.33 and a last month of 33.45.
- Declining balance: each month book value x (rate / life), where `rate` is a multiple of the straight-line
  rate (2.0 = double declining), rounded to the cent; it switches to straight-line over the remaining
  months as soon as that is larger, and never goes below the residual value. The last month takes the
  remainder down to the residual value.
- A useful life of 0 months writes the asset down to its residual value on its start date.
- `none`: the book value stays the purchase cost.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from bir.base.model import Record, to_decimal
from bir.reports.money import CENT, ZERO, cents

if TYPE_CHECKING:
    from bir.base.config import Config

METHODS = ("straight_line", "declining_balance", "none")
_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus whole months, clamped to the last day of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if day.day <= 28:
        return dt.date(year, month, day.day)
    last = 29 if month == 2 and calendar.isleap(year) else _DAYS[month]
    return dt.date(year, month, min(day.day, last))


def months_completed(start: dt.date, as_of: dt.date) -> int:
    """Whole months from `start` completed on or before `as_of` (0 before the first month ends)."""
    if as_of < start:
        return 0
    n = (as_of.year - start.year) * 12 + as_of.month - start.month
    if add_months(start, n) > as_of:
        n -= 1
    return max(n, 0)


def start_date(record: Record) -> dt.date | None:
    """The start of depreciation and of the useful life: in-service date, else purchase date."""
    return record.status_date("in_use") or record.status_date("active") or record.date("financial.purchase_date")


@dataclass(frozen=True)
class Schedule:
    """A record's depreciation, in the record's currency."""

    record: str
    method: str
    cost: Decimal
    residual: Decimal
    life_months: int
    start: dt.date
    currency: str
    rate: Decimal = Decimal(0)
    # Declining balance only: the amount of each month (computed once; straight-line is closed-form).
    months: tuple[Decimal, ...] = field(default=())

    @property
    def depreciable(self) -> Decimal:
        return max(self.cost - self.residual, ZERO) if self.method != "none" else ZERO

    @cached_property
    def end_of_useful_life(self) -> dt.date | None:
        return add_months(self.start, self.life_months) if self.method != "none" else None

    @cached_property
    def _monthly(self) -> Decimal:
        if self.life_months <= 0:
            return self.depreciable
        return (self.depreciable / self.life_months).quantize(CENT, rounding=ROUND_DOWN)

    def monthly(self) -> Decimal:
        """Straight-line monthly amount (before the last month's remainder)."""
        return self._monthly

    def accumulated(self, as_of: dt.date) -> Decimal:
        """Depreciation accumulated by the end of `as_of`."""
        if self.method == "none" or as_of < self.start:
            return ZERO
        if self.life_months <= 0:
            return self.depreciable
        n = months_completed(self.start, as_of)
        if n >= self.life_months:
            return self.depreciable
        if self.method == "straight_line":
            return self.monthly() * n
        return sum(self.months[:n], ZERO)

    def book_value(self, as_of: dt.date) -> Decimal:
        return self.cost - self.accumulated(as_of)

    def amount_for_month(self, k: int) -> Decimal:
        """The depreciation charged in month k (1-based)."""
        if self.method == "none" or k < 1 or k > max(self.life_months, 1):
            return ZERO
        if self.life_months <= 0:
            return self.depreciable
        if self.method == "declining_balance":
            return self.months[k - 1]
        if k < self.life_months:
            return self.monthly()
        return self.depreciable - self.monthly() * (self.life_months - 1)

    @cached_property
    def fully_depreciated_on(self) -> dt.date | None:
        """The day the book value reaches the residual value (None for `none` or nothing to write off)."""
        if self.method == "none":
            return None
        if self.life_months <= 0:
            return self.start
        if self.method == "declining_balance":
            running = ZERO
            for k, value in enumerate(self.months, start=1):
                running += value
                if running >= self.depreciable:
                    return add_months(self.start, k)
        return add_months(self.start, self.life_months)

    def is_fully_depreciated(self, as_of: dt.date) -> bool:
        when = self.fully_depreciated_on
        return when is not None and when <= as_of


def declining_months(cost: Decimal, residual: Decimal, life: int, rate: Decimal) -> tuple[Decimal, ...]:
    """Monthly amounts of declining balance with the switch to straight-line, ending on the residual."""
    out: list[Decimal] = []
    book = cost
    monthly_rate = rate / life
    for k in range(1, life + 1):
        remaining = life - k + 1
        left = book - residual
        if left <= 0:
            out.append(ZERO)
            continue
        if k == life:
            value = left
        else:
            db = cents(book * monthly_rate)
            sl = (left / remaining).quantize(CENT, rounding=ROUND_DOWN)
            value = min(max(db, sl), left)
        out.append(value)
        book -= value
    return tuple(out)


def settings(record: Record, config: Config) -> dict[str, Any]:
    """The record's depreciation settings over the configured defaults (by hardware class, then by kind)."""
    hw_class = record.data.get("class") if record.kind == "hardware" else None
    merged = config.depreciation_defaults(record.kind, hw_class if isinstance(hw_class, str) else None)
    own = record.get("financial.depreciation")
    if isinstance(own, dict):
        merged.update(own)
    return merged


def schedule(record: Record, config: Config) -> Schedule | None:
    """The record's depreciation schedule, or None when it has no purchase cost or no start date."""
    cost = to_decimal(record.get("financial.purchase_cost"))
    start = start_date(record)
    if cost is None or start is None:
        return None
    s = settings(record, config)
    method = str(s.get("method") or "none")
    life = int(s.get("useful_life_months") or 0)
    residual = to_decimal(s.get("residual_value")) or ZERO
    rate = to_decimal(s.get("rate")) or Decimal(2)
    currency = str(record.get("financial.currency") or config.base_currency)
    months: tuple[Decimal, ...] = ()
    if method == "declining_balance" and life > 0:
        months = declining_months(cost, min(residual, cost), life, rate)
    return Schedule(record.id, method, cost, min(residual, cost), life, start, currency, rate, months)
