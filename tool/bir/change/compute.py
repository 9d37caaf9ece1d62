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
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bir.base.config import Config
from bir.base.diff import diff_fields
from bir.base.layout import RECORD_DIR, record_of
from bir.base.model import KINDS, Record, Register, iter_references
from bir.base.problems import Problem
from bir.cache.relations import CacheDamaged, Relations
from bir.cache.validation import Validation
from bir.change.model import AffectedService, ChangeReport, Impact, RecordChange, RiskFinding
from bir.change.rules import CONFLICT, RULES, ChangeContext, _retiring
from bir.git.plumbing import FileChange, Git
from bir.read.yamlstrict import parse
from bir.reports.context import build_context
from bir.reports.risk import risk_report

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
def risks_of(records: list[Record], neighbours: dict[str, Record], config: Config, today: dt.date,
             root: str) -> set[RiskFinding]:
    """The risk report's findings on the changed records.

    The report runs on a small register: the changed records and the records they refer to, so its
    cost follows the change. Findings are kept for the changed records only.
    """
    reg = Register(root, config, dict(neighbours))
    reg.records.update({r.id: r for r in records})
    report = risk_report(build_context(reg, today, {}))
    ids = {r.id for r in records}
    return {RiskFinding(f.rule, f.record, f.message) for f in report.findings if f.record in ids}


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
            return CONFLICT.problem(path, n, 1, "unresolved merge conflict marker",
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

    retiring = [r for r in records if r.head is not None and _retiring(config, r.kind, r.new_status)]
    served = sorted({rel.target for r in retiring if r.head for rel in r.head.relations if rel.type == "supports"})
    ctx = ChangeContext(base_config, config, records, lambda rid: [r for _, r in dependents_map([rid])[rid]], today,
                        hd.by_id(served) if served else {})
    for rule in RULES:
        violations.extend(rule.check(ctx))
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
    base_risks = risks_of([r.base for r in records if r.base], neighbours, base_config, today, str(root))
    head_risks = risks_of([r.head for r in records if r.head], neighbours, config, today, str(root))
    base_keys = {(f.rule, f.record) for f in base_risks}
    head_keys = {(f.rule, f.record) for f in head_risks}
    by_record = lambda f: (f.record, f.rule)  # noqa: E731
    impact.risks_introduced = sorted((f for f in head_risks if (f.rule, f.record) not in base_keys), key=by_record)
    impact.risks_resolved = sorted((f for f in base_risks if (f.rule, f.record) not in head_keys), key=by_record)
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


