"""Authoring records: `new`, `set` and `transition`, single or in bulk, safe by construction.

Every edit is made on a round-trip YAML tree (`bir.write.rtyaml`) from `FIELD=VALUE` assignments
(`bir.write.fieldedit`), as a plan that is checked (strict YAML, its schema, the record rules and that
its references exist) before anything is written (`bir.write.workspace`); a bulk edit writes all its
files only when every one of them is valid.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from bir.base.layout import RECORD_DIR
from bir.base.model import KINDS, get_path, parse_date
from bir.base.problems import UsageError
from bir.change.rules import TRANSITION
from bir.check.rules.dates import why_not_a_day
from bir.check.rules.lifecycle import LIFECYCLE_STATE
from bir.read.schemas import SCHEMA_REQUIRED
from bir.read.yamlstrict import parse
from bir.write.fieldedit import Assignment, apply, parse_assignments
from bir.write.rtyaml import dump_rt, header, load_rt, to_rt
from bir.write.workspace import AuthoringError, Edit, Plan, Workspace, check_plan, write_plan, writing

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# --- new ---------------------------------------------------------------------------------------------


def defaults_for(ws: Workspace, kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The values a new record starts with: the initial state dated today, and financial defaults."""
    model = ws.config.model_for(kind)
    data: dict[str, Any] = {"status": model.initial, "status_dates": {model.initial: ws.today.isoformat()}}
    if kind in ("hardware", "software", "licence"):
        depreciation = ws.config.depreciation_defaults(kind, fields.get("class") if kind == "hardware" else None)
        financial: dict[str, Any] = {"currency": ws.config.base_currency}
        if depreciation:
            financial["depreciation"] = depreciation
        data["financial"] = financial
    return data


def plan_new(ws: Workspace, kind: str, assignments: Sequence[Assignment], record_id: str | None = None,
             taken: Iterable[str] = ()) -> Edit:
    """The file of a new record; raises UsageError when the id is taken or malformed."""
    if kind not in KINDS:
        raise UsageError(f"unknown kind '{kind}'; one of: {', '.join(KINDS)}")
    taken = set(taken)
    given = {a.field: a.value for a in assignments if a.op == "=" and not a.remove}
    if record_id is None:
        hw_class = given.get("class")
        record_id = ws.next_id(kind, taken, hw_class if isinstance(hw_class, str) else None)
    if not _ID.match(record_id):
        raise UsageError(f"'{record_id}' is not a valid id: lowercase letters and digits in groups joined by single hyphens")
    if record_id in ws.paths or record_id in taken:
        where = ws.paths.get(record_id, "this run")
        raise UsageError(f"id '{record_id}' already exists ({where}); choose another id or edit it with `bir set`")
    base: dict[str, Any] = {"id": record_id, "kind": kind, "name": given.get("name", record_id)}
    for k, v in defaults_for(ws, kind, given).items():
        base[k] = v
    order = ws.order(kind)
    top = order.get("", [])
    ranked = {k: base[k] for k in sorted(base, key=lambda k: top.index(k) if k in top else len(top))}
    tree = to_rt(ranked)
    if isinstance(tree, CommentedMap):
        tree.fa.set_block_style()
        for v in tree.values():
            if isinstance(v, CommentedMap):
                v.fa.set_block_style()
    for a in assignments:
        if a.field in ("id", "kind"):
            raise UsageError(f"{a.field} is given by the command, not by --set")
        apply(tree, a, order)
    if "owner" not in tree:
        raise AuthoringError("a record needs an owner", [SCHEMA_REQUIRED.problem(
            f"{RECORD_DIR}/{kind}/{record_id}.yaml", 0, 0, "owner is required", "add --set owner=<party id>", "/owner")])
    status = str(tree.get("status"))
    dates = tree.get("status_dates")
    model = ws.config.model_for(kind)
    if isinstance(dates, CommentedMap) and status != model.initial and status in model.states:
        # the record starts in another state: date that state, not the initial one
        initial = ws.config.model_for(kind).initial
        if initial in dates and not any(a.field == f"status_dates.{initial}" for a in assignments):
            del dates[initial]
        if status not in dates:
            dates[status] = DoubleQuotedScalarString(ws.today.isoformat())
    rel = f"{RECORD_DIR}/{kind}/{record_id}.yaml"
    return Edit(rel, record_id, kind, None, header(kind).encode() + dump_rt(tree))


def new_record(root: Path, kind: str, sets: Sequence[str], record_id: str | None = None, *,
               dry_run: bool = False, today: dt.date | None = None) -> Plan:
    with writing(root, dry_run):
        ws = Workspace.open(root, today)
        plan = Plan([plan_new(ws, kind, parse_assignments(sets), record_id)])
        check_plan(ws, plan)
        if not dry_run:
            write_plan(ws, plan)
    return plan


# --- set and transition --------------------------------------------------------------------------------


def parse_where(text: str | None) -> list[tuple[str, str]]:
    """`kind=hardware,class=laptop,status=in_use` as [(field, value)]."""
    if not text:
        return []
    out = []
    for part in text.split(","):
        if "=" not in part:
            raise UsageError(f"--where: '{part}' is not FIELD=VALUE (join several with commas)")
        k, v = part.split("=", 1)
        out.append((k.strip(), v.strip()))
    return out


def _matches(data: Mapping[str, Any], kind: str, where: Sequence[tuple[str, str]]) -> bool:
    for k, v in where:
        value = kind if k == "kind" else get_path(data, k)
        if isinstance(value, list):
            if v not in [str(x) for x in value]:
                return False
        elif value is None or (str(value).lower() if isinstance(value, bool) else str(value)) != v:
            return False
    return True


def select(ws: Workspace, ids: Sequence[str], where: Sequence[tuple[str, str]]) -> list[str]:
    """The ids an edit applies to: those named, or every record matching the filter."""
    if ids:
        missing = [i for i in ids if i not in ws.paths]
        if missing:
            raise UsageError(f"no record with id {', '.join(repr(m) for m in missing)}")
        return list(ids)
    if not where:
        raise UsageError("name a record id, or select records with --where FIELD=VALUE[,FIELD=VALUE...]")
    kinds = [v for k, v in where if k == "kind"]
    for kind in kinds:
        if kind not in KINDS:
            raise UsageError(f"--where: unknown kind '{kind}'")
    selected = []
    for rid, rel in sorted(ws.paths.items()):
        kind = rel.split("/")[-2]
        if kinds and kind not in kinds:
            continue
        parsed = parse(ws.read(rel), rel)
        if isinstance(parsed.value, dict) and _matches(parsed.value, kind, where):
            selected.append(rid)
    return selected


def _edit(ws: Workspace, rid: str, change: Any) -> Edit:
    rel = ws.paths[rid]
    kind = ws.kind_of(rid)
    before = ws.read(rel)
    parsed = parse(before, rel)
    if parsed.problems or not isinstance(parsed.value, dict):
        raise AuthoringError(f"{rel} is not valid YAML now; fix it first", parsed.problems)
    tree = load_rt(before)
    change(tree, kind)
    after = dump_rt(tree)
    return Edit(rel, rid, kind, before, after)


def edit_record(ws: Workspace, rid: str, change: Any) -> Edit:
    """The edit of one record by `change(tree, kind)` on its round-trip tree (for commands built on `set`)."""
    return _edit(ws, rid, change)


def set_fields(root: Path, ids: Sequence[str], sets: Sequence[str], where: str | None = None, *,
               dry_run: bool = False, today: dt.date | None = None) -> Plan:
    with writing(root, dry_run):
        return _set_fields(root, ids, sets, where, dry_run=dry_run, today=today)


def _set_fields(root: Path, ids: Sequence[str], sets: Sequence[str], where: str | None, *,
                dry_run: bool, today: dt.date | None) -> Plan:
    ws = Workspace.open(root, today)
    assignments = parse_assignments(sets)
    if not assignments:
        raise UsageError("nothing to set: give FIELD=VALUE")
    for a in assignments:
        if a.field in ("id", "kind"):
            raise UsageError(f"`{a.field}` cannot be set: it names the file (a rename is a change of its own)")
    plan = Plan()
    for rid in select(ws, ids, parse_where(where)):
        def change(tree: Any, kind: str) -> None:
            for a in assignments:
                apply(tree, a, ws.order(kind))
        plan.edits.append(_edit(ws, rid, change))
    check_plan(ws, plan)
    if not dry_run:
        write_plan(ws, plan)
    return plan


def transition(root: Path, ids: Sequence[str], state: str, where: str | None = None, *, date: str | None = None,
               sets: Sequence[str] = (), dry_run: bool = False, today: dt.date | None = None) -> Plan:
    """Move records to `state`: refused when the lifecycle model forbids it or the state's required fields
    are missing (after applying `sets`); `status_dates.<state>` is set to `date` (default today)."""
    with writing(root, dry_run):
        return _transition(root, ids, state, where, date=date, sets=sets, dry_run=dry_run, today=today)


def _transition(root: Path, ids: Sequence[str], state: str, where: str | None, *, date: str | None,
                sets: Sequence[str], dry_run: bool, today: dt.date | None) -> Plan:
    ws = Workspace.open(root, today)
    when = date or ws.today.isoformat()
    why = why_not_a_day(when)
    if parse_date(when) is None or why is not None:
        raise UsageError(f"--date '{when[:40]}' is not a date{': ' + why if why else ''} (YYYY-MM-DD)")
    assignments = parse_assignments(sets)
    plan = Plan()
    for rid in select(ws, ids, parse_where(where)):
        model = ws.config.model_for(ws.kind_of(rid))
        rel = ws.paths[rid]
        if state not in model.states:
            plan.problems.append(LIFECYCLE_STATE.problem(rel, 0, 0,
                                       f"'{state}' is not a state of the '{model.name}' lifecycle model",
                                       f"use one of: {', '.join(model.states)}", "/status"))
            continue
        current = parse(ws.read(rel), rel).value
        old = str(current.get("status", "")) if isinstance(current, dict) else ""
        if old == state:
            plan.notes.append(f"{rid}: already {state}")
            continue
        if not model.allows(old, state):
            allowed = sorted(model.transitions.get(old, ()))
            plan.problems.append(TRANSITION.problem(rel, 0, 0,
                                       f"{rid}: the '{model.name}' lifecycle model does not allow {old} -> {state}",
                                       f"from {old} a record may go to: {', '.join(allowed) or 'nothing (final state)'}",
                                       "/status"))
            continue

        earlier = (current.get("status_dates") or {}).get(state) if isinstance(current, dict) else None

        def change(tree: Any, kind: str, earlier: object = earlier) -> None:
            order = ws.order(kind)
            if isinstance(earlier, str) and earlier != when:
                # Re-entering a state: its earlier date moves to the state history, never overwritten.
                apply(tree, Assignment("status_history", "+=", {"state": state, "date": earlier}), order)
            apply(tree, Assignment("status", "=", state), order)
            apply(tree, Assignment(f"status_dates.{state}", "=", when), order)
            for a in assignments:
                apply(tree, a, order)
        plan.edits.append(_edit(ws, rid, change))
    if plan.problems:
        raise AuthoringError(f"{len(plan.problems)} transition(s) refused; nothing was written", plan.problems)
    check_plan(ws, plan)
    if not dry_run:
        write_plan(ws, plan)
    return plan
