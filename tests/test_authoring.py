"""`bir new`, `bir set`, `bir transition`: edits keep the file's layout, are checked before writing,
and a refused edit leaves every file as it was."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bir.write.fieldedit import parse_assignment
from support import make_register, run, snapshot, validate_clean

TODAY = dt.date.today().isoformat()


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    return make_register(tmp_path / "reg", scaffold=True)


@pytest.mark.parametrize(("text", "field", "op", "value", "remove"), [
    ("name=Web server", "name", "=", "Web server", False),
    ("cpu_cores=16", "cpu_cores", "=", 16, False),
    ("financial.purchase_cost=1200.50", "financial.purchase_cost", "=", 1200.5, False),
    ("data_bearing=true", "data_bearing", "=", True, False),
    ("warranty_end=2027-01-31", "warranty_end", "=", "2027-01-31", False),  # dates stay text
    ("model=1.10", "model", "=", 1.1, False),  # strict plain scalar: quote it to keep text
    ("model='1.10'", "model", "=", "1.10", False),
    ("answer=no", "answer", "=", "no", False),  # never a boolean
    ("tags+=dmz", "tags", "+=", "dmz", False),
    ("tags-=dmz", "tags", "-=", "dmz", False),
    ("tags=[a, b]", "tags", "=", ["a", "b"], False),
    ("relations+={type: supports, target: svc-x}", "relations", "+=", {"type": "supports", "target": "svc-x"}, False),
    ("hostname=", "hostname", "=", None, True),
])
def test_parse_assignment(text: str, field: str, op: str, value: object, remove: bool) -> None:
    a = parse_assignment(text)
    assert (a.field, a.op, a.value, a.remove) == (field, op, value, remove)


def test_new_writes_a_valid_record_with_defaults_and_next_id(reg: Path) -> None:
    code, out, err = run("new", "hardware", "--root", str(reg), "--set", "owner=team-it", "--set", "class=laptop",
                         "--set", "name=Dev laptop")
    assert (code, out, err) == (0, "created registry/hardware/hw-2.yaml\n", "")
    assert (reg / "registry/hardware/hw-2.yaml").read_text() == (
        "# yaml-language-server: $schema=../../schemas/hardware.schema.json\n"
        "id: hw-2\nkind: hardware\nname: Dev laptop\nowner: team-it\nstatus: planned\nclass: laptop\n"
        f"status_dates:\n  planned: \"{TODAY}\"\n"
        "financial:\n  currency: EUR\n  depreciation: {method: straight_line, useful_life_months: 36, residual_value: 0}\n")
    assert validate_clean(reg) == []


def test_new_in_a_later_state_dates_that_state(reg: Path) -> None:
    code, _, err = run("new", "party", "--id", "jane-doe", "--root", str(reg), "--set", "owner=team-it",
                       "--set", "status=active", "--set", "party_type=person", "--set", "name=Jane Doe")
    assert (code, err) == (0, "")
    text = (reg / "registry/party/jane-doe.yaml").read_text()
    assert f"status_dates:\n  active: \"{TODAY}\"\n" in text and "planned" not in text
    assert validate_clean(reg) == []


@pytest.mark.parametrize(("args", "code", "message"), [
    (["new", "hardware", "--id", "hw-1", "--set", "owner=team-it"], 2, "id 'hw-1' already exists (registry/hardware/hw-1.yaml)"),
    (["new", "hardware", "--id", "Bad_Id", "--set", "owner=team-it"], 2, "'Bad_Id' is not a valid id"),
    (["new", "gadget", "--set", "owner=team-it"], 2, "unknown kind 'gadget'"),
    (["new", "hardware"], 1, "owner is required"),
    (["new", "hardware", "--set", "owner=nobody"], 1, "owner names 'nobody', which is not a record [ref.unknown]"),
    (["new", "hardware", "--set", "owner=team-it", "--set", "class=spaceship"], 1, "[schema."),
    (["new", "hardware", "--set", "owner=team-it", "--set", "colour=red"], 1, "[schema."),
    (["new", "hardware", "--set", "owner"], 2, "'owner' is not FIELD=VALUE"),
    (["set", "hw-1", "cpu_cores=many"], 1, "cpu_cores"),
    (["set", "hw-1", "id=hw-9"], 2, "`id` cannot be set"),
    (["set", "nope", "name=x"], 2, "no record with id 'nope'"),
    (["set", "hw-1", "financial.supplier=nobody"], 1, "financial.supplier names 'nobody'"),
    (["set", "--where", "kind=hardware", "owner=nobody"], 1, "owner names 'nobody'"),
    (["set", "--where", "kind=gadget", "owner=x"], 2, "unknown kind 'gadget'"),
    (["set", "hw-1", "name.first=x"], 2, "name is not a mapping"),
    (["transition", "hw-1", "disposed"], 1, "does not allow in_use -> disposed [change.transition]"),
    (["transition", "hw-1", "retired"], 1, "status 'retired' requires retirement.reason [lifecycle.requires]"),
    (["transition", "hw-1", "active"], 1, "'active' is not a state of the 'physical' lifecycle model"),
    (["transition", "hw-1", "retired", "--date", "2026-02-30", "--set", "retirement.reason=old"], 2, "is not a date"),
    (["transition", "hw-1"], 2, "give ID STATE"),
])
def test_refused_commands_leave_every_file_as_it_was(reg: Path, args: list[str], code: int, message: str) -> None:
    before = snapshot(reg)
    got, _, err = run(*args, "--root", str(reg))
    assert got == code
    assert message in err
    assert snapshot(reg) == before


def test_set_keeps_comments_order_and_quoting(reg: Path) -> None:
    path = reg / "registry/hardware/hw-1.yaml"
    original = path.read_text()
    code, out, _ = run("set", "hw-1", "hostname=lt-0001.example", "tags+=fleet", "cpu_cores=8", "--root", str(reg))
    assert (code, out) == (0, "changed registry/hardware/hw-1.yaml\n")
    text = path.read_text()
    expected = (original.replace("owner: team-it\n", "owner: team-it\n", 1)
                .replace("asset_tag: IT-0001\n", "asset_tag: IT-0001\nhostname: lt-0001.example\ncpu_cores: 8\n")
                .replace("tags: [workplace]", "tags: [workplace, fleet]"))
    assert text == expected  # comments, the quoted dates and the key order are as they were
    assert validate_clean(reg) == []
    # the same edit again changes nothing
    assert run("set", "hw-1", "hostname=lt-0001.example", "tags+=fleet", "--root", str(reg))[1] == "nothing changed\n"


def test_set_removes_a_field_and_a_list_item(reg: Path) -> None:
    assert run("set", "hw-1", "asset_tag=", "tags-=workplace", "--root", str(reg))[0] == 0
    text = (reg / "registry/hardware/hw-1.yaml").read_text()
    assert "asset_tag" not in text and "tags: []" in text


def test_transition_sets_status_and_date(reg: Path) -> None:
    code, out, _ = run("transition", "hw-1", "retired", "--date", "2026-06-30",
                       "--set", "retirement.reason=Replaced by a newer model", "--root", str(reg))
    assert (code, out) == (0, "changed registry/hardware/hw-1.yaml\n")
    text = (reg / "registry/hardware/hw-1.yaml").read_text()
    assert "status: retired\n" in text
    assert '  in_use: "2024-02-05"\n  retired: "2026-06-30"\n' in text
    assert "retirement:\n  reason: Replaced by a newer model\n" in text
    assert validate_clean(reg) == []
    assert run("transition", "hw-1", "retired", "--root", str(reg))[1] == "hw-1: already retired\n"


def test_bulk_set_invalid_for_one_writes_none(reg: Path) -> None:
    assert run("new", "hardware", "--id", "hw-2", "--set", "owner=team-it", "--set", "class=laptop",
               "--root", str(reg))[0] == 0
    before = snapshot(reg)
    # valid for hw-2 (planned), but hw-1 would be in use before it was bought
    code, _, err = run("set", "--where", "kind=hardware,class=laptop", "financial.purchase_date=2025-01-01",
                       "--root", str(reg))
    assert code == 1
    assert err.startswith("registry/hardware/hw-1.yaml:") and "hw-2" not in err
    assert err.endswith("bir: 1 problem(s); nothing was written\n")
    assert snapshot(reg) == before


def test_bulk_transition_refused_for_one_writes_none(reg: Path) -> None:
    assert run("new", "hardware", "--id", "hw-2", "--set", "owner=team-it", "--set", "class=laptop",
               "--root", str(reg))[0] == 0
    before = snapshot(reg)
    code, _, err = run("transition", "--where", "kind=hardware,class=laptop", "in_maintenance", "--root", str(reg))
    assert code == 1
    assert "hw-2: the 'physical' lifecycle model does not allow planned -> in_maintenance" in err
    assert snapshot(reg) == before  # hw-1 (in_use -> in_maintenance is allowed) was not written either


def test_bulk_set_with_where(reg: Path) -> None:
    assert run("new", "hardware", "--id", "hw-2", "--set", "owner=team-it", "--set", "class=server",
               "--root", str(reg))[0] == 0
    code, out, _ = run("set", "--where", "kind=hardware,class=laptop,status=in_use", "tags+=fleet", "--root", str(reg))
    assert (code, out) == (0, "changed registry/hardware/hw-1.yaml\n")
    assert "fleet" not in (reg / "registry/hardware/hw-2.yaml").read_text()


def test_demo_register_edits(tmp_path: Path) -> None:
    reg = make_register(tmp_path / "demo", demo=True)
    before = snapshot(reg)
    code, out, _ = run("set", "--where", "kind=hardware,class=laptop,status=in_use", "tags+=fleet-2027",
                       "--root", str(reg))
    assert code == 0
    changed = [line.removeprefix("changed ") for line in out.splitlines()]
    after = snapshot(reg)
    assert sorted(p for p in after if after[p] != before.get(p)) == sorted(changed) and changed
    code, out, _ = run("new", "hardware", "--set", "owner=team-workplace", "--set", "class=laptop", "--root", str(reg))
    assert code == 0 and out.startswith("created registry/hardware/lt-")
    assert validate_clean(reg) == []


def test_reentering_a_state_keeps_its_earlier_date(tmp_path: Path) -> None:
    """Reactivating an expired contract: the first activation moves to status_history, never overwritten."""
    import yaml

    reg = make_register(tmp_path / "demo", demo=True)
    rel = "registry/contract/ctr-netapp-support-2020.yaml"
    code, out, err = run("transition", "ctr-netapp-support-2020", "active", "--date", "2026-11-02",
                         "--set", "start=2026-11-02", "--set", "end=2027-11-01", "--root", str(reg))
    assert (code, out) == (0, f"changed {rel}\n"), err
    data = yaml.safe_load((reg / rel).read_text())
    assert data["status_dates"] == {"active": "2026-11-02", "expired": "2025-09-16"}
    assert data["status_history"] == [{"state": "active", "date": "2020-09-17"}]
    assert validate_clean(reg) == []
