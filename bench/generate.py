"""Generate a synthetic, valid register of any size for the benchmarks.

    python bench/generate.py --records 100000 --out /tmp/reg [--seed 1]

writes `bir.yaml` and `schemas/` (copied from this project) and exactly N records under
`registry/<kind>/<id>.yaml`: every kind in realistic proportions, every lifecycle state with the fields
bir.yaml requires for it, status dates in order, money in EUR/USD/GBP, and relations and reference fields
that all resolve to an existing record of an allowed kind (part_of and member_of without cycles).

YAML is written with string formatting, not a YAML library, so 100,000 records take seconds. Output is
deterministic for a given seed: one `random.Random(seed)`, no set or hash ordering, no clock.
Standard library only, so it runs before the project's dependencies are installed.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import os
import random
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

KINDS: tuple[str, ...] = (
    "hardware", "software", "licence", "cloud_service", "network", "facility",
    "information", "service", "contract", "party", "waiver", "audit", "budget",
)
PREFIX: dict[str, str] = {
    "hardware": "hw", "software": "sw", "licence": "lic", "cloud_service": "cs", "network": "net",
    "facility": "fac", "information": "info", "service": "svc", "contract": "ctr", "party": "pty",
    "waiver": "wvr", "audit": "aud", "budget": "bud",
}
# Share of the register per kind; hardware takes whatever the others leave (about 44.5 %).
SHARE: dict[str, float] = {
    "software": 0.15, "licence": 0.05, "cloud_service": 0.05, "network": 0.04, "facility": 0.04,
    "information": 0.03, "service": 0.02, "contract": 0.05, "party": 0.12, "waiver": 0.005,
    "audit": 0.004, "budget": 0.002,
}
# Enough for one record of each hardware class and party type and one of every lifecycle state.
MINIMUM: dict[str, int] = {
    "hardware": 12, "software": 3, "licence": 2, "cloud_service": 2, "network": 1, "facility": 2,
    "information": 1, "service": 1, "contract": 2, "party": 6, "waiver": 1,
    "audit": 3, "budget": 3,
}
MIN_RECORDS = sum(MINIMUM.values())

MODEL: dict[str, str] = {
    "hardware": "physical", "licence": "intangible", "contract": "intangible", "cloud_service": "intangible",
    "waiver": "intangible", "software": "general", "network": "general", "facility": "general",
    "information": "general", "service": "general", "party": "general", "audit": "audit", "budget": "budget",
}
IN_SERVICE: dict[str, str] = {"physical": "in_use", "intangible": "active", "general": "active", "audit": "completed",
                              "budget": "approved"}
LIVE_STATES = frozenset({"in_use", "in_maintenance", "active"})
STATE_WEIGHTS: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "physical": (("planned", "ordered", "in_stock", "in_use", "in_maintenance", "retired", "disposed", "lost",
                  "stolen"), (2, 3, 8, 55, 3, 10, 15, 2, 2)),
    "intangible": (("planned", "active", "expired", "terminated"), (5, 80, 10, 5)),
    "general": (("planned", "active", "retired"), (4, 90, 6)),
    "audit": (("planned", "completed", "cancelled"), (10, 85, 5)),
    "budget": (("draft", "approved", "closed"), (10, 50, 40)),
}
# Paths through the lifecycle (valid transitions of bir.yaml) that end in each state.
PATHS: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {
    "physical": {
        "planned": (("planned",),),
        "ordered": (("ordered",), ("planned", "ordered")),
        "in_stock": (("ordered", "in_stock"),),
        "in_use": (("ordered", "in_stock", "in_use"), ("planned", "ordered", "in_stock", "in_use")),
        "in_maintenance": (("ordered", "in_stock", "in_use", "in_maintenance"),),
        "retired": (("ordered", "in_stock", "in_use", "retired"),),
        "disposed": (("ordered", "in_stock", "in_use", "retired", "disposed"),),
        "lost": (("ordered", "in_stock", "in_use", "lost"), ("ordered", "in_stock", "lost")),
        "stolen": (("ordered", "in_stock", "in_use", "stolen"),),
    },
    "intangible": {
        "planned": (("planned",),),
        "active": (("active",), ("planned", "active")),
        "expired": (("active", "expired"), ("planned", "active", "expired")),
        "terminated": (("active", "terminated"), ("planned", "terminated")),
    },
    "general": {
        "planned": (("planned",),),
        "active": (("active",), ("planned", "active")),
        "retired": (("active", "retired"), ("planned", "active", "retired")),
    },
    "audit": {
        "planned": (("planned",),),
        "completed": (("planned", "completed"),),
        "cancelled": (("planned", "cancelled"),),
    },
    "budget": {
        "draft": (("draft",),),
        "approved": (("draft", "approved"),),
        "closed": (("draft", "approved", "closed"),),
    },
}
# Days between entering one state and the next: (low, high).
GAP: dict[tuple[str, str], tuple[int, int]] = {
    ("planned", "ordered"): (5, 60), ("ordered", "in_stock"): (3, 30), ("in_stock", "in_use"): (1, 40),
    ("in_use", "in_maintenance"): (200, 1500), ("in_use", "retired"): (700, 2000),
    ("retired", "disposed"): (10, 90), ("in_use", "lost"): (30, 1500), ("in_stock", "lost"): (30, 400),
    ("in_use", "stolen"): (30, 1500), ("planned", "active"): (10, 120), ("active", "retired"): (300, 2500),
    ("active", "expired"): (365, 1095), ("active", "terminated"): (30, 900), ("planned", "terminated"): (20, 200),
    ("planned", "completed"): (10, 60), ("planned", "cancelled"): (5, 60), ("draft", "approved"): (20, 80),
    ("approved", "closed"): (365, 400),
}

TODAY = dt.date(2026, 10, 1).toordinal()  # the exchange-rate date of bir.yaml: "now" for the data
EARLIEST = dt.date(2014, 1, 1).toordinal()
_DAY0 = EARLIEST - 800
_ISO: list[str] = [dt.date.fromordinal(o).isoformat() for o in range(_DAY0, TODAY + 6000)]


def day(ordinal: int) -> str:
    """A day number as a quoted ISO date."""
    return '"' + _ISO[ordinal - _DAY0] + '"'


def q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


HW_CLASSES = ("server", "laptop", "desktop", "phone", "tablet", "monitor", "printer", "network_device",
              "storage", "iot_device", "other")
HW_CLASS_WEIGHTS = (12, 30, 10, 15, 4, 12, 3, 6, 3, 4, 1)
DATA_BEARING = frozenset({"server", "laptop", "desktop", "phone", "tablet", "storage", "printer"})
RACKED = frozenset({"server", "storage", "network_device"})
PORTABLE = frozenset({"laptop", "phone", "tablet"})
HW_INFO: dict[str, tuple[str, str, tuple[int, int], tuple[int, int], tuple[str, ...]]] = {
    # class: (label, hostname prefix, cost range in cents, cpu cores (0: none), models)
    "server": ("Server", "srv", (350000, 2800000), (8, 128),
               ("PowerEdge R650", "PowerEdge R760", "ProLiant DL380 Gen10", "ThinkSystem SR650 V2", "UCS C220 M6")),
    "laptop": ("Laptop", "lt", (80000, 320000), (4, 16),
               ("ThinkPad T14 Gen 3", "Latitude 5440", "EliteBook 840 G9", "MacBook Pro 14", "XPS 13 Plus")),
    "desktop": ("Desktop", "ws", (60000, 250000), (4, 24),
                ("OptiPlex 7010", "ThinkCentre M70q", "EliteDesk 800 G9", "Mac mini M2")),
    "phone": ("Phone", "ph", (25000, 140000), (0, 0), ("iPhone 15", "iPhone 14", "Galaxy S23", "Pixel 8")),
    "tablet": ("Tablet", "tb", (30000, 150000), (0, 0), ("iPad Air", "Galaxy Tab S9", "Surface Go 4")),
    "monitor": ("Monitor", "mon", (12000, 90000), (0, 0), ("U2723QE", "P24h G5", "ThinkVision T27i")),
    "printer": ("Printer", "prn", (20000, 600000), (0, 0), ("LaserJet M507", "MFC-L8900CDW", "ZT411")),
    "network_device": ("Switch", "sw", (80000, 1800000), (0, 0),
                       ("Catalyst 9300-48P", "EX4300-48T", "Aruba 6300M", "UniFi USW-Pro-48", "FortiGate 100F")),
    "storage": ("Storage array", "sto", (900000, 9000000), (0, 0), ("AFF A250", "PowerStore 500T", "FlashArray//X20")),
    "iot_device": ("Sensor", "iot", (5000, 60000), (0, 0), ("TC52 scanner", "Meraki MT10", "Axis M3086-V")),
    "other": ("Device", "dev", (5000, 200000), (0, 0), ("UPS 3000VA", "KVM console", "Label dispenser")),
}
HW_FEED: dict[str, tuple[str, tuple[str, ...]]] = {
    "server": ("dell-poweredge", ("r650", "r760", "r740")),
    "phone": ("iphone", ("15", "14", "13")),
    "network_device": ("cisco-ios-xe", ("17.9", "17.12", "17.15")),
    "storage": ("netapp-ontap", ("9.13", "9.14", "9.15")),
}
DEPRECIATION: dict[str, str] = {
    "server": "{method: straight_line, useful_life_months: 60, residual_value: 0}",
    "laptop": "{method: straight_line, useful_life_months: 36, residual_value: 0}",
    "phone": "{method: straight_line, useful_life_months: 24, residual_value: 0}",
    "network_device": "{method: declining_balance, useful_life_months: 84, residual_value: 0, rate: 2.0}",
}
DEFAULT_DEPRECIATION = "{method: straight_line, useful_life_months: 48, residual_value: 0}"
SITES = ("ams", "rtm", "lon", "fra", "par", "bru", "mad", "nyc", "sgp", "waw")
NETWORK_TYPES = ("link", "circuit", "segment", "vlan", "wan", "lan", "wifi", "vpn")
CITIES = ("Amsterdam", "Rotterdam", "London", "Frankfurt", "Paris", "Brussels", "Madrid", "New York",
          "Singapore", "Warsaw")
STREETS = ("Science Park", "Keizersgracht", "Dock Road", "Hanauer Landstrasse", "Rue de Lyon", "Havenlaan",
           "Calle de Alcala", "Hudson Street", "Changi Business Park", "Ulica Prosta")
CURRENCIES = ("EUR", "EUR", "EUR", "EUR", "EUR", "EUR", "EUR", "USD", "USD", "GBP")
TAGS = ("production", "staging", "development", "dmz", "pci", "gdpr", "backup", "critical", "workplace",
        "finance", "logistics", "warehouse", "edge", "legacy", "lab", "customer-facing", "internal")
FIRST = ("Anna", "Bram", "Chloe", "Daan", "Emma", "Finn", "Greta", "Hugo", "Iris", "Jan", "Kim", "Lars",
         "Mila", "Noah", "Olga", "Pieter", "Quinn", "Rosa", "Sem", "Tess", "Umar", "Vera", "Wout", "Yara", "Zoe")
LAST = ("de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Boer", "Bos", "Peters",
        "Hendriks", "Dekker", "Brouwer", "Kowalski", "Schmidt", "Dubois", "Garcia", "Smith", "Tan", "Novak")
DEPARTMENTS = ("IT", "Finance", "Logistics", "Warehousing", "Customer Service", "Sales", "HR", "Legal",
               "Procurement", "Facilities", "Security", "Operations")
TEAMS = ("Platform", "Network", "Workplace", "Service Desk", "Security Operations", "Data", "ERP", "Integration",
         "Logistics IT", "Database", "Cloud", "Identity")
SUPPLIERS = ("Bechtle", "Computacenter", "CDW", "SHI International", "Insight", "KPN", "Vodafone Business",
             "BT Global", "Equinix", "Amazon Web Services", "Microsoft", "Google Cloud", "Atea", "Softcat",
             "Ingram Micro", "Interxion")
MANUFACTURERS = ("Dell Technologies", "HP Inc.", "Hewlett Packard Enterprise", "Lenovo", "Apple", "Cisco Systems",
                 "Juniper Networks", "NetApp", "Samsung", "Brother", "Zebra Technologies", "Ubiquiti", "Fujitsu",
                 "Pure Storage", "Fortinet", "Axis Communications")
# (product, versions, purl type or "", lifecycle feed product, feed cycle = leading parts of the version)
SOFTWARE: tuple[tuple[str, tuple[str, ...], str, str, int], ...] = (
    ("PostgreSQL", ("13.14", "14.11", "15.6", "16.2"), "generic/postgresql", "postgresql", 1),
    ("Ubuntu Server", ("20.04", "22.04", "24.04"), "", "ubuntu", 2),
    ("Windows Server", ("2016", "2019", "2022"), "", "windows-server", 1),
    ("nginx", ("1.24.0", "1.25.4", "1.26.1"), "generic/nginx", "nginx", 2),
    ("Red Hat Enterprise Linux", ("8.9", "9.3", "9.4"), "", "rhel", 1),
    ("Python", ("3.10.13", "3.11.7", "3.12.2"), "generic/python", "python", 2),
    ("Node.js", ("18.19.1", "20.11.1", "22.2.0"), "npm/node", "nodejs", 1),
    ("MySQL", ("8.0.36", "8.4.0"), "generic/mysql", "mysql", 2),
    ("Redis", ("7.0.15", "7.2.4"), "generic/redis", "redis", 2),
    ("Kubernetes", ("1.28.7", "1.29.2", "1.30.1"), "golang/k8s.io/kubernetes", "kubernetes", 2),
    ("Eclipse Temurin", ("11.0.22", "17.0.10", "21.0.2"), "generic/temurin", "eclipse-temurin", 1),
    ("macOS", ("13.6", "14.4", "15.0"), "", "macos", 1),
    ("Microsoft Office", ("2019", "2021", "LTSC 2024"), "", "", 0),
    ("SAP S/4HANA", ("2021", "2022", "2023"), "", "", 0),
    ("Adobe Acrobat", ("2020", "2024"), "", "", 0),
    ("Veeam Backup & Replication", ("11", "12.1"), "", "", 0),
)
SERVICE_NAMES = ("Customer portal", "Route planning", "Warehouse scanning", "E-mail", "ERP", "Payroll",
                 "Fleet tracking", "Identity and access", "File sharing", "Backup", "Telephony", "Data warehouse",
                 "Order intake", "Invoicing", "Service desk", "Intranet")
INFO_NAMES = ("Customer master data", "Shipment tracking events", "Payroll records", "Supplier contracts",
              "Employee files", "Invoices", "Access logs", "Route history", "Warehouse stock levels", "CCTV footage")
CLOUD_NAMES = (("AWS account", "iaas", "eu-central-1"), ("Azure subscription", "iaas", "westeurope"),
               ("Microsoft 365 tenant", "saas", "EU"), ("Salesforce org", "saas", "EU"),
               ("Google BigQuery project", "paas", "europe-west4"), ("S3 archive bucket", "storage", "eu-west-1"),
               ("Cloudflare zone", "network", "global"), ("AWS Lambda functions", "faas", "eu-central-1"),
               ("Atlassian Cloud site", "saas", "EU"), ("Okta tenant", "saas", "EU"))
RULES = ("hardware.end_of_support", "record.verification_overdue", "contract.notice_missed", "licence.over_deployed",
         "service.single_point_of_failure", "hardware.end_of_life", "software.end_of_life")
# Hardware classes with recurring maintenance: (type, interval in months).
MAINTAINED: dict[str, tuple[str, int]] = {"printer": ("inspection", 6), "other": ("pat_test", 12), "server": ("firmware", 6),
                                          "storage": ("firmware", 6), "network_device": ("firmware", 12), "iot_device": ("battery", 24)}
RETIRE_REASONS = ("End of the replacement cycle; replaced by a newer model.", "Service decommissioned.",
                  "Consolidated onto shared infrastructure.", "Beyond economical repair.", "Vendor end of support.")


@dataclass(slots=True)
class Plan:
    """What is decided before any record is written: ids, subtypes, states, and who may be referenced."""

    ids: dict[str, list[str]] = field(default_factory=dict)
    sub: dict[str, list[str]] = field(default_factory=dict)
    state: dict[str, list[str]] = field(default_factory=dict)
    pools: dict[str, list[str]] = field(default_factory=dict)


def allocate(records: int) -> dict[str, int]:
    """Records per kind, exactly `records` in total."""
    if records < MIN_RECORDS:
        raise ValueError(f"--records must be at least {MIN_RECORDS} (one of every kind, class and state)")
    counts = {k: max(MINIMUM[k], int(records * SHARE[k])) for k in KINDS if k != "hardware"}
    counts["hardware"] = records - sum(counts.values())
    if counts["hardware"] < MINIMUM["hardware"]:
        raise ValueError(f"--records {records} is too small")
    return {k: counts[k] for k in KINDS}


def split(total: int, shares: Sequence[tuple[str, float]]) -> list[str]:
    """`total` subtype labels in blocks, each share at least one (the last takes the remainder)."""
    out: list[str] = []
    for name, share in shares[:-1]:
        out.extend([name] * max(1, int(total * share)))
    out.extend([shares[-1][0]] * (total - len(out)))
    return out[:total]


def plan(counts: dict[str, int], rng: random.Random) -> Plan:
    p = Plan()
    for kind in KINDS:
        n = counts[kind]
        p.ids[kind] = [f"{PREFIX[kind]}-{i + 1:06d}" for i in range(n)]
        if kind == "hardware":
            sub = list(HW_CLASSES) + rng.choices(HW_CLASSES, HW_CLASS_WEIGHTS, k=n - len(HW_CLASSES))
        elif kind == "party":
            sub = split(n, (("department", 0.03), ("team", 0.10), ("cost_centre", 0.04), ("supplier", 0.08),
                            ("manufacturer", 0.04), ("person", 1.0)))
        elif kind == "facility":
            sub = split(n, (("site", 0.03), ("building", 0.07), ("floor", 0.05), ("data_centre", 0.05),
                            ("room", 0.10), ("rack", 1.0)))
            if n == 2:
                sub = ["site", "rack"]
        elif kind == "network":
            sub = [NETWORK_TYPES[i % len(NETWORK_TYPES)] for i in range(n)]
        elif kind == "cloud_service":
            sub = [CLOUD_NAMES[i % len(CLOUD_NAMES)][1] for i in range(n)]
        else:
            sub = [kind] * n
        p.sub[kind] = sub
    # States: random by weight, the first record of each subtype in service (so every pool has members),
    # and every other state of each lifecycle model forced onto the last unprotected records.
    rotation = {m: 0 for m in STATE_WEIGHTS}
    for kind in KINDS:
        model = MODEL[kind]
        states, weights = STATE_WEIGHTS[model]
        live = IN_SERVICE[model]
        sub = p.sub[kind]
        if kind == "party":
            st = [live if s != "person" or rng.random() < 0.95 else "retired" for s in sub]
        elif kind == "waiver":
            st = rng.choices(("planned", "active", "expired", "terminated"), (10, 60, 25, 5), k=len(sub))
        else:
            st = rng.choices(states, weights, k=len(sub))
        seen: set[str] = set()
        unprotected: list[int] = []
        for i, s in enumerate(sub):
            if kind != "waiver" and s not in seen:
                seen.add(s)
                st[i] = live
            elif kind != "party" or s == "person":
                unprotected.append(i)
        others = [x for x in states if x != live]
        for j, i in enumerate(reversed(unprotected[-len(others):])):
            st[i] = others[(rotation[model] + j) % len(others)]
        rotation[model] += min(len(others), len(unprotected))
        p.state[kind] = st
    pools = p.pools
    for kind in KINDS:
        for rid, sub_label, state in zip(p.ids[kind], p.sub[kind], p.state[kind], strict=True):
            if state in LIVE_STATES:
                pools.setdefault(kind, []).append(rid)
                # Subtypes of network and cloud_service are named after their kind: "network:wan".
                if sub_label != kind:
                    key = f"{kind}:{sub_label}" if kind in ("network", "cloud_service") else sub_label
                    pools.setdefault(key, []).append(rid)
    pools["owner"] = pools.get("team", []) + pools.get("person", [])[: max(1, len(pools.get("person", [])) // 4)]
    pools["vendor"] = pools.get("supplier", []) + pools.get("manufacturer", [])
    pools["location"] = pools.get("room", []) + pools.get("data_centre", []) + pools.get("floor", [])
    pools["rack_space"] = pools.get("rack", []) or pools.get("data_centre", []) or pools.get("room", [])
    pools["install"] = (pools.get("server", []) + pools.get("laptop", []) + pools.get("desktop", [])
                        + pools.get("cloud_service", []))
    pools["approver"] = pools.get("department", []) + pools.get("team", [])
    return p


@dataclass(slots=True)
class Writer:
    """Renders one record at a time into lines; holds the shared state of one generation run."""

    rng: random.Random
    plan: Plan
    pair_counter: dict[str, int] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def pick(self, *pools: str) -> str:
        for name in pools:
            pool = self.plan.pools.get(name)
            if pool:
                return pool[int(self.rng.random() * len(pool))]
        raise KeyError(f"no in-service record in pools {pools}")

    def picks(self, pool: str, k: int) -> list[str]:
        members = self.plan.pools.get(pool, [])
        return self.rng.sample(members, min(k, len(members)))

    def earlier(self, pool: str, rid: str) -> str | None:
        """An in-service member of `pool` with a smaller id than `rid`: links that only point backwards
        in id order can never form a cycle."""
        members = self.plan.pools.get(pool, [])
        n = bisect.bisect_left(members, rid)
        return members[int(self.rng.random() * n)] if n else None

    def chain(self, model: str, state: str) -> list[tuple[str, int]]:
        """The states passed to reach `state`, each with the day it was entered, all before today."""
        rng = self.rng
        options = PATHS[model][state]
        path = options[0] if len(options) == 1 or rng.random() < 0.7 else options[1]
        gaps = [rng.randint(*GAP[(a, b)]) for a, b in itertools.pairwise(path)]
        total = sum(gaps)
        latest = TODAY - 1 - total - (0 if state in LIVE_STATES else rng.randint(0, 200))
        earliest = max(EARLIEST, latest - 2400)
        d = rng.randint(min(earliest, latest), latest)
        out = [(path[0], d)]
        for s, g in zip(path[1:], gaps, strict=True):
            d += g
            out.append((s, d))
        return out

    def envelope(self, kind: str, rid: str, name: str, description: str, owner: str, state: str,
                 dates: list[tuple[str, int]]) -> None:
        add = self.lines.append
        add(f"# yaml-language-server: $schema=../../schemas/{kind}.schema.json")
        add(f"id: {rid}")
        add(f"kind: {kind}")
        add(f"name: {q(name)}")
        add(f"description: {q(description)}")
        add(f"owner: {owner}")
        add(f"status: {state}")
        add("status_dates:")
        for s, d in dates:
            add(f"  {s}: {day(d)}")

    def financial(self, *, order: int | None = None, purchase: int | None = None, supplier: str | None = None,
                  cost: int | None = None, depreciation: str | None = None,
                  recurring: Sequence[tuple[str, int, str, int, int | None]] = (), number: bool = True) -> None:
        rng = self.rng
        add = self.lines.append
        cur = CURRENCIES[int(rng.random() * len(CURRENCIES))]
        add("financial:")
        if order is not None:
            add(f"  order_date: {day(order)}")
            if number:
                add(f"  order_number: {q(f'PO-{_ISO[order - _DAY0][:4]}-{rng.randint(1, 99999):05d}')}")
        if purchase is not None:
            add(f"  purchase_date: {day(purchase)}")
        if supplier:
            add(f"  supplier: {supplier}")
        add(f"  cost_centre: {self.pick('cost_centre')}")
        if cost is not None:
            add(f"  purchase_cost: {money(cost)}")
        add(f"  currency: {cur}")
        if depreciation:
            add(f"  depreciation: {depreciation}")
        if recurring:
            add("  recurring_costs:")
            for desc, amount, period, start, end in recurring:
                add(f"    - description: {q(desc)}")
                add(f"      amount: {money(amount)}")
                add(f"      currency: {cur}")
                add(f"      period: {period}")
                add(f"      start: {day(start)}")
                if end is not None:
                    add(f"      end: {day(end)}")

    def relations(self, rels: Sequence[tuple[str, str]]) -> None:
        if rels:
            add = self.lines.append
            add("relations:")
            for rtype, target in rels:
                add(f"  - {{type: {rtype}, target: {target}}}")

    def tail(self, state: str, dates: list[tuple[str, int]], *, tag_rate: float = 0.6,
             group: str | None = None, custom: str | None = None) -> None:
        """Redundancy group, tags, verification, custom properties and the retirement block."""
        rng = self.rng
        add = self.lines.append
        if group:
            add(f"redundancy_group: {group}")
        if rng.random() < tag_rate:
            add(f"tags: [{', '.join(rng.sample(TAGS, rng.randint(1, 3)))}]")
        last = dates[-1][1] if dates else TODAY - 400
        if rng.random() < 0.75 and last < TODAY - 1:
            add(f"last_verified: {day(rng.randint(max(last, TODAY - 500), TODAY - 1))}")
            add(f"verified_by: {self.pick('person')}")
        if custom:
            add(custom)
        if any(s == "retired" for s, _ in dates):
            add("retirement:")
            add(f"  reason: {q(RETIRE_REASONS[int(rng.random() * len(RETIRE_REASONS))])}")
            add(f"  decided_by: {self.pick('team')}")

    def pair_group(self, key: str, live_total: int) -> str | None:
        """Pairs of in-service peers share a redundancy group (two of every three pairs)."""
        n = self.pair_counter.get(key, 0)
        self.pair_counter[key] = n + 1
        pair = n // 2
        if pair % 3 == 2 or (n % 2 == 0 and n + 1 >= live_total):
            return None
        return f"{key}-pair-{pair:05d}"

    # ---- kinds -------------------------------------------------------------------------------------------

    def hardware(self, i: int, rid: str, cls: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        label, host_prefix, cost_range, cores, models = HW_INFO[cls]
        model = models[int(rng.random() * len(models))]
        site = SITES[i % len(SITES)]
        host = f"{host_prefix}-{site}-{i + 1:06d}"
        dates = self.chain("physical", state)
        when = dict(dates)
        owner = self.pick("team") if cls in RACKED or rng.random() < 0.5 else self.pick("owner")
        self.envelope("hardware", rid, f"{label} {host} ({model})",
                      f"{label} {model} at the {CITIES[i % len(CITIES)]} site.", owner, state, dates)
        add(f"class: {cls}")
        add(f"manufacturer: {self.pick('manufacturer')}")
        add(f"model: {q(model)}")
        if state != "planned":
            add(f"serial_number: {q(f'{rng.getrandbits(40):010X}')}")
            add(f"asset_tag: {q(f'NW-{i + 1:06d}')}")
        if cls in RACKED or cls in ("laptop", "desktop", "printer"):
            add(f"hostname: {host}.{site}.northwind.example" if cls in RACKED else f"hostname: {host}")
            if state != "planned":
                macs = [rng.getrandbits(48) for _ in range(2 if cls in RACKED else 1)]
                add("mac_addresses: [" + ", ".join('"' + ":".join(f"{m:012x}"[k:k + 2] for k in range(0, 12, 2)) + '"'
                                                   for m in macs) + "]")
        if cores[1]:
            add(f"cpu_cores: {rng.randrange(cores[0], cores[1] + 1, 2)}")
        data_bearing = cls in DATA_BEARING
        if data_bearing or rng.random() < 0.3:
            add(f"data_bearing: {'true' if data_bearing else 'false'}")
        first = dates[0][1]
        order = when.get("ordered", first - rng.randint(5, 40))
        purchase = when.get("in_stock", order + rng.randint(3, 20)) - rng.randint(0, 3)
        purchase = max(purchase, order)
        if state != "planned":
            add(f"warranty_end: {day(purchase + 365 * (3 if cls not in RACKED else 5))}")
            if cls in RACKED or cls in ("laptop", "desktop", "phone"):
                eos = purchase + rng.randint(1500, 2900)
                add(f"end_of_support: {day(eos)}")
                add(f"end_of_life: {day(eos + rng.randint(180, 720))}")
        if cls in PORTABLE and state in ("in_use", "in_maintenance", "lost", "stolen"):
            add(f"assigned_to: {self.pick('person')}")
            handed = when.get("in_use", first)
            add(f"assignment: {{date: {day(handed)}, accepted_on: {day(handed)}, acceptance: {q(f'HO-{i + 1:06d}')}}}")
        if cls in MAINTAINED and state != "planned" and rng.random() < 0.5:
            mtype, months = MAINTAINED[cls]
            add(f"maintenance_plans: [{{type: {mtype}, interval_months: {months}}}]")
            if state in LIVE_STATES and rng.random() < 0.8:
                done = TODAY - rng.randint(10, 30 * months + 60)
                add("maintenance_log:")
                add(f"  - {{date: {day(max(done, first))}, type: {mtype}, result: {('pass', 'done', 'fail')[rng.randint(0, 2)]}, "
                    f"cost: {money(rng.randint(2000, 40000))}, by: {self.pick('supplier')}}}")
        if cls in HW_FEED and rng.random() < 0.7:
            product, cycles = HW_FEED[cls]
            add(f"lifecycle_feed: {{product: {product}, cycle: {q(cycles[int(rng.random() * len(cycles))])}}}")
        if state in ("lost", "stolen"):
            add("loss:")
            add(f"  date: {day(when[state])}")
            if state == "stolen" or rng.random() < 0.5:
                add(f"  report: {q(f'POL-{_ISO[when[state] - _DAY0][:4]}-{rng.randint(1, 99999):05d}')}")
        if state == "disposed":
            disposed = when["disposed"]
            if data_bearing:
                add("sanitisation:")
                add(f"  method: {('clear', 'purge', 'destroy', 'crypto_erase')[rng.randint(0, 3)]}")
                add(f"  date: {day(rng.randint(when['retired'], disposed))}")
                add(f"  certificate: {q(f'WIPE-{_ISO[disposed - _DAY0][:4]}-{rng.randint(1, 9999):04d}')}")
            add("disposal:")
            methods = ("recycled", "sold", "donated", "destroyed", "returned", "lease_return")
            add(f"  method: {methods[int(rng.random() * len(methods))]}")
            add(f"  date: {day(disposed)}")
            add(f"  reference: {q(f'RCY-{rng.randint(10000, 99999)}')}")
        cost = rng.randint(*cost_range)
        recurring: list[tuple[str, int, str, int, int | None]] = []
        if cls in RACKED and rng.random() < 0.4 and state != "planned":
            start = purchase + 365 * 3
            recurring.append(("Extended support", cost // 20, "yearly", start, start + 365 * 2 - 1))
        dep = DEPRECIATION.get(cls, DEFAULT_DEPRECIATION) if rng.random() < 0.4 else None
        self.financial(order=None if state == "planned" else order,
                       purchase=None if state in ("planned", "ordered") else purchase,
                       supplier=self.pick("supplier"), cost=cost, depreciation=dep, recurring=recurring)
        rels: list[tuple[str, str]] = []
        live = state in LIVE_STATES or state == "in_stock"
        group = None
        if live:
            if cls in RACKED:
                rels.append(("located_in", self.pick("rack_space", "location", "facility")))
            elif cls not in PORTABLE or rng.random() < 0.3:
                rels.append(("located_in", self.pick("location", "building", "facility")))
            if state in LIVE_STATES:
                if cls in RACKED:
                    for svc in self.picks("service", rng.randint(1, 2)):
                        rels.append(("supports", svc))
                    group = self.pair_group(host_prefix, len(self.plan.pools.get(cls, ())))
                    if cls == "storage" and rng.random() < 0.5:
                        rels.append(("stores", self.pick("information")))
                    if rng.random() < 0.03:
                        rels.append(("depends_on", self.pick("network")))
                elif rng.random() < 0.1:
                    rels.append(("supports", self.pick("service")))
                if cls in ("server", "storage", "network_device", "printer") and rng.random() < 0.6:
                    rels.append(("covered_by", self.pick("contract")))
                elif rng.random() < 0.15:
                    rels.append(("covered_by", self.pick("contract")))
                if cls in ("server", "laptop", "desktop") and rng.random() < 0.1:
                    rels.append(("licensed_by", self.pick("licence")))
                # Parts (blades, shelves) point at an in-service server listed earlier: never a cycle.
                if cls in ("storage", "other") and rng.random() < 0.2:
                    parent = self.earlier("server", rid)
                    if parent:
                        rels.append(("part_of", parent))
        self.relations(rels)
        custom = (f"custom:\n  northwind:\n    rack_unit: {rng.randint(1, 42)}"
                  if cls in RACKED and live and rng.random() < 0.5 else None)
        self.tail(state, dates, group=group, custom=custom)

    def software(self, i: int, rid: str, _sub: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        product, versions, purl, feed, cycle_parts = SOFTWARE[i % len(SOFTWARE)]
        version = versions[int(rng.random() * len(versions))]
        dates = self.chain("general", state)
        self.envelope("software", rid, f"{product} {version}", f"{product} {version} as deployed at Northwind.",
                      self.pick("team"), state, dates)
        add(f"product: {q(product)}")
        add(f"version: {q(version)}")
        add(f"vendor: {self.pick('vendor')}")
        if purl:
            add(f"purl: {q(f'pkg:{purl}@{version}')}")
        if cycle_parts:
            cycle = ".".join(version.split(".")[:cycle_parts])
            add(f"lifecycle_feed: {{product: {feed}, cycle: {q(cycle)}}}")
        add(f"edition: {q(('Community', 'Enterprise', 'Standard', 'Professional')[i % 4])}")
        start = dates[0][1]
        if rng.random() < 0.5:
            eos = start + rng.randint(400, 2500)
            add(f"end_of_support: {day(eos)}")
            add(f"end_of_life: {day(eos + rng.randint(0, 730))}")
        rels: list[tuple[str, str]] = []
        if state == "active":
            if rng.random() < 0.85:
                add("installations:")
                for target in self.picks("install", rng.randint(1, 6)):
                    add(f"  - \"on\": {target}")  # quoted: YAML 1.1 reads a plain on as true
                    add(f"    date: {day(rng.randint(start, TODAY - 1))}")
                    if rng.random() < 0.1:
                        add(f"    version: {q(versions[0])}")
            else:
                rels.append(("installed_on", self.pick("cloud_service", "server")))
            if rng.random() < 0.4:
                rels.append(("licensed_by", self.pick("licence")))
            if rng.random() < 0.5:
                rels.append(("supports", self.pick("service")))
            if rng.random() < 0.1:
                rels.append(("runs_on", self.pick("cloud_service", "server")))
            if rng.random() < 0.1:
                rels.append(("stores", self.pick("information")))
            if rng.random() < 0.15:
                other = self.earlier("software", rid)
                if other:
                    rels.append(("depends_on", other))
            if rng.random() < 0.05:
                rels.append(("covered_by", self.pick("contract")))
        if rng.random() < 0.2:
            self.financial(depreciation="{method: none}")
        self.relations(rels)
        self.tail(state, dates)

    def term(self, dates: list[tuple[str, int]], state: str) -> tuple[int, int | None]:
        when = dict(dates)
        rng = self.rng
        if state == "planned":
            start = TODAY + rng.randint(10, 120)
            return start, start + 365 * rng.randint(1, 3) - 1
        start = when.get("active", dates[0][1])
        if state == "expired":
            return start, when["expired"] - 1
        if state == "terminated":
            return start, when["terminated"] + rng.randint(0, 365)
        if rng.random() < 0.15:
            return start, None
        end = start + 365 * rng.randint(1, 5) - 1
        while end <= TODAY:
            end += 365
        return start, end

    def licence(self, i: int, rid: str, _sub: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        software = self.pick("software")
        product = SOFTWARE[(int(software[3:]) - 1) % len(SOFTWARE)][0]
        metric = ("per_user", "per_device", "per_core", "subscription", "site")[rng.randint(0, 4)]
        qty = 1 if metric == "site" else rng.choice((5, 10, 25, 50, 100, 250, 500, 1000))
        dates = self.chain("intangible", state)
        start, end = self.term(dates, state)
        self.envelope("licence", rid, f"{product} ({qty} {metric.replace('_', ' ')})",
                      f"Entitlement to use {product}.", self.pick("team"), state, dates)
        add(f"product: {q(product)}")
        add(f"software: {software}")
        add(f"metric: {metric}")
        add(f"quantity: {qty}")
        add("term:")
        add(f"  start: {day(start)}")
        if end is not None:
            add(f"  end: {day(end)}")
        unit = rng.randint(500, 40000)
        add(f"true_up_unit_cost: {money(unit)}")
        if end is not None:
            self.financial(supplier=self.pick("supplier"),
                           recurring=[(f"{product} subscription", unit * qty // 12, "monthly", start, end)])
        else:
            self.financial(order=start - rng.randint(5, 30), purchase=start, supplier=self.pick("supplier"),
                           cost=unit * qty, depreciation="{method: none}")
        rels = [("depends_on", self.pick("software"))] if rng.random() < 0.02 else []
        self.relations(rels)
        self.tail(state, dates)

    def cloud_service(self, i: int, rid: str, _sub: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        name, stype, region = CLOUD_NAMES[i % len(CLOUD_NAMES)]
        dates = self.chain("intangible", state)
        start, end = self.term(dates, state)
        self.envelope("cloud_service", rid, f"{name} {i + 1:05d}", f"{name} used by Northwind ({stype}).",
                      self.pick("team"), state, dates)
        add(f"provider: {self.pick('supplier')}")
        add(f"account: {q(str(rng.randint(10**11, 10**12 - 1)))}")
        add(f"service_type: {stype}")
        add(f"region: {q(region)}")
        add("term:")
        add(f"  start: {day(start)}")
        if end is not None:
            add(f"  end: {day(end)}")
        self.financial(recurring=[(f"{name} usage", rng.randint(5000, 2000000), "monthly", start, end)])
        rels: list[tuple[str, str]] = []
        if state == "active":
            for svc in self.picks("service", rng.randint(1, 2)):
                rels.append(("supports", svc))
            if rng.random() < 0.3:
                rels.append(("stores", self.pick("information")))
            if stype == "saas" and rng.random() < 0.5:
                rels.append(("licensed_by", self.pick("licence")))
            if rng.random() < 0.2:
                rels.append(("covered_by", self.pick("contract")))
        self.relations(rels)
        group = self.pair_group("cs-iaas", len(self.plan.pools.get("cloud_service:iaas", ()))) \
            if state == "active" and stype == "iaas" else None
        self.tail(state, dates, group=group)

    def network(self, i: int, rid: str, _sub: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        ntype = NETWORK_TYPES[i % len(NETWORK_TYPES)]
        site = SITES[i % len(SITES)]
        dates = self.chain("general", state)
        self.envelope("network", rid, f"{ntype.upper()} {site}-{i + 1:05d}", f"{ntype} at {CITIES[i % len(CITIES)]}.",
                      self.pick("team"), state, dates)
        add(f"network_type: {ntype}")
        if ntype in ("segment", "vlan", "lan", "wifi", "vpn"):
            add(f"cidr: {q(f'10.{i // 256 % 256}.{i % 256}.0/24')}")
        if ntype == "vlan":
            add(f"vlan_id: {i % 4094 + 1}")
        if ntype in ("link", "circuit", "wan"):
            add(f"bandwidth_mbps: {rng.choice((100, 500, 1000, 10000))}")
            add(f"provider: {self.pick('supplier')}")
            add(f"circuit_id: {q(f'ETH-{rng.randint(1000000, 9999999)}')}")
            start = dates[0][1]
            self.financial(supplier=self.pick("supplier"),
                           recurring=[("Connectivity", rng.randint(20000, 300000), "monthly", start, None)])
        rels: list[tuple[str, str]] = []
        group = None
        if state == "active":
            if rng.random() < 0.7:
                rels.append(("located_in", self.pick("building", "site", "facility")))
            if ntype in ("link", "circuit", "wan"):
                rels.append(("connects", self.pick("data_centre", "site", "facility")))
                rels.append(("covered_by", self.pick("contract")))
                group = self.pair_group(f"net-{ntype}", len(self.plan.pools.get(f"network:{ntype}", ())))
            else:
                rels.append(("connects", self.pick("network_device", "server")))
            if rng.random() < 0.5:
                rels.append(("supports", self.pick("service")))
            if ntype == "vlan" and rng.random() < 0.8:
                parent = self.earlier("network:lan", rid)
                if parent:
                    rels.append(("part_of", parent))
        self.relations(rels)
        self.tail(state, dates, group=group)

    def facility(self, i: int, rid: str, ftype: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        city = CITIES[i % len(CITIES)]
        names = {"site": f"{city} site", "building": f"{city} building {i + 1}", "floor": f"Floor {i % 9}",
                 "data_centre": f"{city} data centre {i + 1}", "room": f"Room {i + 1:05d}",
                 "rack": f"Rack {i + 1:05d}"}
        dates = self.chain("general", state)
        self.envelope("facility", rid, names[ftype], f"{ftype.replace('_', ' ')} in {city}.", self.pick("team"),
                      state, dates)
        add(f"facility_type: {ftype}")
        if ftype in ("site", "building", "data_centre"):
            add(f"address: {q(f'{STREETS[i % len(STREETS)]} {rng.randint(1, 400)}, {city}')}")
        elif ftype == "rack":
            add(f"address: {q(f'Hall {rng.randint(1, 4)}, row {chr(65 + i % 12)}, position {i % 40 + 1}')}")
        if ftype == "data_centre" and rng.random() < 0.6:
            self.financial(supplier=self.pick("supplier"),
                           recurring=[("Colocation", rng.randint(100000, 900000), "quarterly", dates[0][1], None)])
        # The parent is an in-service facility of a higher level, which comes earlier in id order.
        parents = {"building": ("site",), "floor": ("building", "site"), "data_centre": ("building", "site"),
                   "room": ("floor", "building", "site"), "rack": ("data_centre", "room", "site")}
        rels: list[tuple[str, str]] = []
        if ftype in parents:
            rels.append(("part_of", self.pick(*parents[ftype])))
        if state == "active" and ftype in ("site", "data_centre") and rng.random() < 0.4:
            rels.append(("covered_by", self.pick("contract")))
        self.relations(rels)
        custom = (f"custom:\n  northwind:\n    power_kw: {rng.randint(30, 120) / 10}\n    units: 42"
                  if ftype == "rack" else None)
        self.tail(state, dates, tag_rate=0.2, custom=custom)

    def information(self, i: int, rid: str, _sub: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        base = INFO_NAMES[i % len(INFO_NAMES)]
        personal = base in ("Customer master data", "Payroll records", "Employee files", "CCTV footage")
        dates = self.chain("general", state)
        self.envelope("information", rid, f"{base} {i + 1:05d}", f"{base} of Northwind.", self.pick("owner"),
                      state, dates)
        add(f"classification: {('public', 'internal', 'confidential', 'secret')[rng.randint(1, 3)]}")
        add(f"retention_months: {rng.choice((12, 24, 60, 84, 120))}")
        add(f"personal_data: {'true' if personal else 'false'}")
        if personal:
            add(f"legal_basis: {q('GDPR Art. 6(1)(b): performance of a contract')}")
        rels: list[tuple[str, str]] = []
        if state == "active":
            rels.append(("supports", self.pick("service")))
            if rng.random() < 0.05:
                rels.append(("located_in", self.pick("room", "building", "facility")))
        self.relations(rels)
        self.tail(state, dates)

    def service(self, i: int, rid: str, _sub: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        base = SERVICE_NAMES[i % len(SERVICE_NAMES)]
        dates = self.chain("general", state)
        self.envelope("service", rid, f"{base} {i + 1:04d}", f"The {base.lower()} service.", self.pick("team"),
                      state, dates)
        add(f"criticality: {('low', 'medium', 'high', 'critical')[rng.randint(0, 3)]}")
        add(f"service_owner: {self.pick('department', 'team')}")
        add(f"sla: {q(rng.choice(('99.9 % monthly availability', '99.5 % during business hours', 'best effort')))}")
        rels: list[tuple[str, str]] = []
        if state == "active":
            if rng.random() < 0.4:
                other = self.earlier("service", rid)
                if other:
                    rels.append(("depends_on", other))
            if rng.random() < 0.1:
                parent = self.earlier("service", rid)
                if parent:
                    rels.append(("part_of", parent))
            if rng.random() < 0.1:
                rels.append(("covered_by", self.pick("contract")))
            if rng.random() < 0.2:
                rels.append(("runs_on", self.pick("cloud_service", "server")))
        self.relations(rels)
        self.tail(state, dates)

    def contract(self, i: int, rid: str, _sub: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        ctype = ("support", "maintenance", "lease", "subscription", "licence", "service", "warranty")[i % 7]
        dates = self.chain("intangible", state)
        start, end = self.term(dates, state)
        supplier = self.pick("supplier")
        self.envelope("contract", rid, f"{ctype.capitalize()} contract {i + 1:05d}", f"A {ctype} contract.",
                      self.pick("team"), state, dates)
        add(f"contract_type: {ctype}")
        add(f"supplier: {supplier}")
        add(f"start: {day(start)}")
        if end is not None:
            add(f"end: {day(end)}")
        add(f"notice_period_days: {rng.choice((30, 60, 90, 180))}")
        rtype = ("auto", "manual", "none")[rng.randint(0, 2)]
        decision = ("renew", "terminate", "renegotiate", "pending")[rng.randint(0, 3)]
        add("renewal:")
        add(f"  type: {rtype}")
        if rtype != "none":
            add(f"  term_months: {rng.choice((12, 24, 36))}")
        add(f"  decision: {decision}")
        if decision != "pending":
            add(f"  decided_on: {day(rng.randint(start, TODAY - 1) if start < TODAY - 1 else TODAY - 1)}")
        period = ("monthly", "quarterly", "yearly")[rng.randint(0, 2)]
        self.financial(supplier=supplier, recurring=[(f"{ctype} fee", rng.randint(10000, 500000), period, start, end)])
        self.relations([])
        self.tail(state, dates)

    def party(self, i: int, rid: str, ptype: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        dates = self.chain("general", state)
        if ptype == "person":
            first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
            name = f"{first} {last}"
            email = f"{first.lower()}.{last.lower().replace(' ', '')}{i}@northwind.example"
        else:
            base = {"department": DEPARTMENTS, "team": TEAMS, "supplier": SUPPLIERS, "manufacturer": MANUFACTURERS,
                    "cost_centre": DEPARTMENTS}[ptype]
            label = base[i % len(base)]
            name = {"department": f"{label} department", "team": f"{label} team", "cost_centre": f"Cost centre {label}",
                    "supplier": label, "manufacturer": label}[ptype] + f" {i + 1}"
            email = f"{ptype.replace('_', '-')}{i + 1}@{'northwind' if ptype in ('team', 'department') else 'vendor'}.example"
        owner = rid if ptype == "team" else self.pick("team")
        self.envelope("party", rid, name, f"A {ptype.replace('_', ' ')}.", owner, state, dates)
        add(f"party_type: {ptype}")
        if ptype != "cost_centre":
            add(f"email: {email}")
        if ptype in ("supplier", "manufacturer"):
            add(f"url: https://www.vendor{i + 1}.example/")
            add(f"code: {q(f'SUP-{i + 10000}')}")
        elif ptype == "cost_centre":
            add(f"code: {q(f'CC-{i + 1000}')}")
        rels: list[tuple[str, str]] = []
        # Persons join teams, teams join departments: targets are of another type, so never a cycle.
        if ptype == "person" and state == "active":
            rels.append(("member_of", self.pick("team")))
            if rng.random() < 0.05:
                rels.append(("licensed_by", self.pick("licence")))
        elif ptype == "team":
            rels.append(("member_of", self.pick("department")))
        self.relations(rels)
        self.tail(state, dates, tag_rate=0.1)

    def waiver(self, i: int, rid: str, _sub: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        rule = RULES[i % len(RULES)]
        dates = self.chain("intangible", state)
        last = dates[-1][1]
        record = self.pick("hardware")
        self.envelope("waiver", rid, f"Waiver {i + 1:05d} for {record}", f"Accepted exception to {rule}.",
                      self.pick("team"), state, dates)
        add(f"rule: {rule}")
        add(f"record: {record}")
        add(f"reason: {q('Replacement is planned; the risk is accepted until then.')}")
        add(f"approver: {self.pick('approver')}")
        expires = last + rng.randint(30, 400) if state in ("active", "planned") else last - 1
        add(f"expires: {day(max(expires, TODAY + 30) if state in ('active', 'planned') else expires)}")
        self.relations([])
        self.tail(state, dates, tag_rate=0.1)


    def audit(self, i: int, rid: str, _sub: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        dates = self.chain("audit", state)
        location = self.pick("location", "building", "facility")
        held = dates[-1][1] if state != "planned" else TODAY + rng.randint(10, 200)
        self.envelope("audit", rid, f"Stock-take {i + 1:05d} of {location}", "A count of the devices at the location.",
                      self.pick("team"), state, dates)
        add(f"location: {location}")
        add(f"date: {day(held)}")
        add(f"auditor: {self.pick('person')}")
        if state == "completed":
            add(f"scan: {q(f'scan-{i + 1:05d}.csv')}")
            present = self.picks("hardware", rng.randint(0, 3))
            add(f"results: {{seen: {len(present) + 1}, present: [{', '.join(present)}], missing: [], wrong_place: [], "
                f"unexpected: [{q(f'NW-X{i:05d}')}]}}")
        self.relations([])
        self.tail(state, dates, tag_rate=0.0)

    def budget(self, i: int, rid: str, _sub: str, state: str) -> None:
        rng = self.rng
        add = self.lines.append
        dates = self.chain("budget", state)
        centres = self.plan.pools.get("cost_centre") or self.plan.pools["team"]
        centre = centres[i % len(centres)]
        year = 2027 - (i // len(centres)) % 4
        self.envelope("budget", rid, f"Budget {year} of {centre}", "The cost centre's budget for the year.",
                      self.pick("team"), state, dates)
        add(f"cost_centre: {centre}")
        add(f"year: {year}")
        add(f"capital: {money(rng.randint(1000000, 50000000))}")
        add(f"operating: {money(rng.randint(1000000, 90000000))}")
        add("currency: EUR")
        if state in ("approved", "closed"):
            add(f"approved_by: {self.pick('approver')}")
        self.relations([])
        self.tail(state, dates, tag_rate=0.0)


def copy_project_files(out: Path) -> None:
    shutil.copyfile(ROOT / "bir.yaml", out / "bir.yaml")
    schemas = out / "schemas"
    schemas.mkdir(exist_ok=True)
    for src in sorted((ROOT / "schemas").glob("*.json")):
        shutil.copyfile(src, schemas / src.name)


def generate(out: Path, records: int, seed: int = 1) -> None:
    """Write a complete synthetic register of exactly `records` records to `out`.

    Refuses to write into a `registry/` folder that already holds files, so it never mixes registers.
    """
    out = Path(out)
    registry = out / "registry"
    if registry.exists() and any(registry.iterdir()):
        raise FileExistsError(f"{registry} is not empty; remove it or choose another --out")
    rng = random.Random(seed)
    counts = allocate(records)
    p = plan(counts, rng)
    out.mkdir(parents=True, exist_ok=True)
    copy_project_files(out)
    writer = Writer(rng, p)
    renderers: dict[str, Callable[[int, str, str, str], None]] = {
        "hardware": writer.hardware, "software": writer.software, "licence": writer.licence,
        "cloud_service": writer.cloud_service, "network": writer.network, "facility": writer.facility,
        "information": writer.information, "service": writer.service, "contract": writer.contract,
        "party": writer.party, "waiver": writer.waiver, "audit": writer.audit, "budget": writer.budget,
    }
    for kind in KINDS:
        folder = registry / kind
        folder.mkdir(parents=True, exist_ok=True)
        render = renderers[kind]
        base = os.fspath(folder) + os.sep
        for i, (rid, sub, state) in enumerate(zip(p.ids[kind], p.sub[kind], p.state[kind], strict=True)):
            writer.lines = []
            render(i, rid, sub, state)
            writer.lines.append("")
            with open(base + rid + ".yaml", "w", encoding="utf-8", newline="\n") as fh:
                fh.write("\n".join(writer.lines))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, required=True, help=f"number of records (at least {MIN_RECORDS})")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the register to")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        generate(args.out, args.records, args.seed)
    except (ValueError, FileExistsError) as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.records} records to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
