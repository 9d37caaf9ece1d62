"""`bir import csv`: Snipe-IT's export out of the box, other tools through a mapping; rejected rows
reported; existing records changed only with --update; a second run changes nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from support import make_register, run, snapshot, validate_clean

HEADER = ("Asset Tag,Name,Serial,Model,Category,Status,Purchase Date,Purchase Cost,Supplier,Location,Warranty Months,"
          "Order Number,Notes,Manufacturer,Company,Checked Out To,Checkout Date\n")
SNIPE = HEADER + (
    'IT-0100,Alice laptop,SN100,Example Book 14,Laptops,Deployed,2025-03-01,"1,299.00",Example Supplier Ltd,Main office,36,'
    "PO-1,Bought for Alice,,Northwind,,2025-03-02 09:15:00\n"
    "IT-0101,Spare laptop,SN101,Example Book 14,Laptops,Ready to Deploy,2025-03-01 00:00:00,1299,example-supplier,,,PO-1,,,,,\n"
    "IT-0102,Bad date,SN102,X,Laptops,Deployed,32/13/2020,10,,,,,,,,,2025-01-01\n"
    "IT-0103,Unknown supplier,SN103,X,Laptops,Deployed,2025-01-01,10,Nobody Inc,,,,,,,,2025-01-01\n"
    "IT-0104,short row\n"
    "IT-0105,Old server,SN105,X,Servers,Archived,2020-01-01,100.5,,,,,,,,,\n"
    "IT-0106,Too precise,SN106,X,Laptops,Deployed,2025-01-01,10.005,,,,,,,,,2025-01-01\n"
    "IT-0107,Twin,SN100,X,Laptops,Deployed,2025-01-01,10,,,,,,,,,2025-01-01\n"
    "IT-0108,Odd status,SN108,X,Laptops,Exploded,2025-01-01,10,,,,,,,,,\n"
    "IT-0109,No checkout date,SN109,X,Laptops,Deployed,2025-01-01,10,,,,,,,,,\n"
)
REJECTED = [
    {"row": 4, "column": "Purchase Date", "reason": "'32/13/2020' is not a date (YYYY-MM-DD)"},
    {"row": 5, "column": "Supplier", "reason": "no party 'Nobody Inc' in the register (by id, name or e-mail); create it first: "
                                               'bir new party --id nobody-inc --set name="Nobody Inc" ...'},
    {"row": 6, "column": "", "reason": "has 2 cells, the header has 17"},
    # no state date or reason is made up: an archived asset needs its retirement facts, an asset in use its date
    {"row": 7, "column": "Status", "reason": "status 'retired' requires retirement.reason [lifecycle.requires]"},
    {"row": 7, "column": "Status", "reason": "status 'retired' requires status_dates.retired [lifecycle.requires]"},
    {"row": 8, "column": "Purchase Cost", "reason": "'10.005' has more than two decimals"},
    {"row": 9, "column": "", "reason": "the same asset tag or serial number as row 2"},
]


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    return make_register(tmp_path / "reg", scaffold=True)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_snipe_it_export(reg: Path, tmp_path: Path) -> None:
    src = write(tmp_path, "assets.csv", SNIPE)
    code, out, _ = run("import", "csv", str(src), "--kind", "hardware", "--owner", "team-it", "--format", "json",
                       "--root", str(reg))
    result = json.loads(out)
    assert code == 1
    assert result["rejected"][:-2] == REJECTED
    assert result["rejected"][-2]["row"] == 10 and result["rejected"][-2]["column"] == "Status"
    assert result["rejected"][-2]["reason"].startswith("status 'Exploded' is not a state of hardware (planned, ordered,")
    assert result["rejected"][-1] == {"row": 11, "column": "Status",
                                      "reason": "status 'in_use' requires status_dates.in_use [lifecycle.requires]"}
    assert result["created"] == ["it-0100", "it-0101"]
    assert (reg / "registry/hardware/it-0100.yaml").read_text() == (
        "# yaml-language-server: $schema=../../schemas/hardware.schema.json\n"
        "id: it-0100\nkind: hardware\nname: Alice laptop\ndescription: Bought for Alice\nowner: team-it\nstatus: in_use\n"
        "class: laptop\nmodel: Example Book 14\nserial_number: SN100\nasset_tag: IT-0100\nwarranty_end: \"2028-02-29\"\n"
        "status_dates:\n  in_use: \"2025-03-02\"\n"
        "financial:\n  purchase_date: \"2025-03-01\"\n  order_number: PO-1\n  supplier: example-supplier\n"
        "  purchase_cost: 1299\n  currency: EUR\n"
        "  depreciation: {method: straight_line, useful_life_months: 36, residual_value: 0}\n"
        "relations:\n  - {type: located_in, target: fac-main-office}\n"
        "custom:\n  snipeit:\n    company: Northwind\n")
    assert not (reg / "registry/hardware/it-0105.yaml").exists()
    assert "status_dates" not in (reg / "registry/hardware/it-0101.yaml").read_text()  # in stock: no date invented
    assert validate_clean(reg) == []
    # a second run changes nothing, with or without --update
    before = snapshot(reg)
    for extra in ([], ["--update"]):
        code, out, _ = run("import", "csv", str(src), "--kind", "hardware", "--owner", "team-it", *extra,
                           "--root", str(reg))
        assert code == 1
        assert snapshot(reg) == before
    assert out == "0 created, 0 updated, 2 unchanged, 0 existing (not changed without --update), 8 rejected\n"


def test_dry_run_writes_nothing(reg: Path, tmp_path: Path) -> None:
    src = write(tmp_path, "assets.csv", SNIPE)
    before = snapshot(reg)
    code, out, err = run("import", "csv", str(src), "--kind", "hardware", "--owner", "team-it", "--dry-run",
                         "--root", str(reg))
    assert code == 1 and out.startswith("2 would be created, 0 would be updated")
    assert "assets.csv: row 6: rejected: has 2 cells, the header has 17\n" in err
    assert snapshot(reg) == before


def test_existing_records_change_only_with_update(reg: Path, tmp_path: Path) -> None:
    src = write(tmp_path, "assets.csv", HEADER + "IT-0001,Renamed laptop,EXAMPLE-0001,,,,,,,,,PO-9,,,,,\n")
    before = snapshot(reg)
    code, out, _ = run("import", "csv", str(src), "--kind", "hardware", "--owner", "team-it", "--root", str(reg))
    assert (code, out) == (0, "0 created, 0 updated, 0 unchanged, 1 existing (not changed without --update), 0 rejected\n")
    assert snapshot(reg) == before
    original = (reg / "registry/hardware/hw-1.yaml").read_text()
    code, out, _ = run("import", "csv", str(src), "--kind", "hardware", "--owner", "team-it", "--update",
                       "--root", str(reg))
    assert (code, out) == (0, "0 created, 1 updated, 0 unchanged, 0 existing (not changed without --update), 0 rejected\n")
    text = (reg / "registry/hardware/hw-1.yaml").read_text()
    assert text == original.replace("name: Example laptop", "name: Renamed laptop").replace(
        "  purchase_date: \"2024-01-25\"\n", "  purchase_date: \"2024-01-25\"\n  order_number: PO-9\n")
    assert validate_clean(reg) == []


@pytest.mark.parametrize(("csv_text", "args", "message"), [
    (HEADER.strip() + ",Colour\nIT-1,x,S1,,,,,,,,,,,,,,,red\n", [], "column(s) 'Colour' are not understood"),
    (HEADER + "IT-1,x,S1,,,,,,,,,,,,,,\n", ["--owner", "nobody"], "--owner 'nobody' is not a party"),
    (HEADER + "IT-1,x,S1,,,,,,,,,,,,,,\n", ["--no-owner"], "new records need an owner"),
    ("", [], "is empty"),
    ("Name,Name\nx,y\n", [], "appear twice"),
    (HEADER, ["--kind-override", "gadget"], "unknown kind 'gadget'"),
    (HEADER, ["--mapping-text", "columns: {Name: [1]}"], "neither a field path"),
    (HEADER, ["--mapping-text", "colums: {}"], "unknown key(s) colums"),
])
def test_bad_input_writes_nothing(reg: Path, tmp_path: Path, csv_text: str, args: list[str], message: str) -> None:
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
    code, _, err = run("import", "csv", str(src), "--kind", kind, *owner, *extra, "--root", str(reg))
    assert code == 2 and message in err
    assert snapshot(reg) == before


def test_mapping_file(reg: Path, tmp_path: Path) -> None:
    mapping = write(tmp_path, "map.yaml", (
        "columns:\n  Device: name\n  S/N: serial_number\n  Kind: Category\n  State: Status\n  Bought: status_dates.in_use\n"
        "  Site: Location\n  Cores: cpu_cores\n  Internal: null\n"
        "values:\n  status: {Active: in_use}\n  class: {Notebook PC: laptop}\ndefaults:\n  owner: team-it\n"))
    src = write(tmp_path, "inv.csv", "Device,S/N,Kind,State,Bought,Site,Cores,Internal\n"
                                     "Bob laptop,SN-B,Notebook PC,Active,2025-05-05,fac-main-office,8,x\n")
    code, _, err = run("import", "csv", str(src), "--kind", "hardware", "--mapping", str(mapping), "--root", str(reg))
    assert (code, err) == (0, "")
    text = (reg / "registry/hardware/hw-2.yaml").read_text()
    for line in ("name: Bob laptop\n", "status: in_use\n", "class: laptop\n", "serial_number: SN-B\n",
                 "  in_use: \"2025-05-05\"\n", "  - {type: located_in, target: fac-main-office}\n"):
        assert line in text
    assert "cpu_cores: 8\n" in text  # a number where the schema wants one; other cells stay text
    assert validate_clean(reg) == []
    bad = write(tmp_path, "bad.csv", "Device,S/N,Kind,State,Bought,Site,Cores,Internal\nX,SN-C,Notebook PC,Active,,,eight,\n")
    code, _, err = run("import", "csv", str(bad), "--kind", "hardware", "--mapping", str(mapping), "--root", str(reg))
    assert (code, err) == (1, f"{bad}: row 2 column 'Cores': rejected: 'eight' is not a whole number\n")


def test_columns_named_as_the_fields_they_fill_need_no_mapping(reg: Path, tmp_path: Path) -> None:
    """A spreadsheet whose header is bir's own field names (as the schema reference and `bir export csv` name
    them, one level down with a dot) imports without a mapping file, typed by the schema (a list of texts
    written `a; b`); a field that one cell cannot hold (relations, a list of mappings) still needs one."""
    src = write(tmp_path, "own.csv", "name,serial_number,owner,status,class,cpu_cores,data_bearing,financial.purchase_date,"
                                     "financial.purchase_cost,warranty_end,tags\n"
                                     "Carol laptop,SN-C1,team-it,in_stock,laptop,8,true,2026-11-02,1299.50,2029-11-01,"
                                     "spare; loan-pool\n")
    code, out, err = run("import", "csv", str(src), "--kind", "hardware", "--root", str(reg))
    assert (code, err) == (0, "") and out.startswith("1 created, 0 updated")
    data = yaml.safe_load((reg / "registry/hardware/hw-2.yaml").read_text())
    assert {k: data[k] for k in ("name", "serial_number", "owner", "status", "class", "cpu_cores", "data_bearing",
                                 "warranty_end", "tags")} == {
        "name": "Carol laptop", "serial_number": "SN-C1", "owner": "team-it", "status": "in_stock", "class": "laptop",
        "cpu_cores": 8, "data_bearing": True, "warranty_end": "2029-11-01", "tags": ["spare", "loan-pool"]}
    assert (data["financial"]["purchase_date"], data["financial"]["purchase_cost"]) == ("2026-11-02", 1299.5)
    assert validate_clean(reg) == []
    related = write(tmp_path, "rel.csv", 'name,serial_number,relations\nDan laptop,SN-D1,"[{""type"": ""located_in""}]"\n')
    before = snapshot(reg)
    code, _, err = run("import", "csv", str(related), "--kind", "hardware", "--owner", "team-it", "--root", str(reg))
    assert code == 2 and "column(s) 'relations' are not understood" in err and snapshot(reg) == before


def test_demo_register_reimport_is_idempotent(tmp_path: Path) -> None:
    from bir.api import load as load_register

    reg = make_register(tmp_path / "demo", demo=True)
    register = load_register(reg).register
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["Asset Tag", "Name", "Serial", "Model"])
    laptops = [r for r in register.of_kind("hardware") if r.data.get("class") == "laptop" and r.data.get("serial_number")]
    for r in laptops:
        writer.writerow([r.data.get("asset_tag", ""), r.name, r.data["serial_number"], r.data.get("model", "")])
    src = write(tmp_path, "demo.csv", buf.getvalue())
    before = snapshot(reg)
    code, out, _ = run("import", "csv", str(src), "--kind", "hardware", "--owner", "team-workplace", "--update",
                       "--root", str(reg))
    assert (code, out) == (0, f"0 created, 0 updated, {len(laptops)} unchanged, "
                              "0 existing (not changed without --update), 0 rejected\n")
    assert snapshot(reg) == before


SNIPE_REPORT = Path(__file__).resolve().parent / "fixtures" / "snipeit" / "custom-asset-report.csv"
ACME = """\
id: acme
kind: party
name: ACME Corp
owner: team-it
status: active
party_type: manufacturer
code: ACME
"""


def test_snipe_it_custom_asset_report(reg: Path) -> None:
    """A Snipe-IT Custom Asset Report as it downloads (BOM, semicolons, decimal commas, the Address columns
    twice, "label (type)" statuses): every column understood without a mapping file."""
    (reg / "registry/party/acme.yaml").write_text(ACME)
    code, out, _ = run("import", "csv", str(SNIPE_REPORT), "--kind", "hardware", "--owner", "team-it",
                       "--format", "json", "--root", str(reg))
    result = json.loads(out)
    assert code == 1
    assert result["created"] == ["it-0200", "it-0201"]
    assert result["rejected"] == [
        {"row": 4, "column": "Cost", "reason": "'12abc' is not an amount of money (digits, ',' before the decimals)"},
        {"row": 5, "column": "Cost", "reason": "'(100,00)' is negative; a purchase cost is an amount of zero or more"},
        {"row": 6, "column": "Asset Tag", "reason": "the row has no asset tag, the key that matches it to a record; "
                                                   "fill it in (or leave the column out to import by serial number)"},
        {"row": 7, "column": "Status", "reason": "status 'retired' requires retirement.reason [lifecycle.requires]"},
        {"row": 7, "column": "Status", "reason": "status 'retired' requires status_dates.retired [lifecycle.requires]"},
    ]
    alice = yaml.safe_load((reg / "registry/hardware/it-0200.yaml").read_text())
    assert alice["status"] == "in_use" and alice["status_dates"] == {"in_use": "2025-03-02"}
    assert alice["manufacturer"] == "acme"  # matched by code, case-insensitively
    assert alice["financial"]["purchase_cost"] == 1299 and alice["financial"]["supplier"] == "example-supplier"
    assert (alice["warranty_end"], alice["end_of_life"], alice["class"]) == ("2028-03-01", "2029-03-01", "laptop")
    snipe = alice["custom"]["snipeit"]
    assert snipe["id"] == "101" and snipe["model_no"] == "EB14-2025" and snipe["current_value"] == "866,00"
    assert (snipe["address"], snipe["city"], snipe["username"], snipe["last_audit"]) == ("Keizersgracht 1", "Amsterdam",
                                                                                         "alice", "2026-01-10")
    spare = yaml.safe_load((reg / "registry/hardware/it-0201.yaml").read_text())
    assert spare["status"] == "in_stock" and "status_dates" not in spare  # no state date is made up
    assert spare["manufacturer"] == "acme"  # by name, case-insensitively
    assert validate_clean(reg) == []


@pytest.mark.parametrize(("text", "decimal", "value"), [
    ("1.299,00", ",", 1299), ("1 299,50", ",", 1299.5), ("1299,5", ",", 1299.5), ("EUR 1.299,00", ",", 1299),
    ("1,299.00", ".", 1299), ("1'299.00", ".", 1299), ("0", ".", 0), ("12.34 USD", ".", 12.34),
])
def test_money_parsing(text: str, decimal: str, value: float) -> None:
    from bir.write.cells import read_money

    assert read_money(text, "Cost", decimal) == value


@pytest.mark.parametrize(("text", "decimal", "reason"), [
    ("12abc", ".", "is not an amount of money"), ("(100.00)", ".", "is negative"), ("-5", ".", "is negative"),
    ("1.2.3", ".", "is not an amount of money"), ("1.299,00", ".", "pass --decimal ','"), ("1,00,0", ".", "not an amount"),
    ("10.005", ".", "more than two decimals"), ("", ".", "is not an amount of money"),
])
def test_money_rejections(text: str, decimal: str, reason: str) -> None:
    from bir.write.cells import CellRejected, read_money

    with pytest.raises(CellRejected, match=reason.replace("(", r"\(").replace(")", r"\)")):
        read_money(text, "Cost", decimal)


def test_delimiter_and_decimal_given_or_detected(reg: Path, tmp_path: Path) -> None:
    src = write(tmp_path, "tab.csv", "Asset Tag\tName\tSerial\tPurchase Cost\tStatus\nIT-9\tx\tS9\t1.299,00\tReady to Deploy\n")
    code, _, err = run("import", "csv", str(src), "--kind", "hardware", "--owner", "team-it", "--root", str(reg))
    assert (code, err) == (0, "")
    assert yaml.safe_load((reg / "registry/hardware/it-9.yaml").read_text())["financial"]["purchase_cost"] == 1299
    mixed = write(tmp_path, "mixed.csv", "Asset Tag;Purchase Cost\nIT-10;1.299,00\nIT-11;1,299.00\n")
    code, _, err = run("import", "csv", str(mixed), "--kind", "hardware", "--owner", "team-it", "--root", str(reg))
    assert code == 2 and "pass --decimal ',' or --decimal '.'" in err
    code, _, err = run("import", "csv", str(mixed), "--kind", "hardware", "--owner", "team-it", "--decimal", ",",
                       "--delimiter", ";", "--root", str(reg))
    assert code == 1 and "row 3 column 'Cost'" not in err and "row 3 column 'Purchase Cost': rejected: '1,299.00'" in err
