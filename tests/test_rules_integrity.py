"""The integrity rules the data model promises, and exact money from the written text: each rule by a register
that passes and one that fails, with the exact message, position and hint."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from bir.api import load, validate
from bir.base.model import Register, to_decimal
from bir.cache.validation import relation_index
from bir.check.checker import LoadResult
from bir.check.rules import RecordFacts, link_of
from bir.check.rules.integrity import WAIVABLE
from bir.read.config import load_config
from bir.read.yamlstrict import parse
from bir.reports import build_report
from bir.reports.money import minor_units, normalised, to_base
from bir.reports.risk import all_rules
from support import CASES, PROJECT, make_register, run


def problems(root: Path, rule: str) -> list[tuple[str, int, int, str, str]]:
    result = validate(root, use_cache=False, jobs=1)
    return [(p.path, p.line, p.column, p.message, p.hint) for p in result.problems if p.rule == rule]


PARTY = "id: {id}\nkind: party\nname: {id}\nowner: team-it\nstatus: active\nparty_type: {type}\n"


def test_party_type(tmp_path: Path) -> None:
    root = make_register(tmp_path / "reg", CASES / "_base", records={
        "party/dell.yaml": PARTY.format(id="dell", type="supplier"),
        "party/cc-ops.yaml": PARTY.format(id="cc-ops", type="cost_centre"),
        "hardware/srv-02.yaml": "id: srv-02\nkind: hardware\nname: s\nowner: team-it\nstatus: planned\nmanufacturer: dell\n"
                                "financial:\n  supplier: dell\n  cost_centre: dell\n",
        "hardware/srv-03.yaml": "id: srv-03\nkind: hardware\nname: s\nowner: cc-ops\nstatus: planned\nfinancial:\n  cost_centre: cc-ops\n",
    })
    assert problems(root, "ref.party-type") == [
        ("registry/hardware/srv-02.yaml", 9, 16, "financial.cost_centre 'dell' is a supplier; it must be a cost_centre",
         "point financial.cost_centre at a party of type cost_centre, or correct the party_type of 'dell'"),
        ("registry/hardware/srv-03.yaml", 4, 8, "owner 'cc-ops' is a cost centre; it must be a department or person or team",
         "point owner at a party of type department or person or team, or correct the party_type of 'cc-ops'"),
    ]


INFO = "id: info-cctv\nkind: information\nname: footage\nowner: team-it\nstatus: active\npersonal_data: {pd}\n"
CAMERA = ("id: cam-01\nkind: hardware\nname: camera\nowner: team-it\nstatus: disposed\nclass: iot_device\n"
          "status_dates:\n  in_use: \"2022-01-01\"\n  retired: \"2025-01-01\"\n  disposed: \"2025-02-01\"\n"
          "retirement:\n  reason: broken\ndisposal:\n  method: recycled\n  date: \"2025-02-01\"\n"
          "relations:\n  - {{type: stores, target: info-cctv}}\n{extra}")


def test_data_bearing_from_what_it_stores(tmp_path: Path) -> None:
    """An IoT camera is not data-bearing by class; storing footage that holds personal data makes it so."""
    fails = make_register(tmp_path / "a" / "reg", CASES / "_base", records={
        "information/info-cctv.yaml": INFO.format(pd="true"), "hardware/cam-01.yaml": CAMERA.format(extra="")})
    assert problems(fails, "lifecycle.data-bearing-stores") == [(
        "registry/hardware/cam-01.yaml", 1, 1, "disposed without sanitisation evidence, but it stores personal data (info-cctv)",
        "add sanitisation.method, sanitisation.date and sanitisation.certificate: a device storing personal data is "
        "data-bearing whatever its class")]
    risk = build_report("risk", load(fails).register, dt.date(2026, 11, 28))
    assert ("hardware.disposed_unsanitised", "cam-01") in {(f.rule, f.record) for f in risk.findings}  # type: ignore[union-attr]
    sanitised = "sanitisation:\n  method: destroy\n  date: \"2025-01-20\"\n  certificate: D-1\n"
    for pd, extra in (("false", ""), ("true", sanitised)):
        passes = make_register(tmp_path / f"b{pd}{len(extra)}" / "reg", CASES / "_base", records={
            "information/info-cctv.yaml": INFO.format(pd=pd), "hardware/cam-01.yaml": CAMERA.format(extra=extra)})
        assert problems(passes, "lifecycle.data-bearing-stores") == []


LAPTOP = "id: lt-01\nkind: hardware\nname: l\nowner: team-it\nstatus: {status}\nclass: laptop\nstatus_dates:\n{dates}\n"


@pytest.mark.parametrize(("status", "dates", "expected"), [
    ("ordered", '  planned: "2024-02-01"\n  ordered: "2024-01-10"', [
        ("/status_dates/planned", "the record entered 'planned' on 2024-02-01, after 'ordered' on 2024-01-10, but the 'physical' "
                                  "model never leads from ordered to planned"),
        ("/status_dates/ordered", "status is 'ordered' (entered 2024-01-10), but 'planned' was entered later (2024-02-01)")]),
    ("in_use", '  in_use: "2024-01-10"\n  in_stock: "2024-05-01"', [
        ("/status_dates/in_use", "status is 'in_use' (entered 2024-01-10), but 'in_stock' was entered later (2024-05-01)")]),
    ("in_use", '  in_stock: "2024-05-01"\n  in_use: "2024-06-01"', []),  # back in use after a spell in stock
])
def test_lifecycle_order(tmp_path: Path, status: str, dates: str, expected: list[tuple[str, str]]) -> None:
    root = make_register(tmp_path / "reg", CASES / "_base", records={"hardware/lt-01.yaml": LAPTOP.format(status=status, dates=dates)})
    got = [p for p in validate(root, use_cache=False, jobs=1).problems if p.rule == "date.lifecycle-order"]
    assert [(p.json_path, p.message) for p in got] == expected


def test_a_renewed_contract_keeps_its_history(tmp_path: Path) -> None:
    """Expired on 2025-09-30, active again from 2026-12-01, the first term's start kept in status_history."""
    root = make_register(tmp_path / "reg", CASES / "_base", records={"contract/ctr-1.yaml": (
        "id: ctr-1\nkind: contract\nname: c\nowner: team-it\nstatus: active\ncontract_type: support\n"
        "status_history:\n  - {state: active, date: \"2022-10-01\"}\n"
        "status_dates:\n  active: \"2026-12-01\"\n  expired: \"2025-09-30\"\nstart: \"2026-12-01\"\nend: \"2027-11-30\"\n")})
    assert [p.rule for p in validate(root, use_cache=False, jobs=1).problems if p.rule.startswith("date.")] in (
        [], ["date.future"])  # 2026-12-01 may still be ahead of the machine's clock


def test_waiver_names_a_risk_rule(tmp_path: Path) -> None:
    waiver = ("id: wvr-1\nkind: waiver\nname: w\nowner: team-it\nstatus: active\nstatus_dates:\n  active: \"2026-01-01\"\n"
              "rule: {rule}\nrecord: srv-01\nreason: r\napprover: team-it\nexpires: \"2027-01-01\"\n")
    root = make_register(tmp_path / "reg", CASES / "_base", records={"waiver/wvr-1.yaml": waiver.format(rule="service.single_point_of_faillure")})
    assert problems(root, "waiver.rule-unknown") == [(
        "registry/waiver/wvr-1.yaml", 8, 7, "waiver names the rule 'service.single_point_of_faillure', which is no risk rule",
        "did you mean 'service.single_point_of_failure'?")]
    ok = make_register(tmp_path / "ok" / "reg", CASES / "_base", records={"waiver/wvr-1.yaml": waiver.format(rule="service.single_point_of_failure")})
    assert problems(ok, "waiver.rule-unknown") == []


def test_waivable_rules_are_the_risk_rules() -> None:
    assert sorted(WAIVABLE) == sorted(r.id for r in all_rules())


def test_orphan(tmp_path: Path) -> None:
    lone = "id: srv-09\nkind: hardware\nname: s\nowner: team-it\nstatus: in_use\nstatus_dates:\n  in_use: \"2024-01-01\"\n"
    root = make_register(tmp_path / "reg", CASES / "_base", records={"hardware/srv-09.yaml": lone})
    assert problems(root, "record.orphan") == [(
        "registry/hardware/srv-09.yaml", 1, 1, "srv-09 is in_use but has no relation, location or service, and nothing relates to it",
        "add where it is (located_in), what it supports (supports) or runs on, or retire it if it is gone")]
    # the base register's server supports a service: no orphan; a planned record is not in service
    root = make_register(tmp_path / "b" / "reg", CASES / "_base", records={"hardware/srv-09.yaml": lone.replace("in_use", "planned")})
    assert problems(root, "record.orphan") == []



@pytest.mark.parametrize(("label", "link"), [
    ("relation supports", "supports"), ("relation located_in", "located_in"), ("installations[0]", "installed_on"),
    ("installations[12]", "installed_on"), ("software", ""), ("assigned_to", ""), ("owner", None),
    ("financial.cost_centre", None), ("relationship", None), ("relation", None), ("installation", None),
])
def test_how_a_reference_ties_a_record_in(label: str, link: str | None) -> None:
    assert link_of(label) == link
    assert link_of(label) == link  # the kept answer is the same


def test_the_relation_index_of_a_popular_target_keeps_every_source_in_order() -> None:
    facts = [RecordFacts(f"srv-{i:04d}", "hardware", f"registry/hardware/srv-{i:04d}.yaml", "in_use",
                         (("/relations/0/target", "fac-dc", frozenset({"facility"}), "relation located_in"),
                          ("/owner", "team-it", frozenset({"party"}), "owner"),
                          ("/installations/0/host", "srv-0000", frozenset({"hardware"}), "installations[0]")),
                         (), (), None) for i in range(3000)]
    index = relation_index(LoadResult(Register("r", load_config((PROJECT / "bir.yaml").read_bytes(), None)), index={f.id: [f] for f in facts}))
    assert index.get("fac-dc") == [(f.path, "located_in") for f in facts]
    assert index.get("srv-0000") == [(f.path, "installed_on") for f in facts]
    assert index.get("team-it") == []


# ------------------------------------------------------------------------------------------ money

def test_money_is_read_exactly_from_the_text() -> None:
    value = parse(b"a: 12345678901234567.89\nb: 949.00\nc: 0.1\n", "x.yaml").value
    assert [str(to_decimal(value[k])) for k in "abc"] == ["12345678901234567.89", "949.00", "0.1"]
    assert value["a"] == 12345678901234567.89  # still a number for the schema


@pytest.mark.parametrize(("currency", "units", "shown"), [("EUR", 2, "949.00"), ("JPY", 0, "949"), ("KWD", 3, "949.000"),
                                                          ("XAU", 2, "949.00"), ("ZZZ", 2, "949.00")])
def test_minor_units(currency: str, units: int, shown: str) -> None:
    assert minor_units(currency) == units
    assert str(normalised(Decimal("949"), currency)) == shown


def test_an_absurd_amount_is_a_positioned_problem(tmp_path: Path) -> None:
    """`1e400` (a float overflows to infinity) and a quintillion are schema problems on their line, never exit 3."""
    root = make_register(tmp_path / "reg", CASES / "_base", records={
        "hardware/srv-02.yaml": "id: srv-02\nkind: hardware\nname: s\nowner: team-it\nstatus: planned\n"
                                "financial:\n  purchase_cost: 1e400\n",
        "hardware/srv-03.yaml": "id: srv-03\nkind: hardware\nname: s\nowner: team-it\nstatus: planned\n"
                                "financial:\n  purchase_cost: 1000000000000000000\n"})
    got = [(p.path, p.line, p.rule) for p in validate(root, use_cache=False, jobs=1).problems]
    assert got == [("registry/hardware/srv-02.yaml", 7, "yaml.number-too-large"), ("registry/hardware/srv-03.yaml", 7, "schema.range")]
    code, out, _err = run("validate", str(root), "--format", "json")
    assert code == 1 and json.loads(out)["summary"]["errors"] == 2
    code, out, err = run("report", "cost", "--root", str(root), "--format", "json")
    assert code == 0, err  # the two records are left out of the reports, which still run


def test_amounts_are_exact_and_normalised_in_reports(tmp_path: Path) -> None:
    """949 (written without decimals) is 949.00 in the JSON report; 12,345,678,901,234,567.89 stays exact, and
    12,345,678,901,234,567.89 USD at 0.92 is 11,358,024,589,135,802.4588, rounded to cents."""
    root = make_register(tmp_path / "reg", CASES / "_base", records={
        "hardware/srv-02.yaml": "id: srv-02\nkind: hardware\nname: s\nowner: team-it\nstatus: in_use\n"
                                "status_dates:\n  in_use: \"2024-01-01\"\nfinancial:\n  purchase_cost: 949\n"
                                "  purchase_date: \"2024-01-01\"\n"
                                "relations:\n  - {type: supports, target: svc-web}\n",
        "hardware/srv-03.yaml": "id: srv-03\nkind: hardware\nname: s\nowner: team-it\nstatus: in_stock\n"
                                "status_dates:\n  in_stock: \"2024-01-01\"\nfinancial:\n"
                                "  purchase_cost: 12345678901234567.89\n  currency: USD\n"
                                "  purchase_date: \"2024-01-01\"\n"})
    code, out, err = run("report", "cost", "--root", root, "--format", "json")
    assert code == 0, err
    lines = {t["record"]: t for t in json.loads(out)["tco"]}
    assert lines["srv-02"]["purchase"] == "949.00"
    assert lines["srv-03"]["purchase"] == "11358024589135802.46"
    reg = load(root).register
    assert to_base(Decimal("12345678901234567.89"), "USD", reg.config) == Decimal("11358024589135802.46")


def test_the_json_export_writes_amounts_as_written(tmp_path: Path) -> None:
    """The JSON export (and the site's download) keeps 12345678901234567.89 and 949.10, never the float."""
    root = make_register(tmp_path / "reg", CASES / "_base", records={
        "hardware/srv-03.yaml": "id: srv-03\nkind: hardware\nname: s\nowner: team-it\nstatus: in_stock\n"
                                "status_dates:\n  in_stock: \"2024-01-01\"\nfinancial:\n"
                                "  purchase_cost: 12345678901234567.89\n  currency: USD\n"
                                "  purchase_date: \"2024-01-01\"\n  order_number: PO-1\n"
                                "warranty_end: \"2027-01-01\"\nasset_tag: IT-1\n"
                                "cpu_cores: 8\n"})
    code, out, err = run("export", "json", "--root", root)
    assert code == 0, err
    assert '"purchase_cost": 12345678901234567.89,' in out
    assert '"cpu_cores": 8' in out
    doc = json.loads(out, parse_float=Decimal)
    srv = next(r for r in doc["records"] if r["id"] == "srv-03")
    assert srv["financial"]["purchase_cost"] == Decimal("12345678901234567.89")
