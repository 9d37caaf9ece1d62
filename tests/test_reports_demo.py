"""The demo register (registry/): every situation it was built to show is found, by record and rule."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from bir.api import load as load_register
from bir.read.feeds import load_feeds
from bir.reports import all_reports
from bir.reports.models import CostReport, DecisionReport, LicenceReport, LifecycleReport, Report, RiskReport
from support import PROJECT, run

AS_OF = dt.date(2026, 11, 28)

pytestmark = pytest.mark.skipif(not any((PROJECT / "registry").glob("*/*.yaml")), reason="the demo register is empty")


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    result = load_register(PROJECT)
    assert result.errors == 0
    return all_reports(result.register, AS_OF, feeds=load_feeds(PROJECT))


@pytest.fixture(scope="module")
def risk(reports: dict[str, Report]) -> RiskReport:
    rep = reports["risk"]
    assert isinstance(rep, RiskReport)
    return rep


def _found(rep: RiskReport) -> dict[tuple[str, str], object]:
    return {(f.rule, f.record): f for f in rep.findings}


@pytest.mark.parametrize(("rule", "record"), [
    # software past end of life in production (record dates and the pinned endoflife.date feed)
    ("software.end_of_life", "sw-ubuntu-18-04"),
    ("software.end_of_life", "sw-windows-server-2012-r2"),
    ("software.end_of_life", "sw-postgresql-11"),
    ("software.end_of_life", "sw-nginx-1-24"),
    ("hardware.end_of_life", "srv-track-01"),
    # a contract past its notice deadline without a decision
    ("contract.notice_missed", "ctr-kpn-wan"),
    # the over-deployed per_device licence and the under-used per_user licence
    ("licence.over_deployed", "lic-eset-endpoint"),
    ("licence.unused", "lic-adobe-acrobat-pro"),
    # a critical service resting on a single server (its waiver has expired)
    ("service.single_point_of_failure", "svc-customs-declarations"),
    # a record owned by a person who has left
    ("owner.invalid", "srv-bi-01"),
    # records not verified for over a year
    ("record.verification_overdue", "info-scanned-archive"),
    ("record.verification_overdue", "ups-nwk-01"),
    # a critical-service component without an active support contract or warranty
    ("service.unsupported_component", "stor-rtm-nas-01"),
    # relations to retired records
    ("relation.ended_target", "srv-bi-01"),
    ("relation.ended_target", "info-scanned-archive"),
])
def test_situation_found(risk: RiskReport, rule: str, record: str) -> None:
    assert (rule, record) in _found(risk)


def test_situation_details(risk: RiskReport) -> None:
    found = _found(risk)
    eset = found[("licence.over_deployed", "lic-eset-endpoint")]
    assert "58 used of 50, true-up cost 344.00" in eset.message  # type: ignore[attr-defined]
    spof = found[("service.single_point_of_failure", "svc-customs-declarations")]
    assert spof.records == (  # type: ignore[attr-defined]
        # the server, its software, the network link to it and the rooms and sites it stands in
        "fac-dc-ams1", "fac-dc-rtm", "fac-rack-ams1-08", "fac-room-ams1-hall2", "fac-room-rtm-dc-hall1", "fac-site-ams-dc",
        "fac-site-rtm-dc", "net-wan", "srv-customs-01", "svc-customs-declarations", "sw-douanesoft", "sw-postgresql-16")
    assert spof.waiver_note == "waiver wvr-customs-single-server expired on 2026-06-30"  # type: ignore[attr-defined]
    assert found[("owner.invalid", "srv-bi-01")].records == ("pieter-bakker", "srv-bi-01")  # type: ignore[attr-defined]
    assert found[("relation.ended_target", "srv-bi-01")].records == ("srv-bi-01", "srv-sql-legacy-01")  # type: ignore[attr-defined]
    assert [rec for r, rec in found if r == "service.single_point_of_failure"] == [
        "svc-customs-declarations", "svc-network", "svc-tms", "svc-wms"]
    assert [rec for r, rec in found if r == "licence.over_deployed"] == ["lic-eset-endpoint"]


def test_waivers(risk: RiskReport) -> None:
    assert [(f.rule, f.record, f.waived_by) for f in risk.waived] == [
        ("hardware.end_of_support", "srv-erp-app-01", "wvr-srv-erp-app-01-eos"),
        ("software.vulnerable", "sw-py-requests-2-31-0", "wvr-requests-bi-verify")]
    assert ("hardware.end_of_support", "srv-erp-app-01") not in _found(risk)


def test_licence_positions(reports: dict[str, Report]) -> None:
    lic = reports["licences"]
    assert isinstance(lic, LicenceReport)
    pos = {p.licence: p for p in lic.positions}
    eset, acro = pos["lic-eset-endpoint"], pos["lic-adobe-acrobat-pro"]
    assert (eset.metric, eset.quantity, eset.consumption, eset.position, eset.excess, eset.true_up_cost) == (
        "per_device", 50, 58, "over", 8, Decimal("344.00"))
    assert (acro.metric, acro.quantity, acro.consumption, acro.position, acro.unused) == ("per_user", 200, 120, "under", 80)


def test_lifecycle_situations(reports: dict[str, Report]) -> None:
    life = reports["lifecycle"]
    assert isinstance(life, LifecycleReport)
    # a contract inside its notice period: the deadline to give notice comes within 90 days, undecided
    notice = [(e.record, e.horizon) for e in life.events if e.rule == "event.notice_deadline" and e.horizon <= 90]
    assert notice == [("ctr-dell-prosupport-2024", 90)]
    assert {"lt-0059", "lt-0060", "lt-0061"} <= {r.record for r in life.reuse}
    retire = {r.record: r.reasons for r in life.retirement}
    assert retire["srv-track-01"] == ("past useful life", "past end of life")
    assert retire["srv-erp-app-01"] == ("past useful life", "out of support")
    assert retire["sw-ubuntu-18-04"] == ("past end of life",)


def test_decisions(reports: dict[str, Report]) -> None:
    dec = reports["decisions"]
    assert isinstance(dec, DecisionReport)
    by = {d.record: d for d in dec.decisions}
    # three spares (lt-0059 to lt-0061), each offered once: the most urgent candidates get them
    reused = {d.record: d.reuse_candidates for d in dec.decisions if d.recommendation == "reuse"}
    assert sorted(s for spares in reused.values() for s in spares) == ["lt-0059", "lt-0060", "lt-0061"]
    assert all(len(spares) == 1 for spares in reused.values())
    assert by["srv-erp-app-01"].recommendation == "replace" and by["srv-erp-app-01"].keep_cost_per_year == Decimal("1450.00")


def test_cost_adds_up(reports: dict[str, Report]) -> None:
    cost = reports["cost"]
    assert isinstance(cost, CostReport)
    by_dim: dict[str, Decimal] = {}
    for line in cost.run:
        by_dim[line.by] = by_dim.get(line.by, Decimal(0)) + line.annual
    # shared components are split, never double counted: every dimension totals the same
    assert by_dim["service"] == by_dim["kind"] == by_dim["owner"] == by_dim["cost_centre"]
    # the rates the figures use: CHF is configured, and no amount of the demo register is in francs
    assert [(r.currency, r.rate) for r in cost.rates] == [("GBP", Decimal("1.17")), ("USD", Decimal("0.92"))]


@pytest.mark.parametrize("name", ["lifecycle", "cost", "risk", "licences", "decisions"])
def test_cli_json(name: str) -> None:
    code, out, err = run("report", name, "--root", PROJECT, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["report"] == name


def test_one_definition_of_annual_run_cost(reports: dict[str, Report]) -> None:
    """The cost report's run cost by kind is, to the cent, the sum of `annual_run_cost` over the records of
    that kind: the definition the site and the change impact use. Ended records (retired, disposed,
    expired) count nothing even where their recurring costs carry no end date."""
    from bir.reports.context import annual_run_cost, is_ended

    cost = reports["cost"]
    assert isinstance(cost, CostReport)
    register = load_register(PROJECT).register
    by_kind: dict[str, Decimal] = {}
    for rec in register:
        by_kind[rec.kind] = by_kind.get(rec.kind, Decimal(0)) + annual_run_cost(rec, register.config, AS_OF)
    reported = {line.key: line.annual for line in cost.run if line.by == "kind"}
    assert reported == {k: v for k, v in by_kind.items() if v}
    ended = [r for r in register if is_ended(r, register.config) and r.get("financial.recurring_costs")]
    assert ended and all(annual_run_cost(r, register.config, AS_OF) == 0 for r in ended)


def test_the_microsoft_365_subscription_reads_its_declared_consumption(reports: dict[str, Report]) -> None:
    """398 of 420 seats assigned (the admin centre's count of 2026-11-02): 22 unused, worth 22 x 36.00 = 792.00;
    94.8 % used, so the risk rule (which reads the same position) finds nothing; before, the tenant record was
    counted as one seat (1 used, 419 unused, 15,084.00 waste) and the risk rule left subscriptions out."""
    lic = reports["licences"]
    assert isinstance(lic, LicenceReport)
    m365 = next(p for p in lic.positions if p.licence == "lic-m365-e3")
    assert (m365.metric, m365.quantity, m365.consumption, m365.unused, m365.waste) == ("subscription", 420, 398, 22, Decimal("792.00"))
    assert m365.consumption_source.startswith("declared 2026-11-02: Microsoft 365 admin centre")
    risk = reports["risk"]
    assert isinstance(risk, RiskReport)
    assert not [f for f in risk.findings if f.record == "lic-m365-e3"]


def test_nginx_end_of_life_reaches_its_services(risk: RiskReport) -> None:
    f = _found(risk)[("software.end_of_life", "sw-nginx-1-24")]
    assert f.message.endswith("path: sw-nginx-1-24 -> srv-track-01 -> svc-customer-portal, svc-track-trace; "  # type: ignore[attr-defined]
                              "sw-nginx-1-24 -> srv-track-02 -> svc-customer-portal, svc-track-trace")
    assert f.services == ("svc-customer-portal", "svc-track-trace")  # type: ignore[attr-defined]


def test_named_feeds_missing_from_feeds_are_findings(risk: RiskReport) -> None:
    missing = sorted(r for rule, r in _found(risk) if rule == "lifecycle.feed_missing")
    # the three servers name dell-poweredge and hpe-proliant; NAV 2016 and SQL Server 2019 name feeds not pinned
    assert missing == ["srv-tms-app-01", "srv-tms-app-02", "srv-track-01", "sw-dynamics-nav-2016", "sw-sql-server-2019"]


def test_a_cost_centre_books_by_a_preset(reports: dict[str, Report]) -> None:
    """cc-ops-us books by Snipe-IT's half-year convention; cc-ops-uk to a fiscal year ending 31 March."""
    cost = reports["cost"]
    assert isinstance(cost, CostReport)
    register = load_register(PROJECT).register
    conventions = {d.record: d.convention for d in cost.depreciation}
    us = [r.id for r in register if r.get("financial.cost_centre") == "cc-ops-us" and r.id in conventions]
    uk = [r.id for r in register if r.get("financial.cost_centre") == "cc-ops-uk" and r.id in conventions]
    assert us and all(conventions[r].startswith("snipeit_half_year: half yearly") for r in us)
    assert uk and all(conventions[r].endswith("fiscal year to 03-31") for r in uk)


def test_the_workplace_pool_has_a_minimum() -> None:
    from bir.point.point import open_point
    from bir.reports import evaluate

    graph = evaluate(open_point(PROJECT)).context.graph
    assert graph.minimum("workplace-laptops") == 45
    assert not any(c.startswith("lt-") for c in graph.single_points_of_failure("svc-workplace"))


def test_lifecycle_decisions_and_forecast_agree_on_every_record(reports: dict[str, Report]) -> None:
    """Over the whole demo register: every retirement candidate has a decision and says the same one; the refresh
    plan says the same decision (replace when there is none yet); the forecast buys a replacement exactly where the
    plan replaces (now for a decided replace, on the due date otherwise, within 36 months) at the same price;
    nothing reused or kept is bought."""
    life, dec, cost = reports["lifecycle"], reports["decisions"], reports["cost"]
    assert isinstance(life, LifecycleReport) and isinstance(dec, DecisionReport) and isinstance(cost, CostReport)
    decisions = {d.record: d for d in dec.decisions}
    bought = {f.record: f for f in cost.forecast if f.category == "replacement"}
    for r in life.retirement:
        assert r.record in decisions and r.decision == decisions[r.record].recommendation, r.record
    in36 = AS_OF.replace(year=AS_OF.year + 3)
    for r in life.refresh:
        d = decisions.get(r.record)
        assert r.decision == (d.recommendation if d else "replace"), r.record
        if r.decision == "replace" and (d is not None or r.date <= in36) and r.replacement_cost is not None:
            assert bought[r.record].next_36_months == r.replacement_cost, r.record
            if d is not None:
                assert bought[r.record].next_12_months == d.replace_cost, r.record
        else:
            assert r.record not in bought, r.record
    for rid in bought:
        assert rid not in decisions or decisions[rid].recommendation == "replace", rid
    spares = [s for d in dec.decisions for s in d.reuse_candidates]
    assert len(spares) == len(set(spares))  # each spare offered once
    assert {d.recommendation for d in dec.decisions if d.kind == "software"} >= {"upgrade", "extend_support"}
    assert {d.kind for d in dec.decisions} == {"hardware", "software", "licence"}


def test_replacements_are_priced_from_the_catalogue(reports: dict[str, Report]) -> None:
    dec = reports["decisions"]
    assert isinstance(dec, DecisionReport)
    laptops = [d for d in dec.decisions if d.hw_class == "laptop" and d.replace_cost is not None]
    assert laptops and all(d.price_source.startswith("catalogue 2026-09-01: ") for d in laptops)
    assert {d.replace_cost for d in laptops} <= {Decimal("1189.00"), Decimal("2149.00")}


@pytest.mark.parametrize("name", ["lifecycle", "cost", "risk", "licences", "decisions", "assignments", "audits",
                                  "maintenance", "vulnerabilities", "budget"])
def test_report_json_is_the_standard_librarys_text(reports: dict[str, Report], name: str) -> None:
    """orjson writes `--format json`; its text is the standard library's indented JSON of `as_dict`, byte for byte."""
    from bir.reports.render import as_dict, as_json

    rep = reports[name]
    got = as_json(rep)
    assert got == json.dumps(as_dict(rep), indent=2, ensure_ascii=False) + "\n"
    assert got.count("\n") > 10
