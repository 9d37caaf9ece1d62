"""What each page says: the site's content as data and HTML fragments, from the register and report models.

Markdown pages generated here carry record text only HTML-escaped with Markdown syntax neutralised
(`safe.md_text`) inside HTML blocks written by this module; Jinja2 pages rely on autoescape.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import html
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from bir.base.model import RELATION_TYPES, Record, Register, iter_references
from bir.site.safe import HTML_SPECIAL, md_text, safe_url

_SLUG = re.compile(r"[^a-z0-9._-]")
SEVERITIES = ("high", "medium", "low")


def file_id(record_id: str) -> str:
    """A record id as a file name: ids are validated slugs; anything else is replaced, never trusted."""
    safe = _SLUG.sub("_", record_id.lower())
    return safe if safe and not safe.startswith(".") else "_" + safe


def record_href(record_id: str, depth: int = 1) -> str:
    return "../" * depth + f"records/{file_id(record_id)}.html"


def service_href(record_id: str, depth: int = 1) -> str:
    return "../" * depth + f"services/{file_id(record_id)}.html"


def fmt(value: object) -> str:
    """Any report or record value as display text."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def sort_key(value: object) -> str:
    """A data-sort attribute: numbers zero-padded so the table script can sort them as text or numbers."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    return _sort_text(value)


# ------------------------------------------------------------------ tables as HTML (escaped)

ID_FIELDS = frozenset({"record", "licence", "service", "owner", "key", "party", "location"})
_NUMBER = (int, float, Decimal)


class LinkMap:
    """Every record's link as HTML, made once per depth: a table or a page looks ids up instead of rebuilding them."""

    def __init__(self, register: Register) -> None:
        self.register = register
        self._anchors: dict[int, dict[str, str]] = {}
        self._hrefs: dict[int, dict[str, str]] = {}

    def hrefs(self, depth: int = 1) -> dict[str, str]:
        got = self._hrefs.get(depth)
        if got is None:
            got = {
                rid: (service_href(rid, depth) if rec.kind == "service" else record_href(rid, depth))
                for rid, rec in self.register.records.items()
            }
            self._hrefs[depth] = got
        return got

    def anchors(self, depth: int = 1) -> dict[str, str]:
        got = self._anchors.get(depth)
        if got is None:
            recs = self.register.records
            got = {
                rid: f'<a href="{html.escape(href)}" title="{html.escape(recs[rid].name)}">{html.escape(rid)}</a>'
                for rid, href in self.hrefs(depth).items()
            }
            self._anchors[depth] = got
        return got


_LINK_MAPS: dict[int, LinkMap] = {}


def link_map(register: Register) -> LinkMap:
    """The `LinkMap` of a register (one per register object, kept for the life of the build)."""
    got = _LINK_MAPS.get(id(register))
    if got is None or got.register is not register:
        _LINK_MAPS.clear()
        got = _LINK_MAPS[id(register)] = LinkMap(register)
    return got


LIST_SHOWN = 8  # items of a list a table cell shows (a line of a report can name thousands of records)


def _cell(anchors: Mapping[str, str], name: str, value: object) -> str:
    if isinstance(value, str):
        if name in ID_FIELDS and value in anchors:
            return anchors[value]
        return html.escape(value) if value else "–"
    if isinstance(value, (list, tuple)) and value:
        shown = value[:LIST_SHOWN]
        more = f" … and {len(value) - LIST_SHOWN} more" if len(value) > LIST_SHOWN else ""
        if all(isinstance(v, str) and v in anchors for v in shown):
            return ", ".join(anchors[v] for v in shown) + more
        return html.escape(fmt(shown)) + more
    return html.escape(fmt(value))


def _sort_text(value: object) -> str:
    if isinstance(value, (list, tuple)) and len(value) > LIST_SHOWN:
        return f"{fmt(value[:LIST_SHOWN])} …"
    return fmt(value)


def link_to(register: Register, record_id: str, depth: int = 1) -> Markup:
    got = link_map(register).anchors(depth).get(record_id)
    return Markup(got) if got is not None else escape(record_id)  # noqa: S704 - built from html.escape-d parts


def cell_class(value: object, is_id: bool = False) -> str:
    """How a table cell may wrap: ids, amounts, dates and single words never; text and lists of ids do."""
    if is_id:
        return "bir-id"
    if isinstance(value, bool):
        return "bir-word"
    if isinstance(value, _NUMBER):
        return "bir-num"
    if isinstance(value, dt.date):
        return "bir-date"
    if isinstance(value, (list, tuple)):
        return "bir-list"
    if isinstance(value, str) and len(value) <= 24 and " " not in value:
        return "bir-word"
    return "bir-text"


def table_block(table: str, note: str = "", filter_box: bool = True) -> str:
    """A table with its filter box above it (outside the scrolling area, so it stays in view)."""
    box = ('<input class="bir-filter" type="search" placeholder="Filter rows" aria-label="Filter rows">' if filter_box else "")
    return f'<div class="bir-table-block">{box}<div class="bir-table-wrap">{table}</div>{note}</div>'


def html_table(
    register: Register,
    columns: list[str],
    rows: Iterable[Mapping[str, object]],
    depth: int,
    table_id: str = "",
    limit: int | None = None,
    total: int | None = None,
) -> str:
    """A sortable, filterable table (see assets/bir.js), every cell escaped, on lines with no blank line.

    At most `limit` rows are shown; `total` is the number of rows when `rows` holds only the first ones.
    Each cell has a class saying how it may wrap (`cell_class`).
    """
    anchors = link_map(register).anchors(depth)
    esc = html.escape
    body: list[str] = []
    count = 0
    numeric = dict.fromkeys(columns, False)
    for row in rows:
        count += 1
        if limit is not None and count > limit:
            continue
        cells = []
        for c in columns:
            v = row.get(c)
            if isinstance(v, str):
                shown = v or "–"
                sort = esc(shown)
                is_id = c in ID_FIELDS and v in anchors
                text = anchors[v] if is_id else sort
                cls = cell_class(v, is_id)
            elif isinstance(v, _NUMBER) and not isinstance(v, bool):
                sort = esc(str(v))
                text = esc(fmt(v))
                cls = "bir-num"
                numeric[c] = True
            else:
                sort = esc(_sort_text(v))
                text = _cell(anchors, c, v)
                cls = cell_class(v)
            cells.append(f'<td class="{cls}" data-sort="{sort}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    num = ' class="bir-num"'
    head = "".join(f'<th{num if numeric[c] else ""}>{escape(c.replace("_", " "))}</th>' for c in columns)
    count = max(count, total or 0)
    note = (f'<p class="bir-note">Showing {limit:,} of {count:,} rows; the downloads and <code>bir report</code> have all of '
            'them.</p>') if limit is not None and count > limit else ""
    ident = f' id="{escape(table_id)}"' if table_id else ""
    table = (f'<table class="bir-table"{ident}><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(body) + "\n</tbody></table>")
    return table_block(table, note)


def line_rows(lines: list[Any]) -> tuple[list[str], list[dict[str, object]], str | None]:
    """Report lines (dataclasses) as columns and rows, `records` and `rule` last, and the rule of every line
    when they share one. A column that says nothing the row does not already say is left out: `records`
    where every line's records are its own `record`, `rule` where every line has the same (then returned,
    for the table's caption)."""
    if not lines:
        return [], [], None
    names = [f.name for f in dataclasses.fields(lines[0])]
    columns = [n for n in names if n not in ("records", "rule")] + [n for n in ("records", "rule") if n in names]
    if "records" in names and "record" in names and all(tuple(line.records) == (line.record,) for line in lines):
        columns.remove("records")
    rules = {line.rule for line in lines} if "rule" in names else set()
    rule = next(iter(rules)) if len(rules) == 1 else None
    if rule is not None:
        columns.remove("rule")
    rows = [{n: getattr(line, n) for n in columns} for line in lines]
    return columns, rows, rule


# ------------------------------------------------------------------ attributes


def attribute_html(register: Register, rec: Record, depth: int = 1) -> Markup:
    """Every attribute of a record as a definition table; references link, URLs link only when safe."""
    return Markup(attributes(link_map(register).anchors(depth), rec))  # noqa: S704 - built from html.escape-d parts


def attributes(anchors: Mapping[str, str], rec: Record) -> str:
    """`attribute_html` as a plain string, given the record links of the page's depth."""
    refs = {label for _, _, _, label in iter_references(rec.kind, rec.data)}
    return _value_html(anchors, rec.data, "", refs, top=True)


def _e(value: object) -> str:
    """`html.escape(str(value), quote=True)`, which most texts pass through unchanged: they are only searched."""
    text = value if type(value) is str else str(value)
    return html.escape(text, quote=True) if HTML_SPECIAL.search(text) else text


@functools.lru_cache(maxsize=4096)
def _label(key: str) -> str:
    """A field name as an attribute table's heading (the same few hundred names on every page)."""
    return _e(key.replace("_", " "))


_INDEX = re.compile(r"\[\d+\]")


def _value_html(anchors: Mapping[str, str], value: Any, path: str, refs: set[str], top: bool = False) -> str:
    # Plain strings with html.escape: Markup.format is ten times slower, and this runs for every field of 100k records.
    # Most values are strings, and record data holds plain dicts and lists: their types are tested first (the
    # abstract `Mapping` test costs more than the rest of a scalar's work).
    if type(value) is str:
        return _scalar_html(anchors, value, path, refs)
    if type(value) is dict or (type(value) is not list and isinstance(value, Mapping)):
        rows = []
        for key, sub in value.items():
            if top and key in ("relations", "id", "kind"):
                continue
            sub_path = f"{path}.{key}" if path else str(key)
            rows.append(f"<tr><th>{_label(str(key))}</th><td>{_value_html(anchors, sub, sub_path, refs)}</td></tr>")
        cls = "bir-attrs" if top else "bir-attrs bir-nested"
        return f'<table class="{cls}"><tbody>' + "".join(rows) + "</tbody></table>"
    if isinstance(value, list):
        if all(type(v) is str or not isinstance(v, (dict, list, Mapping)) for v in value):
            return ", ".join(_scalar_html(anchors, v, path, refs) for v in value) if value else "–"
        items = [f"<li>{_value_html(anchors, v, f'{path}[{i}]', refs)}</li>" for i, v in enumerate(value)]
        return "<ol>" + "".join(items) + "</ol>"
    return _scalar_html(anchors, value, path, refs)


def _scalar_html(anchors: Mapping[str, str], value: Any, path: str, refs: set[str]) -> str:
    if isinstance(value, str):
        if path in refs or (path.endswith(".on") and value in anchors):
            return anchors.get(value) or html.escape(value)
        plain = _INDEX.sub("", path) if "[" in path else path
        if plain.endswith("email") and "@" in value:
            url = safe_url("mailto:" + value)
            return f'<a href="{_e(url)}">{_e(value)}</a>' if url else _e(value)
        if plain.endswith("url"):
            url = safe_url(value)
            return f'<a href="{_e(url)}" rel="nofollow noopener">{_e(value)}</a>' if url else _e(value)
        return _e(value)
    return _e(fmt(value))


def relation_type_label(rtype: str, incoming: bool) -> str:
    rt = RELATION_TYPES.get(rtype)
    return rt.inverse if (rt and incoming) else rtype


__all__ = [
    "SEVERITIES",
    "attribute_html",
    "file_id",
    "fmt",
    "html_table",
    "line_rows",
    "link_to",
    "md_text",
    "record_href",
    "service_href",
]
