"""The register as a SQLite database for SQL, sqlite-utils and datasette, with the figures of its reports.

Tables (every column typed, every reference a foreign key, indexed):
- one table per kind, a column for every field its schema defines: nested objects flattened with `_`
  (`financial_purchase_cost`, `term_end`, `status_dates_in_use` for each state of the kind's lifecycle
  model), dates as ISO text, lists of values and free-form objects (`custom`) as JSON text; every amount
  of money also as `<column>_currency` (the currency it is in) and `<column>_base` (in the base currency,
  converted as the reports convert it). Lists of objects are child tables `<kind>_<field>` (one row per
  item, `record` and `position` first): `software_installations`, `hardware_financial_recurring_costs`...
- `records` (every record: id, kind, name, status, owner, cost centre, path) and `relations` (source,
  type, target, note), both ends foreign keys to `records`;
- `exchange_rates` (the configured rates, the base currency at 1) and `export_info` (as of, base
  currency, commit);
- figures as of the export date, taken from the report models (`bir.reports`), never computed here:
  `book_values`, `run_costs` (by service, cost centre, owner, kind), `record_run_costs`, `tco`,
  `tco_services`, `life_dates` (end of support and life, record or feed), `lifecycle_events`,
  `risk_findings` with `risk_finding_services`, `service_components`, `licence_positions`.

Money is stored as SQLite REAL (there is no decimal type): round sums to cents (`ROUND(SUM(x), 2)`) to get
the report's exact figure. `metadata(...)` is a datasette metadata document: titles and descriptions from
the schemas and the figure definitions, and facets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import operator
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bir import __version__
from bir.base.model import KINDS, RELATION_TYPES, Record, Register
from bir.base.rules import CATALOG
from bir.reports import Evaluation
from bir.reports.models import (
    DepreciationLine,
    EventLine,
    Finding,
    LicencePosition,
    RunCostLine,
    ServiceTcoLine,
    TcoLine,
)
from bir.reports.money import to_base


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(slots=True)
class Column:
    name: str
    sql: str  # TEXT | INTEGER | REAL
    path: tuple[str, ...]  # the field's path in the record (or item)
    description: str = ""
    references: bool = False  # names another record
    enum: bool = False
    money: bool = False
    json: bool = False  # a list of values or a free-form object, as JSON text


@dataclass(slots=True)
class Table:
    name: str
    kind: str
    path: tuple[str, ...]  # () for the kind's table, else the list field of a child table
    columns: list[Column] = field(default_factory=list)
    title: str = ""
    description: str = ""


def _definition(node: Any, schema: dict[str, Any]) -> tuple[str, Any]:
    """(the shared definition's name, e.g. `money`, or "", the node with its `$ref`s into the bundled
    schema followed)."""
    name = ""
    for _ in range(8):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/")):
            break
        parts = node["$ref"][2:].split("/")
        if len(parts) == 2 and parts[0] == "definitions" and not name:
            name = parts[1].split("__", 1)[-1]
        target: Any = schema
        for part in parts:
            target = target.get(part, {}) if isinstance(target, dict) else {}
        merged = dict(target) if isinstance(target, dict) else {}
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        node = merged
    return name, node


def _sql_type(node: dict[str, Any]) -> str:
    t = node.get("type")
    return {"integer": "INTEGER", "boolean": "INTEGER", "number": "REAL"}.get(t if isinstance(t, str) else "", "TEXT")


def plan_tables(kind: str, schema: dict[str, Any], states: Sequence[str]) -> list[Table]:
    """The kind's table and its child tables, from its (bundled) schema."""
    main = Table(kind, kind, (), title=str(schema.get("title") or kind), description=str(schema.get("description") or ""))
    tables = [main]

    def walk(props: dict[str, Any], prefix: tuple[str, ...], table: Table) -> None:
        for key, raw in props.items():
            name, node = _definition(raw, schema)
            path = (*prefix, key)
            desc = str(raw.get("description") or node.get("description") or "") if isinstance(raw, dict) else ""
            col = "_".join(path[len(table.path):]) if table.path else "_".join(path)
            if (table is main and path == ("id",)) or path == ("relations",):
                continue
            if node.get("type") == "object" and node.get("properties"):
                walk(node["properties"], path, table)
            elif path[-1] == "status_dates" and table is main:
                for state in states:
                    table.columns.append(Column(f"{col}_{state}", "TEXT", (*path, state), f"Date the record entered {state}."))
            elif node.get("type") == "array":
                _, item = _definition(node.get("items") or {}, schema)
                if item.get("type") == "object" and item.get("properties"):
                    child = Table(f"{kind}_{col}", kind, path, title=f"{kind} {'.'.join(path)}", description=desc)
                    tables.append(child)
                    walk(item["properties"], path, child)
                else:
                    table.columns.append(Column(col, "TEXT", path, desc + " (a JSON list)", json=True))
            elif node.get("type") == "object":
                table.columns.append(Column(col, "TEXT", path, desc + " (JSON)", json=True))
            else:
                table.columns.append(Column(col, _sql_type(node), path, desc, references=name == "ref",
                                            enum="enum" in node, money=name == "money"))

    walk(schema.get("properties") or {}, (), main)
    main.columns.insert(0, Column("id", "TEXT", ("id",), "Unique record id."))
    return tables


def _get(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _cell(value: Any, column: Column) -> Any:
    if value is None:
        return None
    if column.json:
        return _json_text(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return _json_text(value)
    return value


_ESCAPED = re.compile(r'[\x00-\x1f"\\]')  # what json.dumps(ensure_ascii=False) writes as an escape


def _json_text(value: Any, sort_keys: bool = True) -> str:
    """`json.dumps(value, ensure_ascii=False, sort_keys=sort_keys)`, written directly for a list of strings that
    need no escape (tags, ids: most of the lists a register holds), asked of the encoder for anything else."""
    if type(value) in (list, tuple) and all(type(v) is str for v in value) and not _ESCAPED.search("".join(value)):
        return '["' + '", "'.join(value) + '"]' if value else "[]"
    return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys)


def _money_currency(record: Record, item: dict[str, Any] | None, base: str) -> str:
    if item is not None and isinstance(item.get("currency"), str):
        return str(item["currency"])
    cur = record.get("financial.currency")
    return cur if isinstance(cur, str) else base


def _create(con: sqlite3.Connection, name: str, columns: Sequence[tuple[str, str]], *, pk: str | None = None,
            fks: Iterable[tuple[str, str]] = (), without_rowid: bool = False) -> None:
    defs = [f"{q(c)} {t}{' PRIMARY KEY' if c == pk else ''}" for c, t in columns]
    defs += [f"FOREIGN KEY ({q(c)}) REFERENCES {q(target)}(id)" for c, target in fks]
    con.execute(f"CREATE TABLE {q(name)} ({', '.join(defs)}){' WITHOUT ROWID' if without_rowid else ''}")


def _index(con: sqlite3.Connection, table: str, *cols: str) -> None:
    con.execute(f"CREATE INDEX {q(table + '_' + '_'.join(cols))} ON {q(table)} ({', '.join(q(c) for c in cols)})")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return _json_text(value, sort_keys=False)
    return value


_FIGURE_TYPES = {"int": "INTEGER", "Decimal": "REAL", "Decimal | None": "REAL"}
_AS_IS = frozenset({str, int, float, bool, type(None)})  # what `_plain` hands back unchanged, asked without a call


def _figure_table(con: sqlite3.Connection, name: str, cls: type, lines: Sequence[Any], *, record_field: str | None = "record",
                  extra: Sequence[tuple[str, str, Callable[[Any], Any]]] = ()) -> None:
    fields = [f for f in dataclasses.fields(cls)]
    cols = [(f.name, _FIGURE_TYPES.get(str(f.type), "TEXT")) for f in fields] + [(n, t) for n, t, _ in extra]
    fks = [(record_field, "records")] if record_field else []
    _create(con, name, cols, fks=fks)
    get = operator.attrgetter(*(f.name for f in fields))
    plain, as_is = _plain, _AS_IS
    one = len(fields) == 1
    rows = [[v if type(v) in as_is else plain(v) for v in ((get(line),) if one else get(line))]
            + [fn(line) for _, _, fn in extra] for line in lines]
    con.executemany(f"INSERT INTO {q(name)} VALUES ({', '.join('?' for _ in cols)})", rows)  # noqa: S608
    if record_field:
        _index(con, name, record_field)


FIGURES = {  # table -> (title, description)
    "book_values": ("Book value", "cost.depreciation"),
    "run_costs": ("Annual run cost by service, cost centre, owner and kind", "cost.run"),
    "record_run_costs": ("Annual run cost per record", "cost.run"),
    "tco": ("Total cost of ownership per record", "cost.tco"),
    "tco_services": ("Total cost of ownership per service", "cost.tco_service"),
    "lifecycle_events": ("Upcoming lifecycle events", ""),
    "risk_findings": ("Risk findings (open and waived)", "risk.score"),
    "licence_positions": ("Licence position", "licence.position"),
    "exchange_rates": ("Exchange rates to the base currency", "cost.exchange_rate"),
}


def fill_register(con: sqlite3.Connection, register: Register, point: Any) -> list[Table]:
    """The tables of the records themselves (`records`, `relations`, one or more per kind): they need the
    register and its schemas only, none of the reports. Returns the record tables (for the metadata)."""
    config = register.config
    base = config.base_currency
    records = sorted(register.records.values(), key=lambda r: r.id)
    _create(con, "records", [("id", "TEXT"), ("kind", "TEXT"), ("name", "TEXT"), ("status", "TEXT"), ("owner", "TEXT"),
                             ("financial_cost_centre", "TEXT"), ("path", "TEXT")], pk="id",
            fks=[("owner", "records"), ("financial_cost_centre", "records")])
    con.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(r.id, r.kind, r.name, r.status, r.owner, r.get("financial.cost_centre"), r.path) for r in records])
    for col in ("kind", "status", "owner", "financial_cost_centre"):
        _index(con, "records", col)
    _create(con, "relations", [("source", "TEXT"), ("type", "TEXT"), ("target", "TEXT"), ("note", "TEXT")],
            fks=[("source", "records"), ("target", "records")])
    con.executemany("INSERT INTO relations VALUES (?, ?, ?, ?)",
                    [(r.id, rel.type, rel.target, rel.note or None) for r in records for rel in r.relations])
    _index(con, "relations", "source", "type")
    _index(con, "relations", "target", "type")
    planned: list[Table] = []
    for kind in KINDS:
        of_kind = [r for r in records if r.kind == kind]
        if kind not in point.schemas.raw:
            continue
        tables = plan_tables(kind, point.schemas.bundled(kind), config.model_for(kind).states)
        planned += tables
        for table in tables:
            _write_table(con, table, of_kind, config, base)
    return planned


def fill_figures(con: sqlite3.Connection, evaluation: Evaluation) -> None:
    """The tables of the report figures, and `export_info`, after `fill_register`'s."""
    register, point = evaluation.register, evaluation.point
    _figures(con, evaluation)
    con.execute("CREATE TABLE export_info (key TEXT PRIMARY KEY, value TEXT)")
    con.executemany("INSERT INTO export_info VALUES (?, ?)", [
        ("as_of", point.day.isoformat()), ("base_currency", register.config.base_currency), ("register", register.config.name),
        ("commit", point.commit or ""), ("where", point.describe()), ("bir_version", __version__)])


def _write_table(con: sqlite3.Connection, table: Table, records: list[Record], config: Any, base: str) -> None:
    cols: list[tuple[str, str]] = []
    fks: list[tuple[str, str]] = []
    if table.path:
        cols += [("record", "TEXT"), ("position", "INTEGER")]
        fks.append(("record", table.kind))
    for c in table.columns:
        cols.append((c.name, c.sql))
        if c.money:
            cols += [(f"{c.name}_currency", "TEXT"), (f"{c.name}_base", "REAL")]
        if c.references:
            fks.append((c.name, "records"))
    if not table.path:
        fks.insert(0, ("id", "records"))
    _create(con, table.name, cols, pk=None if table.path else "id", fks=fks)
    # Each row starts as NULLs and gets the values the record holds, found by walking its data along the
    # columns' paths (a tree of them): a kind's table has dozens of columns, a record fills a few of them.
    lead = 2 if table.path else 0
    tree: _PathTree = {}
    at = lead
    for c in table.columns:
        node = tree
        rel = c.path[len(table.path):]
        for part in rel[:-1]:
            node = node.setdefault(part, ({}, []))[0]
        node.setdefault(rel[-1], ({}, []))[1].append((at, c))
        at += 3 if c.money else 1
    blank: list[Any] = [None] * at
    rows: list[list[Any]] = []
    for rec in records:
        if table.path:
            value = _get(rec.data, table.path)
            if not isinstance(value, list):
                continue
            for position, item in enumerate(value):
                if isinstance(item, dict):
                    row = blank[:]
                    row[0], row[1] = rec.id, position
                    _fill_row(row, item, tree, rec, item, config, base)
                    rows.append(row)
        else:
            row = blank[:]
            _fill_row(row, rec.data, tree, rec, None, config, base)
            rows.append(row)
    con.executemany(f"INSERT INTO {q(table.name)} VALUES ({', '.join('?' for _ in cols)})", rows)  # noqa: S608
    if table.path:
        _index(con, table.name, "record")
    for c in table.columns:
        if c.references or c.enum or c.name == "status":
            _index(con, table.name, c.name)


# key -> (the tree below it, the columns at it with their place in the row)
_PathTree = dict[str, tuple["_PathTree", list[tuple[int, Column]]]]


def _fill_row(row: list[Any], data: dict[str, Any], tree: _PathTree, rec: Record, item: dict[str, Any] | None,
              config: Any, base: str) -> None:
    """Set the cells of `row` for the values `data` holds along the paths of `tree` (what `_get` finds for each
    column's path; a path through anything but a mapping holds nothing)."""
    for key, value in data.items():
        entry = tree.get(key)
        if entry is None or value is None:
            continue
        below, here = entry
        for at, c in here:
            row[at] = _cell(value, c)
            if c.money:
                amount = Decimal(repr(value)) if isinstance(value, float) else (Decimal(value) if isinstance(value, int) and
                                                                              not isinstance(value, bool) else None)
                if amount is not None:
                    cur = _money_currency(rec, item, base)
                    row[at + 1], row[at + 2] = cur, float(to_base(amount, cur, config))
        if below and isinstance(value, dict):
            _fill_row(row, value, below, rec, item, config, base)


def _figures(con: sqlite3.Connection, evaluation: Evaluation) -> None:
    from bir.reports.models import CostReport, LicenceReport, LifecycleReport, RiskReport

    register, ctx = evaluation.register, evaluation.context
    config = register.config
    cost = evaluation.report("cost")
    life = evaluation.report("lifecycle")
    risk = evaluation.report("risk")
    lic = evaluation.report("licences")
    assert isinstance(cost, CostReport) and isinstance(life, LifecycleReport)
    assert isinstance(risk, RiskReport) and isinstance(lic, LicenceReport)
    _create(con, "exchange_rates", [("currency", "TEXT"), ("rate", "REAL"), ("base", "TEXT"), ("date", "TEXT")], pk="currency")
    con.execute("INSERT INTO exchange_rates VALUES (?, 1.0, ?, NULL)", (config.base_currency, config.base_currency))
    con.executemany("INSERT INTO exchange_rates VALUES (?, ?, ?, ?)",
                    [(r.currency, float(r.rate), r.base, r.date.isoformat() if r.date else None) for r in cost.rates])
    _figure_table(con, "book_values", DepreciationLine, cost.depreciation)
    _figure_table(con, "run_costs", RunCostLine, cost.run, record_field=None)
    records = sorted(register.records.values(), key=lambda r: r.id)
    _create(con, "record_run_costs", [("record", "TEXT"), ("annual_base", "REAL")], pk="record", fks=[("record", "records")])
    per_record = evaluation.figures().records  # each record's annual run cost as the models computed it
    con.executemany("INSERT INTO record_run_costs VALUES (?, ?)",
                    [(r.id, float(per_record[r.id].annual_run_cost)) for r in records if r.kind not in ("party", "waiver")])
    _figure_table(con, "tco", TcoLine, cost.tco)
    _figure_table(con, "tco_services", ServiceTcoLine, cost.tco_services, record_field="service")
    _create(con, "life_dates", [("record", "TEXT"), ("kind", "TEXT"), ("end_of_support", "TEXT"), ("end_of_life", "TEXT"),
                                ("end_of_extended_support", "TEXT"), ("source", "TEXT")], pk="record", fks=[("record", "records")])
    rows = []
    for r in records:
        if r.kind in ("hardware", "software"):
            d = ctx.life(r)
            if d.eos or d.eol or d.eoes:
                rows.append((r.id, r.kind, _plain(d.eos), _plain(d.eol), _plain(d.eoes), d.source))
    con.executemany("INSERT INTO life_dates VALUES (?, ?, ?, ?, ?, ?)", rows)
    _index(con, "life_dates", "end_of_life")
    _figure_table(con, "lifecycle_events", EventLine, life.events)
    findings = [*risk.findings, *risk.waived]
    _figure_table(con, "risk_findings", Finding, findings, extra=[("waived", "INTEGER", lambda f: int(bool(f.waived_by)))])
    _create(con, "risk_finding_services", [("finding", "INTEGER"), ("service", "TEXT")], fks=[("service", "records")])
    con.executemany("INSERT INTO risk_finding_services VALUES (?, ?)",
                    [(i, s) for i, f in enumerate(findings, start=1) for s in f.services])
    _index(con, "risk_finding_services", "finding")
    _create(con, "service_components", [("service", "TEXT"), ("component", "TEXT"), ("single_point_of_failure", "INTEGER")],
            fks=[("service", "records"), ("component", "records")])
    services = evaluation.figures().services
    single = {sid: frozenset(sf.single_points_of_failure) for sid, sf in services.items()}
    con.executemany("INSERT INTO service_components VALUES (?, ?, ?)",
                    [(s, c, int(c in single.get(s, ()))) for s, comps in sorted(ctx.components_of.items()) for c in comps])
    _index(con, "service_components", "service")
    _index(con, "service_components", "component")
    _figure_table(con, "licence_positions", LicencePosition, lic.positions, record_field="licence")


def write_sqlite(evaluation: Evaluation, path: Path) -> Path:
    """Write the database to `path` (atomically: a reader never sees half of it) and its datasette metadata
    beside it (`<stem>.metadata.json`); returns the metadata's path."""
    return finish_sqlite(evaluation, begin_sqlite(evaluation.register, evaluation.point, path))


@dataclass(frozen=True, slots=True)
class PartialDatabase:
    """A database with the record tables written and committed (`begin_sqlite`), in a temporary file beside
    `path`, waiting for the figures (`finish_sqlite`)."""

    path: Path
    tmp: Path
    tables: list[Table]

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)


def begin_sqlite(register: Register, point: Any, path: Path) -> PartialDatabase:
    """The record tables of the database for `path`, in a temporary file beside it. They need no report, so
    the site writes them while the reports are computed; `write_sqlite` runs both steps, so the file is the
    same byte for byte either way (two transactions: the record tables', then the figures')."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        con = sqlite3.connect(tmp)
        try:
            tables = fill_register(con, register, point)
            con.commit()
        finally:
            con.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return PartialDatabase(path, tmp, tables)


def finish_sqlite(evaluation: Evaluation, part: PartialDatabase) -> Path:
    """Add the figures to the database `begin_sqlite` started, put it at its path (atomically) and write its
    datasette metadata beside it; returns the metadata's path."""
    try:
        con = sqlite3.connect(part.tmp)
        try:
            fill_figures(con, evaluation)
            con.commit()
        finally:
            con.close()
        os.chmod(part.tmp, 0o644)
        os.replace(part.tmp, part.path)
    except BaseException:
        part.discard()
        raise
    from bir.base.atomic import write_text

    meta = part.path.with_name(part.path.stem + ".metadata.json")
    write_text(meta, json.dumps(metadata(evaluation, part.tables, part.path.stem), indent=2, ensure_ascii=False) + "\n")
    return meta


def metadata(evaluation: Evaluation, tables: list[Table], database: str) -> dict[str, Any]:
    """A datasette metadata document: the register's title, each table's title, description, column
    descriptions and facets."""
    config = evaluation.register.config
    day = evaluation.point.day.isoformat()
    out: dict[str, Any] = {}
    for t in tables:
        columns = {c.name: c.description for c in t.columns if c.description}
        for c in t.columns:
            if c.money:
                columns[f"{c.name}_currency"] = f"The currency of {c.name}."
                columns[f"{c.name}_base"] = f"{c.name} in {config.base_currency}, at the configured exchange rate."
        facets = [c.name for c in t.columns if c.enum or c.name == "status"][:4]
        entry: dict[str, Any] = {"title": t.title, "description": t.description, "columns": columns}
        if facets:
            entry["facets"] = facets
        out[t.name] = entry
    out["records"] = {"title": "Every record", "description": "One row per record of every kind.", "facets": ["kind", "status"]}
    out["relations"] = {"title": "Relations", "description": "Typed relations between records: "
                        + "; ".join(f"{n}: {r.description}" for n, r in RELATION_TYPES.items()), "facets": ["type"]}
    for name, (title, rule) in FIGURES.items():
        doc = " ".join(CATALOG[rule].doc.split()) if rule in CATALOG else ""
        out[name] = {"title": title, "description": f"As of {day}, from bir's report models. {doc}".strip()}
    out["life_dates"] = {"title": "End of support and end of life", "description": f"As of {day}: the record's own dates, else "
                         "its lifecycle feed's (source says which)."}
    out["service_components"] = {"title": "What each service rests on", "description": "The components a service depends on, "
                                 "directly or through other records (as the reports count them); single_point_of_failure is 1 for a "
                                 "component whose failure alone takes the service down."}
    out["export_info"] = {"title": "About this export", "description": "The date the figures are computed on, the base currency, "
                          "and the commit the register was read from."}
    return {"title": f"{config.name or 'Register'}: the register as of {day}",
            "description": f"Exported by bir {__version__}; money in its own currency and in {config.base_currency}.",
            "databases": {database: {"tables": out}}}
