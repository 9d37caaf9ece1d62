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
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bir.base.model import KINDS
from bir.base.problems import Problem, UsageError
from bir.read.yamlstrict import parse, plain_value
from bir.write.authoring import Assignment, Edit, Plan, Workspace, apply, dump_rt, load_rt, plain, plan_new

# Snipe-IT's asset exports (the Custom Asset Report, the asset list's export, the import sample), English
# headers -> a field path, a special reader (`@name`), or `custom.snipeit.<key>` for what bir has no field for
# (kept, never dropped). Sources: Snipe-IT's ReportsController::postCustom and AssetPresenter column titles
# (resources/lang/en-US: admin/hardware/table.php, admin/hardware/form.php, general.php).
_SNIPE_CUSTOM = ("ID", "Company", "Model No.", "Model Number", "Current Value", "Diff", "Fully Depreciated", "EOL Rate",
                 "Default Location", "Address", "City", "State", "Country", "Zip", "Type", "Checked Out Asset Tag", "Username",
                 "User Company", "Email", "Employee No.", "Employee Number", "Manager", "Department", "Title", "Phone",
                 "User Address", "User City", "User State", "User Country", "User Zip", "Last Checkin Date",
                 "Expected Checkin Date", "Expected Checkin", "Created At", "Updated At", "Updated at", "Deleted", "Last Audit",
                 "Next Audit Date", "URL", "Image", "Device Image", "Age", "Checkins", "Checkouts", "Requests",
                 "Requestable", "Purchase Order", "Checked Out")
SNIPE_IT: dict[str, str | None] = {
    "Asset Tag": "asset_tag",
    "Name": "name",
    "Asset Name": "name",
    "Serial": "serial_number",
    "Model": "model",
    "Category": "@class",
    "Status": "@status",
    "Purchase Date": "@financial.purchase_date",
    "Purchased": "@financial.purchase_date",
    "Purchase Cost": "@financial.purchase_cost",
    "Cost": "@financial.purchase_cost",
    "Supplier": "@supplier",
    "Location": "@location",
    "Warranty Months": "@warranty_months",
    "Warranty": "@warranty_months",
    "Warranty Expires": "@warranty_end",
    "Order Number": "financial.order_number",
    "Notes": "description",
    "Manufacturer": "@manufacturer",
    "Checked Out To": "@assigned_to",
    "MAC Address": "@mac_addresses",
    "EOL": "@end_of_life",
    "EOL Date": "@end_of_life",
    "Checkout Date": "@status_dates.in_use",
    "Last Checkout": "@status_dates.in_use",
    **{name: "custom.snipeit." + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") for name in _SNIPE_CUSTOM},
}
# A Snipe-IT status label type (the "(type)" after the label in the Custom Asset Report) -> state.
SNIPE_STATUS_TYPE = {"deployed": "in_use", "deployable": "in_stock", "pending": "in_stock", "undeployable": "in_maintenance",
                     "archived": "retired"}
SNIPE_STATUS = {  # Snipe-IT's default status labels
    "ready to deploy": "in_stock", "broken - not fixable": "retired", "deployable": "in_stock", "deployed": "in_use", "pending": "ordered",
    "archived": "retired", "broken": "in_maintenance", "out for repair": "in_maintenance",
    "out for diagnostics": "in_maintenance",
    "lost/stolen": "lost", "lost": "lost", "stolen": "stolen", "undeployable": "in_stock", "in use": "in_use",
}
CATEGORY_CLASS = {
    "laptop": "laptop", "laptops": "laptop", "notebook": "laptop", "notebooks": "laptop",
    "desktop": "desktop", "desktops": "desktop", "pc": "desktop", "workstation": "desktop",
    "server": "server", "servers": "server",
    "phone": "phone", "phones": "phone", "mobile phone": "phone", "mobile phones": "phone", "smartphone": "phone",
    "tablet": "tablet", "tablets": "tablet",
    "monitor": "monitor", "monitors": "monitor", "display": "monitor", "displays": "monitor",
    "printer": "printer", "printers": "printer",
    "switch": "network_device", "switches": "network_device", "router": "network_device", "routers": "network_device",
    "firewall": "network_device", "access point": "network_device", "networking": "network_device",
    "network": "network_device", "network device": "network_device",
    "storage": "storage", "nas": "storage", "san": "storage",
}
_SLUG = re.compile(r"[^a-z0-9]+")
_FIELD = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*")


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:100].strip("-")


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


@dataclass(slots=True)
class Mapping_:
    columns: dict[str, str | None]
    values: dict[str, dict[str, str]]
    defaults: dict[str, Any]


def load_mapping(path: Path | None) -> Mapping_:
    columns: dict[str, str | None] = dict(SNIPE_IT)
    values: dict[str, dict[str, str]] = {}
    defaults: dict[str, Any] = {}
    if path is None:
        return Mapping_(columns, values, defaults)
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
    return Mapping_(columns, values, defaults)


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


class _Reject(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def _date(text: str, column: str) -> str:
    t = text.strip()
    m = re.match(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$", t)
    if m:
        try:
            dt.date.fromisoformat(m.group(1))
            return m.group(1)
        except ValueError:
            pass
    raise _Reject(column, f"'{text}' is not a date (YYYY-MM-DD)")


_CURRENCY_AFFIX = re.compile(r"^(?:([A-Z]{3})\s*)?(.*?)(?:\s*([A-Z]{3}))?$")


def _money(text: str, column: str, decimal: str = ".") -> int | float:
    """A purchase cost: digits with at most two decimals after `decimal` (`.` or `,`), thousands grouped by
    the other mark, a space or an apostrophe; a currency code before or after is allowed. Anything else is
    rejected: `12abc`, `(100.00)`, `-5`, `1.2.3`."""
    t = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    m = _CURRENCY_AFFIX.match(t)
    number = (m.group(2) if m else t).strip()
    if (number.startswith("(") and number.endswith(")")) or number.startswith("-"):
        raise _Reject(column, f"'{text}' is negative; a purchase cost is an amount of zero or more")
    group = "." if decimal == "," else ","
    pattern = (rf"\d{{1,3}}(?:[{re.escape(group)} ']\d{{3}})+(?:{re.escape(decimal)}\d+)?|\d+(?:{re.escape(decimal)}\d+)?")
    if not re.fullmatch(pattern, number):
        other = "," if decimal == "." else "."
        hint = (f"; with {other!r} as the decimal mark, pass --decimal '{other}'" if re.fullmatch(
            rf"[\d{re.escape(decimal)} ']*{re.escape(other)}\d{{1,2}}", number) else "")
        raise _Reject(column, f"'{text}' is not an amount of money (digits, {decimal!r} before the decimals){hint}")
    plain = re.sub(rf"[{re.escape(group)} ']", "", number).replace(decimal, ".")
    value = Decimal(plain)
    try:
        cents = value.quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than an amount of money has
        raise _Reject(column, f"'{text}' is too large to be an amount of money") from None
    if value != cents:
        raise _Reject(column, f"'{text}' has more than two decimals")
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


def _add_months(date: str, months: int) -> str:
    d = dt.date.fromisoformat(date)
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    import calendar

    day = min(d.day, calendar.monthrange(year, month)[1])
    return (dt.date(year, month, day) - dt.timedelta(days=1)).isoformat()


def field_types(root: Path, kind: str) -> dict[str, str]:
    """The JSON type of each field of the kind's schema (top level and one level down, `$ref`s into
    defs.schema.json followed): CSV cells are text, and become numbers or booleans where the schema says."""
    import json

    try:
        schema = json.loads((root / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8"))
        defs = json.loads((root / "schemas" / "defs.schema.json").read_text(encoding="utf-8")).get("definitions", {})
    except (OSError, ValueError):
        return {}

    def resolve(node: Any) -> Any:
        ref = str(node.get("$ref", "")) if isinstance(node, dict) else ""
        return defs.get(ref.rsplit("/", 1)[-1], {}) if ref.startswith("defs.schema.json#/definitions/") else node

    out: dict[str, str] = {}
    for name, sub in (schema.get("properties") or {}).items():
        sub = resolve(sub)
        if isinstance(sub, dict) and isinstance(sub.get("type"), str):
            out[name] = sub["type"]
        for child, node in ((sub.get("properties") or {}).items() if isinstance(sub, dict) else ()):
            node = resolve(node)
            if isinstance(node, dict) and isinstance(node.get("type"), str):
                out[f"{name}.{child}"] = node["type"]
    return out


def _typed(text: str, json_type: str | None, column: str) -> Any:
    if json_type in ("integer", "number"):
        value = plain_value(text)
        wrong = json_type == "integer" and not isinstance(value, int)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or wrong:
            raise _Reject(column, f"'{text}' is not a {'whole ' if json_type == 'integer' else ''}number")
        return value
    if json_type == "boolean":
        table = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        if text.lower() not in table:
            raise _Reject(column, f"'{text}' is not true or false")
        return table[text.lower()]
    if json_type == "array":
        return [t.strip() for t in re.split(r"[,;]", text) if t.strip()]
    return text


def read_row(cells: Mapping[str, str], mapping: Mapping_, idx: Index, kind: str,
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
            put(target, _typed(text, (types or {}).get(target), column), column)
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
                raise _Reject(column, f"no party '{text}' in the register (by id, name or e-mail); "
                                      f"create it first: bir new party --id {slug(text) or 'ID'} --set name=\"{text}\" ...")
            put({"supplier": "financial.supplier"}.get(special, special), found, column)
        elif special == "location":
            found = idx.find("facility", text)
            if found is None:
                raise _Reject(column, f"no facility '{text}' in the register (by id or name); create it first: "
                                      f"bir new facility --id {slug(text) or 'ID'} --set name=\"{text}\" ...")
            located.append(found)
            column_of["relations"] = column
        elif special == "warranty_months":
            if not re.fullmatch(r"\d{1,4}", text):
                raise _Reject(column, f"'{text}' is not a whole number of months (at most 9999)")
            warranty = (column, int(text))
        elif special == "mac_addresses":
            put("mac_addresses", [m.lower() for m in re.split(r"[,;\s]+", text) if m], column)
        elif special in ("financial.purchase_date", "financial.order_date", "warranty_end", "end_of_life", "end_of_support",
                         "last_verified") or special.endswith("_date") or special.startswith("status_dates."):
            put(special, _date(text, column), column)
        elif special in ("financial.purchase_cost",) or special.endswith("_cost"):
            put(special, _money(text, column, decimal), column)
        else:
            raise _Reject(column, f"the mapping names an unknown reader '@{special}'")
    if "status_dates.in_use" in fields and fields.get("status") != "in_use":
        # a checkout date says when it went into use; for an asset not in use now it is no state date
        fields.pop("status_dates.in_use")
        column_of.pop("status_dates.in_use", None)
    if warranty is not None and "warranty_end" not in fields:
        if "financial.purchase_date" not in fields:
            raise _Reject(warranty[0], "warranty months need a purchase date to count from")
        try:
            put("warranty_end", _add_months(fields["financial.purchase_date"], warranty[1]), warranty[0])
        except (ValueError, OverflowError):  # past year 9999
            raise _Reject(warranty[0], "the warranty would end after the last day of the calendar") from None
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


def _columns(header: list[str], mapping: Mapping_, csv_path: Path) -> list[str]:
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


def import_csv(root: Path, csv_path: Path, kind: str, *, mapping_path: Path | None = None, owner: str | None = None,
               update: bool = False, dry_run: bool = False, today: dt.date | None = None, delimiter: str | None = None,
               decimal: str | None = None) -> ImportResult:
    """Import the rows of `csv_path` as records of `kind`, under the register lock: the register is read
    after any other writer finished, and every accepted row is written, or none (see `bir.base.journal`).
    `delimiter` and `decimal` (the decimal mark of amounts, `.` or `,`) are detected when not given: the
    delimiter from the header, the decimal mark from the money cells."""
    from bir.write.authoring import writing

    with writing(root, dry_run):
        return _import_csv(root, csv_path, kind, mapping_path=mapping_path, owner=owner, update=update,
                           dry_run=dry_run, today=today, delimiter=delimiter, decimal=decimal)


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
    unknown = [h for h in header if h not in mapping.columns]
    if unknown:
        raise UsageError(f"{csv_path}: column(s) {', '.join(repr(u) for u in unknown)} are not understood; map them to a field "
                         "(a custom one as custom.<namespace>.<key>, or null to ignore them) in a mapping file passed "
                         "with --mapping; nothing was imported")
    header = _columns(header, mapping, csv_path)
    if decimal is None:
        money_cols = [i for i, h in enumerate(header) if str(mapping.columns.get(h) or "").endswith("_cost")]
        sample = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))[1:]
        decimal = detect_decimal([row[i] for row in sample for i in money_cols if i < len(row) and row[i].strip()]) or "."
    key_column = next((h for h in header if mapping.columns.get(h) == "asset_tag"), None)
    ws = Workspace.open(root, today)
    owner = owner or (str(mapping.defaults["owner"]) if mapping.defaults.get("owner") else None)
    if "owner" not in mapping.columns.values() and "@owner" not in mapping.columns.values() and owner is None:
        raise UsageError("new records need an owner: pass --owner PARTY (or `defaults: {owner: ...}` in the mapping file)")
    if owner is not None and ws.paths.get(owner, "").split("/")[-2:-1] != ["party"]:
        raise UsageError(f"--owner '{owner}' is not a party of the register")
    idx = Index.build(ws, kind)
    types = field_types(root, kind)
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
        except _Reject as rej:
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
