"""Record, service and kind pages rendered into the theme's chrome, fast enough for 100k records: a record
page's content is written in Python (`bir.site.recordpage`), service and kind pages from Jinja2 templates.

Everything a page needs from the rest of the register is indexed once (`Views`: record links, names, the
inverse relations, the per-record facts), so a page costs the same however large the register. The chrome
(the theme's HTML around the content, taken from one page MkDocs rendered) is split once into strings.
Files are written with plain `open`/`write`: the build is atomic at the folder level (see `build._replace`).
Each rendered content area is link-checked in memory against the files the site will hold.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import json
import marshal
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, Template, select_autoescape
from markupsafe import Markup

from bir.base.model import ADMINISTRATIVE_KINDS, Record, Register
from bir.read.yamlstrict import storable
from bir.reports.figures import Figures
from bir.site import charts, facts, incremental, pages, recordpage
from bir.site.incremental import PageState
from bir.site.linkcheck import LinkChecker
from bir.site.operations import Operations
from bir.site.safe import esc, safe_url

KIND_PAGE_ROWS = 5000
KIND_COLUMNS: dict[str, tuple[str, ...]] = {
    "hardware": ("class", "serial_number", "asset_tag", "hostname"),
    "software": ("product", "version"),
    "licence": ("product", "metric", "quantity"),
    "cloud_service": ("service_type", "region"),
    "network": ("network_type", "cidr"),
    "facility": ("facility_type",),
    "information": ("classification",),
    "service": ("criticality",),
    "contract": ("contract_type", "end"),
    "party": ("party_type", "email"),
    "waiver": ("rule", "record", "expires"),
    "audit": ("location", "date", "auditor"),
    "budget": ("cost_centre", "year", "capital", "operating"),
}
CHUNK = 250  # records per chunk of work (`ChunkQueue`)
TABLE_ROWS = 1000  # rows of a party's or location's table of records (the downloads have all)
SERVICE_ROWS = 250  # components, risks and single points of failure listed on a service page (the downloads have all)
FIELDS_SHOWN = 12  # field changes shown per change in a record's history
VALUE_SHOWN = 160  # characters of a changed value shown


def _shown(value: object) -> str | None:
    """A changed value as text (None: the field was absent), cut to VALUE_SHOWN characters."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= VALUE_SHOWN else text[: VALUE_SHOWN - 1] + "…"
TITLE_MARK = "BIRTITLEMARK"
CONTENT_MARK = "<p>BIRCONTENTMARK</p>"


class ChromeError(ValueError):
    """The theme's template page lost its markers."""


class Chrome:
    """The theme's HTML around one page at depth 1, split once where the title and the content go.

    Given the site's sections (`sections`: title and link from depth 1), the navigation on the side lists
    only them, each linking to its first page, instead of every page of every section: the theme's full
    navigation is most of a record page's bytes, and 100,000 record pages would write gigabytes of it. The
    whitespace between tags that the theme's templates leave is folded to one line break (outside `pre`,
    `textarea`, `script` and `style`), which renders the same."""

    def __init__(self, template_html: str, sections: list[tuple[str, str]] | None = None) -> None:
        if CONTENT_MARK not in template_html:
            raise ChromeError("the theme's template page lost its content marker")
        if sections is not None:
            template_html = _compact_nav(template_html, sections)
        template_html = fold_whitespace(template_html)
        head, self.tail = template_html.split(CONTENT_MARK, 1)
        head = re.sub(r'<h1 id="birtitlemark">.*?</h1>', "", head, flags=re.DOTALL)
        head = re.sub(r'<link rel="canonical"[^>]*>', "", head)  # it would name the template page on every page
        self.head_parts = head.split(TITLE_MARK)

    def page(self, title: str, content: str) -> str:
        return html.escape(title).join(self.head_parts) + content + self.tail


_KEEP_SPACE = re.compile(r"(<(pre|textarea|script|style)\b.*?</\2\s*>)", re.DOTALL | re.IGNORECASE)
_BLANKS = re.compile(r"[ \t\r\f]*\n\s*")


def fold_whitespace(text: str) -> str:
    """Every run of white space that holds a line break, folded to one line break, except inside `pre`,
    `textarea`, `script` and `style` (where white space is content)."""
    pieces = _KEEP_SPACE.split(text)  # text, element, its tag name, text, ...
    out: list[str] = []
    for i, piece in enumerate(pieces):
        kind = i % 3
        if kind == 0:
            out.append(_BLANKS.sub("\n", piece))
        elif kind == 1:
            out.append(piece)
    return "".join(out)


_PRIMARY = '<nav class="md-nav md-nav--primary"'
_NAV_TAG = re.compile(r"<nav\b|</nav\s*>", re.IGNORECASE)


def _compact_nav(text: str, sections: list[tuple[str, str]]) -> str:
    """The theme's primary navigation with its list of pages replaced by one link per section."""
    start = text.find(_PRIMARY)
    if start < 0:
        return text  # another theme: its chrome stays as it is
    depth, end = 0, -1
    for m in _NAV_TAG.finditer(text, start):
        depth += -1 if m.group(0).startswith("</") else 1
        if depth == 0:
            end = m.start()
            break
    if end < 0:
        return text  # the navigation never closes: leave it as it is
    list_start = text.find('<ul class="md-nav__list"', start, end)
    list_end = text.rfind("</ul>", start, end)
    if list_start < 0 or list_end < list_start:
        return text
    items = "".join(f'<li class="md-nav__item"><a href="{html.escape(href)}" class="md-nav__link">'
                    f'<span class="md-ellipsis">{html.escape(title)}</span></a></li>\n' for title, href in sections)
    return text[:list_start] + f'<ul class="md-nav__list" data-md-scrollfix>\n{items}' + text[list_end:]


def record_rows(rows: Iterable[Mapping[str, Any]], currency: str, shared: bool = False) -> Markup:
    """The rows of a table of records (id, name, kind, status, [shared,] annual run cost, book value).

    Built in Python rather than by a template loop: a party's page lists up to 3,000 of them, a service's
    250, and the loop's attribute look-ups and escapes were most of those pages' time."""
    out: list[str] = []
    for r in rows:
        rid, book = esc(r["id"]), r["book"]
        flag = f'<td class="bir-word">{"yes" if r["shared"] else "no"}</td>' if shared else ""
        out.append(
            f'<tr data-record="{rid}"><td class="bir-id"><a href="{esc(r["href"])}">{rid}</a></td>'
            f'<td class="bir-text">{esc(r["name"])}</td><td class="bir-word">{esc(r["kind"])}</td>'
            f'<td class="bir-word">{esc(r["status"])}</td>{flag}<td class="bir-num" data-sort="{esc(r["run"])}">'
            f'{esc(facts.money(r["run"], currency))}</td><td class="bir-num" data-sort="{"" if book is None else esc(book)}">'
            f"{esc(facts.money(book, currency))}</td></tr>\n"
        )
    return Markup("".join(out))  # noqa: S704 - built from escaped parts


def environment(currency: str) -> Environment:
    # auto_reload off: the templates are the package's own files, and a record page includes one; with it on,
    # every include asked the file system whether the template had changed (a stat per page).
    env = Environment(loader=PackageLoader("bir.site", "templates"), autoescape=select_autoescape(default=True),
                      auto_reload=False)

    def money(value: Decimal | None) -> str:
        return facts.money(value, currency)

    def rows_html(rows: Iterable[Mapping[str, Any]], shared: bool = False) -> Markup:
        return record_rows(rows, currency, shared)

    env.globals["money"] = money
    env.globals["record_rows"] = rows_html
    return env


@dataclass(slots=True)
class Views:
    """What every page needs from the whole register, indexed in one pass before any page is rendered. Every
    figure comes from the report models (`figures`); pages render them and compute none."""

    register: Register
    figures: Figures
    history: Mapping[str, list[Any]]
    has_log: bool
    as_of: dt.date
    reasons: Mapping[str, Mapping[str, str]]  # commit -> its change record (type, reason, ...)
    hrefs: dict[str, str]
    inverse: dict[str, list[tuple[str, Record]]]
    repo: str | None
    env: Environment
    operations: Operations = field(default_factory=Operations)
    # Each record file's content key (path -> a digest of its path and bytes, from the load), and what its data
    # depends on besides them (bir's code, the configuration, the schemas, the YAML library: the result cache's
    # context). A page's digest takes the key for the record's data when there is one.
    keys: Mapping[str, bytes] = field(default_factory=dict)
    context: str = ""

    @classmethod
    def make(cls, register: Register, figures: Figures, history: Mapping[str, list[Any]], log: list[Any],
             as_of: dt.date, inverse: dict[str, list[tuple[str, Record]]] | None = None,
             reports: Mapping[str, Any] | None = None, keys: Mapping[str, bytes] | None = None,
             context: str = "") -> Views:
        repo = safe_url(register.config.repository_url)
        return cls(
            register,
            figures,
            history,
            bool(log),
            as_of,
            {e.commit: e.record for e in log},
            pages.link_map(register).hrefs(1),
            inverse if inverse is not None else register.inverse(),
            repo.rstrip("/") if repo else None,
            environment(register.config.base_currency),
            Operations.of(reports or {}),
            keys if keys is not None and context else {},
            context,
        )


def _commit_url(repo: str | None) -> Callable[[Any], str | None]:
    def url(entry: Any) -> str | None:
        from bir.site.docs import commit_url

        return commit_url(repo, entry.commit, entry.pr)

    return url


def _commit_label(entry: Any) -> str:
    return f"#{entry.pr}" if entry.pr else str(entry.commit)[:10]


class Renderer:
    """Renders record and service pages of one slice of the register into `site_dir`."""

    def __init__(self, views: Views, chrome: Chrome, site_dir: Path, links: LinkChecker,
                 previous: Mapping[str, PageState] | None = None, out: Path | None = None) -> None:
        self.v, self.chrome, self.site_dir, self.links = views, chrome, site_dir, links
        self.previous, self.out = previous or {}, out  # the last build's record pages (in place in `out`)
        self.pages: dict[str, PageState] = {}  # rel -> the page, as this build leaves it
        self.kept = 0  # pages not rendered: their digest and file are the last build's
        self.same = 0  # pages rendered again and not written: their bytes and file are the last build's
        self.key = _code_key() + repr((views.as_of, views.repo, views.has_log, views.context,
                                       views.register.config.base_currency)).encode() + chrome.page("", "").encode()
        env = views.env
        currency = views.register.config.base_currency
        self.money: Callable[[Any], str] = functools.partial(facts.money, currency=currency)
        self.record_rows: Callable[[Any], str] = functools.partial(record_rows, currency=currency)
        self.service_t: Template = env.get_template("service.html.j2")
        # A record's hand-outs, budgets, maintenance and vulnerabilities: most records have none, and their part
        # is then the same text on every page.
        self.no_operations = self.operations(Operations().for_record(""), always=True)
        self.anchors = pages.link_map(views.register).anchors(1)
        self.commit_url = _commit_url(views.repo)
        self.note = "No change to this record in the git history." if views.has_log else "The register is not in git: no history."
        self.broken: list[tuple[str, str]] = []
        self._record_hrefs: dict[str, str] = {}

    def write(self, rel: str, digest: bytes, title: str, content: str) -> None:
        """The page `rel` into the site folder, unless the output holds these very bytes, as the last build left
        them (then the output's file stays: bytes and mtime)."""
        self.broken.extend((rel, href) for href in self.links.check_text(rel, content))
        data = self.chrome.page(title, content).encode("utf-8")
        sha = incremental.content_hash(data)
        old = self.previous.get(rel)
        if old is not None and old.content == sha and self._in_place(rel, old):
            self.pages[rel] = PageState(digest, old.print, sha)
            self.same += 1
            return
        with open(self.site_dir / rel, "wb") as handle:
            handle.write(data)
            st = os.fstat(handle.fileno())
        self.pages[rel] = PageState(digest, (st.st_size, st.st_mtime_ns, st.st_ino), sha)

    def _in_place(self, rel: str, old: PageState) -> bool:
        """Whether the output's file `rel` is the one the last build left (size, mtime and inode)."""
        if self.out is None:
            return False
        try:
            return incremental.fingerprint((self.out / rel).stat()) == old.print
        except OSError:
            return False

    def unchanged(self, rel: str, digest: bytes) -> bool:
        """True (and the page kept) when the output's page `rel` is the last build's with this digest."""
        old = self.previous.get(rel)
        if old is None or old.digest != digest or not self._in_place(rel, old):
            return False
        self.pages[rel] = old  # the page in the output shows exactly this: leave it (bytes and mtime)
        self.kept += 1
        return True

    def tables(self, rec: Record) -> dict[str, list[dict[str, object]]]:
        """The lists a record page shows that come from elsewhere in the register: its history, and a party's
        or location's tables of records (built once for both the digest and the page)."""
        party, location = self.v.figures.parties.get(rec.id), self.v.figures.locations.get(rec.id)
        return {"history": self.history_rows(rec.id),
                "owns": self.rows(party.owns) if party else [],
                "pays_for": self.rows(party.pays_for) if party else [],
                "holds": self.rows(party.holds) if party else [],
                "located": self.rows(location.holds) if location else []}

    def digest(self, rec: Record, tables: Mapping[str, list[dict[str, object]]]) -> bytes:
        """Everything a record page shows, hashed: its data, figures, the names and links of every record it
        names or that names it, its history, its party or location tables (`tables`), and what every page
        shares (code, chrome, as-of day). Equal digests, equal pages."""
        v = self.v
        records, hrefs = v.register.records, v.hrefs
        h = hashlib.blake2b(self.key, digest_size=16)
        h.update(self.data_key(rec))
        h.update(repr(v.figures.records[rec.id]).encode())
        named = sorted(_ids_in(rec.data, records))
        h.update(repr([(r, records[r].name, hrefs.get(r, "")) for r in named]).encode())
        h.update(repr([(t, s.id, s.name, hrefs.get(s.id, "")) for t, s in v.inverse.get(rec.id, ())]).encode())
        h.update(repr(tables["history"]).encode())
        party, location = v.figures.parties.get(rec.id), v.figures.locations.get(rec.id)
        if party is not None:
            h.update(repr((party, tables["owns"], tables["pays_for"], tables["holds"])).encode())
        if location is not None:
            h.update(repr((location, tables["located"])).encode())
        return h.digest()

    def data_key(self, rec: Record) -> bytes:
        """What stands for the record's data in a digest: its file's content key (its data is the parse of
        those bytes under `Views.context`, which the page key holds), else the data itself."""
        key = self.v.keys.get(rec.path)
        return b"k" + key if key is not None else b"d" + marshal.dumps((rec.id, rec.kind, rec.path, storable(rec.data)), 2)

    def record(self, rec: Record) -> None:
        rel_path = f"records/{pages.file_id(rec.id)}.html"
        tables = self.tables(rec)
        digest = self.digest(rec, tables)
        if self.unchanged(rel_path, digest):
            return
        v, esc = self.v, html.escape
        records, hrefs = v.register.records, v.hrefs
        rows: list[str] = []
        diagram_in: list[tuple[str, str, str]] = []
        diagram_out: list[tuple[str, str, str]] = []
        for rel in rec.relations:
            target = records.get(rel.target)
            name = target.name if target is not None else ""
            href = hrefs.get(rel.target, "")
            cell = self.anchors_plain(rel.target, href)
            rows.append(
                f'<tr><td class="bir-word">out</td><td class="bir-word">{esc(rel.type)}</td><td class="bir-id">{cell}</td>'
                f'<td class="bir-text">{esc(name)}</td><td class="bir-text">{esc(rel.note)}</td></tr>\n'
            )
            diagram_out.append((rel.type, name or rel.target, href))
        for rtype, src in v.inverse.get(rec.id, ()):
            label = pages.relation_type_label(rtype, True)
            href = hrefs.get(src.id, "")
            rows.append(
                f'<tr><td class="bir-word">in</td><td class="bir-word">{esc(label)}</td><td class="bir-id">{self.anchors_plain(src.id, href)}</td>'
                f'<td class="bir-text">{esc(src.name)}</td><td class="bir-text"></td></tr>\n'
            )
            diagram_in.append((label, src.name or src.id, href))
        diagram = charts.relation_diagram((rec.name, ""), diagram_in, diagram_out) if rows else ""
        data = rec.data
        description = data.get("description")
        party, location = v.figures.parties.get(rec.id), v.figures.locations.get(rec.id)
        f = v.figures.records[rec.id]
        # A party, waiver, audit or budget has no cost, value or support date of its own: its page shows
        # computed values only when the models give it one (a finding, say).
        computed = rec.kind not in ADMINISTRATIVE_KINDS or bool(
            f.book_value is not None or f.annual_run_cost or f.end_of_support or f.services or f.findings or f.licence)
        content = recordpage.record_content(
            rec=rec,
            name=rec.name,
            status=rec.status,
            description=description if description else None,
            f=f,
            computed=computed,
            as_of=v.as_of,
            attributes=pages.attributes(self.anchors, rec),
            relations="".join(rows),
            diagram=diagram,
            history=tables["history"],
            history_note=self.note,
            timeline=self.timeline(rec),
            edit_url=f"{v.repo}/edit/main/{rec.path}" if v.repo else None,
            service_url=pages.service_href(rec.id),
            service_href=pages.service_href,
            party=party,
            location=location,
            tables=tables,
            hrefs=hrefs,
            operations=self.operations(v.operations.for_record(rec.id)),
            money=self.money,
            record_rows=self.record_rows,
        )
        self.write(rel_path, digest, f"{rec.name} ({rec.id})", content)

    def operations(self, lists: Mapping[str, list[Any]], always: bool = False) -> str:
        """The part of a record page with its hand-outs, budgets, maintenance and vulnerabilities."""
        if not always and not any(lists.values()):
            return self.no_operations
        return recordpage.operations_content(hrefs=self.v.hrefs, as_of=self.v.as_of, **lists)

    def rows(self, ids: tuple[str, ...]) -> list[dict[str, object]]:
        """The rows of a party's or location's table of records (at most TABLE_ROWS), figures from the models."""
        records, per_record, hrefs = self.v.register.records, self.v.figures.records, self.v.hrefs
        out: list[dict[str, object]] = []
        for rid in ids[:TABLE_ROWS]:
            r, f = records[rid], per_record[rid]
            out.append({"id": rid, "name": r.name, "kind": r.kind, "status": r.status, "run": f.annual_run_cost,
                        "book": f.book_value, "href": hrefs[rid]})
        return out

    def history_rows(self, rid: str) -> list[dict[str, object]]:
        """The record's changes, newest first, each with its fields, change type, reason and link."""
        out: list[dict[str, object]] = []
        for h in self.v.history.get(rid, ()):
            fields = [{"path": f.path, "old": _shown(f.old), "new": _shown(f.new)} for f in (h.fields or ())[:FIELDS_SHOWN]]
            change_record = self.v.reasons.get(h.commit, {})
            out.append({"commit": h.commit, "date": h.date, "change": h.change, "change_type": h.change_type or
                        change_record.get("change_type"), "fields": fields if h.change != "added" else [],
                        "more": max(len(h.fields or ()) - FIELDS_SHOWN, 0) if h.change != "added" else 0,
                        "reason": change_record.get("reason", ""), "subject": h.subject, "author": h.author,
                        "url": self.commit_url(h), "label": _commit_label(h)})
        return out

    def timeline(self, rec: Record) -> list[dict[str, str]]:
        """The record's state dates and life dates in order, with the as-of day among them."""
        f = self.v.figures.records[rec.id]
        points: list[tuple[str, int, str]] = []
        dates = rec.data.get("status_dates")
        if isinstance(dates, Mapping):
            for state, day in dates.items():
                if isinstance(day, str):
                    points.append((day, 1, str(state).replace("_", " ")))
        for day_, label in ((f.end_of_support, "end of support"), (f.end_of_life, "end of life")):
            if day_ is not None:
                points.append((day_.isoformat(), 2, label))
        if not points:
            return []
        today = self.v.as_of.isoformat()
        points.append((today, 0, "as of (today's figures)"))
        points.sort()
        return [{"date": d, "label": label, "cls": "bir-today" if order == 0 else ("bir-future" if d > today else "")}
                for d, order, label in points]

    def record_href(self, rid: str) -> str:
        """`pages.record_href(rid)`, kept: a service page links up to 500 records, most of them on other pages too."""
        href = self._record_hrefs.get(rid)
        if href is None:
            href = self._record_hrefs[rid] = pages.record_href(rid)
        return href

    @staticmethod
    def anchors_plain(rid: str, href: str) -> str:
        return f'<a href="{html.escape(href)}">{html.escape(rid)}</a>' if href else html.escape(rid)

    def service(self, svc: Record) -> dict[str, object]:
        """Write the service page; returns its row of the services table (figures from the models)."""
        v = self.v
        sf = v.figures.services[svc.id]
        records, per_record = v.register.records, v.figures.records
        comp_rows = []
        for cid in sf.components[:SERVICE_ROWS]:
            c, f = records[cid], per_record[cid]
            comp_rows.append({"id": c.id, "name": c.name, "kind": c.kind, "status": c.status, "run": f.annual_run_cost,
                              "book": f.book_value, "shared": len(f.services) > 1, "href": v.hrefs[c.id]})
        spof = [{"id": cid, "name": records[cid].name, "kind": records[cid].kind, "href": self.record_href(cid)}
                for cid in sf.single_points_of_failure[:SERVICE_ROWS]]
        risks = [{"severity": f.severity, "record": f.record, "message": f.message, "rule": f.rule,
                  "href": self.record_href(f.record)} for f in sf.findings[:SERVICE_ROWS]]
        rel = f"services/{pages.file_id(svc.id)}.html"
        h = hashlib.blake2b(self.key, digest_size=16)
        h.update(self.data_key(svc))
        # what the page shows of the figures (not every id: a page lists SERVICE_ROWS of each)
        shown = (len(sf.components), sf.shared, sf.annual_run_cost, sf.annual_run_cost_full, sf.tco, sf.book_value_full,
                 len(sf.findings), sf.risk_score, len(sf.single_points_of_failure))
        h.update(repr((shown, comp_rows, spof, risks)).encode())
        digest = h.digest()
        if not self.unchanged(rel, digest):
            # the long lists built in Python, as `record_rows` does, escaped as the template would
            risks_html = "".join(f'<li><span class="bir-sev-{esc(x["severity"])}">{esc(x["severity"])}</span> <a href="{esc(x["href"])}">'
                                 f'{esc(x["record"])}</a>: {esc(x["message"])} <code>{esc(x["rule"])}</code></li>' for x in risks)
            spof_html = "".join(f'<li data-record="{esc(c["id"])}"><a href="{esc(c["href"])}">{esc(c["id"])}</a> {esc(c["name"])} '
                                f'({esc(c["kind"])})</li>' for c in spof)
            content = self.service_t.render(rec=svc, s=sf, components=comp_rows, risks=risks, spof=spof,
                                            risks_html=Markup(risks_html), spof_html=Markup(spof_html),  # noqa: S704 - escaped parts
                                            record_url=pages.record_href(svc.id), shown=SERVICE_ROWS,
                                            spof_total=len(sf.single_points_of_failure))
            self.write(rel, digest, f"{svc.name} (service)", content)
        return {
            "service": svc.id,
            "name": svc.name,
            "criticality": svc.data.get("criticality"),
            "status": svc.status,
            "components": len(sf.components),
            "annual_run_cost": sf.annual_run_cost,
            "annual_run_cost_in_full": sf.annual_run_cost_full,
            "risks": len(sf.findings),
            "single_points_of_failure": len(sf.single_points_of_failure),
        }


@dataclass(slots=True)
class SliceResult:
    pages: int
    broken: list[tuple[str, str]]
    service_rows: list[tuple[str, dict[str, object]]]
    written: dict[str, PageState]  # record and service pages: rel -> the page
    kept: int = 0  # pages left as the last build wrote them, not rendered
    same: int = 0  # pages rendered again, and left as the last build wrote them: the same bytes


def _ids_in(value: Any, records: Mapping[str, Record]) -> set[str]:
    """Every string in `value` that is a record id (the records a page names, whose name and link it shows)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if v in records:
                found.add(v)
        elif isinstance(v, Mapping):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return found


_CODE_KEY: list[bytes] = []


def _code_key() -> bytes:
    """What every page depends on besides its data: bir's version and the site's code and templates."""
    if not _CODE_KEY:
        from bir import __version__

        h = hashlib.sha256(__version__.encode())
        folder = Path(__file__).resolve().parent
        for path in sorted([*folder.glob("*.py"), *(folder / "templates").glob("*")]):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        _CODE_KEY.append(h.digest())
    return _CODE_KEY[0]


class ChunkQueue:
    """Chunks of records taken from either end, shared between forked processes (or not)."""

    def __init__(self, records: list[Record], size: int, shared: bool) -> None:
        self.records, self.size = records, size
        chunks = (len(records) + size - 1) // size
        if shared:
            import multiprocessing

            self._ends: Any = multiprocessing.get_context("fork").Array("l", [0, chunks])
            self._lock: Any = self._ends.get_lock()
        else:
            self._ends, self._lock = [0, chunks], None

    def take(self, front: bool) -> list[Record] | None:
        if self._lock is not None:
            self._lock.acquire()
        try:
            lo, hi = self._ends[0], self._ends[1]
            if lo >= hi:
                return None
            if front:
                chunk, self._ends[0] = lo, lo + 1
            else:
                chunk = self._ends[1] = hi - 1
        finally:
            if self._lock is not None:
                self._lock.release()
        return self.records[chunk * self.size : (chunk + 1) * self.size]


def render_queue(renderer: Renderer, queue: ChunkQueue, front: bool) -> SliceResult:
    """Render chunks from one end of `queue` until it is empty."""
    total = SliceResult(0, [], [], {})
    while (chunk := queue.take(front)) is not None:
        got = render_slice(renderer, chunk)
        total.pages += got.pages
        total.broken += got.broken
        total.service_rows += got.service_rows
    total.written, total.kept, total.same = renderer.pages, renderer.kept, renderer.same
    renderer.broken, renderer.pages, renderer.kept, renderer.same = [], {}, 0, 0
    return total


def render_slice(renderer: Renderer, records: Iterable[Record]) -> SliceResult:
    """Record pages for `records`, plus service pages for the services among them."""
    renderer.broken = []
    count = 0
    rows: list[tuple[str, dict[str, object]]] = []
    for rec in records:
        renderer.record(rec)
        count += 1
        if rec.kind == "service":
            rows.append((rec.id, renderer.service(rec)))
            count += 1
    return SliceResult(count, renderer.broken, rows, {})


def kind_pages(
    register: Register, chrome: Chrome, env: Environment, site_dir: Path, links: LinkChecker
) -> tuple[dict[str, str], int, list[tuple[str, str]]]:
    """The tables of records per kind: page 1 as a fill for the MkDocs kind page, pages 2.. written here."""
    template = env.get_template("kind.html.j2")
    fills: dict[str, str] = {}
    broken: list[tuple[str, str]] = []
    written = 0
    by_kind: dict[str, list[Record]] = defaultdict(list)
    for rec in register.records.values():
        by_kind[rec.kind].append(rec)
    hrefs = pages.link_map(register).hrefs(1)
    for kind, extra in KIND_COLUMNS.items():
        recs = sorted(by_kind.get(kind, []), key=lambda r: r.id)
        if not recs:
            continue
        pages_n = (len(recs) + KIND_PAGE_ROWS - 1) // KIND_PAGE_ROWS
        for page in range(1, pages_n + 1):
            chunk = recs[(page - 1) * KIND_PAGE_ROWS : page * KIND_PAGE_ROWS]
            rows = Markup("".join(_kind_row(r, hrefs, extra) for r in chunk))  # noqa: S704 - escaped parts
            links_ = [
                {"n": n, "current": n == page, "href": f"{kind}.html" if n == 1 else f"{kind}-{n}.html"}
                for n in range(1, pages_n + 1)
            ]
            content = template.render(
                kind=kind, rows=rows, extra=extra, total=len(recs), page=page, pages=pages_n, page_links=links_,
                search_url="../search.html",
            )
            if page == 1:
                fills[f"kind-{kind}"] = content
            else:
                title = f"{kind.replace('_', ' ').capitalize()}, page {page}"
                body = f'<h1 id="{kind}">{html.escape(title)}</h1>' + content
                rel = f"kinds/{kind}-{page}.html"
                broken.extend((rel, href) for href in links.check_text(rel, body))
                (site_dir / rel).write_text(chrome.page(title, body), encoding="utf-8")
                written += 1
    return fills, written, broken


def _kind_row(r: Record, hrefs: Mapping[str, str], extra: tuple[str, ...]) -> str:
    """One row of a kind page's table (built in Python, as `record_rows`, for 5,000 rows a page)."""
    owner = r.owner or ""
    owner_href = hrefs.get(owner, "")
    owner_cell = f'<a href="{esc(owner_href)}">{esc(owner)}</a>' if owner_href else esc(owner)
    cells = "".join(f'<td class="{esc(pages.cell_class(v))}">{esc(pages.fmt(v))}</td>' for v in (r.data.get(c) for c in extra))
    return (f'<tr><td class="bir-id"><a href="{esc(hrefs[r.id])}">{esc(r.id)}</a></td><td class="bir-text">{esc(r.name)}</td>'
            f'<td class="bir-word">{esc(r.status)}</td><td class="bir-id">{owner_cell}</td>{cells}</tr>\n')


def kind_page_files(register: Register) -> list[str]:
    """The kind pages after the first that `kind_pages` will write."""
    counts: dict[str, int] = defaultdict(int)
    for rec in register.records.values():
        counts[rec.kind] += 1
    out: list[str] = []
    for kind in KIND_COLUMNS:
        n = (counts.get(kind, 0) + KIND_PAGE_ROWS - 1) // KIND_PAGE_ROWS
        out.extend(f"kinds/{kind}-{p}.html" for p in range(2, n + 1))
    return out
