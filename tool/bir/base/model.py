"""The domain model: kinds, relation types, reference fields, and the `Record` / `Register` values.

Records keep the data exactly as validated (a dict), plus typed accessors for what every later stage
reads (status, owner, relations, money), so reports and the site never re-parse YAML.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from sys import intern
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bir.base.config import Config

KINDS: tuple[str, ...] = (
    "hardware", "software", "licence", "cloud_service", "network", "facility",
    "information", "service", "contract", "party", "waiver", "audit", "budget",
)
# Records about the register's management (parties, waivers, stock-takes, budgets): never components, never
# in service, with no physical existence to verify.
ADMINISTRATIVE_KINDS = frozenset({"party", "waiver", "audit", "budget"})

_ANY = frozenset(KINDS)
_COMPONENTS = frozenset(k for k in KINDS if k not in ADMINISTRATIVE_KINDS)


@dataclass(frozen=True, slots=True)
class RelationType:
    """A typed relation: which kinds may hold it, which kinds it may point at, and its inverse name."""

    name: str
    inverse: str
    sources: frozenset[str]
    targets: frozenset[str]
    same_kind: bool = False  # part_of: only between records of the same kind
    acyclic: bool = False
    description: str = ""


RELATION_TYPES: dict[str, RelationType] = {
    r.name: r
    for r in (
        RelationType("depends_on", "dependency_of", _COMPONENTS, _COMPONENTS, acyclic=False,
                     description="needs the target to work"),
        RelationType("runs_on", "runs", frozenset({"software", "service", "cloud_service", "information"}),
                     frozenset({"hardware", "cloud_service"}), description="executes on the target"),
        RelationType("installed_on", "has_installed", frozenset({"software"}), frozenset({"hardware", "cloud_service"}),
                     description="is installed on the target"),
        RelationType("part_of", "has_part", _ANY, _ANY, same_kind=True, acyclic=True,
                     description="is a part of the target (same kind, no cycles)"),
        RelationType("located_in", "location_of", frozenset({"hardware", "facility", "network", "information"}),
                     frozenset({"facility"}), description="is physically located in the target"),
        RelationType("supports", "supported_by", _COMPONENTS, frozenset({"service"}),
                     description="supports the target IT service"),
        RelationType("covered_by", "covers",
                     frozenset({"hardware", "software", "cloud_service", "network", "facility", "service"}),
                     frozenset({"contract"}), description="is covered by the target contract"),
        RelationType("licensed_by", "licenses", frozenset({"software", "hardware", "party", "cloud_service"}),
                     frozenset({"licence"}), description="consumes the target licence"),
        RelationType("connects", "connected_by", frozenset({"network"}), frozenset({"hardware", "facility", "network"}),
                     description="a link or circuit endpoint"),
        RelationType("member_of", "has_member", frozenset({"party"}), frozenset({"party"}), acyclic=True,
                     description="a person in a team, a team in a department"),
        RelationType("stores", "stored_on", frozenset({"hardware", "cloud_service", "software"}),
                     frozenset({"information"}), description="holds the target information asset"),
    )
}

# Fields other than `relations` that name another record: (kind or None for every kind, dotted path, target kinds).
REFERENCE_FIELDS: tuple[tuple[str | None, str, frozenset[str]], ...] = (
    (None, "owner", frozenset({"party"})),
    (None, "verified_by", frozenset({"party"})),
    (None, "financial.supplier", frozenset({"party"})),
    (None, "financial.cost_centre", frozenset({"party"})),
    (None, "retirement.decided_by", frozenset({"party"})),
    ("hardware", "manufacturer", frozenset({"party"})),
    ("hardware", "assigned_to", frozenset({"party", "facility"})),
    ("software", "vendor", frozenset({"party"})),
    ("software", "installations[].on", frozenset({"hardware", "cloud_service"})),
    ("licence", "software", frozenset({"software"})),
    ("cloud_service", "provider", frozenset({"party"})),
    ("network", "provider", frozenset({"party"})),
    ("service", "service_owner", frozenset({"party"})),
    ("contract", "supplier", frozenset({"party"})),
    ("waiver", "record", _ANY),
    ("waiver", "approver", frozenset({"party"})),
    (None, "maintenance_log[].by", frozenset({"party"})),
    ("audit", "location", frozenset({"facility"})),
    ("audit", "auditor", frozenset({"party"})),
    ("budget", "cost_centre", frozenset({"party"})),
    ("budget", "approved_by", frozenset({"party"})),
)


_SPLIT_CACHE: dict[str, tuple[str, ...]] = {}


def get_path(data: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path (`financial.supplier`), or None when any step is missing."""
    parts = _SPLIT_CACHE.get(dotted)
    if parts is None:
        parts = _SPLIT_CACHE[dotted] = tuple(dotted.split("."))
    cur: Any = data
    for part in parts:
        if cur.__class__ is not dict:
            if not isinstance(cur, Mapping):
                return None
        cur = cur.get(part)
        if cur is None:
            return None
    return cur


_JSON_PATHS = {dotted: "/" + dotted.replace(".", "/") for _k, dotted, _t in REFERENCE_FIELDS}
_RELATION_LABELS = {name: f"relation {name}" for name in RELATION_TYPES}
_SAME_KIND = {kind: frozenset({kind}) for kind in KINDS}


def iter_references(kind: str, data: Mapping[str, Any]) -> Iterator[tuple[str, str, frozenset[str], str]]:
    """Every reference a record makes: (json path, target id, allowed target kinds, label)."""
    for fkind, dotted, targets in REFERENCE_FIELDS:
        if fkind is not None and fkind != kind:
            continue
        if "[]." in dotted:
            list_field, sub = dotted.split("[].")
            items = data.get(list_field)
            if isinstance(items, list):
                for i, item in enumerate(items):
                    if isinstance(item, Mapping) and isinstance(item.get(sub), str):
                        yield intern(f"/{list_field}/{i}/{sub}"), item[sub], targets, intern(f"{list_field}[{i}].{sub}")
            continue
        value = get_path(data, dotted)
        if isinstance(value, str):
            yield _JSON_PATHS[dotted], value, targets, dotted
    rels = data.get("relations")
    if isinstance(rels, list):
        for i, rel in enumerate(rels):
            if isinstance(rel, Mapping) and isinstance(rel.get("target"), str) and rel.get("type") in RELATION_TYPES:
                rtype = RELATION_TYPES[rel["type"]]
                allowed = _SAME_KIND.get(kind, frozenset({kind})) if rtype.same_kind else rtype.targets
                # Interned: the same few paths and labels recur in every record, and a batch of results
                # pickles each distinct object once.
                yield intern(f"/relations/{i}/target"), rel["target"], allowed, _RELATION_LABELS[rel["type"]]


def parse_date(value: object) -> dt.date | None:
    """An ISO date string as a date, or None when absent or not a real calendar date."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    return _iso_day(value)


@functools.lru_cache(maxsize=1 << 16)
def _iso_day(text: str) -> dt.date | None:
    """A date (immutable, so one object serves every record with that text): the reports read the same few
    thousand days 1.6 million times at 100,000 records."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def to_decimal(value: object) -> Decimal | None:
    """Money as Decimal, exactly as written: the strict YAML loader keeps a number's text (`text`), so
    `12345678901234567.89` stays exact; a float from elsewhere is read by its shortest repr. Not a finite
    number: None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        text = getattr(value, "text", None)
        dec = Decimal(text if isinstance(text, str) else repr(value))
        return dec if dec.is_finite() else None
    return None


@dataclass(frozen=True, slots=True)
class Relation:
    type: str
    target: str
    note: str = ""


@dataclass(slots=True)
class Record:
    """One validated component of the register."""

    id: str
    kind: str
    path: str  # relative to the register root, POSIX separators
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data.get("name", self.id))

    @property
    def status(self) -> str:
        return str(self.data.get("status", ""))

    @property
    def owner(self) -> str | None:
        owner = self.data.get("owner")
        return owner if isinstance(owner, str) else None

    @property
    def tags(self) -> list[str]:
        tags = self.data.get("tags")
        return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []

    @property
    def relations(self) -> list[Relation]:
        rels = self.data.get("relations")
        if not isinstance(rels, list):
            return []
        return [Relation(r["type"], r["target"], str(r.get("note", "")))
                for r in rels if isinstance(r, dict) and isinstance(r.get("type"), str) and isinstance(r.get("target"), str)]

    def get(self, dotted: str) -> Any:
        return get_path(self.data, dotted)

    def date(self, dotted: str) -> dt.date | None:
        return parse_date(self.get(dotted))

    def status_date(self, state: str) -> dt.date | None:
        dates = self.data.get("status_dates")
        return parse_date(dates.get(state)) if isinstance(dates, dict) else None


@dataclass(slots=True)
class Register:
    """Every record of a register, indexed, with the configuration that gives it meaning."""

    root: str
    config: Config
    records: dict[str, Record] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records.values())

    def __len__(self) -> int:
        return len(self.records)

    def get(self, record_id: str) -> Record | None:
        return self.records.get(record_id)

    def of_kind(self, kind: str) -> list[Record]:
        return [r for r in self.records.values() if r.kind == kind]

    def in_service(self, record: Record) -> bool:
        return record.status in self.config.model_for(record.kind).in_service

    def inverse(self) -> dict[str, list[tuple[str, Record]]]:
        """Relations pointing at each record: target id -> [(relation type, source record)]."""
        out: dict[str, list[tuple[str, Record]]] = {}
        for rec in self.records.values():
            for rel in rec.relations:
                out.setdefault(rel.target, []).append((rel.type, rec))
        return out
