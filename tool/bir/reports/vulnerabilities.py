"""Vulnerabilities: the OSV advisories pinned in `feeds/osv/` matched against the register's software.

- Package match: a software record's `purl` (type, namespace and name; PyPI names compared in their PEP 503
  normal form, the others as written, case-insensitively) against each affected package of an advisory
  (its `purl`, else its ecosystem and name: Maven's `group:artifact` is namespace and name).
- Version: the purl's version, else the record's `version`; affected when an affected entry lists it in
  `versions`, or one of its ranges covers it (`bir.read.osv.in_range`, with the ecosystem's ordering).
- CPE: a record without a purl but with a `cpe` matches an affected entry carrying a CPE name of the same
  part, vendor and product, the version compared by the entry's ranges and versions.
- Severity: the highest CVSS base score computed from the advisory's vectors (the `cvss` library;
  v4 before v3 before v2), rated none/low/medium/high/critical by CVSS; without a vector, the database's
  own rating (GitHub's MODERATE is medium). The risk finding's severity is that rating (critical counts as
  high; unknown as medium).
- Affected hosts: where the software is installed (`installations[].on`, `installed_on`) or runs
  (`runs_on`); services: those the software or its hosts are components of (the dependency graph).
- A waiver of `software.vulnerable` for the record silences its matches (listed apart, with the waiver).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bir.base.model import Record
from bir.read.osv import PURL_TYPES, Advisory, Affected, in_range, load_advisories
from bir.reports.context import Context
from bir.reports.opsmodels import SoftwareCoverageLine, VulnerabilityLine, VulnerabilityReport
from bir.reports.risk import Check, Hit, active_waivers, register, risk_rule

RULE_ID = "software.vulnerable"
RATINGS = ("none", "low", "medium", "high", "critical")
DATABASE_RATINGS = {"critical": "critical", "high": "high", "moderate": "medium", "medium": "medium", "low": "low"}
RISK_SEVERITY = {"critical": "high", "high": "high", "medium": "medium", "low": "low", "none": "low", "unknown": "medium"}


@dataclass(frozen=True, slots=True)
class Package:
    type: str
    namespace: str
    name: str
    version: str


def _pypi(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_of(purl: str, version: str = "") -> Package | None:
    """A purl as (type, namespace, name, version), names in their comparable form; None when unreadable."""
    from packageurl import PackageURL

    try:
        p = PackageURL.from_string(purl)
    except ValueError:
        return None
    name, namespace = p.name or "", p.namespace or ""
    if p.type == "pypi":
        name = _pypi(name)
    return Package(p.type, namespace.lower(), name.lower(), p.version or version)


def affected_package(item: Affected) -> Package | None:
    """The package an affected entry names: its purl, else its ecosystem and name."""
    if item.purl:
        return package_of(item.purl)
    eco = item.ecosystem.split(":", 1)[0].lower()
    ptype = PURL_TYPES.get(eco)
    if ptype is None:
        return None
    name, namespace = item.name, ""
    if ptype == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif "/" in name and ptype in ("npm", "golang", "composer"):
        namespace, name = name.rsplit("/", 1)
    if ptype == "pypi":
        name = _pypi(name)
    return Package(ptype, namespace.lower(), name.lower(), "")


def _cpe_parts(cpe: str) -> tuple[str, str, str, str] | None:
    """(part, vendor, product, version) of a CPE 2.3 formatted string."""
    parts = cpe.split(":")
    if len(parts) < 6 or parts[0] != "cpe" or parts[1] != "2.3":
        return None
    return parts[2].lower(), parts[3].lower(), parts[4].lower(), parts[5]


def cvss_score(vectors: tuple[tuple[str, str], ...]) -> tuple[Decimal | None, str]:
    """The highest base score of the vectors (v4, else v3, else v2) and its CVSS rating; (None, "") when none
    can be read."""
    from cvss import CVSS2, CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    best: tuple[Decimal, str] | None = None
    for rank in ("CVSS_V4", "CVSS_V3", "CVSS_V2"):
        for typ, vector in vectors:
            if typ != rank:
                continue
            try:
                if typ == "CVSS_V4":
                    c4 = CVSS4(vector)
                    score, rating = Decimal(str(c4.base_score)), str(c4.severity).lower()
                elif typ == "CVSS_V3":
                    c3 = CVSS3(vector)
                    score, rating = Decimal(str(c3.scores()[0])), str(c3.severities()[0]).lower()
                else:
                    score = Decimal(str(CVSS2(vector).scores()[0]))
                    rating = "low" if score < 4 else "medium" if score < 7 else "high"
            except (CVSSError, ValueError, KeyError, IndexError, TypeError):
                continue
            if best is None or score > best[0]:
                best = (score, rating)
        if best is not None:
            return best
    return None, ""


def severity_of(adv: Advisory) -> tuple[str, Decimal | None]:
    """The advisory's rating (critical .. none, or unknown) and CVSS base score."""
    score, rating = cvss_score(adv.vectors)
    if rating in RATINGS:
        return rating, score
    return DATABASE_RATINGS.get(adv.database_severity.lower(), "unknown"), score


def _affects(item: Affected, version: str, ecosystem: str) -> tuple[bool, str]:
    if not version:
        return False, ""
    if version in item.versions:
        return True, ""
    for rng in item.ranges:
        hit, fixed = in_range(version, rng, ecosystem)
        if hit:
            return True, fixed
    return False, ""


def match(rec: Record, adv: Advisory) -> tuple[str, str, str, str] | None:
    """(package, version, matched_by, fixed) when the advisory affects the record, else None."""
    purl = rec.data.get("purl")
    version = str(rec.data.get("version") or "")
    if isinstance(purl, str):
        pkg = package_of(purl, version)
        if pkg is None or pkg.type == "generic":
            return None
        for item in adv.affected:
            want = affected_package(item)
            if want is not None and (want.type, want.namespace, want.name) == (pkg.type, pkg.namespace, pkg.name):
                hit, fixed = _affects(item, pkg.version, item.ecosystem)
                if hit:
                    label = f"pkg:{pkg.type}/{pkg.namespace + '/' if pkg.namespace else ''}{pkg.name}"
                    return label, pkg.version, "purl", fixed
        return None
    cpe = rec.data.get("cpe")
    mine = _cpe_parts(cpe) if isinstance(cpe, str) else None
    if mine is None:
        return None
    for item in adv.affected:
        for theirs in (_cpe_parts(c) for c in item.cpes):
            if theirs is not None and theirs[:3] == mine[:3]:
                hit, fixed = _affects(item, version or mine[3], item.ecosystem)
                if hit:
                    return f"cpe:2.3:{':'.join(mine[:3])}", version or mine[3], "cpe", fixed
    return None


def advisories(ctx: Context) -> dict[str, Advisory]:
    """The advisories of the point (set by `evaluate`), else those pinned in the register's folder."""
    got = ctx.cache.get("osv")
    if got is None:
        got = ctx.cache["osv"] = load_advisories(Path(ctx.register.root))
    return got  # type: ignore[no-any-return]


def hosts_of(ctx: Context, rec: Record) -> tuple[str, ...]:
    """Where the software is installed or runs."""
    out = {rel.target for rel in ctx.relations(rec) if rel.type in ("installed_on", "runs_on")}
    for inst in rec.data.get("installations") or ():
        if isinstance(inst, dict) and isinstance(inst.get("on"), str):
            out.add(inst["on"])
    return tuple(sorted(out))


def matches(ctx: Context) -> list[VulnerabilityLine]:
    """Every (advisory, software record) match, waived or not (computed once per context)."""
    cached = ctx.cache.get("vulnerabilities:matches")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    advs = advisories(ctx)
    active, _lapsed = active_waivers(ctx)
    rated = {a.id: severity_of(a) for a in advs.values()}
    out: list[VulnerabilityLine] = []
    software = [r for r in ctx.of_kind("software") if not ctx.is_ended(r)]
    for rec in software:
        for adv in advs.values():
            found = match(rec, adv)
            if found is None:
                continue
            package, version, by, fixed = found
            hosts = hosts_of(ctx, rec)
            services = set(ctx.services_of.get(rec.id, ()))
            for h in hosts:
                services.update(ctx.services_of.get(h, ()))
            rating, score = rated[adv.id]
            out.append(VulnerabilityLine(adv.id, adv.aliases, rating, score, rec.id, package, version, by, fixed, hosts,
                                         tuple(sorted(services)), adv.summary, active.get((RULE_ID, rec.id), ""),
                                         (rec.id, *hosts)))
    rank = {r: i for i, r in enumerate(reversed((*RATINGS, "unknown")))}
    out.sort(key=lambda v: (rank.get(v.severity, 9), -(v.score or 0), v.advisory, v.record))
    ctx.cache["vulnerabilities:matches"] = out
    return out


def vulnerability_report(ctx: Context) -> VulnerabilityReport:
    found = matches(ctx)
    per_record: dict[str, int] = {}
    for v in found:
        per_record[v.record] = per_record.get(v.record, 0) + 1
    coverage = []
    for rec in ctx.of_kind("software"):
        if ctx.is_ended(rec):
            continue
        purl, cpe = rec.data.get("purl"), rec.data.get("cpe")
        if isinstance(purl, str):
            pkg = package_of(purl)
            ident, eco = ("purl", pkg.type if pkg else "")
        elif isinstance(cpe, str):
            parts = _cpe_parts(cpe)
            ident, eco = ("cpe", parts[0] if parts else "")
        else:
            ident, eco = ("none", "")
        coverage.append(SoftwareCoverageLine(rec.id, ident, eco, per_record.get(rec.id, 0), (rec.id,)))
    coverage.sort(key=lambda c: (-c.advisories, c.identifier, c.record))
    warnings = list(ctx.warnings)
    generic = sum(1 for c in coverage if c.ecosystem == "generic")
    if generic:
        warnings.append(f"{generic} software record(s) have a pkg:generic purl, which no advisory database indexes: "
                        "give them the purl of their package ecosystem (pkg:pypi/..., pkg:maven/...) or a cpe")
    return VulnerabilityReport(ctx.as_of, len(advisories(ctx)), [v for v in found if not v.waived_by],
                               [v for v in found if v.waived_by], coverage, warnings=warnings)


def vulnerable(ctx: Context) -> Check:
    """Software that is not ended is not affected by an advisory pinned in feeds/osv/ (matched by purl and
    version, else CPE); the finding carries the highest severity of the advisories that match.

    Passes: `purl: pkg:pypi/jinja2@3.1.3` with GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3) pinned.
    Fails:  `purl: pkg:pypi/jinja2@3.1.2`: affected (medium, CVSS 5.4), upgrade to 3.1.3.
    """
    by_record: dict[str, list[VulnerabilityLine]] = {}
    for v in matches(ctx):
        by_record.setdefault(v.record, []).append(v)
    if not advisories(ctx):
        return
    for rec in ctx.of_kind("software"):
        if ctx.is_ended(rec) or not (isinstance(rec.data.get("purl"), str) or isinstance(rec.data.get("cpe"), str)):
            continue
        hits = by_record.get(rec.id)
        if not hits:
            yield rec.id, None
            continue
        worst = hits[0]  # matches are sorted by severity
        fixes = sorted({f"{v.advisory} fixed in {v.fixed}" for v in hits if v.fixed})
        hosts = tuple(sorted({h for v in hits for h in v.hosts}))
        yield rec.id, Hit(f"software {rec.id} ({worst.package}@{worst.version}) is affected by "
                          + ", ".join(f"{v.advisory} ({v.severity}{f' {v.score}' if v.score is not None else ''})" for v in hits),
                          "upgrade it" + (f" ({'; '.join(fixes)})" if fixes else "") + ", or record a waiver with an expiry date",
                          hosts, RISK_SEVERITY.get(worst.severity, "medium"))


VULNERABLE = register(risk_rule(RULE_ID, "high", "software is not affected by a pinned advisory", vulnerable))


def vex_of(ctx: Context) -> list[dict[str, Any]]:
    """The CycloneDX 1.6 `vulnerabilities` of the matches: one per advisory, affecting the matched records."""
    advs = advisories(ctx)
    by_adv: dict[str, list[VulnerabilityLine]] = {}
    for v in matches(ctx):
        by_adv.setdefault(v.advisory, []).append(v)
    out: list[dict[str, Any]] = []
    for aid in sorted(by_adv):
        adv, lines = advs[aid], by_adv[aid]
        first = lines[0]
        entry: dict[str, Any] = {"bom-ref": f"vulnerability:{aid}", "id": aid,
                                 "source": {"name": "OSV", "url": f"https://osv.dev/vulnerability/{aid}"}}
        refs = [{"id": a, "source": {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{a}"}}
                for a in adv.aliases if a.startswith("CVE-")]
        if refs:
            entry["references"] = refs
        ratings = []
        for typ, vector in adv.vectors:
            score, rating = cvss_score(((typ, vector),))
            if score is not None:
                method = {"CVSS_V4": "CVSSv4", "CVSS_V3": "CVSSv31" if vector.startswith("CVSS:3.1") else "CVSSv3",
                          "CVSS_V2": "CVSSv2"}[typ]
                ratings.append({"source": {"name": "OSV"}, "score": float(score), "severity": rating, "method": method,
                                "vector": vector})
        if not ratings and first.severity in RATINGS:
            ratings.append({"source": {"name": "OSV"}, "severity": first.severity, "method": "other"})
        if ratings:
            entry["ratings"] = ratings
        if adv.summary:
            entry["description"] = adv.summary
        for key, field in (("published", adv.published), ("updated", adv.modified)):
            if _iso(field):
                entry[key] = field
        waived = [v for v in lines if v.waived_by]
        entry["analysis"] = ({"state": "exploitable", "response": ["will_not_fix"],
                              "detail": "risk accepted by " + ", ".join(sorted({v.waived_by for v in waived}))}
                             if waived and len(waived) == len(lines) else
                             {"state": "in_triage", "response": ["update"] if any(v.fixed for v in lines) else [],
                              "detail": "affected by version; " + "; ".join(
                                  f"{v.record} {v.version}" + (f", fixed in {v.fixed}" if v.fixed else "") for v in lines)})
        if not entry["analysis"]["response"]:
            del entry["analysis"]["response"]
        entry["affects"] = [{"ref": v.record, "versions": [{"version": v.version, "status": "affected"}]} for v in lines]
        out.append(entry)
    return out


def _iso(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return bool(value)
