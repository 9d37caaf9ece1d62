"""Exports of the register for other tools: JSON, CSV per kind, SQLite, and a CycloneDX 1.6 BOM
(`bir.write.cyclonedx`).

Every export is a pure function of the loaded register (records sorted by id), so the same register
gives byte-identical output; the CycloneDX serial number is derived from the content.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bir.base.model import KINDS, Record, Register

# A cell starting with one of these is read as a formula by some spreadsheet (the full-width forms by
# East Asian locales of Excel; a leading line break or tab by LibreOffice's and Excel's importers).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# CSV files start with a UTF-8 byte-order mark: without one, Excel's default import reads UTF-8 as the
# locale's code page (mojibake in every accented name). Lines end with CR LF (RFC 4180), which also makes
# the writer quote any cell holding a CR or an LF, so a lone CR inside a value never starts a row.
CSV_BOM = "\ufeff"
CSV_LINE_END = "\r\n"


def _records(register: Register) -> list[Record]:
    return sorted(register.records.values(), key=lambda r: r.id)


# --- JSON ----------------------------------------------------------------------------------------


def to_json(register: Register) -> str:
    doc = {
        "register": register.config.name,
        "base_currency": register.config.base_currency,
        "records": [r.data for r in _records(register)],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


# --- CSV -----------------------------------------------------------------------------------------


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys; lists of scalars joined by '; ', lists of mappings as JSON."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list):
            if all(not isinstance(v, (Mapping, list)) for v in value):
                out[name] = "; ".join(_scalar_text(v) for v in value)
            else:
                out[name] = json.dumps(value, ensure_ascii=False, sort_keys=True)
        else:
            out[name] = value
    return out


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet will not evaluate: text starting with = + - @, a tab, a line break or a
    full-width = + - @ (after any leading spaces) gets a leading '. Numbers stay numbers."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = _scalar_text(value)
    if text.lstrip(" ").startswith(FORMULA_START):
        return "'" + text
    return text


def csv_writer(handle: Any) -> Any:
    """The writer every CSV export uses: minimal quoting (any cell with a comma, quote, CR or LF is
    quoted), CR LF line ends."""
    return csv.writer(handle, lineterminator=CSV_LINE_END)


def to_csv(register: Register) -> dict[str, str]:
    """One CSV text per kind that has records: kind -> text (a byte-order mark first, CR LF line ends).
    Columns: id first, then sorted."""
    out: dict[str, str] = {}
    for kind in KINDS:
        rows = [flatten(r.data) for r in _records(register) if r.kind == kind]
        if not rows:
            continue
        columns = sorted({c for row in rows for c in row} - {"id"})
        columns.insert(0, "id")
        buf = io.StringIO()
        buf.write(CSV_BOM)
        writer = csv_writer(buf)
        writer.writerow([safe_cell(c) for c in columns])
        for row in rows:
            writer.writerow([safe_cell(row.get(c)) for c in columns])
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


# --- SQLite --------------------------------------------------------------------------------------


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_sqlite(register: Register, path: Path) -> None:
    """One table per kind (top-level scalar fields as columns, the rest as JSON in `rest`), a `records`
    table of every record and a `relations` table (source, type, target, note), indexed both ways.

    Written to a temporary file and renamed over `path`: a reader never sees half a database.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        try:
            _fill(con, register)
            con.commit()
        finally:
            con.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _fill(con: sqlite3.Connection, register: Register) -> None:
    records = _records(register)
    con.execute("CREATE TABLE records (id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT, status TEXT, owner TEXT, path TEXT)")
    con.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)",
                    [(r.id, r.kind, r.name, r.status, r.owner, r.path) for r in records])
    con.execute("CREATE INDEX records_kind ON records (kind)")
    for kind in KINDS:
        of_kind = [r for r in records if r.kind == kind]
        if not of_kind:
            continue
        scalar_cols: list[str] = []
        for r in of_kind:
            for key, value in r.data.items():
                if key != "id" and key not in scalar_cols and _is_scalar(value):
                    scalar_cols.append(key)
        # a field that is a mapping or list in any record goes to `rest` for every record
        mixed = {k for r in of_kind for k, v in r.data.items() if not _is_scalar(v)}
        scalar_cols = [c for c in scalar_cols if c not in mixed and c != "rest"]
        cols = ", ".join(f"{_sql_name(c)}" for c in scalar_cols)
        con.execute(f"CREATE TABLE {_sql_name(kind)} (id TEXT PRIMARY KEY{', ' + cols if cols else ''}, rest TEXT)")
        placeholders = ", ".join("?" for _ in range(len(scalar_cols) + 2))
        rows = []
        for r in of_kind:
            rest = {k: v for k, v in r.data.items() if k != "id" and k not in scalar_cols}
            rows.append((r.id, *(r.data.get(c) for c in scalar_cols), json.dumps(rest, ensure_ascii=False, sort_keys=True)))
        con.executemany(f"INSERT INTO {_sql_name(kind)} VALUES ({placeholders})", rows)  # noqa: S608
    con.execute("CREATE TABLE relations (source TEXT NOT NULL, type TEXT NOT NULL, target TEXT NOT NULL, note TEXT)")
    con.executemany("INSERT INTO relations VALUES (?, ?, ?, ?)",
                    [(r.id, rel.type, rel.target, rel.note or None) for r in records for rel in r.relations])
    con.execute("CREATE INDEX relations_source ON relations (source, type)")
    con.execute("CREATE INDEX relations_target ON relations (target, type)")


# --- CycloneDX 1.6 ---------------------------------------------------------------------------------

from bir.write.cyclonedx import cyclonedx_json, software_type, to_cyclonedx  # noqa: E402 - the BOM has its own module

__all__ = ["cyclonedx_json", "flatten", "safe_cell", "software_type", "to_csv", "to_cyclonedx", "to_json", "write_csv",
           "write_sqlite"]
