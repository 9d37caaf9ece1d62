"""Vulnerabilities: OSV advisories pinned in feeds/osv, version ordering and ranges, matching, severity, waivers,
the risk rule, `bir feed import` / `bir feed update --osv`, and VEX in the CycloneDX export."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from bir.point.point import at_worktree
from bir.read.osv import OsvError, Range, compare, in_range, normalise
from bir.reports import evaluate
from bir.reports.models import RiskReport
from bir.reports.opsmodels import VulnerabilityReport
from support import PROJECT, TEAM, make_register, run, snapshot, write_records
from test_export import read_back, schema_errors

PINNED = PROJECT / "feeds" / "osv"
AS_OF = dt.date(2026, 11, 28)


@pytest.mark.parametrize(("a", "b", "eco", "want"), [
    ("3.1.2", "3.1.3", "PyPI", -1), ("2.0.0rc1", "2.0.0", "PyPI", -1), ("1.0.post1", "1.0", "PyPI", 1),
    ("1.10.0", "1.9.9", "npm", 1), ("1.0.0-alpha", "1.0.0", "npm", -1), ("1.0.0-alpha.2", "1.0.0-alpha.10", "npm", -1),
    ("v1.2.3", "1.2.3", "Go", 0), ("2.14.1", "2.15.0", "Maven", -1), ("2.4", "2.12.2", "Maven", -1),
    ("1.0", "1.0.1", "Maven", -1), ("1.0-rc1", "1.0.1", "Maven", -1), ("10.2", "9.9", "Debian:12", 1),
])
def test_version_ordering(a: str, b: str, eco: str, want: int) -> None:
    assert compare(a, b, eco) == want
    assert compare(b, a, eco) == -want


def test_range_events() -> None:
    fixed = Range("ECOSYSTEM", (("introduced", "0"), ("fixed", "3.1.3")))
    assert [in_range(v, fixed, "PyPI") for v in ("0.1", "3.1.2", "3.1.3", "3.2")] == [
        (True, "3.1.3"), (True, "3.1.3"), (False, ""), (False, "")]
    last = Range("SEMVER", (("introduced", "1.2.0"), ("last_affected", "1.4.1")))
    assert [in_range(v, last, "npm")[0] for v in ("1.1.9", "1.2.0", "1.4.1", "1.4.2")] == [False, True, True, False]
    two = Range("ECOSYSTEM", (("introduced", "2.13.0"), ("fixed", "2.15.0"), ("introduced", "2.16.0"), ("limit", "2.17.0")))
    assert [in_range(v, two, "Maven")[0] for v in ("2.12", "2.14.1", "2.15.0", "2.16.5", "2.17.0")] == [False, True, False, True, False]
    assert in_range("abc", Range("GIT", (("introduced", "0"),)), "Maven") == (False, "")  # commits: only `versions` match


def test_bad_advisories_are_refused() -> None:
    with pytest.raises(OsvError, match="is not an advisory id"):
        normalise({"id": "../../etc/passwd", "modified": "x"}, "a.json")
    with pytest.raises(OsvError, match="needs `ecosystem` and `name`"):
        normalise({"id": "GHSA-x-y-z", "modified": "x", "affected": [{"package": {"name": "a"}}]}, "a.json")
    with pytest.raises(OsvError, match="is not one of introduced, fixed, last_affected, limit"):
        normalise({"id": "GHSA-x-y-z", "modified": "x", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]}, "a.json")


def _software(rid: str, **fields: Any) -> dict[str, Any]:
    rec = {"id": rid, "kind": "software", "name": rid, "owner": "team-it", "status": "active", "last_verified": "2026-10-01"}
    rec.update(fields)
    return rec


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    root = make_register(tmp_path / "reg")
    host = {"id": "srv-1", "kind": "hardware", "name": "srv-1", "owner": "team-it", "status": "in_use", "class": "server",
            "status_dates": {"in_use": "2024-01-01"}, "relations": [{"type": "supports", "target": "svc-web"}]}
    svc = {"id": "svc-web", "kind": "service", "name": "Web", "owner": "team-it", "status": "active", "criticality": "high"}
    write_records(root, [TEAM, host, svc,
                         _software("sw-jinja-old", purl="pkg:pypi/Jinja2@3.1.2", installations=[{"on": "srv-1"}]),
                         _software("sw-jinja-new", purl="pkg:pypi/jinja2@3.1.3", installations=[{"on": "srv-1"}]),
                         _software("sw-log4j", purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                                   relations=[{"type": "runs_on", "target": "srv-1"}]),
                         _software("sw-log4j-old", purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.12.1"),
                         _software("sw-requests", purl="pkg:pypi/requests@2.31.0"),
                         _software("sw-cpe-only", version="2.14.1", cpe="cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*"),
                         _software("sw-generic", purl="pkg:generic/requests@2.31.0"),
                         _software("sw-retired", purl="pkg:pypi/requests@2.0.0", status="retired",
                                   status_dates={"retired": "2025-01-01"}, retirement={"reason": "gone"})])
    return root


def test_matching_severity_hosts_services_and_waivers(reg: Path, tmp_path: Path) -> None:
    # a CPE-carrying copy of the Log4Shell advisory, for the record that has only a CPE
    doc = json.loads((PINNED / "GHSA-jfh8-c2jp-5v3q.json").read_text())
    doc["id"] = "TEST-2021-44228"
    doc["affected"] = [{"package": {"ecosystem": "Maven", "name": "log4j"}, "ranges": [
        {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.15.0"}]}],
        "database_specific": {"cpes": ["cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*"]}}]
    (tmp_path / "cpe.json").write_text(json.dumps(doc))
    code, out, err = run("feed", "import", *sorted(PINNED.glob("*.json")), tmp_path / "cpe.json", "--root", reg)
    assert code == 0, err
    assert out.splitlines() == [f"imported feeds/osv/{n}.json" for n in
                                ("GHSA-9wx4-h78v-vm56", "GHSA-h5c8-rqwp-cp95", "GHSA-jfh8-c2jp-5v3q", "TEST-2021-44228")]
    assert (reg / "feeds/osv/GHSA-h5c8-rqwp-cp95.json").read_bytes() == (PINNED / "GHSA-h5c8-rqwp-cp95.json").read_bytes()
    rep = evaluate(at_worktree(reg, AS_OF)).report("vulnerabilities")
    assert isinstance(rep, VulnerabilityReport)
    assert [(v.advisory, v.record, v.severity, v.score, v.matched_by, v.fixed, v.hosts, v.services) for v in rep.matches] == [
        ("GHSA-jfh8-c2jp-5v3q", "sw-log4j", "critical", D("10.0"), "purl", "2.15.0", ("srv-1",), ("svc-web",)),
        ("GHSA-jfh8-c2jp-5v3q", "sw-log4j-old", "critical", D("10.0"), "purl", "2.12.2", (), ()),
        ("TEST-2021-44228", "sw-cpe-only", "critical", D("10.0"), "cpe", "2.15.0", (), ()),
        ("GHSA-9wx4-h78v-vm56", "sw-requests", "medium", D("5.6"), "purl", "2.32.2", (), ()),
        ("GHSA-h5c8-rqwp-cp95", "sw-jinja-old", "medium", D("5.4"), "purl", "3.1.3", ("srv-1",), ("svc-web",)),
    ]  # PyPI names compare in their normal form (Jinja2 = jinja2); 3.1.3 is fixed; generic purls and ended records never match
    assert rep.warnings == ["1 software record(s) have a pkg:generic purl, which no advisory database indexes: give them the "
                            "purl of their package ecosystem (pkg:pypi/..., pkg:maven/...) or a cpe"]
    risk = evaluate(at_worktree(reg, AS_OF)).report("risk")
    assert isinstance(risk, RiskReport)
    found = {f.record: (f.severity, f.records, f.services) for f in risk.findings if f.rule == "software.vulnerable"}
    assert found == {"sw-log4j": ("high", ("srv-1", "sw-log4j"), ("svc-web",)), "sw-log4j-old": ("high", ("sw-log4j-old",), ()),
                     "sw-cpe-only": ("high", ("sw-cpe-only",), ()), "sw-requests": ("medium", ("sw-requests",), ()),
                     "sw-jinja-old": ("medium", ("srv-1", "sw-jinja-old"), ("svc-web",))}
    comp = next(c for c in risk.compliance if c.rule == "software.vulnerable")
    assert (comp.scope, comp.failing, comp.waived) == (7, 5, 0)  # the generic one is in scope: a purl, and no match
    waiver = {"id": "wvr-req", "kind": "waiver", "name": "w", "owner": "team-it", "status": "active", "rule": "software.vulnerable",
              "record": "sw-requests", "reason": "never verify=False", "approver": "team-it", "expires": "2027-03-31"}
    write_records(reg, [waiver])
    ev = evaluate(at_worktree(reg, AS_OF))
    rep = ev.report("vulnerabilities")
    assert isinstance(rep, VulnerabilityReport)
    assert [(v.record, v.waived_by) for v in rep.waived] == [("sw-requests", "wvr-req")]
    assert [f.record for f in ev.report("risk").waived] == ["sw-requests"]  # type: ignore[attr-defined]
    # VEX: the export carries the matches, valid against the official CycloneDX 1.6 schema
    code, out, _ = run("export", "cyclonedx", "--root", str(reg))
    assert code == 0
    bom = json.loads(out)
    assert schema_errors(bom) == []
    read_back(bom)
    vex = {v["id"]: v for v in bom["vulnerabilities"]}
    assert sorted(vex) == ["GHSA-9wx4-h78v-vm56", "GHSA-h5c8-rqwp-cp95", "GHSA-jfh8-c2jp-5v3q", "TEST-2021-44228"]
    log4shell = vex["GHSA-jfh8-c2jp-5v3q"]
    assert log4shell["ratings"] == [{"source": {"name": "OSV"}, "score": 10.0, "severity": "critical", "method": "CVSSv31",
                                     "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}]
    assert log4shell["affects"] == [{"ref": "sw-log4j", "versions": [{"version": "2.14.1", "status": "affected"}]},
                                    {"ref": "sw-log4j-old", "versions": [{"version": "2.12.1", "status": "affected"}]}]
    assert log4shell["references"] == [{"id": "CVE-2021-44228", "source": {"name": "NVD",
                                                                          "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"}}]
    assert log4shell["analysis"]["state"] == "in_triage" and log4shell["analysis"]["response"] == ["update"]
    assert vex["GHSA-9wx4-h78v-vm56"]["analysis"] == {"state": "exploitable", "response": ["will_not_fix"],
                                                      "detail": "risk accepted by wvr-req"}


def test_a_bad_file_imports_nothing(reg: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "GHSA-aaaa-bbbb-cccc", "modified": "2024-01-01T00:00:00Z", "affected": {"x": 1}}))
    before = snapshot(reg)
    code, _out, err = run("feed", "import", PINNED / "GHSA-h5c8-rqwp-cp95.json", bad, "--root", reg)
    assert code == 2 and "`affected` is not a list" in err
    assert snapshot(reg) == before


class FakeOsv(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.queries: list[Any] = []
        self.docs = {p.stem: p.read_bytes() for p in PINNED.glob("*.json")}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeOsv

    def _send(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.queries.append(body)
        results = []
        for q in body["queries"]:
            purl = q["package"]["purl"]
            ids = {"pkg:pypi/jinja2@3.1.2": ["GHSA-h5c8-rqwp-cp95"], "pkg:pypi/requests@2.31.0": ["GHSA-9wx4-h78v-vm56"],
                   "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1": ["GHSA-jfh8-c2jp-5v3q"]}.get(purl, [])
            results.append({"vulns": [{"id": i, "modified": "2024-01-01T00:00:00Z"} for i in ids]} if ids else {})
        self._send(200, json.dumps({"results": results}).encode())

    def do_GET(self) -> None:
        vid = self.path.removeprefix("/v1/vulns/")
        if vid not in self.server.docs:
            self.send_error(404)
            return
        self._send(200, self.server.docs[vid])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def osv() -> Iterator[FakeOsv]:
    server = FakeOsv()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_feed_update_osv(tmp_path: Path, osv: FakeOsv) -> None:
    root = make_register(tmp_path / "demo", demo=True)
    code, out, err = run("feed", "update", "--osv", "--osv-url", osv.url, "--root", str(root))
    assert code == 0, err
    assert out.splitlines() == ["updated feeds/osv/GHSA-9wx4-h78v-vm56.json", "updated feeds/osv/GHSA-h5c8-rqwp-cp95.json",
                                "updated feeds/osv/GHSA-jfh8-c2jp-5v3q.json", "3 advisories affect the register's software packages"]
    assert [q["package"]["purl"] for q in osv.queries[0]["queries"]] == [
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1",
        "pkg:pypi/jinja2@3.1.2", "pkg:pypi/requests@2.31.0"]  # the packages with a version; never a pkg:generic one
    for p in PINNED.glob("*.json"):
        assert (root / "feeds/osv" / p.name).read_bytes() == p.read_bytes()
    code, out, _ = run("feed", "update", "--osv", "--osv-url", osv.url, "--root", str(root))
    assert code == 0 and out.splitlines()[0] == "unchanged feeds/osv/GHSA-9wx4-h78v-vm56.json"
    osv.docs.pop("GHSA-jfh8-c2jp-5v3q")
    (root / "feeds/osv/GHSA-h5c8-rqwp-cp95.json").unlink()
    before = snapshot(root)
    code, _out, err = run("feed", "update", "--osv", "--osv-url", osv.url, "--root", str(root))
    assert code == 2 and "not found (404)" in err
    assert snapshot(root) == before  # one advisory missing: nothing written
    code, _out, err = run("feed", "update", "--osv", "--osv-url", "http://example.org/v1", "--root", str(root))
    assert code == 2 and "is not an https:// URL" in err


def test_demo_vulnerabilities() -> None:
    ev = evaluate(at_worktree(PROJECT, AS_OF))
    rep = ev.report("vulnerabilities")
    assert isinstance(rep, VulnerabilityReport)
    assert rep.advisories_pinned == 3
    assert [(v.advisory, v.record, v.severity, v.score, v.hosts, v.services) for v in rep.matches] == [
        ("GHSA-jfh8-c2jp-5v3q", "sw-log4j-core-2-14-1", "critical", D("10.0"), ("srv-track-01", "srv-track-02"),
         ("svc-customer-portal", "svc-track-trace")),
        ("GHSA-h5c8-rqwp-cp95", "sw-py-jinja2-3-1-2", "medium", D("5.4"), ("srv-bi-01",), ("svc-data-warehouse",))]
    assert [(v.record, v.waived_by) for v in rep.waived] == [("sw-py-requests-2-31-0", "wvr-requests-bi-verify")]


def test_feed_update_osv_refuses_a_document_about_another_advisory(tmp_path: Path, osv: FakeOsv) -> None:
    root = make_register(tmp_path / "reg")
    write_records(root, [TEAM, _software("sw-jinja-old", purl="pkg:pypi/jinja2@3.1.2")])
    osv.docs["GHSA-h5c8-rqwp-cp95"] = osv.docs["GHSA-9wx4-h78v-vm56"]  # a server answering with the wrong advisory
    before = snapshot(root)
    code, _out, err = run("feed", "update", "--osv", "--osv-url", osv.url, "--root", str(root))
    assert code == 2 and "is advisory GHSA-9wx4-h78v-vm56, not GHSA-h5c8-rqwp-cp95" in err
    assert snapshot(root) == before
