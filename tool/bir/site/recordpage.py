"""The content of a record page, as HTML: written in Python rather than as a template.

A site of 100,000 records renders this 100,000 times; as a Jinja2 template it was a third of a page's time
(a context per page, an attribute look-up and an escape call per value). Every value is escaped here as the
templates' autoescape escapes it (`esc`, markupsafe's rules), and what comes in as HTML already (the
attribute table, the relation rows, the diagram, the operations part) is written as it is. The page reads top to
bottom in the order of the sections below; `tests/test_record_page.py` renders the template this replaced
and compares the two, byte for byte, on every record of the demo and of generated registers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bir.site.safe import esc

Money = Callable[[Any], str]


def _opt(value: object) -> str:
    """`{{ value if value is not none else '' }}`."""
    return "" if value is None else esc(value)


def _link(hrefs: Mapping[str, str], rid: str) -> str:
    """A record id linked to its page (no link target when the id is not in the register)."""
    return f'<a href="{esc(hrefs.get(rid, ""))}">{esc(rid)}</a>'


def _rows_table(ident: str, rows: Sequence[Mapping[str, Any]], total: int, record_rows: Callable[[Any], str]) -> str:
    note = (f'<p class="bir-note">Showing {len(rows)} of {total} records; the downloads have all of them.</p>'
            if total > len(rows) else "")
    return ('<div class="bir-table-block"><input class="bir-filter" type="search" placeholder="Filter rows" '
            'aria-label="Filter rows"><div class="bir-table-wrap">\n'
            f'<table class="bir-table" id="{esc(ident)}"><thead><tr><th>record</th><th>name</th><th>kind</th><th>status</th>'
            '<th class="bir-num">annual run cost</th><th class="bir-num">book value</th></tr></thead><tbody>\n'
            f"{record_rows(rows)}</tbody></table></div>{note}</div>")


def _computed(f: Any, as_of: dt.date, money: Money, service_href: Callable[[str], str]) -> str:
    out = [f'<h2 id="computed">Computed values <small>as of {esc(as_of)}</small></h2>\n'
           '<table class="bir-attrs bir-computed"><tbody>\n']
    book = f.book_value
    out.append(f'<tr><th>book value</th><td data-figure="book_value" data-value="{_opt(book)}">'
               f'{esc(money(book)) if book is not None else "– (not depreciated)"}</td></tr>\n')
    if f.purchase_cost is not None:
        out.append(f'<tr><th>purchase cost</th><td data-figure="purchase_cost" data-value="{esc(f.purchase_cost)}">'
                   f"{esc(money(f.purchase_cost))}</td></tr>")
    out.append("\n")
    out.append(f'<tr><th>annual run cost</th><td data-figure="annual_run_cost" data-value="{esc(f.annual_run_cost)}">'
               f"{esc(money(f.annual_run_cost))}</td></tr>\n")
    if f.tco is not None:
        out.append(f'<tr><th>total cost of ownership</th><td data-figure="tco" data-value="{esc(f.tco)}">{esc(money(f.tco))}</td></tr>')
    out.append("\n")
    eos = f.end_of_support
    if eos:
        days = f.days_to_end_of_support
        when = f"in {esc(days)} days" if days >= 0 else f"{esc(-days)} days ago"
        source = f"; {esc(f.life_source)}" if f.life_source else ""
        shown = f"{esc(eos)} ({when}{source})"
    else:
        shown = "–"
    out.append(f'<tr><th>end of support</th><td data-figure="end_of_support" data-value="{esc(eos or "")}">{shown}</td></tr>\n')
    if f.end_of_life:
        out.append(f'<tr><th>end of life</th><td data-figure="end_of_life" data-value="{esc(f.end_of_life)}">{esc(f.end_of_life)}</td></tr>')
    out.append("\n")
    if f.services:
        out.append(f'<tr><th>serves</th><td data-figure="services" data-value="{esc(" ".join(map(str, f.services)))}">'
                   f"{_service_links(f.services, service_href)}</td></tr>")
    out.append("\n")
    spof = f.single_point_of_failure_for
    if spof:
        out.append(f'<tr><th>single point of failure of</th><td data-figure="single_point_of_failure_for" '
                   f'data-value="{esc(" ".join(map(str, spof)))}">{_service_links(spof, service_href)}</td></tr>')
    out.append("\n")
    lic = f.licence
    if lic:
        excess = f", {esc(lic.excess)} over" if lic.excess else ""
        unused = f", {esc(lic.unused)} unused" if lic.unused else ""
        out.append(f'<tr><th>licence position</th><td class="bir-licence-{esc(lic.position)}" data-figure="licence_consumption" '
                   f'data-value="{esc(lic.consumption)}">{esc(lic.position)}: {esc(lic.consumption)} used of {esc(lic.quantity)} '
                   f"({esc(lic.metric)}){excess}{unused}</td></tr>")
    out.append("\n")
    if f.findings:
        items = "".join(f'<li><span class="bir-sev-{esc(x.severity)}">{esc(x.severity)}</span> {esc(x.message)} '
                        f"<code>{esc(x.rule)}</code></li>" for x in f.findings)
        out.append(f'<tr><th>open risks</th><td data-figure="findings" data-value="{len(f.findings)}"><ul>{items}</ul></td></tr>')
    out.append("\n</tbody></table>")
    return "".join(out)


def _service_links(ids: Sequence[str], service_href: Callable[[str], str]) -> str:
    """Services named in a computed value, each linked to its page (the services it serves, those it is a
    single point of failure of)."""
    return ", ".join(f'<a href="{esc(service_href(sid))}">{esc(sid)}</a>' for sid in ids)


def _figure(name: str, value: object, shown: str, label: str) -> str:
    return (f'<div class="bir-figure"><span class="bir-figure-value" data-figure="{name}" data-value="{esc(value)}">{shown}</span>'
            f'<span class="bir-figure-label">{label}</span></div>\n')


def _party(party: Any, tables: Mapping[str, Sequence[Mapping[str, Any]]], hrefs: Mapping[str, str], money: Money,
           record_rows: Callable[[Any], str]) -> str:
    owns, holds, pays = len(party.owns), len(party.holds), len(party.pays_for)
    out = ['<h2 id="responsibilities">Owns, holds and pays for</h2>\n<div class="bir-figures">\n',
           _figure("owns", owns, str(owns), "records it owns"),
           _figure("annual_run_cost_owned", party.annual_run_cost_owned, esc(money(party.annual_run_cost_owned)),
                   "annual run cost of what it owns"),
           _figure("holds", holds, str(holds), "records assigned to it"),
           _figure("pays_for", pays, str(pays), "records it pays for (cost centre)"),
           _figure("annual_run_cost_paid", party.annual_run_cost_paid, esc(money(party.annual_run_cost_paid)),
                   "annual run cost as cost centre"),
           _figure("book_value_paid", party.book_value_paid, esc(money(party.book_value_paid)), "book value as cost centre"),
           '</div>\n<h3 id="owns">Owns</h3>\n',
           _rows_table("bir-owns", tables["owns"], owns, record_rows) if party.owns else "<p>Owns no record.</p>",
           '\n<h3 id="pays-for">Pays for (cost centre)</h3>\n',
           _rows_table("bir-pays-for", tables["pays_for"], pays, record_rows) if party.pays_for
           else "<p>No record names it as its cost centre.</p>",
           '\n<h3 id="holds-assigned">Holds (assigned to it)</h3>\n',
           _rows_table("bir-holds", tables["holds"], holds, record_rows) if party.holds else "<p>Nothing is assigned to it.</p>",
           "\n"]
    if party.members:
        items = "".join(f'<li data-record="{esc(rid)}">{_link(hrefs, rid)}</li>' for rid in party.members)
        out.append(f'<h3 id="members">Members</h3><ul id="bir-members">{items}</ul>')
    out.append("\n")
    return "".join(out)


def _location(location: Any, located: Sequence[Mapping[str, Any]], hrefs: Mapping[str, str], money: Money,
              record_rows: Callable[[Any], str]) -> str:
    held, places = len(location.holds), len(location.places)
    out = ['<h2 id="holds">What is here</h2>\n<div class="bir-figures">\n',
           _figure("location_holds", held, str(held), "records located here (or in places within)"),
           _figure("location_book_value", location.book_value, esc(money(location.book_value)), "book value of what is here"),
           _figure("places", places, str(places), "places within"),
           "</div>\n",
           _rows_table("bir-location-holds", located, held, record_rows) if location.holds
           else "<p>No record is located here.</p>",
           "\n"]
    if location.places:
        links = ", ".join(f'<a data-record="{esc(rid)}" href="{esc(hrefs.get(rid, ""))}">{esc(rid)}</a>' for rid in location.places)
        out.append(f'<p>Places within: <span id="bir-places">{links}</span></p>')
    out.append("\n")
    return "".join(out)


def _history_row(h: Mapping[str, Any]) -> str:
    badge = f' <span class="bir-badge">{esc(h["change_type"])}</span>' if h["change_type"] else ""
    if h["fields"]:
        items = []
        for f in h["fields"]:
            old = f'<span class="bir-old">{esc(f["old"])}</span> → ' if f["old"] is not None else ""
            new = esc(f["new"]) if f["new"] is not None else "removed"
            items.append(f'<li><code>{esc(f["path"])}</code>: {old}{new}</li>')
        more = f'<p class="bir-note">… and {esc(h["more"])} more</p>' if h["more"] else ""
        fields = f'<ul class="bir-fields">{"".join(items)}</ul>{more}'
    else:
        fields = "created" if h["change"] == "added" else "–"
    label = esc(h["label"])
    commit = f'<a class="bir-ext" href="{esc(h["url"])}" rel="nofollow noopener">{label}</a>' if h["url"] else label
    return (f'<tr data-record="{esc(h["commit"])}"><td class="bir-date">{esc(h["date"][:10])}</td><td class="bir-word">'
            f'{esc(h["change"])}{badge}</td><td class="bir-text">{fields}</td><td class="bir-text">{esc(h["reason"] or h["subject"])}'
            f'</td><td class="bir-word">{esc(h["author"])}</td><td class="bir-id">{commit}</td></tr>\n')


def record_content(*, rec: Any, name: str, status: str, description: object, f: Any, computed: bool, as_of: dt.date,
                   attributes: str, relations: str, diagram: str, history: Sequence[Mapping[str, Any]], history_note: str,
                   timeline: Sequence[Mapping[str, str]], edit_url: str | None, service_url: str,
                   service_href: Callable[[str], str], party: Any, location: Any,
                   tables: Mapping[str, Sequence[Mapping[str, Any]]], hrefs: Mapping[str, str], operations: str,
                   money: Money, record_rows: Callable[[Any], str]) -> str:
    """A record page's content area. `attributes`, `relations`, `diagram` and `operations` are HTML already
    (escaped where they were built); every other value is escaped here."""
    rid = esc(rec.id)
    edit = f' · <a class="bir-edit" href="{esc(edit_url)}" rel="nofollow noopener">Edit this record</a>' if edit_url else ""
    service = f' · <a href="{esc(service_url)}">Service view</a>' if rec.kind == "service" else ""
    out = [f'\n<h1 id="{rid}">{esc(name)}</h1>\n<p class="bir-badges"><span class="bir-badge">{esc(rec.kind)}</span> '
           f'<span class="bir-badge bir-state-{esc(status)}">{esc(status)}</span>\n<code>{rid}</code>{edit}\n{service}</p>\n']
    if description:
        out.append(f'<p class="bir-description">{esc(description)}</p>')
    out.append("\n")
    if computed:
        out.append(_computed(f, as_of, money, service_href))
    out.append('\n<h2 id="lifecycle">Lifecycle</h2>\n')
    if timeline:
        items = "".join(f'<li class="{esc(t["cls"])}"><span class="bir-when">{esc(t["date"])}</span>{esc(t["label"])}</li>'
                        for t in timeline)
        out.append(f'<ol class="bir-timeline" id="bir-timeline">{items}</ol>\n')
    else:
        out.append("<p>No state dates recorded.</p>")
    out.append("\n")
    if party:
        out.append(_party(party, tables, hrefs, money, record_rows))
    out.append("\n")
    if location:
        out.append(_location(location, tables["located"], hrefs, money, record_rows))
    out.append(f'\n{operations}\n<h2 id="attributes">Attributes</h2>\n{attributes}\n<h2 id="relations">Relations</h2>\n')
    if relations:
        out.append(f'\n<div class="bir-diagram-wrap">{diagram}</div>\n<div class="bir-table-block"><div class="bir-table-wrap '
                   'bir-short"><table class="bir-table bir-relations"><thead><tr><th>direction</th><th>relation</th>'
                   f"<th>record</th><th>name</th><th>note</th></tr></thead><tbody>\n{relations}</tbody></table></div></div>\n")
    else:
        out.append("<p>No relations in or out.</p>")
    out.append('\n<h2 id="history">Change history <small>newest first</small></h2>\n')
    if history:
        out.append('\n<div class="bir-table-block"><div class="bir-table-wrap bir-short">\n<table class="bir-table bir-history" '
                   'id="bir-history"><thead><tr><th>date</th><th>change</th><th>fields changed</th><th>reason</th><th>author</th>'
                   "<th>commit</th></tr></thead><tbody>\n")
        out.extend(_history_row(h) for h in history)
        out.append("</tbody></table></div></div>\n")
    else:
        out.append(f"<p>{esc(history_note)}</p>")
    out.append(f'\n<p class="bir-source">Source file: <code>{esc(rec.path)}</code></p>')
    return "".join(out)


# ------------------------------------------------------------------ a record's operations


def _td(value: object, cls: str = "", inner: str | None = None) -> str:
    """A sortable cell: its value as the sort key, `inner` (HTML) or the value as its text."""
    shown = _opt(value)
    css = f' class="{esc(cls)}"' if cls else ""
    return f'<td data-sort="{shown}"{css}>{shown if inner is None else inner}</td>'


def _held(held: Sequence[Any], hrefs: Mapping[str, str]) -> str:
    rows = "".join(f"<tr>{_td(p.record, inner=_link(hrefs, p.record))}{_td(p.holder, inner=_link(hrefs, p.holder))}{_td(p.start)}"
                   f"{_td(p.end, inner=esc(p.end) if p.end else 'now')}{_td(p.days)}{_td(p.commit)}</tr>\n" for p in held)
    return ('<h2 id="assignments">Held now and before</h2>\n<p class="bir-note">From the git history of <code>assigned_to</code>: '
            'each period a device was handed out.</p>\n<table class="bir-table" id="bir-held"><thead><tr><th>record</th>'
            "<th>holder</th><th>from</th><th>to</th><th>days</th><th>commit</th></tr></thead><tbody>\n"
            f"{rows}</tbody></table>")


def _budgets(budgets: Sequence[Any], hrefs: Mapping[str, str], as_of: dt.date) -> str:
    rows = "".join(
        f"<tr>{_td(b.year)}{_td(b.budget, inner=_link(hrefs, b.budget) if b.budget else '')}{_td(b.status)}{_td(b.capital_budget)}"
        f"{_td(b.capital_actual)}{_td(b.capital_forecast)}{_td(b.operating_budget)}{_td(b.operating_actual)}"
        f"{_td(b.operating_forecast)}{_td(b.total_budget)}{_td(b.total_forecast)}"
        f"{_td(b.variance, 'bir-budget-' + str(b.position).replace(' ', '-'))}{_td(b.position)}</tr>\n" for b in budgets)
    return (f'<h2 id="budgets">Budgets</h2>\n<p class="bir-note">Actuals to {esc(as_of)} and the forecast to the year end, '
            'against the budget (variance = forecast minus budget).</p>\n<table class="bir-table" id="bir-budgets"><thead><tr>'
            "<th>year</th><th>budget</th><th>status</th><th>capital budget</th><th>capital actual</th><th>capital forecast</th>"
            "<th>operating budget</th><th>operating actual</th><th>operating forecast</th><th>total budget</th>"
            "<th>total forecast</th><th>variance</th><th>position</th></tr></thead><tbody>\n"
            f"{rows}</tbody></table>")


def _maintenance(plans: Sequence[Any], hrefs: Mapping[str, str]) -> str:
    rows = "".join(
        f"<tr>{_td(m.type)}{_td(m.interval_months)}"
        f"{_td(m.source, inner='this record' if m.source == 'record' else _link(hrefs, m.source))}{_td(m.last_done)}"
        f"{_td(m.last_result)}{_td(m.next_due)}{_td(m.state, 'bir-maintenance-' + str(m.state))}</tr>\n" for m in plans)
    return ('<h2 id="maintenance">Maintenance</h2>\n<table class="bir-table" id="bir-maintenance"><thead><tr><th>type</th>'
            "<th>every (months)</th><th>plan of</th><th>last done</th><th>last result</th><th>next due</th><th>state</th></tr>"
            f"</thead><tbody>\n{rows}</tbody></table>")


def _advisory(advisory: str) -> str:
    return f'<a href="https://osv.dev/vulnerability/{esc(advisory)}" rel="nofollow noopener">{esc(advisory)}</a>'


def _vulnerabilities(vulns: Sequence[Any], hrefs: Mapping[str, str]) -> str:
    rows = "".join(
        f"<tr>{_td(v.advisory, inner=_advisory(v.advisory))}"
        f"{_td(', '.join(map(str, v.aliases)))}{_td(v.severity, 'bir-sev-' + str(v.severity))}{_td(v.score)}"
        f"{_td(v.record, inner=_link(hrefs, v.record))}{_td(v.version)}{_td(v.fixed)}{_td(v.waived_by)}{_td(v.summary)}</tr>\n"
        for v in vulns)
    return ('<h2 id="vulnerabilities">Vulnerabilities</h2>\n<table class="bir-table" id="bir-vulnerabilities"><thead><tr>'
            "<th>advisory</th><th>aliases</th><th>severity</th><th>score</th><th>software</th><th>version</th><th>fixed in</th>"
            f"<th>waived by</th><th>summary</th></tr></thead><tbody>\n{rows}</tbody></table>")


def operations_content(*, hrefs: Mapping[str, str], as_of: dt.date, held: Sequence[Any], budgets: Sequence[Any],
                       maintenance: Sequence[Any], vulnerabilities: Sequence[Any]) -> str:
    """The part of a record page with its hand-outs, budgets, maintenance plans and vulnerabilities (each
    section only when it has lines); the lines are the report models' (`bir.site.operations`)."""
    return "\n".join(("", _held(held, hrefs) if held else "", _budgets(budgets, hrefs, as_of) if budgets else "",
                      _maintenance(maintenance, hrefs) if maintenance else "",
                      _vulnerabilities(vulnerabilities, hrefs) if vulnerabilities else ""))
