"""`bir audit SCAN --location ID`: a stock-take of one location compared with the register, and recorded.

The scan is what the auditor saw: asset tags or serial numbers, one per line (plain text), or a CSV whose
header names an `asset_tag`, `tag`, `serial_number` or `serial` column (`Asset Tag` and `Serial` as
Snipe-IT writes them too). Values are compared trimmed and case-insensitively with the hardware records'
`asset_tag` and `serial_number`.

The scope is every hardware record the register places at the location (located in it or in places part of
it: `location_holdings`), except those disposed of, lost or stolen and those not delivered yet (planned,
ordered), and only of `--classes` when given.
Each value seen is:
- present: a record in scope; its `last_verified` becomes the audit date and `verified_by` the auditor
  (never moved back to an earlier date);
- in the wrong place: a record the register places elsewhere (or nowhere, or disposed of, lost or
  stolen): not verified; it is listed so that its record or the device is put right;
- unexpected: no record has that tag or serial number (or more than one has: the value is ambiguous).
Records in scope that were not seen are missing.

The audit record (`registry/audit/<id>.yaml`, state completed) and every verified record are written in one
all-or-nothing commit under the register lock, each checked like any edit first.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bir.base.layout import RECORD_DIR
from bir.base.problems import UsageError
from bir.base.rules import define
from bir.read.yamlvalues import shorten
from bir.reports.context import GONE, build_context
from bir.reports.figures import location_holdings
from bir.write.assign import _day
from bir.write.authoring import edit_record
from bir.write.cells import read_input_text
from bir.write.fieldedit import Assignment, apply
from bir.write.rtyaml import dump_rt, header, to_rt
from bir.write.workspace import Edit, Plan, Workspace, check_plan, write_plan, writing

MISSING = define("audit.missing", "warning", "reconcile", "every device the register places at a location is there", """
    A hardware record in the audit's scope (located at the location or in a place part of it, not disposed of,
    lost or stolen) whose asset tag or serial number the scan does not have.

    Passes: lt-0001 (asset tag NW-000101) located in the building, and NW-000101 in the scan.
    Fails:  lt-0001 located in the building, not in the scan: find it, or record where it is.
    """)
UNEXPECTED = define("audit.unexpected", "warning", "reconcile", "every device seen at a location is registered", """
    A value in the scan matches the asset tag or serial number of no hardware record (or of several).

    Passes: every tag in the scan is a record's asset_tag.  Fails:  NW-009999 matches no record.
    """)
WRONG_PLACE = define("audit.wrong_place", "warning", "reconcile", "devices seen at a location are registered there", """
    A value in the scan matches a record the register places at another location (or at none, or that is
    disposed of, lost or stolen); it is not verified.

    Passes: lt-0002 seen in the building it is located in.  Fails:  lt-0002 seen here, located in the London office.
    """)

NOT_YET = frozenset({"planned", "ordered"})  # not delivered yet: not expected on the shelf
_TAG_COLUMNS = ("asset_tag", "asset tag", "tag", "asset")
_SERIAL_COLUMNS = ("serial_number", "serial number", "serial", "serialnumber")
_ID = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class AuditFinding:
    rule: str
    value: str  # what the scan had ("" for a missing record)
    record: str  # "" for an unexpected value
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "value": self.value, "record": self.record, "message": self.message}


@dataclass(slots=True)
class AuditResult:
    audit: str
    location: str
    seen: int
    present: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    wrong_place: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    findings: list[AuditFinding] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)

    def to_dict(self) -> dict[str, Any]:
        return {"audit": self.audit, "location": self.location, "seen": self.seen, "present": self.present,
                "missing": self.missing, "wrong_place": self.wrong_place, "unexpected": self.unexpected,
                "findings": [f.to_dict() for f in self.findings], "written": [e.path for e in self.plan.changed]}


def scan_values(text: str, name: str = "the scan") -> list[str]:
    """The tags or serial numbers of a scan, in order, each once (CSV with a known column, else lines).

    An empty scan is refused, not read as a count that found nothing: recorded, it would say every device
    at the location is missing (a count that did find nothing is a CSV with its header line alone). A first
    line of several cells none of which is a known column is refused too: a CSV whose tags cannot be told."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise UsageError(f"{name} is empty; when the count found nothing at the location, give a scan of one line, "
                         "its header: asset_tag")
    first = lines[0]
    delim = max((",", ";", "\t"), key=first.count)
    head = [c.strip().lower() for c in next(csv.reader([first], delimiter=delim))]
    col = next((head.index(c) for c in (*_TAG_COLUMNS, *_SERIAL_COLUMNS) if c in head), None)
    if col is None and len(head) > 1:
        found = ", ".join(repr(shorten(c, 40)) for c in head[:8])
        raise UsageError(f"{name}: its first line has several cells ({found}) and none is a column of asset tags "
                         "or serial numbers; name one asset_tag or serial_number, or give one value a line")
    values: list[str] = []
    if col is not None:
        reader = csv.reader(io.StringIO("\n".join(lines[1:])), delimiter=delim)
        cols = [head.index(c) for c in (*_TAG_COLUMNS, *_SERIAL_COLUMNS) if c in head]
        for row in reader:
            value = next((row[c].strip() for c in cols if c < len(row) and row[c].strip()), "")
            if value:
                values.append(value)
    else:
        values = [line.strip() for line in lines]
    return list(dict.fromkeys(values))


def audit(root: Path, scan: Path, location: str, *, auditor: str, date: str | None = None, classes: tuple[str, ...] = (),
          audit_id: str | None = None, note: str | None = None, dry_run: bool = False, today: dt.date | None = None) -> AuditResult:
    """Compare the scan with the register at `location`, record the audit and verify what was seen where it belongs."""
    text = read_input_text(scan)
    values = scan_values(text, str(scan))
    with writing(root, dry_run):
        ws = Workspace.open(root, today)
        when = _day(date, "--date", ws.today)
        for rid, kind in ((location, "facility"), (auditor, "party")):
            if rid not in ws.paths or ws.kind_of(rid) != kind:
                what = f"a {ws.kind_of(rid)}" if rid in ws.paths else "not a record"
                raise UsageError(f"'{rid}' is {what}: {'--location names a facility' if kind == 'facility' else '--auditor names a party'}")
        from bir.point.point import at_worktree

        register = at_worktree(root, ws.today).load().register
        ctx = build_context(register, ws.today, {})
        held = set(location_holdings(ctx).get(location, ((), ()))[0])
        by_value: dict[str, set[str]] = {}
        hardware = register.of_kind("hardware")
        for rec in hardware:
            for key in ("asset_tag", "serial_number"):
                value = rec.data.get(key)
                if isinstance(value, str) and value.strip():
                    by_value.setdefault(value.strip().casefold(), set()).add(rec.id)
        scope = {r.id for r in hardware if r.id in held and r.status not in GONE and r.status not in NOT_YET
                 and (not classes or str(r.data.get("class", "")) in classes)}
        rid_audit = audit_id or _new_id(ws, when, location)
        result = AuditResult(rid_audit, location, len(values))
        seen: set[str] = set()
        for value in values:
            ids = by_value.get(value.casefold(), set())
            if len(ids) != 1:
                result.unexpected.append(value)
                why = "matches no record" if not ids else f"matches several records ({', '.join(sorted(ids))})"
                result.findings.append(AuditFinding(UNEXPECTED.id, value, "", f"{value} {why}"))
                continue
            rid = next(iter(ids))
            if rid in seen:
                continue
            seen.add(rid)
            rec = register.records[rid]
            if rid in scope:
                result.present.append(rid)
            elif rid in held and classes and rec.status not in GONE:
                continue  # at this location, outside the classes counted: neither verified nor wrong
            else:
                result.wrong_place.append(rid)
                where = [rel.target for rel in rec.relations if rel.type == "located_in"]
                state = f", {rec.status}" if rec.status in GONE else ""
                result.findings.append(AuditFinding(WRONG_PLACE.id, value, rid, f"{rid} ({value}) seen at {location}; the register "
                                                    f"places it {'in ' + ', '.join(where) if where else 'nowhere'}{state}"))
        result.missing = sorted(scope - seen)
        for rid in result.missing:
            result.findings.append(AuditFinding(MISSING.id, "", rid, f"{rid} is registered at {location} and was not seen"))
        result.present.sort()
        result.wrong_place.sort()
        plan = result.plan
        plan.edits.append(_audit_record(ws, rid_audit, location, when, auditor, classes, scan.name, note, result))
        for rid in result.present:
            last = register.records[rid].data.get("last_verified")
            if isinstance(last, str) and last > when:
                continue  # verified later already: an older stock-take never moves the date back
            plan.edits.append(_verify(ws, rid, when, auditor))
        check_plan(ws, plan)
        if not dry_run:
            write_plan(ws, plan)
    return result


def _new_id(ws: Workspace, when: str, location: str) -> str:
    base = _ID.sub("-", f"aud-{when}-{location.removeprefix('fac-')}".lower()).strip("-")[:96].rstrip("-")
    rid, n = base, 2
    while rid in ws.paths:
        rid, n = f"{base}-{n}", n + 1
    return rid


def _audit_record(ws: Workspace, rid: str, location: str, when: str, auditor: str, classes: tuple[str, ...], scan: str,
                  note: str | None, result: AuditResult) -> Edit:
    if rid in ws.paths:
        raise UsageError(f"id '{rid}' already exists ({ws.paths[rid]}); give another --id")
    data: dict[str, Any] = {"id": rid, "kind": "audit", "name": f"Stock-take of {location} on {when}", "owner": auditor,
                            "status": "completed", "location": location, "date": when, "auditor": auditor}
    scope: dict[str, Any] = {}
    if classes:
        scope["classes"] = list(classes)
    if note:
        scope["note"] = note
    if scope:
        data["scope"] = scope
    data["scan"] = scan[:500]
    data["results"] = {"seen": result.seen, "present": result.present, "missing": result.missing,
                       "wrong_place": result.wrong_place, "unexpected": [v[:200] for v in result.unexpected]}
    data["status_dates"] = {"completed": when}
    tree = to_rt(data)
    tree.fa.set_block_style()
    for key in ("results", "status_dates", "scope"):
        if key in tree:
            tree[key].fa.set_block_style()
    rel = f"{RECORD_DIR}/audit/{rid}.yaml"
    return Edit(rel, rid, "audit", None, header("audit").encode() + dump_rt(tree))


def _verify(ws: Workspace, rid: str, when: str, auditor: str) -> Edit:
    def change(tree: Any, kind: str) -> None:
        order = ws.order(kind)
        apply(tree, Assignment("last_verified", "=", when), order)
        apply(tree, Assignment("verified_by", "=", auditor), order)
    return edit_record(ws, rid, change)
