"""The built demo site in a real browser (Debian's Chromium via Playwright), served on 127.0.0.1 and opened
from disk: every kind of page at phone and desktop widths, with screenshots kept as test artifacts (in the
pytest temporary folder, and in $BIR_SCREENSHOTS when set)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support import HOSTILE_ID

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = (390, 1280, 1920)
REPORTS = ("lifecycle", "cost", "risk", "licences", "decisions")

# One page of every kind the site has (not all 556 record pages).
PAGES = [
    "index.html", "search.html", "changes.html", "downloads.html", "model.html", "guide/asset-manager.html",
    "schema/hardware.html", *(f"reports/{r}.html" for r in REPORTS), "kinds/hardware.html", "kinds/party.html",
    "services/index.html", "services/svc-tms.html", "parties/index.html", "cost-centres/index.html", "locations/index.html",
    "records/srv-wms-01.html", "records/team-platform.html", "records/fac-dc-ams1.html", "records/lic-eset-endpoint.html",
    f"records/{HOSTILE_ID}.html",
]

# What the browser measures on a page: page overflow, ids that wrap or stick out of their cell, chart texts
# whose boxes overlap or leave their chart, and how many charts there are.
MEASURE = """() => {
  const out = {overflow: document.documentElement.scrollWidth - window.innerWidth, wrapped: [], overlaps: [], outside: [],
               charts: document.querySelectorAll("svg.bir-chart").length};
  const cells = document.querySelectorAll("table td.bir-id, table.bir-table td a");
  for (const el of cells) {
    if (!el.offsetParent) { continue; }
    const cell = el.closest("td");
    const inner = el.tagName === "A" ? el : (el.querySelector("a") || el);
    if (inner.getClientRects().length > 1 || cell.scrollWidth > cell.clientWidth + 1) { out.wrapped.push(inner.textContent.trim()); }
  }
  for (const svg of document.querySelectorAll("svg.bir-chart, svg.bir-diagram")) {
    const box = svg.getBoundingClientRect();
    const texts = Array.from(svg.querySelectorAll("text")).map(t => [t.textContent, t.getBoundingClientRect()]).filter(x => x[1].width > 0);
    for (let i = 0; i < texts.length; i++) {
      const [a, r] = texts[i];
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) { out.outside.push(a); }
      for (let j = i + 1; j < texts.length; j++) {
        const [b, q] = texts[j];
        const x = Math.min(r.right, q.right) - Math.max(r.left, q.left), y = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
        if (x > 0.5 && y > 0.5) { out.overlaps.push(a + " / " + b); }
      }
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def site(demo_site: tuple[Path, Path]) -> Iterator[tuple[str, Path, Path]]:
    from bir.site.serve import start_server

    root, out = demo_site
    server = start_server(out, 0)
    yield f"http://127.0.0.1:{server.server_address[1]}", root, out
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _watch(pg: Any) -> list[str]:
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    pg = browser.new_page()
    pg.errors = _watch(pg)
    yield pg
    assert pg.errors == [], pg.errors  # no errors in the browser console on any page visited
    pg.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_kind_of_page_reads_at_this_width(site: tuple[str, Path, Path], browser: Any, shots: Path, width: int) -> None:
    """No page scrolls sideways, no id wraps or is cut, no chart text overlaps another or leaves its chart,
    every report page has a chart, and nothing goes to the console."""
    url, _root, _out = site
    pg = browser.new_page(viewport={"width": width, "height": 900})
    errors = _watch(pg)
    problems: list[str] = []
    keep = os.environ.get("BIR_SCREENSHOTS")
    for rel in PAGES:
        response = pg.goto(f"{url}/{rel}")
        assert response is not None and response.status == 200, rel
        got = pg.evaluate(MEASURE)
        if got["overflow"] > 0:
            problems.append(f"{rel}: {got['overflow']} px wider than the window")
        if got["wrapped"]:
            problems.append(f"{rel}: ids wrapped or cut: {got['wrapped'][:5]}")
        if got["overlaps"] or got["outside"]:
            problems.append(f"{rel}: chart texts overlap {got['overlaps'][:5]} or leave the chart {got['outside'][:5]}")
        if rel.startswith("reports/") and got["charts"] < 1:
            problems.append(f"{rel}: no chart")
        shot = shots / f"{width}-{rel.replace('/', '_')}.png"
        pg.screenshot(path=str(shot), full_page=True)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / shot.name)
    pg.close()
    assert problems == [], "\n".join(problems)
    assert errors == []
    assert len(list(shots.glob(f"{width}-*.png"))) == len(PAGES)


def test_dashboard_shows_figures_and_charts(site: tuple[str, Path, Path], page: Any) -> None:
    url, root, _out = site
    page.goto(url + "/index.html")
    figures = page.locator("#bir-figures .bir-figure")
    assert figures.count() == 7
    records = len(list((root / "registry").rglob("*.yaml")))
    assert figures.first.inner_text().split("\n")[0].replace(",", "") == str(records)
    assert page.locator("svg.bir-chart").count() == 5
    assert page.locator("svg.bir-chart rect.bir-bar").count() > 20
    for ident in ("chart-support", "chart-forecast", "chart-capital", "chart-risk", "chart-states"):
        svg = page.locator(f"#{ident} svg")
        assert svg.locator("title").count() >= 1 and svg.locator("desc").count() == 1, ident
        assert page.locator(f"#{ident}-data tbody tr").count() >= 2, ident  # the numbers beside the chart
    # past purchases and the forecast (which includes recurring costs) are different charts
    assert page.locator("#chart-capital-data thead").inner_text().split() == ["year", "purchases"]
    assert page.locator("#chart-forecast-data tbody td.bir-id").all_inner_texts() == ["next 12 months", "next 36 months"]


def test_charts_read_without_script(site: tuple[str, Path, Path], browser: Any) -> None:
    url, _root, _out = site
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(url + "/reports/cost.html")
    assert pg.locator("svg.bir-chart").count() == 3
    assert pg.locator("#chart-forecast-data tbody tr").count() == 2
    context.close()


def _search(page: Any, url: str, query: str) -> list[str]:
    page.goto(url + "/search.html")
    page.fill("#bir-search", query)
    page.wait_for_function(
        "document.getElementById('bir-search-status').textContent.length > 0 && "
        "!document.getElementById('bir-search-status').textContent.startsWith('Type')"
    )
    return [a.get_attribute("href") or "" for a in page.locator("#bir-search-results a").all()]


def _field(path: Path, name: str) -> str:
    m = re.search(rf'^{name}: "?([^"\n]+)', path.read_text(encoding="utf-8"), re.M)
    assert m, (path, name)
    return m.group(1)


def test_search_finds_records_by_every_identifier_and_pages(site: tuple[str, Path, Path], page: Any) -> None:
    url, root, _out = site
    rec = root / "registry" / "hardware" / "srv-wms-01.yaml"
    for value in (rec.stem, _field(rec, "name"), _field(rec, "serial_number"), _field(rec, "asset_tag"), _field(rec, "hostname")):
        assert any(h.endswith("records/srv-wms-01.html") for h in _search(page, url, value)), value
    hrefs = _search(page, url, "depreciation straight")
    assert any("reports/cost.html#" in h or "guide/" in h or "reference/" in h for h in hrefs), hrefs
    page.click("#bir-search-results a >> nth=0")
    page.wait_for_load_state()
    assert page.locator("article h1").count() == 1


def test_header_search_works_from_disk(site: tuple[str, Path, Path], browser: Any) -> None:
    """Opened as files, with no server: the header box of a record page finds records and pages."""
    _url, _root, out = site
    pg = browser.new_page()
    errors = _watch(pg)
    pg.goto((out / "records" / "team-platform.html").as_uri())
    box = pg.locator(".bir-header-search input")
    box.fill("srv-wms-01")
    pg.wait_for_selector(".bir-header-results li a")
    assert pg.locator(".bir-header-results a").first.get_attribute("href", timeout=2000).endswith("records/srv-wms-01.html")  # type: ignore[union-attr]
    box.fill("single point of failure")
    pg.wait_for_function("document.querySelector('.bir-header-results').textContent.includes('page')")
    box.press("Enter")
    pg.wait_for_url("**/search.html?q=*")
    pg.wait_for_function("document.getElementById('bir-search-status').textContent.includes('match')")
    assert pg.locator("#bir-search-results li").count() >= 1
    assert errors == []
    pg.close()


def test_record_page_history_relations_and_links(site: tuple[str, Path, Path], page: Any) -> None:
    url, _root, _out = site
    page.goto(f"{url}/records/srv-wms-01.html")
    history = page.locator("table.bir-history tbody tr")
    assert history.count() >= 1 and "Alice Admin" in history.first.inner_text()
    assert page.locator("#bir-timeline li").count() >= 2
    assert page.locator("svg.bir-diagram").count() == 1
    links = page.locator("table.bir-relations a")
    assert links.count() >= 1
    target = links.first.get_attribute("href")
    links.first.click()
    page.wait_for_load_state()
    assert page.url.endswith(str(target).split("/")[-1])
    assert page.locator("article h1").count() >= 1


def test_table_sorts_filters_and_keeps_its_header_in_view(site: tuple[str, Path, Path], page: Any) -> None:
    url, _root, _out = site
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(url + "/kinds/hardware.html")
    rows = page.locator("table.bir-kind tbody tr")
    total = rows.count()
    first_id = rows.first.locator("td").first.inner_text()
    page.fill(".bir-filter", first_id)
    assert page.locator("table.bir-kind tbody tr:not([hidden])").count() < total
    page.fill(".bir-filter", "")
    page.click("table.bir-kind th >> nth=0")
    page.click("table.bir-kind th >> nth=0")
    assert rows.first.locator("td").first.inner_text() >= first_id
    wrap = page.locator(".bir-table-wrap").first
    wrap.evaluate("w => { w.scrollTop = 2000; }")
    head = page.locator("table.bir-kind thead th").first.bounding_box()
    box = wrap.bounding_box()
    assert head is not None and box is not None and abs(head["y"] - box["y"]) < 3  # the header stays at the top


def test_print_leaves_out_navigation_and_prints_every_row(site: tuple[str, Path, Path], page: Any) -> None:
    url, _root, _out = site
    page.goto(url + "/reports/cost.html")
    page.emulate_media(media="print")
    assert page.locator(".md-sidebar--primary").first.evaluate("e => getComputedStyle(e).display") == "none"
    assert page.locator(".md-header").evaluate("e => getComputedStyle(e).display") == "none"
    wrap = page.locator(".bir-table-wrap").first
    assert wrap.evaluate("e => [getComputedStyle(e).overflowY, getComputedStyle(e).maxHeight]") == ["visible", "none"]
    assert page.locator(".bir-filter").first.evaluate("e => getComputedStyle(e).display") == "none"
    assert page.locator("svg.bir-chart").first.is_visible()
    pdf = page.pdf()
    assert pdf[:5] == b"%PDF-" and len(pdf) > 20_000


def test_served_site_is_only_the_output(site: tuple[str, Path, Path], page: Any) -> None:
    url, _root, _out = site
    response = page.goto(url + "/")
    assert response is not None and response.status == 200 and page.locator("#bir-figures").count() == 1
