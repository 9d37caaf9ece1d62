"""The register as the authoring commands see it, and edits as plans: computed in full, checked like
`bir validate` checks a file, then written all together or not at all, under the register lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bir.base.config import Config
from bir.base.model import iter_references
from bir.base.problems import Problem, UsageError
from bir.check.checker import check_file
from bir.check.rules.references import REF_KIND, REF_UNKNOWN
from bir.check.ruleset import RuleSet
from bir.read.files import discover, read_regular
from bir.read.schemas import SchemaSet
from bir.read.yamlstrict import parse

# The prefix of generated ids, per kind: `bir new hardware` writes `hw-<n>`.
ID_PREFIX: dict[str, str] = {
    "hardware": "hw", "software": "sw", "licence": "lic", "cloud_service": "cs", "network": "net",
    "facility": "fac", "information": "info", "service": "svc", "contract": "ctr", "party": "pty",
    "waiver": "wvr", "audit": "aud", "budget": "bud",
}


class AuthoringError(UsageError):
    """An edit that was refused: nothing was written. Carries the problems that say why (exit code 1)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


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
        fields = self.schemas.fields(kind)
        order: dict[str, list[str]] = {"": [f for f in fields if "." not in f]}
        for path in fields:
            parent, dot, child = path.partition(".")
            if dot:
                order.setdefault(parent, []).append(child)
        return {**order, "status_dates": list(self.config.model_for(kind).states)}

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
