"""`bir assign ID HOLDER` and `bir return ID`: hand a device out and take it back, as ordinary edits.

Both are shortcuts for `bir set`: they write `assigned_to` and the `assignment` block under the register
lock, checked like any edit before anything is written; the commit that carries the edit is the history
(`bir report assignments`). A holder is a party or a location (facility) that is not ended; a device
that is retired, disposed, lost or stolen cannot be handed out. Where the assignments policy in bir.yaml
(`assignments.acceptance_classes`) names the device's class and the holder is a person, the hand-out needs
the holder's acceptance (`--accepted-on DATE`, optionally `--acceptance REF`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bir.base.model import parse_date
from bir.base.problems import UsageError
from bir.check.rules.dates import why_not_a_day
from bir.read.yamlstrict import parse
from bir.reports.context import is_ended
from bir.write.authoring import edit_record
from bir.write.fieldedit import Assignment, apply
from bir.write.workspace import Plan, Workspace, check_plan, write_plan, writing


def _day(value: str | None, what: str, today: dt.date) -> str:
    text = value or today.isoformat()
    why = why_not_a_day(text)
    if parse_date(text) is None or why is not None:
        raise UsageError(f"{what} '{text[:40]}' is not a date{': ' + why if why else ''} (YYYY-MM-DD)")
    return text


def _data(ws: Workspace, rid: str) -> dict[str, Any]:
    value = parse(ws.read(ws.paths[rid]), ws.paths[rid]).value
    return value if isinstance(value, dict) else {}


def _device(ws: Workspace, rid: str) -> dict[str, Any]:
    if rid not in ws.paths:
        raise UsageError(f"no record with id '{rid}'")
    if ws.kind_of(rid) != "hardware":
        raise UsageError(f"'{rid}' is a {ws.kind_of(rid)}: only hardware is handed out")
    return _data(ws, rid)


def assign(root: Path, rid: str, holder: str, *, date: str | None = None, accepted_on: str | None = None,
           acceptance: str | None = None, dry_run: bool = False, today: dt.date | None = None) -> Plan:
    """Hand `rid` out to `holder` on `date` (default today); refused with nothing written when the holder
    is not an active party or location, the device has ended, or the policy's acceptance is missing."""
    with writing(root, dry_run):
        ws = Workspace.open(root, today)
        when = _day(date, "--date", ws.today)
        data = _device(ws, rid)
        from bir.base.model import Record

        probe = Record(rid, "hardware", ws.paths[rid], data)
        if is_ended(probe, ws.config):
            raise UsageError(f"{rid} is {probe.status}: a device that has ended cannot be handed out")
        if holder not in ws.paths or ws.kind_of(holder) not in ("party", "facility"):
            kind = f"a {ws.kind_of(holder)}" if holder in ws.paths else "not a record"
            raise UsageError(f"'{holder}' is {kind}: a device is assigned to a party (a person) or a location (facility)")
        target = _data(ws, holder)
        if is_ended(Record(holder, ws.kind_of(holder), ws.paths[holder], target), ws.config):
            raise UsageError(f"{holder} is {target.get('status')}: assign the device to an active holder")
        classes = set((ws.config.raw.get("assignments") or {}).get("acceptance_classes") or ())
        needs = target.get("party_type") == "person" and data.get("class") in classes
        if needs and not accepted_on:
            raise UsageError(f"the assignments policy in bir.yaml asks the holder of a {data.get('class')} to accept it: "
                             f"give --accepted-on DATE (and --acceptance REF, the signed form)")
        accepted = _day(accepted_on, "--accepted-on", ws.today) if accepted_on else None
        plan = Plan()
        previous = data.get("assigned_to")
        if previous == holder:
            plan.notes.append(f"{rid}: already assigned to {holder}; the hand-out date and acceptance are updated")
        elif isinstance(previous, str):
            plan.notes.append(f"{rid}: was assigned to {previous}")

        def change(tree: Any, kind: str) -> None:
            order = ws.order(kind)
            apply(tree, Assignment("assigned_to", "=", holder), order)
            apply(tree, Assignment("assignment", "=", None, remove=True), order)
            apply(tree, Assignment("assignment.date", "=", when), order)
            if accepted:
                apply(tree, Assignment("assignment.accepted_on", "=", accepted), order)
            if acceptance:
                apply(tree, Assignment("assignment.acceptance", "=", acceptance), order)
        plan.edits.append(edit_record(ws, rid, change))
        check_plan(ws, plan)
        if not dry_run:
            write_plan(ws, plan)
    return plan


def return_device(root: Path, rid: str, *, date: str | None = None, dry_run: bool = False,
                  today: dt.date | None = None) -> Plan:
    """Take `rid` back on `date` (default today): `assigned_to` removed, `assignment.returned_on` set."""
    with writing(root, dry_run):
        ws = Workspace.open(root, today)
        when = _day(date, "--date", ws.today)
        data = _device(ws, rid)
        holder = data.get("assigned_to")
        if not isinstance(holder, str):
            raise UsageError(f"{rid} is not assigned to anyone; nothing to return")
        since = parse_date((data.get("assignment") or {}).get("date") if isinstance(data.get("assignment"), dict) else None)
        if since is not None and parse_date(when) is not None and parse_date(when) < since:  # type: ignore[operator]
            raise UsageError(f"--date {when} is before the hand-out of {since}")

        def change(tree: Any, kind: str) -> None:
            order = ws.order(kind)
            apply(tree, Assignment("assigned_to", "=", None, remove=True), order)
            apply(tree, Assignment("assignment", "=", None, remove=True), order)
            apply(tree, Assignment("assignment.returned_on", "=", when), order)
        plan = Plan([edit_record(ws, rid, change)], notes=[f"{rid}: returned by {holder}"])
        check_plan(ws, plan)
        if not dry_run:
            write_plan(ws, plan)
    return plan
