"""`bir validate` end to end as a user runs it: formats, exit codes, and no traceback for any input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import NOT_IN_CI, PROJECT, run


def break_owner(root: Path) -> None:
    rec = root / "registry" / "hardware" / "srv-01.yaml"
    rec.write_text(rec.read_text(encoding="utf-8").replace("owner: team-it", "owner: team-x"), encoding="utf-8")


def test_demo_register_is_clean() -> None:
    res = run("validate", PROJECT, "--format", "json", env=NOT_IN_CI, process=True)
    assert res.code == 0, res.out + res.err
    out = json.loads(res.out)
    assert out["summary"]["errors"] == 0 and out["summary"]["warnings"] == 0
    assert out["summary"]["records"] >= 250
    assert set(out["summary"]["by_kind"]) == {"hardware", "software", "licence", "cloud_service", "network", "facility",
                                              "information", "service", "contract", "party", "waiver", "audit", "budget"}


def test_text_format_and_exit_code(base_register: Path) -> None:
    break_owner(base_register)
    res = run("validate", cwd=base_register / "registry" / "hardware", env=NOT_IN_CI)  # the register containing the current folder
    assert res.code == 1
    assert res.out.splitlines() == [
        "registry/hardware/srv-01.yaml:4:8: error: owner 'team-x' is not a known record [ref.unknown]",
        "    hint: add party record 'team-x', or fix the id",
        "3 records (hardware 1, party 1, service 1): 1 error(s), 0 warning(s)",
    ]


def test_json_format(base_register: Path) -> None:
    break_owner(base_register)
    res = run("validate", base_register, "--format", "json", env=NOT_IN_CI)
    assert res.code == 1
    out = json.loads(res.out)
    assert out["summary"] == {"records": 3, "errors": 1, "warnings": 0, "by_kind": {"hardware": 1, "party": 1, "service": 1}}
    problem = out["problems"][0]
    assert {k: problem[k] for k in ("path", "line", "column", "severity", "rule")} == {
        "path": "registry/hardware/srv-01.yaml", "line": 4, "column": 8, "severity": "error", "rule": "ref.unknown"}
    assert problem["message"] == "owner 'team-x' is not a known record"


def test_github_format_escapes_and_writes_summary(base_register: Path, tmp_path: Path) -> None:
    rec = base_register / "registry" / "hardware" / "srv-01.yaml"
    rec.write_text(rec.read_text(encoding="utf-8") + '"x\\n::error::pwned": 1\n', encoding="utf-8")
    summary = tmp_path / "summary.md"
    res = run("validate", base_register, env={**NOT_IN_CI, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert res.code == 1
    lines = res.out.splitlines()
    assert lines[0].startswith("::error file=registry/hardware/srv-01.yaml,line=20,col=1,title=schema.unknown-field::")
    assert "%0A::error::pwned" in lines[0]
    assert not any(line.startswith("::error::pwned") for line in lines)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## ❌ Register validation\n")
    assert "| registry/hardware/srv-01.yaml | 20 | error | `schema.unknown-field` |" in text


def test_strict_fails_on_warnings(base_register: Path) -> None:
    rec = base_register / "registry" / "hardware" / "srv-01.yaml"
    rec.write_text(rec.read_text(encoding="utf-8") + "redundancy_group: alone\n", encoding="utf-8")
    assert run("validate", base_register, env=NOT_IN_CI).code == 0
    res = run("validate", base_register, "--strict", env=NOT_IN_CI)
    assert res.code == 1
    assert "[redundancy.single]" in res.out


def test_not_a_register_is_a_usage_error(tmp_path: Path) -> None:
    res = run("validate", tmp_path, env=NOT_IN_CI, process=True)
    assert res.code == 2
    assert res.err.startswith("bir: error: no register here:")
    assert "Traceback" not in res.err


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("name: x\nbase_currency: EUR\nlifecycle_models: {}\n", "bir.yaml:3:19: error: lifecycle_models: {} should be non-empty [schema.range]"),
        ("name: [unclosed\n", "bir.yaml:2:1: error: did not find expected ',' or ']'"),
        ("a: 1\na: 2\n", "bir.yaml:2:1: error: duplicate key 'a'"),
        ("- a list\n", "bir.yaml:1:1: error: the configuration must be a mapping [config.invalid]"),
    ],
)
def test_bad_configuration_is_exit_2(base_register: Path, config: str, message: str) -> None:
    (base_register / "bir.yaml").write_text(config, encoding="utf-8")
    res = run("validate", base_register, env=NOT_IN_CI, process=True)
    assert res.code == 2
    assert res.err.startswith(message)
    assert "Traceback" not in res.err


def test_a_constraint_no_other_rule_names_is_schema_invalid(base_register: Path) -> None:
    import json

    path = base_register / "schemas" / "party.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["not"] = {"required": ["email"]}  # a party may not give an email address
    path.write_text(json.dumps(schema), encoding="utf-8")
    party = next((base_register / "registry" / "party").glob("*.yaml"))
    party.write_text(party.read_text(encoding="utf-8") + "email: x@example.org\n", encoding="utf-8")
    res = run("validate", base_register, "--no-cache", env=NOT_IN_CI)
    assert res.code == 1
    assert f"{party.relative_to(base_register)}:1:1: error: the record:" in res.out and "[schema.invalid]" in res.out


def test_broken_schema_is_exit_2(base_register: Path) -> None:
    (base_register / "schemas" / "hardware.schema.json").write_text("{not json", encoding="utf-8")
    res = run("validate", base_register, env=NOT_IN_CI, process=True)
    assert res.code == 2
    assert "cannot read schema" in res.err and "Traceback" not in res.err


def test_unusable_schema_is_a_positioned_problem_and_exit_2(base_register: Path) -> None:
    # A schema that is valid JSON but not a usable schema is checked against the meta-schema first.
    (base_register / "schemas" / "hardware.schema.json").write_text('{"type": 12}', encoding="utf-8")
    res = run("validate", base_register, "--no-cache", env=NOT_IN_CI, process=True)
    assert res.code == 2
    lines = res.err.strip().splitlines()
    assert lines[0] == "schemas/hardware.schema.json:1:2: error: type: 12 is not valid under any of the given schemas [schema.malformed]"
    assert lines[-1] == "bir: error: the schemas in schemas/ are not valid JSON Schemas; fix them and run again"
    assert "Traceback" not in res.err and len(lines) == 3


@pytest.mark.parametrize(("line", "hint"), [
    ("cpu_cores: many", "write a whole number such as 3; 'many' is text"),
    ("cpu_cores: TBD", "write a whole number such as 3; 'TBD' is text"),
    # what YAML 1.1 reads as a number and bir keeps as the text written: the hint says why
    ("cpu_cores: 0777", "write a plain decimal number: YAML 1.1 tools read '0777' differently (octal, base 60 or text)"),
    ("cpu_cores: 1:20", "write a plain decimal number: YAML 1.1 tools read '1:20' differently (octal, base 60 or text)"),
    ('cpu_cores: "8"', "remove the quotes: this field is a number"),
    ('cpu_cores: "0x10"', "write a whole number such as 3; '0x10' is text"),  # unquoted it would not be one either
])
def test_a_number_field_holding_text_says_how_to_write_it(base_register: Path, line: str, hint: str) -> None:
    record = base_register / "registry" / "hardware" / "srv-01.yaml"
    record.write_text(record.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    res = run("validate", base_register, "--no-cache", env=NOT_IN_CI)
    assert res.code == 1
    assert "error: cpu_cores must be a whole number, not text [schema.type]" in res.out
    assert f"    hint: {hint}\n" in res.out
