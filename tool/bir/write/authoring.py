"""Authoring records: `new`, `set` and `transition`, single or in bulk, safe by construction.

Every edit is made on a round-trip YAML tree (ruamel.yaml), so comments, key order, quoting and
layout of the untouched parts of a file stay as they were. Every edited record is checked (strict
YAML, its schema, the record rules and that its references exist) before anything is written; a bulk
edit writes all its files only when every one of them is valid, each one atomically.

Values on the command line (`FIELD=VALUE`) are read like a plain YAML scalar by the strict rules of
`bir.yamlstrict.plain_value`: `true`, `false`, `null`, decimal integers and floats are typed; anything
else (dates included) stays the text that was written. `[a, b]` and `{k: v}` are read as flow YAML.
`FIELD=` removes the field, `FIELD+=VALUE` appends to a list, `FIELD-=VALUE` removes from a list.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from bir.base.config import Config
from bir.base.layout import RECORD_DIR
from bir.base.model import KINDS, get_path, iter_references, parse_date
from bir.base.problems import Problem, UsageError
from bir.change.rules import TRANSITION
from bir.check.checker import RuleSet, check_file
from bir.check.rules.dates import why_not_a_day
from bir.check.rules.lifecycle import LIFECYCLE_STATE
from bir.check.rules.references import REF_KIND, REF_UNKNOWN
from bir.read.files import discover, read_regular
from bir.read.schemas import SCHEMA_REQUIRED, SchemaSet
from bir.read.yamlstrict import parse, plain_value

# The prefix of generated ids, per kind: `bir new hardware` writes `hw-<n>`.
ID_PREFIX: dict[str, str] = {
    "hardware": "hw", "software": "sw", "licence": "lic", "cloud_service": "cs", "network": "net",
    "facility": "fac", "information": "info", "service": "svc", "contract": "ctr", "party": "pty",
    "waiver": "wvr", "audit": "aud", "budget": "bud",
}
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ASSIGN = re.compile(r"^(?P<field>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(?P<op>\+=|-=|=)(?P<value>.*)$",
                     re.DOTALL)


class AuthoringError(UsageError):
    """An edit that was refused: nothing was written. Carries the problems that say why (exit code 1)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


# --- round-trip YAML -------------------------------------------------------------------------------


def yaml_rt() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def load_rt(data: bytes) -> Any:
    return yaml_rt().load(data.decode("utf-8"))


def dump_rt(tree: Any) -> bytes:
    buf = io.StringIO()
    yaml_rt().dump(tree, buf)
    return buf.getvalue().encode("utf-8")


def header(kind: str) -> str:
    return f"# yaml-language-server: $schema=../../schemas/{kind}.schema.json\n"


def to_rt(value: Any) -> Any:
    """A plain value as round-trip nodes; date strings are double-quoted, as the model asks."""
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = to_rt(v)
        if value and all(not isinstance(v, (Mapping, list)) for v in value.values()) and len(value) <= 4:
            out.fa.set_flow_style()
        return out
    if isinstance(value, list):
        seq = CommentedSeq(to_rt(v) for v in value)
        if all(not isinstance(v, (Mapping, list)) for v in value):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str) and _DATE.match(value):
        return DoubleQuotedScalarString(value)
    return value


def plain(value: Any) -> Any:
    """Round-trip nodes as plain dicts, lists and scalars."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


# --- assignments -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assignment:
    """One `FIELD=VALUE` (op `=`), `FIELD+=VALUE` (append) or `FIELD-=VALUE` (remove from a list)."""

    field: str
    op: str
    value: Any
    remove: bool = False  # `FIELD=`: delete the field


def parse_value(text: str) -> Any:
    text = text.strip()
    if text[:1] in ("[", "{", '"', "'"):
        parsed = parse(text.encode("utf-8"), "<value>")
        if parsed.problems:
            raise UsageError(f"cannot read the value {text!r}: {parsed.problems[0].message}")
        return parsed.value
    return plain_value(text)


def parse_assignment(text: str) -> Assignment:
    m = _ASSIGN.match(text)
    if not m:
        raise UsageError(f"'{text}' is not FIELD=VALUE (also FIELD+=VALUE to append, FIELD-=VALUE to remove, FIELD= to delete)")
    value_text = m.group("value")
    if m.group("op") == "=" and value_text.strip() == "":
        return Assignment(m.group("field"), "=", None, remove=True)
    return Assignment(m.group("field"), m.group("op"), parse_value(value_text))


def parse_assignments(texts: Iterable[str]) -> list[Assignment]:
    return [parse_assignment(t) for t in texts]


def _insert(mapping: Any, key: str, value: Any, order: Sequence[str]) -> None:
    """Set `key`; a new key goes right after the existing key that precedes it in the schema's property
    order (at the top when none does; at the end when the schema does not name it)."""
    if key in mapping or key not in order or not isinstance(mapping, CommentedMap):
        mapping[key] = value
        return
    rank = order.index(key)
    pos = 0
    best = -1
    for i, existing in enumerate(mapping):
        r = order.index(existing) if existing in order else -1
        if best < r < rank:
            best, pos = r, i + 1
    mapping.insert(pos, key, value)


Order = Mapping[str, Sequence[str]]  # dotted parent path ("" for the top) -> the schema's property order


def apply(tree: Any, assignment: Assignment, order: Order | None = None) -> None:
    """Apply one assignment to a round-trip tree, creating intermediate mappings as needed; new keys go
    where the schema's property order puts them."""
    order = order or {}
    parts = assignment.field.split(".")
    cur = tree
    for i, part in enumerate(parts[:-1]):
        nxt = cur.get(part)
        if nxt is None:
            if assignment.remove:
                return
            nxt = CommentedMap()
            _insert(cur, part, nxt, order.get(".".join(parts[:i]), ()))
        elif not isinstance(nxt, Mapping):
            raise UsageError(f"{'.'.join(parts[:i + 1])} is not a mapping, so {assignment.field} cannot be set")
        cur = nxt
    last = parts[-1]
    top_order = order.get(".".join(parts[:-1]), ())
    if assignment.remove:
        if last in cur:
            del cur[last]
        return
    if assignment.op == "=":
        if last in cur and plain(cur[last]) == assignment.value:
            return  # unchanged: keep the original node (and its quoting)
        _insert(cur, last, to_rt(assignment.value), top_order)
        return
    items = cur.get(last)
    if items is None:
        items = CommentedSeq()
        if not isinstance(assignment.value, Mapping):
            items.fa.set_flow_style()
        _insert(cur, last, items, top_order)
    if not isinstance(items, list):
        raise UsageError(f"{assignment.field} is not a list, so it cannot take += or -=")
    if assignment.op == "+=":
        if assignment.value not in [plain(v) for v in items]:
            items.append(to_rt(assignment.value))
    else:
        for i in reversed(range(len(items))):
            if plain(items[i]) == assignment.value:
                del items[i]


# --- the register as the authoring commands see it ---------------------------------------------------


@dataclass(slots=True)
class Workspace:
    """The register's files, indexed by id, with what is needed to check a record before writing it."""

    root: Path
    config: Config
    schemas: SchemaSet
    paths: dict[str, str] = field(default_factory=dict)  # id (file stem) -> relative path
    today: dt.date = field(default_factory=dt.date.today)

    @classmethod
    def open(cls, root: Path, today: dt.date | None = None) -> Workspace:
        from bir.point.point import at_worktree

        point = at_worktree(root, today or dt.date.today())
        config, schemas = point.config, point.schemas
        schemas.verify()  # a malformed schema is reported before an edit reads it for its property order
        candidates, _ = discover(root)
        paths: dict[str, str] = {}
        for c in candidates:
            paths.setdefault(c.path.rsplit("/", 1)[-1].removesuffix(".yaml"), c.path)
        return cls(root, config, schemas, paths, today or dt.date.today())

    def kind_of(self, record_id: str) -> str:
        return self.paths[record_id].split("/")[-2]

    def read(self, rel: str) -> bytes:
        return read_regular(self.root, rel)

    def order(self, kind: str) -> dict[str, list[str]]:
        """Where new keys go: the schema's property order; status dates in the lifecycle's state order."""
        return {**_schema_order(self.root, kind), "status_dates": list(self.config.model_for(kind).states)}

    def next_id(self, kind: str, taken: Iterable[str] = (), hw_class: str | None = None) -> str:
        """The next free id `<prefix>-<n>`: the prefix and digit width most used by the kind's records
        (for hardware, of the same class), else the kind's default prefix (`hw-1`)."""
        used = set(self.paths) | set(taken)
        similar = [rid for rid, rel in self.paths.items() if rel.split("/")[-2] == kind]
        if hw_class is not None and kind == "hardware":
            similar = [rid for rid in similar if isinstance(v := parse(self.read(self.paths[rid]), rid).value, dict)
                       and v.get("class") == hw_class]
        styles: dict[tuple[str, int], int] = {}
        for rid in similar:
            m = re.match(r"^([a-z][a-z0-9-]*?)-(\d+)$", rid)
            if m:
                style = (m.group(1), len(m.group(2)) if m.group(2).startswith("0") else 0)
                styles[style] = styles.get(style, 0) + 1
        prefix, width = max(styles, key=lambda s: (styles[s], s)) if styles else (ID_PREFIX[kind], 0)
        pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
        numbers = [int(m.group(1)) for i in used if (m := pattern.match(i))]
        n = max(numbers, default=0) + 1
        while f"{prefix}-{n:0{width}d}" in used:
            n += 1
        return f"{prefix}-{n:0{width}d}" if width else f"{prefix}-{n}"

    def check(self, rel: str, kind: str, data: bytes, new_ids: Iterable[str] = ()) -> list[Problem]:
        """Errors that would make the written file fail `bir validate` on its own: strict YAML, schema,
        record rules, and references to records that do not exist."""
        result = check_file(rel, kind, data, RuleSet(self.config, self.schemas, self.today), want_data=True)
        problems = [p for p in result.problems if p.is_error]
        if result.data is not None:
            known = set(self.paths) | set(new_ids)
            for json_path, target, kinds, label in iter_references(kind, result.data):
                if target not in known:
                    problems.append(REF_UNKNOWN.problem(rel, 0, 0, f"{label} names '{target}', which is not a record",
                                          f"create the record first (bir new {'party' if kinds == {'party'} else '<kind>'}) "
                                          "or fix the id", json_path))
                elif self.paths.get(target) and self.kind_of(target) not in kinds:
                    problems.append(REF_KIND.problem(rel, 0, 0, f"{label} names '{target}', a {self.kind_of(target)}",
                                          f"it must name a {' or '.join(sorted(kinds))}", json_path))
        from bir.check.checker import place

        return place(problems, data)


_ORDER_CACHE: dict[tuple[str, str], dict[str, list[str]]] = {}


def _schema_order(root: Path, kind: str) -> dict[str, list[str]]:
    """The property order of the kind's schema, at the top and for each object property (one level of
    `$ref` into defs.schema.json followed): new keys are inserted in this order."""
    import json

    key = (str(root), kind)
    if key in _ORDER_CACHE:
        return _ORDER_CACHE[key]
    out: dict[str, list[str]] = {}
    try:
        schema = json.loads((root / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8"))
        defs = json.loads((root / "schemas" / "defs.schema.json").read_text(encoding="utf-8")).get("definitions", {})
    except (OSError, ValueError):
        schema, defs = {}, {}
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    out[""] = list(props)
    for name, sub in props.items():
        if isinstance(sub, dict):
            ref = str(sub.get("$ref", ""))
            target = defs.get(ref.rsplit("/", 1)[-1], {}) if ref.startswith("defs.schema.json#/definitions/") else sub
            if isinstance(target, dict) and isinstance(target.get("properties"), dict):
                out[name] = list(target["properties"])
    _ORDER_CACHE[key] = out
    return out


# --- edits as plans: computed in full, checked, then written ----------------------------------------


@dataclass(slots=True)
class Edit:
    """One file to write: its new content, and whether it is new or changed."""

    path: str
    record_id: str
    kind: str
    before: bytes | None
    after: bytes

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(slots=True)
class Plan:
    edits: list[Edit] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[Edit]:
        return [e for e in self.edits if e.changed]


def check_plan(ws: Workspace, plan: Plan) -> Plan:
    """Check every changed file. An edit is refused for the errors it brings, not for those the file had
    before (so a record with two problems can be fixed one `bir set` at a time)."""
    new_ids = [e.record_id for e in plan.edits if e.before is None]
    for e in plan.changed:
        found = ws.check(e.path, e.kind, e.after, new_ids)
        if e.before is not None and found:
            old = {(p.rule, p.json_path, p.message) for p in ws.check(e.path, e.kind, e.before, new_ids)}
            found = [p for p in found if (p.rule, p.json_path, p.message) not in old]
        plan.problems.extend(found)
    return plan


def write_plan(ws: Workspace, plan: Plan) -> list[str]:
    """Write every changed file, only if the plan has no problems: all of them or none, even when the
    command is killed midway (`bir.base.journal`); the paths written."""
    from bir.base.journal import commit

    if plan.problems:
        raise AuthoringError(f"{len(plan.problems)} problem(s); nothing was written", plan.problems)
    return commit(ws.root, {e.path: e.after for e in plan.changed})


def writing(root: Path, dry_run: bool = False) -> contextlib.AbstractContextManager[None]:
    """The register lock for an edit, held from before its records are read until they are written (none
    for a dry run, which writes nothing): two edits of the same record never lose one of them."""
    from bir.base.journal import locked

    return contextlib.nullcontext() if dry_run else locked(root)


# --- new ---------------------------------------------------------------------------------------------


def defaults_for(ws: Workspace, kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The values a new record starts with: the initial state dated today, and financial defaults."""
    model = ws.config.model_for(kind)
    data: dict[str, Any] = {"status": model.initial, "status_dates": {model.initial: ws.today.isoformat()}}
    if kind in ("hardware", "software", "licence"):
        depreciation = ws.config.depreciation_defaults(kind, fields.get("class") if kind == "hardware" else None)
        financial: dict[str, Any] = {"currency": ws.config.base_currency}
        if depreciation:
            financial["depreciation"] = depreciation
        data["financial"] = financial
    return data


def plan_new(ws: Workspace, kind: str, assignments: Sequence[Assignment], record_id: str | None = None,
             taken: Iterable[str] = ()) -> Edit:
    """The file of a new record; raises UsageError when the id is taken or malformed."""
    if kind not in KINDS:
        raise UsageError(f"unknown kind '{kind}'; one of: {', '.join(KINDS)}")
    taken = set(taken)
    given = {a.field: a.value for a in assignments if a.op == "=" and not a.remove}
    if record_id is None:
        hw_class = given.get("class")
        record_id = ws.next_id(kind, taken, hw_class if isinstance(hw_class, str) else None)
    if not _ID.match(record_id):
        raise UsageError(f"'{record_id}' is not a valid id: lowercase letters and digits in groups joined by single hyphens")
    if record_id in ws.paths or record_id in taken:
        where = ws.paths.get(record_id, "this run")
        raise UsageError(f"id '{record_id}' already exists ({where}); choose another id or edit it with `bir set`")
    base: dict[str, Any] = {"id": record_id, "kind": kind, "name": given.get("name", record_id)}
    for k, v in defaults_for(ws, kind, given).items():
        base[k] = v
    order = ws.order(kind)
    top = order.get("", [])
    ranked = {k: base[k] for k in sorted(base, key=lambda k: top.index(k) if k in top else len(top))}
    tree = to_rt(ranked)
    if isinstance(tree, CommentedMap):
        tree.fa.set_block_style()
        for v in tree.values():
            if isinstance(v, CommentedMap):
                v.fa.set_block_style()
    for a in assignments:
        if a.field in ("id", "kind"):
            raise UsageError(f"{a.field} is given by the command, not by --set")
        apply(tree, a, order)
    if "owner" not in tree:
        raise AuthoringError("a record needs an owner", [SCHEMA_REQUIRED.problem(
            f"{RECORD_DIR}/{kind}/{record_id}.yaml", 0, 0, "owner is required", "add --set owner=<party id>", "/owner")])
    status = str(tree.get("status"))
    dates = tree.get("status_dates")
    model = ws.config.model_for(kind)
    if isinstance(dates, CommentedMap) and status != model.initial and status in model.states:
        # the record starts in another state: date that state, not the initial one
        initial = ws.config.model_for(kind).initial
        if initial in dates and not any(a.field == f"status_dates.{initial}" for a in assignments):
            del dates[initial]
        if status not in dates:
            dates[status] = DoubleQuotedScalarString(ws.today.isoformat())
    rel = f"{RECORD_DIR}/{kind}/{record_id}.yaml"
    return Edit(rel, record_id, kind, None, header(kind).encode() + dump_rt(tree))


def new_record(root: Path, kind: str, sets: Sequence[str], record_id: str | None = None, *,
               dry_run: bool = False, today: dt.date | None = None) -> Plan:
    with writing(root, dry_run):
        ws = Workspace.open(root, today)
        plan = Plan([plan_new(ws, kind, parse_assignments(sets), record_id)])
        check_plan(ws, plan)
        if not dry_run:
            write_plan(ws, plan)
    return plan


# --- set and transition --------------------------------------------------------------------------------


def parse_where(text: str | None) -> list[tuple[str, str]]:
    """`kind=hardware,class=laptop,status=in_use` as [(field, value)]."""
    if not text:
        return []
    out = []
    for part in text.split(","):
        if "=" not in part:
            raise UsageError(f"--where: '{part}' is not FIELD=VALUE (join several with commas)")
        k, v = part.split("=", 1)
        out.append((k.strip(), v.strip()))
    return out


def _matches(data: Mapping[str, Any], kind: str, where: Sequence[tuple[str, str]]) -> bool:
    for k, v in where:
        value = kind if k == "kind" else get_path(data, k)
        if isinstance(value, list):
            if v not in [str(x) for x in value]:
                return False
        elif value is None or (str(value).lower() if isinstance(value, bool) else str(value)) != v:
            return False
    return True


def select(ws: Workspace, ids: Sequence[str], where: Sequence[tuple[str, str]]) -> list[str]:
    """The ids an edit applies to: those named, or every record matching the filter."""
    if ids:
        missing = [i for i in ids if i not in ws.paths]
        if missing:
            raise UsageError(f"no record with id {', '.join(repr(m) for m in missing)}")
        return list(ids)
    if not where:
        raise UsageError("name a record id, or select records with --where FIELD=VALUE[,FIELD=VALUE...]")
    kinds = [v for k, v in where if k == "kind"]
    for kind in kinds:
        if kind not in KINDS:
            raise UsageError(f"--where: unknown kind '{kind}'")
    selected = []
    for rid, rel in sorted(ws.paths.items()):
        kind = rel.split("/")[-2]
        if kinds and kind not in kinds:
            continue
        parsed = parse(ws.read(rel), rel)
        if isinstance(parsed.value, dict) and _matches(parsed.value, kind, where):
            selected.append(rid)
    return selected


def _edit(ws: Workspace, rid: str, change: Any) -> Edit:
    rel = ws.paths[rid]
    kind = ws.kind_of(rid)
    before = ws.read(rel)
    parsed = parse(before, rel)
    if parsed.problems or not isinstance(parsed.value, dict):
        raise AuthoringError(f"{rel} is not valid YAML now; fix it first", parsed.problems)
    tree = load_rt(before)
    change(tree, kind)
    after = dump_rt(tree)
    return Edit(rel, rid, kind, before, after)


def edit_record(ws: Workspace, rid: str, change: Any) -> Edit:
    """The edit of one record by `change(tree, kind)` on its round-trip tree (for commands built on `set`)."""
    return _edit(ws, rid, change)


def set_fields(root: Path, ids: Sequence[str], sets: Sequence[str], where: str | None = None, *,
               dry_run: bool = False, today: dt.date | None = None) -> Plan:
    with writing(root, dry_run):
        return _set_fields(root, ids, sets, where, dry_run=dry_run, today=today)


def _set_fields(root: Path, ids: Sequence[str], sets: Sequence[str], where: str | None, *,
                dry_run: bool, today: dt.date | None) -> Plan:
    ws = Workspace.open(root, today)
    assignments = parse_assignments(sets)
    if not assignments:
        raise UsageError("nothing to set: give FIELD=VALUE")
    for a in assignments:
        if a.field in ("id", "kind"):
            raise UsageError(f"`{a.field}` cannot be set: it names the file (a rename is a change of its own)")
    plan = Plan()
    for rid in select(ws, ids, parse_where(where)):
        def change(tree: Any, kind: str) -> None:
            for a in assignments:
                apply(tree, a, ws.order(kind))
        plan.edits.append(_edit(ws, rid, change))
    check_plan(ws, plan)
    if not dry_run:
        write_plan(ws, plan)
    return plan


def transition(root: Path, ids: Sequence[str], state: str, where: str | None = None, *, date: str | None = None,
               sets: Sequence[str] = (), dry_run: bool = False, today: dt.date | None = None) -> Plan:
    """Move records to `state`: refused when the lifecycle model forbids it or the state's required fields
    are missing (after applying `sets`); `status_dates.<state>` is set to `date` (default today)."""
    with writing(root, dry_run):
        return _transition(root, ids, state, where, date=date, sets=sets, dry_run=dry_run, today=today)


def _transition(root: Path, ids: Sequence[str], state: str, where: str | None, *, date: str | None,
                sets: Sequence[str], dry_run: bool, today: dt.date | None) -> Plan:
    ws = Workspace.open(root, today)
    when = date or ws.today.isoformat()
    why = why_not_a_day(when)
    if parse_date(when) is None or why is not None:
        raise UsageError(f"--date '{when[:40]}' is not a date{': ' + why if why else ''} (YYYY-MM-DD)")
    assignments = parse_assignments(sets)
    plan = Plan()
    for rid in select(ws, ids, parse_where(where)):
        model = ws.config.model_for(ws.kind_of(rid))
        rel = ws.paths[rid]
        if state not in model.states:
            plan.problems.append(LIFECYCLE_STATE.problem(rel, 0, 0,
                                       f"'{state}' is not a state of the '{model.name}' lifecycle model",
                                       f"use one of: {', '.join(model.states)}", "/status"))
            continue
        current = parse(ws.read(rel), rel).value
        old = str(current.get("status", "")) if isinstance(current, dict) else ""
        if old == state:
            plan.notes.append(f"{rid}: already {state}")
            continue
        if not model.allows(old, state):
            allowed = sorted(model.transitions.get(old, ()))
            plan.problems.append(TRANSITION.problem(rel, 0, 0,
                                       f"{rid}: the '{model.name}' lifecycle model does not allow {old} -> {state}",
                                       f"from {old} a record may go to: {', '.join(allowed) or 'nothing (final state)'}",
                                       "/status"))
            continue

        earlier = (current.get("status_dates") or {}).get(state) if isinstance(current, dict) else None

        def change(tree: Any, kind: str, earlier: object = earlier) -> None:
            order = ws.order(kind)
            if isinstance(earlier, str) and earlier != when:
                # Re-entering a state: its earlier date moves to the state history, never overwritten.
                apply(tree, Assignment("status_history", "+=", {"state": state, "date": earlier}), order)
            apply(tree, Assignment("status", "=", state), order)
            apply(tree, Assignment(f"status_dates.{state}", "=", when), order)
            for a in assignments:
                apply(tree, a, order)
        plan.edits.append(_edit(ws, rid, change))
    if plan.problems:
        raise AuthoringError(f"{len(plan.problems)} transition(s) refused; nothing was written", plan.problems)
    check_plan(ws, plan)
    if not dry_run:
        write_plan(ws, plan)
    return plan
