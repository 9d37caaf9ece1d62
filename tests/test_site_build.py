"""`bir site build` on the demo register (in a git repository with a hostile record): files, strict MkDocs,
links, escaping, search, downloads and the atomic replacement of the output."""

from __future__ import annotations

import csv
import re
import sqlite3
from pathlib import Path

import pytest

from bir.site import build as site_build
from bir.site.build import SiteBuildError, build_site
from bir.site.linkcheck import check
from bir.site.search import lookup
from support import HOSTILE_ID

AS_OF = "2026-11-01"


@pytest.fixture(scope="module")
def built(demo_site: tuple[Path, Path]) -> tuple[Path, Path]:
    return demo_site


def test_expected_files(built: tuple[Path, Path]) -> None:
    root, out = built
    for name in (
        "index.html",
        "search.html",
        "changes.html",
        "downloads.html",
        "schema/index.html",
        "schema/hardware.html",
        "reports/lifecycle.html",
        "reports/cost.html",
        "reports/risk.html",
        "reports/licences.html",
        "reports/decisions.html",
        "kinds/hardware.html",
        "services/index.html",
        "model.html",
        "search-index/manifest.js",
        "downloads/register.json",
        "downloads/register.sqlite",
        "downloads/party.csv",
        "assets/bir/bir.js",
        "assets/bir/bir.css",
        f"records/{HOSTILE_ID}.html",
    ):
        assert (out / name).is_file(), name
    records = list((root / "registry").rglob("*.yaml"))
    assert len(list((out / "records").glob("*.html"))) == len(records)
    assert not (out / "records" / "_template.html").exists()
    assert "BIRFILL" not in (out / "kinds" / "hardware.html").read_text(encoding="utf-8")


def test_no_broken_internal_link(built: tuple[Path, Path]) -> None:
    assert check(built[1]) == []


def test_dashboard_and_history(built: tuple[Path, Path]) -> None:
    root, out = built
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("<svg") >= 4 and "annual run cost" in index and "deadlines in 90 days" in index
    changes = (out / "changes.html").read_text(encoding="utf-8")
    # newest first, the PR linked from repository_url
    assert changes.index("2026-03-05") < changes.index("2026-02-05") < changes.index("2026-01-05")
    assert 'href="https://github.com/northwind/register/pull/12"' in changes
    first = sorted((root / "registry").rglob("*.yaml"))[0].stem
    page = (out / "records" / f"{first}.html").read_text(encoding="utf-8")
    assert "Alice Admin" in page and "2026-01-05" in page and "/commit/" in page
    assert 'href="https://github.com/northwind/register/edit/main/registry/' in page


def test_hostile_record_is_inert(built: tuple[Path, Path]) -> None:
    _, out = built
    page = (out / "records" / f"{HOSTILE_ID}.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for path in out.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "<script>alert" not in text, path
        assert not re.search(r"""href=["']?\s*javascript:""", text, re.I), path
        assert "<img src=x" not in text and 'onmouseover="alert' not in text, path
        assert "<b>tag</b>" not in text and "<strong>bold</strong>" not in text, path
    for path in (out / "search-index").glob("*.js"):
        assert "</script>" not in path.read_text(encoding="utf-8")
    with (out / "downloads" / "party.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.reader(handle)]
    cells = [c for r in rows for c in r]
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    assert any(c.startswith("'=cmd|") for c in cells)


def test_search_finds_by_id_name_serial_and_tag(built: tuple[Path, Path]) -> None:
    root, out = built
    idx = out / "search-index"
    assert [r[0] for r in lookup(idx, HOSTILE_ID)] == [HOSTILE_ID]
    hw = sorted((root / "registry" / "hardware").glob("*.yaml"))[0]
    text = hw.read_text(encoding="utf-8")
    serial = re.search(r'^serial_number: "?([^"\n]+)', text, re.M)
    if serial:
        assert hw.stem in [r[0] for r in lookup(idx, serial.group(1))]
    name = re.search(r'^name: "?([^"\n]+)', text, re.M)
    assert name and hw.stem in [r[0] for r in lookup(idx, name.group(1))]


def test_sqlite_download(built: tuple[Path, Path]) -> None:
    con = sqlite3.connect(built[1] / "downloads" / "register.sqlite")
    tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    assert {"hardware", "party", "relations"} <= tables
    assert con.execute("select count(*) from relations").fetchone()[0] > 0


def test_failed_build_keeps_the_old_output(built: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = built
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("old site", encoding="utf-8")
    (out / site_build.MARKER).write_text("built by bir", encoding="utf-8")

    def broken(_site: Path, **_kw: object) -> list[tuple[str, str]]:
        return [("index.html", "missing.html")]

    monkeypatch.setattr("bir.site.linkcheck.check", broken)
    with pytest.raises(SiteBuildError, match="broken internal link"):
        build_site(root, out, check_links=True)
    assert (out / "index.html").read_text(encoding="utf-8") == "old site"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no build folder left behind
    assert site_build.KIND_PAGE_ROWS > 0


def test_never_replaces_a_folder_bir_did_not_build(built: tuple[Path, Path], tmp_path: Path) -> None:
    root, out = built
    assert (out / site_build.MARKER).is_file()
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.md").write_text("years of work", encoding="utf-8")
    with pytest.raises(SiteBuildError, match="holds files that bir did not build"):
        build_site(root, mine)
    assert (mine / "thesis.md").read_text(encoding="utf-8") == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]
    with pytest.raises(SiteBuildError, match="holds the register itself"):
        build_site(root, root)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.org/a?b=1", "https://example.org/a?b=1"),
        ("mailto:ops@example.org", "mailto:ops@example.org"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("data:text/html,<script>", None),
        ('https://example.org/" onclick="alert(1)', None),
        ("//evil.example/x", None),
    ],
)
def test_only_http_and_mailto_links(value: str, expected: str | None) -> None:
    from bir.site.safe import safe_url

    assert safe_url(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("plain", "plain"),
    ],
)
def test_csv_cells_neutralised(value: str, expected: str) -> None:
    from bir.site.safe import csv_cell

    assert csv_cell(value) == expected


def test_markdown_text_is_inert() -> None:
    from bir.site.safe import md_text

    out = md_text("[x](javascript:alert(1)) <b>*y*</b>\n\n# h")
    assert "<" not in out and "[" not in out and "(" not in out and "*" not in out and "\n" not in out


def test_parallel_build_writes_the_same_site(built: tuple[Path, Path], tmp_path: Path) -> None:
    """Forked workers taking chunks from both ends of the queue, and the downloads written by a process of
    their own, give the same files as one process."""
    root, out = built
    other = tmp_path / "parallel"
    result = build_site(root, other, workers=3)
    assert result.pages > len(list((root / "registry").rglob("*.yaml")))

    def pages(site: Path) -> dict[str, bytes]:
        return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*")
                if p.suffix in (".html", ".js", ".csv", ".json", ".sqlite")}

    mine, theirs = pages(out), pages(other)
    assert sorted(mine) == sorted(theirs)
    assert {"downloads/register.json", "downloads/register.sqlite", "downloads/hardware.csv"} <= set(theirs)
    assert [name for name in mine if mine[name] != theirs[name]] == []


def test_downloads_equal_the_exports(built: tuple[Path, Path]) -> None:
    """The streamed downloads are byte-identical to `bir export`'s JSON and CSV."""
    from bir.api import load as load_register
    from bir.write import exporters

    root, out = built
    register = load_register(root).register
    assert (out / "downloads" / "register.json").read_text(encoding="utf-8") == exporters.to_json(register)
    csvs = exporters.to_csv(register)
    assert sorted(p.stem for p in (out / "downloads").glob("*.csv")) == sorted(csvs)
    for kind, text in csvs.items():
        assert (out / "downloads" / f"{kind}.csv").read_bytes() == text.encode("utf-8"), kind




def test_service_pages_list_the_first_rows_and_count_all(demo_site: tuple[Path, Path], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """With two rows a list, a service page shows two components, risks and single points of failure, says
    how many there are, and its figures still count all of them (from the models)."""
    from bir.point.point import open_point
    from bir.reports import evaluate
    from bir.site import render

    root, _out = demo_site
    monkeypatch.setattr(render, "SERVICE_ROWS", 2)
    build_site(root, tmp_path / "out", check_links=False)
    figures = evaluate(open_point(root)).figures()
    many = [(sid, sf) for sid, sf in figures.services.items() if len(sf.components) > 2 and len(sf.findings) > 2]
    assert many
    for sid, sf in many:
        page = (tmp_path / "out" / "services" / f"{sid}.html").read_text(encoding="utf-8")
        rows = re.search(r'<table class="bir-table" id="bir-components">.*?</table>', page, re.DOTALL)
        assert rows and re.findall(r'<tr data-record="([^"]+)">', rows.group(0)) == list(sf.components[:2]), sid
        assert f"Showing 2 of {len(sf.components)} components; the downloads have all of them" in page
        assert f"The first 2 of {len(sf.findings)} open risks; the risk report has all of them." in page
        risks = page.split('<h2 id="risks">', 1)[1].split('<h2 id="spof">', 1)[0]
        assert risks.count("<li>") == 2, sid
        assert f'data-figure="components" data-value="{len(sf.components)}"' in page
        spof = len(sf.single_points_of_failure)
        assert f'data-figure="single_points_of_failure" data-value="{spof}"' in page
        assert (f"The first 2 of {spof} single points of failure" in page) == (spof > 2), sid
        assert page.count('<li data-record="') == min(spof, 2), sid


def test_a_parallel_build_computes_the_figures_once(built: tuple[Path, Path], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The downloads' process is forked after the figures are computed, so it does not compute them again."""
    import os

    import bir.reports.evaluation as reports

    calls = tmp_path / "calls"
    real = reports.figures

    def counted(*args: object, **kwargs: object) -> object:
        with open(calls, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reports, "figures", counted)
    root, _out = built
    build_site(root, tmp_path / "out", workers=2)
    assert calls.read_text(encoding="utf-8").splitlines() == [str(os.getpid())]
