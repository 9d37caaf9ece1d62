"""Which chart each page shows, from the chart figures of the report models (`bir.reports.figures`).

Every number drawn here is a `Tally` made by the models; this module only picks labels, links and colours.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bir.reports.context import Context
from bir.reports.figures import (
    Figures,
    Tally,
    book_value_by_class,
    capital_by_year,
    decisions_by_recommendation,
    forecast_by_category,
    licence_use,
    records_by_state,
    risk_by_service,
    support_ends_by_quarter,
)
from bir.site import charts
from bir.site.pages import file_id

WINDOWS = {"next_12_months": "next 12 months", "next_36_months": "next 36 months"}


def _bars(tallies: Sequence[Tally], label: Callable[[str], str] = str, href: Callable[[str], str] = lambda _k: "") -> list[charts.Bar]:
    return [charts.Bar(label(t.key), tuple(v for _, v in t.values), href(t.key)) for t in tallies]


def _series(tallies: Sequence[Tally], classes: dict[str, str] | None = None, default: str = "") -> list[tuple[str, str]]:
    names = [n for n, _ in tallies[0].values] if tallies else ["records"]
    return [(n, (classes or {}).get(n, default or n)) for n in names]


def support_by_quarter(ctx: Context, figs: Figures) -> str:
    t = support_ends_by_quarter(ctx, figs)
    return charts.figure("chart-support", "End of support by quarter: in-service records",
                         "In-service records whose support (else life) ends in each quarter of the next three years; "
                         "overdue: already ended and still in service.",
                         [("records", "eol")], _bars(t), horizontal=False, key_label="quarter",
                         empty="no in-service record reaches its end of support in the next three years")


def forecast(cost: Any, cur: str) -> str:
    t = forecast_by_category(cost)
    return charts.figure("chart-forecast", "Spend forecast by type", "Charges forecast for the next 12 and the next 36 months, "
                         "stacked by type: recurring costs, contract renewals and hardware replacements.",
                         _series(t), _bars(t, lambda k: WINDOWS.get(k, k)), horizontal=True, money=True, unit=cur,
                         key_label="window", empty="no recurring cost, renewal or replacement is forecast")


def capital(cost: Any, cur: str) -> str:
    t = capital_by_year(cost)
    return charts.figure("chart-capital", "Capital spend per year: purchases", "Purchase costs by the year of purchase "
                         "(the last eight years with any); recurring costs are in the forecast, not here.",
                         [("purchases", "")], _bars(t), horizontal=False, money=True, unit=cur, key_label="year",
                         empty="no record has a purchase cost with a purchase date")


def book_value(ctx: Context, cost: Any, cur: str) -> str:
    t = book_value_by_class(ctx, cost)
    return charts.figure("chart-book", "Book value by asset class", "Book value on the as-of date by hardware class, "
                         "and by kind for everything else.", [("book value", "")], _bars(t), horizontal=True, money=True,
                         unit=cur, key_label="class", empty="nothing is depreciated")


def risk(figs: Figures, names: dict[str, str], depth: int) -> str:
    t = risk_by_service(figs)
    up = "../" * depth
    return charts.figure("chart-risk", "Open risks by service and severity", "Open findings touching each service, by "
                         "severity; the services with the highest risk score first.", _series(t),
                         _bars(t, lambda k: names.get(k, k), lambda k: f"{up}services/{file_id(k)}.html"), horizontal=True,
                         key_label="service", empty="no open finding touches a service")


def licences(lic: Any, depth: int) -> str:
    t = licence_use(lic)
    up = "../" * depth
    return charts.figure("chart-licences", "Licence position per licence", "Per licence: entitlement used, entitlement "
                         "unused, and consumption over the entitlement (to true up).", _series(t),
                         _bars(t, href=lambda k: f"{up}records/{file_id(k)}.html"), horizontal=True, key_label="licence",
                         empty="no active licence")


def decisions(dec: Any) -> str:
    t = decisions_by_recommendation(dec)
    return charts.figure("chart-decisions", "Retirement candidates by recommendation", "In-service hardware that is a "
                         "retirement candidate, by what the decision report recommends.", [("records", "")], _bars(t),
                         horizontal=True, key_label="recommendation", empty="no in-service hardware is a retirement candidate")


def states(life: Any) -> str:
    t = records_by_state(life)
    return charts.figure("chart-states", "Records by state", "Every record counted once, by its lifecycle state.",
                         [("records", "")], _bars(t), horizontal=True, key_label="state", empty="the register is empty")


def for_report(name: str, reports: dict[str, Any], ctx: Context, figs: Figures, names: dict[str, str], cur: str) -> list[str]:
    """The charts of a report page (at depth 1)."""
    if name == "lifecycle":
        return [support_by_quarter(ctx, figs), states(reports["lifecycle"])]
    if name == "cost":
        return [forecast(reports["cost"], cur), capital(reports["cost"], cur), book_value(ctx, reports["cost"], cur)]
    if name == "risk":
        return [risk(figs, names, 1)]
    if name == "licences":
        return [licences(reports["licences"], 1)]
    if name == "decisions":
        return [decisions(reports["decisions"])]
    return []


def dashboard(reports: dict[str, Any], ctx: Context, figs: Figures, names: dict[str, str], cur: str) -> list[str]:
    """The dashboard's charts (depth 0)."""
    return [support_by_quarter(ctx, figs), forecast(reports["cost"], cur), capital(reports["cost"], cur),
            risk(figs, names, 0), states(reports["lifecycle"])]
