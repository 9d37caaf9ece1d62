"""Lifecycle feeds: endoflife.date API v1 product documents pinned in the register.

`bir feed import FILE...` validates each document (the JSON served at `/api/v1/products/<name>`), keeps
the fields the reports use, and writes it to `feeds/endoflife/<product>.json` in the register (atomically),
so a report computed today can be reproduced later from the same commit.

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
_NAME = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,99}$")
_DATE_FIELDS = ("releaseDate", "eolFrom", "eoasFrom", "eoesFrom", "ltsFrom", "discontinuedFrom")


class FeedError(UsageError):
    """A feed document is not a valid endoflife.date API v1 product document."""


@dataclass(frozen=True, slots=True)
class Cycle:
    name: str
    eol: dt.date | None  # eolFrom: end of life (end of security support)
    eoas: dt.date | None  # eoasFrom: end of active support
    eoes: dt.date | None  # eoesFrom: end of extended support (paid)
    release: dt.date | None


@dataclass(frozen=True, slots=True)
class Feed:
    product: str
    cycles: dict[str, Cycle]

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
    if not isinstance(name, str) or not _NAME.match(name):
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
        "releases": out,
    }


def import_files(root: Path, files: list[Path]) -> list[Path]:
    """Validate every file first, then write them all: a bad file leaves the register untouched."""
    docs: list[dict[str, Any]] = []
    for file in files:
        try:
            raw = json.loads(file.read_bytes())
        except OSError as exc:
            raise FeedError(f"{file}: cannot read it ({exc.strerror})") from exc
        except ValueError as exc:
            raise FeedError(f"{file}: not JSON ({exc})") from exc
        docs.append(normalise(raw, str(file)))
    from bir.base.journal import commit

    contents = {f"{FEED_DIR}/{doc['product']}.json": (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
             .encode("utf-8") for doc in docs}
    return [root / rel for rel in commit(root, contents)]  # all of them or none, under the register lock


def parse_feed(doc: dict[str, Any]) -> Feed:
    cycles = {}
    for rel in doc.get("releases") or []:
        cycles[rel["name"]] = Cycle(rel["name"], parse_date(rel.get("eolFrom")), parse_date(rel.get("eoasFrom")),
                                    parse_date(rel.get("eoesFrom")), parse_date(rel.get("releaseDate")))
    return Feed(str(doc.get("product", "")), cycles)


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
            raise FeedError(f"{file}: unreadable feed ({exc}); re-import it with `bir feed import`") from exc
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
