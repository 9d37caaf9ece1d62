"""Property-based fuzzing (hypothesis): the strict loader, the validation of one file, the configuration loader
and the CSV import take any input and answer with problems (or a usage error), never with an exception.

In the suite each property runs a bounded number of examples with a fixed seed (`derandomize`), a few
seconds each. A longer campaign draws fresh examples and many more of them:

    BIR_FUZZ_EXAMPLES=200000 BIR_FUZZ_RANDOM=1 .venv/bin/python -m pytest -q tests/test_fuzz.py -p no:cacheprovider

(`BIR_FUZZ_EXAMPLES` scales every property; `BIR_FUZZ_RANDOM=1` drops the fixed seed). A failure prints the
smallest input that shows it; add that input to the cases below so it stays fixed.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bir.base.problems import Problem, UsageError
from bir.base.rules import CATALOG
from bir.check.checker import check_file
from bir.check.ruleset import RuleSet
from bir.read.yamlstrict import parse
from support import make_register

SCALE = int(os.environ.get("BIR_FUZZ_EXAMPLES", "0"))
FIXED = not os.environ.get("BIR_FUZZ_RANDOM")


def budget(examples: int) -> settings:
    return settings(max_examples=SCALE or examples, deadline=None, derandomize=FIXED, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.filter_too_much, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_register(tmp_path_factory.mktemp("fuzz") / "reg", scaffold=True)


@pytest.fixture(scope="module")
def rules(reg: Path) -> RuleSet:
    from bir.point.point import at_worktree

    point = at_worktree(reg, dt.date(2026, 1, 15))
    return point.rules


def well_formed(problems: list[Problem]) -> None:
    for p in problems:
        assert p.rule in CATALOG and p.message and p.line >= 0 and p.column >= 0, p
        assert len(p.message) <= 1000 and len(p.hint) <= 1000


# YAML-ish text: the characters and tokens that steer a YAML parser, escapes and deceptive characters included.
TOKENS = st.sampled_from([
    "\n", "  ", "- ", ": ", "id", "kind", "hardware", "name", "owner", "team-it", "status", "in_use", "status_dates",
    "{", "}", "[", "]", ",", "&a", "*a", "!tag", "!!python/object", "<<", "? ", "---", "...", "|", ">", "#", '"', "'",
    "\\x1b", "\\0", "\\u202e", "\\e", "\\N", "\t", "\r", "\x00", "\x1b", "\x85", "\u202e", "\u200b", "\ufeff", "::error::x",
    "1e999", "9" * 4400, "0x1F", "0o17", "1_000", ".inf", "-.NaN", "yes", "no", "~", "null", "2023-02-30", "10000-01-01",
    "%YAML 1.2", "%TAG ! tag:x,2000:", "é", "\udcff", "\U0001f600",
])
YAMLISH = st.lists(TOKENS | st.text(max_size=5), max_size=60).map("".join)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@budget(2000)
@given(st.one_of(st.binary(max_size=300), YAMLISH.map(_encode)))
def test_strict_loader_never_raises(data: bytes) -> None:
    parsed = parse(data, "registry/hardware/x.yaml")
    well_formed(parsed.problems)
    assert parsed.value is None or parsed.problems or isinstance(parsed.value, (dict, list, str, int, float, bool))


VALID = ('id: hw-1\nkind: hardware\nname: Example laptop\nowner: team-it\nstatus: in_use\n'
         'status_dates: {in_stock: "2024-02-01", in_use: "2024-02-05"}\nclass: laptop\n'
         'financial: {purchase_date: "2024-01-25", purchase_cost: 1200.00, currency: EUR}\n'
         'relations:\n  - {type: supports, target: svc-workplace}\n')


@st.composite
def mutated_records(draw: st.DrawFn) -> bytes:
    """A valid record with a few random edits: inserted tokens, deleted spans, replaced values."""
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert":
            text = text[:at] + draw(TOKENS | st.text(max_size=4)) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)):]
        else:
            text = text[:at] + draw(TOKENS) + text[at + draw(st.integers(1, 6)):]
    return _encode(text)


@budget(1000)
@given(mutated_records())
def test_validation_of_a_file_never_raises(rules: RuleSet, data: bytes) -> None:
    result = check_file("registry/hardware/hw-1.yaml", "hardware", data, rules, want_data=True)
    well_formed(result.problems)
    if result.data is not None:
        assert isinstance(result.data, dict)


CONFIG = (Path(__file__).resolve().parent.parent / "bir.yaml").read_text(encoding="utf-8")


@st.composite
def mutated_configs(draw: st.DrawFn) -> bytes:
    text = CONFIG
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(TOKENS | st.text(max_size=4)) + text[at + draw(st.integers(0, 8)):]
    return _encode(text)


@budget(600)
@given(mutated_configs())
def test_config_loader_raises_only_usage_errors(rules: RuleSet, data: bytes) -> None:
    from bir.read.config import ConfigError, load_config

    try:
        load_config(data, rules.schemas)
    except ConfigError as exc:
        well_formed(exc.problems)


CELLS = st.sampled_from(["IT-0100", "Laptops", "Deployed", "2025-03-01", "32/13/2020", "1,299.00", "-5", "10.005", "1e999",
                         "9" * 5000, "Example Supplier Ltd", "Nobody", "Main office", "36", "x" * 300, '"', '""', ",", "\n",
                         "\r\n", "\x00", "\x1b[2K", "\u202e", "::error::x", "team-it", "", " "]) | st.text(max_size=8)
HEADERS = st.lists(st.sampled_from(["Asset Tag", "Name", "Serial", "Category", "Status", "Purchase Date", "Purchase Cost",
                                    "Supplier", "Location", "Warranty Months", "Notes", "Checked Out To", "Bogus"]),
                   min_size=1, max_size=6)


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    header = draw(HEADERS)
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(header) + 1), max_size=4))

    def quote(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if draw(st.booleans()) else cell

    return "\n".join(",".join(quote(c) for c in row) for row in [header, *rows]) + draw(st.sampled_from(["", "\n", '"']))


@budget(250)
@given(csv_texts())
@example("Purchase Cost,Asset Tag,Name\n" + "9" * 5000 + ",IT-0100,IT-0100")  # found by a campaign: Decimal overflow
@example("Asset Tag,Status\nIT-0100," + "9" * 5000)  # found by a campaign: a 5,000-character reason
@example("Asset Tag,Warranty Months,Purchase Date\nIT-0100," + "9" * 5000 + ",2025-01-01")  # found by a campaign
@example("Asset Tag,Warranty Months,Purchase Date\nIT-0100,36,9999-06-01")
def test_csv_import_rejects_rows_or_refuses_never_raises(reg: Path, tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    from bir.write.importers import import_csv

    path = tmp_path_factory.getbasetemp() / "fuzz.csv"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    try:
        result = import_csv(reg, path, "hardware", owner="team-it", dry_run=True, today=dt.date(2026, 1, 15))
    except UsageError:
        return
    assert result.written == []
    for r in result.rejected:
        assert r.row >= 1 and r.reason and len(r.reason) <= 1000
