"""`bir reconcile`: a discovery scan against the register; `--write` prepares the records for a pull request."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from bir.write.reconcile import reconcile
from support import make_register, run, snapshot, validate_clean

TODAY = dt.date(2026, 11, 28)
SOFTWARE = """\
id: sw-office
kind: software
name: Office suite 2024
owner: team-it
status: active
status_dates:
  active: "2024-01-01"
product: Office suite
version: "2024.1"
installations:
  - {on: hw-1, date: "2024-02-05"}
"""
SCAN_CSV = """\
hostname,serial,mac,software,version,last_seen
lt-alice.corp.example,EXAMPLE-0001,AA-BB-CC-DD-EE-FF,Office suite,2024.3,2026-11-27
lt-alice.corp.example,EXAMPLE-0001,AA-BB-CC-DD-EE-FF,Firefox,128.0,2026-11-27
new-box,ZZZ9,,,,2026-11-20T10:00:00Z
"""


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    root = make_register(tmp_path / "reg", scaffold=True)
    (root / "registry/software").mkdir()
    (root / "registry/software/sw-office.yaml").write_text(SOFTWARE)
    return root


def findings(root: Path, scan: Path, **kw: object) -> list[tuple[str, str, str]]:
    result = reconcile(root, scan, today=TODAY, **kw)  # type: ignore[arg-type]
    return [(f.rule, f.record or f.device, f.message) for f in result.findings]


def test_findings(reg: Path, tmp_path: Path) -> None:
    scan = tmp_path / "scan.csv"
    scan.write_text(SCAN_CSV)
    assert findings(reg, scan) == [
        ("reconcile.unregistered", "new-box", "new-box (rows 4) is not in the register"),
        ("reconcile.differs", "hw-1", "Office suite version: register '2024.1' (sw-office), scan '2024.3'"),
        ("reconcile.unknown-software", "hw-1",
         "Firefox 128.0 runs on hw-1 but no software record of that product is installed on it"),
    ]


def test_stale_and_differing_attributes(reg: Path, tmp_path: Path) -> None:
    (reg / "registry/hardware/hw-1.yaml").write_text((reg / "registry/hardware/hw-1.yaml").read_text().replace(
        "asset_tag: IT-0001\n", "asset_tag: IT-0001\nhostname: lt-bob\nmac_addresses: [\"aa:bb:cc:00:00:01\"]\n"))
    scan = tmp_path / "scan.json"
    scan.write_text(json.dumps({"devices": [
        {"hostname": "lt-alice", "serial_number": "EXAMPLE-0001", "mac_address": ["aa:bb:cc:00:00:02"],
         "last_seen": "2026-09-01"},
    ]}))
    assert findings(reg, scan, stale_days=30) == [
        ("reconcile.stale", "hw-1", "hw-1 last seen 2026-09-01, 88 days ago (more than 30)"),
        ("reconcile.differs", "hw-1", "MAC addresses: register aa:bb:cc:00:00:01, scan aa:bb:cc:00:00:02"),
        ("reconcile.differs", "hw-1", "hostname: register 'lt-bob', scan 'lt-alice'"),
    ]
    assert findings(reg, scan, stale_days=100)[0][0] == "reconcile.differs"
    # a record that is in service but not in the scan at all is stale too
    other = tmp_path / "other.json"
    other.write_text('[{"hostname": "other-box"}]')
    assert ("reconcile.stale", "hw-1", "hw-1 is in_use but not in the scan") in findings(reg, other)


def test_write_creates_and_updates(reg: Path, tmp_path: Path) -> None:
    scan = tmp_path / "scan.csv"
    scan.write_text(SCAN_CSV)
    result = reconcile(reg, scan, write=True, owner="team-it", today=TODAY)
    assert result.written == ["registry/hardware/hw-1.yaml", "registry/hardware/new-box.yaml"]
    new = (reg / "registry/hardware/new-box.yaml").read_text()
    for line in ("status: in_use\n", "serial_number: ZZZ9\n", "hostname: new-box\n", '  in_use: "2026-11-20"\n',
                 'last_verified: "2026-11-20"\n', "class: other\n", "tags: [discovered]\n"):
        assert line in new
    hw1 = (reg / "registry/hardware/hw-1.yaml").read_text()
    assert 'last_verified: "2026-11-27"\n' in hw1 and "hostname: lt-alice.corp.example\n" in hw1
    assert 'mac_addresses: ["aa:bb:cc:dd:ee:ff"]\n' in hw1 or "mac_addresses: [aa:bb:cc:dd:ee:ff]\n" in hw1
    assert validate_clean(reg) == []
    # after the write, only what needs a person is left
    assert [f[0] for f in findings(reg, scan)] == ["reconcile.differs", "reconcile.unknown-software"]
    before = snapshot(reg)
    reconcile(reg, scan, write=True, owner="team-it", today=TODAY)
    assert snapshot(reg) == before  # nothing more to write


@pytest.mark.parametrize(("text", "name", "args", "message"), [
    ("hostname,last_seen\nx,yesterday\n", "scan.csv", [], "last_seen 'yesterday' is not a date"),
    ("hostname,last_seen\nx,2026-01-01,extra\n", "scan.csv", [], "row 2 has more cells than the header"),
    ("{not json", "scan.json", [], "is not valid JSON"),
    ('{"hosts": []}', "scan.json", [], "expected a list of devices"),
    ("hostname,software,version\n,Firefox,1\n", "scan.csv", [], "row 2 names no device"),
    ("software,version\nFirefox,1\n", "scan.csv", [], "no column names a device (the header has 'software', 'version')"),
    # A scan that lists no device would report every in-service record missing: the export is wrong.
    ("", "scan.csv", [], "scan.csv lists no device: compared with it, every in-service record would be missing"),
    ("hostname,serial\n", "scan.csv", [], "scan.csv lists no device"),
    ("[]", "scan.json", [], "scan.json lists no device"),
    ('{"devices": [{"asset": "A-1"}]}', "scan.json", [], "row 1 names no device"),
    ("Asset,Owner\nA-1,x\n", "scan.csv", ["--write", "--owner", "team-it"],
     "scan.csv: no column names a device (the header has 'Asset', 'Owner'); name one column hostname, serial_number"),
    ("hostname\nnew-box\n", "scan.csv", ["--write"], "pass --owner PARTY"),
    ("hostname\nnew-box\n", "scan.csv", ["--write", "--owner", "nobody"], "owner names 'nobody', which is not a record"),
    ("hostname\nnew-box\n", "scan.csv", ["--write", "--owner", "team-it", "--class", "toaster"], "[schema."),
])
def test_bad_input_writes_nothing(reg: Path, tmp_path: Path, text: str, name: str, args: list[str], message: str) -> None:
    scan = tmp_path / name
    scan.write_text(text)
    before = snapshot(reg)
    code, _, err = run("reconcile", str(scan), *args, "--root", str(reg))
    assert code in (1, 2) and message in err
    assert snapshot(reg) == before


def test_cli_exit_codes(reg: Path, tmp_path: Path) -> None:
    scan = tmp_path / "scan.csv"
    scan.write_text(f"serial,last_seen\nEXAMPLE-0001,{dt.date.today().isoformat()}\n")
    code, out, _ = run("reconcile", str(scan), "--root", str(reg))
    assert (code, out) == (0, "1 devices in the scan, 1 matched, 0 finding(s)\n")
    code, out, _ = run("reconcile", str(scan), "--format", "json", "--root", str(reg))
    assert code == 0 and json.loads(out)["matched"] == 1


def test_a_device_name_from_the_scan_is_shown_escaped(reg: Path, tmp_path: Path) -> None:
    """A scanner's host name is text from the network: a terminal escape or a workflow command in it is shown
    as an escape, never obeyed."""
    scan = tmp_path / "scan.csv"
    scan.write_text(f"hostname,serial,last_seen\nbox\x1b[2J\x07,ZZZ9,{dt.date.today().isoformat()}\n", encoding="utf-8")
    code, out, _ = run("reconcile", str(scan), "--root", str(reg))
    assert code == 1 and "\x1b" not in out and "\x07" not in out
    assert "box\\x1b[2J\\x07: " in out


def test_demo_register(tmp_path: Path) -> None:
    from bir.api import load as load_register

    reg = make_register(tmp_path / "demo", demo=True)
    register = load_register(reg).register
    in_service = [r for r in register.of_kind("hardware") if register.in_service(r) and r.data.get("serial_number")]
    seen, missing = in_service[:-3], in_service[-3:]
    rows = ["serial,hostname,last_seen"] + [f"{r.data['serial_number']},{r.data.get('hostname', '')},2026-11-27" for r in seen]
    rows.append("NEW-SERIAL-1,brand-new-host,2026-11-27")
    scan = tmp_path / "scan.csv"
    scan.write_text("\n".join(rows) + "\n")
    result = reconcile(reg, scan, today=TODAY)
    assert result.matched == len(seen)
    rules = [(f.rule, f.record or f.device) for f in result.findings]
    assert ("reconcile.unregistered", "brand-new-host") in rules
    assert {r.id for r in missing} <= {rec for rule, rec in rules if rule == "reconcile.stale"}


def test_write_keeps_registered_values(reg: Path, tmp_path: Path) -> None:
    """Two registered MAC addresses and a host name survive a scan that sees one address and another name;
    the address the scan adds is merged in."""
    path = reg / "registry/hardware/hw-1.yaml"
    path.write_text(path.read_text().replace(
        "asset_tag: IT-0001\n",
        "asset_tag: IT-0001\nhostname: srv-a\nmac_addresses: [\"aa:bb:cc:00:00:01\", \"aa:bb:cc:00:00:02\"]\n"))
    scan = tmp_path / "scan.csv"
    scan.write_text("serial,hostname,mac,last_seen\nEXAMPLE-0001,srv-b,AA:BB:CC:00:00:02 aa-bb-cc-00-00-03,2026-11-27\n")
    reconcile(reg, scan, write=True, owner="team-it", today=TODAY)
    text = path.read_text()
    assert "hostname: srv-a\n" in text  # a differing host name is a finding, never overwritten
    assert yaml.safe_load(text)["mac_addresses"] == ["aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02", "aa:bb:cc:00:00:03"]
    assert "last_verified" not in text  # the host name disagrees: not verified
    assert validate_clean(reg) == []
    assert findings(reg, scan) == [("reconcile.differs", "hw-1", "hostname: register 'srv-a', scan 'srv-b'")]


def test_write_never_verifies_a_mismatched_serial(reg: Path, tmp_path: Path) -> None:
    path = reg / "registry/hardware/hw-1.yaml"
    path.write_text(path.read_text().replace("asset_tag: IT-0001\n", "asset_tag: IT-0001\nhostname: lt-alice\n"))
    scan = tmp_path / "scan.csv"
    scan.write_text("hostname,serial,last_seen\nlt-alice,OTHER-9,2026-11-27\n")
    before = path.read_text()
    result = reconcile(reg, scan, write=True, owner="team-it", today=TODAY)
    assert [(f.rule, f.message) for f in result.findings] == [
        ("reconcile.differs", "serial number: register 'EXAMPLE-0001', scan 'OTHER-9'")]
    assert path.read_text() == before and result.written == []
    # the same scan with the right serial verifies it
    scan.write_text("hostname,serial,last_seen\nlt-alice,EXAMPLE-0001,2026-11-27\n")
    reconcile(reg, scan, write=True, owner="team-it", today=TODAY)
    assert 'last_verified: "2026-11-27"\n' in path.read_text()
