"""Stock-takes: bir audit compares a scan with the register at a location, records it, verifies what matched."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from bir.point.point import at_worktree
from bir.reports import evaluate
from bir.reports.opsmodels import AuditReport
from support import TEAM, make_register, run, snapshot, write_records

DAY = dt.date(2026, 11, 28)


def hw(rid: str, tag: str, where: str | None, **extra: object) -> dict[str, object]:
    rec: dict[str, object] = {"id": rid, "kind": "hardware", "name": rid, "owner": "team-it", "status": "in_use",
                              "status_dates": {"in_use": "2025-01-10"}, "class": "laptop", "asset_tag": tag,
                              "serial_number": f"SN-{rid}", "last_verified": "2025-01-10"}
    if where:
        rec["relations"] = [{"type": "located_in", "target": where}]
    rec.update(extra)
    return rec


def fac(rid: str, ftype: str, parent: str | None = None) -> dict[str, object]:
    rec: dict[str, object] = {"id": rid, "kind": "facility", "name": rid, "owner": "team-it", "status": "active",
                              "facility_type": ftype}
    if parent:
        rec["relations"] = [{"type": "part_of", "target": parent}]
    return rec


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = make_register(tmp_path / "reg")
    auditor = {"id": "kim", "kind": "party", "name": "Kim", "owner": "team-it", "status": "active", "party_type": "person"}
    write_records(root, [TEAM, auditor, fac("fac-hq", "building"), fac("fac-hq-store", "room", "fac-hq"), fac("fac-dc", "data_centre"),
                         hw("lt-1", "NW-1", "fac-hq"), hw("lt-2", "NW-2", "fac-hq-store", last_verified="2026-06-01"),
                         hw("lt-3", "NW-3", "fac-hq"), hw("lt-4", "NW-4", "fac-dc"),
                         hw("lt-5", "NW-5", "fac-hq", status="planned", status_dates={"planned": "2026-10-01"}),
                         hw("mon-1", "NW-M1", "fac-hq", **{"class": "monitor"})])
    return root


def test_audit_results_exactly(root: Path, tmp_path: Path) -> None:
    scan = tmp_path / "scan.txt"
    scan.write_text("NW-1\nnw-2 \nSN-lt-4\nNW-999\nNW-1\n\n", encoding="utf-8")
    code, out, _err = run("audit", str(scan), "--location", "fac-hq", "--auditor", "kim", "--date", "2026-05-12",
                          "--root", str(root))
    assert code == 1
    assert out.splitlines() == [
        "lt-4: lt-4 (SN-lt-4) seen at fac-hq; the register places it in fac-dc [audit.wrong_place]",
        "NW-999: NW-999 matches no record [audit.unexpected]",
        "lt-3: lt-3 is registered at fac-hq and was not seen [audit.missing]",
        "mon-1: mon-1 is registered at fac-hq and was not seen [audit.missing]",
        "wrote registry/audit/aud-2026-05-12-hq.yaml",
        "wrote registry/hardware/lt-1.yaml",
        "4 seen, 2 present, 2 missing, 1 in the wrong place, 1 unexpected",
    ]  # lt-5 is planned (not delivered): not expected; lt-2 in the store (part of fac-hq) is present
    audit = yaml.safe_load((root / "registry/audit/aud-2026-05-12-hq.yaml").read_text())
    assert (audit["status"], audit["auditor"], audit["status_dates"]) == ("completed", "kim", {"completed": "2026-05-12"})
    assert audit["results"] == {"seen": 4, "present": ["lt-1", "lt-2"], "missing": ["lt-3", "mon-1"], "wrong_place": ["lt-4"],
                                "unexpected": ["NW-999"]}
    data = {rid: yaml.safe_load((root / f"registry/hardware/{rid}.yaml").read_text()) for rid in ("lt-1", "lt-2", "lt-3", "lt-4")}
    assert (data["lt-1"]["last_verified"], data["lt-1"]["verified_by"]) == ("2026-05-12", "kim")
    assert data["lt-2"]["last_verified"] == "2026-06-01"  # verified later already: never moved back
    assert data["lt-3"]["last_verified"] == data["lt-4"]["last_verified"] == "2025-01-10"  # missing, wrong place: untouched
    assert run("validate", str(root))[0] == 0
    rep = evaluate(at_worktree(root, DAY)).report("audits")
    assert isinstance(rep, AuditReport)
    assert [(a.audit, a.present, a.missing, a.wrong_place, a.unexpected) for a in rep.audits] == [("aud-2026-05-12-hq", 2, 2, 1, 1)]
    cov = {c.location: (c.state, c.last_audit, c.next_due, c.interval_days) for c in rep.coverage}
    assert cov == {"fac-hq": ("audited", dt.date(2026, 5, 12), dt.date(2027, 5, 12), 365),
                   "fac-hq-store": ("audited", dt.date(2026, 5, 12), dt.date(2027, 5, 12), 365),  # through its building
                   "fac-dc": ("never", None, None, 180)}  # bir.yaml: data centres every 180 days
    assert rep.totals == {"locations": 3, "audited": 2, "coverage_pct": Decimal("66.7")}
    life = evaluate(at_worktree(root, dt.date(2027, 3, 1))).report("lifecycle")
    assert [(e.record, e.date, e.event) for e in life.events if e.event == "audit_due"] == [  # type: ignore[attr-defined]
        ("fac-hq", dt.date(2027, 5, 12), "audit_due"), ("fac-hq-store", dt.date(2027, 5, 12), "audit_due")]
    risk = evaluate(at_worktree(root, dt.date(2027, 6, 1))).report("risk")
    assert sorted((f.rule, f.record) for f in risk.findings if f.rule == "location.audit_overdue") == [  # type: ignore[attr-defined]
        ("location.audit_overdue", "fac-dc"), ("location.audit_overdue", "fac-hq"), ("location.audit_overdue", "fac-hq-store")]


def test_audit_of_some_classes_and_a_dry_run(root: Path, tmp_path: Path) -> None:
    scan = tmp_path / "scan.txt"
    scan.write_text("NW-1\nNW-M1\n", encoding="utf-8")
    before = snapshot(root)
    code, out, _ = run("audit", str(scan), "--location", "fac-hq", "--auditor", "kim", "--classes", "monitor",
                       "--date", "2026-05-12", "--dry-run", "--root", str(root))
    assert code == 0 and out.splitlines()[-1] == "2 seen, 1 present, 0 missing, 0 in the wrong place, 0 unexpected"
    assert snapshot(root) == before


def test_hostile_scan_value_writes_nothing(root: Path, tmp_path: Path) -> None:
    scan = tmp_path / "scan.txt"
    scan.write_text("NW-1\nNW-\x1b[31m9\n", encoding="utf-8")
    before = snapshot(root)
    code, _out, err = run("audit", str(scan), "--location", "fac-hq", "--auditor", "kim", "--root", str(root))
    assert code == 1 and "[text.control]" in err and "nothing was written" in err
    assert snapshot(root) == before  # the audit record would carry the control character: refused, verification too
    code, _out, err = run("audit", str(scan), "--location", "lt-1", "--auditor", "kim", "--root", str(root))
    assert code == 2 and "'lt-1' is a hardware: --location names a facility" in err
    code, _out, err = run("audit", str(tmp_path / "missing.txt"), "--location", "fac-hq", "--auditor", "kim", "--root", str(root))
    assert code == 2 and "cannot read" in err


@pytest.mark.parametrize(("text", "message"), [
    ("", "scan.csv is empty; when the count found nothing at the location, give a scan of one line, its header: asset_tag"),
    ("\n  \n", "scan.csv is empty"),
    ("Asset No;Room\nNW-1;1.01\n", "scan.csv: its first line has several cells ('asset no', 'room') and none is a column"),
])
def test_a_scan_that_says_nothing_is_refused(root: Path, tmp_path: Path, text: str, message: str) -> None:
    """Read as a count that found nothing, an empty scan would record every device at the location missing."""
    scan = tmp_path / "scan.csv"
    scan.write_text(text, encoding="utf-8")
    before = snapshot(root)
    code, _out, err = run("audit", str(scan), "--location", "fac-hq", "--auditor", "kim", "--root", str(root))
    assert code == 2 and message in err
    assert snapshot(root) == before


def test_a_count_that_found_nothing_is_a_header_alone(root: Path, tmp_path: Path) -> None:
    scan = tmp_path / "scan.csv"
    scan.write_text("asset_tag\n", encoding="utf-8")
    code, out, _err = run("audit", str(scan), "--location", "fac-hq", "--auditor", "kim", "--dry-run", "--root", str(root))
    assert code == 1 and out.splitlines()[-1] == "0 seen, 0 present, 4 missing, 0 in the wrong place, 0 unexpected"


def test_demo_audits() -> None:
    root = Path(__file__).resolve().parent.parent
    rep = evaluate(at_worktree(root, DAY)).report("audits")
    assert isinstance(rep, AuditReport)
    assert [(a.audit, a.seen, a.present, a.missing, a.wrong_place, a.unexpected) for a in rep.audits] == [
        ("aud-2026-05-12-bld-ams-hq", 40, 38, 1, 1, 1), ("aud-2026-03-10-dc-ams1", 22, 22, 0, 0, 0),
        ("aud-2025-10-02-bld-rtm-office", 34, 27, 0, 0, 0)]
    states = {c.location: c.state for c in rep.coverage}
    assert (states["fac-bld-ams-hq"], states["fac-dc-ams1"], states["fac-bld-rtm-office"]) == ("audited", "overdue", "overdue")
    assert rep.totals == {"locations": 28, "audited": 7, "coverage_pct": Decimal("25.0")}


def test_a_disposed_device_seen_is_never_verified(root: Path, tmp_path: Path) -> None:
    """The attacker's way round: scan a device the register says is gone, or one counted in another place."""
    gone = hw("lt-9", "NW-9", "fac-hq", status="stolen", status_dates={"in_use": "2025-01-10", "stolen": "2025-06-01"},
              loss={"date": "2025-06-01", "report": "P-9"})
    write_records(root, [gone])
    scan = tmp_path / "scan.txt"
    scan.write_text("NW-9\nNW-4\n", encoding="utf-8")
    code, out, _ = run("audit", str(scan), "--location", "fac-hq", "--auditor", "kim", "--date", "2026-05-12",
                       "--root", str(root))
    assert code == 1
    assert "lt-9: lt-9 (NW-9) seen at fac-hq; the register places it in fac-hq, stolen [audit.wrong_place]" in out.splitlines()
    for rid in ("lt-9", "lt-4"):
        assert yaml.safe_load((root / f"registry/hardware/{rid}.yaml").read_text())["last_verified"] == "2025-01-10"
