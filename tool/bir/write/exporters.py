"""Exports of the register for other tools: JSON, CSV per kind, SQLite, and a CycloneDX 1.6 BOM
(`bir.write.cyclonedx`).

Every export is a pure function of the loaded register (records sorted by id), so the same register
gives byte-identical output; the CycloneDX serial number is derived from the content.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bir.base import exactjson
from bir.base.model import KINDS, Record, Register

# A cell starting with one of these is read as a formula by some spreadsheet (the full-width forms by
# East Asian locales of Excel; a leading line break or tab by LibreOffice's and Excel's importers).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# CSV files start with a UTF-8 byte-order mark: without one, Excel's default import reads UTF-8 as the
# locale's code page (mojibake in every accented name). Lines end with CR LF (RFC 4180), which also makes
# the writer quote any cell holding a CR or an LF, so a lone CR inside a value never starts a row.
CSV_BOM = "\ufeff"
CSV_LINE_END = "\r\n"


def records_by_id(register: Register) -> list[Record]:
    """The register's records sorted by id: the order of every export."""
    return sorted(register.records.values(), key=lambda r: r.id)


# --- JSON ----------------------------------------------------------------------------------------


def json_bytes(register: Register) -> bytes:
    """The JSON export as UTF-8 (the site's download writes these bytes; `to_json` is them as text)."""
    doc = {
        "register": register.config.name,
        "base_currency": register.config.base_currency,
        "records": [r.data for r in records_by_id(register)],
    }
    return exactjson.indented(doc) + b"\n"


def to_json(register: Register) -> str:
    return json_bytes(register).decode("utf-8")


# --- CSV -----------------------------------------------------------------------------------------


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys; lists of scalars joined by '; ', lists of mappings as JSON."""
    out: dict[str, Any] = {}
    _flatten_into(out, data, prefix)
    return out


# Values that are neither mappings nor lists, told by their exact type: asking `isinstance(v, Mapping)` of
# each of a register's millions of values goes through the ABC machinery every time.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _flatten_into(out: dict[str, Any], data: Mapping[str, Any], prefix: str) -> None:
    scalars = _SCALARS
    for key, value in data.items():
        name = f"{prefix}{key}"
        kind = type(value)
        if kind in scalars:
            out[name] = value
        elif kind is dict or (kind is not list and isinstance(value, Mapping)):
            _flatten_into(out, value, name + ".")
        elif isinstance(value, list):
            if all(type(v) in scalars or not isinstance(v, (Mapping, list)) for v in value):
                out[name] = "; ".join(_scalar_text(v) for v in value)
            else:
                out[name] = json.dumps(value, ensure_ascii=False, sort_keys=True)
        else:
            out[name] = value


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_row(row: Mapping[str, Any], columns: list[str]) -> list[str]:
    """The cells of one CSV row: `safe_cell` of each column's value; an absent value (or None) is "", as `safe_cell` makes it."""
    get, safe = row.get, safe_cell
    return [safe(v) if (v := get(c)) is not None else "" for c in columns]


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet will not evaluate: text starting with = + - @, a tab, a line break or a
    full-width = + - @ (after any leading spaces) gets a leading '. Numbers stay numbers."""
    if type(value) is str:
        text = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    else:
        text = _scalar_text(value)
    # only text starting with a space or a formula character is looked at more closely (most cells are not)
    if text[:1] in _LOOK_CLOSER and text.lstrip(" ").startswith(FORMULA_START):
        return "'" + text
    return text


_LOOK_CLOSER = frozenset({" ", *FORMULA_START})  # each of FORMULA_START is one character


def csv_writer(handle: Any) -> Any:
    """The writer every CSV export uses: minimal quoting (any cell with a comma, quote, CR or LF is
    quoted), CR LF line ends."""
    return csv.writer(handle, lineterminator=CSV_LINE_END)


def records_by_kind(register: Register) -> dict[str, list[Record]]:
    """The kinds that have records, in the order of KINDS, each with its records sorted by id."""
    by_kind: dict[str, list[Record]] = {}
    for rec in records_by_id(register):
        by_kind.setdefault(rec.kind, []).append(rec)
    return {kind: by_kind[kind] for kind in KINDS if kind in by_kind}


def write_kind_csv(handle: Any, records: list[Record]) -> None:
    """One kind's CSV into `handle` (a text file opened with newline=""): a byte-order mark, then a header of
    id first and the sorted flattened columns, then a row per record; CR LF line ends."""
    rows = [flatten(r.data) for r in records]
    columns = sorted({c for row in rows for c in row} - {"id"})
    columns.insert(0, "id")
    handle.write(CSV_BOM)
    writer = csv_writer(handle)
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow(csv_row(row, columns))


def to_csv(register: Register) -> dict[str, str]:
    """One CSV text per kind that has records: kind -> text (`write_kind_csv`)."""
    out: dict[str, str] = {}
    for kind, records in records_by_kind(register).items():
        buf = io.StringIO()
        write_kind_csv(buf, records)
        out[kind] = buf.getvalue()
    return out


def write_csv(register: Register, folder: Path) -> list[Path]:
    from bir.base.atomic import write_text

    written = []
    for kind, text in to_csv(register).items():
        path = folder / f"{kind}.csv"
        write_text(path, text)
        written.append(path)
    return written


# --- SQLite: bir.write.sqlitedb (typed tables per kind and the report figures) ---------------------------

# --- CycloneDX 1.6 ---------------------------------------------------------------------------------
from bir.write.cyclonedx import cyclonedx_json, software_type, to_cyclonedx  # noqa: E402 - the BOM has its own module
from bir.write.sqlitedb import write_sqlite  # noqa: E402 - the database has its own module

__all__ = ["csv_row", "cyclonedx_json", "flatten", "records_by_kind", "safe_cell", "software_type", "to_csv", "to_cyclonedx",
           "to_json", "write_csv", "write_kind_csv", "write_sqlite"]
