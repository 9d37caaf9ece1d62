"""The site's charts, history, search of written pages, sitemap and server, on the demo site, on a new
register and on a register built commit by commit."""

from __future__ import annotations

import html
import http.client
import itertools
import re
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from bir.site import charts
from bir.site.build import build_site
from bir.site.search import lookup
from bir.site.serve import serve, start_server
from bir.site.sitemap import base_url
from support import git, make_register


def test_ticks_are_round_distinct_and_whole_for_counts() -> None:
    assert charts.nice_ticks(11, count=True) == [0, 3, 6, 9, 12]
    assert charts.nice_ticks(1, count=True) == [0, 1]  # a single record: no 0.25 ticks printed as 0
    assert charts.nice_ticks(0, count=True) == [0, 1]
    ticks = charts.nice_ticks(2_674_008.06, count=False)
    assert ticks == [0, 1_000_000, 2_000_000, 3_000_000]
    labels = [charts.tick_label(t, ticks[1], ticks[-1]) for t in ticks]
    assert labels == ["0", "1M", "2M", "3M"]
    ticks = charts.nice_ticks(506_425, count=False)
    assert [charts.tick_label(t, ticks[1] - ticks[0], ticks[-1]) for t in ticks] == ["0", "200k", "400k", "600k"]
    ticks = charts.nice_ticks(1_300_000, count=False)
    assert [charts.tick_label(t, ticks[1] - ticks[0], ticks[-1]) for t in ticks] == ["0", "0.5M", "1.0M", "1.5M"]


def test_empty_chart_says_nothing_to_show() -> None:
    got = charts.figure("c", "End of support", "d", [("records", "eol")], [charts.Bar("2027-Q1", (Decimal(0),))],
                        horizontal=False, empty="no record ends its support")
    assert got == ('<figure class="bir-chart-fig" id="c"><figcaption>End of support</figcaption>'
                   '<p class="bir-nothing">Nothing to show: no record ends its support.</p></figure>')
    assert "<svg" not in charts.figure("c", "t", "d", [("x", "")], [], horizontal=True)


def test_chart_labels_never_touch() -> None:
    """Twelve quarters in 560 px: every other label is written, and written labels are farther apart than wide."""
    bars = [charts.Bar(f"2027-Q{i % 4 + 1}", (Decimal(i),)) for i in range(12)]
    svg = charts.figure("c", "t", "d", [("records", "")], bars, horizontal=False)
    xs = [float(x) for x in re.findall(r'<text class="bir-label" x="([\d.]+)"', svg)]
    assert 3 <= len(xs) < 12
    assert min(b - a for a, b in itertools.pairwise(xs)) > charts.text_width("2027-Q1")
    long = [charts.Bar("A service with a very long name indeed, longer than the label column", (Decimal(3),))]
    svg = charts.figure("h", "t", "d", [("records", "")], long, horizontal=True)
    label = re.search(r'<text class="bir-label"[^>]*>([^<]*)</text>', svg)
    assert label and label.group(1).endswith("…") and charts.text_width(label.group(1)) <= charts.WIDTH * 0.36
    assert "<title>A service with a very long name indeed" in svg  # the whole label is in the bar's title


def test_chart_text_is_escaped() -> None:
    svg = charts.figure("c", "<b>t</b>", "<i>", [("<s>", "x\" onload=\"y")], [charts.Bar("<script>", (Decimal(1),), "x\"y")],
                        horizontal=True)
    assert "<script>" not in svg and "<b>" not in svg and 'onload="y' not in svg and "&lt;script&gt;" in svg


def test_a_new_registers_dashboard_has_no_broken_axis(tmp_path: Path) -> None:
    """`bir init`'s register: every chart either draws a proper axis or says there is nothing to show."""
    root = make_register(tmp_path / "reg", scaffold=True)
    out = tmp_path / "out"
    build_site(root, out)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count('class="bir-chart-fig"') == 5
    assert "Nothing to show: no in-service record reaches its end of support in the next three years." in index
    for svg in re.findall(r"<svg class=\"bir-chart\".*?</svg>", index, re.S):
        ticks = re.findall(r'<text class="bir-tick"[^>]*text-anchor="end">([^<]*)</text>', svg)
        assert len(ticks) == len(set(ticks)), ticks  # never 1, 1, 0, 0, 0
    for name in ("lifecycle", "cost", "risk", "licences", "decisions"):
        assert 'class="bir-chart-fig"' in (out / "reports" / f"{name}.html").read_text(encoding="utf-8"), name


def test_search_finds_written_pages_by_their_words(demo_site: tuple[Path, Path]) -> None:
    _root, out = demo_site
    rows = lookup(out / "search-index", "single point of failure")
    pages = [r for r in rows if r[2] == "page"]
    assert pages and all("#" in r[0] or r[0].endswith(".html") for r in pages)
    assert any(r[0].startswith(("guide/", "reference/", "reports/")) for r in pages)
    assert lookup(out / "search-index", "srv-wms-01")[0][0] == "srv-wms-01"  # the record whose id it is comes first
    assert not any(r[0].startswith(("records/", "kinds/")) for r in pages)  # records are found as records


def test_sitemap_lists_every_page(demo_site: tuple[Path, Path]) -> None:
    root, out = demo_site
    text = (out / "sitemap.xml").read_text(encoding="utf-8")
    locs = re.findall(r"<loc>([^<]+)</loc>", text)
    pages = {p.relative_to(out).as_posix() for p in out.rglob("*.html")} - {"404.html"}
    pages = {p for p in pages if not p.startswith("assets/")}
    assert sorted(locs) == sorted(f"https://northwind.github.io/register/{p}" for p in pages)
    assert len(locs) > 577
    first = sorted((root / "registry" / "hardware").glob("*.yaml"))[0].stem
    assert re.search(rf"records/{first}\.html</loc><lastmod>2026-0[12]-05</lastmod>", text)
    assert not (out / "sitemap.xml.gz").exists()


@pytest.mark.parametrize(("site_url", "repo", "expected"), [
    ("https://register.example.org/it", "https://github.com/a/b", "https://register.example.org/it/"),
    (None, "https://github.com/Northwind/register", "https://northwind.github.io/register/"),
    (None, "https://github.com/a/b.git", "https://a.github.io/b/"),
    ("javascript:alert(1)", "https://gitlab.example/a/b", None),
    (None, None, None),
])
def test_sitemap_address(site_url: str | None, repo: str | None, expected: str | None) -> None:
    assert base_url(site_url, repo) == expected


def test_history_newest_first_with_fields_type_reason_and_link(tmp_path: Path) -> None:
    root = make_register(tmp_path / "reg", scaffold=True)
    (root / "bir.yaml").write_text((root / "bir.yaml").read_text(encoding="utf-8") +
                                   "repository_url: https://github.com/acme/register\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Start the register")
    rec = sorted((root / "registry").rglob("*.yaml"))[0]
    text = rec.read_text(encoding="utf-8")
    name = re.search(r"^name: (.*)$", text, re.M)
    assert name
    rec.write_text(text.replace(name.group(0), "name: Renamed <b>thing</b>"), encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Rename it (#7)\n\nChange-Type: normal\nChange-Reason: The old name misled the desk\n",
        date="2026-02-01T10:00:00+00:00")
    out = tmp_path / "out"
    build_site(root, out)
    page = (out / "records" / f"{rec.stem}.html").read_text(encoding="utf-8")
    body = page[page.index('id="bir-history"'):page.index("</table>", page.index('id="bir-history"'))]
    rows = re.findall(r"<tr data-record=.*?</tr>", body, re.S)
    assert len(rows) == 2
    assert "2026-02-01" in rows[0] and "2026-01-05" in rows[1]  # newest first
    assert "modified" in rows[0] and '<span class="bir-badge">normal</span>' in rows[0]
    assert "<code>name</code>" in rows[0] and "Renamed &lt;b&gt;thing&lt;/b&gt;" in rows[0]
    old = yaml.safe_load(text)["name"]
    assert f'<span class="bir-old">{html.escape(old)}</span> → Renamed' in rows[0]
    assert "The old name misled the desk" in rows[0]
    assert 'href="https://github.com/acme/register/pull/7"' in rows[0]
    assert "added" in rows[1] and "created" in rows[1] and "/commit/" in rows[1]


def _get(port: int, path: str, host: str | None = None) -> tuple[int, bytes, dict[str, str]]:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    con.putrequest("GET", path, skip_host=True)
    con.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
    con.endheaders()
    res = con.getresponse()
    body = res.read()
    con.close()
    return res.status, body, dict(res.getheaders())


def test_serve_answers_with_the_built_site_only(demo_site: tuple[Path, Path], tmp_path: Path) -> None:
    _root, out = demo_site
    server = start_server(out, 0)
    port = server.server_address[1]
    try:
        status, body, _ = _get(port, "/")
        assert status == 200 and b'id="bir-figures"' in body  # the dashboard, not a folder listing
        assert _get(port, "/index.html")[0] == 200
        assert _get(port, "/", host=f"localhost:{port}")[0] == 200
        for host in ("evil.example", f"evil.example:{port}", "127.0.0.1:1", ""):
            assert _get(port, "/index.html", host=host)[0] == 421, host  # DNS rebinding gets nothing
        for path in ("/.bir-site", "/records/", "/../bir.yaml", "/%2e%2e/bir.yaml", "/registry/", "/assets/",
                     "/records/_template.html"):
            assert _get(port, path)[0] == 404, path
        assert _get(port, "/reports")[0] == 404  # a folder without an index page
        status, _, headers = _get(port, "/guide?x=1")
        assert (status, headers["Location"]) == (301, "/guide/")  # a folder with an index page: into it
    finally:
        server.shutdown()
        server.server_close()


def test_serve_refuses_links_out_of_the_site(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("home", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (site / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (site / "docs").symlink_to(tmp_path)
    server = start_server(site, 0)
    port = server.server_address[1]
    try:
        assert _get(port, "/index.html")[1] == b"home"
        assert _get(port, "/leak.txt")[0] == 404
        assert _get(port, "/docs/secret.txt")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_serve_builds_serves_the_output_and_rebuilds(tmp_path: Path) -> None:
    root = make_register(tmp_path / "reg", scaffold=True)
    out = tmp_path / "build"
    lines: list[str] = []
    stop = threading.Event()
    worker = threading.Thread(target=serve, args=(root, out, 0), kwargs={"log": lines.append, "interval": 0.1, "stop": stop})
    worker.start()
    try:
        for _ in range(300):
            if any(line.startswith("serving ") for line in lines):
                break
            stop.wait(0.1)
        url = next(line for line in lines if line.startswith("serving "))
        m = re.match(r"serving http://127\.0\.0\.1:(\d+)/index\.html \(the built site in (.*); Ctrl-C to stop\)$", url)
        assert m and Path(m.group(2)) == out
        port = int(m.group(1))
        assert _get(port, "/index.html")[0] == 200
        assert _get(port, "/bir.yaml")[0] == 404  # the register itself is not served
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()


def test_whitespace_is_folded_outside_pre_textarea_script_and_style() -> None:
    from bir.site.render import fold_whitespace

    text = "<ul>\n    \n  <li>a</li>  \n\n <li>b c</li></ul><pre>x\n\n  y</pre>\n\n<script>var a = 1;\n\n  // c\n</script>" \
           "<textarea>t\n\n t</textarea><style>p {\n\n}</style><PRE>q\n\n</PRE>"
    assert fold_whitespace(text) == ("<ul>\n<li>a</li>\n<li>b c</li></ul><pre>x\n\n  y</pre>\n<script>var a = 1;\n\n  // c\n"
                                     "</script><textarea>t\n\n t</textarea><style>p {\n\n}</style><PRE>q\n\n</PRE>")


def test_record_pages_carry_one_link_per_section(demo_site: tuple[Path, Path]) -> None:
    """A record page's side navigation lists the sections (each linking to its first page), not every page:
    the pages MkDocs writes keep the theme's full navigation."""
    _root, out = demo_site
    page = (out / "records" / "srv-wms-01.html").read_text(encoding="utf-8")
    primary = page[page.index('<nav class="md-nav md-nav--primary"'):page.index('<nav class="md-nav md-nav--secondary"')]
    links = re.findall(r'<a href="([^"]+)" class="md-nav__link"><span class="md-ellipsis">([^<]+)</span>', primary)
    assert links == [("../index.html", "Dashboard"), ("../search.html", "Search"), ("../reports/lifecycle.html", "Reports"),
                     ("../kinds/hardware.html", "Records by kind"), ("../services/index.html", "Services"),
                     ("../parties/index.html", "Who owns what"), ("../changes.html", "Change log"),
                     ("../model.html", "Data model"), ("../schema/index.html", "Schema reference"),
                     ("../downloads.html", "Downloads"), ("../guide/index.html", "Guide"), ("../reference/cli.html", "Reference")]
    assert "md-nav__item--nested" not in primary
    assert "\n\n" not in page.split("<article", 1)[0]  # the theme's blank lines are folded
    written = (out / "reports" / "cost.html").read_text(encoding="utf-8")
    assert 'href="../reports/risk.html"' in written or 'href="risk.html"' in written  # MkDocs pages: the full nav
    assert "md-nav__item--nested" in written
    assert len(page.encode()) < 16_000


@pytest.mark.parametrize(("text", "expected"), [
    ("srv-ams-01", ["srv-ams-01", "srv", "ams", "01"]),
    ("Dell R750", ["dell", "r750"]),
    ("a.b:c/d_e", ["a.b:c/d_e", "a", "b", "c", "d", "e"]),
    ("ÄÖ é-x 42", ["x", "42"]),
    ("--", []),
])
def test_search_tokens_are_whole_tokens_then_their_parts(text: str, expected: list[str]) -> None:
    from bir.site.search import tokens

    assert tokens(text) == expected


def test_search_token_set_is_the_set_of_tokens() -> None:
    """`token_set` (two scans) holds exactly the tokens `tokens` lists, on crafted and random text."""
    import random

    from bir.site.search import token_set, tokens

    crafted = ["srv-ams-01", "--a--b--", "a..b", "x/", "/y", "K\u212a-\u0130stanbul", "ab_cd.ef:gh/ij-kl", "", " \n ", "a-b c-d a"]
    alphabet = "ab1Z-_.:/ \né\u212a"
    rng = random.Random(7)
    texts = crafted + ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30))) for _ in range(5000)]
    for text in texts:
        assert token_set(text) == set(tokens(text)), text


@pytest.mark.parametrize(("page", "sections"), [
    ("<article><h1 id='t'>Title</h1><p>before</p><table><tr><td>cell</td></tr></table><p>after</p></article>",
     [("p.html", "Title", "before after")]),
    ("<article><h1 id='t'>T</h1>a<TABLE class='x'><tr><td><table><td>inner</td></table>still</td></tr></TABLE>b"
     "<h2 id='s'>S</h2>text</article>", [("p.html", "T", "a b"), ("p.html#s", "T › S", "text")]),
    ("<article><h1 id='t'>T</h1>kept<table><tr><td>never closed</td></tr><h2 id='late'>Late</h2>lost</article>",
     [("p.html", "T", "kept")]),
    ("<article><h1 id='t'>T</h1>x</table>y</article>", [("p.html", "T", "x y")]),
])
def test_search_page_sections_leave_tables_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str,
                                              sections: list[tuple[str, str, str]]) -> None:
    """Table text is not indexed; the tables are cut out before parsing, with the same sections as a parse
    that skips them (a table left open runs to the end of the page)."""
    from bir.site import search
    from bir.site.search import page_sections

    (tmp_path / "p.html").write_text(page, encoding="utf-8")
    assert [(s.url, s.title, s.text) for s in page_sections(tmp_path, ["p.html"])] == sections
    monkeypatch.setattr(search, "without_tables", lambda text: text)  # the parser alone skips them the same way
    assert [(s.url, s.title, s.text) for s in page_sections(tmp_path, ["p.html"])] == sections


@pytest.mark.parametrize("value", ['<script>alert("x")</script>', "O'Brien & Co", "plain", "", "é <b>", Decimal("12.50"), None])
def test_tables_built_in_python_escape_as_the_templates_do(value: object) -> None:
    """Rows built in Python (`render.record_rows`) read byte for byte as the template loops they replaced."""
    from markupsafe import escape

    from bir.site.render import Markup, environment, esc, record_rows

    assert esc(value) == str(escape(value))
    row = {"id": "hw-1", "href": "../records/hw-1.html", "name": value, "kind": "hardware", "status": value,
           "run": Decimal("1.50"), "book": None, "shared": True}
    loop = environment("EUR").from_string(
        '{% for c in rows %}<tr data-record="{{ c.id }}"><td class="bir-id"><a href="{{ c.href }}">{{ c.id }}</a></td>'
        '<td class="bir-text">{{ c.name }}</td><td class="bir-word">{{ c.kind }}</td><td class="bir-word">{{ c.status }}</td>'
        '<td class="bir-word">{{ "yes" if c.shared else "no" }}</td><td class="bir-num" data-sort="{{ c.run }}">{{ money(c.run) }}'
        "</td><td class=\"bir-num\" data-sort=\"{{ c.book if c.book is not none else '' }}\">{{ money(c.book) }}</td></tr>\n"
        "{% endfor %}")
    assert record_rows([row], "EUR", shared=True) == Markup(loop.render(rows=[row]))
