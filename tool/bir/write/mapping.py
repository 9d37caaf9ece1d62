"""Which field each CSV column fills: Snipe-IT's columns by default (`bir.write.snipeit`), others through
a mapping file (`columns`, `values`, `defaults`; see `bir.write.importers`), and the JSON type each
field has in the kind's schema, which decides how a cell is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bir.base.problems import UsageError
from bir.read.schemas import SchemaSet
from bir.read.yamlstrict import parse
from bir.write.snipeit import SNIPE_IT

_FIELD = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*")


@dataclass(slots=True)
class ColumnMap:
    """CSV column -> field path (or `@reader`, or None to ignore); per field, cell value -> value; field defaults."""

    columns: dict[str, str | None]
    values: dict[str, dict[str, str]]
    defaults: dict[str, Any]


def load_mapping(path: Path | None) -> ColumnMap:
    """Snipe-IT's columns, with the mapping file's columns, values and defaults over them (UsageError when it is malformed)."""
    columns: dict[str, str | None] = dict(SNIPE_IT)
    values: dict[str, dict[str, str]] = {}
    defaults: dict[str, Any] = {}
    if path is None:
        return ColumnMap(columns, values, defaults)
    try:
        parsed = parse(path.read_bytes(), str(path))
    except OSError as exc:
        raise UsageError(f"cannot read the mapping file {path}: {exc.strerror or exc}") from exc
    if parsed.problems or not isinstance(parsed.value, dict):
        msg = parsed.problems[0].message if parsed.problems else "it must be a mapping with `columns:`"
        raise UsageError(f"mapping file {path}: {msg}")
    doc = parsed.value
    unknown = set(doc) - {"columns", "values", "defaults"}
    if unknown:
        raise UsageError(f"mapping file {path}: unknown key(s) {', '.join(sorted(unknown))}; use columns, values, defaults")
    for col, target in (doc.get("columns") or {}).items():
        if target is None:
            columns[str(col)] = None
        elif isinstance(target, str) and target in SNIPE_IT:
            columns[str(col)] = SNIPE_IT[target]
        elif isinstance(target, str) and (target.startswith("@") or _FIELD.fullmatch(target)):
            columns[str(col)] = target
        else:
            raise UsageError(f"mapping file {path}: column '{col}' maps to {target!r}, which is neither a field path, "
                             "a Snipe-IT column name nor null")
    for key, table in (doc.get("values") or {}).items():
        if not isinstance(table, dict):
            raise UsageError(f"mapping file {path}: values.{key} must be a mapping of cell value -> value")
        values[str(key)] = {str(k).lower(): str(v) for k, v in table.items()}
    defaults = dict(doc.get("defaults") or {})
    return ColumnMap(columns, values, defaults)


def field_types(schemas: SchemaSet, kind: str) -> dict[str, str]:
    """The JSON type of each field of the kind's schema (`SchemaSet.fields`): CSV cells are text, and become
    numbers or booleans where the schema says."""
    return {path: node["type"] for path, node in schemas.fields(kind).items() if isinstance(node.get("type"), str)}


def header_columns(header: list[str], mapping: ColumnMap, csv_path: Path) -> list[str]:
    """The header's column names, a repeated Snipe-IT column kept under custom.snipeit as `<key>_<n>` (the
    Custom Asset Report repeats Address, City, ... for the default location)."""
    out: list[str] = []
    for h in header:
        if h in out:
            target = mapping.columns.get(h)
            if not (isinstance(target, str) and target.startswith("custom.snipeit.")):
                raise UsageError(f"{csv_path}: column(s) {h} appear twice")
            n = sum(1 for o in out if o == h or o.startswith(h + " #")) + 1
            name = f"{h} #{n}"
            mapping.columns[name] = f"{target}_{n}"
            out.append(name)
        else:
            out.append(h)
    return out
