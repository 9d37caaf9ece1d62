"""The impact of a change over its neighbourhood, by the report models on both sides.

The neighbourhood is everything the change can affect: the changed records, the records that rest on them
up to the services they serve (`affected_services`), every component of those services (so single points
of failure are judged over the whole service), the licences the changed records consume with all their
consumers, the records all of these refer to (owners, targets) and the waivers of all of them. On each
side that small register goes through the same models as the reports (`bir.reports`): risk findings,
single points of failure and licence positions are compared base against head; costs are the changed
records' own. The base's rules judge both sides, so the comparison shows what the records change, not
what the rules do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from bir.base.config import Config
from bir.base.model import Record, Register, iter_references
from bir.change.model import AffectedService, Impact, LicenceChange, RecordChange, RiskFinding, SinglePoint
from bir.read.feeds import Feed
from bir.reports.context import annual_run_cost, build_context, purchase_base
from bir.reports.graph import CONTAINED, rests_on_edges
from bir.reports.licences import licence_positions
from bir.reports.models import LicencePosition
from bir.reports.money import MissingRateError
from bir.reports.risk import risk_report

# Relation types whose source rests on the target: when the target changes, the source is affected.
NEEDS = frozenset({"depends_on", "runs_on", "installed_on", "located_in", "covered_by", "licensed_by", "connects"})
MAX_WALK_DEPTH = 8
MAX_RECORDS = 20_000  # beyond this the components of a service are not all read; the report says so
CENT = Decimal("0.01")


class Side(Protocol):
    def by_id(self, ids: Iterable[str]) -> dict[str, Record]: ...

    def pointing_at(self, ids: list[str], types: frozenset[str]) -> dict[str, list[tuple[str, Record]]]: ...

    def waivers_on(self, ids: set[str]) -> dict[str, Record]: ...


def _dependants(side: Side, ids: list[str], known: Mapping[str, Record]) -> dict[str, list[Record]]:
    """For each id: the records that rest on it (they need it, connect it, or are contained in it)."""
    found = side.pointing_at(ids, NEEDS | {"part_of"})
    out: dict[str, list[Record]] = {}
    for i in ids:
        target = known.get(i)
        contained = target is not None and target.kind in CONTAINED
        out[i] = [r for t, r in found.get(i, []) if t != "part_of" or (contained and r.kind in CONTAINED)]
    return out


def _ups(rec: Record) -> list[str]:
    """What `rec` serves: the service it supports, the whole it is part of, the information it stores."""
    return [rel.target for rel in rec.relations
            if rel.type in ("supports", "stores") or (rel.type == "part_of" and rec.kind not in CONTAINED)]


def affected_services(records: list[RecordChange], head: Side, base: Side) -> tuple[list[AffectedService], set[str]]:
    """Every service the change affects, directly or through what rests on what, on either side (an edge
    the change removes still affects the service it led to); and every record met on the way up."""
    found: dict[str, tuple[str, ...]] = {}
    known: dict[str, Record] = {}
    chains: dict[str, tuple[str, ...]] = {}
    frontier: list[str] = []
    for r in records:
        for rec in (r.head, r.base):
            if rec is not None and rec.id not in chains:
                chains[rec.id] = (rec.id,)
                known[rec.id] = rec
                frontier.append(rec.id)
        for rec in (r.base, r.head):
            for up in _ups(rec) if rec is not None else ():
                if up not in chains:
                    chains[up] = (r.id, up)
                    frontier.append(up)
    for _depth in range(MAX_WALK_DEPTH):
        if not frontier:
            break
        missing = [i for i in frontier if i not in known]
        if missing:
            known.update(base.by_id(missing))
            known.update(head.by_id(missing))
        deps = _dependants(head, frontier, known)
        for rid, more in _dependants(base, frontier, known).items():
            deps.setdefault(rid, []).extend(more)
        nxt: list[str] = []
        for rid in frontier:
            rec = known.get(rid)
            if rec is not None and rec.kind == "service" and rid not in found:
                found[rid] = chains[rid]
            ups = _ups(rec) if rec is not None else []
            for d in deps.get(rid, []):
                known.setdefault(d.id, d)
                ups.append(d.id)
            for up in ups:
                if up not in chains:
                    chains[up] = (*chains[rid], up)
                    nxt.append(up)
        frontier = nxt
    services = [AffectedService(sid, known[sid].name if sid in known else sid, chain) for sid, chain in sorted(found.items())]
    return services, set(chains)


def _collect(side: Side, start: Iterable[str], records: dict[str, Record], notes: list[str], label: str) -> None:
    """Add to `records` everything the `start` records rest on, transitively (the graph's edges)."""
    todo = [i for i in start if i not in records]
    records.update(side.by_id(todo))
    frontier = [i for i in todo if i in records]
    while frontier:
        if len(records) > MAX_RECORDS:
            notes.append(f"{label}: more than {MAX_RECORDS:,} records rest under the affected services; the single "
                         "points of failure of the largest were judged on the records read so far")
            return
        inbound = side.pointing_at(frontier, frozenset({"supports", "part_of", "stores"}))
        nxt: set[str] = set()
        for rid in frontier:
            rec = records[rid]
            nxt.update(t for t in rests_on_edges(rec) if t not in records)
            for rtype, src in inbound.get(rid, []):
                if rtype == "part_of" and src.kind in CONTAINED:
                    continue  # a rack part_of a room rests on the room, not the reverse
                if rtype in ("supports", "part_of") or (rtype == "stores" and rec.kind == "information"):
                    if src.id not in records:
                        records[src.id] = src
                        nxt.add(src.id)
        got = side.by_id(sorted(n for n in nxt if n not in records))
        records.update(got)
        frontier = [n for n in nxt if n in records]


def neighbourhood(side: Side, focus: set[str], services: list[str], licences: list[str], extra: Iterable[Record],
                  notes: list[str], label: str) -> dict[str, Record]:
    """The records of one side the impact is computed over."""
    records: dict[str, Record] = {r.id: r for r in extra}
    records.update(side.by_id(sorted(focus - set(records))))
    _collect(side, services, records, notes, label)
    if licences:
        records.update(side.by_id([i for i in licences if i not in records]))
        for _t, consumer in (c for cs in side.pointing_at(licences, frozenset({"licensed_by"})).values() for c in cs):
            records.setdefault(consumer.id, consumer)
        hosts = sorted({h for rec in list(records.values()) for h in rests_on_edges(rec)
                        if rec.kind == "software" and h not in records})
        records.update(side.by_id(hosts))
    refs = sorted({target for rec in list(records.values()) for _j, target, _k, _l in iter_references(rec.kind, rec.data)}
                  - set(records))
    records.update(side.by_id(refs))
    for rid, waiver in side.waivers_on(set(records)).items():  # a waiver of a record outside silences nothing here
        records.setdefault(rid, waiver)
    return records


def _evaluate(root: Path, config: Config, records: dict[str, Record], today: dt.date, feeds: Mapping[str, Feed],
              services: list[str]) -> tuple[dict[tuple[str, str], RiskFinding], dict[str, tuple[str, ...]],
                                            dict[str, LicencePosition]]:
    register = Register(str(root), config, dict(records))
    ctx = build_context(register, today, feeds)
    report = risk_report(ctx)
    findings = {(f.rule, f.record): RiskFinding(f.rule, f.severity, f.record, f.message) for f in report.findings}
    for f in report.waived:
        findings[(f.rule, f.record)] = RiskFinding(f.rule, f.severity, f.record, f.message, f.waived_by)
    spof = {sid: ctx.graph.single_points_of_failure(sid) for sid in services if sid in records}
    return findings, spof, {p.licence: p for p in licence_positions(ctx)}


def _money(record: Record | None, config: Config, today: dt.date, notes: list[str], annual: bool) -> Decimal:
    if record is None:
        return Decimal(0)
    try:
        if annual:
            return annual_run_cost(record, config, today)
        return purchase_base(record, config) or Decimal(0)
    except MissingRateError as exc:
        note = f"{record.id}: {exc}; its amounts are left out"
        if note not in notes:
            notes.append(note)
        return Decimal(0)


def compute_impact(root: Path, records: list[RecordChange], head: Side, base: Side, config: Config, today: dt.date,
                   head_feeds: Mapping[str, Feed], base_feeds: Mapping[str, Feed]) -> Impact:
    """The impact of the change, base against head, judged by the base's configuration `config`."""
    impact = Impact(config.base_currency)
    services, met = affected_services(records, head, base)
    impact.services = services
    service_ids = [s.id for s in services]
    changed = {r.id for r in records}
    head_extra = [r.head for r in records if r.head is not None]
    base_extra = [r.base for r in records if r.base is not None]
    consumed = sorted({rel.target for r in (*head_extra, *base_extra) for rel in r.relations if rel.type == "licensed_by"}
                      | {r.id for r in (*head_extra, *base_extra) if r.kind == "licence"})
    head_records = neighbourhood(head, changed | met, service_ids, consumed, head_extra, impact.notes, "head")
    base_records = neighbourhood(base, changed | met, service_ids, consumed, base_extra, impact.notes, "base")
    for rid in changed:  # a record the change removes or adds is absent from the other side
        if rid not in {r.head.id for r in records if r.head is not None}:
            head_records.pop(rid, None)
        if rid not in {r.base.id for r in records if r.base is not None}:
            base_records.pop(rid, None)
    impact.examined = len(set(head_records) | set(base_records))
    head_findings, head_spof, head_lic = _evaluate(root, config, head_records, today, head_feeds, service_ids)
    base_findings, base_spof, base_lic = _evaluate(root, config, base_records, today, base_feeds, service_ids)
    licences = set(consumed)
    focus = changed | set(service_ids) | licences | (met & (set(head_records) | set(base_records)))
    by = lambda f: (f.record, f.rule)  # noqa: E731
    impact.risks_introduced = sorted((f for k, f in head_findings.items() if k[1] in focus and k not in base_findings
                                      and not f.waived_by), key=by)
    impact.risks_resolved = sorted((f for k, f in base_findings.items() if k[1] in focus and k not in head_findings
                                    and not f.waived_by), key=by)
    for sid in service_ids:
        before, after = set(base_spof.get(sid, ())), set(head_spof.get(sid, ()))
        impact.spof_introduced += [SinglePoint(sid, c) for c in sorted(after - before)]
        impact.spof_resolved += [SinglePoint(sid, c) for c in sorted(before - after)]
    for lid in sorted(licences):
        b, h = base_lic.get(lid), head_lic.get(lid)
        if b is None and h is None:
            continue
        either = h or b
        assert either is not None
        lc = LicenceChange(lid, either.metric, b.quantity if b else 0, h.quantity if h else 0,
                           b.consumption if b else 0, h.consumption if h else 0,
                           b.true_up_cost if b else None, h.true_up_cost if h else None)
        if (lc.quantity_before, lc.consumption_before, lc.true_up_before) != (lc.quantity_after, lc.consumption_after,
                                                                             lc.true_up_after):
            impact.licences.append(lc)
    one_off = Decimal(0)
    for r in records:
        if r.head is not None:
            delta = _money(r.head, config, today, impact.notes, False) - _money(r.base, config, today, impact.notes, False)
            one_off += max(delta, Decimal(0))
        impact.annual_base += _money(r.base, config, today, impact.notes, True)
        impact.annual_head += _money(r.head, config, today, impact.notes, True)
    impact.one_off = one_off.quantize(CENT)
    impact.annual_base = impact.annual_base.quantize(CENT)
    impact.annual_head = impact.annual_head.quantize(CENT)
    return impact
