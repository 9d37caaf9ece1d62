"""Rebuilding in place: unchanged pages keep their bytes and mtime, changed ones equal a full build's, and
the records read from the last build equal a fresh load."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from bir.base.layout import CACHE_DIR
from bir.point.point import open_point
from bir.site import incremental, loadcache
from bir.site.build import MARKER, SiteBuildError, build_site
from site_support import demo_repo


def _files(site: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(site).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns) for p in site.rglob("*")
            if p.is_file() and p.name != MARKER}


def _full(root: Path, out: Path) -> None:
    """A build that cannot reuse anything: no cache, a new output folder."""
    cache = root / CACHE_DIR
    keep = root.parent / "cache-aside"
    if cache.exists():
        shutil.move(cache, keep)
    try:
        build_site(root, out)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if keep.exists():
            shutil.move(keep, cache)


def _age(root: Path, seconds: int = 10, paths: list[Path] | None = None) -> None:
    """Record files modified `seconds` ago (so the cache of records may keep them: see loadcache)."""
    old = time.time_ns() - seconds * 1_000_000_000
    for path in paths if paths is not None else (root / "registry").rglob("*.yaml"):
        os.utime(path, ns=(old, old))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
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
    assert "577 record and service pages unchanged; 1 files written, 0 removed" in lines  # the marker, with its new token
    assert "records: 0 file(s) read, the others taken from the last build" in lines


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
    assert "records: 3 file(s) read, the others taken from the last build" in lines
    assert any(line.startswith("records+downloads: ") for line in lines)
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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "repo"]  # no work folder left behind


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


def test_records_from_the_last_build_equal_a_fresh_load(repo: Path) -> None:
    _first, read = loadcache.load(open_point(repo))
    assert read == 556
    rec = repo / "registry" / "hardware" / "srv-wms-01.yaml"
    rec.write_text(rec.read_text(encoding="utf-8").replace("\nname: ", "\nname: Changed ", 1), encoding="utf-8")
    bad = repo / "registry" / "hardware" / "srv-wms-02.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("\nstatus: ", "\nstatus: nonsense-", 1), encoding="utf-8")
    _age(repo, 5, [rec, bad])  # not racy: the cache may keep them
    second, read = loadcache.load(open_point(repo))
    assert read == 2
    third, read = loadcache.load(open_point(repo))
    assert read == 0
    fresh = open_point(repo).load().register
    for got in (second.register, third.register):
        assert list(got.records) == list(fresh.records)
        assert all(got.records[k].data == fresh.records[k].data and got.records[k].path == fresh.records[k].path
                   for k in fresh.records)
    assert "srv-wms-02" not in fresh.records and len(fresh) == 555


def test_a_file_changed_just_now_is_read_again(repo: Path) -> None:
    rec = repo / "registry" / "hardware" / "srv-wms-01.yaml"
    _age(repo, 0)
    loadcache.load(open_point(repo))  # the files were modified just now: none is kept
    _, read = loadcache.load(open_point(repo))
    assert read == 556
    _age(repo)
    loadcache.load(open_point(repo))
    _, read = loadcache.load(open_point(repo))
    assert read == 0
    text = rec.read_text(encoding="utf-8")
    rec.write_text(text.replace("\nname: ", "\nname: X", 1), encoding="utf-8")  # now: read, and not kept
    got, read = loadcache.load(open_point(repo))
    assert read == 1 and got.register.records["srv-wms-01"].name.startswith("X")
    got, read = loadcache.load(open_point(repo))
    assert read == 1 and got.register.records["srv-wms-01"].name.startswith("X")
