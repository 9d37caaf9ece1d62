"""Rebuilding in place: unchanged pages keep their bytes and mtime, changed ones equal a full build's, and
only the changed files are checked again (the others' verdicts come from the result cache)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from bir.base.layout import CACHE_DIR
from bir.site import incremental
from bir.site.build import MARKER, SiteBuildError, build_site
from support import demo_repo


def _files(site: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(site).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns) for p in site.rglob("*")
            if p.is_file() and p.name != MARKER}


def _full(root: Path, out: Path) -> None:
    """A build that cannot reuse anything: no cache of the register's, an empty result cache, a new output folder."""
    cache = root / CACHE_DIR
    keep = root.parent / "cache-aside"
    if cache.exists():
        shutil.move(cache, keep)
    results = os.environ.get("BIR_CACHE_DIR")
    os.environ["BIR_CACHE_DIR"] = str(root.parent / "results-of-the-full-build")
    try:
        build_site(root, out)
    finally:
        os.environ["BIR_CACHE_DIR"] = results or ""
        if results is None:
            del os.environ["BIR_CACHE_DIR"]
        shutil.rmtree(cache, ignore_errors=True)
        if keep.exists():
            shutil.move(keep, cache)


def _age(root: Path, seconds: int = 10, paths: list[Path] | None = None) -> None:
    """Record files modified `seconds` ago (as files edited a while before the build are)."""
    old = time.time_ns() - seconds * 1_000_000_000
    for path in paths if paths is not None else (root / "registry").rglob("*.yaml"):
        os.utime(path, ns=(old, old))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BIR_CACHE_DIR", str(tmp_path / "results"))  # the result cache of this test alone
    root = demo_repo(tmp_path / "repo")
    _age(root)
    return root


def test_unchanged_rebuild_touches_nothing(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    lines: list[str] = []
    build_site(repo, out)
    before = _files(out)
    time.sleep(0.01)
    build_site(repo, out, log=lines.append)
    assert _files(out) == before  # every file: same bytes, same mtime
    assert "593 record and service pages unchanged; 1 files written, 0 removed" in lines  # the marker, with its new token
    assert "records: 0 of 572 file(s) checked, the others' verdicts from the cache" in lines


def test_rebuild_after_changes_equals_a_full_build(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_site(repo, out)
    before = _files(out)
    reg = repo / "registry"
    # a record others point at renamed, a cost changed, one record added, one removed
    office = reg / "facility" / "fac-bld-rtm-office.yaml"
    office.write_text(office.read_text(encoding="utf-8").replace("\nname: ", "\nname: Renamed ", 1), encoding="utf-8")
    laptop = sorted((reg / "hardware").glob("lt-*.yaml"))[0]
    laptop.write_text(laptop.read_text(encoding="utf-8").replace("purchase_cost: ", "purchase_cost: 1", 1), encoding="utf-8")
    spare = sorted((reg / "hardware").glob("lt-*.yaml"))[1]
    (reg / "hardware" / "lt-9999.yaml").write_text(spare.read_text(encoding="utf-8").replace(spare.stem, "lt-9999"), encoding="utf-8")
    gone = sorted((reg / "hardware").glob("dt-*.yaml"))[-1]
    gone.unlink()
    _age(repo, 5, [office, laptop, reg / "hardware" / "lt-9999.yaml"])
    lines: list[str] = []
    build_site(repo, out, log=lines.append, workers=2)  # a forked worker renders, another writes the downloads
    assert "records: 3 of 572 file(s) checked, the others' verdicts from the cache" in lines
    assert any(line.startswith("record pages: ") for line in lines)
    other = tmp_path / "full"
    _full(repo, other)
    now, full = _files(out), _files(other)
    assert sorted(now) == sorted(full)
    assert [rel for rel in now if now[rel][0] != full[rel][0]] == []  # byte for byte what a full build writes
    assert f"records/{gone.stem}.html" not in now and "records/lt-9999.html" in now
    kept = [rel for rel in now if rel in before and now[rel] == before[rel]]
    changed = [rel for rel in now if rel.startswith("records/") and rel in before and now[rel] != before[rel]]
    assert len(kept) > 400 and f"records/{laptop.stem}.html" in changed and "records/fac-bld-rtm-office.html" in changed
    # a page showing the renamed office (it is located there) changed too; one that does not is untouched
    assert any("fac-bld-rtm-office" in (reg / "hardware" / f"{Path(r).stem}.yaml").read_text(encoding="utf-8")
               for r in changed if (reg / "hardware" / f"{Path(r).stem}.yaml").exists())
    assert all(now[rel][1] == before[rel][1] for rel in kept)


def test_a_changed_configuration_rewrites_the_pages_it_shows_in(repo: Path, tmp_path: Path) -> None:
    """No record file changed, but bir.yaml's currency did: every page that shows an amount shows it in the new
    currency, as a full build does (a page's digest holds the configuration, not only its record's bytes)."""
    out = tmp_path / "out"
    build_site(repo, out)
    config = repo / "bir.yaml"
    text = config.read_text(encoding="utf-8").replace("base_currency: EUR", "base_currency: CHF", 1)
    config.write_text(text.replace("    CHF: 1.06", "    EUR: 0.94", 1), encoding="utf-8")  # a record costing 0 still shows "CHF"
    lines: list[str] = []
    build_site(repo, out, log=lines.append)
    other = tmp_path / "full"
    _full(repo, other)
    now, full = _files(out), _files(other)
    assert sorted(now) == sorted(full)
    assert [rel for rel in now if now[rel][0] != full[rel][0]] == []
    assert "CHF" in now["records/team-platform.html"][0].decode()


def test_a_page_changed_by_hand_is_written_again(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_site(repo, out)
    page = out / "records" / "team-platform.html"
    good = page.read_bytes()
    page.write_bytes(b"defaced")
    (out / "records" / "stray.html").write_text("not ours", encoding="utf-8")
    build_site(repo, out)
    assert page.read_bytes() == good
    assert not (out / "records" / "stray.html").exists()


def test_pages_rendered_again_with_the_same_bytes_are_not_written(repo: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Another version of bir changes every page's digest (the site's code is part of it), so every record and
    service page is rendered again; one whose bytes are the last build's stays in the output as it is (bytes,
    mtime, inode), unless its file is no longer the one the last build left there."""
    out = tmp_path / "out"
    build_site(repo, out)
    defaced = out / "records" / "team-platform.html"
    good = defaced.read_bytes()
    defaced.write_bytes(b"defaced")
    before = _files(out)
    inodes = {rel: (out / rel).stat().st_ino for rel in before}
    monkeypatch.setattr("bir.site.render._CODE_KEY", [b"another version of bir"])
    lines: list[str] = []
    time.sleep(0.01)
    build_site(repo, out, log=lines.append, workers=2)
    assert "592 record and service pages unchanged (592 of them rendered again: the same bytes); 2 files written, " \
           "0 removed" in lines  # the defaced page and the marker
    now = _files(out)
    assert [rel for rel in now if now[rel] != before[rel]] == ["records/team-platform.html"]
    assert defaced.read_bytes() == good
    assert all((out / rel).stat().st_ino == inodes[rel] for rel in now if rel != "records/team-platform.html")
    monkeypatch.setattr("bir.site.render._CODE_KEY", [b"and one more"])
    lines.clear()
    build_site(repo, out, log=lines.append)  # the manifest holds the rewritten page's bytes too
    assert "593 record and service pages unchanged (593 of them rendered again: the same bytes); 1 files written, " \
           "0 removed" in lines
    assert _files(out) == {**before, "records/team-platform.html": now["records/team-platform.html"]}


def test_a_failed_rebuild_leaves_the_output_and_its_manifest(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    build_site(repo, out)
    before = _files(out)
    rec = repo / "registry" / "party" / "team-platform.yaml"
    rec.write_text(rec.read_text(encoding="utf-8").replace("\nname: ", "\nname: Changed ", 1), encoding="utf-8")
    monkeypatch.setattr("bir.site.linkcheck.check", lambda _site, **_kw: [("index.html", "missing.html")])
    with pytest.raises(SiteBuildError, match="broken internal link"):
        build_site(repo, out)
    assert _files(out) == before
    assert incremental.previous(repo.resolve(), out.resolve(), MARKER) is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "repo", "results"]  # no work folder left behind


def test_an_output_bir_did_not_write_last_is_built_in_full(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_site(repo, out)
    assert incremental.previous(repo.resolve(), out.resolve(), MARKER) is not None
    (out / MARKER).write_text("Built by `bir site build`\n", encoding="utf-8")  # another build's marker
    assert incremental.previous(repo.resolve(), out.resolve(), MARKER) is None
    lines: list[str] = []
    build_site(repo, out, log=lines.append)
    assert not any(line.startswith("updating") for line in lines)
    assert incremental.previous(repo.resolve(), (tmp_path / "elsewhere").resolve(), MARKER) is None
