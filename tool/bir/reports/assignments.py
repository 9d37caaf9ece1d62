"""Assignments: who holds what now, and who held what when, from the git history of `assigned_to`.

No data is entered for the history: each first-parent commit that changed a record's `assigned_to` (on
or before the point's day) starts a holding period, on the `assignment.date` the same commit wrote (what
`bir assign --date` records), else on the commit's day. A period ends where the next one starts, or on
the `assignment.returned_on` of the commit that removed the holder (`bir return`), else on that commit's
day. The register at the point (the working tree may hold a change not yet committed) gives the holder
now. Without git (a register that is not in a repository, or before its first commit) the report shows
the current holdings only and says so.

A holder is a party (a person, usually) or a location (a facility: a loan pool, a spares room). The
assignments policy (`assignments.acceptance_classes` in bir.yaml) names the hardware classes whose
holder must sign for the device (`assignment.accepted_on`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bir.base.model import Record, parse_date
from bir.base.problems import UsageError
from bir.reports.context import Context
from bir.reports.opsmodels import AssignmentReport, HolderLine, HoldingLine, HoldingPeriodLine
from bir.reports.risk import Check, Hit, register, risk_rule

HELD_KINDS = ("hardware",)  # the kinds whose schema has assigned_to


@dataclass(frozen=True, slots=True)
class PointInfo:
    """What the reports know of the point they were computed at (set by `bir.reports.evaluate`)."""

    commit: str | None
    empty: bool


@dataclass(frozen=True, slots=True)
class Change:
    """One commit's change of a record's holder."""

    day: dt.date  # when it took effect (assignment.date / returned_on of the commit, else its day)
    holder: str | None
    commit: str


def acceptance_classes(ctx: Context) -> frozenset[str]:
    policy = ctx.config.raw.get("assignments") or {}
    return frozenset(str(c) for c in policy.get("acceptance_classes") or ())


def needs_acceptance(ctx: Context, rec: Record, holder: str) -> bool:
    """Whether the policy asks the holder of this record to sign for it: a person holding a device of one of
    the policy's classes."""
    target = ctx.rec(holder)
    return (target is not None and target.kind == "party" and target.data.get("party_type") == "person"
            and str(rec.data.get("class", "")) in acceptance_classes(ctx))


def holder_changes(ctx: Context) -> tuple[dict[str, list[Change]] | None, str]:
    """Record id -> its holder changes, oldest first, from git; (None, why) when there is no history."""
    cached = ctx.cache.get("assignments:changes")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    got = ctx.cache["assignments:changes"] = _changes(ctx)
    return got


_HOLDER_LINE = re.compile(rb"^assigned_to:[^\n]*$", re.M)


def _holder_bytes(raw: bytes | None) -> tuple[bytes, ...] | None:
    """The `assigned_to` lines of a record's bytes, or None when the field may be written another way (the
    file must be parsed to know)."""
    if raw is None:
        return ()
    lines = tuple(m.group(0).rstrip() for m in _HOLDER_LINE.finditer(raw))
    return lines if raw.count(b"assigned_to") == len(lines) else None


def _changes(ctx: Context) -> tuple[dict[str, list[Change]] | None, str]:
    from bir.base.diff import diff_fields
    from bir.git.plumbing import Git
    from bir.history.trail import all_history
    from bir.read.yamlstrict import parse

    info = ctx.cache.get("point")
    if isinstance(info, PointInfo) and info.empty:
        return None, "the register had no commit yet on that day"
    root = Path(ctx.register.root)
    try:
        history = all_history(root)
    except UsageError as exc:  # not a git repository, git missing, a shallow clone
        return None, str(exc)
    last_day = ctx.as_of.isoformat()
    wanted = {id(v): v for rid, v in history.items() if (rec := ctx.rec(rid)) is None or rec.kind in HELD_KINDS}
    entries = [e for v in wanted.values() for e in v if e.path.rpartition("/")[0].rpartition("/")[2] in HELD_KINDS
               and e.date[:10] <= last_day]
    if not entries:
        return {}, ""
    blobs = Git(root).cat_blobs([b for e in entries for b in (e.old_blob, e.new_blob) if b])

    def data(blob: str | None, path: str) -> dict[str, Any] | None:
        raw = blobs.get(blob) if blob else None
        value = parse(raw, path).value if raw is not None else None
        return value if isinstance(value, dict) else None

    fields_of: dict[int, dict[str, Any]] = {}
    for e in entries:
        before, after = _holder_bytes(blobs.get(e.old_blob) if e.old_blob else None), _holder_bytes(
            blobs.get(e.new_blob) if e.new_blob else None)
        if before is not None and after is not None and before == after:
            continue  # the holder line is the same before and after: no hand-out in this commit (no parse needed)
        fields_of[id(e)] = {f.path: f.new for f in diff_fields(data(e.old_blob, e.old_path or e.path), data(e.new_blob, e.path))}
    out: dict[str, list[Change]] = {}
    for rid, items in history.items():
        if id(items) not in wanted:
            continue
        changes: list[Change] = []
        for e in reversed(items):  # oldest first
            fields = fields_of.get(id(e))
            if fields is None or e.date[:10] > last_day or "assigned_to" not in fields:
                continue
            commit_day = dt.date.fromisoformat(e.date[:10])
            holder = fields["assigned_to"] if isinstance(fields["assigned_to"], str) else None
            stamp = parse_date(fields.get("assignment.date" if holder else "assignment.returned_on"))
            changes.append(Change(stamp or commit_day, holder, e.commit))
        if changes:
            out[rid] = changes
    return out, ""


def _periods(rec: Record, changes: list[Change], as_of: dt.date) -> list[HoldingPeriodLine]:
    """The holding periods of one record: from its committed changes, then the register's holder now."""
    out: list[HoldingPeriodLine] = []
    current: tuple[str, dt.date | None, str] | None = None

    def close(end: dt.date | None) -> None:
        nonlocal current
        if current is not None:
            holder, start, commit = current
            if end is not None and start is not None and end < start:
                end = start  # the next hand-out was dated before this one was committed: nothing is held in between
            days = None if start is None else ((end or as_of) - start).days
            out.append(HoldingPeriodLine(rec.id, holder, start, end, days, commit[:10], (rec.id, holder)))
        current = None

    for ch in changes:
        if current is not None and ch.holder == current[0]:
            continue  # the same holder written again (a reformatted file)
        close(ch.day)
        if ch.holder is not None:
            current = (ch.holder, ch.day, ch.commit)
    now = rec.data.get("assigned_to")
    now = now if isinstance(now, str) else None
    if current is not None and current[0] != now:  # changed in the working tree, not yet committed
        close(rec.date("assignment.date") if now else rec.date("assignment.returned_on") or as_of)
    if now is not None and current is None:
        current = (now, rec.date("assignment.date"), "")
    close(None)
    return out


def assignment_report(ctx: Context) -> AssignmentReport:
    changes, why = holder_changes(ctx)
    warnings = list(ctx.warnings)
    if changes is None:
        warnings.append(f"no git history ({why}): the report shows the current holdings only")
    periods: list[HoldingPeriodLine] = []
    holdings: list[HoldingLine] = []
    for rec in ctx.register:
        if rec.kind not in HELD_KINDS:
            continue
        recs = _periods(rec, (changes or {}).get(rec.id, []), ctx.as_of)
        periods.extend(recs)
        holder = rec.data.get("assigned_to")
        if not isinstance(holder, str):
            continue
        target = ctx.rec(holder)
        accepted = rec.date("assignment.accepted_on")
        state = "accepted" if accepted else "missing" if needs_acceptance(ctx, rec, holder) else "not required"
        since = rec.date("assignment.date") or (recs[-1].start if recs and recs[-1].end is None else None)
        holdings.append(HoldingLine(holder, target.kind if target else "unknown", rec.id, str(rec.data.get("class", "")), since,
                                    accepted, state, (rec.id, holder)))
    holdings.sort(key=lambda h: (h.holder, h.record))
    periods.sort(key=lambda p: (p.record, p.start or dt.date.min, p.holder))
    now: dict[str, list[str]] = defaultdict(list)
    before: dict[str, set[str]] = defaultdict(set)
    for h in holdings:
        now[h.holder].append(h.record)
    for p in periods:
        if p.end is not None:
            before[p.holder].add(p.record)
    holders: list[HolderLine] = []
    for holder in sorted(set(now) | set(before)):
        target = ctx.rec(holder)
        held_now = sorted(now.get(holder, ()))
        earlier = sorted(before.get(holder, set()) - set(held_now))
        holders.append(HolderLine(holder, target.kind if target else "unknown", target.status if target else "",
                                  len(held_now), len(earlier), tuple(held_now + earlier)))
    return AssignmentReport(ctx.as_of, "git" if changes is not None else "none", holdings, periods, holders,
                            warnings=warnings)


def holder_inactive(ctx: Context) -> Check:
    """A record that is not ended is assigned to an active holder: a party or location that exists and is
    not retired (a leaver hands in the devices they hold).

    Passes: `assigned_to: mark-evans` (an active person).
    Fails:  `assigned_to: piet-jansen` (a retired person): collect the device and `bir return` it.
    """
    for rec in ctx.register:
        holder = rec.data.get("assigned_to")
        if not isinstance(holder, str) or ctx.is_ended(rec):
            continue
        target = ctx.rec(holder)
        if target is None:
            hit: Hit | None = Hit(f"{rec.id} is assigned to '{holder}', which is not in the register",
                                  f"collect it and run `bir return {rec.id}`, or assign it to an existing holder")
        elif ctx.is_ended(target):
            hit = Hit(f"{rec.id} is assigned to {holder}, who is {target.status}",
                      f"collect it and run `bir return {rec.id}`, or `bir assign {rec.id} NEW-HOLDER`", (holder,))
        else:
            hit = None
        yield rec.id, hit


def unaccepted(ctx: Context) -> Check:
    """An in-service device of a class the assignments policy names (`assignments.acceptance_classes`),
    handed out to a person, was accepted by its holder (`assignment.accepted_on`).

    Passes: a laptop assigned to a person with `assignment: {accepted_on: "2026-03-02"}`.
    Fails:  the same laptop without `assignment.accepted_on`.
    """
    classes = acceptance_classes(ctx)
    if not classes:
        return
    for rec in ctx.register:
        holder = rec.data.get("assigned_to")
        if not isinstance(holder, str) or not ctx.in_service(rec) or not needs_acceptance(ctx, rec, holder):
            continue
        yield rec.id, (None if rec.date("assignment.accepted_on") else Hit(
            f"{rec.id} ({rec.data.get('class')}) is held by {holder} without a recorded acceptance",
            f"have the holder sign for it and record it: bir assign {rec.id} {holder} --accepted-on DATE --acceptance REF",
            (holder,)))


HOLDER_INACTIVE = register(risk_rule("handout.holder_inactive", "medium", "devices are held by active parties or locations",
                                     holder_inactive))
UNACCEPTED = register(risk_rule("handout.unaccepted", "low", "devices handed out to people were accepted by them",
                                unaccepted))

