"""OSV advisories pinned in the register (`feeds/osv/<id>.json`), read, and the version ordering they use.

A pinned advisory is an OSV document (https://ossf.github.io/osv-schema/) as `bir feed import` or
`bir feed update --osv` wrote it, normalised by `normalise` to what the reports use: id, aliases,
summary, details, published and modified, severity vectors, the database's own severity rating, the
affected packages with their ranges and explicit versions, CPE names an entry carries
(`database_specific.cpes` or `ecosystem_specific.cpes`), and the advisory and package references.

Versions are ordered by the ecosystem's own rules where the package's ecosystem has them:
- PyPI: PEP 440 (`packaging.version`);
- npm, crates.io, Go, Hex, Pub, NuGet, RubyGems, Packagist and ranges of type SEMVER: semantic versioning
  2.0 precedence (a leading `v` ignored; pre-releases before the release; build metadata ignored);
- every other ecosystem (Maven, Debian, ...): the version split into runs of digits (compared as numbers)
  and of other characters (compared as text), runs of digits ranking above text at the same place (so
  `2.14.1` < `2.15.0` and `1.0` < `1.0.1`, and `1.0-rc1` < `1.0.1`).
A version that cannot be read by its ecosystem's rule is compared by the last rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cmp_to_key
from pathlib import Path
from typing import Any

from bir.base.problems import UsageError

OSV_DIR = "feeds/osv"
ADVISORY_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9._:-]{1,120}$")
EVENT_KEYS = ("introduced", "fixed", "last_affected", "limit")
RANGE_TYPES = frozenset({"SEMVER", "ECOSYSTEM", "GIT"})
# OSV ecosystem -> purl type (https://ossf.github.io/osv-schema/#affectedpackage-field and the purl spec).
PURL_TYPES = {"pypi": "pypi", "maven": "maven", "npm": "npm", "go": "golang", "crates.io": "cargo", "rubygems": "gem",
              "nuget": "nuget", "packagist": "composer", "hex": "hex", "pub": "pub", "debian": "deb", "alpine": "apk",
              "ubuntu": "deb", "swifturl": "swift", "hackage": "hackage", "cran": "cran", "conan": "conan"}
SEMVER_ECOSYSTEMS = frozenset({"npm", "crates.io", "go", "hex", "pub", "nuget", "rubygems", "packagist"})


class OsvError(UsageError):
    """A document is not an OSV advisory bir can read."""


@dataclass(frozen=True, slots=True)
class Range:
    type: str
    events: tuple[tuple[str, str], ...]  # (introduced|fixed|last_affected|limit, version), in the document's order


@dataclass(frozen=True, slots=True)
class Affected:
    ecosystem: str
    name: str
    purl: str  # the package's purl without a version, "" when the document gives none
    ranges: tuple[Range, ...]
    versions: frozenset[str]
    cpes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    published: str
    modified: str
    vectors: tuple[tuple[str, str], ...]  # (CVSS_V3 | CVSS_V4 | CVSS_V2, vector)
    database_severity: str  # e.g. CRITICAL, HIGH, MODERATE, LOW; "" without one
    affected: tuple[Affected, ...]
    references: tuple[tuple[str, str], ...]  # (type, url)


def looks_like_osv(doc: Any) -> bool:
    """An OSV advisory (`id`, `modified`, `affected`), or an OSV API answer holding them (`vulns`)."""
    if isinstance(doc, dict) and isinstance(doc.get("vulns"), list):
        return True
    return isinstance(doc, dict) and isinstance(doc.get("id"), str) and "modified" in doc and "result" not in doc


def advisories_in(doc: Any, source: str) -> list[dict[str, Any]]:
    """The normalised advisories of a document: one advisory, or an OSV API answer's `vulns`."""
    items = doc["vulns"] if isinstance(doc, dict) and isinstance(doc.get("vulns"), list) else [doc]
    return [normalise(item, f"{source} (advisory {i})" if len(items) > 1 else source) for i, item in enumerate(items)]


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def normalise(doc: Any, source: str) -> dict[str, Any]:
    """The validated advisory with the fields the reports use, or OsvError saying what is wrong."""
    def bad(msg: str) -> OsvError:
        return OsvError(f"{source}: {msg}; expected an OSV advisory (https://ossf.github.io/osv-schema/)")

    if not isinstance(doc, dict):
        raise bad("not a JSON object")
    vid = doc.get("id")
    if not isinstance(vid, str) or not ADVISORY_ID.match(vid):
        raise bad(f"`id` {str(vid)[:60]!r} is not an advisory id such as GHSA-jfh8-c2jp-5v3q or CVE-2021-44228")
    if not isinstance(doc.get("modified"), str):
        raise bad("`modified` is missing")
    affected_in = doc.get("affected") or []
    if not isinstance(affected_in, list):
        raise bad("`affected` is not a list")
    affected: list[dict[str, Any]] = []
    for i, item in enumerate(affected_in):
        if not isinstance(item, dict) or not isinstance(item.get("package"), dict):
            raise bad(f"affected[{i}] has no `package`")
        pkg = item["package"]
        if not isinstance(pkg.get("ecosystem"), str) or not isinstance(pkg.get("name"), str):
            raise bad(f"affected[{i}].package needs `ecosystem` and `name`")
        ranges = []
        for j, rng in enumerate(item.get("ranges") or []):
            if not isinstance(rng, dict) or rng.get("type") not in RANGE_TYPES or not isinstance(rng.get("events"), list):
                raise bad(f"affected[{i}].ranges[{j}] needs a `type` (SEMVER, ECOSYSTEM or GIT) and `events`")
            events = []
            for ev in rng["events"]:
                pairs = [(k, v) for k, v in ev.items() if k in EVENT_KEYS] if isinstance(ev, dict) else []
                if len(pairs) != 1 or not isinstance(pairs[0][1], str):
                    raise bad(f"affected[{i}].ranges[{j}] has an event that is not one of {', '.join(EVENT_KEYS)} with a version")
                events.append({pairs[0][0]: pairs[0][1]})
            ranges.append({"type": rng["type"], "events": events})
        versions = [v for v in item.get("versions") or [] if isinstance(v, str)]
        entry: dict[str, Any] = {"package": {"ecosystem": pkg["ecosystem"], "name": pkg["name"]}, "ranges": ranges}
        if isinstance(pkg.get("purl"), str):
            entry["package"]["purl"] = pkg["purl"]
        if versions:
            entry["versions"] = versions
        places = [item[key] for key in ("database_specific", "ecosystem_specific") if isinstance(item.get(key), dict)]
        cpes = [c for place in (*places, item) for c in place.get("cpes") or [] if isinstance(c, str) and c.startswith("cpe:")]
        if cpes:
            entry["cpes"] = cpes
        affected.append(entry)
    severity = [{"type": s["type"], "score": s["score"]} for s in doc.get("severity") or []
                if isinstance(s, dict) and isinstance(s.get("type"), str) and isinstance(s.get("score"), str)]
    out: dict[str, Any] = {
        "schema_version": _text(doc.get("schema_version"), 20),
        "id": vid,
        "modified": doc["modified"],
        "published": _text(doc.get("published"), 40),
        "aliases": [a for a in doc.get("aliases") or [] if isinstance(a, str)],
        "summary": _text(doc.get("summary"), 500),
        "details": _text(doc.get("details"), 20000),
        "severity": severity,
        "affected": affected,
        "references": [{"type": r["type"], "url": r["url"]} for r in doc.get("references") or []
                       if isinstance(r, dict) and r.get("type") in ("ADVISORY", "PACKAGE") and isinstance(r.get("url"), str)],
    }
    rating = (doc.get("database_specific") or {}).get("severity") if isinstance(doc.get("database_specific"), dict) else None
    if isinstance(rating, str):
        out["database_specific"] = {"severity": rating}
    return out


def contents_of(docs: list[dict[str, Any]]) -> dict[str, bytes]:
    """The files that pin normalised advisories: `feeds/osv/<id>.json` (one per id; the last wins)."""
    return {f"{OSV_DIR}/{doc['id']}.json": (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
            for doc in docs}


def parse_advisory(doc: Mapping[str, Any]) -> Advisory:
    """A pinned (normalised) advisory document as an `Advisory`."""
    affected = []
    for item in doc.get("affected") or ():
        pkg = item.get("package") or {}
        ranges = tuple(Range(str(r.get("type")), tuple((k, str(v)) for ev in r.get("events") or () for k, v in ev.items()))
                       for r in item.get("ranges") or ())
        affected.append(Affected(str(pkg.get("ecosystem", "")), str(pkg.get("name", "")), str(pkg.get("purl") or ""), ranges,
                                 frozenset(item.get("versions") or ()), tuple(item.get("cpes") or ())))
    return Advisory(str(doc.get("id", "")), tuple(doc.get("aliases") or ()), str(doc.get("summary") or ""),
                    str(doc.get("published") or ""), str(doc.get("modified") or ""),
                    tuple((str(s["type"]), str(s["score"])) for s in doc.get("severity") or ()),
                    str((doc.get("database_specific") or {}).get("severity") or ""), tuple(affected),
                    tuple((str(r["type"]), str(r["url"])) for r in doc.get("references") or ()))


def advisories_from(files: Mapping[str, bytes]) -> dict[str, Advisory]:
    """Advisories from file contents keyed by register path (e.g. read from a git commit)."""
    out: dict[str, Advisory] = {}
    for path in sorted(files):
        if not (path.startswith(OSV_DIR + "/") and path.endswith(".json")):
            continue
        try:
            doc = json.loads(files[path])
        except ValueError as exc:
            raise OsvError(f"{path}: unreadable advisory ({exc})") from exc
        adv = parse_advisory(normalise(doc, path))
        out[adv.id] = adv
    return out


def load_advisories(root: Path | str) -> dict[str, Advisory]:
    """Every advisory pinned in the working tree (an unreadable file is an error: reports must not guess)."""
    folder = Path(root) / OSV_DIR
    if not folder.is_dir():
        return {}
    files: dict[str, bytes] = {}
    for file in sorted(folder.glob("*.json")):
        if file.is_symlink() or not file.is_file():
            continue
        try:
            files[f"{OSV_DIR}/{file.name}"] = file.read_bytes()
        except OSError as exc:
            raise OsvError(f"{file}: cannot read it ({exc.strerror})") from exc
    return advisories_from(files)


# ------------------------------------------------------------------ version ordering

_SEMVER = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_RUNS = re.compile(r"\d+|[^\d.+\-_~]+")


def _generic_key(version: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((1, int(run), "") if run.isdigit() else (0, 0, run.lower()) for run in _RUNS.findall(version))


def _semver_cmp(a: str, b: str) -> int | None:
    ma, mb = _SEMVER.match(a), _SEMVER.match(b)
    if ma is None or mb is None:
        return None
    na = tuple(int(x or 0) for x in ma.groups()[:3])
    nb = tuple(int(x or 0) for x in mb.groups()[:3])
    if na != nb:
        return -1 if na < nb else 1
    pa, pb = ma.group(4), mb.group(4)
    if pa == pb:
        return 0
    if pa is None or pb is None:
        return 1 if pa is None else -1  # a pre-release ranks before its release
    for x, y in zip(pa.split("."), pb.split("."), strict=False):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1
        return -1 if x < y else 1
    return (len(pa.split(".")) > len(pb.split("."))) - (len(pa.split(".")) < len(pb.split(".")))


def compare(a: str, b: str, ecosystem: str, range_type: str = "ECOSYSTEM") -> int:
    """-1, 0 or 1 as version `a` sorts before, with or after `b` in `ecosystem` (see the module docstring)."""
    eco = ecosystem.split(":", 1)[0].lower()
    if a == b:
        return 0
    if eco == "pypi" and range_type != "SEMVER":
        from packaging.version import InvalidVersion, Version

        try:
            va, vb = Version(a), Version(b)
            return -1 if va < vb else 1 if va > vb else 0
        except InvalidVersion:
            pass
    if range_type == "SEMVER" or eco in SEMVER_ECOSYSTEMS:
        got = _semver_cmp(a, b)
        if got is not None:
            return got
    ka, kb = _generic_key(a), _generic_key(b)
    return -1 if ka < kb else 1 if ka > kb else 0


def in_range(version: str, rng: Range, ecosystem: str) -> tuple[bool, str]:
    """Whether `version` is affected by one range, and the first fixed version after it ("" when none).

    OSV's rule: walking the events in version order, `introduced` starts an affected stretch (`0` is
    before every version), `fixed` and `limit` end it before their version, `last_affected` after it.
    """
    if rng.type == "GIT":
        return False, ""  # commit ranges cannot be ordered without the repository; `versions` covers them

    def cmp(a: str, b: str) -> int:
        if a == b:
            return 0
        if a == "0":
            return -1
        if b == "0":
            return 1
        return compare(a, b, ecosystem, rng.type)

    def by_version(x: tuple[str, str], y: tuple[str, str]) -> int:
        return cmp(x[1], y[1])

    events = sorted(rng.events, key=cmp_to_key(by_version))
    affected = False
    fixed = ""
    for kind, at in events:
        if kind == "introduced" and cmp(version, at) >= 0:
            affected = True
        elif kind in ("fixed", "limit") and cmp(version, at) >= 0:
            affected = False
        elif kind == "last_affected" and cmp(version, at) > 0:
            affected = False
        if kind == "fixed" and cmp(version, at) < 0 and not fixed:
            fixed = at
    return affected, fixed if affected else ""
