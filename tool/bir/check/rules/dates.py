"""Date rules: dates are real calendar dates, and they happen in the order the lifecycle implies."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bir.base.model import get_path, parse_date
from bir.base.problems import Severity
from bir.check.rules import Finding, rule

if TYPE_CHECKING:
    from bir.base.config import Config, LifecycleModel
    from bir.base.model import Record

_DATE_KEYS = frozenset({
    "order_date", "purchase_date", "start", "end", "date", "warranty_end", "end_of_support", "end_of_life",
    "last_verified", "decided_on", "expires", "until", "end_of_sale",
})


def _walk_dates(value: Any, path: str, in_status_dates: bool = False) -> Iterator[tuple[str, str]]:
    for key, sub in value.items():
        if key == "custom":
            continue
        cls = sub.__class__
        if cls is str:
            if in_status_dates or key in _DATE_KEYS:
                yield f"{path}/{key}", sub
        elif cls is dict:
            yield from _walk_dates(sub, f"{path}/{key}", key == "status_dates")
        elif cls is list:
            for i, item in enumerate(sub):
                if item.__class__ is dict:
                    yield from _walk_dates(item, f"{path}/{key}/{i}")


_SEEN_DATES: set[str] = set()


def _is_real_date(text: str) -> bool:
    """Memoised: a register repeats the same few thousand dates across all its records."""
    if text in _SEEN_DATES:
        return True
    found = parse_date(text)
    if found is None or found > LAST_DAY:
        return False
    if len(_SEEN_DATES) < 100_000:
        _SEEN_DATES.add(text)
    return True


# The reports count forward from dates (depreciation, renewals, notice periods): past this day, or over these
# spans, a date they compute would leave the calendar (year 9999).
LAST_DAY = dt.date(9000, 12, 31)
_SPANS = (("financial.depreciation.useful_life_months", 1200, "months"), ("notice_period_days", 36_500, "days"))
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def why_not_a_day(text: str) -> str | None:
    """Why `text` is not a usable day, in the words of whoever wrote it (None when it is one): "no such day:
    February 2023 has 28 days", "not written as YYYY-MM-DD"..."""
    import calendar
    import re

    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if m is None:
        return "not written as YYYY-MM-DD"
    year, month, mday = (int(g) for g in m.groups())
    if not 1 <= month <= 12:
        return f"no such day: there is no month {month}"
    if year < 1:
        return "no such day: years start at 0001"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= mday <= last:
        return f"no such day: {_MONTHS[month - 1]} {year} has {last} days"
    if dt.date(year, month, mday) > LAST_DAY:
        return f"after {LAST_DAY.isoformat()}, the last day the register counts from"
    return None


def real_dates(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """Every date is a real calendar date (the schema checks the YYYY-MM-DD form; this checks the day exists,
    and that it is no later than 9000-12-31, as the reports count forward from dates); a useful life is at
    most 1,200 months and a notice period at most 36,500 days.

    Passes: `purchase_date: "2024-02-29"` (a leap year).
    Fails:  `purchase_date: "2023-02-29"` (no such day: February 2023 has 28 days).
    """
    for jpath, text in _walk_dates(record.data, ""):
        if _is_real_date(text):
            continue
        why = why_not_a_day(text)
        if why is not None:
            yield Finding(jpath, f"{jpath[1:].replace('/', '.')} '{text[:40]}' is {why}",
                          "write an existing calendar date as YYYY-MM-DD (leave the field out when there is none)")
    for path, most, unit in _SPANS:
        value = get_path(record.data, path)
        if isinstance(value, int) and not isinstance(value, bool) and value > most:
            yield Finding("/" + path.replace(".", "/"), f"{path} is {value:,} {unit}, more than the {most:,} the register "
                          "counts", f"give at most {most:,} {unit}")


# (earlier field, later field, strict): the earlier must not come after the later.
_ORDER: tuple[tuple[str, str, bool], ...] = (
    ("financial.order_date", "financial.purchase_date", False),
    ("status_dates.ordered", "status_dates.in_stock", False),
    ("financial.purchase_date", "status_dates.in_use", False),
    ("financial.purchase_date", "warranty_end", True),
    ("sanitisation.date", "disposal.date", False),
    ("start", "end", True),
    ("term.start", "term.end", True),
)


def date_order(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """Dates follow each other: ordered <= purchased <= in service; a warranty ends after the purchase; a
    contract or term starts before it ends; sanitisation precedes disposal (the states' own order is
    `date.lifecycle-order`).

    Passes: `order_date: "2024-01-10"`, `purchase_date: "2024-01-20"`, `status_dates.in_use: "2024-02-01"`.
    Fails:  `purchase_date: "2024-03-01"` with `status_dates.in_use: "2024-02-01"` (in use before it was bought).
    """
    data = record.data
    for first, second, strict in _ORDER:
        if first.split(".", 1)[0] not in data or second.split(".", 1)[0] not in data:
            continue  # the common case: most records have few of these fields
        a, b = parse_date(get_path(data, first)), parse_date(get_path(data, second))
        if a is None or b is None:
            continue
        if a > b or (strict and a == b):
            word = "before" if strict else "on or before"
            yield Finding("/" + second.replace(".", "/"), f"{second} ({b}) comes before {first} ({a})",
                          f"{first} must be {word} {second}: correct whichever date is wrong")
    for i, cost in enumerate(get_path(record.data, "financial.recurring_costs") or []):
        a, b = parse_date(cost.get("start")), parse_date(cost.get("end"))
        if a and b and a > b:
            yield Finding(f"/financial/recurring_costs/{i}/end", f"recurring cost ends ({b}) before it starts ({a})",
                          "swap or correct the dates")


def status_date_not_future(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """The date a record entered its current status is not in the future: the register records what is,
    and a planned change is a pull request merged when it happens.

    Passes: `status: in_use`, `status_dates.in_use: "2024-02-01"`.
    Fails:  `status: in_use`, `status_dates.in_use: "2099-01-01"`.
    """
    when = record.status_date(record.status)
    if when is not None and record.status != "planned" and when > day:
        yield Finding(f"/status_dates/{record.status}", f"the record entered '{record.status}' on {when}, which is in the future",
                      "merge the change when it happens, or keep the earlier status until then")


_REACH: dict[tuple[str, str], bool] = {}


def _reachable(model: LifecycleModel, a: str, b: str) -> bool:
    """Whether the model lets a record in state `a` come to state `b` (in one or more transitions)."""
    key = (f"{model.name}:{a}", b)
    got = _REACH.get(key)
    if got is None:
        seen, todo = set(), [a]
        while todo:
            for nxt in model.transitions.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        got = _REACH[key] = b in seen
    return got


def lifecycle_order(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """The states' dates never go backwards: taken in date order (`status_history` and `status_dates`), each
    state can follow the one before it in the kind's lifecycle model (directly or through states it skipped),
    and the current status is the one entered last. Re-entering a state is fine where the model allows it
    (an expired contract renewed: `expired -> active`); its earlier entry belongs in `status_history`.

    Passes: `status: active`, `status_dates: {active: "2026-12-01", expired: "2025-09-30"}` (a contract renewed).
    Fails:  `status_dates: {planned: "2024-02-01", ordered: "2024-01-10"}` (planned after it was ordered).
    """
    dates = record.data.get("status_dates")
    if not isinstance(dates, dict) or len(dates) + len(record.data.get("status_history") or ()) < 2:
        return
    model = config.model_for(record.kind)
    entries: list[tuple[dt.date, int, str, str]] = []
    for i, item in enumerate(record.data.get("status_history") or ()):
        when = parse_date(item.get("date")) if isinstance(item, dict) else None
        if when is not None and item.get("state") in model.states:
            entries.append((when, model.order(item["state"]), item["state"], f"/status_history/{i}/date"))
    for state, text in dates.items():
        when = parse_date(text)
        if when is not None and state in model.states:
            entries.append((when, model.order(state), state, f"/status_dates/{state}"))
    entries.sort()
    for (d1, _o1, a, _p1), (d2, _o2, b, p2) in itertools.pairwise(entries):
        if a == b or _reachable(model, a, b) or (d1 == d2 and _reachable(model, b, a)):
            continue
        yield Finding(p2, f"the record entered '{b}' on {d2}, after '{a}' on {d1}, but the '{model.name}' model never leads "
                          f"from {a} to {b}",
                      "correct whichever date is wrong; an earlier entry into a state the record re-entered goes in status_history")
    current = record.status
    mine = parse_date(dates.get(current))
    later = [(d, s) for d, _o, s, _p in entries if s != current and mine is not None and d > mine]
    if later:
        d, s = later[-1]
        yield Finding(f"/status_dates/{current}", f"status is '{current}' (entered {mine}), but '{s}' was entered later ({d})",
                      f"set status to '{s}', or correct the dates")


DATE_INVALID = rule("date.invalid", Severity.ERROR, "dates are real calendar dates", None, record=real_dates)
DATE_ORDER = rule("date.order", Severity.ERROR, "dates follow the lifecycle order", None, record=date_order)
DATE_LIFECYCLE = rule("date.lifecycle-order", Severity.ERROR, "state dates follow the lifecycle model", None, record=lifecycle_order)
DATE_FUTURE = rule("date.future", Severity.WARNING, "the current status was not entered in the future", None, record=status_date_not_future)
RULES = [DATE_INVALID, DATE_ORDER, DATE_LIFECYCLE, DATE_FUTURE]
