"""CSV import: rows of another tool's export become records, checked like any edit before being written.

Snipe-IT's asset export is understood out of the box (see `SNIPE_IT`); any other export is read
through a mapping file:

    columns:                     # CSV column -> a field path, a Snipe-IT column name, or null (ignore)
      Device name: name
      S/N: serial_number
      Site: Location             # read like Snipe-IT's Location column (a facility by id or name)
      Internal notes: null
    values:                      # optional: translate cell values of `status` and `class`
      status: {Active: in_use, Spare: in_stock}
      class: {Notebooks: laptop}
    defaults:                    # optional: values for every new record
      owner: team-it

Snipe-IT's exports need no mapping: the Custom Asset Report (with its "label (type)" statuses and its
repeated Address columns), the asset list's export and the import sample; what bir has no field for is
kept under `custom.snipeit`. The delimiter is detected from the header and the decimal mark from the
amounts (or given: --delimiter, --decimal); amounts are parsed strictly ("12abc", "(100.00)" rejected).

Design choices:
- No state date, retirement reason or loss report is made up: a state date comes only from a column
  that carries it (Checkout Date for an asset in use), and a row whose state needs a fact it lacks is
  rejected by the lifecycle rule, naming the field. A row without its asset tag is rejected.
- A column that is neither understood nor mapped refuses the whole import (nothing is written): data
  is never dropped silently. Map it to `null` to ignore it.
- Parties (supplier, manufacturer, checked-out-to) and facilities (location) are looked up by id,
  name or e-mail; one that does not exist rejects the row with a hint to create it first
  (`bir new party ...`). The import never invents parties: their ids, owners and types are decisions.
- An existing record (same id, asset tag or serial number) is left alone unless `--update`; with it,
  only the fields the CSV holds are set, in place, keeping the file's comments and layout. A row whose
  values are already in the record changes nothing, so a second run writes nothing.
- Every row is checked like `bir set` checks an edit (schema, record rules, references); a row that
  fails is rejected with its row number (the header is row 1), column and reason; the other rows are
  imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bir.base.model import KINDS
from bir.base.problems import Problem, UsageError
from bir.read.yamlstrict import parse
from bir.write.authoring import plan_new
from bir.write.cells import (
    CellRejected,
    add_months,
    detect_decimal,
    detect_delimiter,
    read_date,
    read_input_text,
    read_money,
    read_typed,
    slug,
)
from bir.write.fieldedit import Assignment, apply
from bir.write.mapping import ColumnMap, field_types, header_columns, load_mapping
from bir.write.rtyaml import dump_rt, load_rt, plain
from bir.write.snipeit import CATEGORY_CLASS, SNIPE_STATUS, SNIPE_STATUS_TYPE
from bir.write.workspace import Edit, Plan, Workspace


@dataclass(frozen=True, slots=True)
class Rejection:
    row: int
    column: str
    reason: str

    def __post_init__(self) -> None:  # a reason quotes cells: never a whole megabyte of one
        if len(self.reason) > 1000:
            object.__setattr__(self, "reason", self.reason[:999] + "…")

    def to_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass(slots=True)
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # exists; not changed without --update
    rejected: list[Rejection] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged, "skipped": self.skipped,
                "rejected": [r.to_dict() for r in self.rejected], "written": self.written}


# --- lookups ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Index:
    """Records of the register the import needs: parties and facilities by id, name, e-mail; records
    of the imported kind by id, asset tag and serial number."""

    kinds: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> lowercase name/email -> id
    by_key: dict[str, str] = field(default_factory=dict)  # "asset_tag:x" / "serial_number:x" -> id

    @classmethod
    def build(cls, ws: Workspace, kind: str) -> Index:
        idx = cls()
        for rid, rel in ws.paths.items():
            k = rel.split("/")[-2]
            idx.kinds[rid] = k
            if k not in ("party", "facility", kind):
                continue
            value = parse(ws.read(rel), rel).value
            if not isinstance(value, dict):
                continue
            if k in ("party", "facility"):
                names = idx.by_name.setdefault(k, {})
                for key in ("name", "email", "code"):
                    if isinstance(value.get(key), str):
                        names.setdefault(value[key].strip().lower(), rid)
            if k == kind:
                for key in ("asset_tag", "serial_number"):
                    if isinstance(value.get(key), str) and value[key]:
                        idx.by_key.setdefault(f"{key}:{value[key].strip().lower()}", rid)
        return idx

    def find(self, kind: str, text: str) -> str | None:
        t = text.strip()
        if self.kinds.get(t) == kind:
            return t
        return self.by_name.get(kind, {}).get(t.lower())


def read_row(cells: Mapping[str, str], mapping: ColumnMap, idx: Index, kind: str,
             types: Mapping[str, str] | None = None, decimal: str = ".") -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """A CSV row as (dotted field -> value, dotted field -> column, located_in targets)."""
    fields: dict[str, Any] = {}
    column_of: dict[str, str] = {}
    located: list[str] = []
    warranty: tuple[str, int] | None = None

    def put(path: str, value: Any, column: str) -> None:
        fields[path] = value
        column_of[path] = column

    for column, text in cells.items():
        target = mapping.columns.get(column)
        if target is None or text.strip() == "":
            continue
        text = text.strip()
        if not target.startswith("@"):
            put(target, read_typed(text, (types or {}).get(target), column), column)
            continue
        special = target[1:]
        if special == "status":
            table = {**SNIPE_STATUS, **mapping.values.get("status", {})}
            # the Custom Asset Report writes "<label> (<type>)": the label first, else its type
            label, meta = text, ""
            found_meta = re.fullmatch(r"(.*?)\s*\((deployed|deployable|pending|undeployable|archived)\)", text, re.I)
            if found_meta:
                label, meta = found_meta.group(1), found_meta.group(2).lower()
            value = table.get(text.lower()) or table.get(label.lower()) or SNIPE_STATUS_TYPE.get(meta) or text
            if meta == "deployed":
                value = "in_use"  # checked out, whatever the label
            put("status", value, column)
        elif special == "class":
            table = {**CATEGORY_CLASS, **mapping.values.get("class", {})}
            put("class", table.get(text.lower(), "other"), column)
        elif special in ("supplier", "manufacturer", "assigned_to", "owner"):
            found = idx.find("party", text)
            if found is None:
                raise CellRejected(column, f"no party '{text}' in the register (by id, name or e-mail); "
                                      f"create it first: bir new party --id {slug(text) or 'ID'} --set name=\"{text}\" ...")
            put({"supplier": "financial.supplier"}.get(special, special), found, column)
        elif special == "location":
            found = idx.find("facility", text)
            if found is None:
                raise CellRejected(column, f"no facility '{text}' in the register (by id or name); create it first: "
                                      f"bir new facility --id {slug(text) or 'ID'} --set name=\"{text}\" ...")
            located.append(found)
            column_of["relations"] = column
        elif special == "warranty_months":
            if not re.fullmatch(r"\d{1,4}", text):
                raise CellRejected(column, f"'{text}' is not a whole number of months (at most 9999)")
            warranty = (column, int(text))
        elif special == "mac_addresses":
            put("mac_addresses", [m.lower() for m in re.split(r"[,;\s]+", text) if m], column)
        elif special in ("financial.purchase_date", "financial.order_date", "warranty_end", "end_of_life", "end_of_support",
                         "last_verified") or special.endswith("_date") or special.startswith("status_dates."):
            put(special, read_date(text, column), column)
        elif special in ("financial.purchase_cost",) or special.endswith("_cost"):
            put(special, read_money(text, column, decimal), column)
        else:
            raise CellRejected(column, f"the mapping names an unknown reader '@{special}'")
    if "status_dates.in_use" in fields and fields.get("status") != "in_use":
        # a checkout date says when it went into use; for an asset not in use now it is no state date
        fields.pop("status_dates.in_use")
        column_of.pop("status_dates.in_use", None)
    if warranty is not None and "warranty_end" not in fields:
        if "financial.purchase_date" not in fields:
            raise CellRejected(warranty[0], "warranty months need a purchase date to count from")
        try:
            put("warranty_end", add_months(fields["financial.purchase_date"], warranty[1]), warranty[0])
        except (ValueError, OverflowError):  # past year 9999
            raise CellRejected(warranty[0], "the warranty would end after the last day of the calendar") from None
    if "financial.purchase_cost" in fields:
        fields.setdefault("financial.currency", None)
    return fields, column_of, located


def _assignments(fields: Mapping[str, Any], base_currency: str) -> list[Assignment]:
    out = []
    for path, value in fields.items():
        if path == "financial.currency" and value is None:
            value = base_currency
        out.append(Assignment(path, "=", value))
    return out


def _column_for(problem: Problem, column_of: Mapping[str, str]) -> str:
    dotted = ".".join(p for p in problem.json_path.split("/") if p and not p.isdigit())
    while dotted:
        if dotted in column_of:
            return column_of[dotted]
        dotted = dotted.rsplit(".", 1)[0] if "." in dotted else ""
    return ""


def import_csv(root: Path, csv_path: Path, kind: str, *, mapping_path: Path | None = None, owner: str | None = None,
               update: bool = False, dry_run: bool = False, today: dt.date | None = None, delimiter: str | None = None,
               decimal: str | None = None) -> ImportResult:
    """Import the rows of `csv_path` as records of `kind`, under the register lock: the register is read
    after any other writer finished, and every accepted row is written, or none (see `bir.base.journal`).
    `delimiter` and `decimal` (the decimal mark of amounts, `.` or `,`) are detected when not given: the
    delimiter from the header, the decimal mark from the money cells."""
    from bir.write.workspace import writing

    with writing(root, dry_run):
        return _import_csv(root, csv_path, kind, mapping_path=mapping_path, owner=owner, update=update,
                           dry_run=dry_run, today=today, delimiter=delimiter, decimal=decimal)


_CELL_TYPES = frozenset({"string", "number", "integer", "boolean"})


def _is_own_field(node: Any) -> bool:
    """Whether a column of this name fills the field of that name: a field of the kind's schema that one
    cell can hold (text, a number, a yes/no, or a list of texts written `a; b` as `bir export csv` writes
    it), not a mapping or a list of mappings (relations), which need a mapping file."""
    if not isinstance(node, dict):
        return False
    if node.get("type") == "array":
        items = node.get("items")
        return isinstance(items, dict) and items.get("type") == "string"
    return node.get("type") in _CELL_TYPES


def _import_csv(root: Path, csv_path: Path, kind: str, *, mapping_path: Path | None, owner: str | None,
                update: bool, dry_run: bool, today: dt.date | None, delimiter: str | None,
                decimal: str | None) -> ImportResult:
    if kind not in KINDS:
        raise UsageError(f"unknown kind '{kind}'; one of: {', '.join(KINDS)}")
    if decimal not in (None, ".", ","):
        raise UsageError(f"--decimal must be '.' or ',', not {decimal!r}")
    mapping = load_mapping(mapping_path)
    text = read_input_text(csv_path)
    delimiter = delimiter or detect_delimiter(text.split("\n", 1)[0].rstrip("\r"), mapping.columns)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError(f"{csv_path} is empty: it needs a header row") from None
    except csv.Error as exc:
        raise UsageError(f"{csv_path}: the header row is not valid CSV: {exc}") from exc
    header = [h.strip() for h in header]
    ws = Workspace.open(root, today)
    schema_fields = ws.schemas.fields(kind)
    for h in header:  # a column named as the field it fills (`serial_number`, `financial.purchase_cost`)
        if h not in mapping.columns and _is_own_field(schema_fields.get(h)):
            mapping.columns[h] = h
    unknown = [h for h in header if h not in mapping.columns]
    if unknown:
        raise UsageError(f"{csv_path}: column(s) {', '.join(repr(u) for u in unknown)} are not understood; map them to a field "
                         "(a custom one as custom.<namespace>.<key>, or null to ignore them) in a mapping file passed "
                         "with --mapping; nothing was imported")
    header = header_columns(header, mapping, csv_path)
    if decimal is None:
        money_cols = [i for i, h in enumerate(header) if str(mapping.columns.get(h) or "").endswith("_cost")]
        sample = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))[1:]
        decimal = detect_decimal([row[i] for row in sample for i in money_cols if i < len(row) and row[i].strip()]) or "."
    key_column = next((h for h in header if mapping.columns.get(h) == "asset_tag"), None)
    owner = owner or (str(mapping.defaults["owner"]) if mapping.defaults.get("owner") else None)
    if "owner" not in mapping.columns.values() and "@owner" not in mapping.columns.values() and owner is None:
        raise UsageError("new records need an owner: pass --owner PARTY (or `defaults: {owner: ...}` in the mapping file)")
    if owner is not None and ws.paths.get(owner, "").split("/")[-2:-1] != ["party"]:
        raise UsageError(f"--owner '{owner}' is not a party of the register")
    idx = Index.build(ws, kind)
    types = field_types(ws.schemas, kind)
    result = ImportResult()
    plan = Plan()
    seen: dict[str, int] = {}
    new_ids: set[str] = set()
    row_of_edit: dict[str, tuple[int, dict[str, str]]] = {}
    line = 1
    while True:
        try:
            cells_list = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = reader.line_num
            result.rejected.append(Rejection(line, "", f"not valid CSV: {exc}"))
            break
        line = reader.line_num
        if not any(c.strip() for c in cells_list):
            continue
        if len(cells_list) != len(header):
            result.rejected.append(Rejection(line, "", f"has {len(cells_list)} cells, the header has {len(header)}"))
            continue
        cells = dict(zip(header, cells_list, strict=True))
        if key_column is not None and not cells[key_column].strip():
            result.rejected.append(Rejection(line, key_column, "the row has no asset tag, the key that matches it to a record; "
                                             "fill it in (or leave the column out to import by serial number)"))
            continue
        try:
            fields, column_of, located = read_row(cells, mapping, idx, kind, types, decimal)
        except CellRejected as rej:
            result.rejected.append(Rejection(line, rej.column, rej.reason))
            continue
        states = ws.config.model_for(kind).states
        if "status" in fields and fields["status"] not in states:
            result.rejected.append(Rejection(line, column_of["status"], f"status '{fields['status']}' is not a state of {kind} "
                                             f"({', '.join(states)}); translate it under `values: {{status: ...}}` "
                                             "in a mapping file"))
            continue
        keys = [f"{k}:{str(fields[k]).lower()}" for k in ("asset_tag", "serial_number") if fields.get(k)]
        dup = next((seen[k] for k in keys if k in seen), None)
        if dup is not None:
            result.rejected.append(Rejection(line, "", f"the same asset tag or serial number as row {dup}"))
            continue
        for k in keys:
            seen[k] = line
        existing = next((idx.by_key[k] for k in keys if k in idx.by_key), None)
        if existing is None and fields.get("id") in idx.kinds:
            existing = str(fields["id"])
        try:
            if existing is not None:
                if not update:
                    result.skipped.append(existing)
                    continue
                edit = _update(ws, existing, fields, located)
                if not edit.changed:
                    result.unchanged.append(existing)
                    continue
            else:
                edit = _create(ws, kind, fields, located, owner, new_ids)
                new_ids.add(edit.record_id)
        except UsageError as exc:
            result.rejected.append(Rejection(line, "", str(exc)))
            continue
        row_of_edit[edit.path] = (line, column_of)
        plan.edits.append(edit)
    # check every edit; a row with problems is rejected, the others go ahead
    good: list[Edit] = []
    for e in plan.edits:
        problems = ws.check(e.path, e.kind, e.after, new_ids)
        if e.before is not None and problems:
            old = {(p.rule, p.json_path) for p in ws.check(e.path, e.kind, e.before, new_ids)}
            problems = [p for p in problems if (p.rule, p.json_path) not in old]
        row, column_of = row_of_edit[e.path]
        if problems:
            for p in problems:
                result.rejected.append(Rejection(row, _column_for(p, column_of), f"{p.message} [{p.rule}]"))
            continue
        good.append(e)
        (result.created if e.before is None else result.updated).append(e.record_id)
    result.rejected.sort(key=lambda r: (r.row, r.column, r.reason))
    if not dry_run:
        from bir.base.journal import commit

        # every accepted row or none of them, even when the import is killed midway
        result.written.extend(commit(ws.root, {e.path: e.after for e in good}))
    return result


def _create(ws: Workspace, kind: str, fields: dict[str, Any], located: list[str], owner: str | None,
            taken: set[str]) -> Edit:
    record_id = fields.pop("id", None)
    if record_id is None and fields.get("asset_tag"):
        candidate = slug(str(fields["asset_tag"]))
        if candidate and candidate not in ws.paths and candidate not in taken:
            record_id = candidate
    assignments = _assignments(fields, ws.config.base_currency)
    if owner is not None and "owner" not in fields:
        assignments.insert(0, Assignment("owner", "=", owner))
    # No state date, reason or loss report is made up: they come from the columns that carry them (a
    # Checkout Date for an asset in use), and a state that needs one the row lacks is rejected by the
    # lifecycle rule, naming the field (bir transition sets it later, with the real date).
    for target in located:
        assignments.append(Assignment("relations", "+=", {"type": "located_in", "target": target}))
    edit = plan_new(ws, kind, assignments, record_id, taken)
    status = fields.get("status")
    if isinstance(status, str) and f"status_dates.{status}" not in fields:
        # a new record is dated today in its state; the import day is not when the asset entered it
        tree = load_rt(edit.after.split(b"\n", 1)[1])
        dates = tree.get("status_dates")
        if isinstance(dates, dict) and status in dates:
            del dates[status]
            if not dates:
                del tree["status_dates"]
            edit = Edit(edit.path, edit.record_id, edit.kind, None, edit.after.split(b"\n", 1)[0] + b"\n" + dump_rt(tree))
    return edit


def _update(ws: Workspace, rid: str, fields: dict[str, Any], located: list[str]) -> Edit:
    rel = ws.paths[rid]
    before = ws.read(rel)
    tree = load_rt(before)
    order = ws.order(ws.kind_of(rid))
    for a in _assignments({k: v for k, v in fields.items() if k != "id"}, ws.config.base_currency):
        if a.field == "financial.currency" and isinstance(tree.get("financial"), dict) and "currency" in tree["financial"]:
            continue
        apply(tree, a, order)
    for target in located:
        rels = tree.get("relations") or []
        current = [r for r in rels if isinstance(r, dict) and r.get("type") == "located_in"]
        if current:
            if plain(current[0].get("target")) != target:
                current[0]["target"] = target
        else:
            apply(tree, Assignment("relations", "+=", {"type": "located_in", "target": target}), order)
    after = dump_rt(tree)
    return Edit(rel, rid, ws.kind_of(rid), before, after)
