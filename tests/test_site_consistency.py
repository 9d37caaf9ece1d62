"""One truth: every figure the demo site shows equals the report models' figure for the same thing.

The built pages carry their figures as `data-figure` / `data-value` attributes and their lists as
`data-record` rows; each is compared with `bir.reports.evaluate` over the same point: record, party and
location pages, service pages (amounts, component sets, single points of failure), the services index with
its reconciliation (shares + cost outside any service = the register's annual run cost), the dashboard, the
kind pages and every report table, cell by cell.
"""

from __future__ import annotations

import html.parser
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bir.base.model import ADMINISTRATIVE_KINDS
from bir.point.point import open_point
from bir.reports import Evaluation, evaluate
from bir.reports.figures import Figures
from bir.site.docs import REPORT_PAGES, REPORT_ROWS
from bir.site.pages import file_id, line_rows
from bir.site.render import KIND_PAGE_ROWS


class _Page(html.parser.HTMLParser):
    """The figures, record rows and tables of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.rows: dict[str, list[str]] = defaultdict(list)  # container id -> data-record values
        self.tables: dict[str, list[list[str]]] = {}  # table id -> rows of data-sort values
        self._ids: list[str] = []
        self._table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "data-figure" in a:
            self.figures[a["data-figure"]] = a.get("data-value", "")
        if tag in ("table", "ul"):
            self._ids.append(a.get("id", ""))
            if tag == "table" and a.get("id"):
                self._table = a["id"]
                self.tables[self._table] = []
        if "data-record" in a and self._ids:
            self.rows[self._ids[-1]].append(a["data-record"])
        if tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        if tag == "td" and self._table is not None and self.tables[self._table]:
            self.tables[self._table][-1].append(a.get("data-sort", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("table", "ul") and self._ids:
            if tag == "table" and self._ids[-1] == self._table:
                self._table = None
            self._ids.pop()


def page(out: Path, rel: str) -> _Page:
    parser = _Page()
    parser.feed((out / rel).read_text(encoding="utf-8"))
    for rows in parser.tables.values():
        while rows and not rows[0]:
            rows.pop(0)  # the header row has no cells
    return parser


def shown(value: Any) -> str:
    """How the site writes a value into data-value."""
    if value is None:
        return ""
    if isinstance(value, (tuple, list)):
        return " ".join(str(v) for v in value)
    return str(value)


@pytest.fixture(scope="module")
def site(demo_site: tuple[Path, Path]) -> tuple[Path, Path, Evaluation, Figures]:
    root, out = demo_site
    evaluation = evaluate(open_point(root))
    return root, out, evaluation, evaluation.figures()


def test_every_record_page_shows_the_models_figures(site: tuple[Path, Path, Evaluation, Figures]) -> None:
    _root, out, evaluation, figures = site
    checked = empty_admin = 0
    for rid, f in figures.records.items():
        p = page(out, f"records/{file_id(rid)}.html")
        kind = evaluation.register.records[rid].kind
        if kind in ADMINISTRATIVE_KINDS and "book_value" not in p.figures:  # nothing computed: no section
            assert (f.book_value, f.annual_run_cost, f.end_of_support, f.services, f.findings, f.licence) == (
                None, 0, None, (), (), None), rid
            empty_admin += 1
            checked += 1
            continue
        assert p.figures["book_value"] == shown(f.book_value), rid
        assert p.figures["annual_run_cost"] == shown(f.annual_run_cost), rid
        assert p.figures.get("purchase_cost", "") == shown(f.purchase_cost), rid
        assert p.figures.get("tco", "") == shown(f.tco), rid
        assert p.figures["end_of_support"] == shown(f.end_of_support), rid
        assert p.figures.get("services", "") == shown(f.services), rid
        assert p.figures.get("single_point_of_failure_for", "") == shown(f.single_point_of_failure_for), rid
        assert p.figures.get("findings", "0") == str(len(f.findings)), rid
        if f.licence is not None:
            assert p.figures["licence_consumption"] == str(f.licence.consumption), rid
        checked += 1
    assert checked == len(evaluation.register) == 572
    assert empty_admin == 221  # of 222 parties, waivers, audits and budgets: one budget has a finding


def test_party_and_location_pages_show_the_models_figures(site: tuple[Path, Path, Evaluation, Figures]) -> None:
    """Every party's page has its figures and tables of exactly the records it owns, pays for and holds, each
    row with that record's run cost and book value; every location's the records located in it."""
    _root, out, _evaluation, figures = site
    tables = 0
    for pid, pf in figures.parties.items():
        p = page(out, f"records/{file_id(pid)}.html")
        assert p.figures["owns"] == str(len(pf.owns)), pid
        assert p.figures["annual_run_cost_owned"] == shown(pf.annual_run_cost_owned), pid
        assert (p.figures["pays_for"], p.figures["annual_run_cost_paid"], p.figures["book_value_paid"]) == (
            str(len(pf.pays_for)), shown(pf.annual_run_cost_paid), shown(pf.book_value_paid)), pid
        for ident, ids in (("bir-owns", pf.owns), ("bir-pays-for", pf.pays_for), ("bir-holds", pf.holds), ("bir-members", pf.members)):
            assert p.rows.get(ident, []) == list(ids), (pid, ident)
            if ident in p.tables:
                tables += 1
                for rid, cells in zip(ids, p.tables[ident], strict=True):
                    f = figures.records[rid]
                    assert cells[4:6] == [str(f.annual_run_cost), shown(f.book_value)], (pid, rid)
    assert len(figures.parties["team-platform"].owns) == 77
    assert page(out, "records/team-platform.html").rows["bir-owns"] == list(figures.parties["team-platform"].owns)
    assert tables > 20
    for lid, lf in figures.locations.items():
        p = page(out, f"records/{file_id(lid)}.html")
        assert (p.figures["location_holds"], p.figures["location_book_value"]) == (str(len(lf.holds)), shown(lf.book_value))
        assert p.rows.get("bir-location-holds", []) == list(lf.holds), lid


def test_party_cost_centre_and_location_lists(site: tuple[Path, Path, Evaluation, Figures]) -> None:
    _root, out, evaluation, figures = site
    parties = {r[0]: r for r in page(out, "parties/index.html").tables["bir-parties"]}
    assert sorted(parties) == sorted(figures.parties) and len(parties) == len(evaluation.register.of_kind("party"))
    for pid, pf in figures.parties.items():
        assert parties[pid][3:9] == [str(len(pf.owns)), str(pf.annual_run_cost_owned), str(len(pf.holds)), str(len(pf.pays_for)),
                                     str(pf.annual_run_cost_paid), str(pf.book_value_paid)], pid
    centres = {r[0] for r in page(out, "cost-centres/index.html").tables["bir-cost-centres"]}
    assert centres == {pid for pid, pf in figures.parties.items()
                       if pf.pays_for or evaluation.register.records[pid].data.get("party_type") == "cost_centre"}
    assert sum(Decimal(parties[c][7]) for c in centres) > 0
    places = {r[0]: r for r in page(out, "locations/index.html").tables["bir-locations"]}
    assert sorted(places) == sorted(figures.locations)
    for lid, lf in figures.locations.items():
        assert places[lid][3:6] == [str(len(lf.holds)), str(len(lf.places)), str(lf.book_value)], lid


def test_charts_show_the_chart_figures(site: tuple[Path, Path, Evaluation, Figures]) -> None:
    """Each chart's data table equals its figure in the models, and the figures agree with the report lines."""
    from bir.reports.figures import (
        book_value_by_class,
        capital_by_year,
        forecast_by_category,
        licence_use,
        risk_by_service,
        support_ends_by_quarter,
    )

    _root, out, evaluation, figures = site
    ctx, cost = evaluation.context, evaluation.report("cost")
    expected = {
        ("reports/lifecycle.html", "chart-support-data"): support_ends_by_quarter(ctx, figures),
        ("reports/cost.html", "chart-forecast-data"): forecast_by_category(cost),  # type: ignore[arg-type]
        ("reports/cost.html", "chart-capital-data"): capital_by_year(cost),  # type: ignore[arg-type]
        ("reports/cost.html", "chart-book-data"): book_value_by_class(ctx, cost),  # type: ignore[arg-type]
        ("reports/risk.html", "chart-risk-data"): risk_by_service(figures),
        ("reports/licences.html", "chart-licences-data"): licence_use(evaluation.report("licences")),  # type: ignore[arg-type]
        ("index.html", "chart-support-data"): support_ends_by_quarter(ctx, figures),
    }
    for (rel, ident), tallies in expected.items():
        rows = page(out, rel).tables[ident]
        assert len(rows) == len(tallies) > 0, ident
        for cells, t in zip(rows, tallies, strict=True):
            assert cells[1 : 1 + len(t.values)] == [str(v) for _, v in t.values], (ident, t.key)
    # the figures add up to the models' totals
    forecast = forecast_by_category(cost)  # type: ignore[arg-type]
    assert [t.total for t in forecast] == [cost.forecast_totals["next_12_months"], cost.forecast_totals["next_36_months"]]  # type: ignore[attr-defined]
    assert sum(t.total for t in book_value_by_class(ctx, cost)) == cost.totals["book_value"]  # type: ignore[arg-type,attr-defined]
    in_service_eos = sum(1 for rid, f in figures.records.items() if (f.end_of_support or f.end_of_life)
                         and ctx.in_service(evaluation.register.records[rid]))
    assert 0 < sum(t.total for t in support_ends_by_quarter(ctx, figures)) <= in_service_eos
    for t in risk_by_service(figures):
        assert t.total == len(figures.services[t.key].findings), t.key


@pytest.mark.parametrize("limit", [1, 3, 15, 10_000])
def test_risk_by_service_ranks_every_service_as_the_plain_sort(site: tuple[Path, Path, Evaluation, Figures], limit: int) -> None:
    """The chart ranks services before it counts their findings: the same services, in the same order (risk
    score, then id), with the same counts as sorting them all, counted, and keeping the first `limit`."""
    from collections import Counter

    from bir.reports.figures import SEVERITY_ORDER, risk_by_service

    figures = site[3]
    ranked = sorted((-(sf.risk_score or 0), sid) for sid, sf in figures.services.items() if sf.findings)
    assert len(ranked) > 3 and len({score for score, _ in ranked}) < len(ranked)  # ties, broken by id
    plain = [(sid, [Decimal(Counter(f.severity for f in figures.services[sid].findings).get(s, 0)) for s in SEVERITY_ORDER],
              sorted({f.record for f in figures.services[sid].findings})) for _, sid in ranked[:limit]]
    assert [(t.key, [v for _, v in t.values], list(t.records)) for t in risk_by_service(figures, limit)] == plain


def test_service_pages_show_the_models_figures_and_component_sets(site: tuple[Path, Path, Evaluation, Figures]) -> None:
    _root, out, evaluation, figures = site
    cost = evaluation.report("cost")
    split = {line.key: line.annual for line in cost.run if line.by == "service"}  # type: ignore[attr-defined]
    spof = {f.record: f.records for f in evaluation.report("risk").findings  # type: ignore[attr-defined]
            if f.rule == "service.single_point_of_failure"}
    for sid, sf in figures.services.items():
        p = page(out, f"services/{file_id(sid)}.html")
        assert p.rows["bir-components"] == list(sf.components), sid
        assert p.rows.get("bir-spof", []) == list(sf.single_points_of_failure), sid
        assert p.figures["components"] == str(len(sf.components))
        assert p.figures["annual_run_cost"] == shown(sf.annual_run_cost) == shown(split.get(sid, Decimal("0.00"))), sid
        assert p.figures["annual_run_cost_full"] == shown(sf.annual_run_cost_full), sid
        assert p.figures["tco"] == shown(sf.tco), sid
        assert p.figures["book_value_full"] == shown(sf.book_value_full), sid
        assert p.figures["risks"] == str(len(sf.findings)), sid
        assert p.figures["single_points_of_failure"] == str(len(sf.single_points_of_failure)), sid
        if sid in spof:  # the risk report names the same single points of failure (and the service itself)
            assert set(spof[sid]) - {sid} == set(sf.single_points_of_failure), sid
    # the full figure of a component is its own run cost, whichever services it serves
    tms = figures.services["svc-tms"]
    assert tms.annual_run_cost_full == sum((figures.records[c].annual_run_cost for c in tms.components), Decimal(0))


def test_services_index_reconciles_with_the_register_total(site: tuple[Path, Path, Evaluation, Figures]) -> None:
    _root, out, evaluation, figures = site
    p = page(out, "services/index.html")
    rows = p.tables["bir-services"]
    assert len(rows) == len(figures.services)
    by_id = {r[0]: r for r in rows}
    for sid, sf in figures.services.items():
        assert by_id[sid][5] == shown(sf.annual_run_cost) and by_id[sid][6] == shown(sf.annual_run_cost_full), sid
    shares, outside, total = (Decimal(p.figures[k]) for k in ("services_share_total", "no_service", "annual_run_cost"))
    assert shares + outside == total == evaluation.report("cost").totals["annual_run_cost"]  # type: ignore[attr-defined]
    assert shares == sum((Decimal(r[5]) for r in rows), Decimal(0))


def test_dashboard_shows_the_summary(site: tuple[Path, Path, Evaluation, Figures]) -> None:
    _root, out, evaluation, figures = site
    p = page(out, "index.html")
    summary = figures.summary
    assert p.figures["records"] == str(summary.records) == str(len(evaluation.register))
    assert p.figures["components in service"] == str(summary.in_service)
    assert summary.in_service == sum(1 for r in evaluation.register if r.kind not in ("party", "waiver", "audit", "budget")
                                     and evaluation.context.in_service(r))
    assert p.figures["annual run cost"] == shown(summary.annual_run_cost)
    assert p.figures["book value"] == shown(summary.book_value)
    assert p.figures["deadlines in 90 days"] == str(summary.deadlines_due)
    assert p.figures["reminders in 90 days"] == str(summary.reminders_due)
    events = evaluation.report("lifecycle").events  # type: ignore[attr-defined]
    assert summary.deadlines_due == sum(1 for e in events if e.days <= 90 and e.category == "deadline")
    assert not any(e.event == "verification_due" and e.category == "deadline" for e in events)


def test_kind_pages_list_every_record_of_their_kind(site: tuple[Path, Path, Evaluation, Figures]) -> None:
    _root, out, evaluation, _figures = site
    for kind, n in evaluation.figures().summary.by_kind.items():
        text = (out / "kinds" / f"{kind}.html").read_text(encoding="utf-8")
        rows = re.findall(r'<tr><td class="bir-id"><a href="\.\./(?:records|services)/', text)
        assert len(rows) == min(n, KIND_PAGE_ROWS), kind


def test_every_report_table_equals_its_model_cell_by_cell(site: tuple[Path, Path, Evaluation, Figures]) -> None:
    _root, out, evaluation, _figures = site
    compared = 0
    for name, _title in REPORT_PAGES:
        p = page(out, f"reports/{name}.html")
        for section in evaluation.report(name).sections():
            columns, rows, _rule = line_rows(section.lines[:REPORT_ROWS])
            if not rows:
                continue
            table = p.tables[f"report-{name}-{section.name}"]
            assert len(table) == len(rows), (name, section.name)
            for cells, row in zip(table, rows, strict=True):
                for cell, column in zip(cells, columns, strict=True):
                    value = row[column]
                    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
                        assert cell == str(value), (name, section.name, column)
                        compared += 1
    assert compared > 2000


def test_report_tables_leave_out_columns_that_repeat_the_row(site: tuple[Path, Path, Evaluation, Figures]) -> None:
    """A per-record table has no `records` column (it would repeat `record`), and a table whose lines share one
    rule names it once above the table instead of in every row; a table whose lines differ keeps both."""
    _root, out, evaluation, _figures = site
    html = (out / "reports" / "cost.html").read_text(encoding="utf-8")
    marker = 'id="report-cost-depreciation">'
    depreciation = html[html.index(marker) + len(marker):]
    header = re.sub(r"<[^>]+>", "|", depreciation[:depreciation.index("</thead>")])
    assert [h for h in header.split("|") if h.strip()] == [
        "record", "method", "currency", "cost", "residual", "life months", "start", "accumulated", "book value",
        "book value base", "fully depreciated on", "convention"]
    assert html.count("Every line by the rule <code>") == 8
    assert "Every line by the rule <code>cost.depreciation</code>" in html
    columns, _rows, rule = line_rows(evaluation.report("cost").sections()[1].lines)
    assert ("records" not in columns, "rule" not in columns, rule) == (True, True, "cost.depreciation")
    risk = evaluation.report("risk")
    columns, _rows, rule = line_rows(next(s for s in risk.sections() if s.name == "findings").lines)
    assert rule is None and columns[-2:] == ["records", "rule"]


def _cells(*values: Any) -> list[str]:
    return ["" if v is None else str(v) for v in values]


def test_holder_cost_centre_maintenance_and_vulnerability_tables(site: tuple[Path, Path, Evaluation, Figures]) -> None:
    """A person's page lists what they hold and held, a cost centre's its budgets, a record its maintenance plans
    and the advisories affecting it: each row the report models' line, cell by cell."""
    _root, out, evaluation, _figures = site
    from bir.reports.opsmodels import AssignmentReport, BudgetReport, MaintenanceReport, VulnerabilityReport

    assignments, budget = evaluation.report("assignments"), evaluation.report("budget")
    maintenance, vulns = evaluation.report("maintenance"), evaluation.report("vulnerabilities")
    assert isinstance(assignments, AssignmentReport) and isinstance(budget, BudgetReport)
    assert isinstance(maintenance, MaintenanceReport) and isinstance(vulns, VulnerabilityReport)
    held: dict[str, list[list[str]]] = defaultdict(list)
    for p in assignments.periods:
        row = _cells(p.record, p.holder, p.start, p.end, p.days, p.commit)
        held[p.holder].append(row)
        held[p.record].append(row)
    for rid, rows in held.items():
        assert page(out, f"records/{file_id(rid)}.html").tables["bir-held"] == rows, rid
    assert len(held["pieter-bakker"]) == 1 and held["pieter-bakker"][0][:2] == ["lt-0057", "pieter-bakker"]
    centres: dict[str, list[list[str]]] = defaultdict(list)
    for b in (*budget.budgets, *budget.unbudgeted):
        centres[b.cost_centre].append(_cells(b.year, b.budget, b.status, b.capital_budget, b.capital_actual, b.capital_forecast,
                                             b.operating_budget, b.operating_actual, b.operating_forecast, b.total_budget,
                                             b.total_forecast, b.variance, b.position))
    for centre, rows in centres.items():
        assert page(out, f"records/{file_id(centre)}.html").tables["bir-budgets"] == rows, centre
    assert centres["cc-it-workplace"][0][-2:] == ["9430.00", "over"]
    plans: dict[str, list[list[str]]] = defaultdict(list)
    for m in maintenance.plans:
        plans[m.record].append(_cells(m.type, m.interval_months, m.source, m.last_done, m.last_result, m.next_due, m.state))
    for rid, rows in plans.items():
        assert page(out, f"records/{file_id(rid)}.html").tables["bir-maintenance"] == rows, rid
    affected: dict[str, list[list[str]]] = defaultdict(list)
    for v in (*vulns.matches, *vulns.waived):
        for rid in (v.record, *v.hosts):
            affected[rid].append(_cells(v.advisory, ", ".join(v.aliases), v.severity, v.score, v.record, v.version, v.fixed,
                                        v.waived_by, v.summary))
    for rid, rows in affected.items():
        assert page(out, f"records/{file_id(rid)}.html").tables["bir-vulnerabilities"] == rows, rid
    assert sorted(affected) == ["srv-bi-01", "srv-track-01", "srv-track-02", "sw-log4j-core-2-14-1", "sw-py-jinja2-3-1-2",
                                "sw-py-requests-2-31-0"]
