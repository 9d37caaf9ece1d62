"""Maintenance (plans, log, due dates, TCO, the overdue rule) and budgets (actuals, forecast, variance)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from bir.reports import build_report
from bir.reports.models import CostReport, LifecycleReport, RiskReport
from bir.reports.opsmodels import BudgetReport, MaintenanceReport
from support import hardware, loaded_register

AS_OF = dt.date(2026, 11, 28)


def _ups(**extra: Any) -> dict[str, Any]:
    return hardware("ups-1", **{"class": "other", "status_dates": {"in_use": "2023-01-15"},
                                "financial": {"purchase_date": "2023-01-10", "purchase_cost": 2000, "cost_centre": "cc-1",
                                              "depreciation": {"method": "none"}},
                                "maintenance_plans": [{"type": "battery", "interval_months": 36},
                                                      {"type": "inspection", "interval_months": 12},
                                                      {"type": "pat_test", "interval_months": 24, "first_due": "2027-02-01"}],
                                "maintenance_log": [
                                    {"date": "2023-12-01", "type": "inspection", "result": "pass", "cost": 200, "by": "team-it"},
                                    {"date": "2025-11-20", "type": "inspection", "result": "fail", "cost": 150.5, "currency": "USD"},
                                    {"date": "2026-02-01", "type": "battery", "result": "done", "cost": 900},
                                    {"date": "2027-01-10", "type": "inspection", "result": "pass", "cost": 999}], **extra})


def _records() -> list[dict[str, Any]]:
    cc = {"id": "cc-1", "kind": "party", "name": "CC 1", "owner": "team-it", "status": "active", "party_type": "cost_centre"}
    ctr = {"id": "ctr-print", "kind": "contract", "name": "Print", "owner": "team-it", "status": "active",
           "status_dates": {"active": "2024-01-01"}, "contract_type": "support", "start": "2024-01-01", "end": "2028-12-31",
           "maintenance_plans": [{"type": "inspection", "interval_months": 6}],
           "financial": {"cost_centre": "cc-1", "recurring_costs": [
               {"description": "service", "amount": 100, "period": "monthly", "start": "2024-01-01", "end": "2028-12-31"}]}}
    prn = hardware("prn-1", **{"class": "printer", "status_dates": {"in_use": "2024-02-01"},
                               "relations": [{"type": "covered_by", "target": "ctr-print"}],
                               "maintenance_log": [{"date": "2026-09-01", "type": "inspection", "result": "pass"}]})
    new = hardware("srv-new", status="ordered", status_dates={"ordered": "2026-10-01"},
                   financial={"order_date": "2026-10-01", "purchase_date": "2026-12-15", "purchase_cost": 5000,
                              "cost_centre": "cc-1"})
    bud = {"id": "bud-cc-1-2026", "kind": "budget", "name": "B", "owner": "team-it", "status": "approved",
           "status_dates": {"approved": "2025-12-01"}, "approved_by": "team-it", "cost_centre": "cc-1", "year": 2026,
           "capital": 4000, "operating": 1000, "currency": "EUR"}
    bud27 = {"id": "bud-cc-1-2027", "kind": "budget", "name": "B27", "owner": "team-it", "status": "draft",
             "cost_centre": "cc-1", "year": 2027, "operating": 1500}
    return [cc, ctr, prn, _ups(), new, bud, bud27]


def test_maintenance_plans_costs_events_and_risk(tmp_path: Path) -> None:
    reg = loaded_register(tmp_path / "reg", _records())
    rep = build_report("maintenance", reg, AS_OF)
    assert isinstance(rep, MaintenanceReport)
    assert [(p.record, p.type, p.source, p.last_done, p.last_result, p.next_due, p.state) for p in rep.plans] == [
        # the failed inspection of 2025-11-20 does not count: due 12 months after the pass of 2023-12-01
        ("ups-1", "inspection", "record", dt.date(2023, 12, 1), "fail", dt.date(2024, 12, 1), "overdue"),
        ("ups-1", "pat_test", "record", None, "", dt.date(2027, 2, 1), "scheduled"),  # first_due, before any entry
        ("prn-1", "inspection", "ctr-print", dt.date(2026, 9, 1), "pass", dt.date(2027, 3, 1), "scheduled"),  # the contract's plan
        ("ups-1", "battery", "record", dt.date(2026, 2, 1), "done", dt.date(2029, 2, 1), "scheduled"),
    ]
    # costs to the as-of date only (the 2027 entry is in the future); USD at the configured 0.92
    assert [(c.record, c.entries, c.failed, c.cost_to_date) for c in rep.costs] == [("prn-1", 1, 0, D("0.00")),
                                                                                      ("ups-1", 3, 1, D("1238.46"))]
    assert rep.totals == {"overdue": 1, "due": 0, "cost_to_date": D("1238.46")}
    cost = build_report("cost", reg, AS_OF)
    assert isinstance(cost, CostReport)
    ups = next(t for t in cost.tco if t.record == "ups-1")
    assert (ups.purchase, ups.maintenance, ups.total) == (D("2000"), D("1238.46"), D("3238.46"))
    life = build_report("lifecycle", reg, AS_OF)
    assert isinstance(life, LifecycleReport)
    assert [(e.record, e.date, e.category) for e in life.events if e.event == "maintenance_due"] == [
        ("ups-1", dt.date(2027, 2, 1), "deadline"), ("prn-1", dt.date(2027, 3, 1), "deadline")]
    risk = build_report("risk", reg, AS_OF)
    assert isinstance(risk, RiskReport)
    assert [(f.rule, f.record, f.severity, f.message) for f in risk.findings if f.rule == "maintenance.overdue"] == [
        ("maintenance.overdue", "ups-1", "medium", "hardware ups-1: maintenance overdue: inspection due 2024-12-01")]
    later = build_report("risk", reg, dt.date(2027, 3, 2))
    assert isinstance(later, RiskReport)
    assert sorted(f.record for f in later.findings if f.rule == "maintenance.overdue") == ["prn-1", "ups-1"]
    assert next(f for f in later.findings if f.record == "prn-1").records == ("ctr-print", "prn-1")


def test_budget_actuals_forecast_and_variance(tmp_path: Path) -> None:
    reg = loaded_register(tmp_path / "reg", _records())
    rep = build_report("budget", reg, AS_OF)
    assert isinstance(rep, BudgetReport)
    b26, b27 = next(b for b in rep.budgets if b.year == 2026), next(b for b in rep.budgets if b.year == 2027)
    # capital: nothing bought in 2026 up to the day; srv-new is dated 2026-12-15 (forecast). Operating: the
    # contract's 11 monthly charges to 28 November (1100), 12 by the year end, plus maintenance dated in 2026 (900)
    assert (b26.capital_budget, b26.capital_actual, b26.capital_forecast) == (D("4000"), D("0.00"), D("5000.00"))
    assert (b26.operating_budget, b26.operating_actual, b26.operating_forecast) == (D("1000"), D("2000.00"), D("2100.00"))
    assert (b26.total_budget, b26.total_forecast, b26.variance, b26.position) == (D("5000.00"), D("7100.00"), D("2100.00"), "over")
    assert b26.records == ("bud-cc-1-2026", "ctr-print", "srv-new", "ups-1")
    assert (b27.capital_budget, b27.operating_forecast, b27.variance, b27.position) == (None, D("1200.00"), D("-300.00"), "under")
    assert rep.unbudgeted == []
    risk = build_report("risk", reg, AS_OF)
    assert isinstance(risk, RiskReport)
    assert [(f.record, f.message) for f in risk.findings if f.rule == "budget.overrun"] == [
        ("bud-cc-1-2026", "budget bud-cc-1-2026 (cc-1, 2026): forecast 7100.00 exceeds the budget 5000.00 by 2100.00")]
    after = build_report("budget", reg, dt.date(2027, 1, 15))
    assert isinstance(after, BudgetReport)
    past = next(b for b in after.budgets if b.year == 2026)
    assert (past.capital_actual, past.operating_actual) == (D("5000.00"), D("2100.00"))  # the year is over: actual = forecast
    assert [(u.cost_centre, u.year) for u in after.unbudgeted] == []


def test_demo_budget_and_maintenance() -> None:
    from bir.point.point import at_worktree
    from bir.reports import evaluate

    ev = evaluate(at_worktree(Path(__file__).resolve().parent.parent, AS_OF))
    bud = ev.report("budget")
    assert isinstance(bud, BudgetReport)
    got = {(b.cost_centre, b.year): (b.total_budget, b.total_forecast, b.variance, b.position) for b in bud.budgets}
    assert got[("cc-it-workplace", 2026)] == (D("250000.00"), D("259430.00"), D("9430.00"), "over")
    assert got[("cc-hr", 2026)] == (D("42000.00"), D("40320.00"), D("-1680.00"), "under")
    assert [u.cost_centre for u in bud.unbudgeted] == ["cc-ops-nl", "cc-ops-uk", "cc-ops-us"]
    maint = ev.report("maintenance")
    assert isinstance(maint, MaintenanceReport)
    assert maint.totals == {"overdue": 8, "due": 1, "cost_to_date": D("5431.80")}
