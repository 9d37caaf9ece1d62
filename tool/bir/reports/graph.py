"""What rests on what: the one dependency graph every figure over relations uses.

A record *rests on* the records it needs to do its work:
- its own `depends_on`, `runs_on`, `installed_on`, `located_in`, `covered_by` and `licensed_by` targets, and
  for software the hosts in its `installations`;
- for a network link, the endpoints it `connects`;
- for a facility or a network, what it is `part_of` (a rack rests on its room, a VLAN on its network);
- its parts (records `part_of` it: a cluster rests on its nodes, a service on its sub-services);
- for information, the records that `store` it;
- for a service, also the records that `support` it.

The components of a service are everything it rests on, transitively, through the services it depends on
too (services and parties are not components). A component shared by several services splits its cost
equally over them (see `cost.run`).

A single point of failure of a service is an in-service component whose failure alone takes the service
down. The graph is read as AND/OR: a record needs all it rests on, except that the in-service records a
record rests on that share a `redundancy_group` stand in for each other. Such a group fails only when fewer
than its minimum (`redundancy.groups.<name>.minimum` in bir.yaml, default 1) are left, so a record is a
single point of failure when every dependency path from the service runs through it and no in-service peer
of its group serves the same need. Peers count only where they serve the same record: a lone server put into
another service's group stays a single point of failure. Only kinds that can fail count
(`redundancy.failure_kinds`, default hardware, software, network, facility, cloud_service).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bir.base.model import Record

NEEDS = ("depends_on", "runs_on", "installed_on", "located_in", "covered_by", "licensed_by")
CONTAINED = frozenset({"facility", "network"})  # kinds whose `part_of` is containment: they rest on the container
NOT_COMPONENTS = frozenset({"service", "party", "waiver"})
DEFAULT_FAILURE_KINDS = frozenset({"hardware", "software", "network", "facility", "cloud_service"})


def rests_on_edges(rec: Record) -> list[str]:
    """The records `rec` itself names as needed (outgoing edges of the graph)."""
    out: list[str] = []
    data = rec.data
    rels = data.get("relations")
    if isinstance(rels, list):
        for rel in rels:
            if not isinstance(rel, dict) or not isinstance(rel.get("target"), str):
                continue
            rtype = rel.get("type")
            if rtype in NEEDS or (rtype == "connects" and rec.kind == "network") or (
                    rtype == "part_of" and rec.kind in CONTAINED):
                out.append(rel["target"])
    if rec.kind == "software":
        for inst in data.get("installations") or ():
            if isinstance(inst, dict) and isinstance(inst.get("on"), str):
                out.append(inst["on"])
    return out


@dataclass(slots=True)
class Graph:
    """The dependency graph of a register, with the components and single points of failure of its services."""

    records: Mapping[str, Record]
    in_service: set[str]
    groups: dict[str, Any]  # redundancy group -> settings (`minimum`)
    failure_kinds: frozenset[str]
    rests_on: dict[str, tuple[str, ...]] = field(default_factory=dict)
    components_of: dict[str, list[str]] = field(default_factory=dict)  # service -> its components, sorted
    services_of: dict[str, tuple[str, ...]] = field(default_factory=dict)  # component -> services, sorted
    _kills: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, records: Mapping[str, Record], in_service: set[str], settings: Mapping[str, Any]) -> Graph:
        groups = dict(settings.get("groups") or {})
        kinds = frozenset(settings.get("failure_kinds") or DEFAULT_FAILURE_KINDS)
        graph = cls(records, in_service, groups, kinds)
        edges: dict[str, list[str]] = defaultdict(list)
        for rec in records.values():
            own = [t for t in rests_on_edges(rec) if t in records and t != rec.id]
            if own:
                edges[rec.id].extend(own)
            rels = rec.data.get("relations")
            for rel in rels if isinstance(rels, list) else ():
                if not isinstance(rel, dict) or not isinstance(rel.get("target"), str) or rel["target"] not in records:
                    continue
                target, rtype = rel["target"], rel.get("type")
                if rtype == "part_of" and rec.kind not in CONTAINED:
                    edges[target].append(rec.id)  # the whole rests on its parts
                elif rtype == "supports":
                    edges[target].append(rec.id)
                elif rtype == "stores":
                    edges[target].append(rec.id)  # information rests on what stores it
        graph.rests_on = {k: tuple(dict.fromkeys(v)) for k, v in edges.items()}
        services_of: dict[str, list[str]] = defaultdict(list)
        for sid in sorted(r.id for r in records.values() if r.kind == "service"):
            comps = sorted(c for c in graph._reach(sid) if records[c].kind not in NOT_COMPONENTS)
            graph.components_of[sid] = comps
            for c in comps:
                services_of[c].append(sid)
        graph.services_of = {k: tuple(v) for k, v in services_of.items()}
        return graph

    def _reach(self, start: str) -> set[str]:
        seen = {start}
        stack = [start]
        while stack:
            for nxt in self.rests_on.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        seen.discard(start)
        return seen

    # -- single points of failure -----------------------------------------------------------------------
    def minimum(self, group: str) -> int:
        settings = self.groups.get(group)
        value = settings.get("minimum") if isinstance(settings, Mapping) else None
        return value if isinstance(value, int) and value >= 1 else 1

    def single_points_of_failure(self, service: str) -> tuple[str, ...]:
        """The in-service components whose failure alone takes `service` down, sorted."""
        if service not in self.in_service:
            return ()
        kills = self._kill_set(service)
        return tuple(sorted(k for k in kills if k != service and self.records[k].kind in self.failure_kinds))

    def _live_children(self, node: str) -> list[str]:
        return [c for c in self.rests_on.get(node, ()) if c in self.in_service]

    def _kill_set(self, start: str) -> frozenset[str]:
        """The records whose failure alone makes `start` fail (itself included), computed children first
        without recursion (dependency chains can be long). A dependency cycle is cut where it closes."""
        memo = self._kills
        if start in memo:
            return memo[start]
        on_path = {start}
        stack: list[tuple[str, list[str]]] = [(start, self._live_children(start))]
        while stack:
            node, todo = stack[-1]
            while todo and (todo[-1] in memo or todo[-1] in on_path):
                todo.pop()
            if todo:
                child = todo.pop()
                on_path.add(child)
                stack.append((child, self._live_children(child)))
                continue
            stack.pop()
            on_path.discard(node)
            memo[node] = self._combine(node)
        return memo[start]

    def _combine(self, node: str) -> frozenset[str]:
        alone: set[str] = {node}
        pools: dict[str, list[str]] = defaultdict(list)
        for child in self._live_children(node):
            done = self._kills.get(child)
            if done is None:
                continue  # on the current path: a cycle, cut here
            group = self.records[child].data.get("redundancy_group")
            if isinstance(group, str) and group:
                pools[group].append(child)
            else:
                alone |= done
        for group, members in pools.items():
            can_lose = len(members) - self.minimum(group)
            counts: Counter[str] = Counter()
            for member in members:
                counts.update(self._kills[member])
            alone |= {k for k, n in counts.items() if n > can_lose}
        return frozenset(alone)
