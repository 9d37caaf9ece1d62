"""Hostile input and broken environments: every case ends in a positioned problem or one sentence with exit
code 2, never in "internal error" (exit 3) or a traceback, and nothing in the register is lost."""

from __future__ import annotations

import errno
import json
import marshal
import os
import time
from pathlib import Path

import pytest

from bir.api import validate
from support import RECORDS, commit, make_register, run, snapshot, write

HW = "registry/hardware/hw-1.yaml"


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    return make_register(tmp_path / "reg", scaffold=True)


def lines(problems: list) -> list[str]:  # type: ignore[type-arg]
    return [f"{p.path}:{p.line}:{p.column}: {p.severity.value}: {p.message} [{p.rule}]" for p in problems]


def add(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


RECORD = ('id: hw-9\nkind: hardware\nname: {name}\nowner: team-it\nstatus: in_stock\nstatus_dates: {{in_stock: "2024-02-01"}}\n'
          "class: laptop\n")


# -- input that used to end in "internal error" -------------------------------------------------------------
@pytest.mark.parametrize(("name", "expected"), [
    (b"&\x01a", "registry/hardware/hw-9.yaml:3:8: error: the file holds the control character U+0001 (control character) [text.control]"),
    (b"*\x1ba", "registry/hardware/hw-9.yaml:3:8: error: the file holds the control character U+001B (escape) [text.control]"),
    (b"&a\xc2\x81b", "registry/hardware/hw-9.yaml:3:9: error: the file holds the control character U+0081 (control character) [text.control]"),
])
def test_anchor_or_alias_sign_before_a_control_character(reg: Path, name: bytes, expected: str) -> None:
    add(reg, "registry/hardware/hw-9.yaml", RECORD.format(name="NAME").encode().replace(b"NAME", name))
    code, out, _err = run("validate", str(reg), "--format", "text", "--no-cache")
    assert code == 1 and expected in out


def test_integer_of_more_than_4300_digits(reg: Path) -> None:
    add(reg, "registry/hardware/hw-9.yaml", RECORD.format(name="x") + f"custom: {{n: {{v: {'9' * 5000}}}}}\n")
    result = validate(reg, use_cache=False)
    assert lines(result.problems) == ["registry/hardware/hw-9.yaml:8:17: error: custom.n.v: a number of 5,000 digits is larger "
                                      "than any field holds (at most 4,300 digits are read) [yaml.number-too-large]"]
    before = snapshot(reg)
    code, _out, err = run("set", "hw-1", "--root", str(reg), f"custom.n.v={'9' * 5000}")
    assert code == 2 and err.startswith("bir: error: a number of 5,000 digits") and snapshot(reg) == before


def test_deeply_nested_event_json(reg: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"pull_request": ' + "[" * 100_000 + "]" * 100_000 + "}")
    from bir.history.changerecord import check_event

    with pytest.raises(Exception, match="nested too deeply to be a GitHub event") as info:
        check_event(event, ("reason",))
    assert type(info.value).__name__ == "UsageError"


def test_date_past_year_9999_never_reaches_the_site(reg: Path, tmp_path: Path) -> None:
    text = (reg / HW).read_text().replace('purchase_date: "2024-01-25"', 'purchase_date: "9999-06-20"').replace(
        'order_date: "2024-01-20"', 'order_date: "9999-06-10"').replace('in_use: "2024-02-05"', 'in_use: "9999-07-01"').replace(
        'in_stock: "2024-02-01"', 'in_stock: "9999-06-25"')
    (reg / HW).write_text(text)
    errors = [p for p in validate(reg, use_cache=False).problems if p.is_error]
    # the schema refuses years past 9000 before the date rule sees them: a positioned problem either way
    assert {p.rule for p in errors} == {"schema.pattern"} and len(errors) == 4
    assert all(p.path == "registry/hardware/hw-1.yaml" and p.line > 0 for p in errors)
    code, _out, err = run("site", "build", "--root", str(reg), "--out", str(tmp_path / "site"))
    assert code == 0, err
    assert not (tmp_path / "site" / "records" / "hw-1.html").exists() and (tmp_path / "site" / "index.html").is_file()
    for report in ("lifecycle", "cost", "decisions"):
        assert run("report", report, "--root", str(reg))[0] == 0
    code, _out, err = run("report", "cost", "--root", str(reg), "--as-of", "9999-12-31")
    assert (code, err) == (2, "bir: error: '9999-12-31' is after 9000-12-31, the last day bir reports on; give an earlier day\n")


def test_useful_life_that_ends_past_the_calendar(reg: Path) -> None:
    text = (reg / HW).read_text().replace("  currency: EUR\n", "  currency: EUR\n  depreciation: {method: declining_balance, "
                                                                 "useful_life_months: 100000000, rate: 0.2}\n")
    (reg / HW).write_text(text)
    assert lines([p for p in validate(reg, use_cache=False).problems if p.is_error]) == [
        "registry/hardware/hw-1.yaml:21:65: error: financial.depreciation.useful_life_months: 100000000 is greater than the "
        "maximum of 1200 [schema.range]"]


def test_no_such_day(reg: Path) -> None:
    (reg / HW).write_text((reg / HW).read_text().replace('"2024-01-25"', '"2023-02-30"'))
    assert [p.message for p in validate(reg, use_cache=False).problems if p.rule == "date.invalid"] == [
        "financial.purchase_date '2023-02-30' is no such day: February 2023 has 28 days"]
    code, _out, err = run("transition", "hw-1", "retired", "--root", str(reg), "--date", "2024-04-31",
                          "--set", "retirement.reason=old")
    assert (code, err) == (2, "bir: error: --date '2024-04-31' is not a date: no such day: April 2024 has 30 days (YYYY-MM-DD)\n")


# -- malformed schemas ------------------------------------------------------------------------------------
def _schema(reg: Path, change: object) -> None:
    path = reg / "schemas" / "hardware.schema.json"
    schema = json.loads(path.read_text())
    change(schema)  # type: ignore[operator]
    path.write_text(json.dumps(schema, indent=2))


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s["properties"]["name"].__setitem__("type", 5), "properties/name/type: 5 is not valid under any of the given schemas"),
    (lambda s: s["properties"].__setitem__("name", {"$ref": "#/definitions/nowhere"}), '$ref "#/definitions/nowhere" points at nothing'),
    (lambda s: s["properties"].__setitem__("name", {"$ref": "defs.schema.json#/definitions/nowhere"}),
     '$ref "defs.schema.json#/definitions/nowhere" points at nothing'),
    (lambda s: s["properties"].__setitem__("name", {"$ref": "https://example.org/x.json"}),
     "$ref \"https://example.org/x.json\" points outside the register's schemas"),
    (lambda s: s.__setitem__("properties", [1, 2]), "properties: [1, 2] is not of type 'object'"),
    (lambda s: s.__setitem__("required", "id"), "required: 'id' is not of type 'array'"),
    (lambda s: s["properties"]["name"].__setitem__("pattern", "(["), "properties/name/pattern: '([' is not a 'regex'"),
    (lambda s: s["properties"]["name"].__setitem__("pattern", "^(?=a)"),
     'pattern "^(?=a)": the linear-time engine cannot run it (invalid perl operator: (?=)'),
    (lambda s: s.__setitem__("definitions", 5), "definitions: 5 is not of type 'object'"),
    (lambda s: s["properties"].__setitem__("name", {"$ref": 5}), "properties/name/$ref: 5 is not of type 'string'"),
    (lambda s: s["properties"]["name"].__setitem__("not", json.loads('{"not":' * 80 + "{}" + "}" * 80)),
     "the schema nests deeper than 64 levels"),
], ids=["type-not-string", "ref-nowhere", "ref-other-file-nowhere", "ref-remote", "properties-not-object",
        "required-not-list", "pattern-not-regex", "pattern-lookahead", "definitions-not-object", "ref-not-string", "too-deep"])
def test_malformed_schema_is_a_positioned_problem(reg: Path, change: object, message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BIR_CACHE_DIR", str(tmp_path / "cache"))
    _schema(reg, change)
    for args in (["validate", str(reg), "--no-cache"], ["set", "hw-1", "name=x", "--root", str(reg)]):
        code, _out, err = run(*args)
        first = err.splitlines()[0]
        assert code == 2 and first.startswith("schemas/hardware.schema.json:") and f": error: {message} [schema.malformed]" in first
        assert err.splitlines()[-1] == "bir: error: the schemas in schemas/ are not valid JSON Schemas; fix them and run again"


def test_catastrophic_pattern_does_not_hang(reg: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BIR_CACHE_DIR", str(tmp_path / "cache"))
    _schema(reg, lambda s: s["properties"]["model"].__setitem__("pattern", "^(a+)+$"))
    (reg / HW).write_text((reg / HW).read_text().replace("model: Example Book 14", f"model: {'a' * 60}!"))
    add(reg, "registry/hardware/hw-9.yaml", RECORD.format(name="x") + f"model: {'a' * 60}!\ncolour: red\n")
    started = time.perf_counter()
    result = validate(reg, use_cache=False, jobs=1)
    assert time.perf_counter() - started < 5
    assert [(p.path, p.rule) for p in result.problems] == [
        (HW, "schema.pattern"), ("registry/hardware/hw-9.yaml", "schema.pattern"), ("registry/hardware/hw-9.yaml", "schema.unknown-field")]


def test_planted_compiled_validator_is_never_run(reg: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("BIR_CACHE_DIR", str(cache))
    (reg / HW).write_text((reg / HW).read_text().replace("class: laptop", "class: spaceship"))
    assert [p.rule for p in validate(reg, use_cache=False).problems] == ["schema.enum"]
    planted = compile("def validate(data, custom_formats={}, name_prefix=None):\n    return data\n", "<planted>", "exec")
    files = sorted(cache.glob("schema-hardware-*.bin"))
    assert len(files) == 1 and files[0].read_bytes().startswith(b"bir-cache 1\n")  # sealed
    files[0].write_bytes(marshal.dumps(planted))
    from bir.read import patterns

    monkeypatch.setattr(patterns, "_PATTERNS", {})
    assert [p.rule for p in validate(reg, use_cache=False).problems] == ["schema.enum"]


# -- text that deceives -----------------------------------------------------------------------------------
def test_deceptive_text_set_from_the_command_line_is_refused(reg: Path) -> None:
    before = snapshot(reg)
    code, _out, err = run("set", "hw-1", "--root", str(reg), "name=Laptop\x1b[2K")
    assert code == 1 and "name: the text holds the control character U+001B (escape) [text.control]" in err
    code, _out, err = run("set", "hw-1", "--root", str(reg), "description=ok\n::add-mask::secret")
    assert code == 1 and "a line of the text is a CI workflow command ('::add-mask::') [text.workflow-command]" in err
    assert snapshot(reg) == before


def test_workflow_command_in_a_name_never_reaches_the_annotations(reg: Path) -> None:
    add(reg, "registry/hardware/hw-9.yaml", RECORD.format(name='"srv\\n::error file=README.md::approved"'))
    code, out, _err = run("validate", str(reg), "--format", "github", "--no-cache")
    assert code == 1
    assert [line for line in out.splitlines() if line.startswith("::") and "approved" in line and "text.workflow-command" not in line] == []
    assert "::error file=registry/hardware/hw-9.yaml,line=3,col=7,title=text.workflow-command::name: a line" in out


def test_long_values_are_quoted_cut(reg: Path) -> None:
    add(reg, "registry/hardware/hw-9.yaml", RECORD.format(name="x").replace("class: laptop", f"class: {'z' * 900_000}"))
    problems = validate(reg, use_cache=False).problems
    assert [p.rule for p in problems] == ["schema.enum"]
    assert len(problems[0].message) < 700 and '"zzzzzzzzzz' in problems[0].message and "…" in problems[0].message
    assert len(problems[0].hint) < 1000


def test_size_rejection_says_the_real_size(reg: Path) -> None:
    add(reg, "registry/hardware/hw-9.yaml", b"id: hw-9\ndescription: " + b"x" * 2_345_678 + b"\n")
    assert lines(validate(reg, use_cache=False).problems) == [
        "registry/hardware/hw-9.yaml:0:0: error: file is 2,345,701 bytes; records are at most 1,000,000 [yaml.too-large]"]


# -- file names -------------------------------------------------------------------------------------------
def test_names_that_break_elsewhere(reg: Path) -> None:
    rec = (reg / HW).read_text()
    add(reg, "registry/hardware/aux.yaml", rec.replace("id: hw-1", "id: aux").replace("IT-0001", "IT-9").replace("EXAMPLE-0001", "E9"))
    add(reg, "registry/hardware/HW-1.yaml", rec)
    add(reg, "registry/hardware/hw-7.yaml.", rec)
    add(reg, "registry/hardware/hw<8>.yaml", rec)
    add(reg, "registry/hardware/line\nbreak.yaml", rec)
    (reg / "registry" / "hardware" / os.fsdecode(b"bad\xff.yaml")).write_text(rec)
    got = [line for line in lines(validate(reg, use_cache=False).problems) if "[file." in line]
    assert got == [
        "registry/hardware/aux.yaml:0:0: error: 'aux.yaml' is a reserved device name on Windows; the register cannot be "
        "checked out there [file.name]",
        "registry/hardware/bad\\udcff.yaml:0:0: error: the name 'bad\ufffd.yaml' holds bytes that are not UTF-8; it is not read "
        "as a record [file.name]",
        "registry/hardware/hw-1.yaml:0:0: error: 'hw-1.yaml' and 'HW-1.yaml' differ only in case: on a case-insensitive file "
        "system (Windows, macOS) one replaces the other [file.case-collision]",
        "registry/hardware/hw-7.yaml.:0:0: error: 'hw-7.yaml.' is not a .yaml record file [file.extension]",
        "registry/hardware/hw-7.yaml.:0:0: error: 'hw-7.yaml.' ends in a dot or a space, which Windows drops [file.name]",
        "registry/hardware/hw<8>.yaml:0:0: error: 'hw<8>.yaml' holds '<', which Windows does not allow in a file name; it is "
        "not read as a record [file.name]",
        "registry/hardware/line\\nbreak.yaml:0:0: error: the name 'line\\nbreak.yaml' holds a control character (U+000A); it is "
        "not read as a record [file.name]",
    ]


def test_hidden_files_are_errors_and_bir_temporary_files_are_ignored_then_swept(reg: Path) -> None:
    add(reg, "registry/hardware/.hw-5.yaml", (reg / HW).read_text().replace("hw-1", "hw-5"))
    leftover = add(reg, "registry/hardware/.hw-1.yaml.k2j4x_9q.tmp", "id: hw-1\n")
    code, out, _err = run("validate", str(reg), "--format", "text", "--no-cache", "--strict")
    assert code == 1 and "registry/hardware/.hw-5.yaml: error: hidden file in the register is not read [file.hidden]" in out
    assert ".tmp" not in out and "5 records" in out
    assert leftover.exists()  # a reader never removes anything
    assert run("set", "hw-1", "--root", str(reg), "name=Renamed")[0] == 0
    assert not leftover.exists() and (reg / "registry/hardware/.hw-5.yaml").exists()


def test_change_never_counts_hidden_files_or_names_with_a_line_break(tmp_path: Path) -> None:
    repo = make_register(tmp_path / "repo", records=RECORDS, git_init=True)
    commit(repo, "init")
    write(repo, "hardware/.srv-03.yaml", RECORDS["hardware/srv-02.yaml"].replace("srv-02", "srv-03"))
    write(repo, "hardware/srv-04\n::error file=x::approved.yaml", RECORDS["hardware/srv-02.yaml"].replace("srv-02", "srv-04"))
    for committed in (False, True):
        if committed:
            commit(repo, "sneak", date="2026-01-06T10:00:00+00:00")
        base = "main" if not committed else "main~1"
        code, out, err = run("change", "--root", str(repo), "--base", base)
        assert code == 1, err
        assert "records: 0 added, 0 modified, 0 renamed, 0 removed" in out
        assert "srv-04\\x0a::error" in out
        code, out, err = run("change", "--root", str(repo), "--base", base, "--format", "github")
        assert code == 1, err
        assert not [line for line in (out + err).splitlines() if line.startswith("::error file=x")]


# -- environment errors: one sentence naming the path, exit 2, nothing changed ----------------------------
def _refuse_writes(monkeypatch: pytest.MonkeyPatch, under: Path, code: int) -> None:
    """Make every write under `under` fail as the environment would (errno `code`)."""
    real_open, real_mkdir, real_replace, real_fsync = os.open, os.mkdir, os.replace, os.fsync
    base = str(under)
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def inside(path: object) -> bool:
        return os.fsdecode(os.path.abspath(os.fsdecode(path))).startswith(base)  # type: ignore[arg-type]

    def fake_open(path, flags, mode=0o777, *, dir_fd=None):  # type: ignore[no-untyped-def]
        if flags & writing and inside(path):
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return real_open(path, flags, mode, dir_fd=dir_fd)

    def fake_mkdir(path, mode=0o777, *args, **kwargs):  # type: ignore[no-untyped-def]
        if inside(path):
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return real_mkdir(path, mode, *args, **kwargs)

    def fake_replace(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        if inside(dst):
            raise OSError(code, os.strerror(code), os.fsdecode(src), None, os.fsdecode(dst))
        return real_replace(src, dst, *args, **kwargs)

    def fake_fsync(fd: int) -> None:
        if code == errno.ENOSPC:
            raise OSError(code, os.strerror(code))
        real_fsync(fd)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    monkeypatch.setattr(os, "replace", fake_replace)
    if code == errno.ENOSPC:  # a full disk lets files be created and refuses their content
        monkeypatch.setattr(os, "open", real_open)
        monkeypatch.setattr(os, "fsync", fake_fsync)


WRITERS = [
    ["new", "hardware", "--set", "owner=team-it", "--set", "class=laptop"],
    ["set", "hw-1", "name=Renamed"],
    ["set", "--where", "kind=hardware", "tags+=lab"],
    ["transition", "hw-1", "in_maintenance"],
    ["import", "csv", "{csv}", "--kind", "hardware", "--owner", "team-it"],
    ["feed", "import", "{feed}"],
    ["reconcile", "{scan}", "--write", "--owner", "team-it"],
]


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC, errno.EACCES], ids=["read-only", "disk-full", "permission"])
@pytest.mark.parametrize("args", WRITERS, ids=[" ".join(a[:2]) if a[0] != "set" or a[1] != "--where" else "set --where" for a in WRITERS])
def test_environment_refuses_the_write(reg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, args: list[str]) -> None:
    files = {"csv": tmp_path / "in.csv", "feed": tmp_path / "acmeos.json", "scan": tmp_path / "scan.csv"}
    files["csv"].write_text("Asset Tag,Name,Serial,Category,Status,Checkout Date\nIT-0200,New laptop,SN200,Laptops,Deployed,2026-01-10\n")
    files["feed"].write_bytes((Path(__file__).parent / "fixtures" / "feeds" / "acmeos.json").read_bytes())
    files["scan"].write_text("hostname,serial_number\nnew-host,SN-NEW-1\n")
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in args]
    run("validate", str(reg))  # the caches exist, as on a machine in use
    before = snapshot(reg)
    _refuse_writes(monkeypatch, reg, code)
    got, out, err = run(*argv, "--root", str(reg))
    monkeypatch.undo()
    assert got == 2, (out, err)
    assert err.startswith(f"bir: error: {reg}") and len(err.strip().splitlines()) == 1 and "internal error" not in err
    assert {errno.EROFS: "read-only", errno.ENOSPC: "disk is full", errno.EACCES: "permission denied"}[code] in err
    assert snapshot(reg) == before
    assert run(*argv, "--root", str(reg))[0] in (0, 1)  # and with the environment fixed, it goes through


@pytest.mark.parametrize("args", [["export", "json", "--out", "{dir}"], ["site", "build", "--out", "{file}/site"],
                                  ["init", "{file}/new"]], ids=["export-into-a-folder", "site-under-a-file", "init-under-a-file"])
def test_real_path_errors(reg: Path, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("x")
    argv = [a.format(dir=tmp_path / "a-folder", file=tmp_path / "a-file") for a in args]
    extra = [] if argv[0] == "init" else ["--root", str(reg)]
    code, _out, err = run(*argv, *extra)
    last = err.strip().splitlines()[-1]
    assert code == 2 and last.startswith(f"bir: error: {tmp_path}/a-") and "internal error" not in err, err


def test_same_size_overwrite_that_keeps_mtime_is_not_clean(reg: Path) -> None:
    first = validate(reg)
    assert not first.cached and validate(reg).cached
    path = reg / HW
    st = path.stat()
    time.sleep(0.05)  # past the file system's clock tick, as any later edit is
    path.write_text(path.read_text().replace("class: laptop", "class: lapto_"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns and path.stat().st_ino == st.st_ino
    again = validate(reg)
    assert not again.cached and [p.rule for p in again.problems] == ["schema.enum"]
