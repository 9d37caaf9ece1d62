"""`bir change`: a pull request seen as a CHM change — what it changes, which policy it breaks, its impact.

The base is read from git (no checkout); the head is the working tree (validated by the normal, cached
loader) or another commit. Only the files the change touches are parsed from the base, and the impact
walks relations from the changed records only, so the cost follows the size of the change rather than
the size of the register. Finding who points at a record uses `git grep` (a byte search in C) as a
pre-filter and parses only the files it names.

Policy rules are small and named (`change.*`), like the validation rules; each yields `Problem`s.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bir.base.config import Config
from bir.base.diff import FieldChange, diff_fields
from bir.base.layout import RECORD_DIR, record_of
from bir.base.model import KINDS, Record, iter_references
from bir.base.problems import Problem, Severity, error
from bir.cache.relations import CacheDamaged, Relations
from bir.cache.validation import Validation
from bir.git.plumbing import FileChange, Git
from bir.read.yamlstrict import parse

if TYPE_CHECKING:
    from concurrent.futures import Future

    from bir.point.point import Point

# Relation types whose source needs its target: when the target changes, the source is affected.
NEEDS = frozenset({"depends_on", "runs_on", "installed_on", "located_in", "covered_by", "licensed_by",
                   "connects", "stores"})
# Relation types whose target is made of, or served by, the source: the target is affected.
SERVES = frozenset({"supports", "part_of"})
MAX_WALK_DEPTH = 8
CENT = Decimal("0.01")


# -- the change model ------------------------------------------------------------------------------------
@dataclass(slots=True)
class RecordChange:
    """A record the change adds, modifies, renames or removes."""

    change: str  # added | modified | renamed | removed
    id: str
    kind: str
    path: str
    old_path: str | None = None
    old_id: str | None = None
    old_status: str | None = None
    new_status: str | None = None
    fields: list[FieldChange] = field(default_factory=list)
    base: Record | None = None
    head: Record | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"change": self.change, "id": self.id, "kind": self.kind, "path": self.path, "old_path": self.old_path,
                "old_id": self.old_id, "old_status": self.old_status, "new_status": self.new_status,
                "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in self.fields]}


@dataclass(frozen=True, slots=True)
class AffectedService:
    id: str
    name: str
    via: tuple[str, ...]  # the chain from the changed record to the service, changed record first

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "via": list(self.via)}


@dataclass(frozen=True, slots=True)
class RiskFinding:
    rule: str
    record: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "record": self.record, "message": self.message}


@dataclass(slots=True)
class Impact:
    currency: str
    one_off: Decimal = Decimal("0.00")
    annual_base: Decimal = Decimal("0.00")
    annual_head: Decimal = Decimal("0.00")
    services: list[AffectedService] = field(default_factory=list)
    risks_introduced: list[RiskFinding] = field(default_factory=list)
    risks_resolved: list[RiskFinding] = field(default_factory=list)
    risk_source: str = "local"
    notes: list[str] = field(default_factory=list)

    @property
    def annual_delta(self) -> Decimal:
        return self.annual_head - self.annual_base

    def to_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "one_off": str(self.one_off), "annual_base": str(self.annual_base),
                "annual_head": str(self.annual_head), "annual_delta": str(self.annual_delta),
                "services": [s.to_dict() for s in self.services],
                "risks_introduced": [r.to_dict() for r in self.risks_introduced],
                "risks_resolved": [r.to_dict() for r in self.risks_resolved],
                "risk_source": self.risk_source, "notes": self.notes}


@dataclass(slots=True)
class ChangeReport:
    base: str
    head: str | None  # None: the working tree
    records: list[RecordChange]
    other_files: list[FileChange]
    violations: list[Problem]
    head_problems: list[Problem]
    impact: Impact

    @property
    def errors(self) -> int:
        return sum(1 for p in self.violations + self.head_problems if p.is_error)

    @property
    def failed(self) -> bool:
        return self.errors > 0

    def counts(self) -> dict[str, int]:
        out = {"added": 0, "modified": 0, "renamed": 0, "removed": 0}
        for r in self.records:
            out[r.change] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "head": self.head, "counts": self.counts(),
                "records": [r.to_dict() for r in self.records],
                "other_files": [{"status": f.status, "path": f.path, "old_path": f.old_path} for f in self.other_files],
                "violations": [p.to_dict() for p in self.violations],
                "head_problems": [p.to_dict() for p in self.head_problems],
                "impact": self.impact.to_dict()}


# -- rules ----------------------------------------------------------------------------------------------
@dataclass(slots=True)
class ChangeContext:
    base_config: Config
    config: Config
    records: list[RecordChange]
    dependents: Callable[[str], list[Record]]  # head records whose relations need the given id
    today: dt.date


ChangeCheck = Callable[[ChangeContext], Iterable[Problem]]


@dataclass(frozen=True, slots=True)
class ChangeRule:
    id: str
    severity: Severity
    summary: str
    doc: str
    check: ChangeCheck


def _problem(rule: ChangeRule, path: str, message: str, hint: str, json_path: str = "") -> Problem:
    return Problem(path, 0, 0, rule.severity, rule.id, message, hint, json_path)


def check_transition(ctx: ChangeContext) -> Iterator[tuple[str, str, str, str]]:
    """A status change follows the lifecycle model: the base state must allow the head state.

    Passes: hardware `in_stock` -> `in_use`.
    Fails:  hardware `in_use` -> `disposed` (retire it first: `in_use` -> `retired` -> `disposed`).
    """
    for rc in ctx.records:
        if rc.change in ("added", "removed") or rc.old_status is None or rc.new_status is None:
            continue
        if rc.old_status == rc.new_status or rc.kind not in ctx.config.kind_model:
            continue
        model = ctx.config.model_for(rc.kind)
        if rc.old_status in model.states and rc.new_status in model.states and not model.allows(rc.old_status, rc.new_status):
            allowed = sorted(model.transitions.get(rc.old_status, ()))
            yield (rc.path, f"{rc.id}: status '{rc.old_status}' -> '{rc.new_status}' is not a transition of the "
                            f"'{model.name}' lifecycle model",
                   f"from '{rc.old_status}' go to one of: {', '.join(allowed) or 'nothing (final state)'}", "/status")


def check_requires(ctx: ChangeContext) -> Iterator[tuple[str, str, str, str]]:
    """Entering a state brings what the state requires (configured under `requires` in bir.yaml): a
    retirement its date and reason, a disposal of a data-bearing device its sanitisation evidence.

    Passes: `in_use` -> `retired` with `status_dates.retired` and `retirement.reason`.
    Fails:  `retired` -> `disposed` of a server without `sanitisation.certificate`.
    """
    from bir.check.rules.lifecycle import state_requirements

    for rc in ctx.records:
        if rc.head is None or rc.new_status == rc.old_status or rc.kind not in ctx.config.kind_model:
            continue
        for f in state_requirements(rc.head, ctx.config, ctx.today):
            yield (rc.path, f"{rc.id}: {f.message}", f.hint, f.json_path)


def check_removed(ctx: ChangeContext) -> Iterator[tuple[str, str, str, str]]:
    """A record leaves the register only through its final state; its file stays as history.

    Passes: hardware set to `disposed` (with its evidence), the file kept.
    Fails:  `registry/hardware/srv-web-01.yaml` deleted.
    """
    for rc in ctx.records:
        if rc.change == "removed":
            model = ctx.base_config.model_for(rc.kind) if rc.kind in ctx.base_config.kind_model else None
            final = ", ".join(sorted(model.final)) if model else "its final state"
            yield (rc.path, f"{rc.id}: record removed from the register",
                   f"restore the file and set its status to {final} instead; the file stays as history", "")


def check_renamed(ctx: ChangeContext) -> Iterator[tuple[str, str, str, str]]:
    """A record's id never changes: other records, reports and the history refer to it. Renaming (or
    moving) its file changes its identity.

    Passes: `name:` changed inside `registry/hardware/srv-web-01.yaml`.
    Fails:  `registry/hardware/srv-web-01.yaml` renamed to `srv-web-001.yaml`.
    """
    for rc in ctx.records:
        if rc.change == "renamed":
            what = f"id changed from '{rc.old_id}' to '{rc.id}'" if rc.old_id != rc.id else "file moved"
            yield (rc.path, f"{rc.id}: {what} by renaming {rc.old_path} to {rc.path}",
                   "keep the file and id; record a successor as a new record that relates to the old one", "/id")


def _retiring(config: Config, kind: str, status: str | None) -> bool:
    if status is None or kind not in config.kind_model:
        return False
    model = config.model_for(kind)
    return status in model.final or status == "retired"


def check_retire_in_use(ctx: ChangeContext) -> Iterator[tuple[str, str, str, str]]:
    """Retiring or disposing a record that in-service records still need (through depends_on, runs_on,
    installed_on, located_in, covered_by, licensed_by, connects or stores), or that supports a service
    still in service.

    Passes: retiring a server after the software running on it moved elsewhere.
    Fails:  retiring `srv-db-01` while active software `runs_on` it.
    """
    for rc in ctx.records:
        if rc.head is None or not _retiring(ctx.config, rc.kind, rc.new_status) or _retiring(ctx.config, rc.kind, rc.old_status):
            continue
        users = [r for r in ctx.dependents(rc.id) if _in_service(ctx.config, r)]
        names = sorted({r.id for r in users})
        served = [rel.target for rel in rc.head.relations if rel.type == "supports" and rel.target not in names]
        live_served = [s for s in served if _service_live(ctx, s)]
        needed = sorted({r.id for r in users}) + live_served
        if needed:
            shown = ", ".join(needed[:10]) + (f" and {len(needed) - 10} more" if len(needed) > 10 else "")
            yield (rc.path, f"{rc.id}: set to '{rc.new_status}' while in service records still depend on it: {shown}",
                   "move or retire the dependants first, or remove their relations to it in this change", "/status")


def _in_service(config: Config, record: Record) -> bool:
    return record.kind in config.kind_model and record.status in config.model_for(record.kind).in_service


def _service_live(ctx: ChangeContext, service_id: str) -> bool:
    for rc in ctx.records:
        if rc.id == service_id and rc.head is not None:
            return _in_service(ctx.config, rc.head)
    rec = _SERVICE_LOOKUP.get(id(ctx), {}).get(service_id)
    return rec is not None and _in_service(ctx.config, rec)


_SERVICE_LOOKUP: dict[int, dict[str, Record]] = {}


def _rule(rule_id: str, severity: Severity, summary: str,
          fn: Callable[[ChangeContext], Iterable[tuple[str, str, str, str]]]) -> ChangeRule:
    holder: list[ChangeRule] = []

    def check(ctx: ChangeContext) -> Iterator[Problem]:
        for path, message, hint, json_path in fn(ctx):
            yield _problem(holder[0], path, message, hint, json_path)

    r = ChangeRule(rule_id, severity, summary, (fn.__doc__ or summary).strip(), check)
    holder.append(r)
    return r


RULES: list[ChangeRule] = [
    _rule("change.transition", Severity.ERROR, "status changes follow the lifecycle model", check_transition),
    _rule("change.requires", Severity.ERROR, "a new state brings what it requires", check_requires),
    _rule("change.removed", Severity.ERROR, "records are never deleted", check_removed),
    _rule("change.renamed", Severity.ERROR, "ids never change", check_renamed),
    _rule("change.retire-in-use", Severity.ERROR, "nothing still in service depends on a retired record", check_retire_in_use),
]
CONFLICT_RULE = "change.conflict"


# -- money: the reports' definitions, so the impact and the cost report always agree -----------------------
def _in_base(record: Record, notes: list[str], compute: Callable[[], Decimal]) -> Decimal:
    from bir.reports.money import MissingRateError

    try:
        return compute()
    except MissingRateError as exc:
        note = f"{record.id}: {exc}; its amounts are left out"
        if note not in notes:
            notes.append(note)
        return Decimal(0)


def annual_cost(record: Record | None, config: Config, today: dt.date, notes: list[str]) -> Decimal:
    """Annual run cost in the base currency on `today`: the cost report's (recurring costs in force, of a
    record that has not ended)."""
    if record is None:
        return Decimal(0)
    from bir.reports.context import annual_run_cost

    return _in_base(record, notes, lambda: annual_run_cost(record, config, today))


def one_off_cost(record: Record | None, config: Config, notes: list[str]) -> Decimal:
    """Purchase cost in the base currency, converted as the cost report converts it."""
    if record is None:
        return Decimal(0)
    from bir.reports.context import purchase_base

    return _in_base(record, notes, lambda: purchase_base(record, config) or Decimal(0))


# -- risks ----------------------------------------------------------------------------------------------
def local_risks(record: Record, config: Config, today: dt.date) -> list[RiskFinding]:
    """The small set of risks `bir change` checks itself: end of life or support passed while in service,
    and no owner."""
    out = []
    if _in_service(config, record):
        for key in ("end_of_life", "end_of_support"):
            day = record.date(key)
            if day is not None and day < today:
                out.append(RiskFinding(f"risk.{key.replace('_', '-')}", record.id,
                                       f"{record.id} is in service past its {key.replace('_', ' ')} ({day.isoformat()})"))
    if record.kind != "party" and not record.owner:
        out.append(RiskFinding("risk.no-owner", record.id, f"{record.id} has no owner"))
    return out


def _report_risks(records: list[Record], neighbours: dict[str, Record], config: Config, today: dt.date,
                  root: str) -> set[RiskFinding] | None:
    """The risk report's findings on the changed records (None when the risk report is not available).

    The report runs on a small register: the changed records and the records they refer to, so its
    cost follows the change. Findings are kept for the changed records only.
    """
    try:
        from bir.base.model import Register
        from bir.reports.context import build_context
        from bir.reports.risk import risk_report
    except ImportError:
        return None
    try:
        reg = Register(root, config, dict(neighbours))
        reg.records.update({r.id: r for r in records})
        report = risk_report(build_context(reg, today, {}))
    except Exception:  # a risk report in another shape: fall back to the local set, and say so
        return None
    ids = {r.id for r in records}
    return {RiskFinding(f.rule, f.record, f.message) for f in report.findings if f.record in ids}


def _risks_of(records: list[Record], neighbours: dict[str, Record], config: Config, today: dt.date,
              root: str) -> tuple[set[RiskFinding], str]:
    found = _report_risks(records, neighbours, config, today, root)
    if found is not None:
        return found, "risk report"
    out: set[RiskFinding] = set()
    for r in records:
        out.update(local_risks(r, config, today))
    return out, "local"


# -- computing the change -------------------------------------------------------------------------------
def _parse_record(path: str, data: bytes | None) -> Record | None:
    where = record_of(path)
    if data is None or where is None:
        return None
    parsed = parse(data, path)
    if parsed.problems or not isinstance(parsed.value, dict):
        return None
    value: dict[str, Any] = parsed.value
    rid = value.get("id") if isinstance(value.get("id"), str) else where[1]
    kind = value.get("kind") if value.get("kind") in KINDS else where[0]
    return Record(str(rid), str(kind), path, value)


def _conflicts(path: str, data: bytes | None) -> Problem | None:
    if data is None:
        return None
    for n, line in enumerate(data.split(b"\n"), 1):
        if line.startswith((b"<<<<<<< ", b">>>>>>> ")) or line.rstrip(b"\r") in (b"<<<<<<<", b"=======", b">>>>>>>"):
            return error(path, n, 1, CONFLICT_RULE, "unresolved merge conflict marker",
                         "resolve the conflict: keep one version of the lines between the markers, remove the markers")
    return None


def _worktree_changes(git: Git, head: Point, base_sha: str, use_cache: bool, head_now: str | None,
                      tracked_now: Future[list[FileChange]] | None) -> tuple[list[FileChange], Validation | None]:
    """The working tree's changes against `base_sha`, and its cached validation when git shows that the
    working tree is still what was validated (then nothing is listed: the cost follows the change).
    `tracked_now` is git's diff of HEAD (`head_now`) against the working tree, under way."""
    from bir.cache.validation import validate_worktree

    if head_now is None or tracked_now is None:  # no commit yet on this branch
        return git.diff(base_sha, None), None
    found = validate_worktree(head.root, head.rules, git, tracked_now.result) if use_cache else None
    tracked = tracked_now.result()
    if found is None:
        if head_now == base_sha:
            return tracked + [FileChange("A", p) for p in git.untracked()], None
        return git.diff(base_sha, None), None
    checked, untracked = found
    if head_now == base_sha:
        return tracked + [FileChange("A", p) for p in untracked], checked
    if not tracked and not untracked:  # a clean checkout (as in CI): the change is between two commits
        return git.diff_tracked(base_sha, head_now), checked
    return git.diff(base_sha, None), checked


def _pair_untracked_renames(git: Git, root: Path, changes: list[FileChange]) -> list[FileChange]:
    """git sees a rename in the working tree only once the new file is tracked; pair a deleted record
    with an untracked new one of the same kind when their contents are similar (git's 50 %)."""
    import difflib

    from bir.read.files import read_regular

    gone = [f for f in changes if f.status == "D" and record_of(f.path) and f.old_blob]
    new = [f for f in changes if f.status == "A" and f.new_blob is None and record_of(f.path)]
    if not gone or not new or len(gone) * len(new) > 10_000:
        return changes
    old_bytes = git.cat_blobs(f.old_blob for f in gone if f.old_blob)
    paired: dict[str, FileChange] = {}
    used: set[str] = set()
    for d in gone:
        before = (old_bytes.get(d.old_blob or "") or b"").decode("utf-8", "replace")
        best: tuple[float, FileChange | None] = (0.5, None)
        for a in new:
            if a.path in used or (record_of(a.path) or ("",))[0] != (record_of(d.path) or ("",))[0]:
                continue
            try:
                after = read_regular(root, a.path).decode("utf-8", "replace")
            except OSError:
                continue
            ratio = difflib.SequenceMatcher(None, before, after).ratio()
            if ratio > best[0]:
                best = (ratio, a)
        if best[1] is not None:
            used.add(best[1].path)
            paired[d.path] = FileChange("R", best[1].path, d.path, d.old_blob, None)
    out = [paired.get(f.path, f) for f in changes if f.path not in used]
    return out


class _Head:
    """Read access to the head: the working tree or a commit, files fetched (and parsed) on demand."""

    def __init__(self, git: Git, root: Path, sha: str | None, relations: Relations | None = None) -> None:
        self.git, self.root, self.sha = git, root, sha
        self.relations = relations  # the working tree's relation index, from the validation cache
        self.records: dict[str, Record | None] = {}  # path -> record

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        wanted = [p for p in paths]
        if self.sha is None:
            from bir.read.files import read_regular

            out: dict[str, bytes | None] = {}
            for p in wanted:
                try:
                    out[p] = read_regular(self.root, p)
                except OSError:
                    out[p] = None
            return out
        blobs = self.git.cat_blobs(f"{self.sha}:{p}" for p in wanted)
        return {p: blobs.get(f"{self.sha}:{p}") for p in wanted}

    def load(self, paths: Iterable[str]) -> None:
        todo = [p for p in paths if p not in self.records]
        for p, data in self.read_many(todo).items():
            self.records[p] = _parse_record(p, data)

    def dependents_of(self, ids: list[str]) -> dict[str, list[tuple[str, Record]]]:
        """For each id: the head records with a relation of a NEEDS type to it, and the relation type."""
        files: set[str] | None = None
        if self.relations is not None:
            try:
                files = {src for i in ids for src, rtype in self.relations.get(i, ()) if rtype in NEEDS}
            except CacheDamaged:  # the cache changed under this run: search the files instead
                self.relations = None
        if files is None:
            files = self.git.grep_words(ids, self.sha)
        self.load(sorted(files))
        wanted = set(ids)
        out: dict[str, list[tuple[str, Record]]] = {}
        for p in sorted(files):
            rec = self.records.get(p)
            if rec is None:
                continue
            for rel in rec.relations:
                if rel.target in wanted and rel.type in NEEDS and rel.target != rec.id:
                    out.setdefault(rel.target, []).append((rel.type, rec))
        return out

    def by_id(self, ids: Iterable[str]) -> dict[str, Record]:
        """Head records by id, found through their file name in any kind folder."""
        paths = [f"{RECORD_DIR}/{k}/{i}.yaml" for i in ids for k in KINDS]
        if self.sha is None:
            paths = [p for p in paths if (self.root / p).is_file()]
        self.load(paths)
        return {r.id: r for p in paths if (r := self.records.get(p)) is not None}


def compute_change(root: Path, base: str, head: str | None = None, *, today: dt.date | None = None,
                   validate_head: bool = True, jobs: int | None = None) -> ChangeReport:
    """Compare the register at `base` with `head` (a commit, or None for the working tree)."""
    from bir.point.point import at_commit, at_worktree

    today = today or dt.date.today()
    git = Git(root)
    base_sha = git.resolve(base)
    head_sha = git.resolve(head) if head is not None else None
    checked = None
    if head_sha is None:
        from concurrent.futures import ThreadPoolExecutor

        # git compares the working tree with HEAD (a stat of every file, in C) while this process reads
        # the configuration and loads the models the impact needs.
        head_now = git.head()
        with ThreadPoolExecutor(1) as pool:
            tracked = pool.submit(git.diff_tracked, head_now, None) if head_now is not None else None
            head_point = at_worktree(root, today)
            file_changes, checked = _worktree_changes(git, head_point, base_sha, validate_head, head_now, tracked)
        file_changes = _pair_untracked_renames(git, root, file_changes)
    else:
        file_changes = git.diff(base_sha, head_sha)
        head_point = at_commit(root, git, head_sha, today)
    base_point = at_commit(root, git, base_sha, today)
    config, base_config = head_point.config, base_point.config

    # The base: only the changed files, straight from their blobs.
    base_blobs = git.cat_blobs([f.old_blob for f in file_changes if f.old_blob])

    # The head: validated as a whole (cached for the working tree), parsed only where it changed.
    head_problems: list[Problem] = []
    relations = None
    if validate_head:
        if head_sha is None:
            if checked is None:
                checked = head_point.validation(jobs=jobs, want_relations=True)
            head_problems, relations = list(checked.problems), checked.relations
        else:
            head_problems = list(head_point.load(want_data=False, jobs=jobs).problems)
    hd = _Head(git, root, head_sha, relations)
    record_changes = [f for f in file_changes if record_of(f.path) or (f.old_path and record_of(f.old_path))]
    other_files = [f for f in file_changes if f not in record_changes]
    head_paths = [f.path for f in record_changes if f.status != "D"]
    head_bytes = hd.read_many(head_paths)
    violations: list[Problem] = []
    for p, data in head_bytes.items():
        hd.records[p] = _parse_record(p, data)
        marker = _conflicts(p, data)
        if marker is not None:
            violations.append(marker)

    records: list[RecordChange] = []
    for f in record_changes:
        old_path = f.old_path or f.path
        base_rec = _parse_record(old_path, base_blobs.get(f.old_blob)) if f.old_blob else None
        head_rec = hd.records.get(f.path) if f.status != "D" else None
        where = record_of(f.path) or record_of(old_path) or ("", f.path)
        rid = head_rec.id if head_rec else base_rec.id if base_rec else where[1]
        kind = head_rec.kind if head_rec else base_rec.kind if base_rec else where[0]
        kind_name = {"A": "added", "D": "removed", "M": "modified", "R": "renamed"}[f.status]
        old_id = base_rec.id if base_rec else (record_of(old_path) or ("", None))[1]
        if f.status == "R" and old_id == rid and record_of(old_path) and record_of(f.path) and \
                (record_of(old_path) or ("",))[0] == (record_of(f.path) or ("",))[0]:
            kind_name = "modified"
        rc = RecordChange(kind_name, rid, kind, f.path if f.status != "D" else old_path,
                          old_path if f.status == "R" else None, old_id if f.status == "R" else None,
                          base_rec.status if base_rec else None, head_rec.status if head_rec else None,
                          diff_fields(base_rec.data if base_rec else None, head_rec.data if head_rec else None),
                          base_rec, head_rec)
        records.append(rc)
    records.sort(key=lambda r: (r.kind, r.id, r.change))

    # Who needs what: one grep per level of the walk, over the head.
    dep_cache: dict[str, list[tuple[str, Record]]] = {}

    def dependents_map(ids: list[str]) -> dict[str, list[tuple[str, Record]]]:
        todo = [i for i in ids if i not in dep_cache]
        if todo:
            found = hd.dependents_of(todo)
            for i in todo:
                dep_cache[i] = found.get(i, [])
        return {i: dep_cache[i] for i in ids}

    ctx = ChangeContext(base_config, config, records, lambda rid: [r for _, r in dependents_map([rid])[rid]], today)
    retiring = [r for r in records if r.head is not None and _retiring(config, r.kind, r.new_status)]
    served = sorted({rel.target for r in retiring if r.head for rel in r.head.relations if rel.type == "supports"})
    _SERVICE_LOOKUP[id(ctx)] = hd.by_id(served) if served else {}
    try:
        for rule in RULES:
            violations.extend(rule.check(ctx))
    finally:
        _SERVICE_LOOKUP.pop(id(ctx), None)
    violations.sort(key=Problem.sort_key)

    impact = Impact(config.base_currency)
    impact.services = affected_services(records, hd, dependents_map)
    one_off = Decimal(0)
    for r in records:
        if r.change == "removed":
            continue
        delta = one_off_cost(r.head, config, impact.notes) - (one_off_cost(r.base, base_config, impact.notes) if r.base else 0)
        if delta > 0:
            one_off += delta
        impact.annual_base += annual_cost(r.base, base_config, today, impact.notes)
        impact.annual_head += annual_cost(r.head, config, today, impact.notes)
    for r in records:
        if r.change == "removed":
            impact.annual_base += annual_cost(r.base, base_config, today, impact.notes)
    impact.one_off = one_off.quantize(CENT)
    impact.annual_base = impact.annual_base.quantize(CENT)
    impact.annual_head = impact.annual_head.quantize(CENT)
    refs = sorted({ref[1] for r in records for rec in (r.base, r.head) if rec is not None
                   for ref in iter_references(rec.kind, rec.data)} - {r.id for r in records})
    neighbours = hd.by_id(refs) if refs else {}
    for deps in dep_cache.values():
        neighbours.update({d.id: d for _, d in deps})
    base_risks, source = _risks_of([r.base for r in records if r.base], neighbours, base_config, today, str(root))
    head_risks, _ = _risks_of([r.head for r in records if r.head], neighbours, config, today, str(root))
    impact.risk_source = source
    base_keys = {(f.rule, f.record) for f in base_risks}
    head_keys = {(f.rule, f.record) for f in head_risks}
    by_record = lambda f: (f.record, f.rule)  # noqa: E731
    impact.risks_introduced = sorted((f for f in head_risks if (f.rule, f.record) not in base_keys), key=by_record)
    impact.risks_resolved = sorted((f for f in base_risks if (f.rule, f.record) not in head_keys), key=by_record)
    if source == "local":
        impact.notes.append("risks: the local set (end of life or support passed while in service, no owner); "
                            "the risk report was not available")
    return ChangeReport(base_sha, head_sha, records, other_files, violations, head_problems, impact)


def affected_services(records: list[RecordChange], hd: _Head,
                      dependents_map: Callable[[list[str]], dict[str, list[tuple[str, Record]]]]) -> list[AffectedService]:
    """Every service affected directly or through relations, walking from each changed record towards
    the services that need it (its `supports` and `part_of` targets, and the records that need it)."""
    found: dict[str, tuple[str, ...]] = {}
    known: dict[str, Record] = {}
    chains: dict[str, tuple[str, ...]] = {}
    frontier: list[str] = []
    for r in records:
        for rec in (r.head, r.base):
            if rec is not None and rec.id not in chains:
                chains[rec.id] = (rec.id,)
                known[rec.id] = rec
                frontier.append(rec.id)
        # an edge removed by the change still affects the service it pointed at
        if r.base is not None and r.head is not None:
            for rel in r.base.relations:
                if rel.type in SERVES and rel.target not in chains:
                    chains[rel.target] = (r.id, rel.target)
                    frontier.append(rel.target)
    for _depth in range(MAX_WALK_DEPTH):
        if not frontier:
            break
        missing = [i for i in frontier if i not in known]
        if missing:
            known.update(hd.by_id(missing))
        deps = dependents_map(frontier)
        nxt: list[str] = []
        for rid in frontier:
            rec = known.get(rid)
            if rec is not None and rec.kind == "service" and rid not in found:
                found[rid] = chains[rid]
            ups: list[str] = []
            if rec is not None:
                ups += [rel.target for rel in rec.relations if rel.type in SERVES]
            ups += [d.id for _, d in deps.get(rid, [])]
            for _, d in deps.get(rid, []):
                known.setdefault(d.id, d)
            for up in ups:
                if up not in chains:
                    chains[up] = (*chains[rid], up)
                    nxt.append(up)
        frontier = nxt
    return [AffectedService(sid, known[sid].name if sid in known else sid, chain) for sid, chain in sorted(found.items())]


# -- rendering ------------------------------------------------------------------------------------------
MAX_RECORD_ROWS = 200
MAX_PROBLEM_ROWS = 200
MAX_MARKDOWN = 65_000


def _value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, default=str)


def _money(v: Decimal) -> str:
    return f"{v:,.2f}"


def _signed(v: Decimal) -> str:
    return ("+" if v > 0 else "") + _money(v)


def verdict(report: ChangeReport) -> str:
    n = sum(1 for p in report.violations if p.is_error)
    h = sum(1 for p in report.head_problems if p.is_error)
    if n == 0 and h == 0:
        return "✅ No policy violations"
    parts = []
    if n:
        parts.append(f"{n} policy violation{'s' if n != 1 else ''}")
    if h:
        parts.append(f"{h} validation error{'s' if h != 1 else ''} on the head")
    return "❌ " + ", ".join(parts)


def render_text(report: ChangeReport) -> str:
    c = report.counts()
    lines = [verdict(report).replace("✅ ", "").replace("❌ ", ""),
             f"records: {c['added']} added, {c['modified']} modified, {c['renamed']} renamed, {c['removed']} removed"]
    for r in report.records:
        what = f"{r.change:<8} {r.kind}/{r.id}"
        if r.change == "renamed":
            what += f" (from {r.old_path})"
        lines.append(what)
        for fc in (r.fields[:50] if r.change in ("modified", "renamed") else []):
            lines.append(f"    {fc.path}: {_value(fc.old)} -> {_value(fc.new)}")
        if r.change in ("modified", "renamed") and len(r.fields) > 50:
            lines.append(f"    … and {len(r.fields) - 50} more fields")
    for ofile in report.other_files:
        lines.append(f"{'changed':<8} {ofile.path} (configuration or schema)")
    for p in report.violations + report.head_problems:
        pos = f"{p.path}:{p.line}:{p.column}" if p.line else p.path
        lines.append(f"{pos}: {p.severity.value}: {p.message} [{p.rule}]")
    i = report.impact
    lines.append(f"one-off cost: {_money(i.one_off)} {i.currency}; annual run cost: {_money(i.annual_base)} -> "
                 f"{_money(i.annual_head)} {i.currency} ({_signed(i.annual_delta)})")
    lines.append("services affected: " + (", ".join(s.id for s in i.services) or "none"))
    for risk in i.risks_introduced:
        lines.append(f"risk introduced: {risk.message} [{risk.rule}]")
    for risk in i.risks_resolved:
        lines.append(f"risk resolved: {risk.message} [{risk.rule}]")
    for note in i.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def render_markdown(report: ChangeReport, limit: int = MAX_RECORD_ROWS) -> str:
    """A verdict line, then tables; large changes summarised to stay within a comment's 65,536 characters."""
    from bir.check.reporters import md_cell

    c = report.counts()
    i = report.impact
    out = [f"### {verdict(report)}", "",
           f"**Register change** `{report.base[:7]}` → `{report.head[:7] if report.head else 'working tree'}`: "
           f"{c['added']} added, {c['modified']} modified, {c['renamed']} renamed, {c['removed']} removed; "
           f"one-off cost **{_money(i.one_off)} {i.currency}**, annual run cost **{_signed(i.annual_delta)} {i.currency}**, "
           f"{len(i.services)} service(s) affected.", ""]
    problems = report.violations + report.head_problems
    if problems:
        out += ["#### Policy violations and head problems", "", "| file | line | rule | message |", "|---|---|---|---|"]
        for p in problems[:MAX_PROBLEM_ROWS]:
            out.append(f"| {md_cell(p.path)} | {p.line or ''} | `{md_cell(p.rule)}` | {md_cell(p.message)} |")
        if len(problems) > MAX_PROBLEM_ROWS:
            out.append(f"| … | | | and {len(problems) - MAX_PROBLEM_ROWS} more |")
        out.append("")
    if report.records:
        out += ["#### Records changed", "", "| change | record | status | fields |", "|---|---|---|---|"]
        for r in report.records[:limit]:
            status = md_cell(r.new_status or r.old_status or "")
            if r.old_status and r.new_status and r.old_status != r.new_status:
                status = f"{md_cell(r.old_status)} → {md_cell(r.new_status)}"
            shown = [f"`{md_cell(f.path)}`: {md_cell(_value(f.old))[:60]} → {md_cell(_value(f.new))[:60]}"
                     for f in r.fields[:8]] if r.change in ("modified", "renamed") else []
            if r.change in ("modified", "renamed") and len(r.fields) > 8:
                shown.append(f"… {len(r.fields) - 8} more")
            label = f"`{md_cell(r.kind)}/{md_cell(r.id)}`"
            if r.change == "renamed":
                label += f" (from `{md_cell(r.old_path or '')}`)"
            out.append(f"| {r.change} | {label} | {status} | {'<br>'.join(shown)} |")
        if len(report.records) > limit:
            out.append(f"| … | and {len(report.records) - limit} more records | | |")
        out.append("")
    if report.other_files:
        out += ["Configuration and schema files changed: " + ", ".join(f"`{md_cell(f.path)}`" for f in report.other_files), ""]
    out += ["#### Cost impact", "", f"| | {md_cell(i.currency)} |", "|---|---:|",
            f"| one-off cost | {_money(i.one_off)} |", f"| annual run cost before | {_money(i.annual_base)} |",
            f"| annual run cost after | {_money(i.annual_head)} |",
            f"| change in annual run cost | {_signed(i.annual_delta)} |", ""]
    if i.services:
        out += ["#### Services affected", "", "| service | name | through |", "|---|---|---|"]
        for s in i.services[:limit]:
            out.append(f"| `{md_cell(s.id)}` | {md_cell(s.name)} | {md_cell(' → '.join(s.via))} |")
        if len(i.services) > limit:
            out.append(f"| … | and {len(i.services) - limit} more | |")
        out.append("")
    if i.risks_introduced or i.risks_resolved:
        out += ["#### Risks", "", "| | rule | record | finding |", "|---|---|---|---|"]
        for label, items in (("introduced", i.risks_introduced), ("resolved", i.risks_resolved)):
            for f in items[:limit]:
                out.append(f"| {label} | `{md_cell(f.rule)}` | `{md_cell(f.record)}` | {md_cell(f.message)} |")
        out.append("")
    for note in i.notes:
        out.append(f"_Note: {md_cell(note)}_")
    text = "\n".join(out) + "\n"
    if len(text) > MAX_MARKDOWN and limit > 10:
        return render_markdown(report, limit=limit // 2)
    if len(text) > MAX_MARKDOWN:
        text = text[:MAX_MARKDOWN - 100] + "\n\n… (cut to fit GitHub's size limit; run `bir change` locally)\n"
    return text


def render_json(report: ChangeReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"


def problems_for_annotations(report: ChangeReport) -> list[Problem]:
    return report.violations + report.head_problems

