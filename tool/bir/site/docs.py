"""The MkDocs pages of the site, written as Markdown into the temporary docs folder.

Record text reaches these pages only through `safe.md_text` or `pages.html_table` (HTML-escaped, Markdown
neutralised, inside HTML blocks without blank lines). Large tables are not given to MkDocs: a page holds a
`BIRFILL:<name>` marker that `build` replaces with the rendered HTML after MkDocs has run.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bir.base.model import KINDS, Register
from bir.reports.context import Context
from bir.reports.cost import NO_SERVICE
from bir.reports.figures import DUE_DAYS, Figures
from bir.site import facts, holders, reportcharts
from bir.site.pages import SEVERITIES, file_id, html_table, line_rows, md_text

REPORT_ROWS = 5000  # rows of a report table on the site, as many as a kind page (the downloads have every record)
REPORT_PAGES = (
    ("lifecycle", "Lifecycle"),
    ("cost", "Cost"),
    ("risk", "Risk"),
    ("licences", "Licences"),
    ("decisions", "Decisions"),
    ("assignments", "Assignments"),
    ("audits", "Audits"),
    ("maintenance", "Maintenance"),
    ("vulnerabilities", "Vulnerabilities"),
    ("budget", "Budget"),
)


class Fills:
    """The large HTML tables the MkDocs pages receive after MkDocs has run, kept on disk until then."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.names: set[str] = set()

    def __setitem__(self, name: str, html: str) -> None:
        with open(self.folder / f"{name}.html", "w", encoding="utf-8") as handle:
            handle.write(html)
        self.names.add(name)

    def update(self, fills: Mapping[str, str]) -> None:
        for name, html in fills.items():
            self[name] = html

    def path(self, name: str) -> Path | None:
        return self.folder / f"{name}.html" if name in self.names else None


@dataclass(slots=True)
class SiteData:
    register: Register
    reports: Mapping[str, Any]
    figures: Figures
    history: Mapping[str, list[Any]]
    log: list[Any]
    as_of: dt.date
    schemas: dict[str, Any]  # the point's schemas (kind -> JSON Schema), for the schema reference
    fills: Fills  # marker name -> HTML
    context: Context  # the reports' shared context (what the chart figures read)


def fill_marker(name: str) -> str:
    return f"\n<p>BIRFILL:{name}</p>\n"


WIDE = "---\nhide:\n  - toc\n---\n\n"  # generated pages are data: no table of contents beside them, the width for the data


def write(path: Path, text: str) -> None:
    """A generated page (without the table-of-contents column, see WIDE)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.startswith("---\n") else WIDE + text, encoding="utf-8")


def money(value: Decimal | None, currency: str) -> str:
    return facts.money(value, currency)


def dashboard(data: SiteData) -> dict[str, Any]:
    """Key figures and charts, all from the report models (the summary and the chart figures)."""
    cur = data.register.config.base_currency
    life = data.reports["lifecycle"]
    summary = data.figures.summary
    figures = [
        ("records", f"{summary.records:,}", summary.records),
        ("components in service", f"{summary.in_service:,} of {summary.components:,}", summary.in_service),
        ("annual run cost", money(summary.annual_run_cost, cur), summary.annual_run_cost),
        ("book value", money(summary.book_value, cur), summary.book_value),
        ("open risks", " · ".join(f"{summary.open_risks[s]} {s}" for s in SEVERITIES), sum(summary.open_risks.values())),
        (f"deadlines in {DUE_DAYS} days", f"{summary.deadlines_due:,}", summary.deadlines_due),
        (f"reminders in {DUE_DAYS} days", f"{summary.reminders_due:,}", summary.reminders_due),
    ]
    svg = reportcharts.dashboard(dict(data.reports), data.context, data.figures, service_names(data.register), cur)
    due = [e for e in life.events if 0 <= e.days <= DUE_DAYS and e.category == "deadline"]
    return {"figures": figures, "charts": svg, "due": due}


def service_names(register: Register) -> dict[str, str]:
    return {r.id: r.name for r in register.of_kind("service")}


def services_reconciliation(data: SiteData) -> str:
    """How the services' shares add up to the register's annual run cost (one stated split rule)."""
    cur = data.register.config.base_currency
    cost = data.reports["cost"]
    shares = sum((s.annual_run_cost for s in data.figures.services.values()), Decimal(0))
    outside = next((line.annual for line in cost.run if line.by == "service" and line.key == NO_SERVICE), Decimal(0))
    total = data.figures.summary.annual_run_cost
    return (f'<p class="bir-note" id="bir-services-total">The services\' shares add up to <span data-figure="services_share_total" '
            f'data-value="{shares}">{md_text(money(shares, cur))}</span>; cost outside any service is <span data-figure="no_service" '
            f'data-value="{outside}">{md_text(money(outside, cur))}</span>; together the register\'s annual run cost of '
            f'<span data-figure="annual_run_cost" data-value="{total}">{md_text(money(total, cur))}</span>. A component serving '
            "several services is split equally over them; the column in full counts each component for every service it serves.</p>")


def nav_sections(nav: list[Any], prefix: str = "../") -> list[tuple[str, str]]:
    """The top of the MkDocs nav as (title, link from a page one folder deep): a section links to its first page."""

    def first(entry: Any) -> str | None:
        if isinstance(entry, str):
            return entry
        if isinstance(entry, dict):
            for value in entry.values():
                return first(value)
        if isinstance(entry, list):
            for item in entry:
                if (found := first(item)) is not None:
                    return found
        return None

    out: list[tuple[str, str]] = []
    for entry in nav:
        if not isinstance(entry, dict):
            continue
        for title, value in entry.items():
            page = first(value)
            if page is not None:
                out.append((str(title), prefix + (page[:-3] + ".html" if page.endswith(".md") else page)))
    return out


def write_pages(data: SiteData, docs: Path, extra_nav: list[Any]) -> list[Any]:
    """Write every generated page; returns the MkDocs nav. The downloads table is a fill (`downloads_table`)."""
    reg, cur = data.register, data.register.config.base_currency
    dash = dashboard(data)
    fig_html = "".join(
        f'<div class="bir-figure"><span class="bir-figure-value" data-figure="{md_text(k)}" data-value="{md_text(raw)}">'
        f'{md_text(v)}</span><span class="bir-figure-label">{md_text(k)}</span></div>'
        for k, v, raw in dash["figures"]
    )
    due_rows = [{"date": e.date, "event": e.event, "record": e.record, "kind": e.kind, "detail": e.detail} for e in dash["due"]]
    warnings = "".join(f'<p class="bir-warning" role="alert">Warning: {md_text(w)}</p>\n' for w in data.reports["cost"].warnings)
    write(
        docs / "index.md",
        f"# {md_text(reg.config.name)}: the register\n\n{warnings}The register of the managed infrastructure as of **{data.as_of}**. "
        "Every figure comes from the records in the repository; see [the data model](model.md).\n\n"
        f'<div class="bir-figures" id="bir-figures">{fig_html}</div>\n'
        + fill_marker("charts-dashboard")
        + f"\n## Deadlines in the next {DUE_DAYS} days\n\n"
        + html_table(reg, ["date", "event", "record", "kind", "detail"], due_rows, 0, limit=500)
        + "\n",
    )
    data.fills["charts-dashboard"] = '<div class="bir-charts">' + "".join(dash["charts"]) + "</div>"
    report_nav: list[Any] = []
    names = service_names(reg)
    for name, title in REPORT_PAGES:
        report = data.reports.get(name)
        if report is None:
            continue
        parts = [f"# {title} report\n\n"
                 + "".join(f'<p class="bir-warning" role="alert">Warning: {md_text(w)}</p>\n\n' for w in report.warnings)
                 + f"As of {data.as_of}; amounts in {cur}. Click a column to sort; type to filter.\n"]
        shown = reportcharts.for_report(name, dict(data.reports), data.context, data.figures, names, cur)
        if shown:
            data.fills[f"charts-{name}"] = '<div class="bir-charts">' + "".join(shown) + "</div>"
            parts.append(fill_marker(f"charts-{name}"))
        for section in report.sections():
            parts.append(f"\n## {md_text(section.title)}\n")
            if section.note:
                parts.append(f"\n{md_text(section.note)}\n")
            columns, rows, rule = line_rows(section.lines[:REPORT_ROWS])
            if not rows:
                parts.append("\nNothing to report.\n")
                continue
            if rule is not None:
                # a rule id is the catalog's ([a-z0-9._-]): code text as it is, anything else escaped
                shown_rule = f"`{rule}`" if re.fullmatch(r"[a-z0-9._-]+", rule) else md_text(rule)
                parts.append(f"\nEvery line by the rule {shown_rule}.\n")
            data.fills[f"report-{name}-{section.name}"] = html_table(
                reg, columns, rows, 1, table_id=f"report-{name}-{section.name}", limit=REPORT_ROWS, total=len(section.lines)
            )
            parts.append(fill_marker(f"report-{name}-{section.name}"))
        write(docs / "reports" / f"{name}.md", "".join(parts))
        report_nav.append({title: f"reports/{name}.md"})
    kind_nav: list[Any] = []
    for kind in KINDS:
        n = len(reg.of_kind(kind))
        if not n:
            continue
        write(docs / "kinds" / f"{kind}.md", f"# {kind.replace('_', ' ').capitalize()}\n" + fill_marker(f"kind-{kind}"))
        kind_nav.append({kind.replace("_", " ").capitalize(): f"kinds/{kind}.md"})  # no count: it would change every page
    write(
        docs / "services" / "index.md",
        "# Services\n\nEach IT service with its components (transitively), cost roll-up, "
        "risks and single points of failure.\n" + fill_marker("services"),
    )
    who_nav: list[Any] = []
    for folder, (title, intro, table) in holders.pages(reg, data.figures, cur).items():
        data.fills[folder] = table
        write(docs / folder / "index.md", f"# {title}\n\n{md_text(intro)}\n" + fill_marker(folder))
        who_nav.append({title: f"{folder}/index.md"})
    write(docs / "changes.md", change_log_page(data))
    schema_nav = write_schema_pages(data.schemas, docs)
    write(docs / "downloads.md", downloads_page())
    write(
        docs / "search.md",
        "# Search\n\nFind any record by id, name, serial number, asset tag, host name or tag, and any section of "
        "the guide, the reference and the reports by its words. The box in the header searches the same index.\n\n"
        '<form class="bir-search-form" action="search.html" method="get"><input id="bir-search" class="bir-search-box" '
        'type="search" name="q" placeholder="id, name, serial number, host name or words" aria-label="Search the register" '
        'autofocus></form>\n<noscript><p>The search needs JavaScript; the kind pages list every record.</p></noscript>\n'
        '<p id="bir-search-status" class="bir-note"></p>\n<ol id="bir-search-results"></ol>\n',
    )
    write(docs / "records" / "_template.md", "---\nhide:\n  - toc\nsearch:\n  exclude: true\n---\n\n# BIRTITLEMARK\n\nBIRCONTENTMARK\n")
    nav: list[Any] = [
        {"Dashboard": "index.md"},
        {"Search": "search.md"},
        {"Reports": report_nav},
        {"Records by kind": kind_nav},
        {"Services": "services/index.md"},
        {"Who owns what": who_nav},
        {"Change log": "changes.md"},
        {"Data model": "model.md"},
        {"Schema reference": schema_nav},
        {"Downloads": "downloads.md"},
    ]
    return nav + extra_nav


def commit_url(repo: str | None, commit: str, pr: int | None) -> str | None:
    if not repo:
        return None
    return f"{repo}/pull/{pr}" if pr else f"{repo}/commit/{commit}"


def change_log_page(data: SiteData) -> str:
    from bir.site.safe import safe_url

    repo = safe_url(data.register.config.repository_url)
    lines = ["# Change log\n\nThe merged changes to the register, newest first.\n"]
    if not data.log:
        lines.append("\nNo change in the git history of this register yet.\n")
        return "".join(lines)
    rows = []
    for entry in data.log:
        url = commit_url(repo.rstrip("/") if repo else None, entry.commit, entry.pr)
        label = f"#{entry.pr}" if entry.pr else entry.commit[:10]
        link = f'<a href="{md_text(url)}">{md_text(label)}</a>' if url else md_text(label)
        recs = []
        for r in entry.records[:20]:
            href = f"records/{file_id(r.id)}.html" if r.id in data.register.records else ""
            text = f"{md_text(r.change)} {md_text(r.id)}"
            recs.append(f'<a href="{md_text(href)}">{text}</a>' if href else text)
        if len(entry.records) > 20:
            recs.append(f"… {len(entry.records) - 20} more")
        kind = entry.record.get("change_type", "")
        rows.append(
            f'<tr><td class="bir-date">{md_text(entry.date[:10])}</td><td class="bir-word">{md_text(entry.author)}</td>'
            f'<td class="bir-text">{md_text(entry.subject)}</td><td class="bir-word">{md_text(kind) or "–"}</td>'
            f'<td class="bir-text">{md_text(entry.record.get("reason", "")) or "–"}</td>'
            f'<td class="bir-list">{", ".join(recs)}</td><td class="bir-id">{link}</td></tr>'
        )
    lines.append(
        '\n<div class="bir-table-block"><input class="bir-filter" type="search" placeholder="Filter rows" '
        'aria-label="Filter rows"><div class="bir-table-wrap">'
        '<table class="bir-table" id="bir-changes"><thead><tr><th>date</th><th>author</th><th>change</th><th>type</th>'
        "<th>reason</th><th>records</th><th>commit</th></tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table></div></div>\n"
    )
    return "".join(lines)


def downloads_page() -> str:
    return (
        "# Downloads\n\nThe register as data, for spreadsheets and ad-hoc queries (for example "  # noqa: S608 - HTML text, not SQL
        "`sqlite3 register.sqlite 'select * from relations'`). CSV cells a spreadsheet would evaluate are "
        "prefixed with an apostrophe.\n" + fill_marker("downloads")
    )


def downloads_table(downloads: list[tuple[str, str, int]]) -> str:
    """The table of the downloads page (filled in after MkDocs: the files are written beside it)."""
    rows = "\n".join(
        f'<tr><td><a href="downloads/{md_text(name)}">{md_text(name)}</a></td><td>{md_text(desc)}</td>'
        f"<td>{size:,} bytes</td></tr>"
        for name, desc, size in downloads
    )
    return f"<table><thead><tr><th>file</th><th>content</th><th>size</th></tr></thead><tbody>\n{rows}\n</tbody></table>"


# ------------------------------------------------------------------ schema reference


def _resolve(node: Any, schemas: dict[str, Any]) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 10:
        seen += 1
        ref = node["$ref"]
        file, _, pointer = ref.partition("#")
        target: Any = schemas.get(file, {})
        for part in [p for p in pointer.split("/") if p]:
            target = target.get(part, {}) if isinstance(target, dict) else {}
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        node = merged
    return node


def _fields(
    node: Any, schemas: dict[str, Any], prefix: str, example: Any, out: list[tuple[str, str, str, str]], depth: int = 0
) -> None:
    node = _resolve(node, schemas)
    if not isinstance(node, dict) or depth > 6:
        return
    props = node.get("properties")
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        item = _resolve(node["items"], schemas)
        first = example[0] if isinstance(example, list) and example else None
        if isinstance(item, dict) and "properties" in item:
            _fields(item, schemas, prefix + "[]", first, out, depth + 1)
        return
    if not isinstance(props, dict):
        return
    for name, sub in props.items():
        sub_r = _resolve(sub, schemas)
        path = f"{prefix}.{name}" if prefix else name
        ex = example.get(name) if isinstance(example, dict) else None
        typ = sub_r.get("type", "") if isinstance(sub_r, dict) else ""
        if isinstance(sub_r, dict) and "enum" in sub_r:
            typ = "one of " + ", ".join(str(v) for v in sub_r["enum"])
        elif isinstance(sub_r, dict) and "const" in sub_r:
            typ = f"always {sub_r['const']}"
        desc = sub_r.get("description", "") if isinstance(sub_r, dict) else ""
        shown = "" if ex is None else (json.dumps(ex, ensure_ascii=False) if not isinstance(ex, str) else ex)
        if isinstance(ex, (dict, list)):
            shown = json.dumps(ex, ensure_ascii=False)[:160]
        out.append((path, str(typ), str(desc), shown))
        _fields(sub_r, schemas, path, ex, out, depth + 1)


def write_schema_pages(raw: dict[str, Any], docs: Path) -> list[Any]:
    """The schema reference, from the schemas of the point the site shows."""
    schemas = {f"{name}.schema.json": schema for name, schema in sorted(raw.items())}
    nav: list[Any] = [{"Overview": "schema/index.md"}]
    index = [
        "# Schema reference\n\nGenerated from the JSON Schemas in `schemas/`: every field of every kind with its "
        "description and an example taken from the schema's own examples.\n\n| kind | description |\n|---|---|\n"
    ]
    by_kind: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for kind in KINDS:
        schema = schemas.get(f"{kind}.schema.json")
        if schema is None:
            continue
        examples = schema.get("examples") or [{}]
        _fields(schema, schemas, "", examples[0], by_kind[kind])
        rows = "\n".join(
            f"| <code>{md_text(p)}</code> | {md_text(t)} | {md_text(d)} | {('<code>' + md_text(e) + '</code>') if e else ''} |"
            for p, t, d, e in by_kind[kind]
        )
        required = ", ".join(f"`{r}`" for r in schema.get("required", []))
        write(
            docs / "schema" / f"{kind}.md",
            f"# {md_text(schema.get('title', kind))}\n\n{md_text(schema.get('description', ''))}\n\n"
            f"Required: {required}. File: `schemas/{kind}.schema.json`.\n\n"
            f"| field | type | description | example |\n|---|---|---|---|\n{rows}\n",
        )
        index.append(f"| [{kind}]({kind}.md) | {md_text(schema.get('description', ''))} |\n")
        nav.append({kind: f"schema/{kind}.md"})
    write(docs / "schema" / "index.md", "".join(index))
    return nav
