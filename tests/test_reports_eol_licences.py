"""End of life over relations, the feed's flags and extended support; licence consumption per metric. Every
expectation is worked out by hand beside it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from bir.read.feeds import Cycle, Feed, normalise, parse_feed
from bir.reports import all_reports, build_report
from bir.reports.models import DecisionReport, LicenceReport, LifecycleReport, RiskReport
from support import hardware, loaded_register, service

AS_OF = dt.date(2026, 11, 28)
D = Decimal


def software(rid: str, **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": rid, "kind": "software", "name": rid, "owner": "team-it", "status": "active",
                           "status_dates": {"active": "2023-01-01"}, "last_verified": "2026-10-01"}
    rec.update(fields)
    return rec


def findings(rep: Any) -> dict[tuple[str, str], Any]:
    assert isinstance(rep, RiskReport)
    return {(f.rule, f.record): f for f in rep.findings}


FEEDS = {"nginx": Feed("nginx", {"1.24": Cycle("1.24", dt.date(2024, 4, 23), None, None, None, True)}),
         "oldos": Feed("oldos", {"7": Cycle("7", None, None, dt.date(2028, 6, 30), None, True, True, False,
                                            None, False, dt.date(2026, 11, 1))})}


def test_end_of_life_reaches_the_services_through_the_host(tmp_path: Path) -> None:
    """nginx 1.24 (end of life 2024-04-23) installed on srv-web, which supports svc-shop: the finding names the
    path sw-nginx -> srv-web -> svc-shop, and the service's risk score counts it (high: 5)."""
    reg = loaded_register(tmp_path / "reg", [
        service("svc-shop", "low"),
        hardware("srv-web", warranty_end="2029-01-01", relations=[{"type": "supports", "target": "svc-shop"}]),
        software("sw-nginx", lifecycle_feed={"product": "nginx", "cycle": "1.24"}, installations=[{"on": "srv-web"}]),
    ])
    rep = build_report("risk", reg, AS_OF, feeds=FEEDS)
    f = findings(rep)[("software.end_of_life", "sw-nginx")]
    assert f.message == ("software sw-nginx is in service past its end of life (2024-04-23, feed:nginx@1.24); "
                         "path: sw-nginx -> srv-web -> svc-shop")
    assert f.services == ("svc-shop",) and f.records == ("srv-web", "sw-nginx")
    assert isinstance(rep, RiskReport)
    assert {s.service: s.score for s in rep.services}["svc-shop"] == 5


def test_is_eol_without_a_date_counts(tmp_path: Path) -> None:
    """The feed marks release 7 `isEol: true` and `isEoas: true` with no dates (computed 2026-11-01): on 28
    November it is past its end of life, date not published; on 2026-10-01 (before the feed knew) it is not."""
    reg = loaded_register(tmp_path / "reg", [software("sw-os", lifecycle_feed={"product": "oldos", "cycle": "7"})])
    f = findings(build_report("risk", reg, AS_OF, feeds=FEEDS))
    assert f[("software.end_of_life", "sw-os")].message.startswith(
        "software sw-os is in service past its end of life (date not published, feed:oldos@7)")
    assert ("software.end_of_life", "sw-os") not in findings(build_report("risk", reg, dt.date(2026, 10, 1), feeds=FEEDS))


def test_feed_flags_are_read_from_the_document() -> None:
    doc = {"result": {"name": "oldos", "releases": [{"name": "7", "isEol": True, "isEoas": True, "eoesFrom": "2028-06-30",
                                                       "discontinuedFrom": "2020-01-31"}]},
           "generated_at": "2026-11-01T04:05:06Z", "schema_version": "1.2.0"}
    cycle = parse_feed(normalise(doc, "x")).cycles["7"]
    assert (cycle.eol, cycle.is_eol, cycle.is_eoas, cycle.eoes, cycle.discontinued, cycle.as_of) == (
        None, True, True, dt.date(2028, 6, 30), dt.date(2020, 1, 31), dt.date(2026, 11, 1))


def test_extended_support_is_honoured(tmp_path: Path) -> None:
    """Release 7 is past its end of life; the vendor sells extended support to 2028-06-30. Without it: a finding
    whose hint offers extended support, and the decision `extend_support`. Bought on the record (to
    2027-06-30): no finding, the decision `keep`, and an event when it ends. Bought through an active
    extended_support contract (to 2028-06-30): the same."""
    reg = loaded_register(tmp_path / "reg", [
        software("sw-a", lifecycle_feed={"product": "oldos", "cycle": "7"}),
        software("sw-b", lifecycle_feed={"product": "oldos", "cycle": "7"}, extended_support={"until": "2027-06-30"}),
        software("sw-c", lifecycle_feed={"product": "oldos", "cycle": "7"}, relations=[{"type": "covered_by", "target": "ctr-esu"}]),
        {"id": "ctr-esu", "kind": "contract", "name": "ESU", "owner": "team-it", "status": "active", "contract_type": "extended_support",
         "status_dates": {"active": "2026-01-01"}, "start": "2026-01-01", "end": "2028-06-30", "last_verified": "2026-10-01"},
    ])
    reports = all_reports(reg, AS_OF, feeds=FEEDS)
    f = findings(reports["risk"])
    assert "buy extended support where the vendor sells it" in f[("software.end_of_life", "sw-a")].hint
    assert ("software.end_of_life", "sw-b") not in f and ("software.end_of_life", "sw-c") not in f
    dec = reports["decisions"]
    assert isinstance(dec, DecisionReport)
    by = {d.record: (d.recommendation, d.deadline) for d in dec.decisions}
    assert by == {"sw-a": ("extend_support", dt.date(2028, 6, 30)), "sw-b": ("keep", dt.date(2027, 6, 30)),
                  "sw-c": ("keep", dt.date(2028, 6, 30))}
    life = reports["lifecycle"]
    assert isinstance(life, LifecycleReport)
    assert [(e.record, e.date) for e in life.events if e.rule == "event.end_of_extended_support"] == [("sw-b", dt.date(2027, 6, 30))]


def test_a_missing_feed_is_a_finding_naming_the_record(tmp_path: Path) -> None:
    reg = loaded_register(tmp_path / "reg", [hardware("srv-1", lifecycle_feed={"product": "dell-poweredge", "cycle": "r650"}),
                              software("sw-ng", lifecycle_feed={"product": "nginx", "cycle": "9.9"})])
    f = findings(build_report("risk", reg, AS_OF, feeds=FEEDS))
    assert f[("lifecycle.feed_missing", "srv-1")].message == (
        "srv-1 names the lifecycle feed 'dell-poweredge', which is not in feeds/endoflife/")
    assert f[("lifecycle.feed_missing", "srv-1")].hint.startswith("run `bir feed update dell-poweredge`")
    assert f[("lifecycle.feed_missing", "sw-ng")].message == "sw-ng: the feed 'nginx' has no release cycle '9.9'"


def _licence(rid: str, metric: str, quantity: int, **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": rid, "kind": "licence", "name": rid, "owner": "team-it", "status": "active",
                           "status_dates": {"active": "2024-01-01"}, "metric": metric, "quantity": quantity,
                           "true_up_unit_cost": 10.00, "last_verified": "2026-10-01"}
    rec.update(fields)
    return rec


def _person(rid: str, **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": rid, "kind": "party", "name": rid, "owner": "team-it", "status": "active", "party_type": "person"}
    rec.update(fields)
    return rec


def test_consumption_per_metric(tmp_path: Path) -> None:
    """By hand: per_device counts lt-1, lt-2 and the host srv-1 of the consuming software (3); per_core their
    cores (4 + 4 + 16 = 24); per_user the person ann plus the holders of the consuming laptops (ann again, bob:
    2 people); subscription the same people (2); site the sites the consuming devices stand in (lt-1 in the
    Rotterdam office, part of the Rotterdam site; lt-2 nowhere: 1 site); concurrent: unknown without a
    declaration; with one (17 on 2026-11-01) that figure, the same for a subscription of 420 declared 398."""
    consume = {"type": "licensed_by", "target": ""}

    def by(lic: str) -> list[dict[str, str]]:
        return [{**consume, "target": lic}]

    all_lics = ["lic-dev", "lic-core", "lic-user", "lic-sub", "lic-site", "lic-conc"]
    reg = loaded_register(tmp_path / "reg", [
        {"id": "site-rtm", "kind": "facility", "name": "s", "owner": "team-it", "status": "active", "facility_type": "site"},
        {"id": "bld-rtm", "kind": "facility", "name": "b", "owner": "team-it", "status": "active", "facility_type": "building",
         "relations": [{"type": "part_of", "target": "site-rtm"}]},
        _person("ann", relations=[{"type": "licensed_by", "target": lic} for lic in ("lic-user", "lic-sub")]),
        _person("bob"),
        hardware("lt-1", **{"class": "laptop"}, cpu_cores=4, assigned_to="ann",
                 relations=[*[{"type": "licensed_by", "target": lic} for lic in all_lics], {"type": "located_in", "target": "bld-rtm"}]),
        hardware("lt-2", **{"class": "laptop"}, cpu_cores=4, assigned_to="bob",
                 relations=[{"type": "licensed_by", "target": lic} for lic in all_lics]),
        hardware("srv-1", cpu_cores=16),
        software("sw-x", installations=[{"on": "srv-1"}], relations=[{"type": "licensed_by", "target": lic} for lic in ("lic-dev", "lic-core")]),
        _licence("lic-dev", "per_device", 2), _licence("lic-core", "per_core", 32), _licence("lic-user", "per_user", 2),
        _licence("lic-sub", "subscription", 10), _licence("lic-site", "site", 1), _licence("lic-conc", "concurrent", 20),
        _licence("lic-conc-2", "concurrent", 20, consumption={"count": 17, "date": "2026-11-01", "source": "licence server peak"}),
        _licence("lic-m365", "subscription", 420, consumption={"count": 398, "date": "2026-11-01", "source": "admin centre"}),
    ])
    reports = all_reports(reg, AS_OF)
    lic = reports["licences"]
    assert isinstance(lic, LicenceReport)
    got = {p.licence: (p.consumption, p.position, p.consumption_source) for p in lic.positions}
    assert got == {
        "lic-dev": (3, "over", "devices"), "lic-core": (24, "under", "cores of the devices"), "lic-user": (2, "compliant", "people"),
        "lic-sub": (2, "under", "people"), "lic-site": (1, "compliant", "sites of the devices"),
        "lic-conc": (0, "unknown", "no declared consumption: concurrent use is not in the register"),
        "lic-conc-2": (17, "under", "declared 2026-11-01: licence server peak"),
        "lic-m365": (398, "under", "declared 2026-11-01: admin centre"),
    }
    m365 = next(p for p in lic.positions if p.licence == "lic-m365")
    assert (m365.unused, m365.waste) == (22, D("220.00"))  # 22 x 10.00
    f = findings(reports["risk"])
    # the risk rules read the same figures: 24 of 32 cores is 75 % (< 80 %), 2 of 10 seats 20 %; 398 of 420 is 94.8 %
    assert {r for (rule, r) in f if rule == "licence.unused"} == {"lic-core", "lic-sub"}
    assert {r for (rule, r) in f if rule == "licence.over_deployed"} == {"lic-dev"}
    dec = reports["decisions"]
    assert isinstance(dec, DecisionReport)
    assert {d.record: d.recommendation for d in dec.decisions if d.kind == "licence"} == {
        "lic-dev": "true_up", "lic-core": "reduce", "lic-sub": "reduce"}


def test_licence_notice_deadline(tmp_path: Path) -> None:
    """A licence of 10 seats with no consumer, term to 2027-06-30 and 90 days' notice: cancel by 2027-04-01."""
    reg = loaded_register(tmp_path / "reg", [_licence("lic-1", "per_user", 10, term={"start": "2024-07-01", "end": "2027-06-30"},
                                       notice_period_days=90)])
    dec = build_report("decisions", reg, AS_OF)
    assert isinstance(dec, DecisionReport)
    (line,) = dec.decisions
    assert (line.recommendation, line.deadline, line.replace_cost) == ("cancel", dt.date(2027, 4, 1), D("100.00"))
    assert line.why == "nothing consumes its 10 units: cancel by 2027-04-01"
