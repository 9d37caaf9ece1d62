"""The built demo site in a real browser (Debian's Chromium via Playwright), served on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(demo_site: tuple[Path, Path]) -> Iterator[tuple[str, Path]]:
    root, out = demo_site
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    pg = browser.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    assert errors == [], errors  # no errors in the browser console on any page visited
    pg.close()


def test_dashboard_shows_figures_and_charts(site: tuple[str, Path], page: Any) -> None:
    url, root = site
    page.goto(url + "/index.html")
    figures = page.locator("#bir-figures .bir-figure")
    assert figures.count() == 7
    records = len(list((root / "registry").rglob("*.yaml")))
    assert figures.first.inner_text().split("\n")[0].replace(",", "") == str(records)
    assert page.locator("svg.bir-chart").count() == 4
    assert page.locator("svg.bir-chart rect.bir-bar").count() > 4


def _search(page: Any, url: str, query: str) -> list[str]:
    page.goto(url + "/search.html")
    page.fill("#bir-search", query)
    page.wait_for_function(
        "document.getElementById('bir-search-status').textContent.length > 0 && "
        "!document.getElementById('bir-search-status').textContent.startsWith('Type')"
    )
    return [a.get_attribute("href") or "" for a in page.locator("#bir-search-results a").all()]


def test_search_finds_by_name_and_id(site: tuple[str, Path], page: Any) -> None:
    url, root = site
    rec = sorted((root / "registry" / "hardware").glob("*.yaml"))[3]
    name = next(line.split(":", 1)[1].strip().strip('"') for line in rec.read_text().splitlines() if line.startswith("name:"))
    assert any(h.endswith(f"records/{rec.stem}.html") for h in _search(page, url, rec.stem))
    hrefs = _search(page, url, name)
    assert any(h.endswith(f"records/{rec.stem}.html") for h in hrefs)
    page.click(f"#bir-search-results a[href$='records/{rec.stem}.html']")
    page.wait_for_url(f"**/records/{rec.stem}.html")
    assert rec.stem in page.locator("article").inner_text()


def test_record_page_history_relations_and_links(site: tuple[str, Path], page: Any) -> None:
    url, root = site
    rec = next(p for p in sorted((root / "registry" / "hardware").glob("*.yaml")) if "relations:" in p.read_text())
    page.goto(f"{url}/records/{rec.stem}.html")
    history = page.locator("table.bir-history tbody tr")
    assert history.count() >= 1 and "Ada Admin" in history.first.inner_text()
    assert page.locator("svg.bir-diagram").count() == 1
    links = page.locator("table.bir-relations a")
    assert links.count() >= 1
    target = links.first.get_attribute("href")
    links.first.click()
    page.wait_for_load_state()
    assert page.url.endswith(str(target).split("/")[-1])
    assert page.locator("article h1").count() >= 1
    for path in ("/kinds/hardware.html", "/reports/cost.html", "/services/index.html", "/changes.html"):
        response = page.goto(url + path)
        assert response is not None and response.status == 200


def test_report_table_sorts_and_filters(site: tuple[str, Path], page: Any) -> None:
    url, _ = site
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
