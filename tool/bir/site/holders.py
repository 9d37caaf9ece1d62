"""Who owns, pays for and holds what: the pages of every party, cost centre and location.

Each is a table of the report models' figures (`PartyFigures`, `LocationFigures`), one row per party or
place, linking to its record page, where its own tables list the records themselves.
"""

from __future__ import annotations

from typing import Any

from bir.base.model import Register
from bir.reports.figures import Figures
from bir.site.pages import html_table

PARTY_COLUMNS = ["party", "name", "party_type", "owns", "annual_run_cost_owned", "holds", "pays_for", "annual_run_cost_paid",
                 "book_value_paid", "members"]
CENTRE_COLUMNS = ["party", "name", "party_type", "pays_for", "annual_run_cost_paid", "book_value_paid"]
LOCATION_COLUMNS = ["location", "name", "facility_type", "holds", "places", "book_value"]


def party_rows(register: Register, figs: Figures) -> list[dict[str, Any]]:
    rows = []
    for pid in sorted(figs.parties):
        pf, rec = figs.parties[pid], register.records[pid]
        rows.append({"party": pid, "name": rec.name, "party_type": rec.data.get("party_type") or "", "owns": len(pf.owns),
                     "annual_run_cost_owned": pf.annual_run_cost_owned, "holds": len(pf.holds), "pays_for": len(pf.pays_for),
                     "annual_run_cost_paid": pf.annual_run_cost_paid, "book_value_paid": pf.book_value_paid,
                     "members": len(pf.members)})
    return rows


def centre_rows(register: Register, figs: Figures) -> list[dict[str, Any]]:
    """Parties that some record names as its cost centre, or whose type is cost centre."""
    return [r for r in party_rows(register, figs) if r["pays_for"] or r["party_type"] == "cost_centre"]


def location_rows(register: Register, figs: Figures) -> list[dict[str, Any]]:
    rows = []
    for lid in sorted(figs.locations):
        lf, rec = figs.locations[lid], register.records[lid]
        rows.append({"location": lid, "name": rec.name, "facility_type": rec.data.get("facility_type") or "",
                     "holds": len(lf.holds), "places": len(lf.places), "book_value": lf.book_value})
    return rows


def pages(register: Register, figs: Figures, cur: str) -> dict[str, tuple[str, str, str]]:
    """Folder -> (title, introduction, table HTML) of the three pages."""
    return {
        "parties": ("Parties", f"Every person, team, department, supplier and cost centre, with what it owns (and its annual "
                    f"run cost), what is assigned to it, and what it pays for as cost centre. Amounts in {cur}; each "
                    "party's page lists the records.",
                    html_table(register, PARTY_COLUMNS, party_rows(register, figs), 1, table_id="bir-parties")),
        "cost-centres": ("Cost centres", f"The parties that records name as their cost centre (`financial.cost_centre`), "
                         f"with the annual run cost and the book value they bear. Amounts in {cur}.",
                         html_table(register, CENTRE_COLUMNS, centre_rows(register, figs), 1, table_id="bir-cost-centres")),
        "locations": ("Locations", f"Every facility with the records located in it or in the places within it, and their "
                      f"book value. Amounts in {cur}.",
                      html_table(register, LOCATION_COLUMNS, location_rows(register, figs), 1, table_id="bir-locations")),
    }
