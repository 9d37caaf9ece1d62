"""Pinning OSV advisories: `bir feed import` of OSV JSON and `bir feed update --osv`.

An advisory is pinned as `feeds/osv/<id>.json`, normalised by `bir.read.osv.normalise`, so the
vulnerability report of a commit can be reproduced later from the same files.

`update` asks the OSV API (`<base>/querybatch`, POST) which advisories affect the register's software
packages (every purl with a version of a software record that is not ended, except `pkg:generic`), then
fetches each advisory (`<base>/vulns/<id>`), checks them all and writes the new and changed ones in one
all-or-nothing commit under the register lock. HTTPS only (plain HTTP to this machine, for tests); the
retries and limits are those of the lifecycle feed update. Offline or on any failure nothing changes.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bir import __version__
from bir.base.journal import commit
from bir.read.osv import OsvError, contents_of, normalise
from bir.write.feeds import FetchError, answer, check_base_url, fetch

DEFAULT_OSV_URL = "https://api.osv.dev/v1"
TIMEOUT = 15.0  # seconds per attempt, as for the lifecycle feeds
ATTEMPTS = 3
MAX_BYTES = 8 << 20
BATCH = 1000  # queries per querybatch request (the API's limit)


@dataclass(frozen=True, slots=True)
class Pinned:
    advisory: str
    path: Path
    changed: bool


def register_purls(root: Path) -> list[str]:
    """The purls (with a version) of the working tree's software records that are not ended."""
    from bir.point.point import at_worktree
    from bir.reports.context import is_ended

    point = at_worktree(root, dt.date.today())
    register = point.load().register
    out = []
    for rec in register.of_kind("software"):
        purl = rec.data.get("purl")
        if isinstance(purl, str) and "@" in purl and not purl.startswith("pkg:generic/") and not is_ended(rec, register.config):
            out.append(purl)
    return sorted(set(out))


def post_json(url: str, body: dict[str, Any], *, timeout: float = TIMEOUT, attempts: int = ATTEMPTS, pause: float = 1.0,
              sleep: Callable[[float], None] = time.sleep) -> Any:
    """POST a JSON body and read the JSON answer, retried like `fetch`; FetchError saying why not."""
    data = json.dumps(body).encode("utf-8")
    # Only URLs check_base_url let through (https, or http to this machine) reach this point.
    request = urllib.request.Request(url, data=data, method="POST", headers={  # noqa: S310
        "Content-Type": "application/json", "Accept": "application/json", "User-Agent": f"bir/{__version__}"})
    raw = answer(request, timeout=timeout, attempts=attempts, pause=pause, sleep=sleep, gave_up="cannot query",
                 instead="the advisories and pin them")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise FetchError(f"{url}: the answer is not JSON ({exc}); nothing was changed") from None


def update(root: Path, *, base_url: str = DEFAULT_OSV_URL, timeout: float = TIMEOUT, attempts: int = ATTEMPTS,
           pause: float = 1.0) -> list[Pinned]:
    """Pin every advisory the OSV API reports for the register's purls; raises (nothing written) on failure."""
    base = check_base_url(base_url)
    purls = register_purls(root)
    if not purls:
        raise OsvError("no software record has a package purl with a version (pkg:pypi/NAME@VERSION, pkg:maven/...): "
                       "there is nothing to ask the OSV database about")
    ids: list[str] = []
    for start in range(0, len(purls), BATCH):
        chunk = purls[start:start + BATCH]
        answer = post_json(f"{base}/querybatch", {"queries": [{"package": {"purl": p}} for p in chunk]},
                           timeout=timeout, attempts=attempts, pause=pause)
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(chunk):
            raise FetchError(f"{base}/querybatch: the answer has no `results` for each query; nothing was changed")
        for result in results:
            for vuln in (result.get("vulns") or []) if isinstance(result, dict) else []:
                if isinstance(vuln, dict) and isinstance(vuln.get("id"), str):
                    ids.append(vuln["id"])
    docs = []
    for vid in dict.fromkeys(ids):
        url = f"{base}/vulns/{urllib.parse.quote(vid, safe='')}"
        body = fetch(url, timeout=timeout, attempts=attempts, pause=pause)
        try:
            raw = json.loads(body)
        except ValueError as exc:
            raise FetchError(f"{url}: the answer is not JSON ({exc}); nothing was changed") from None
        doc = normalise(raw, url)
        if doc["id"] != vid:
            raise FetchError(f"{url}: the document is advisory {doc['id']}, not {vid}; nothing was changed")
        docs.append(doc)
    out, contents = [], {}
    for rel, data in sorted(contents_of(docs).items()):
        path = root / rel
        try:
            same = path.read_bytes() == data
        except OSError:
            same = False
        out.append(Pinned(rel.rsplit("/", 1)[-1].removesuffix(".json"), path, not same))
        if not same:
            contents[rel] = data
    commit(root, contents)
    return out
