"""`bir reconcile`: a discovery or inventory scan compared with the register.

The scan is CSV or JSON (a list of objects, or `{"devices": [...]}`), one row per device or per
device and software product, with any of these columns (common aliases accepted):
`hostname`, `serial_number` (serial), `mac_address` (mac; several separated by `,` `;` or spaces),
`software` (product), `version`, `last_seen` (a date, or a timestamp whose date part is used).

Findings (rule ids):
- `reconcile.unregistered`: a device in the scan that no hardware record matches (by serial number,
  then MAC address, then hostname; hostnames compare case-insensitively, short name or FQDN);
- `reconcile.stale`: an in-service hardware record not seen for `stale_days` days (or not in the scan);
- `reconcile.differs`: a matched device whose hostname or serial number differs from the record, that
  shows a MAC address the record does not hold, or whose software version differs from the software
  record installed on it;
- `reconcile.unknown-software`: a product seen on a registered device with no software record of that
  product (informational).

`--write` creates a hardware record (`in_use`, class `other`, the owner given) for each unregistered
device. On a matched device it never removes what the register holds: MAC addresses the scan saw are
added to the registered ones (a scan sees only the interfaces that are up), a host name is set only where
none is registered, and a differing serial number or host name is never overwritten (it more likely means
a swapped device than a typo): it stays a finding to resolve by hand. `last_verified` is set to the date
last seen only on a record whose own identity agrees with the scan (no differing serial number or host
name): a mismatched record is not verified.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bir.base.model import get_path, parse_date
from bir.base.problems import UsageError
from bir.base.rules import define
from bir.read.yamlstrict import parse
from bir.read.yamlvalues import shorten
from bir.write.authoring import plan_new
from bir.write.cells import read_input_text, slug
from bir.write.fieldedit import Assignment, apply
from bir.write.rtyaml import dump_rt, load_rt
from bir.write.workspace import Edit, Plan, Workspace, check_plan, write_plan

ALIASES = {
    "hostname": "hostname", "host": "hostname", "host_name": "hostname", "computer_name": "hostname", "name": "hostname",
    "serial_number": "serial_number", "serial": "serial_number", "serialnumber": "serial_number", "serial_no": "serial_number",
    "mac_address": "mac_address", "mac": "mac_address", "mac_addresses": "mac_address", "macaddress": "mac_address",
    "software": "software", "product": "software", "software_product": "software", "application": "software",
    "version": "version", "software_version": "version",
    "last_seen": "last_seen", "lastseen": "last_seen", "seen": "last_seen", "last_contact": "last_seen",
}
DEVICE_COLUMNS = frozenset({"hostname", "serial_number", "mac_address"})  # what names a device in a scan


def _column(header: str) -> str:
    """A scan's column name as ALIASES spells it (`Host Name`, `host-name`: `host_name`)."""
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


@dataclass(slots=True)
class Device:
    """One device of the scan, its rows merged."""

    key: str
    hostname: str = ""
    serial: str = ""
    macs: set[str] = field(default_factory=set)
    last_seen: dt.date | None = None
    software: dict[str, tuple[str, str]] = field(default_factory=dict)  # product (lowercase) -> (product, version)
    rows: list[int] = field(default_factory=list)


UNREGISTERED = define("reconcile.unregistered", "warning", "reconcile", "every device discovery sees is registered", """
    A device in the scan matches no record by serial number, MAC address or host name.

    Passes: the scan's `CZ1234` is the `serial_number` of `lt-0042`.
    Fails:  the scan lists `ws-guest-7`, which no record names.
    """)
STALE = define("reconcile.stale", "warning", "reconcile", "in-service hardware is seen by discovery", """
    In-service hardware that the scan does not list, or last saw more than `--stale-days` ago.

    Passes: `srv-web-01` in use and seen yesterday.
    Fails:  `srv-web-01` in use and absent from the scan (lost, moved, or switched off).
    """)
DIFFERS = define("reconcile.differs", "warning", "reconcile", "the register and discovery agree on attributes", """
    A matched device whose host name, serial number, MAC addresses or software version differ from the record.

    Passes: hostname `srv-web-01` in both.
    Fails:  the record says `CZ1234`, the scan says `CZ9999` for the same host.
    """)
UNKNOWN_SOFTWARE = define("reconcile.unknown-software", "warning", "reconcile", "software seen is registered", """
    Software that the scan sees on a device, with no software record of that product installed on it.

    Passes: `nginx 1.24` seen on `srv-web-01`, and `sw-nginx-1-24` installed on it.
    Fails:  `redis 7.2` seen on `srv-web-01`, and no software record for redis there.
    """)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    record: str  # record id, or "" for an unregistered device
    device: str  # the device as the scan names it
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "record": self.record, "device": self.device, "message": self.message}


@dataclass(slots=True)
class Reconciliation:
    findings: list[Finding] = field(default_factory=list)
    devices: int = 0
    matched: int = 0
    written: list[str] = field(default_factory=list)
    plan: Plan | None = None

    def to_dict(self) -> dict[str, object]:
        return {"devices": self.devices, "matched": self.matched, "findings": [f.to_dict() for f in self.findings],
                "written": self.written}


def _norm_mac(text: str) -> str:
    hexes = re.sub(r"[^0-9a-fA-F]", "", text).lower()
    if len(hexes) == 12:
        return ":".join(hexes[i:i + 2] for i in range(0, 12, 2))
    return text.strip().lower()


def _short(host: str) -> str:
    return host.strip().lower().split(".", 1)[0]


def _seen(text: str, where: str) -> dt.date | None:
    t = text.strip()
    if not t:
        return None
    d = parse_date(t[:10])
    if d is None:
        raise UsageError(f"{where}: last_seen '{text}' is not a date (YYYY-MM-DD, or an ISO timestamp)")
    return d


def read_scan(path: Path) -> list[Device]:
    raw = read_input_text(path)
    rows: list[tuple[int, dict[str, str]]] = []
    if path.suffix.lower() == ".json" or raw.lstrip().startswith(("[", "{")):
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise UsageError(f"{path} is not valid JSON: {exc}") from exc
        items = doc.get("devices") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise UsageError(f"{path}: expected a list of devices, or {{\"devices\": [...]}}")
        for i, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise UsageError(f"{path}: item {i} is not an object")
            flat = {k: (", ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else str(v)))
                    for k, v in item.items()}
            rows.append((i, flat))
    else:
        reader = csv.DictReader(io.StringIO(raw, newline=""))
        try:
            header = reader.fieldnames or []
            if header and not {ALIASES.get(_column(k)) for k in header} & DEVICE_COLUMNS:
                found = ", ".join(repr(shorten(k, 40)) for k in header[:8])
                raise UsageError(f"{path}: no column names a device (the header has {found}); name one column "
                                 "hostname, serial_number or mac_address (or host, serial, mac)")
            for row in reader:
                if None in row:
                    raise UsageError(f"{path}: row {reader.line_num} has more cells than the header")
                rows.append((reader.line_num, {k: v or "" for k, v in row.items()}))
        except csv.Error as exc:
            raise UsageError(f"{path}: not valid CSV at row {reader.line_num}: {exc}") from exc
    devices: dict[str, Device] = {}
    for line, row in rows:
        cells: dict[str, str] = {}
        for k, v in row.items():
            name = ALIASES.get(_column(k))
            if name is not None:
                cells[name] = v.strip()
        serial = cells.get("serial_number", "")
        macs = {_norm_mac(m) for m in re.split(r"[,;\s]+", cells.get("mac_address", "")) if m}
        host = cells.get("hostname", "")
        key = f"serial:{serial.lower()}" if serial else (f"host:{_short(host)}" if host else
                                                         (f"mac:{min(macs)}" if macs else ""))
        if not key:
            raise UsageError(f"{path}: row {line} names no device (no hostname, serial number or MAC address)")
        dev = devices.setdefault(key, Device(key))
        dev.hostname = dev.hostname or host
        dev.serial = dev.serial or serial
        dev.macs |= macs
        seen = _seen(cells.get("last_seen", ""), f"{path}: row {line}")
        if seen and (dev.last_seen is None or seen > dev.last_seen):
            dev.last_seen = seen
        if cells.get("software"):
            dev.software[cells["software"].lower()] = (cells["software"], cells.get("version", ""))
        dev.rows.append(line)
    if not devices:
        raise UsageError(f"{path} lists no device: compared with it, every in-service record would be missing; "
                         "check that the export holds its rows")
    return list(devices.values())


def _records(ws: Workspace, kinds: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = set(kinds)
    out = {}
    for rid, rel in sorted(ws.paths.items()):
        if rel.split("/")[-2] in wanted:
            value = parse(ws.read(rel), rel).value
            if isinstance(value, dict):
                out[rid] = value
    return out


def reconcile(root: Path, scan: Path, *, stale_days: int = 30, write: bool = False, owner: str | None = None,
              hw_class: str = "other", today: dt.date | None = None) -> Reconciliation:
    from bir.write.workspace import writing

    with writing(root, not write):  # with --write, under the register lock from the first read
        return _reconcile(root, scan, stale_days=stale_days, write=write, owner=owner, hw_class=hw_class, today=today)


def _reconcile(root: Path, scan: Path, *, stale_days: int, write: bool, owner: str | None, hw_class: str,
               today: dt.date | None) -> Reconciliation:
    ws = Workspace.open(root, today)
    devices = read_scan(scan)
    hardware = _records(ws, ["hardware"])
    software = _records(ws, ["software"])
    by_serial: dict[str, str] = {}
    by_mac: dict[str, str] = {}
    by_host: dict[str, str] = {}
    for hw_id, data in hardware.items():
        if isinstance(data.get("serial_number"), str):
            by_serial.setdefault(data["serial_number"].strip().lower(), hw_id)
        for m in data.get("mac_addresses") or []:
            if isinstance(m, str):
                by_mac.setdefault(_norm_mac(m), hw_id)
        if isinstance(data.get("hostname"), str):
            by_host.setdefault(_short(data["hostname"]), hw_id)
            by_host.setdefault(data["hostname"].strip().lower(), hw_id)
    result = Reconciliation(devices=len(devices))
    seen_ids: dict[str, Device] = {}
    mismatched: set[str] = set()  # records whose serial number or host name differs from the scan
    unregistered: list[Device] = []
    for dev in devices:
        rid: str | None = (by_serial.get(dev.serial.lower()) if dev.serial else None) \
            or next((by_mac[m] for m in sorted(dev.macs) if m in by_mac), None) \
            or (by_host.get(dev.hostname.strip().lower()) or by_host.get(_short(dev.hostname)) if dev.hostname else None)
        name = dev.hostname or dev.serial or ", ".join(sorted(dev.macs))
        if rid is None:
            unregistered.append(dev)
            result.findings.append(Finding(UNREGISTERED.id, "", name,
                                           f"{name} (rows {', '.join(map(str, dev.rows))}) is not in the register"))
            continue
        result.matched += 1
        seen_ids[rid] = dev
        data = hardware[rid]
        rec_host = str(data.get("hostname") or "")
        if dev.hostname and rec_host and _short(rec_host) != _short(dev.hostname):
            mismatched.add(rid)
            result.findings.append(Finding(DIFFERS.id, rid, name,
                                           f"hostname: register '{rec_host}', scan '{dev.hostname}'"))
        rec_serial = str(data.get("serial_number") or "")
        if dev.serial and rec_serial and rec_serial.lower() != dev.serial.lower():
            mismatched.add(rid)
            result.findings.append(Finding(DIFFERS.id, rid, name,
                                           f"serial number: register '{rec_serial}', scan '{dev.serial}'"))
        rec_macs = {_norm_mac(m) for m in data.get("mac_addresses") or [] if isinstance(m, str)}
        if dev.macs and rec_macs and not dev.macs <= rec_macs:
            # A scan sees the interfaces that are up: registered addresses it did not see are no mismatch.
            result.findings.append(Finding(DIFFERS.id, rid, name,
                                           f"MAC addresses: register {', '.join(sorted(rec_macs))}, "
                                           f"scan {', '.join(sorted(dev.macs))}"))
        for key, (product, version) in sorted(dev.software.items()):
            installed = _installed(software, rid, key)
            if installed is None:
                result.findings.append(Finding(UNKNOWN_SOFTWARE.id, rid, name,
                                               f"{product} {version} runs on {rid} but no software record "
                                               "of that product is installed on it"))
            elif version and installed[1] and installed[1] != version:
                result.findings.append(Finding(DIFFERS.id, rid, name,
                                               f"{product} version: register '{installed[1]}' ({installed[0]}), "
                                               f"scan '{version}'"))
    ref = ws.today
    for rid, data in hardware.items():
        if data.get("status") not in ws.config.model_for("hardware").in_service:
            continue
        seen_dev = seen_ids.get(rid)
        if seen_dev is None:
            result.findings.append(Finding(STALE.id, rid, "", f"{rid} is {data.get('status')} but not in the scan"))
        elif seen_dev.last_seen is not None and (ago := (ref - seen_dev.last_seen).days) > stale_days:
            result.findings.append(Finding(STALE.id, rid, seen_dev.hostname or seen_dev.serial,
                                           f"{rid} last seen {seen_dev.last_seen.isoformat()}, {ago} days ago "
                                           f"(more than {stale_days})"))
    order = {UNREGISTERED.id: 0, STALE.id: 1, DIFFERS.id: 2, UNKNOWN_SOFTWARE.id: 3}
    result.findings.sort(key=lambda f: (order.get(f.rule, 9), f.record, f.device, f.message))
    if write:
        result.plan = _write_plan(ws, seen_ids, unregistered, hardware, owner, hw_class, mismatched)
        check_plan(ws, result.plan)
        result.written = write_plan(ws, result.plan)
    return result


def _installed(software: Mapping[str, Mapping[str, Any]], hw_id: str, product: str) -> tuple[str, str] | None:
    for sid, data in software.items():
        names = {str(data.get("product") or "").lower(), str(data.get("name") or "").lower()}
        if product not in names:
            continue
        for inst in data.get("installations") or []:
            if isinstance(inst, dict) and inst.get("on") == hw_id:
                return sid, str(inst.get("version") or data.get("version") or "")
        if any(isinstance(r, dict) and r.get("type") == "installed_on" and r.get("target") == hw_id
               for r in data.get("relations") or []):
            return sid, str(data.get("version") or "")
    return None


def _write_plan(ws: Workspace, seen: Mapping[str, Device], unregistered: list[Device], hardware: Mapping[str, Any],
                owner: str | None, hw_class: str, mismatched: set[str]) -> Plan:
    """The edits of `--write`: nothing registered is removed or replaced, and a record whose identity
    differs from the scan is not marked verified."""
    plan = Plan()
    for rid, dev in sorted(seen.items()):
        rel = ws.paths[rid]
        before = ws.read(rel)
        tree = load_rt(before)
        order = ws.order("hardware")
        if dev.last_seen is not None and rid not in mismatched:
            current = parse_date(get_path(hardware[rid], "last_verified"))
            if current is None or dev.last_seen > current:
                apply(tree, Assignment("last_verified", "=", dev.last_seen.isoformat()), order)
        if dev.hostname and not hardware[rid].get("hostname"):
            apply(tree, Assignment("hostname", "=", dev.hostname), order)
        registered = [m for m in hardware[rid].get("mac_addresses") or [] if isinstance(m, str)]
        known = {_norm_mac(m) for m in registered}
        for mac in sorted(dev.macs - known):
            apply(tree, Assignment("mac_addresses", "+=", mac), order)
        plan.edits.append(Edit(rel, rid, "hardware", before, dump_rt(tree)))
    if unregistered:
        if owner is None:
            raise UsageError("--write creates records for unregistered devices: pass --owner PARTY for them")
        taken: set[str] = set()
        for dev in unregistered:
            candidate = slug(_short(dev.hostname)) if dev.hostname else ""
            new_id = candidate if candidate and candidate not in ws.paths and candidate not in taken else None
            when = (dev.last_seen or ws.today).isoformat()
            sets = [Assignment("name", "=", dev.hostname or dev.serial or new_id or "discovered device"),
                    Assignment("owner", "=", owner), Assignment("status", "=", "in_use"),
                    Assignment("status_dates.in_use", "=", when), Assignment("class", "=", hw_class)]
            if dev.serial:
                sets.append(Assignment("serial_number", "=", dev.serial))
            if dev.hostname:
                sets.append(Assignment("hostname", "=", dev.hostname))
            if dev.macs:
                sets.append(Assignment("mac_addresses", "=", sorted(dev.macs)))
            sets.append(Assignment("last_verified", "=", when))
            sets.append(Assignment("tags", "+=", "discovered"))
            edit = plan_new(ws, "hardware", sets, new_id, taken)
            taken.add(edit.record_id)
            plan.edits.append(edit)
    return plan
