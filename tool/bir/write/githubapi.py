"""The issues of one GitHub repository through the REST API, with urllib: list (every page), create,
update, comment.

The token never leaves the API's host: redirects are not followed (they are reported), pagination links
to another origin are refused, and it is sent only over HTTPS (plain HTTP to this machine only, for
tests). A write waits `pause` seconds after the one before (GitHub asks integrations to space them); a
failed read or update is retried, a create never is (a lost answer would make a second issue). Every
refusal becomes a `GitHubError` saying what it means and what to do (rate limits, permissions, a moved or
missing repository); GitHub's own words are escaped for the terminal.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bir import __version__
from bir.base import escape
from bir.base.problems import UsageError

DEFAULT_API = "https://api.github.com"
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
MAX_ANSWER = 64 << 20  # bytes: a page of 100 issues of GitHub's longest bodies is a tenth of it


class GitHubError(UsageError):
    """GitHub cannot be reached or refused a request (exit code 2, with what to do)."""


@dataclass(slots=True)
class Issue:
    number: int
    title: str
    body: str
    state: str  # open | closed
    labels: list[str]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None  # a redirect is an answer to report, never a place to send the token


@dataclass
class GitHub:
    """The issues of one repository through GitHub's REST API."""

    repository: str
    token: str | None
    api: str = DEFAULT_API
    timeout: float = 30.0
    pause: float = 1.0  # seconds between writes
    attempts: int = 3
    sleep: Callable[[float], None] = time.sleep
    _last_write: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        if not _REPOSITORY.match(self.repository):
            raise GitHubError(f"'{escape.terminal(self.repository)}' is not a GitHub repository; set GITHUB_REPOSITORY "
                              "to owner/name (GitHub Actions sets it)")
        parts = urllib.parse.urlsplit(self.api)
        if not ((parts.scheme == "https" and parts.hostname) or (parts.scheme == "http" and parts.hostname in _LOOPBACK)):
            raise GitHubError(f"API URL '{escape.terminal(self.api)}' is not https://; the token is sent over HTTPS only "
                              f"(the default is {DEFAULT_API})")
        self.api = self.api.rstrip("/")
        self._origin = (parts.scheme, parts.netloc)
        self._opener = urllib.request.build_opener(_NoRedirect)

    # -- requests --
    def _request(self, method: str, url: str, payload: Mapping[str, Any] | None = None) -> tuple[Any, Mapping[str, str]]:
        parts = urllib.parse.urlsplit(url)
        if (parts.scheme, parts.netloc) != self._origin:
            raise GitHubError(f"GitHub pointed to {escape.terminal(url)}, outside {self.api}; the token is not sent there")
        writing = method != "GET"
        if writing:
            wait = self._last_write + self.pause - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        data = json.dumps(payload).encode("utf-8") if payload is not None else None
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                   "User-Agent": f"bir/{__version__}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - checked above
        if self.token:
            request.add_unredirected_header("Authorization", f"Bearer {self.token}")
        # A read and an update are safe to repeat; a create is not (a lost answer would make a second issue).
        attempts = self.attempts if method in ("GET", "PATCH") else 1
        last = ""
        for attempt in range(1, attempts + 1):
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    raw = response.read(MAX_ANSWER + 1)
                    got_headers = {k.lower(): v for k, v in response.headers.items()}
                if writing:
                    self._last_write = time.monotonic()
                if len(raw) > MAX_ANSWER:
                    raise GitHubError(f"GitHub's answer to {method} {parts.path} is larger than {MAX_ANSWER >> 20} MB; stopped")
                return (json.loads(raw) if raw else None), got_headers
            except urllib.error.HTTPError as exc:
                if writing:
                    self._last_write = time.monotonic()
                last = self._refusal(exc, method, url)
                if exc.code < 500 or attempt == attempts:
                    raise GitHubError(last) from None
            except (TimeoutError, urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                last = f"no answer within {self.timeout:g} seconds" if isinstance(reason, TimeoutError) else str(
                    getattr(reason, "strerror", None) or reason)
                if isinstance(exc, ValueError):
                    last = f"the answer is not JSON ({exc})"
            if attempt < attempts:
                self.sleep(2 ** (attempt - 1))
        raise GitHubError(f"cannot reach GitHub at {self.api} ({method} {urllib.parse.urlsplit(url).path}): {last}; "
                          "check the network, or run again later")

    def _refusal(self, exc: urllib.error.HTTPError, method: str, url: str) -> str:
        """What GitHub's refusal means and what to do about it."""
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        try:
            message = str(json.loads(exc.read() or b"{}").get("message", ""))
        except (ValueError, AttributeError, OSError):
            message = ""
        said = f" ({exc.code}: {escape.terminal(message)})" if message else f" ({exc.code})"
        where = f"{method} {urllib.parse.urlsplit(url).path}"
        if exc.code in (403, 429) and (headers.get("x-ratelimit-remaining") == "0" or "rate limit" in message.lower()
                                       or "retry-after" in headers):
            reset = headers.get("x-ratelimit-reset", "")
            when = (f" until {dt.datetime.fromtimestamp(int(reset), dt.UTC):%Y-%m-%d %H:%M} UTC"
                    if reset.isdigit() and len(reset) <= 11 else f" for {headers['retry-after']} seconds" if "retry-after" in headers else "")
            return (f"GitHub's API rate limit is reached{when}{said}; run again later: the issues already written "
                    "stay, and the next run goes on from there")
        if exc.code == 401:
            return f"GitHub refused the token{said}; set GITHUB_TOKEN to a valid token (in a workflow: ${{{{ github.token }}}})"
        if exc.code == 403:
            return (f"GitHub refused {where}{said}; the token needs write access to issues "
                    "(a workflow: `permissions: issues: write`)")
        if exc.code == 404:
            return (f"GitHub has no repository {self.repository} this token can see{said}; check GITHUB_REPOSITORY "
                    "and the token")
        if exc.code == 410:
            return f"issues are turned off in {self.repository}{said}; turn them on in the repository's settings"
        if 300 <= exc.code < 400:
            return (f"GitHub answered {where} with a redirect{said} (to {escape.terminal(headers.get('location', '?'))}); "
                    "the repository may have moved: set GITHUB_REPOSITORY to its new name")
        return f"GitHub refused {where}{said}"

    def _url(self, path: str) -> str:
        return f"{self.api}/repos/{self.repository}{path}"

    # -- issues --
    def issues(self, label: str) -> list[Issue]:
        """Every issue labelled `label`, open and closed (pull requests left out), page after page."""
        query = urllib.parse.urlencode({"labels": label, "state": "all", "per_page": "100"})
        url: str | None = self._url(f"/issues?{query}")
        found: list[Issue] = []
        pages = 0
        while url is not None:
            pages += 1
            if pages > 1000:
                raise GitHubError("GitHub listed more than 1,000 pages of issues; stopped")
            data, headers = self._request("GET", url)
            if not isinstance(data, list):
                raise GitHubError("GitHub's list of issues is not a list; is the API URL GitHub's?")
            for item in data:
                if isinstance(item, dict) and "pull_request" not in item and isinstance(item.get("number"), int):
                    found.append(_issue(item))
            url = _next_link(headers.get("link", ""))
        return found

    def create(self, title: str, body: str, labels: Sequence[str]) -> Issue:
        data, _ = self._request("POST", self._url("/issues"), {"title": title, "body": body, "labels": list(labels)})
        return _issue(data)

    def update(self, number: int, **fields: Any) -> Issue:
        data, _ = self._request("PATCH", self._url(f"/issues/{number}"), fields)
        return _issue(data)

    def comment(self, number: int, body: str) -> None:
        self._request("POST", self._url(f"/issues/{number}/comments"), {"body": body})


def _issue(item: Any) -> Issue:
    if not isinstance(item, dict) or not isinstance(item.get("number"), int):
        raise GitHubError("GitHub's answer is not an issue; is the API URL GitHub's?")
    labels = [str(x.get("name", "")) if isinstance(x, dict) else str(x) for x in item.get("labels") or []]
    return Issue(item["number"], str(item.get("title") or ""), str(item.get("body") or ""), str(item.get("state") or ""),
                 labels)


def _next_link(header: str) -> str | None:
    """The `rel="next"` URL of a Link header (GitHub's pagination), if any."""
    for part in header.split(","):
        m = re.match(r'\s*<([^>]*)>\s*;\s*rel="next"', part)
        if m:
            return m.group(1)
    return None
