"""`bir change`: a pull request seen as a CHM change — what it changes, which policy it breaks, its impact.

The head is compared with the merge base of `--base` and the head (what the pull request itself changes,
however far behind the base branch it is). The base is read from git (no checkout); the head is the working
tree (validated by the normal, cached loader) or another commit. The base's rules judge the head: its
configuration decides the policy, and when the change edits the rules the head's records must pass both
the base's rules and its own. Only the files the change touches are parsed from the base, and the impact
reads the neighbourhood of the changed records only (`bir.change.impact`), so the cost follows the size
of the change rather than the size of the register.
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from bir.base.diff import FieldChange, diff_fields
from bir.base.layout import CONFIG_FILE, SCHEMA_DIR, SITE_CONFIG, record_of
from bir.base.model import Record
from bir.base.problems import Problem, Summary, UsageError
from bir.cache.validation import Validation
from bir.change.impact import NEEDS, compute_impact
from bir.change.model import ChangeReport, RecordChange, RiskFinding, RulesChange
from bir.change.rules import CONFLICT, NEW_RISK, RULES, ChangeContext, Lookup
from bir.change.rules import SITE_CONFIG as SITE_CONFIG_RULE
from bir.change.side import Base, Head, holds_no_record, parse_record
from bir.check.checker import load
from bir.git.plumbing import FileChange, Git
from bir.point.point import Point, at_commit, at_worktree
from bir.read.files import discover
from bir.read.siteconfig import dangerous_options
from bir.read.yamlstrict import parse

RULE_FILES = (CONFIG_FILE, SCHEMA_DIR, SITE_CONFIG, ".github")  # what a change of the rules touches
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


def _conflicts(path: str, data: bytes | None) -> Problem | None:
    if data is None:
        return None
    for n, line in enumerate(data.split(b"\n"), 1):
        if line.startswith((b"<<<<<<< ", b">>>>>>> ")) or line.rstrip(b"\r") in (b"<<<<<<<", b"=======", b">>>>>>>"):
            return CONFLICT.problem(path, n, 1, "unresolved merge conflict marker",
                         "resolve the conflict: keep one version of the lines between the markers, remove the markers")
    return None


def _worktree_changes(git: Git, head: Point, base_sha: str, validate: bool, head_now: str | None,
                      tracked_now: Future[list[FileChange]] | None,
                      jobs: int | None = None) -> tuple[list[FileChange], Validation | None]:
    """The working tree's changes against `base_sha`, and its validation when `validate`.

    A cached validation is taken when git shows that the working tree is still what was validated (then
    nothing is listed: the cost follows the change). Else the working tree is validated first, which keeps a
    snapshot of it: git shows through that snapshot too that a clean checkout (as in CI) is HEAD's tree, and
    the change is read between two commits, without git's stat of every file against the base. `tracked_now`
    is git's diff of HEAD (`head_now`) against the working tree, under way."""
    from bir.cache.validation import validate_worktree
    from bir.git.worktree import Tracked

    if head_now is None or tracked_now is None:  # no commit yet on this branch
        return git.diff(base_sha, None), None
    found = validate_worktree(head.root, head.rules, git, tracked_now.result) if validate else None
    validated = None
    if found is None and validate:
        tracked_now.result()  # git's answer in hand first: a validation of many files forks its workers
        validated = head.validation(jobs=jobs, want_relations=True, tracked=Tracked(head_now, tracked_now.result))
        found = validate_worktree(head.root, head.rules, git, tracked_now.result)
    tracked = tracked_now.result()
    if found is None:
        if head_now == base_sha:
            return tracked + [FileChange("A", p) for p in git.untracked()], validated
        return git.diff(base_sha, None), validated
    checked, untracked = found
    checked = validated or checked  # the run just made: its problems include the point's warnings
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


class _Lookup(Lookup):
    def __init__(self, head: Head) -> None:
        self.head = head

    def dependants(self, record_id: str) -> list[Record]:
        from bir.change.impact import _dependants

        known = self.head.by_id([record_id])
        return _dependants(self.head, [record_id], known).get(record_id, [])

    def supporters(self, service_id: str) -> list[Record]:
        return [r for _t, r in self.head.pointing_at([service_id], frozenset({"supports"})).get(service_id, [])]

    def record(self, record_id: str) -> Record | None:
        return self.head.by_id([record_id]).get(record_id)


def _rules_change(git: Git, base_sha: str, head: Point, changes: list[FileChange]) -> RulesChange:
    """The rules files the change touches, with bir.yaml and the schemas diffed field by field."""
    files = [f for f in changes if any(f.path == p or f.path.startswith(p + "/") or (f.old_path or "").startswith(p + "/")
                                       for p in RULE_FILES)]
    rc = RulesChange(files=files)
    if not files:
        return rc
    base_files = git.cat_blobs(f.old_blob for f in files if f.old_blob)
    head_files = head.read_many(f.path for f in files if f.status != "D")
    for f in files:
        before = base_files.get(f.old_blob) if f.old_blob else None
        after = head_files.get(f.path) if f.status != "D" else None
        if f.path == CONFIG_FILE:
            rc.config = diff_fields(_yaml(before), _yaml(after))
        elif f.path.startswith(SCHEMA_DIR + "/") and f.path.endswith(".json"):
            rc.schemas[f.path] = diff_fields(_json(before), _json(after))
    return rc


def _yaml(data: bytes | None) -> dict[str, Any] | None:
    value = parse(data, CONFIG_FILE).value if data is not None else None
    return value if isinstance(value, dict) else None


def _json(data: bytes | None) -> dict[str, Any] | None:
    try:
        value = json.loads(data) if data is not None else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _under_base_rules(root: Path, head: Point, base: Point, head_problems: list[Problem], jobs: int | None) -> list[Problem]:
    """The head's problems by the base's rules that its own rules do not find (the change relaxed them)."""
    rules = base.rules
    if head.commit is None:
        candidates, found = discover(root)
        result = load(root, rules, candidates, found, want_data=False, jobs=jobs)
    else:
        result = head.load(want_data=False, jobs=jobs, rules=rules)
    own = {(p.path, p.rule, p.message) for p in head_problems}
    return [p for p in result.problems if (p.path, p.rule, p.message) not in own]


def _site_config(head: Point, base: Point) -> list[Problem]:
    data = head.read_many([SITE_CONFIG]).get(SITE_CONFIG)
    if data is None:
        return []
    allowed = set(((base.config.raw.get("site") or {}).get("allow")) or ())
    return [SITE_CONFIG_RULE.problem(SITE_CONFIG, 0, 0, f"{option} runs code or loads templates, and the base's bir.yaml "
                                     "does not allow it", f"remove it, or allow it under site.allow in bir.yaml ({key})")
            for key, option in dangerous_options(data) if key not in allowed]


def _blocking(findings: list[RiskFinding], config: Any) -> list[RiskFinding]:
    level = str((config.raw.get("change") or {}).get("block_on_risk", "high"))
    if level == "none":
        return []
    limit = SEVERITY_RANK.get(level, 0)
    return [f for f in findings if SEVERITY_RANK.get(f.severity, 9) <= limit]


# The files outside the register a change is also judged by: the site's configuration, the workflows, the feeds.
OTHER_PATHS = (SITE_CONFIG, ".github", "feeds")


def compute_change(root: Path, base: str, head: str | None = None, *, today: dt.date | None = None,
                   validate_head: bool = True, jobs: int | None = None) -> ChangeReport:
    """Compare the head (a commit, or None for the working tree) with its merge base with `base`."""
    today = today or dt.date.today()
    git = Git(root)
    base_tip = git.resolve(base)
    head_sha = git.resolve(head) if head is not None else None
    against = head_sha or git.head()
    base_sha = base_tip
    if against is not None:
        found_base = git.merge_base(base_tip, against)
        if found_base is None:
            raise UsageError(f"'{base}' and the head share no history; give the branch the change was made from")
        base_sha = found_base
    checked = None
    if head_sha is None:
        from concurrent.futures import ThreadPoolExecutor

        # git compares the working tree with HEAD (a stat of every file, in C) and the base with the working
        # tree's other files while this process reads the configuration and loads the models the impact needs.
        with ThreadPoolExecutor(2) as pool:
            tracked = pool.submit(git.diff_tracked, against, None) if against is not None else None
            others = pool.submit(git.diff, base_sha, None, OTHER_PATHS)
            head_point = at_worktree(root, today)
            extra = others.result()  # before the validation, which may fork (no thread of git's then in flight)
            file_changes, checked = _worktree_changes(git, head_point, base_sha, validate_head, against, tracked, jobs)
        file_changes = _pair_untracked_renames(git, root, file_changes)
    else:
        file_changes = git.diff(base_sha, head_sha)
        head_point = at_commit(root, git, head_sha, today)
        extra = git.diff(base_sha, head_sha, OTHER_PATHS)
    base_point = at_commit(root, git, base_sha, today)
    base_config = base_point.config
    rules = _rules_change(git, base_sha, head_point, file_changes + extra)

    # The head: validated as a whole (cached for the working tree), parsed only where it changed.
    head_problems: list[Problem] = []
    base_rule_problems: list[Problem] = []
    head_summary: Summary | None = None
    relations = None
    if validate_head:
        if head_sha is None:
            if checked is None:
                checked = head_point.validation(jobs=jobs, want_relations=True)
            head_problems, relations, head_summary = list(checked.problems), checked.relations, checked.summary
        else:
            loaded = head_point.load(want_data=False, jobs=jobs)
            head_problems, head_summary = list(loaded.problems), loaded.summary()
        if any(f.path == CONFIG_FILE or f.path.startswith(SCHEMA_DIR + "/") for f in rules.files):
            base_rule_problems = _under_base_rules(root, head_point, base_point, head_problems, jobs)
    hd = Head(git, root, head_sha, relations)
    record_changes = [f for f in file_changes if record_of(f.path) or (f.old_path and record_of(f.old_path))]
    other_files = [f for f in file_changes + extra if f not in record_changes and f not in rules.files]
    head_bytes = hd.read_many(f.path for f in record_changes if f.status != "D")
    violations: list[Problem] = []
    for p, data in head_bytes.items():
        hd.records[p] = parse_record(p, data)
        marker = _conflicts(p, data)
        if marker is not None:
            violations.append(marker)
    base_blobs = git.cat_blobs([f.old_blob for f in record_changes if f.old_blob])
    empty = {p for p, data in head_bytes.items() if holds_no_record(p, data)}
    records, changed = _record_changes(record_changes, hd, base_blobs, empty)
    base_side = Base(hd, changed)

    ctx = ChangeContext(base_config, records, _Lookup(hd), today, rules)
    for rule in RULES:
        violations.extend(rule.check(ctx))
    violations.extend(_site_config(head_point, base_point))

    impact = compute_impact(root, records, hd, base_side, base_config, today, head_point.feeds, base_point.feeds)
    blocking = _blocking(impact.risks_introduced, base_config)
    for f in blocking:
        known = next((r.path for r in records if r.id == f.record), None) or getattr(hd.by_id([f.record]).get(f.record), "path", None)
        where = known or (records[0].path if records else "")
        violations.append(NEW_RISK.problem(where, 0, 0, f"new {f.severity} risk {f.rule} on {f.record}: {f.message}",
                                           "fix it in this change, or accept it with a waiver record (rule, record, "
                                           "expires, approver)"))
    violations.sort(key=Problem.sort_key)
    return ChangeReport(base_sha, head_sha, records, other_files, violations, head_problems, impact, base_ref=base,
                        base_tip=base_tip, rules=rules, base_rule_problems=base_rule_problems, blocking_risks=blocking,
                        required_fields=base_config.change_required_fields, head_summary=head_summary)


def _record_changes(record_changes: list[FileChange], hd: Head, base_blobs: dict[str, bytes | None],
                    empty: set[str]) -> tuple[list[RecordChange], dict[str, Record | None]]:
    """The changed records, and the base's version of every changed path (None: no record there)."""
    records: list[RecordChange] = []
    changed: dict[str, Record | None] = {}
    for f in record_changes:
        old_path = f.old_path or f.path
        base_rec = parse_record(old_path, base_blobs.get(f.old_blob)) if f.old_blob else None
        head_rec = hd.records.get(f.path) if f.status != "D" else None
        changed[old_path] = base_rec
        changed.setdefault(f.path, None if f.path != old_path else base_rec)
        where = record_of(f.path) or record_of(old_path) or ("", f.path)
        rid = head_rec.id if head_rec else base_rec.id if base_rec else where[1]
        kind = head_rec.kind if head_rec else base_rec.kind if base_rec else where[0]
        kind_name = {"A": "added", "D": "removed", "M": "modified", "R": "renamed"}[f.status]
        emptied = f.status != "D" and f.path in empty and base_rec is not None
        if emptied:
            kind_name = "removed"
        old_id = base_rec.id if base_rec else (record_of(old_path) or ("", None))[1]
        if kind_name == "renamed" and old_id == rid and record_of(old_path) and record_of(f.path) and \
                (record_of(old_path) or ("",))[0] == (record_of(f.path) or ("",))[0]:
            kind_name = "modified"
        records.append(RecordChange(kind_name, rid, kind, f.path if f.status != "D" else old_path,
                                    old_path if f.status == "R" else None, old_id if f.status == "R" else None,
                                    base_rec.status if base_rec else None, head_rec.status if head_rec else None,
                                    diff_fields(base_rec.data if base_rec else None, head_rec.data if head_rec else None),
                                    base_rec, head_rec, emptied=emptied))
    records.sort(key=lambda r: (r.kind, r.id, r.change))
    return records, changed


__all__ = ["NEEDS", "FieldChange", "compute_change"]
