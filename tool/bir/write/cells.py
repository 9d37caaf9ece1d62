"""CSV input as data: the file's text, its delimiter and decimal mark, and the typed value of each cell.

Every reader here is strict: a cell that is not what its column holds is a `CellRejected` with the
column and the reason, which the import reports against the row (`bir.write.importers`).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bir.base.problems import UsageError
from bir.read.yamlstrict import plain_value

_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:100].strip("-")


class CellRejected(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def read_date(text: str, column: str) -> str:
    t = text.strip()
    m = re.match(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$", t)
    if m:
        try:
            dt.date.fromisoformat(m.group(1))
            return m.group(1)
        except ValueError:
            pass
    raise CellRejected(column, f"'{text}' is not a date (YYYY-MM-DD)")


_CURRENCY_AFFIX = re.compile(r"^(?:([A-Z]{3})\s*)?(.*?)(?:\s*([A-Z]{3}))?$")


def read_money(text: str, column: str, decimal: str = ".") -> int | float:
    """A purchase cost: digits with at most two decimals after `decimal` (`.` or `,`), thousands grouped by
    the other mark, a space or an apostrophe; a currency code before or after is allowed. Anything else is
    rejected: `12abc`, `(100.00)`, `-5`, `1.2.3`."""
    t = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    m = _CURRENCY_AFFIX.match(t)
    number = (m.group(2) if m else t).strip()
    if (number.startswith("(") and number.endswith(")")) or number.startswith("-"):
        raise CellRejected(column, f"'{text}' is negative; a purchase cost is an amount of zero or more")
    group = "." if decimal == "," else ","
    pattern = (rf"\d{{1,3}}(?:[{re.escape(group)} ']\d{{3}})+(?:{re.escape(decimal)}\d+)?|\d+(?:{re.escape(decimal)}\d+)?")
    if not re.fullmatch(pattern, number):
        other = "," if decimal == "." else "."
        hint = (f"; with {other!r} as the decimal mark, pass --decimal '{other}'" if re.fullmatch(
            rf"[\d{re.escape(decimal)} ']*{re.escape(other)}\d{{1,2}}", number) else "")
        raise CellRejected(column, f"'{text}' is not an amount of money (digits, {decimal!r} before the decimals){hint}")
    plain = re.sub(rf"[{re.escape(group)} ']", "", number).replace(decimal, ".")
    value = Decimal(plain)
    try:
        cents = value.quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than an amount of money has
        raise CellRejected(column, f"'{text}' is too large to be an amount of money") from None
    if value != cents:
        raise CellRejected(column, f"'{text}' has more than two decimals")
    return int(value) if value == value.to_integral_value() else float(value)


def detect_decimal(cells: list[str]) -> str | None:
    """The decimal mark the money cells use: `,` or `.`, None when they do not tell (then `.`), and a
    UsageError when they disagree."""
    comma = dot = 0
    for c in cells:
        t = re.sub(r"[A-Z]{3}|\s", "", c.strip())
        if re.fullmatch(r"\d{1,3}(\.\d{3})+,\d{1,2}|\d+,\d{1,2}|\d{1,3}(\.\d{3}){2,}", t):
            comma += 1
        elif re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{1,2}|\d+\.\d{1,2}|\d{1,3}(,\d{3}){2,}", t):
            dot += 1
    if comma and dot:
        raise UsageError(f"the amounts use both ',' ({comma} cells) and '.' ({dot} cells) as the decimal mark: "
                         "pass --decimal ',' or --decimal '.'")
    return "," if comma else ("." if dot else None)


def add_months(date: str, months: int) -> str:
    d = dt.date.fromisoformat(date)
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    import calendar

    day = min(d.day, calendar.monthrange(year, month)[1])
    return (dt.date(year, month, day) - dt.timedelta(days=1)).isoformat()


def read_typed(text: str, json_type: str | None, column: str) -> Any:
    if json_type in ("integer", "number"):
        value = plain_value(text)
        wrong = json_type == "integer" and not isinstance(value, int)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or wrong:
            raise CellRejected(column, f"'{text}' is not a {'whole ' if json_type == 'integer' else ''}number")
        return value
    if json_type == "boolean":
        table = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        if text.lower() not in table:
            raise CellRejected(column, f"'{text}' is not true or false")
        return table[text.lower()]
    if json_type == "array":
        return [t.strip() for t in re.split(r"[,;]", text) if t.strip()]
    return text


def read_input_text(path: Path) -> str:
    """A file the user hands in (CSV export, discovery scan) as text: UTF-8, with or without a BOM."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); export it as UTF-8") from exc


DELIMITERS = (",", ";", "\t", "|")


def detect_delimiter(first_line: str, known: Mapping[str, Any]) -> str:
    """The delimiter that splits the header into the most understood columns (then the most columns)."""
    def score(d: str) -> tuple[int, int]:
        cells = next(csv.reader([first_line], delimiter=d), [])
        return sum(1 for c in cells if c.strip() in known), len(cells)

    return max(DELIMITERS, key=score)
