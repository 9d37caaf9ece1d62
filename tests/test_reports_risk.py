"""Risk rules on a small register built for them: each finding with its exact rule and records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bir.base.escape import csv_cell
from bir.base.model import Register
from bir.reports import build_report
from bir.reports.models import RiskReport
from bir.reports.render import as_csv, as_json, markdown, text
from bir.reports.risk import RULES, all_rules
from support import hardware, loaded_register, service

AS_OF = dt.date(2026, 11, 28)


def person(pid: str, status: str = "active") -> dict[str, Any]:
    rec: dict[str, Any] = {"id": pid, "kind": "party", "name": pid, "owner": "team-it", "status": status, "party_type": "person"}
    if status == "retired":
        rec.update(status_dates={"active": "2020-01-01", "retired": "2026-01-31"}, retirement={"reason": "left the company"})
    return rec


def records() -> list[dict[str, Any]]:
    ctr = {"kind": "contract", "owner": "team-it", "status": "active", "status_dates": {"active": "2024-01-01"},
           "contract_type": "support", "start": "2024-01-01", "last_verified": "2026-10-01"}
    return [
        person("ann"), person("bob", "retired"),
        service("svc-crit", "critical"), service("svc-low", "low"),
        # two redundant web servers, supported by an active contract
        hardware("web-1", redundancy_group="web", relations=[{"type": "supports", "target": "svc-crit"},
                                                             {"type": "covered_by", "target": "ctr-ok"}]),
        hardware("web-2", redundancy_group="web", relations=[{"type": "supports", "target": "svc-crit"},
                                                             {"type": "covered_by", "target": "ctr-ok"}]),
        # a single database server without support, owned by a retired person, past end of support
        hardware("db-1", owner="bob", end_of_support="2026-06-30", relations=[{"type": "supports", "target": "svc-crit"}]),
        hardware("old-1", status="retired", status_dates={"in_use": "2020-01-01", "retired": "2025-01-01"},
                 retirement={"reason": "replaced"}),
        hardware("app-1", end_of_life="2026-01-31", warranty_end="2027-01-01", last_verified="2025-01-01",
                 relations=[{"type": "supports", "target": "svc-low"}, {"type": "depends_on", "target": "old-1"}]),
        hardware("lt-gone", **{"class": "laptop", "status": "disposed",
                               "status_dates": {"in_use": "2020-01-01", "retired": "2025-01-01", "disposed": "2025-02-01"},
                               "retirement": {"reason": "broken"}, "disposal": {"method": "recycled", "date": "2025-02-01"},
                               "data_bearing": False}),
        dict(ctr, id="ctr-ok", name="ok", end="2027-12-31", notice_period_days=30),
        dict(ctr, id="ctr-late", name="late", end="2027-01-31", notice_period_days=90),
        dict(ctr, id="ctr-decided", name="decided", end="2027-01-31", notice_period_days=90,
             renewal={"type": "manual", "decision": "renew", "decided_on": "2026-10-01"}),
        {"id": "lic-dev", "kind": "licence", "name": "dev", "owner": "team-it", "status": "active",
         "status_dates": {"active": "2024-01-01"}, "last_verified": "2026-10-01",
         "metric": "per_device", "quantity": 2, "true_up_unit_cost": 40.00},
        {"id": "lic-core", "kind": "licence", "name": "core", "owner": "team-it", "status": "active",
         "status_dates": {"active": "2024-01-01"}, "last_verified": "2026-10-01", "metric": "per_core", "quantity": 16,
         "financial": {"purchase_cost": 1600.00}},
        {"id": "sw-db", "kind": "software", "name": "db", "owner": "team-it", "status": "active",
         "status_dates": {"active": "2024-01-01"}, "end_of_life": "2030-01-01", "last_verified": "2026-10-01",
         "installations": [{"on": "web-1"}], "relations": [{"type": "licensed_by", "target": "lic-core"},
                                                            {"type": "installed_on", "target": "web-2"},
                                                            {"type": "covered_by", "target": "ctr-ok"}]},
        {"id": "wvr-db", "kind": "waiver", "name": "w", "owner": "team-it", "status": "active",
         "status_dates": {"active": "2026-07-01"}, "rule": "hardware.end_of_support", "record": "db-1", "reason": "r",
         "approver": "ann", "expires": "2027-01-31"},
        {"id": "wvr-old", "kind": "waiver", "name": "w", "owner": "team-it", "status": "expired",
         "status_dates": {"active": "2025-01-01", "expired": "2026-06-30"}, "rule": "service.single_point_of_failure",
         "record": "svc-crit", "reason": "r", "approver": "ann", "expires": "2026-06-30"},
    ]


def _with_cores(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in recs:
        if r["id"] in ("web-1", "web-2"):
            r["cpu_cores"] = 12
            r.setdefault("relations", []).append({"type": "licensed_by", "target": "lic-dev"})
        if r["id"] == "db-1":
            r["relations"].append({"type": "licensed_by", "target": "lic-dev"})
    return recs


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Register:
    return loaded_register(tmp_path_factory.mktemp("risk") / "reg", _with_cores(records()))


@pytest.fixture(scope="module")
def report(reg: Register) -> RiskReport:
    rep = build_report("risk", reg, AS_OF)
    assert isinstance(rep, RiskReport)
    return rep


def found(rep: RiskReport) -> set[tuple[str, str]]:
    return {(f.rule, f.record) for f in rep.findings}


def test_findings_are_exact(report: RiskReport) -> None:
    assert found(report) == {
        ("hardware.end_of_life", "app-1"),
        ("service.unsupported_component", "db-1"),
        ("contract.notice_missed", "ctr-late"),
        ("licence.over_deployed", "lic-dev"),
        ("licence.over_deployed", "lic-core"),
        ("owner.invalid", "db-1"),
        ("record.verification_overdue", "app-1"),
        ("service.single_point_of_failure", "svc-crit"),
        ("relation.ended_target", "app-1"),
    }


def test_finding_details(report: RiskReport) -> None:
    by = {(f.rule, f.record): f for f in report.findings}
    spof = by[("service.single_point_of_failure", "svc-crit")]
    assert spof.records == ("db-1", "svc-crit") and spof.services == ("svc-crit",)
    assert spof.waiver_note == "waiver wvr-old expired on 2026-06-30"
    assert by[("relation.ended_target", "app-1")].records == ("app-1", "old-1")
    assert by[("hardware.end_of_life", "app-1")].services == ("svc-low",)
    dev = by[("licence.over_deployed", "lic-dev")]
    assert "3 used of 2, true-up cost 40.00" in dev.message and dev.records == ("db-1", "lic-dev", "web-1", "web-2")
    # per_core: software installed on web-1 (installations) and web-2 (installed_on): 24 cores of 16 at 100.00
    assert "24 used of 16, true-up cost 800.00" in by[("licence.over_deployed", "lic-core")].message


def test_active_waiver_silences_and_is_listed(report: RiskReport) -> None:
    assert [(f.rule, f.record, f.waived_by) for f in report.waived] == [("hardware.end_of_support", "db-1", "wvr-db")]


def test_waiver_expires(reg: Register) -> None:
    later = build_report("risk", reg, dt.date(2027, 2, 1))
    assert isinstance(later, RiskReport)
    assert ("hardware.end_of_support", "db-1") in found(later) and later.waived == []


def test_compliance_and_scores(report: RiskReport) -> None:
    comp = {c.rule: c for c in report.compliance}
    assert [c.rule for c in report.compliance] == [r.id for r in all_rules()]
    assert [r.id for r in all_rules()][len(RULES):] == [
        "handout.holder_inactive", "handout.unaccepted", "location.audit_overdue", "maintenance.overdue", "budget.overrun",
        "software.vulnerable"]
    assert (comp["contract.notice_missed"].scope, comp["contract.notice_missed"].failing) == (3, 1)
    assert comp["contract.notice_missed"].compliant_pct == Decimal("66.7")
    assert (comp["hardware.end_of_support"].scope, comp["hardware.end_of_support"].waived) == (1, 1)
    assert comp["hardware.disposed_unsanitised"].scope == 0 and comp["hardware.disposed_unsanitised"].compliant_pct is None
    scores = {s.service: s.score for s in report.services}
    # svc-crit: unsupported (5) + owner (3) + over-deployed lic-dev (5) + spof (5); lic-core's consumer
    # sw-db supports no service itself
    assert scores == {"svc-crit": 18, "svc-low": 5 + 1 + 3}


def test_disposed_without_sanitisation(tmp_path: Path) -> None:
    gone = {"status": "disposed", "status_dates": {"in_use": "2020-01-01", "retired": "2025-01-01", "disposed": "2025-02-01"},
            "retirement": {"reason": "old"}, "disposal": {"method": "destroyed", "date": "2025-02-01"}}
    sanitised = {"method": "purge", "date": "2025-01-20", "certificate": "CERT-1"}
    reg = loaded_register(tmp_path / "reg", [hardware("srv-gone", **gone, sanitisation=sanitisation) for sanitisation in [sanitised]]
                          + [hardware("srv-bad", **gone, sanitisation=dict(sanitised)),
                             hardware("sw-box", **gone, data_bearing=False)])
    # The lifecycle rules reject a data-bearing disposal without evidence, so a register validated under
    # older rules is the only way to meet one: simulate it by removing the certificate after loading.
    del reg.records["srv-bad"].data["sanitisation"]["certificate"]
    rep = build_report("risk", reg, AS_OF)
    assert isinstance(rep, RiskReport)
    assert found(rep) >= {("hardware.disposed_unsanitised", "srv-bad")}
    assert {c.rule: (c.scope, c.failing) for c in rep.compliance}["hardware.disposed_unsanitised"] == (2, 1)


def test_renderers(report: RiskReport) -> None:
    assert "== Findings (9)" in text(report)
    assert "| rule | severity | record |" in markdown(report)
    assert '"rule": "contract.notice_missed"' in as_json(report)
    lines = as_csv(report).splitlines()
    assert lines[0].startswith("section,rule,severity,record,message")
    assert any(line.startswith("findings,contract.notice_missed,high,ctr-late,") for line in lines)


def test_json_of_values_orjson_refuses_is_the_standard_librarys(report: RiskReport) -> None:
    """An integer past 64 bits (record data keeps it) and a number that keeps its text: the same JSON as
    the standard library writes, through its fallback."""
    import dataclasses
    import json

    from bir.read.yamlvalues import Number
    from bir.reports.render import as_dict

    first = dataclasses.replace(report.findings[0], message=f"big {2 ** 70}")
    odd = dataclasses.replace(report, findings=[first], compliance=[{"n": 2 ** 70, "x": Number("1.50")}])  # type: ignore[list-item]
    got = as_json(odd)
    assert got == json.dumps(as_dict(odd), indent=2, ensure_ascii=False) + "\n"
    assert '"n": 1180591620717411303424' in got and '"x": 1.5' in got
    small = dataclasses.replace(report, compliance=[{"x": Number("1.50"), "when": dt.datetime(2026, 1, 2, 3, 4, 5)}])  # type: ignore[list-item]
    assert as_json(small) == json.dumps(as_dict(small), indent=2, ensure_ascii=False) + "\n"
    assert '"when": "2026-01-02T03:04:05"' in as_json(small)


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+2", "'=1+2"), ("+x", "'+x"), ("-3", "'-3"), ("@SUM", "'@SUM"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("ok", "ok"),
])
def test_csv_neutralises_formulas(value: str, expected: str) -> None:
    assert csv_cell(value) == expected


def test_a_long_list_of_single_points_is_summed_up_and_kept_whole_in_the_records(tmp_path: Path) -> None:
    """Seven lone components under one critical service: the message names five and how many more, and the
    finding's records hold all seven (with the service)."""
    lone = [hardware(f"db-{i}", relations=[{"type": "supports", "target": "svc-crit"}]) for i in range(7)]
    reg = loaded_register(tmp_path / "reg", [person("ann"), service("svc-crit", "critical"), *lone])
    rep = build_report("risk", reg, AS_OF)
    assert isinstance(rep, RiskReport)
    spof = next(f for f in rep.findings if f.rule == "service.single_point_of_failure")
    assert spof.message == ("service svc-crit rests on 7 components (db-0, db-1, db-2, db-3, db-4 and 2 more) "
                            "without a redundant peer")
    assert spof.records == ("db-0", "db-1", "db-2", "db-3", "db-4", "db-5", "db-6", "svc-crit")
