"""Register rules over the index of every record: ids are unique, references resolve, no cycles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bir.base.problems import Severity
from bir.check.rules import Finding, RecordFacts, rule
from bir.check.rules.refpass import reference_pass

if TYPE_CHECKING:
    from bir.base.config import Config

Index = dict[str, list[RecordFacts]]
SUGGESTIONS = 20


def unique_ids(index: Index, config: Config) -> Iterator[Finding]:
    """Every id names one record across all kinds, so a reference is never ambiguous.

    Passes: `registry/hardware/srv-db-01.yaml` and `registry/software/postgresql-15.yaml`.
    Fails:  `registry/hardware/db-01.yaml` and `registry/service/db-01.yaml`.
    """
    for rid, facts in index.items():
        if len(facts) > 1:
            others = ", ".join(f.path for f in facts)
            for f in facts:
                yield Finding("/id", f"id '{rid}' is used by {len(facts)} records: {others}",
                              "give one of them another id (rename the file and its `id`)", path=f.path)


def references_resolve(index: Index, config: Config) -> Iterator[Finding]:
    """Every reference (owner, supplier, relation target, ...) names a record in the register.

    Passes: `owner: team-platform` with `registry/party/team-platform.yaml` present.
    Fails:  `owner: team-x` with no record `team-x`.
    """
    import difflib

    ids: list[str] | None = None
    for n, (f, (jpath, target, allowed, label)) in enumerate(reference_pass(index).missing):
        if ids is None:
            ids = list(index)
        # Suggestions compare against every id: worth it for a typo or two, not for a thousand broken links.
        close = difflib.get_close_matches(target, ids, n=1, cutoff=0.8) if n < SUGGESTIONS else []
        kinds = " or ".join(sorted(allowed)) if len(allowed) <= 3 else "the"
        hint = f"did you mean '{close[0]}'?" if close else f"add {kinds} record '{target}', or fix the id"
        yield Finding(jpath, f"{label} '{target}' is not a known record", hint, path=f.path)


def reference_kinds(index: Index, config: Config) -> Iterator[Finding]:
    """A reference points at a record of an allowed kind: an owner is a party, `covered_by` a contract,
    `part_of` a record of the same kind.

    Passes: `{type: covered_by, target: ctr-dell-support}` where `ctr-dell-support` is a contract.
    Fails:  `owner: srv-db-01` (a hardware record, not a party).
    """
    for f, (jpath, target, allowed, label), kind in reference_pass(index).wrong_kind:
        yield Finding(jpath, f"{label} '{target}' is a {kind} record; it must be a {' or '.join(sorted(allowed))}",
                      "point it at a record of the right kind", path=f.path)


def _cycles(index: Index, edges_of: str) -> Iterator[list[str]]:
    graph = {rid: getattr(facts[0], edges_of) for rid, facts in index.items() if getattr(facts[0], edges_of)}
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        state[start] = 1
        while stack:
            node, i = stack[-1]
            succ = graph.get(node, ())
            if i < len(succ):
                stack[-1] = (node, i + 1)
                nxt = succ[i]
                if state.get(nxt) == 1:
                    yield [*path[path.index(nxt):], nxt]
                elif not state.get(nxt) and nxt in index:
                    state[nxt] = 1
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                state[node] = 2
                stack.pop()
                path.pop()


def no_cycles(index: Index, config: Config) -> Iterator[Finding]:
    """`part_of` and `member_of` form trees: following them never leads back to where it started.

    Passes: `rack-07` part_of `room-2`, `room-2` part_of `dc-ams`.
    Fails:  `room-2` part_of `dc-ams` and `dc-ams` part_of `room-2`.
    """
    for relation in ("part_of", "member_of"):
        for cycle in _cycles(index, relation):
            first = index[cycle[0]][0]
            yield Finding("/relations", f"{relation} forms a cycle: {' -> '.join(cycle)}",
                          f"remove one {relation} relation from the cycle", path=first.path)


def redundancy_peers(index: Index, config: Config) -> Iterator[Finding]:
    """A redundancy group has at least two members; a group of one promises redundancy that is not there.

    Passes: `srv-web-01` and `srv-web-02` both with `redundancy_group: web-frontend`.
    Fails:  only `srv-web-01` with `redundancy_group: web-frontend`.
    """
    groups: dict[str, list[RecordFacts]] = {}
    for facts in index.values():
        f = facts[0]
        if f.redundancy_group:
            groups.setdefault(f.redundancy_group, []).append(f)
    for name, members in sorted(groups.items()):
        if len(members) == 1:
            yield Finding("/redundancy_group", f"redundancy group '{name}' has only this record",
                          "add the peer's record to the group, or remove the group", path=members[0].path)


ID_DUPLICATE = rule("id.duplicate", Severity.ERROR, "ids are unique across the register", None, register=unique_ids)
REF_UNKNOWN = rule("ref.unknown", Severity.ERROR, "references name existing records", None, register=references_resolve)
REF_KIND = rule("ref.kind", Severity.ERROR, "references point at an allowed kind", None, register=reference_kinds)
RELATION_CYCLE = rule("relation.cycle", Severity.ERROR, "part_of and member_of have no cycles", None, register=no_cycles)
REDUNDANCY_SINGLE = rule("redundancy.single", Severity.WARNING, "redundancy groups have two or more members", None, register=redundancy_peers)
RULES = [ID_DUPLICATE, REF_UNKNOWN, REF_KIND, RELATION_CYCLE, REDUNDANCY_SINGLE]
