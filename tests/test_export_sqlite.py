"""The SQLite export answers an asset manager's questions in SQL, with the report models' exact figures."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from support import make_register

DAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[sqlite3.Connection, object]:
    from bir.point.point import at_worktree
    from bir.reports import evaluate
    from bir.write.sqlitedb import write_sqlite

    root = make_register(tmp_path_factory.mktemp("demo") / "reg", demo=True)
    evaluation = evaluate(at_worktree(root, DAY))
    write_sqlite(evaluation, root / "register.sqlite")
    return sqlite3.connect(root / "register.sqlite"), evaluation


def cents(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def test_book_value_by_cost_centre_in_the_base_currency(demo: tuple[sqlite3.Connection, object]) -> None:
    con, evaluation = demo
    rows = con.execute("""
        SELECT r.financial_cost_centre, ROUND(SUM(b.book_value_base), 2)
        FROM book_values b JOIN records r ON r.id = b.record
        WHERE r.financial_cost_centre IS NOT NULL
        GROUP BY r.financial_cost_centre ORDER BY r.financial_cost_centre""").fetchall()
    cost = evaluation.report("cost")  # type: ignore[attr-defined]
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for line in cost.depreciation:
        centre = evaluation.register.records[line.record].get("financial.cost_centre")  # type: ignore[attr-defined]
        if centre:
            expected[centre] += line.book_value_base
    assert {k: cents(v) for k, v in rows} == dict(expected)
    assert len(rows) >= 3 and sum(expected.values()) > 0
    # several currencies go into it, each converted at its configured rate
    assert con.execute("SELECT COUNT(DISTINCT currency) FROM book_values").fetchone()[0] >= 2
    usd = con.execute("SELECT rate FROM exchange_rates WHERE currency = 'USD'").fetchone()
    assert usd == (0.92,) and con.execute("SELECT rate FROM exchange_rates WHERE currency = 'EUR'").fetchone() == (1.0,)


def test_laptops_out_of_warranty(demo: tuple[sqlite3.Connection, object]) -> None:
    con, evaluation = demo
    got = [r[0] for r in con.execute("""
        SELECT id FROM hardware
        WHERE class = 'laptop' AND status IN ('in_use', 'in_maintenance')
          AND warranty_end < (SELECT value FROM export_info WHERE key = 'as_of')
        ORDER BY id""")]
    register = evaluation.register  # type: ignore[attr-defined]
    expected = sorted(r.id for r in register.of_kind("hardware") if r.data.get("class") == "laptop" and register.in_service(r)
                      and r.date("warranty_end") is not None and r.date("warranty_end") < DAY)
    assert got == expected and len(got) > 0


def test_single_points_of_failure_per_service_equal_the_models(demo: tuple[sqlite3.Connection, object]) -> None:
    con, evaluation = demo
    got: dict[str, list[str]] = {}
    for service, component in con.execute("SELECT service, component FROM service_components "
                                           "WHERE single_point_of_failure = 1 ORDER BY service, component"):
        got.setdefault(service, []).append(component)
    services = evaluation.figures().services  # type: ignore[attr-defined]
    expected = {sid: list(sf.single_points_of_failure) for sid, sf in services.items() if sf.single_points_of_failure}
    assert got == expected and len(got) > 0


def test_services_on_end_of_life_software(demo: tuple[sqlite3.Connection, object]) -> None:
    con, evaluation = demo
    got = [r[0] for r in con.execute("""
        SELECT DISTINCT sc.service
        FROM service_components sc
        JOIN software s ON s.id = sc.component
        JOIN life_dates l ON l.record = s.id
        WHERE s.status = 'active' AND l.end_of_life <= (SELECT value FROM export_info WHERE key = 'as_of')
        ORDER BY sc.service""")]
    risk = evaluation.report("risk")  # type: ignore[attr-defined]
    expected = sorted({s for f in [*risk.findings, *risk.waived] if f.rule == "software.end_of_life" for s in f.services})
    assert got == expected and len(got) > 0
    # the risk findings carry the same answer
    via_findings = [r[0] for r in con.execute("""
        SELECT DISTINCT fs.service FROM risk_findings f JOIN risk_finding_services fs ON fs.finding = f.rowid
        WHERE f.rule = 'software.end_of_life' ORDER BY 1""")]
    assert via_findings == expected


def test_figures_equal_the_report_models(demo: tuple[sqlite3.Connection, object]) -> None:
    from bir.reports.context import annual_run_cost

    con, evaluation = demo
    cost = evaluation.report("cost")  # type: ignore[attr-defined]
    register = evaluation.register  # type: ignore[attr-defined]
    by_kind = {key: annual for by, key, annual in con.execute("SELECT by, key, annual FROM run_costs") if by == "kind"}
    assert {k: cents(v) for k, v in by_kind.items()} == {line.key: line.annual for line in cost.run if line.by == "kind"}
    total = con.execute("SELECT ROUND(SUM(annual_base), 2) FROM record_run_costs").fetchone()[0]
    assert cents(total) == sum((annual_run_cost(r, register.config, DAY) for r in register), Decimal(0))
    assert cents(total) == sum((line.annual for line in cost.run if line.by == "kind"), Decimal(0))
    per_record = evaluation.figures().records  # type: ignore[attr-defined]
    assert {rid: cents(v) for rid, v in con.execute("SELECT record, annual_base FROM record_run_costs")} == {
        rid: f.annual_run_cost for rid, f in per_record.items() if register.records[rid].kind not in ("party", "waiver")}
    tco = dict(con.execute("SELECT record, total FROM tco").fetchall())
    assert {k: cents(v) for k, v in tco.items()} == {t.record: t.total for t in cost.tco}
    assert con.execute("SELECT COUNT(*) FROM risk_findings").fetchone()[0] == len(evaluation.report("risk").findings) + len(
        evaluation.report("risk").waived)  # type: ignore[attr-defined]
    events = con.execute("SELECT COUNT(*), COUNT(DISTINCT category) FROM lifecycle_events").fetchone()
    assert events == (len(evaluation.report("lifecycle").events), 2)  # type: ignore[attr-defined]
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    # money in its own currency and in the base currency, row by row
    for rid, cost_own, cur, base in con.execute(
            "SELECT id, financial_purchase_cost, financial_purchase_cost_currency, financial_purchase_cost_base FROM hardware "
            "WHERE financial_purchase_cost IS NOT NULL"):
        rec = register.records[rid]
        assert cur == (rec.get("financial.currency") or "EUR")
        assert cents(base) == evaluation.context.purchase_base(rec)  # type: ignore[attr-defined]
        assert cost_own == rec.get("financial.purchase_cost")


def test_indexes(demo: tuple[sqlite3.Connection, object]) -> None:
    con, _ = demo
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"relations_source_type", "relations_target_type", "records_kind", "hardware_status", "hardware_owner",
            "hardware_class", "book_values_record", "service_components_component"} <= indexes
    plan = " ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN SELECT * FROM relations WHERE target = 'svc-x'"))
    assert "USING INDEX relations_target_type" in plan


def test_site_downloads_equal_the_export(tmp_path: Path) -> None:
    """The site's downloads are byte for byte what `bir export` writes: the database and its metadata too."""
    from bir.point.point import at_worktree
    from bir.reports import evaluate
    from bir.site.downloads import write_downloads
    from bir.write import exporters

    root = make_register(tmp_path / "reg", demo=True)
    evaluation = evaluate(at_worktree(root, DAY))
    site = tmp_path / "site"
    listed = write_downloads(evaluation, site)
    meta = exporters.write_sqlite(evaluation, tmp_path / "export" / "register.sqlite")
    assert (site / "register.sqlite").read_bytes() == meta.with_name("register.sqlite").read_bytes()
    assert (site / "register.metadata.json").read_bytes() == meta.read_bytes()
    assert (site / "register.json").read_text(encoding="utf-8") == exporters.to_json(evaluation.register)
    assert {name for name, _, _ in listed} >= {"register.json", "register.sqlite", "register.metadata.json", "hardware.csv"}


@pytest.mark.parametrize("value", [
    [], ["a"], ["a", "b c"], ("t", "u"), ["é", "日本", "\u2028", "\x7f"], ['quo"te'], ["back\\slash"], ["line\nbreak"],
    ["tab\t"], ["\x00", "\x1f"], ["\ud800"], [1, "a"], ["a", None], [True], [{"b": 1, "a": 2}], [["x"]], {"b": [1], "a": "é"},
])
@pytest.mark.parametrize("sort_keys", [True, False])
def test_json_cells_are_the_encoder_s_text(value: object, sort_keys: bool) -> None:
    """A list or object cell is json.dumps' text, also where it is written without the encoder."""
    from bir.write.sqlitedb import _json_text

    assert _json_text(value, sort_keys) == json.dumps(value, ensure_ascii=False, sort_keys=sort_keys)


def test_a_database_whose_figures_fail_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site writes the record tables while the reports are computed and adds the figures later: if the
    second step fails, neither a half database nor its temporary file is left, and an earlier file stays."""
    from bir.point.point import at_worktree
    from bir.reports import evaluate
    from bir.write import sqlitedb

    root = make_register(tmp_path / "reg", demo=True)
    evaluation = evaluate(at_worktree(root, DAY))
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "register.sqlite").write_bytes(b"the earlier database")
    part = sqlitedb.begin_sqlite(evaluation.register, evaluation.point, folder / "register.sqlite")
    assert part.tmp.parent == folder and part.tmp.is_file()
    assert {r[0] for r in sqlite3.connect(part.tmp).execute("select name from sqlite_master where type='table'")} >= {
        "records", "relations", "hardware"}

    def broken(con: sqlite3.Connection, evaluation: object) -> None:
        raise RuntimeError("killed while adding the figures")

    monkeypatch.setattr(sqlitedb, "fill_figures", broken)
    with pytest.raises(RuntimeError):
        sqlitedb.finish_sqlite(evaluation, part)
    assert sorted(p.name for p in folder.iterdir()) == ["register.sqlite"]
    assert (folder / "register.sqlite").read_bytes() == b"the earlier database"
