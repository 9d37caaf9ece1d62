"""Lifecycle feeds: import (validated, normalised, atomic), cycle matching, and the dates the rules use."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from bir.base.model import Record
from bir.read.feeds import FEED_DIR, FeedError, cycle_of, load_feeds, normalise, reference
from bir.reports import build_report
from bir.reports.models import RiskReport
from bir.write.feeds import import_files
from support import TEAM, commit, git, loaded_register, make_register, run

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feeds"


def test_import_normalises_and_writes(tmp_path: Path) -> None:
    root = make_register(tmp_path / "reg")
    written = import_files(root, [FIXTURES / "acmeos.json"])
    assert written == [root / FEED_DIR / "acmeos.json"]
    doc = json.loads(written[0].read_text())
    assert doc["product"] == "acmeos" and doc["generated_at"] == "2026-08-22"
    assert doc["releases"][1] == {"name": "3.1", "label": "3.1", "releaseDate": "2021-01-01", "eolFrom": "2026-01-31",
                                  "eoasFrom": "2024-01-31", "eoesFrom": "2028-01-31", "isLts": True, "isEol": True,
                                  "isEoas": True, "isMaintained": False, "latest": "3.1.9"}
    assert list(tmp_path.rglob(".*.tmp")) == []  # the atomic write left nothing behind
    # importing an already normalised file is not allowed (it is not an API document), the original is
    with pytest.raises(FeedError, match="no `result` object"):
        import_files(root, [written[0]])


@pytest.mark.parametrize(("doc", "message"), [
    ([], "no `result` object"),
    ({"result": {"name": "Bad Name", "releases": []}}, "is not a product name"),
    ({"result": {"name": "x", "releases": {}}}, "is not a list"),
    ({"result": {"name": "x", "releases": [{"label": "1"}]}}, "release 0 has no name"),
    ({"result": {"name": "x", "releases": [{"name": "1"}, {"name": "1"}]}}, "appears twice"),
    ({"result": {"name": "x", "releases": [{"name": "1", "eolFrom": "2026-02-30"}]}}, "eolFrom '2026-02-30' is not a date"),
])
def test_invalid_documents(doc: Any, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        normalise(doc, "f.json")


def test_bad_file_writes_nothing(tmp_path: Path) -> None:
    root = make_register(tmp_path / "reg")
    with pytest.raises(FeedError, match=r"bad-date\.json"):
        import_files(root, [FIXTURES / "acmeos.json", FIXTURES / "bad-date.json"])
    assert not (root / FEED_DIR).exists()


def test_cli_import(tmp_path: Path) -> None:
    root = make_register(tmp_path / "reg")
    assert run("feed", "import", "--root", root, FIXTURES / "acmeos.json") == (0, "imported feeds/endoflife/acmeos.json\n", "")


def _sw(**data: Any) -> Record:
    return Record("sw", "software", "", {"id": "sw", "kind": "software", **data})


@pytest.mark.parametrize(("data", "cycle"), [
    ({"lifecycle_feed": {"product": "acmeos", "cycle": "3.1"}}, "3.1"),
    ({"lifecycle_feed": {"product": "acmeos"}, "version": "3.10.2"}, "3.10"),  # longest prefix, not 3.1
    ({"purl": "pkg:generic/acmeos@3.1.4"}, "3.1"),
    ({"purl": "pkg:generic/acmeos@3.10"}, "3.10"),
    ({"purl": "pkg:generic/acmeos@2.7?arch=x86"}, "2"),
    ({"purl": "pkg:generic/acmeos@4.0"}, None),
    ({"purl": "pkg:generic/acmeos@3.100"}, None),  # a prefix must end at a dot
    ({"purl": "pkg:generic/other@1.0"}, None),
    ({"version": "3.1"}, None),
])
def test_cycle_matching(tmp_path: Path, data: dict[str, Any], cycle: str | None) -> None:
    root = make_register(tmp_path / "reg")
    import_files(root, [FIXTURES / "acmeos.json"])
    found = cycle_of(_sw(**data), load_feeds(root))
    assert (found[1].name if found else None) == cycle


def test_reference_forms() -> None:
    assert reference(_sw(purl="pkg:generic/AcmeOS@3.1#sub")) == ("acmeos", "3.1")
    assert reference(_sw(purl="pkg:npm/acmeos@3.1")) is None


def test_rules_use_feed_dates(tmp_path: Path) -> None:
    def sw(rid: str, **extra: Any) -> dict[str, Any]:
        return {"id": rid, "kind": "software", "name": rid, "owner": "team-it", "status": "active",
                "status_dates": {"active": "2022-01-01"}, "last_verified": "2026-10-01", **extra}

    reg = loaded_register(tmp_path / "reg", [
        sw("sw-old", lifecycle_feed={"product": "acmeos", "cycle": "3.1"}),   # eolFrom 2026-01-31
        sw("sw-new", purl="pkg:generic/acmeos@3.10.1"),                       # supported
        sw("sw-eos", purl="pkg:generic/acmeos@3.10.1", end_of_support="2026-03-01"),  # record date wins
        sw("sw-local", lifecycle_feed={"product": "acmeos", "cycle": "3.1"}, end_of_life="2027-06-30"),
    ])
    import_files(Path(reg.root), [FIXTURES / "acmeos.json"])
    rep = build_report("risk", reg, dt.date(2026, 11, 28), feeds=load_feeds(reg.root))
    assert isinstance(rep, RiskReport)
    got = {(f.rule, f.record): f.message for f in rep.findings}
    assert set(got) == {("software.end_of_life", "sw-old"), ("software.end_of_support", "sw-eos"),
                        ("software.end_of_support", "sw-local")}
    assert got[("software.end_of_life", "sw-old")].endswith("(2026-01-31, feed:acmeos@3.1)")
    assert got[("software.end_of_support", "sw-local")].endswith("(2024-01-31, record+feed:acmeos@3.1)")


def test_past_report_uses_the_feed_of_that_day(tmp_path: Path) -> None:
    root = make_register(tmp_path / "reg", records=[TEAM, {"id": "sw-os", "kind": "software", "name": "os", "owner": "team-it",
                                                           "status": "active", "status_dates": {"active": "2022-01-01"},
                                                           "last_verified": "2026-01-01", "purl": "pkg:generic/acmeos@3.1.2"}])
    import_files(root, [FIXTURES / "acmeos.json"])
    git(root, "init", "-q", "-b", "main")
    commit(root, "register", date="2026-01-10T12:00:00+00:00")
    # later the vendor extends 3.1 (a newer feed is imported and committed)
    doc = json.loads((FIXTURES / "acmeos.json").read_text())
    doc["result"]["releases"][1]["eolFrom"] = "2030-01-31"
    newer = tmp_path / "acmeos.json"
    newer.write_text(json.dumps(doc))
    import_files(root, [newer])
    git(root, "commit", "-q", "-am", "feed", date="2026-06-01T12:00:00+00:00")
    code, out, err = run("report", "risk", "--root", root, "--as-of", "2026-03-01", "--format", "json")
    assert code == 0, err
    assert [(f["rule"], f["record"]) for f in json.loads(out)["findings"]] == [("software.end_of_life", "sw-os")]
    assert load_feeds(root)["acmeos"].cycles["3.1"].eol == dt.date(2030, 1, 31)


# --- bir feed update, against an endoflife.date look-alike on 127.0.0.1 ------------------------------------

import http.server  # noqa: E402
import threading  # noqa: E402
from collections.abc import Iterator  # noqa: E402


class FakeEndoflife(http.server.ThreadingHTTPServer):
    """Serves /api/v1/products/<name>: `docs` by name, `fail_first` names answered 503 once, `slow` names late."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.docs: dict[str, bytes] = {}
        self.fail_first: set[str] = set()
        self.slow: set[str] = set()
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/v1"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeEndoflife

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        name = self.path.removeprefix("/api/v1/products/")
        if name in self.server.slow:
            threading.Event().wait(1.0)
        if name in self.server.fail_first:
            self.server.fail_first.discard(name)
            self.send_error(503, "busy")
            return
        body = self.server.docs.get(name)
        if body is None:
            self.send_error(404, "no such product")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the time-out test)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[FakeEndoflife]:
    server = FakeEndoflife()
    doc = json.loads((FIXTURES / "acmeos.json").read_text())
    doc["result"]["identifiers"] = [{"type": "purl", "id": "pkg:generic/acmeos"}, {"type": "repology", "id": "acmeos"},
                                    {"type": "cpe", "id": "cpe:2.3:o:acme:acmeos"}]
    server.docs["acmeos"] = json.dumps(doc).encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_update_fetches_pins_and_keeps_identifiers(tmp_path: Path, fake: FakeEndoflife) -> None:
    from bir.write.feeds import update

    root = make_register(tmp_path / "reg")
    fake.fail_first.add("acmeos")  # one 503 first: retried
    got = update(root, ["acmeos"], base_url=fake.url, today=dt.date(2026, 12, 1), pause=0.01)
    assert [(u.product, u.changed, u.fetched_on, u.releases) for u in got] == [("acmeos", True, "2026-12-01", 3)]
    assert fake.requests == ["/api/v1/products/acmeos"] * 2
    doc = json.loads((root / FEED_DIR / "acmeos.json").read_text())
    assert doc["fetched_on"] == "2026-12-01" and doc["source"] == f"{fake.url}/products/acmeos"
    assert doc["identifiers"] == [{"type": "purl", "id": "pkg:generic/acmeos"}, {"type": "cpe", "id": "cpe:2.3:o:acme:acmeos"}]
    feed = load_feeds(root)["acmeos"]
    assert (feed.ids("purl"), feed.ids("cpe"), feed.fetched_on) == (["pkg:generic/acmeos"], ["cpe:2.3:o:acme:acmeos"],
                                                                     "2026-12-01")
    assert feed.cycles["3.1"].eol == dt.date(2026, 1, 31)
    # a later run with the same document leaves the file alone (and names no product: every pinned one)
    before = (root / FEED_DIR / "acmeos.json").read_bytes()
    again = update(root, base_url=fake.url, today=dt.date(2026, 12, 8))
    assert [(u.changed, u.fetched_on) for u in again] == [(False, "2026-12-01")]
    assert (root / FEED_DIR / "acmeos.json").read_bytes() == before


def test_update_failures_change_nothing(tmp_path: Path, fake: FakeEndoflife) -> None:
    import socket

    from bir.write.feeds import FetchError, update

    root = make_register(tmp_path / "reg")
    with pytest.raises(FetchError, match=r"products/nosuch: not found \(404\)"):
        update(root, ["acmeos", "nosuch"], base_url=fake.url)
    assert not (root / FEED_DIR).exists()  # acmeos was fetched, but nothing is written unless all are
    fake.slow.add("acmeos")
    with pytest.raises(FetchError, match=r"no answer within 0.2 seconds \(tried 2 times\)"):
        update(root, ["acmeos"], base_url=fake.url, timeout=0.2, attempts=2, pause=0.01)
    with socket.socket() as s:  # a port nobody listens on: offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match=r"cannot fetch .*refused.*check the network connection"):
        update(root, ["acmeos"], base_url=f"http://127.0.0.1:{port}/api/v1", attempts=2, pause=0.01)
    with pytest.raises(FeedError, match="not an https:// URL"):
        update(root, ["acmeos"], base_url="http://endoflife.date/api/v1")
    with pytest.raises(FeedError, match="is not a product name"):
        update(root, ["../etc"], base_url=fake.url)
    with pytest.raises(FeedError, match="pins no feed yet"):
        update(root, [], base_url=fake.url)
    fake.docs["other"] = fake.docs["acmeos"]
    with pytest.raises(FeedError, match="is about 'acmeos', not 'other'"):
        update(root, ["other"], base_url=fake.url)
    assert not (root / FEED_DIR).exists()


def test_cli_update(tmp_path: Path, fake: FakeEndoflife, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_register(tmp_path / "reg")
    monkeypatch.setenv("BIR_FEED_URL", fake.url)
    code, out, _ = run("feed", "update", "acmeos", "--root", str(root))
    assert code == 0 and out == f"updated feeds/endoflife/acmeos.json (3 releases, fetched {dt.date.today().isoformat()})\n"
    code, out, err = run("feed", "update", "nosuch", "--root", str(root), "--base-url", fake.url)
    assert code == 2 and "not found (404)" in err and "Traceback" not in err
