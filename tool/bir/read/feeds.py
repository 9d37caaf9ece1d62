"""Lifecycle feeds: endoflife.date API v1 product documents pinned in the register, read.

A pinned feed is `feeds/endoflife/<product>.json`: the API document (the JSON served at
`/api/v1/products/<name>`) validated and normalised by `normalise` to the fields the reports use, plus the
product's purl and CPE identifiers and, for a fetched one, the day it was fetched. Writing feeds
(`bir feed import`, `bir feed update`) is `bir.write.feeds`; this module only reads them, so a report
computed today can be reproduced later from the same commit.

A record refers to a release cycle with `lifecycle_feed: {product, cycle}`, or with a purl
`pkg:generic/<product>@<version>`: the cycle is the release whose name is the longest prefix of the
version (at a dot boundary: `3.11.4` -> `3.11`, never `3.1`). Without a cycle, `version` is matched the
same way.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bir.base.model import Record, parse_date
from bir.base.problems import UsageError

FEED_DIR = "feeds/endoflife"
PRODUCT_NAME = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,99}$")
_DATE_FIELDS = ("releaseDate", "eolFrom", "eoasFrom", "eoesFrom", "ltsFrom", "discontinuedFrom")


class FeedError(UsageError):
    """A feed document is not a valid endoflife.date API v1 product document."""


@dataclass(frozen=True, slots=True)
class Cycle:
    """A release cycle. The `*From` dates are the truth; an `is*` flag without its date (endoflife.date
    marks many old releases `isEol: true` with no `eolFrom`) says the event had happened by the day the
    feed was generated (`as_of`), date unknown."""

    name: str
    eol: dt.date | None  # eolFrom: end of life (end of security support)
    eoas: dt.date | None  # eoasFrom: end of active support
    eoes: dt.date | None  # eoesFrom: end of extended support (paid)
    release: dt.date | None
    is_eol: bool = False  # isEol
    is_eoas: bool = False  # isEoas
    is_eoes: bool = False  # isEoes
    discontinued: dt.date | None = None  # discontinuedFrom: end of sale (hardware)
    is_discontinued: bool = False
    as_of: dt.date | None = None  # the day the flags were computed (the feed's generated_at or fetch day)


IDENTIFIER_TYPES = ("purl", "cpe")  # the product identifiers kept: package URL and CPE name
_IDENTIFIER_PREFIX = {"purl": "pkg:", "cpe": "cpe:"}


@dataclass(frozen=True, slots=True)
class Feed:
    product: str
    cycles: dict[str, Cycle]
    identifiers: tuple[tuple[str, str], ...] = ()  # (type, id): ("purl", "pkg:deb/ubuntu/..."), ("cpe", "cpe:/o:...")
    fetched_on: str = ""  # the day `bir feed update` fetched it ("" for an imported file)

    def ids(self, kind: str) -> list[str]:
        """The product's identifiers of one type (`purl` or `cpe`)."""
        return [value for typ, value in self.identifiers if typ == kind]

    def cycle_for(self, version: str) -> Cycle | None:
        """The cycle named `version`, else the one whose name is the longest dot-bounded prefix of it."""
        if version in self.cycles:
            return self.cycles[version]
        best: Cycle | None = None
        for name, cycle in self.cycles.items():
            if version.startswith(name) and version[len(name):len(name) + 1] in (".", "-", "+", " ") and (
                    best is None or len(name) > len(best.name)):
                best = cycle
        return best


def normalise(doc: Any, source: str) -> dict[str, Any]:
    """The validated, normalised document, or FeedError saying what is wrong with it."""
    def bad(msg: str) -> FeedError:
        return FeedError(f"{source}: {msg}; expected an endoflife.date API v1 product document (/api/v1/products/<name>)")

    if not isinstance(doc, dict) or not isinstance(doc.get("result"), dict):
        raise bad("no `result` object")
    result = doc["result"]
    name = result.get("name")
    if not isinstance(name, str) or not PRODUCT_NAME.match(name):
        raise bad(f"`result.name` {name!r} is not a product name")
    releases = result.get("releases")
    if not isinstance(releases, list):
        raise bad("`result.releases` is not a list")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, rel in enumerate(releases):
        if not isinstance(rel, dict) or not isinstance(rel.get("name"), str) or not rel["name"]:
            raise bad(f"release {i} has no name")
        if rel["name"] in seen:
            raise bad(f"release {rel['name']!r} appears twice")
        seen.add(rel["name"])
        item: dict[str, Any] = {"name": rel["name"]}
        if isinstance(rel.get("label"), str):
            item["label"] = rel["label"]
        for key in _DATE_FIELDS:
            value = rel.get(key)
            if value is None:
                continue
            if parse_date(value) is None:
                raise bad(f"release {rel['name']!r}: {key} {value!r} is not a date (YYYY-MM-DD)")
            item[key] = value
        for key in ("isLts", "isEol", "isEoas", "isEoes", "isMaintained", "isDiscontinued"):
            if isinstance(rel.get(key), bool):
                item[key] = rel[key]
        latest = rel.get("latest")
        if isinstance(latest, dict) and isinstance(latest.get("name"), str):
            item["latest"] = latest["name"]
        out.append(item)
    return {
        "schema_version": str(doc.get("schema_version", "")),
        "generated_at": str(doc.get("generated_at", "")),
        "product": name,
        "label": str(result.get("label", name)),
        "identifiers": _identifiers(result.get("identifiers"), bad),
        "releases": out,
    }


def _identifiers(value: Any, bad: Any) -> list[dict[str, str]]:
    """The product's purl and CPE identifiers (`result.identifiers`), in the document's order; others
    (repology names and the like) are not kept."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad("`result.identifiers` is not a list")
    out: list[dict[str, str]] = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str) or not isinstance(item.get("id"), str):
            raise bad(f"identifier {i} is not a {{type, id}} object")
        typ, ident = item["type"], item["id"]
        if typ not in IDENTIFIER_TYPES:
            continue
        if not ident.startswith(_IDENTIFIER_PREFIX[typ]) or len(ident) > 1000 or any(c.isspace() for c in ident):
            raise bad(f"identifier {i}: {ident!r} is not a {typ}")
        out.append({"type": typ, "id": ident})
    return out


def parse_feed(doc: dict[str, Any]) -> Feed:
    """A pinned (normalised) feed document as a `Feed`."""
    cycles = {}
    flagged = parse_date(str(doc.get("fetched_on") or "")) or parse_date(str(doc.get("generated_at") or "")[:10])
    for rel in doc.get("releases") or []:
        cycles[rel["name"]] = Cycle(rel["name"], parse_date(rel.get("eolFrom")), parse_date(rel.get("eoasFrom")),
                                    parse_date(rel.get("eoesFrom")), parse_date(rel.get("releaseDate")),
                                    rel.get("isEol") is True, rel.get("isEoas") is True, rel.get("isEoes") is True,
                                    parse_date(rel.get("discontinuedFrom")), rel.get("isDiscontinued") is True, flagged)
    identifiers = tuple((str(i["type"]), str(i["id"])) for i in doc.get("identifiers") or []
                        if isinstance(i, dict) and i.get("type") in IDENTIFIER_TYPES and isinstance(i.get("id"), str))
    return Feed(str(doc.get("product", "")), cycles, identifiers, str(doc.get("fetched_on") or ""))


def feeds_from(files: dict[str, bytes]) -> dict[str, Feed]:
    """Feeds from file contents keyed by register path (e.g. read from a git commit)."""
    feeds: dict[str, Feed] = {}
    for path in sorted(files):
        if not (path.startswith(FEED_DIR + "/") and path.endswith(".json")):
            continue
        try:
            doc = json.loads(files[path])
        except ValueError as exc:
            raise FeedError(f"{path}: unreadable feed ({exc})") from exc
        feed = parse_feed(normalise(doc, path) if isinstance(doc, dict) and "result" in doc else doc)
        feeds[feed.product] = feed
    return feeds


def load_feeds(root: Path | str) -> dict[str, Feed]:
    """Every imported feed of the register (an unreadable file is an error: reports must not guess)."""
    folder = Path(root) / FEED_DIR
    feeds: dict[str, Feed] = {}
    if not folder.is_dir():
        return feeds
    for file in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(file.read_bytes())
        except (OSError, ValueError) as exc:
            raise FeedError(f"{file}: unreadable feed ({exc}); fetch it again with `bir feed update {file.stem}` "
                            "or re-import it with `bir feed import`") from exc
        if isinstance(doc, dict) and "result" in doc:
            doc = normalise(doc, str(file))
        feed = parse_feed(doc)
        feeds[feed.product] = feed
    return feeds


def reference(record: Record) -> tuple[str, str] | None:
    """The (product, version or cycle) a record names in a feed, from `lifecycle_feed` or its purl."""
    lf = record.data.get("lifecycle_feed")
    if isinstance(lf, dict) and isinstance(lf.get("product"), str):
        cycle = lf.get("cycle") or record.data.get("version") or ""
        return lf["product"], str(cycle)
    purl = record.data.get("purl")
    if isinstance(purl, str) and purl.startswith("pkg:generic/") and "@" in purl:
        name, _, version = purl[len("pkg:generic/"):].partition("@")
        version = version.split("?")[0].split("#")[0]
        return name.lower(), version
    return None


def cycle_of(record: Record, feeds: dict[str, Feed]) -> tuple[str, Cycle] | None:
    """The feed product and release cycle a record refers to, when the feed is imported and has it."""
    ref = reference(record)
    if ref is None or ref[0] not in feeds:
        return None
    cycle = feeds[ref[0]].cycle_for(ref[1])
    return (ref[0], cycle) if cycle is not None else None
