"""The register as a CycloneDX 1.6 BOM (JSON), with the meaning of each kind kept.

- Hardware is a `device` component; software an `application`, `library` (its purl names a package
  ecosystem), `operating-system` or `firmware` (by tag or product); information assets are `data`
  components with a `dataset` entry carrying their classification. Services, cloud services and networks
  (connectivity a provider delivers) are `services`, each with its `provider`.
- `manufacturer` is who made the thing (hardware `manufacturer`, software `vendor`); `supplier` is who
  sold it to us (`financial.supplier`, else the manufacturer). A device's model, serial number and asset
  tag are properties: a device has no version.
- Licences become `licenses[].license.licensing` of the software (and cloud services) they license: the
  licensor is the software's vendor, never the reseller (that is the licence's supplier, kept as a
  property), with the licence types from the metric, purchaser and licensee (the register's
  organisation), purchase order, last renewal and expiry.
- Dependencies: `depends_on`, `runs_on` and `installed_on` relations and software `installations` make
  the source depend on the target; `supports` makes the service depend on what supports it; `stores`
  makes the information depend on what stores it. Every component and service has an entry (an empty one
  when it depends on nothing), and the register (the BOM's subject) depends on every one nothing else
  depends on, so the graph is complete.
- Vulnerabilities (VEX): each pinned OSV advisory that matches software of the register, with its CVSS
  ratings, its CVE references, the software it affects (with the version) and an analysis: `in_triage`
  (affected by version, the fix when known), or `exploitable` with `will_not_fix` where an active waiver
  accepts the risk for every record it affects (`bir.reports.vulnerabilities.vex_of`).
- The serial number is a version-5 (RFC 4122) UUID of the content: the same register gives the same BOM,
  byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

from bir import __version__
from bir.base.model import Record, Register, get_path

LICENSE_TYPES = {
    "per_user": "named-user", "per_device": "device", "per_core": "core-points",
    "subscription": "subscription", "site": "other",
}
_LIBRARY_PURL_TYPES = {"pypi", "npm", "maven", "nuget", "gem", "cargo", "golang", "composer", "hex", "pub", "cocoapods",
                       "swift", "conan", "hackage", "cran"}
_OS_WORDS = ("windows", "linux", "ubuntu", "debian", "rhel", "red hat enterprise", "centos", "rocky", "alma", "macos",
             "ios", "android", "freebsd", "esxi", "junos", "fortios", "pan-os", "ios-xe", "nx-os", "sles", "suse")
DEPENDENCY_RELATIONS = ("depends_on", "runs_on", "installed_on")  # source depends on target
SERVICE_KINDS = ("service", "cloud_service", "network")
# The namespace of the BOM serial numbers (a version-5 UUID of the BOM's content within it).
SERIAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "bir:cyclonedx:serial-number")


def software_type(record: Record) -> str:
    """The CycloneDX component type of a software record."""
    purl = str(record.data.get("purl") or "")
    if purl.startswith("pkg:") and purl[4:].split("/", 1)[0] in _LIBRARY_PURL_TYPES:
        return "library"
    tags = {t.lower() for t in record.tags}
    if tags & {"firmware"}:
        return "firmware"
    product = str(record.data.get("product") or record.name).lower()
    if tags & {"os", "operating-system", "operating_system"} or any(product.startswith(w) for w in _OS_WORDS):
        return "operating-system"
    return "application"


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _entity(register: Register, party_id: Any) -> dict[str, Any] | None:
    """A party as an organizational entity: its name, and its web address and e-mail when recorded."""
    if not isinstance(party_id, str):
        return None
    rec = register.get(party_id)
    if rec is None:
        return {"name": party_id}
    out: dict[str, Any] = {"name": rec.name}
    if isinstance(rec.data.get("url"), str):
        out["url"] = [rec.data["url"]]
    if isinstance(rec.data.get("email"), str):
        out["contact"] = [{"email": rec.data["email"]}]
    return out


def _properties(record: Record, fields: Iterable[str]) -> list[dict[str, str]]:
    props = [{"name": "bir:kind", "value": record.kind}, {"name": "bir:status", "value": record.status}]
    for f in fields:
        value = get_path(record.data, f)
        for v in value if isinstance(value, list) else [value]:
            if v is not None:
                props.append({"name": f"bir:{f}", "value": _scalar_text(v)})
    return props


def _licensing(register: Register, lic: Record, vendor: Any) -> dict[str, Any]:
    licensing: dict[str, Any] = {"altIds": [lic.id]}
    licensor = _entity(register, vendor)
    if licensor is not None:
        licensing["licensor"] = {"organization": licensor}
    org = {"organization": {"name": register.config.name or "register"}}
    licensing["licensee"] = org
    licensing["purchaser"] = org
    fin = lic.data.get("financial") or {}
    if fin.get("order_number"):
        licensing["purchaseOrder"] = str(fin["order_number"])
    metric = lic.data.get("metric")
    if metric in LICENSE_TYPES:
        licensing["licenseTypes"] = [LICENSE_TYPES[str(metric)]]
    term = lic.data.get("term") or {}
    if term.get("start"):
        licensing["lastRenewal"] = f"{term['start']}T00:00:00Z"
    if term.get("end"):
        licensing["expiration"] = f"{term['end']}T00:00:00Z"
    props = [{"name": "bir:licence", "value": lic.id}, {"name": "bir:status", "value": lic.status}]
    reseller = _entity(register, fin.get("supplier"))
    if reseller is not None:
        props.append({"name": "bir:financial.supplier", "value": reseller["name"]})
    if lic.data.get("quantity") is not None:
        props.append({"name": "bir:quantity", "value": _scalar_text(lic.data["quantity"])})
    return {"license": {"name": lic.name, "licensing": licensing, "properties": props}}


def _licences_of(register: Register, records: list[Record]) -> dict[str, list[Record]]:
    """Licences by the software or cloud service they license (`software:` on the licence, or a
    `licensed_by` relation to it)."""
    out: dict[str, list[Record]] = {}
    for r in records:
        if r.kind == "licence" and isinstance(r.data.get("software"), str):
            out.setdefault(r.data["software"], []).append(r)
    for r in records:
        if r.kind not in ("software", "cloud_service"):
            continue
        for rel in r.relations:
            lic = register.get(rel.target)
            if rel.type == "licensed_by" and lic is not None and lic.kind == "licence" and lic not in out.get(r.id, []):
                out.setdefault(r.id, []).append(lic)
    return out


def _component(register: Register, r: Record, licences: list[Record]) -> dict[str, Any] | None:
    base: dict[str, Any] = {"bom-ref": r.id, "name": r.name}
    if r.kind == "hardware":
        comp: dict[str, Any] = {"type": "device", **base}
        maker = _entity(register, r.data.get("manufacturer"))
        supplier = _entity(register, get_path(r.data, "financial.supplier")) or maker
        if supplier:
            comp["supplier"] = supplier
        if maker:
            comp["manufacturer"] = maker
        fields: tuple[str, ...] = ("class", "model", "serial_number", "asset_tag", "hostname", "mac_addresses",
                                   "warranty_end", "end_of_support", "end_of_life")
    elif r.kind == "software":
        comp = {"type": software_type(r), **base}
        maker = _entity(register, r.data.get("vendor"))
        supplier = _entity(register, get_path(r.data, "financial.supplier")) or maker
        if supplier:
            comp["supplier"] = supplier
        if maker:
            comp["manufacturer"] = maker
        if r.data.get("version") is not None:
            comp["version"] = str(r.data["version"])
        for key in ("purl", "cpe"):
            if r.data.get(key):
                comp[key] = r.data[key]
        if licences:
            comp["licenses"] = [_licensing(register, lic, r.data.get("vendor")) for lic in licences]
        fields = ("product", "edition", "end_of_support", "end_of_life")
    elif r.kind == "information":
        comp = {"type": "data", **base}
        dataset: dict[str, Any] = {"type": "dataset", "name": r.name}
        if r.data.get("classification"):
            dataset["classification"] = str(r.data["classification"])
        if r.data.get("description"):
            dataset["description"] = str(r.data["description"])
        comp["data"] = [dataset]
        fields = ("classification", "personal_data", "legal_basis", "retention_months")
    else:
        return None
    if r.data.get("description"):
        comp["description"] = str(r.data["description"])
    comp["properties"] = _properties(r, fields)
    return comp


def _service(register: Register, r: Record, licences: list[Record]) -> dict[str, Any]:
    svc: dict[str, Any] = {"bom-ref": r.id}
    provider = _entity(register, r.data.get("provider") or r.data.get("service_owner") or r.owner)
    if provider:
        svc["provider"] = provider
    svc["name"] = r.name
    if r.data.get("description"):
        svc["description"] = str(r.data["description"])
    if licences:
        svc["licenses"] = [_licensing(register, lic, r.data.get("provider")) for lic in licences]
    svc["properties"] = _properties(r, ("criticality", "service_type", "region", "sla", "network_type", "cidr",
                                        "bandwidth_mbps", "circuit_id"))
    return svc


def _dependencies(records: list[Record], refs: set[str]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {r.id: set() for r in records if r.id in refs}
    for r in records:
        for rel in r.relations:
            if rel.target not in refs or r.id not in refs:
                continue
            if rel.type in DEPENDENCY_RELATIONS:
                graph[r.id].add(rel.target)
            elif rel.type == "supports":
                graph[rel.target].add(r.id)
            elif rel.type == "stores":
                graph[rel.target].add(r.id)
        if r.kind == "software" and r.id in refs:
            for inst in r.data.get("installations") or []:
                if isinstance(inst, dict) and inst.get("on") in refs:
                    graph[r.id].add(str(inst["on"]))
    for node, targets in graph.items():
        targets.discard(node)
    return graph


def to_cyclonedx(register: Register, vulnerabilities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The CycloneDX 1.6 BOM of the register (see the module's docstring for what maps to what), with the
    `vulnerabilities` (VEX) given: those `bir.reports.vulnerabilities.vex_of` makes of the matches."""
    records = sorted(register.records.values(), key=lambda r: r.id)
    licences = _licences_of(register, records)
    components = [c for r in records if (c := _component(register, r, licences.get(r.id, []))) is not None]
    services = [_service(register, r, licences.get(r.id, [])) for r in records if r.kind in SERVICE_KINDS]
    refs = {c["bom-ref"] for c in components} | {s["bom-ref"] for s in services}
    graph = _dependencies(records, refs)
    depended = set().union(*graph.values()) if graph else set()
    roots = sorted(refs - depended)
    dependencies = [{"ref": "register", "dependsOn": roots}]
    dependencies += [{"ref": ref, "dependsOn": sorted(graph[ref])} if graph[ref] else {"ref": ref} for ref in sorted(graph)]
    body: dict[str, Any] = {"components": components, "services": services, "dependencies": dependencies}
    if vulnerabilities:
        body["vulnerabilities"] = [v for v in vulnerabilities if all(a["ref"] in refs for a in v.get("affects", ()))]
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": uuid.uuid5(SERIAL_NAMESPACE, digest).urn,
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "bir", "version": __version__}]},
            "component": {"type": "application", "bom-ref": "register", "name": register.config.name or "register",
                          "description": "the register of the managed infrastructure"},
        },
        **body,
    }


def cyclonedx_json(register: Register, vulnerabilities: list[dict[str, Any]] | None = None) -> str:
    return json.dumps(to_cyclonedx(register, vulnerabilities), indent=2, ensure_ascii=False) + "\n"
