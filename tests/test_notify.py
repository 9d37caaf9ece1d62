"""`bir notify github`: one issue per upcoming deadline, against a fake GitHub REST API on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import TEAM, commit, git, hardware, make_register, run, write_records

TOKEN = "test-token-0123"
AS_OF = "2026-12-01"
EXPECTED_TITLES = ["Warranty ends on 2027-01-10: srv-1", "Licence expires on 2027-02-01: lic-1",
                   "Notice deadline on 2027-04-01: ct-1", "Contract ends on 2027-06-30: ct-1"]


# ---- the fake API ------------------------------------------------------------------------------------------


@dataclass
class Fault:
    """An answer given instead of the real one to the matching request, after `skip` matching requests."""

    method: str
    path: str  # a regular expression on the path
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    skip: int = 0
    times: int = 1


class FakeGitHub(http.server.ThreadingHTTPServer):
    """The issues of one repository (`o/r`), with the parts of the REST API bir uses: list (paginated by
    `page_size`, filtered by label, pull requests included as GitHub does), create, update, comment."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[str]] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # method, path with query, Authorization
        self.faults: list[Fault] = []
        self.page_size = 100
        self.next_link: str | None = None  # overrides the Link of the first page
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add(self, title: str, body: str, labels: list[str], state: str = "open", **extra: Any) -> int:
        number = max(self.issues, default=0) + 1
        self.issues[number] = {"number": number, "title": title, "body": body, "state": state,
                               "labels": [{"name": n} for n in labels], **extra}
        return number

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.requests if m != "GET"]

    def labels(self, number: int) -> list[str]:
        return [x["name"] for x in self.issues[number]["labels"]]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length)) if length else None
        parts = urllib.parse.urlsplit(self.path)
        with srv.lock:
            srv.requests.append((method, self.path, self.headers.get("Authorization")))
            for fault in srv.faults:
                if fault.method == method and re.fullmatch(fault.path, parts.path) and fault.times > 0:
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    return self._answer(fault.status, fault.body, fault.headers)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}" and method != "GET":
                return self._answer(401, {"message": "Bad credentials"})
            m = re.fullmatch(r"/repos/o/r/issues(?:/(\d+)(/comments)?)?", parts.path)
            if m is None:
                return self._answer(404, {"message": "Not Found"})
            number = int(m.group(1)) if m.group(1) else None
            if method == "GET" and number is None:
                return self._list(urllib.parse.parse_qs(parts.query))
            if method == "POST" and number is None:
                assert payload is not None
                n = srv.add(payload["title"], payload["body"], payload["labels"])
                return self._answer(201, srv.issues[n])
            if number not in srv.issues:
                return self._answer(404, {"message": "Not Found"})
            if method == "POST" and m.group(2):
                srv.comments.setdefault(number, []).append(payload["body"] if payload else "")
                return self._answer(201, {"id": 1})
            if method == "PATCH":
                issue = srv.issues[number]
                for key, value in (payload or {}).items():
                    issue[key] = [{"name": n} for n in value] if key == "labels" else value
                return self._answer(200, issue)
            return self._answer(405, {"message": "Method Not Allowed"})

    def _list(self, query: dict[str, list[str]]) -> None:
        srv = self.server
        wanted = set(query.get("labels", [""])[0].split(",")) - {""}
        assert query.get("state") == ["all"]
        items = [i for _, i in sorted(srv.issues.items()) if wanted <= {x["name"] for x in i["labels"]}]
        page = int(query.get("page", ["1"])[0])
        size = srv.page_size
        chunk = items[(page - 1) * size:page * size]
        headers = {}
        if page * size < len(items):
            rest = {k: v[0] for k, v in query.items()} | {"page": str(page + 1)}
            headers["Link"] = f'<{srv.url}/repos/o/r/issues?{urllib.parse.urlencode(rest)}>; rel="next", <x>; rel="last"'
        if srv.next_link is not None and page == 1:
            headers["Link"] = f'<{srv.next_link}>; rel="next"'
        self._answer(200, chunk, headers)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    server = FakeGitHub()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# ---- the register ------------------------------------------------------------------------------------------

HOSTILE = "Server @admin <b>bold</b> #12 https://evil.example `code` [x](https://evil.example) | cell"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Four deadlines within a year of AS_OF (a warranty, a licence term, a contract's notice and end), one
    beyond it, and two reminders (verifications due) that open no issue."""
    reg = make_register(tmp_path / "reg")
    write_records(reg, [
        TEAM,
        {"id": "team-2", "kind": "party", "name": "Second @team", "owner": "team-2", "status": "active",
         "party_type": "team"},
        {"id": "acme", "kind": "party", "name": "Acme", "owner": "team-it", "status": "active", "party_type": "supplier"},
        hardware("srv-1", name=HOSTILE, warranty_end="2027-01-10"),
        hardware("srv-2", warranty_end="2029-01-10"),
        {"id": "ct-1", "kind": "contract", "name": "Support", "owner": "team-it", "status": "active",
         "status_dates": {"active": "2024-07-01"}, "contract_type": "support", "supplier": "acme",
         "start": "2024-07-01", "end": "2027-06-30", "notice_period_days": 90},
        {"id": "lic-1", "kind": "licence", "name": "Licence", "owner": "team-it", "status": "active",
         "status_dates": {"active": "2024-02-01"}, "product": "Thing", "metric": "per_device", "quantity": 5,
         "term": {"start": "2024-02-01", "end": "2027-02-01"}},
    ])
    return recorded(reg)


def recorded(root: Path) -> Path:
    """The working tree committed (dated before AS_OF): `--as-of AS_OF` reads the same register whether the
    machine's day is AS_OF (the working tree) or later (the last commit on or before it)."""
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
        (root / ".gitignore").write_text(".bir-cache/\n")
    git(root, "add", "-A")
    commit(root, "Register")
    return root


def edit(root: Path, kind: str, rid: str, **fields: Any) -> None:
    path = root / "registry" / kind / f"{rid}.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(fields)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def notify(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, *extra: str, token: str | None = TOKEN) -> tuple[int, str, str]:
    monkeypatch.delenv("GH_TOKEN", raising=False)
    if token is None:
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    else:
        monkeypatch.setenv("GITHUB_TOKEN", token)
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.setenv("GITHUB_API_URL", github.url)
    recorded(root)
    return run("notify", "github", "--root", str(root), "--as-of", AS_OF, "--pause", "0", *extra)


# ---- the tests ---------------------------------------------------------------------------------------------


def test_one_issue_per_deadline_labelled_by_deadline_kind_and_owner(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = notify(root, github, monkeypatch)
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"opened #{n}: {t}" for n, t in enumerate(EXPECTED_TITLES, 1)] + [
        "4 upcoming deadline(s): 4 opened, 0 updated, 0 reopened, 0 closed, 0 unchanged"]
    assert [i["title"] for i in github.issues.values()] == EXPECTED_TITLES
    assert github.labels(1) == ["bir-deadline", "deadline:warranty_end", "kind:hardware", "owner:team-it"]
    assert github.labels(3) == ["bir-deadline", "deadline:notice_deadline", "kind:contract", "owner:team-it"]
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in github.requests)
    body = github.issues[1]["body"]
    assert body.splitlines()[0] == "<!-- bir-deadline: event.warranty_end srv-1 2027-01-10 -->"
    assert "| Owner | team-it (IT) |" in body and "| Date | 2027-01-10 |" in body
    assert "| File | registry/hardware/srv-1.yaml |" in body
    notice = github.issues[3]["body"]
    assert "| What | last day to give notice &#40;90 days before 2027-06-30&#41;; renewal decision: none |" in notice


def test_record_text_is_escaped_in_the_issue(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record's name cannot mention, link, format, break the table or reference another issue."""
    from bir.base.escape import markdown

    notify(root, github, monkeypatch)
    body = github.issues[1]["body"]
    assert f"| Record | srv-1 ({markdown(HOSTILE)}) |" in body
    for raw in ("@admin", "<b>", "https://evil", "`code`", "[x](", "| cell"):
        assert raw not in body
    assert not re.search(r"(?<!&)#12", body)  # `&#124;` is the escaped `|`
    assert all("srv-1" in t or "@" not in t for t in (i["title"] for i in github.issues.values()))


def test_a_rerun_writes_nothing(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    notify(root, github, monkeypatch)
    before = len(github.writes())
    code, out, _ = notify(root, github, monkeypatch)
    assert (code, out) == (0, "4 upcoming deadline(s): 0 opened, 0 updated, 0 reopened, 0 closed, 4 unchanged\n")
    assert len(github.writes()) == before and len(github.issues) == 4


def test_an_open_issue_follows_its_record_and_keeps_peoples_labels(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    notify(root, github, monkeypatch)
    github.issues[3]["labels"].append({"name": "urgent"})
    edit(root, "contract", "ct-1", owner="team-2", renewal={"type": "manual", "decision": "renew"})
    code, out, _ = notify(root, github, monkeypatch)
    assert code == 0
    assert out.splitlines() == ["updated #3: Notice deadline on 2027-04-01: ct-1",
                                "updated #4: Contract ends on 2027-06-30: ct-1",
                                "4 upcoming deadline(s): 0 opened, 2 updated, 0 reopened, 0 closed, 2 unchanged"]
    assert github.labels(3) == ["urgent", "bir-deadline", "deadline:notice_deadline", "kind:contract", "owner:team-2"]
    assert "renewal decision: renew" in github.issues[3]["body"]
    assert "| Owner | team-2 (Second @\u200bteam) |" in github.issues[4]["body"]


def test_resolved_deadlines_are_closed_saying_why_and_come_back_when_they_do(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    notify(root, github, monkeypatch)
    edit(root, "hardware", "srv-1", warranty_end="2027-03-01")  # the date moved: a new deadline
    licence = (root / "registry/licence/lic-1.yaml").read_text()
    (root / "registry/licence/lic-1.yaml").unlink()  # the record left the register
    github.issues[3]["state"] = "closed"  # a person closed the notice deadline: their call
    code, out, _ = notify(root, github, monkeypatch)
    assert code == 0
    assert out.splitlines() == ["opened #5: Warranty ends on 2027-03-01: srv-1",
                                "closed #1: Warranty ends on 2027-01-10: srv-1",
                                "closed #2: Licence expires on 2027-02-01: lic-1",
                                "3 upcoming deadline(s): 1 opened, 0 updated, 0 reopened, 2 closed, 2 unchanged"]
    assert github.comments[1] == ["The date moved to 2027-03-01; the new date has its own issue. "
                                  "Closed by `bir notify github` as of 2026-12-01."]
    assert github.comments[2] == ["The record lic-1 is no longer in the register. Closed by `bir notify github` as of 2026-12-01."]
    assert (github.issues[1]["state"], github.issues[1]["state_reason"]) == ("closed", "completed")
    assert github.issues[3]["state"] == "closed" and 3 not in github.comments

    (root / "registry/licence/lic-1.yaml").write_text(licence)  # back: bir's closing is undone, the person's is not
    code, out, _ = notify(root, github, monkeypatch)
    assert out.splitlines() == ["reopened #2: Licence expires on 2027-02-01: lic-1",
                                "4 upcoming deadline(s): 0 opened, 0 updated, 1 reopened, 0 closed, 3 unchanged"]
    assert github.issues[2]["state"] == "open" and "bir-deadline-closed" not in github.issues[2]["body"]
    assert github.issues[3]["state"] == "closed"


def test_an_ended_record_and_a_passed_date_close_their_issues(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    notify(root, github, monkeypatch)
    edit(root, "licence", "lic-1", status="expired", status_dates={"active": "2024-02-01", "expired": "2026-11-30"})
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    code, out, err = run("notify", "github", "--root", str(root), "--as-of", "2027-01-20", "--pause", "0")
    assert (code, err) == (0, "")
    assert out.splitlines()[:2] == ["closed #1: Warranty ends on 2027-01-10: srv-1", "closed #2: Licence expires on 2027-02-01: lic-1"]
    assert github.comments[1] == ["The date (2027-01-10) has passed. Closed by `bir notify github` as of 2027-01-20."]
    assert github.comments[2] == ["The record lic-1 has ended (status expired). Closed by `bir notify github` as of 2027-01-20."]


def test_nothing_is_closed_while_the_register_has_errors(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    notify(root, github, monkeypatch)
    (root / "registry/hardware/srv-1.yaml").write_text("id: srv-1\nkind: hardware\nname: [broken\n")
    code, out, err = notify(root, github, monkeypatch)
    assert code == 0
    assert out == "3 upcoming deadline(s): 0 opened, 0 updated, 0 reopened, 0 closed, 3 unchanged\n"
    assert "1 issue(s) left open: the register has validation errors" in err
    assert github.issues[1]["state"] == "open"


def test_reminders_and_foreign_lines_open_no_issue(root: Path) -> None:
    from bir.api import load
    from bir.write.notify import deadlines

    register = load(root, jobs=1).register
    report = {"report": "lifecycle", "events": [
        {"category": "reminder", "event": "verification_due", "rule": "event.verification_due", "record": "a",
         "date": "2027-01-01", "kind": "hardware", "detail": "x"},
        {"category": "deadline", "event": "warranty_end", "rule": "event.warranty_end", "record": "srv-2",
         "date": "2027-01-01", "kind": "hardware", "detail": "warranty ends"},
        {"category": "deadline", "event": "warranty_end", "rule": "event.warranty_end", "record": "Not An Id @x",
         "date": "2027-01-01", "kind": "hardware", "detail": "x"},
        {"category": "deadline", "event": "Ends @everyone #1", "rule": "event.warranty_end", "record": "srv-1",
         "date": "2027-01-01", "kind": "hardware", "detail": "x"},
        {"category": "deadline", "event": "warranty_end", "rule": "event.warranty_end", "record": "srv-1",
         "date": "2027-01-01", "kind": "hardware\nkind:x", "detail": "x"}]}
    assert [(d.rule, d.record, d.owner, d.path) for d in deadlines(report, register)] == [
        ("event.warranty_end", "srv-2", "team-it", "registry/hardware/srv-2.yaml")]
    with pytest.raises(Exception, match="not a lifecycle report"):
        deadlines({"report": "cost"}, register)


def test_every_page_is_read_and_only_bir_labelled_issues_count(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of one; a pull request and an unlabelled issue carrying a marker (anyone may write one) are
    not taken for bir's; an issue bir's labels mark but without a marker is left alone."""
    marker = "<!-- bir-deadline: event.warranty_end srv-1 2027-01-10 -->\nspoof"
    github.add("spoof", marker, [])  # #1: an outsider cannot label
    github.add("a pull request", marker, ["bir-deadline"], pull_request={"url": "x"})  # #2
    github.add("labelled by hand", "no marker", ["bir-deadline"])  # #3
    github.page_size = 1
    notify(root, github, monkeypatch)
    titles = {n: i["title"] for n, i in github.issues.items()}
    assert sorted(titles.values()) == sorted(["spoof", "a pull request", "labelled by hand", *EXPECTED_TITLES])
    pages = [p for m, p, _ in github.requests if m == "GET"]
    assert len(pages) == 2 and pages[1].endswith("&page=2")  # the two labelled issues, one a page
    github.requests.clear()
    code, out, _ = notify(root, github, monkeypatch)
    assert code == 0 and out.endswith("0 opened, 0 updated, 0 reopened, 0 closed, 4 unchanged\n")
    assert [p for m, p, _ in github.requests if m == "GET"][-1].endswith("&page=6")  # 6 labelled issues now
    assert github.issues[3]["state"] == "open" and github.writes() == []


def test_two_issues_for_one_deadline_are_folded_into_the_first(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    notify(root, github, monkeypatch)
    copy = github.add(github.issues[1]["title"], github.issues[1]["body"], github.labels(1))
    code, out, _ = notify(root, github, monkeypatch)
    assert code == 0 and out.splitlines()[0] == f"closed #{copy}: Warranty ends on 2027-01-10: srv-1"
    assert github.comments[copy] == ["A second issue for this deadline; it is followed in #1."]


def test_dry_run_writes_nothing(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = notify(root, github, monkeypatch, "--dry-run", token=None)
    assert code == 0
    assert out.splitlines() == [f"would open: {t}" for t in EXPECTED_TITLES] + [
        "4 upcoming deadline(s): 4 to open, 0 to update, 0 to reopen, 0 to close, 0 unchanged"]
    assert github.writes() == [] and github.issues == {}
    assert all(auth is None for _, _, auth in github.requests)


def test_a_rate_limit_stops_the_run_clearly_and_the_next_run_goes_on(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    github.faults.append(Fault("POST", "/repos/o/r/issues", 403, {"x-ratelimit-remaining": "0",
                                                                   "x-ratelimit-reset": "1796126400"},
                               {"message": "API rate limit exceeded for installation ID 1."}, skip=2))
    code, out, err = notify(root, github, monkeypatch)
    assert code == 2
    assert out.splitlines() == [f"opened #{n}: {t}" for n, t in enumerate(EXPECTED_TITLES[:2], 1)]
    assert err == ("bir: error: GitHub's API rate limit is reached until 2026-12-01 12:00 UTC (403: API rate limit "
                   "exceeded for installation ID 1.); run again later: the issues already written stay, and the next "
                   "run goes on from there\n")
    code, out, _ = notify(root, github, monkeypatch)
    assert code == 0 and out.splitlines()[:2] == [f"opened #{n}: {t}" for n, t in enumerate(EXPECTED_TITLES[2:], 3)]
    assert [i["title"] for i in github.issues.values()] == EXPECTED_TITLES


@pytest.mark.parametrize(("fault", "message"), [
    (Fault("POST", "/repos/o/r/issues", 403, {}, {"message": "Resource not accessible by integration"}),
     "GitHub refused POST /repos/o/r/issues (403: Resource not accessible by integration); the token needs write "
     "access to issues (a workflow: `permissions: issues: write`)"),
    (Fault("POST", "/repos/o/r/issues", 403, {"retry-after": "60"}, {"message": "You have exceeded a secondary rate limit."}),
     "GitHub's API rate limit is reached for 60 seconds (403: You have exceeded a secondary rate limit.)"),
    (Fault("GET", "/repos/o/r/issues", 401, {}, {"message": "Bad credentials"}),
     "GitHub refused the token (401: Bad credentials); set GITHUB_TOKEN to a valid token"),
    (Fault("GET", "/repos/o/r/issues", 404, {}, {"message": "Not Found"}),
     "GitHub has no repository o/r this token can see (404: Not Found)"),
    (Fault("GET", "/repos/o/r/issues", 410, {}, {"message": "Issues are disabled for this repo"}),
     "issues are turned off in o/r (410: Issues are disabled for this repo)"),
    (Fault("GET", "/repos/o/r/issues", 301, {"Location": "http://127.0.0.1:9/repos/o/moved/issues"}, {"message": "Moved"}),
     "GitHub answered GET /repos/o/r/issues with a redirect (301: Moved) (to http://127.0.0.1:9/repos/o/moved/issues)"),
    (Fault("POST", "/repos/o/r/issues", 502, {}, {"message": "\x1b[31mBad gateway"}),
     "GitHub refused POST /repos/o/r/issues (502: \\x1b[31mBad gateway)"),
])
def test_github_refusals_say_what_to_do_and_exit_2(root: Path, github: FakeGitHub,
                                                   monkeypatch: pytest.MonkeyPatch, fault: Fault, message: str) -> None:
    github.faults.append(fault)
    code, _, err = notify(root, github, monkeypatch)
    assert code == 2 and err.startswith("bir: error: " + message), err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    if fault.status == 502:  # a create is never repeated: a lost answer could mean a second issue
        assert [m for m, _ in github.writes()] == ["POST"]


def test_a_failed_read_is_retried(github: FakeGitHub) -> None:
    from bir.write.githubapi import GitHub

    github.faults.append(Fault("GET", "/repos/o/r/issues", 503, times=2))
    github.add("x", "y", ["bir-deadline"])
    waits: list[float] = []
    client = GitHub("o/r", TOKEN, api=github.url, sleep=waits.append)
    assert [i.number for i in client.issues("bir-deadline")] == [1] and waits == [1, 2]
    assert len([m for m, _, _ in github.requests if m == "GET"]) == 3


def test_the_token_never_leaves_the_api_host(root: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    github.add("x", "y", ["bir-deadline"])
    github.next_link = "http://127.0.0.2:1/repos/o/r/issues?page=2"
    code, _, err = notify(root, github, monkeypatch)
    assert code == 2 and "outside http://127.0.0.1:" in err and "the token is not sent there" in err
    monkeypatch.setenv("GITHUB_API_URL", "http://api.example.org")
    code, _, err = run("notify", "github", "--root", str(root), "--as-of", AS_OF)
    assert code == 2 and "is not https://" in err


@pytest.mark.parametrize(("env", "message"), [
    ({"GITHUB_REPOSITORY": ""}, "no repository: set GITHUB_REPOSITORY"),
    ({"GITHUB_REPOSITORY": "o/r --x"}, "is not a GitHub repository"),
    ({"GITHUB_TOKEN": ""}, "GITHUB_TOKEN is not set"),
])
def test_missing_settings_are_usage_errors(root: Path, github: FakeGitHub,
                                           monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.setenv("GITHUB_API_URL", github.url)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    code, out, err = run("notify", "github", "--root", str(root), "--as-of", AS_OF)
    assert (code, out) == (2, "") and message in err and github.requests == []


def test_long_owner_labels_fit_githubs_limit() -> None:
    from bir.write.notify import _label

    long = "team-" + "x" * 80
    label = _label("owner:", long)
    assert len(label) == 50 and label.startswith("owner:team-xxx") and label != _label("owner:", long + "y")
    assert _label("owner:", "team-it") == "owner:team-it"


def test_the_demo_registers_deadlines(tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end on the demo register: every deadline of its lifecycle report, no reminder, one issue each."""
    demo = recorded(make_register(tmp_path / "demo", demo=True))
    code, out, err = run("report", "lifecycle", "--root", str(demo), "--as-of", AS_OF, "--format", "json")
    events = json.loads(out)["events"]
    deadlines = [e for e in events if e["category"] == "deadline"]
    assert len(deadlines) < len(events)
    code, out, err = notify(demo, github, monkeypatch)
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == (f"{len(deadlines)} upcoming deadline(s): {len(deadlines)} opened, 0 updated, "
                                    "0 reopened, 0 closed, 0 unchanged")
    keys = [i["body"].splitlines()[0] for i in github.issues.values()]
    assert keys == [f"<!-- bir-deadline: {e['rule']} {e['record']} {e['date']} -->" for e in deadlines]
    assert {x for n in github.issues for x in github.labels(n) if x.startswith("deadline:")} == {
        f"deadline:{e['event']}" for e in deadlines}
