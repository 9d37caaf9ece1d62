"""`bir export`: JSON, CSV per kind (safe for spreadsheets), SQLite, CycloneDX 1.6."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from support import make_register, run, snapshot, validate_clean

SOFTWARE = """\
id: sw-office
kind: software
name: Office suite 2024
owner: team-it
status: active
status_dates:
  active: "2024-01-01"
product: Office suite
version: "2024"
vendor: example-supplier
purl: pkg:generic/office-suite@2024
cpe: cpe:2.3:a:example:office_suite:2024:*:*:*:*:*:*:*
installations:
  - {on: hw-1, date: "2024-02-05"}
relations:
  - {type: installed_on, target: hw-1}
  - {type: supports, target: svc-workplace}
"""
LIBRARY = """\
id: sw-requests
kind: software
name: "=cmd|' /C calc'!A0"
owner: team-it
status: active
status_dates:
  active: "2024-01-01"
product: requests
version: "2.32.3"
purl: pkg:pypi/requests@2.32.3
"""
INFORMATION = """\
id: inf-customers
kind: information
name: Customer records
description: Who our customers are
owner: team-it
status: active
classification: confidential
relations:
  - {type: supports, target: svc-workplace}
"""
VENDOR = """\
id: acme-soft
kind: party
name: Acme Software
owner: team-it
status: active
party_type: manufacturer
email: licensing@acme.example
"""
OS = """\
id: sw-os
kind: software
name: Ubuntu 24.04
owner: team-it
status: active
status_dates:
  active: "2024-01-01"
product: Ubuntu
version: "24.04"
installations:
  - {on: hw-1}
"""
LICENCE = """\
id: lic-office
kind: licence
name: Office suite, 50 users
owner: team-it
status: active
status_dates:
  active: "2024-01-01"
product: Office suite
software: sw-office
metric: per_user
quantity: 50
term: {start: "2024-01-01", end: "2026-12-31"}
financial:
  supplier: example-supplier
  order_number: PO-2024-7
  currency: EUR
"""


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    root = make_register(tmp_path / "reg", scaffold=True)
    (root / "registry/software").mkdir()
    (root / "registry/licence").mkdir()
    (root / "registry/software/sw-office.yaml").write_text(SOFTWARE)
    (root / "registry/software/sw-requests.yaml").write_text(LIBRARY)
    (root / "registry/licence/lic-office.yaml").write_text(LICENCE)
    (root / "registry/software/sw-os.yaml").write_text(OS)
    assert validate_clean(root) == []
    return root


def test_json_has_every_record(reg: Path) -> None:
    code, out, _ = run("export", "json", "--root", str(reg))
    doc = json.loads(out)
    assert code == 0 and doc["register"] == "Test register" and doc["base_currency"] == "EUR"
    assert [r["id"] for r in doc["records"]] == ["example-supplier", "fac-main-office", "hw-1", "lic-office", "svc-workplace",
                                                 "sw-office", "sw-os", "sw-requests", "team-it"]


def test_csv_per_kind_flattened_and_safe(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    code, _, _ = run("export", "csv", "--out", str(out), "--root", str(reg))
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["facility.csv", "hardware.csv", "licence.csv", "party.csv", "service.csv",
                                                     "software.csv"]
    raw = (out / "software.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,") and raw.endswith(b"\r\n")  # a BOM for spreadsheets, RFC 4180 line ends
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    by_id = {r["id"]: r for r in rows}
    assert by_id["sw-requests"]["name"] == "'=cmd|' /C calc'!A0"  # a formula is text in a spreadsheet
    assert by_id["sw-office"]["status_dates.active"] == "2024-01-01"
    assert json.loads(by_id["sw-office"]["installations"]) == [{"on": "hw-1", "date": "2024-02-05"}]
    hw = next(csv.DictReader(io.StringIO((out / "hardware.csv").read_text(encoding="utf-8-sig"))))
    assert (hw["financial.purchase_cost"], hw["tags"], hw["financial.supplier"]) == ("1200.0", "workplace", "example-supplier")
    header = (out / "licence.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[0] == "id" and header[1:] == sorted(header[1:])


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+44 20 1234", "'+44 20 1234"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("\n=1+1", "'\n=1+1"), ("  =1+1", "'  =1+1"), ("\uff1dSUM(A1)", "'\uff1dSUM(A1)"),
    ("a\r=1+1", "a\r=1+1"), ("plain", "plain"), (-5, "-5"), (1.5, "1.5"), (True, "true"), (None, ""),
    ("", ""), ("   ", "   "), (" plain", " plain"), ("\uff0bx", "'\uff0bx"), (" \uff20x", "' \uff20x"), ("x=1", "x=1"),
])
def test_safe_cell(value: object, cell: str) -> None:
    from bir.write.exporters import safe_cell

    assert safe_cell(value) == cell


def test_sqlite_tables_and_relations(reg: Path, tmp_path: Path) -> None:
    db = tmp_path / "register.sqlite"
    code, _, err = run("export", "sqlite", "--out", str(db), "--root", str(reg))
    assert code == 0 and f"datasette {db} --metadata {tmp_path / 'register.metadata.json'}" in err
    con = sqlite3.connect(db)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"facility", "hardware", "licence", "party", "records", "relations", "service", "software", "software_installations",
            "exchange_rates", "book_values", "run_costs", "tco", "life_dates", "risk_findings", "export_info"} <= tables
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("SELECT source, type, target FROM relations ORDER BY source, type, target").fetchall() == [
        ("hw-1", "located_in", "fac-main-office"), ("hw-1", "supports", "svc-workplace"),
        ("sw-office", "installed_on", "hw-1"), ("sw-office", "supports", "svc-workplace")]
    row = con.execute("SELECT name, class, serial_number, financial_purchase_cost, financial_purchase_cost_currency, "
                      "financial_purchase_cost_base, financial_purchase_date, status_dates_in_use, tags FROM hardware "
                      "WHERE id = 'hw-1'").fetchone()
    assert row == ("Example laptop", "laptop", "EXAMPLE-0001", 1200.0, "EUR", 1200.0, "2024-01-25", "2024-02-05", '["workplace"]')
    types = {r[1]: r[2] for r in con.execute("PRAGMA table_info(hardware)")}
    assert (types["financial_purchase_cost"], types["cpu_cores"], types["data_bearing"], types["warranty_end"]) == (
        "REAL", "INTEGER", "INTEGER", "TEXT")
    assert con.execute("SELECT term_end, quantity FROM licence").fetchone() == ("2026-12-31", 50)
    assert con.execute("SELECT record, position, \"on\", date FROM software_installations ORDER BY record").fetchall() == [
        ("sw-office", 0, "hw-1", "2024-02-05"), ("sw-os", 0, "hw-1", None)]
    fks = {(r[3], r[2]) for r in con.execute("PRAGMA foreign_key_list(hardware)")}
    assert {("id", "records"), ("owner", "records"), ("manufacturer", "records"), ("financial_supplier", "records")} <= fks
    meta = json.loads((tmp_path / "register.metadata.json").read_text())
    hw = meta["databases"]["register"]["tables"]["hardware"]
    assert hw["title"] == "Hardware record" and hw["facets"][:2] == ["status", "class"]
    assert hw["columns"]["serial_number"] == "Manufacturer's serial number or service tag, as printed on the device."
    assert "straight line" in meta["databases"]["register"]["tables"]["book_values"]["description"]


CYCLONEDX = Path(__file__).resolve().parent / "fixtures" / "cyclonedx"  # the official 1.6 schema, as shipped by
# cyclonedx-python-lib (its $refs name the .SNAPSHOT files beside it)


def schema_errors(bom: dict[str, Any]) -> list[str]:
    """Errors of the BOM against the official CycloneDX 1.6 JSON schema (no network: the files are fixtures)."""
    from jsonschema import Draft7Validator, FormatChecker
    from referencing import Registry, Resource

    def load(name: str) -> dict[str, Any]:
        return json.loads((CYCLONEDX / name).read_text(encoding="utf-8"))

    registry: Registry[Any] = Registry()
    for name in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"):
        registry = registry.with_resource(f"http://cyclonedx.org/schema/{name}", Resource.from_contents(load(name)))
    validator = Draft7Validator(load("bom-1.6.SNAPSHOT.schema.json"), registry=registry, format_checker=FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(bom)]


def read_back(bom: dict[str, Any]) -> Any:
    """The BOM read by cyclonedx-python-lib and checked by its model validation, any warning an error."""
    import warnings

    from cyclonedx.model.bom import Bom

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = Bom.from_json(json.loads(json.dumps(bom)))  # type: ignore[attr-defined]
        parsed.validate()
    return parsed


def test_cyclonedx(reg: Path, tmp_path: Path) -> None:
    import re

    (reg / "registry/information").mkdir()
    (reg / "registry/information/inf-customers.yaml").write_text(INFORMATION)
    with (reg / "registry/software/sw-os.yaml").open("a") as handle:
        handle.write("relations:\n  - {type: stores, target: inf-customers}\n")
    (reg / "registry/party/acme-soft.yaml").write_text(VENDOR)
    office = reg / "registry/software/sw-office.yaml"
    office.write_text(office.read_text().replace("vendor: example-supplier", "vendor: acme-soft"))
    assert validate_clean(reg) == []
    out = tmp_path / "bom.json"
    assert run("export", "cyclonedx", "--out", str(out), "--root", str(reg))[0] == 0
    bom = json.loads(out.read_text())
    assert schema_errors(bom) == []
    parsed = read_back(bom)
    assert len(parsed.components) == 5 and len(parsed.services) == 1
    assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", bom["serialNumber"])
    comps = {c["bom-ref"]: c for c in bom["components"]}
    assert {k: c["type"] for k, c in comps.items()} == {"hw-1": "device", "inf-customers": "data", "sw-office": "application",
                                                        "sw-requests": "library", "sw-os": "operating-system"}
    hw = comps["hw-1"]
    assert "version" not in hw  # a device's model is no version
    assert hw["supplier"] == {"name": "Example Supplier Ltd", "url": ["https://supplier.example"]}
    assert {p["name"]: p["value"] for p in hw["properties"]}["bir:model"] == "Example Book 14"
    office_c = comps["sw-office"]
    assert (office_c["purl"], office_c["cpe"], office_c["version"]) == ("pkg:generic/office-suite@2024",
                                                                      "cpe:2.3:a:example:office_suite:2024:*:*:*:*:*:*:*", "2024")
    assert office_c["manufacturer"] == {"name": "Acme Software", "contact": [{"email": "licensing@acme.example"}]}
    assert office_c["licenses"] == [{"license": {"name": "Office suite, 50 users", "licensing": {
        "altIds": ["lic-office"], "licensor": {"organization": {"name": "Acme Software", "contact": [{"email": "licensing@acme.example"}]}},
        "licensee": {"organization": {"name": "Test register"}}, "purchaser": {"organization": {"name": "Test register"}},
        "purchaseOrder": "PO-2024-7", "licenseTypes": ["named-user"],
        "lastRenewal": "2024-01-01T00:00:00Z", "expiration": "2026-12-31T00:00:00Z"},
        "properties": [{"name": "bir:licence", "value": "lic-office"}, {"name": "bir:status", "value": "active"},
                       {"name": "bir:financial.supplier", "value": "Example Supplier Ltd"},  # the reseller, not the licensor
                       {"name": "bir:quantity", "value": "50"}]}}]
    assert comps["inf-customers"]["data"] == [{"type": "dataset", "name": "Customer records", "classification": "confidential",
                                               "description": "Who our customers are"}]
    assert [s["bom-ref"] for s in bom["services"]] == ["svc-workplace"]
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert deps == {
        "register": ["svc-workplace", "sw-requests"],  # what nothing else depends on
        "svc-workplace": ["hw-1", "inf-customers", "sw-office"],  # supports: the service depends on what supports it
        "sw-office": ["hw-1"],  # installed_on and its installation
        "sw-os": ["hw-1"],  # an installation without a relation
        "inf-customers": ["sw-os"],  # stores: the data depends on what stores it
        "hw-1": [], "sw-requests": [],
    }
    # the same register gives the same bytes
    assert run("export", "cyclonedx", "--root", str(reg))[1] == out.read_text()
    # the checks can fail: without the register's own dependencies the library warns the graph is incomplete
    broken = dict(bom, dependencies=[d for d in bom["dependencies"] if d["ref"] != "register"])
    with pytest.raises(UserWarning, match="Dependency Graph is incomplete"):
        read_back(broken)
    assert schema_errors(dict(bom, serialNumber="urn:uuid:not-a-uuid")) != []


def test_csv_or_sqlite_without_out_is_a_usage_error(reg: Path) -> None:
    before = snapshot(reg)
    for fmt in ("csv", "sqlite"):
        code, _, err = run("export", fmt, "--root", str(reg))
        assert code == 2 and "--out" in err
    assert run("export", "xml", "--root", str(reg))[0] == 2
    assert snapshot(reg) == before


def test_demo_register_exports(tmp_path: Path) -> None:
    from bir.api import load as load_register
    from bir.write.exporters import to_csv, to_cyclonedx

    reg = make_register(tmp_path / "demo", demo=True)
    register = load_register(reg).register
    bom = to_cyclonedx(register)
    assert schema_errors(bom) == []
    parsed = read_back(bom)
    assert len(parsed.dependencies) == 1 + len(bom["components"]) + len(bom["services"])
    assert sum(c["type"] == "device" for c in bom["components"]) == len(register.of_kind("hardware"))
    assert sum(c["type"] == "data" for c in bom["components"]) == len(register.of_kind("information"))
    assert len(bom["services"]) == sum(len(register.of_kind(k)) for k in ("service", "cloud_service", "network"))
    assert any("licenses" in c for c in bom["components"])
    supports = sum(1 for r in register for rel in r.relations if rel.type == "supports")
    assert supports and sum(len(d.get("dependsOn", [])) for d in bom["dependencies"] if d["ref"].startswith("svc")) >= 1
    texts = to_csv(register)
    assert sum(len(list(csv.DictReader(io.StringIO(t)))) for t in texts.values()) == len(register)


HOSTILE = """\
id: sw-hostile
kind: software
name: "Line one\\r=HYPERLINK(\\"http://x\\")"
description: "a\\nb\\r\\nc\\rd"
owner: team-it
status: active
status_dates:
  active: "2024-01-01"
version: "@1"
"""


def test_csv_opens_cleanly_in_spreadsheets(reg: Path, tmp_path: Path) -> None:
    """Every line break inside a value is quoted, so a lone CR never starts a row; no cell of any row
    starts a formula; the files are byte-identical to the site's downloads."""
    from bir.api import load as load_register
    from bir.base.model import Record
    from bir.read.yamlstrict import parse
    from bir.site.downloads import write_csv as site_csv
    from bir.write.exporters import FORMULA_START, to_csv

    (reg / "registry/software/sw-hostile.yaml").write_text(HOSTILE)
    # the register refuses carriage returns in text (text.control); the export neutralises them anyway
    assert [e.rsplit("[", 1)[1] for e in validate_clean(reg)] == ["text.control]", "text.control]"]
    register = load_register(reg).register
    value = parse(HOSTILE.encode("utf-8"), "sw-hostile.yaml").value
    assert isinstance(value, dict)
    register.records["sw-hostile"] = Record("sw-hostile", "software", "registry/software/sw-hostile.yaml", value)
    texts = to_csv(register)
    software = texts["software"]
    # a reader that splits rows only on CR LF outside quotes (RFC 4180) sees one row per record
    rows = list(csv.reader(io.StringIO(software.removeprefix("\ufeff"), newline="")))
    assert len(rows) == 1 + len(register.of_kind("software"))
    by_id = {r[0]: r for r in rows[1:]}
    header = rows[0]
    hostile = dict(zip(header, by_id["sw-hostile"], strict=True))
    assert hostile["name"] == 'Line one\r=HYPERLINK("http://x")'
    assert hostile["description"] == "a\nb\r\nc\rd"
    assert hostile["version"] == "'@1"
    assert '"Line one\r=HYPERLINK(""http://x"")"' in software  # the lone CR is inside quotes
    for row in rows:
        for value in row:
            assert not value.lstrip(" ").startswith(FORMULA_START), value
    folder = tmp_path / "site"
    folder.mkdir()
    site_csv(register, folder)
    assert {p.stem: p.read_bytes() for p in folder.glob("*.csv")} == {k: v.encode("utf-8") for k, v in texts.items()}


@pytest.mark.parametrize(("doc", "expected"), [
    ({"cost": "Number:949.00", "n": 3}, '{\n  "cost": 949.00,\n  "n": 3\n}'),
    ({"big": "Number:12345678901234567.89"}, '{\n  "big": 12345678901234567.89\n}'),
    ({"tiny": "Number:1e-7", "text": 'a"b\\c\x01\nd é'}, '{\n  "tiny": 1E-7,\n  "text": "a\\"b\\\\c\\u0001\\nd é"\n}'),
    ({"far": "Number:1e400"}, '{\n  "far": 1E+400\n}'),
    # what orjson cannot write as the standard library does: the standard library writes it
    ({"huge": 2 ** 70, "inf": "Number:1e400"}, '{\n  "huge": 1180591620717411303424,\n  "inf": 1E+400\n}'),
    ({1: "int key", "x": []}, '{\n  "1": "int key",\n  "x": []\n}'),
], ids=["money", "past-float-precision", "escapes", "past-float-range", "big-int-and-past-float-range", "int-key"])
def test_export_json_is_the_standard_librarys_text_with_exact_numbers(doc: dict[Any, Any], expected: str) -> None:
    """`exactjson.indented` (orjson) writes what `exactjson.dumps` (the standard library) writes, byte for byte."""
    from bir.base import exactjson
    from bir.read.yamlvalues import Number

    real = {k: Number(v[len("Number:"):]) if isinstance(v, str) and v.startswith("Number:") else v for k, v in doc.items()}
    assert exactjson.indented(real).decode() == expected
    assert exactjson.dumps(real, indent=2, ensure_ascii=False) == expected
