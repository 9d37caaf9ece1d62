"""`bir export`: JSON, CSV per kind (safe for spreadsheets), SQLite, CycloneDX 1.6."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from day_helpers import demo_register, run, small_register, snapshot, validate_clean

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
    root = small_register(tmp_path / "reg")
    (root / "registry/software").mkdir()
    (root / "registry/licence").mkdir()
    (root / "registry/software/sw-office.yaml").write_text(SOFTWARE)
    (root / "registry/software/sw-requests.yaml").write_text(LIBRARY)
    (root / "registry/licence/lic-office.yaml").write_text(LICENCE)
    assert validate_clean(root) == []
    return root


def test_json_has_every_record(reg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", "json", "--root", str(reg))
    doc = json.loads(out)
    assert code == 0 and doc["register"] == "Test register" and doc["base_currency"] == "EUR"
    assert [r["id"] for r in doc["records"]] == ["example-supplier", "fac-main-office", "hw-1", "lic-office", "svc-workplace",
                                                 "sw-office", "sw-requests", "team-it"]


def test_csv_per_kind_flattened_and_safe(reg: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "csv"
    code, _, _ = run(capsys, "export", "csv", "--out", str(out), "--root", str(reg))
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
])
def test_safe_cell(value: object, cell: str) -> None:
    from bir.write.exporters import safe_cell

    assert safe_cell(value) == cell


def test_sqlite_tables_and_relations(reg: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "register.sqlite"
    assert run(capsys, "export", "sqlite", "--out", str(db), "--root", str(reg))[0] == 0
    con = sqlite3.connect(db)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    assert tables == ["facility", "hardware", "licence", "party", "records", "relations", "service", "software"]
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"relations_source", "relations_target", "records_kind"} <= indexes
    assert con.execute("SELECT source, type, target FROM relations ORDER BY source, type, target").fetchall() == [
        ("hw-1", "located_in", "fac-main-office"), ("hw-1", "supports", "svc-workplace"),
        ("sw-office", "installed_on", "hw-1"), ("sw-office", "supports", "svc-workplace")]
    row = con.execute("SELECT name, class, serial_number, rest FROM hardware WHERE id = 'hw-1'").fetchone()
    assert row[:3] == ("Example laptop", "laptop", "EXAMPLE-0001")
    assert json.loads(row[3])["financial"]["purchase_cost"] == 1200.0
    assert con.execute("SELECT json_extract(rest, '$.term.end') FROM licence").fetchone() == ("2026-12-31",)


def check_cyclonedx(bom: dict[str, Any]) -> list[str]:
    """A minimal structural check of a CycloneDX 1.6 JSON BOM."""
    errors = []
    if bom.get("bomFormat") != "CycloneDX" or bom.get("specVersion") != "1.6":
        errors.append("bomFormat/specVersion")
    if not str(bom.get("serialNumber", "")).startswith("urn:uuid:") or bom.get("version") != 1:
        errors.append("serialNumber/version")
    refs: list[str] = []
    for c in bom.get("components", []):
        if c.get("type") not in {"application", "framework", "library", "container", "platform", "operating-system", "device",
                                 "device-driver", "firmware", "file", "machine-learning-model", "data", "cryptographic-asset"}:
            errors.append(f"component type {c.get('type')}")
        if not c.get("name") or not c.get("bom-ref"):
            errors.append("component without name or bom-ref")
        refs.append(c.get("bom-ref"))
        for lic in c.get("licenses", []):
            licensing = lic["license"].get("licensing", {})
            for t in licensing.get("licenseTypes", []):
                if t not in {"academic", "appliance", "client-access", "concurrent-user", "core-points", "custom-metric",
                             "device",
                             "evaluation", "named-user", "node-locked", "oem", "perpetual", "processor-points", "subscription",
                             "user", "other"}:
                    errors.append(f"licenseType {t}")
    for s in bom.get("services", []):
        if not s.get("name") or not s.get("bom-ref"):
            errors.append("service without name or bom-ref")
        refs.append(s.get("bom-ref"))
    if len(refs) != len(set(refs)):
        errors.append("duplicate bom-ref")
    for d in bom.get("dependencies", []):
        if d["ref"] not in refs or any(t not in refs for t in d.get("dependsOn", [])):
            errors.append(f"dependency {d['ref']} names an unknown ref")
    return errors


def test_cyclonedx(reg: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "bom.json"
    assert run(capsys, "export", "cyclonedx", "--out", str(out), "--root", str(reg))[0] == 0
    bom = json.loads(out.read_text())
    assert check_cyclonedx(bom) == []
    comps = {c["bom-ref"]: c for c in bom["components"]}
    assert {k: c["type"] for k, c in comps.items()} == {"hw-1": "device", "sw-office": "application", "sw-requests": "library"}
    office = comps["sw-office"]
    assert (office["purl"], office["cpe"], office["version"]) == ("pkg:generic/office-suite@2024",
                                                                  "cpe:2.3:a:example:office_suite:2024:*:*:*:*:*:*:*", "2024")
    assert office["licenses"] == [{"license": {"name": "Office suite, 50 users", "licensing": {
        "licenseTypes": ["named-user"], "licensor": {"organization": {"name": "Example Supplier Ltd"}},
        "purchaser": {"organization": {"name": "Test register"}}, "purchaseOrder": "PO-2024-7",
        "lastRenewal": "2024-01-01T00:00:00Z", "expiration": "2026-12-31T00:00:00Z", "altIds": ["lic-office"]}}}]
    assert [s["bom-ref"] for s in bom["services"]] == ["svc-workplace"]
    assert bom["dependencies"] == [{"ref": "sw-office", "dependsOn": ["hw-1"]}]
    # the same register gives the same bytes
    assert run(capsys, "export", "cyclonedx", "--root", str(reg))[1] == out.read_text()


def test_csv_or_sqlite_without_out_is_a_usage_error(reg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(reg)
    for fmt in ("csv", "sqlite"):
        code, _, err = run(capsys, "export", fmt, "--root", str(reg))
        assert code == 2 and "--out" in err
    assert run(capsys, "export", "xml", "--root", str(reg))[0] == 2
    assert snapshot(reg) == before


def test_demo_register_exports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bir.api import load as load_register
    from bir.write.exporters import to_csv, to_cyclonedx, write_sqlite

    reg = demo_register(tmp_path / "demo")
    register = load_register(reg).register
    bom = to_cyclonedx(register)
    assert check_cyclonedx(bom) == []
    assert sum(c["type"] == "device" for c in bom["components"]) == len(register.of_kind("hardware"))
    assert len(bom["services"]) == len(register.of_kind("service")) + len(register.of_kind("cloud_service"))
    assert any("licenses" in c for c in bom["components"])
    db = tmp_path / "demo.sqlite"
    write_sqlite(register, db)
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM records").fetchone() == (len(register),)
    assert con.execute("SELECT count(*) FROM relations").fetchone() == (sum(len(r.relations) for r in register),)
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
    from bir.site.downloads import write_csv as site_csv
    from bir.write.exporters import FORMULA_START, to_csv

    (reg / "registry/software/sw-hostile.yaml").write_text(HOSTILE)
    assert validate_clean(reg) == []
    register = load_register(reg).register
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
