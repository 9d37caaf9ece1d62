"""Single points of failure, checked against the definition by hand: a component is one for a service when
every dependency path from the service runs through it and no in-service peer of its redundancy group serves
the same need (a pool of N with a minimum M survives N - M losses); every kind that can fail counts
(`redundancy.failure_kinds`)."""

from __future__ import annotations

from typing import Any

from bir.base.model import Record
from bir.reports.graph import Graph


def rec(rid: str, kind: str = "hardware", *rels: tuple[str, str], group: str | None = None, **data: Any) -> Record:
    body: dict[str, Any] = {"id": rid, "kind": kind, "relations": [{"type": t, "target": x} for t, x in rels], **data}
    if group:
        body["redundancy_group"] = group
    return Record(rid, kind, "", body)


def spof(records: list[Record], service: str = "svc", *, down: frozenset[str] = frozenset(), **settings: Any) -> tuple[str, ...]:
    by_id = {r.id: r for r in records}
    graph = Graph.build(by_id, {r.id for r in records} - down, settings)
    return graph.single_points_of_failure(service)


SVC = rec("svc", "service")


def test_a_lone_server_and_everything_under_it() -> None:
    """svc <- srv (supports); srv in rack, rack part of room; srv on a network link: all four are single points of
    failure (hardware, facility and network all fail)."""
    records = [SVC, rec("srv", "hardware", ("supports", "svc"), ("located_in", "rack"), ("depends_on", "link")),
               rec("rack", "facility", ("part_of", "room")), rec("room", "facility"), rec("link", "network")]
    assert spof(records) == ("link", "rack", "room", "srv")


def test_peers_cover_each_other_but_not_what_they_share() -> None:
    """Two servers of one group support svc: neither is a single point of failure; both stand in the same rack,
    which is one; in different racks of the same room, the room is."""
    same_rack = [SVC, rec("a", "hardware", ("supports", "svc"), ("located_in", "rack"), group="web"),
                 rec("b", "hardware", ("supports", "svc"), ("located_in", "rack"), group="web"), rec("rack", "facility")]
    assert spof(same_rack) == ("rack",)
    two_racks = [SVC, rec("a", "hardware", ("supports", "svc"), ("located_in", "r1"), group="web"),
                 rec("b", "hardware", ("supports", "svc"), ("located_in", "r2"), group="web"),
                 rec("r1", "facility", ("part_of", "room")), rec("r2", "facility", ("part_of", "room")), rec("room", "facility")]
    assert spof(two_racks) == ("room",)


def test_a_peer_elsewhere_is_no_peer() -> None:
    """A lone server of svc put into the group of another service's server: still a single point of failure of
    svc (the peer serves svc-2, not svc)."""
    records = [SVC, rec("svc-2", "service"), rec("a", "hardware", ("supports", "svc"), group="web"),
               rec("b", "hardware", ("supports", "svc-2"), group="web")]
    assert spof(records) == ("a",)
    assert spof(records, "svc-2") == ("b",)


def test_a_peer_out_of_service_is_no_peer() -> None:
    records = [SVC, rec("a", "hardware", ("supports", "svc"), group="web"), rec("b", "hardware", ("supports", "svc"), group="web")]
    assert spof(records, down=frozenset({"b"})) == ("a",)


def test_a_pool_with_a_minimum() -> None:
    """Three laptops support svc in a pool that needs 2: one may fail (3 - 2 = 1), none is a single point of
    failure; needing 3, each is; what two of them share (a switch) fails the pool when losing 2 is too many."""
    laptops = [rec(f"lt-{i}", "hardware", ("supports", "svc"), *([("depends_on", "sw")] if i < 2 else []), group="pool")
               for i in range(3)]
    records = [SVC, *laptops, rec("sw", "hardware")]
    assert spof(records, groups={"pool": {"minimum": 2}}) == ("sw",)  # losing lt-0 and lt-1 leaves 1 < 2
    assert spof(records, groups={"pool": {"minimum": 1}}) == ()  # lt-2 alone is enough
    assert spof(records, groups={"pool": {"minimum": 3}}) == ("lt-0", "lt-1", "lt-2", "sw")


def test_every_path_runs_through_it() -> None:
    """svc rests on app and on db directly, app on db too: db is on every path; a cloud service and software
    count as well. svc needs x or y (one group), both run on the same host: the host is on every path."""
    records = [SVC, rec("app", "software", ("supports", "svc"), ("depends_on", "db")), rec("db", "cloud_service", ("supports", "svc"))]
    assert spof(records) == ("app", "db")
    records = [SVC, rec("x", "software", ("supports", "svc"), ("runs_on", "host"), group="g"),
               rec("y", "software", ("supports", "svc"), ("runs_on", "host"), group="g"), rec("host", "hardware")]
    assert spof(records) == ("host",)


def test_failure_kinds_are_configurable() -> None:
    records = [SVC, rec("srv", "hardware", ("supports", "svc"), ("located_in", "rack"), ("covered_by", "ctr")),
               rec("rack", "facility"), rec("ctr", "contract")]
    assert spof(records) == ("rack", "srv")  # contracts do not fail by default
    assert spof(records, failure_kinds=["hardware", "contract"]) == ("ctr", "srv")
