"""Writing lifecycle feeds: `bir feed import FILE...` and `bir feed update [PRODUCT...]`.

Both pin endoflife.date API v1 product documents in the register as `feeds/endoflife/<product>.json`,
validated and normalised by `bir.read.feeds.normalise` (releases with their dates, the product's purl and
CPE identifiers). Every document is read and checked before any file is written, and each file is
written atomically: a bad document or a failed download leaves the register as it was.

`update` fetches `<base>/products/<product>` over HTTPS (plain HTTP only to this machine, for tests) with
a timeout per attempt and a few retries with a growing pause on connection errors, time-outs, 429 and 5xx
answers; a 404 is final. A fetched feed records the day it was fetched (`fetched_on`) and where from
(`source`). A product whose document did not change since it was pinned is left as it is (no commit
noise from a scheduled update); its `fetched_on` stays the day the pinned content was fetched.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bir import __version__
from bir.base.journal import commit
from bir.read.feeds import FEED_DIR, PRODUCT_NAME, FeedError, normalise

DEFAULT_BASE_URL = "https://endoflife.date/api/v1"
TIMEOUT = 15.0  # seconds per attempt
ATTEMPTS = 3
MAX_BYTES = 8 << 20  # the largest product document is a few hundred kilobytes
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class FetchError(FeedError):
    """A feed could not be fetched (offline, time-out, refused, not found): nothing was written."""


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _target(root: Path, product: str) -> Path:
    return root / FEED_DIR / f"{product}.json"


def import_files(root: Path, files: list[Path]) -> list[Path]:
    """Validate every file first, then write them all: a bad file leaves the register untouched. An OSV
    advisory (or an OSV API answer holding several) is pinned in feeds/osv/ (`bir.write.osv`)."""
    from bir.read.osv import advisories_in, contents_of, looks_like_osv

    docs: list[dict[str, Any]] = []
    advisories: list[dict[str, Any]] = []
    for file in files:
        try:
            raw = json.loads(file.read_bytes())
        except OSError as exc:
            raise FeedError(f"{file}: cannot read it ({exc.strerror})") from exc
        except ValueError as exc:
            raise FeedError(f"{file}: not JSON ({exc})") from exc
        if looks_like_osv(raw):
            advisories.extend(advisories_in(raw, str(file)))
            continue
        docs.append(normalise(raw, str(file)))
    contents = {_target(root, doc["product"]).relative_to(root).as_posix(): _dump(doc).encode("utf-8") for doc in docs}
    contents.update(contents_of(advisories))
    return [root / rel for rel in commit(root, contents)]  # all of them or none, under the register lock


@dataclass(frozen=True, slots=True)
class Updated:
    """One product of `bir feed update`: its file, whether it changed, and the day its content was fetched."""

    product: str
    path: Path
    changed: bool
    fetched_on: str
    releases: int


def check_base_url(base_url: str) -> str:
    """The API base URL without a trailing slash: HTTPS, or plain HTTP to this machine only."""
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return base_url.rstrip("/")
    if parts.scheme == "http" and host in _LOOPBACK:
        return base_url.rstrip("/")
    raise FeedError(f"feed URL {base_url!r} is not an https:// URL; lifecycle data is fetched over HTTPS only "
                    f"(the default is {DEFAULT_BASE_URL})")


def pinned_products(root: Path) -> list[str]:
    """The products whose feeds the register pins (from the file names in feeds/endoflife/)."""
    folder = root / FEED_DIR
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if p.is_file() and not p.is_symlink() and PRODUCT_NAME.match(p.stem))


def answer(request: urllib.request.Request, *, timeout: float = TIMEOUT, attempts: int = ATTEMPTS, pause: float = 1.0,
           sleep: Callable[[float], None] = time.sleep, too_large: str = "", not_found: str = "",
           gave_up: str = "cannot fetch", instead: str = "the document and pin it") -> bytes:
    """The body of the answer to `request`, retried on connection errors, time-outs, 429 and 5xx (waiting
    `pause`, then twice as long each time); FetchError saying why not. `not_found` is the message of a 404
    (else it is an answer like any other refusal); `too_large`, `gave_up` and `instead` word the others."""
    url = request.full_url
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            # Only the https:// (or loopback http://) URLs `check_base_url` lets through reach this point.
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the scheme is checked
                body: bytes = response.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise FetchError(f"{url}: the answer is larger than {MAX_BYTES >> 20} MB{too_large}")
            return body
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and not_found:
                raise FetchError(f"{url}: {not_found}") from None
            last = f"HTTP {exc.code} {exc.reason}"
            if exc.code not in _RETRY_STATUS:
                break
        except TimeoutError:
            last = f"no answer within {timeout:g} seconds"
        except urllib.error.URLError as exc:
            reason = exc.reason
            last = f"no answer within {timeout:g} seconds" if isinstance(reason, TimeoutError) else str(
                getattr(reason, "strerror", None) or reason)
        except OSError as exc:
            last = str(exc.strerror or exc)
        if attempt < attempts:
            sleep(pause * 2 ** (attempt - 1))
    raise FetchError(f"{gave_up} {url}: {last} (tried {attempts} times); check the network connection or the proxy "
                     f"(HTTPS_PROXY), or download {instead} with `bir feed import FILE`; nothing was changed")


def fetch(url: str, *, timeout: float = TIMEOUT, attempts: int = ATTEMPTS, pause: float = 1.0,
          sleep: Callable[[float], None] = time.sleep) -> bytes:
    """The body of `url` (an endoflife.date document), retried as `answer` says; FetchError saying why not."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": f"bir/{__version__}"})  # noqa: S310
    return answer(request, timeout=timeout, attempts=attempts, pause=pause, sleep=sleep,
                  too_large="; it is not a product document",
                  not_found="not found (404); check the product name at https://endoflife.date "
                            "(the last part of a product page's address)")


def update(root: Path, products: Sequence[str] = (), *, base_url: str = DEFAULT_BASE_URL, today: dt.date | None = None,
           timeout: float = TIMEOUT, attempts: int = ATTEMPTS, pause: float = 1.0) -> list[Updated]:
    """Fetch the products' documents (default: every pinned product), check them all, then write the
    changed ones. Raises FeedError (nothing written) when any product fails."""
    base = check_base_url(base_url)
    wanted = list(dict.fromkeys(products)) or pinned_products(root)
    if not wanted:
        raise FeedError("the register pins no feed yet: name the products to fetch, e.g. `bir feed update ubuntu postgresql`")
    for product in wanted:
        if not PRODUCT_NAME.match(product):
            raise FeedError(f"'{product}' is not a product name (lowercase letters, digits and . _ + -, as in "
                            "https://endoflife.date/<product>)")
    day = (today or dt.date.today()).isoformat()
    fetched: list[tuple[str, dict[str, Any]]] = []
    for product in wanted:
        url = f"{base}/products/{urllib.parse.quote(product)}"
        body = fetch(url, timeout=timeout, attempts=attempts, pause=pause)
        try:
            raw = json.loads(body)
        except ValueError as exc:
            raise FeedError(f"{url}: the answer is not JSON ({exc}); nothing was changed") from None
        doc = normalise(raw, url)
        if doc["product"] != product:
            raise FeedError(f"{url}: the document is about '{doc['product']}', not '{product}'; nothing was changed")
        doc["source"] = url
        fetched.append((product, doc))
    out: list[Updated] = []
    contents: dict[str, bytes] = {}
    for product, doc in fetched:
        target = _target(root, product)
        old = _pinned(target)
        same = old is not None and {k: v for k, v in old.items() if k != "fetched_on"} == doc
        if same and old is not None:
            out.append(Updated(product, target, False, str(old.get("fetched_on") or ""), len(doc["releases"])))
            continue
        doc["fetched_on"] = day
        contents[target.relative_to(root).as_posix()] = _dump(doc).encode("utf-8")
        out.append(Updated(product, target, True, day, len(doc["releases"])))
    commit(root, contents)  # every changed feed or none, under the register lock
    return out


def _pinned(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
