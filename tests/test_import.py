"""`bir import csv`: Snipe-IT's export out of the box, other tools through a mapping; rejected rows
reported; existing records changed only with --update; a second run changes nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from day_helpers import demo_register, run, small_register, snapshot, validate_clean

HEADER = ("Asset Tag,Name,Serial,Model,Category,Status,Purchase Date,Purchase Cost,Supplier,Location,Warranty Months,"
          "Order Number,Notes,Manufacturer,Company,Checked Out To\n")
SNIPE = HEADER + (
    'IT-0100,Alice laptop,SN100,Example Book 14,Laptops,Deployed,2025-03-01,"1,299.00",Example Supplier Ltd,Main office,36,'
    "PO-1,Bought for Alice,,Northwind,\n"
    "IT-0101,Spare laptop,SN101,Example Book 14,Laptops,Ready to Deploy,2025-03-01 00:00:00,1299,example-supplier,,,PO-1,,,,\n"
    "IT-0102,Bad date,SN102,X,Laptops,Deployed,32/13/2020,10,,,,,,,,\n"
    "IT-0103,Unknown supplier,SN103,X,Laptops,Deployed,2025-01-01,10,Nobody Inc,,,,,,,\n"
    "IT-0104,short row\n"
    "IT-0105,Old server,SN105,X,Servers,Archived,2020-01-01,100.5,,,,,,,,\n"
    "IT-0106,Too precise,SN106,X,Laptops,Deployed,2025-01-01,10.005,,,,,,,,\n"
    "IT-0107,Twin,SN100,X,Laptops,Deployed,2025-01-01,10,,,,,,,,\n"
    "IT-0108,Odd status,SN108,X,Laptops,Exploded,2025-01-01,10,,,,,,,,\n"
)
REJECTED = [
    {"row": 4, "column": "Purchase Date", "reason": "'32/13/2020' is not a date (YYYY-MM-DD)"},
    {"row": 5, "column": "Supplier", "reason": "no party 'Nobody Inc' in the register (by id, name or e-mail); create it first: "
                                               'bir new party --id nobody-inc --set name="Nobody Inc" ...'},
    {"row": 6, "column": "", "reason": "has 2 cells, the header has 16"},
    {"row": 8, "column": "Purchase Cost", "reason": "'10.005' has more than two decimals"},
    {"row": 9, "column": "", "reason": "the same asset tag or serial number as row 2"},
]


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    return small_register(tmp_path / "reg")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_snipe_it_export(reg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path, "assets.csv", SNIPE)
    code, out, _ = run(capsys, "import", "csv", str(src), "--kind", "hardware", "--owner", "team-it", "--format", "json",
                       "--root", str(reg))
    result = json.loads(out)
    assert code == 1
    assert result["rejected"][:-1] == REJECTED
    assert result["rejected"][-1]["row"] == 10 and result["rejected"][-1]["column"] == "Status"
    assert result["rejected"][-1]["reason"].startswith("status 'Exploded' is not a state of hardware (planned, ordered,")
    assert result["created"] == ["it-0100", "it-0101", "it-0105"]
    assert (reg / "registry/hardware/it-0100.yaml").read_text() == (
        "# yaml-language-server: $schema=../../schemas/hardware.schema.json\n"
        "id: it-0100\nkind: hardware\nname: Alice laptop\ndescription: Bought for Alice\nowner: team-it\nstatus: in_use\n"
        "class: laptop\nmodel: Example Book 14\nserial_number: SN100\nasset_tag: IT-0100\nwarranty_end: \"2028-02-29\"\n"
        "status_dates:\n  in_use: \"2025-03-01\"\n"
        "financial:\n  purchase_date: \"2025-03-01\"\n  order_number: PO-1\n  supplier: example-supplier\n"
        "  purchase_cost: 1299\n  currency: EUR\n"
        "  depreciation: {method: straight_line, useful_life_months: 36, residual_value: 0}\n"
        "relations:\n  - {type: located_in, target: fac-main-office}\n"
        "custom:\n  snipeit:\n    company: Northwind\n")
    old = (reg / "registry/hardware/it-0105.yaml").read_text()
    assert "status: retired\n" in old and "retirement:\n  reason: imported as retired; the reason was not recorded\n" in old
    assert validate_clean(reg) == []
    # a second run changes nothing, with or without --update
    before = snapshot(reg)
    for extra in ([], ["--update"]):
        code, out, _ = run(capsys, "import", "csv", str(src), "--kind", "hardware", "--owner", "team-it", *extra,
                           "--root", str(reg))
        assert code == 1
        assert snapshot(reg) == before
    assert out == "0 created, 0 updated, 3 unchanged, 0 existing (not changed without --update), 6 rejected\n"


def test_dry_run_writes_nothing(reg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path, "assets.csv", SNIPE)
    before = snapshot(reg)
    code, out, err = run(capsys, "import", "csv", str(src), "--kind", "hardware", "--owner", "team-it", "--dry-run",
                         "--root", str(reg))
    assert code == 1 and out.startswith("3 would be created, 0 would be updated")
    assert "assets.csv: row 6: rejected: has 2 cells, the header has 16\n" in err
    assert snapshot(reg) == before


def test_existing_records_change_only_with_update(reg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path, "assets.csv", HEADER + "IT-0001,Renamed laptop,EXAMPLE-0001,,,,,,,,,PO-9,,,,\n")
    before = snapshot(reg)
    code, out, _ = run(capsys, "import", "csv", str(src), "--kind", "hardware", "--owner", "team-it", "--root", str(reg))
    assert (code, out) == (0, "0 created, 0 updated, 0 unchanged, 1 existing (not changed without --update), 0 rejected\n")
    assert snapshot(reg) == before
    original = (reg / "registry/hardware/hw-1.yaml").read_text()
    code, out, _ = run(capsys, "import", "csv", str(src), "--kind", "hardware", "--owner", "team-it", "--update",
                       "--root", str(reg))
    assert (code, out) == (0, "0 created, 1 updated, 0 unchanged, 0 existing (not changed without --update), 0 rejected\n")
    text = (reg / "registry/hardware/hw-1.yaml").read_text()
    assert text == original.replace("name: Example laptop", "name: Renamed laptop").replace(
        "  purchase_date: \"2024-01-25\"\n", "  purchase_date: \"2024-01-25\"\n  order_number: PO-9\n")
    assert validate_clean(reg) == []


@pytest.mark.parametrize(("csv_text", "args", "message"), [
    (HEADER.strip() + ",Colour\nIT-1,x,S1,,,,,,,,,,,,,,red\n", [], "column(s) 'Colour' are not understood"),
    (HEADER + "IT-1,x,S1,,,,,,,,,,,,,\n", ["--owner", "nobody"], "--owner 'nobody' is not a party"),
    (HEADER + "IT-1,x,S1,,,,,,,,,,,,,\n", ["--no-owner"], "new records need an owner"),
    ("", [], "is empty"),
    ("Name,Name\nx,y\n", [], "appear twice"),
    (HEADER, ["--kind-override", "gadget"], "unknown kind 'gadget'"),
    (HEADER, ["--mapping-text", "columns: {Name: [1]}"], "neither a field path"),
    (HEADER, ["--mapping-text", "colums: {}"], "unknown key(s) colums"),
])
def test_bad_input_writes_nothing(reg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], csv_text: str,
                                  args: list[str], message: str) -> None:
    src = write(tmp_path, "in.csv", csv_text)
    kind, owner, extra = "hardware", ["--owner", "team-it"], []
    if args[:1] == ["--kind-override"]:
        kind = args[1]
    elif args[:1] == ["--mapping-text"]:
        extra = ["--mapping", str(write(tmp_path, "map.yaml", args[1]))]
    elif args[:1] == ["--no-owner"]:
        owner = []
    elif args:
        owner = args
    before = snapshot(reg)
    code, _, err = run(capsys, "import", "csv", str(src), "--kind", kind, *owner, *extra, "--root", str(reg))
    assert code == 2 and message in err
    assert snapshot(reg) == before


def test_mapping_file(reg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = write(tmp_path, "map.yaml", (
        "columns:\n  Device: name\n  S/N: serial_number\n  Kind: Category\n  State: Status\n  Bought: Purchase Date\n"
        "  Site: Location\n  Cores: cpu_cores\n  Internal: null\n"
        "values:\n  status: {Active: in_use}\n  class: {Notebook PC: laptop}\ndefaults:\n  owner: team-it\n"))
    src = write(tmp_path, "inv.csv", "Device,S/N,Kind,State,Bought,Site,Cores,Internal\n"
                                     "Bob laptop,SN-B,Notebook PC,Active,2025-05-05,fac-main-office,8,x\n")
    code, _, err = run(capsys, "import", "csv", str(src), "--kind", "hardware", "--mapping", str(mapping), "--root", str(reg))
    assert (code, err) == (0, "")
    text = (reg / "registry/hardware/hw-2.yaml").read_text()
    for line in ("name: Bob laptop\n", "status: in_use\n", "class: laptop\n", "serial_number: SN-B\n",
                 "  in_use: \"2025-05-05\"\n", "  - {type: located_in, target: fac-main-office}\n"):
        assert line in text
    assert "cpu_cores: 8\n" in text  # a number where the schema wants one; other cells stay text
    assert validate_clean(reg) == []
    bad = write(tmp_path, "bad.csv", "Device,S/N,Kind,State,Bought,Site,Cores,Internal\nX,SN-C,Notebook PC,Active,,,eight,\n")
    code, _, err = run(capsys, "import", "csv", str(bad), "--kind", "hardware", "--mapping", str(mapping), "--root", str(reg))
    assert (code, err) == (1, f"{bad}: row 2 column 'Cores': rejected: 'eight' is not a whole number\n")


def test_demo_register_reimport_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bir.api import load as load_register

    reg = demo_register(tmp_path / "demo")
    register = load_register(reg).register
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["Asset Tag", "Name", "Serial", "Model"])
    laptops = [r for r in register.of_kind("hardware") if r.data.get("class") == "laptop" and r.data.get("serial_number")]
    for r in laptops:
        writer.writerow([r.data.get("asset_tag", ""), r.name, r.data["serial_number"], r.data.get("model", "")])
    src = write(tmp_path, "demo.csv", buf.getvalue())
    before = snapshot(reg)
    code, out, _ = run(capsys, "import", "csv", str(src), "--kind", "hardware", "--owner", "team-workplace", "--update",
                       "--root", str(reg))
    assert (code, out) == (0, f"0 created, 0 updated, {len(laptops)} unchanged, "
                              "0 existing (not changed without --update), 0 rejected\n")
    assert snapshot(reg) == before
