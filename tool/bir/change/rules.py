"""Change policy: small named rules over a change (`change.*`), each a function whose docstring is its
documentation, declared in the rule catalog like every other rule.

The base's configuration judges: its lifecycle models, requirements and settings decide what the head may
do, so a pull request cannot relax the rules it is judged by.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from bir.base.config import Config, LifecycleModel
from bir.base.model import Record, get_path, parse_date
from bir.base.problems import Problem
from bir.base.rules import Rule, define
from bir.change.model import RecordChange, RulesChange


class Lookup:
    """What the rules may ask of the head besides the changed records (filled by `bir.change.compute`)."""

    def dependants(self, record_id: str) -> list[Record]:  # records that rest on it (need, connect, contain)
        return []

    def supporters(self, service_id: str) -> list[Record]:  # records that support the service
        return []

    def record(self, record_id: str) -> Record | None:
        return None


@dataclass(slots=True)
class ChangeContext:
    config: Config  # the base's: it judges the change
    records: list[RecordChange]
    lookup: Lookup
    today: dt.date
    rules: RulesChange = field(default_factory=RulesChange)


ChangeCheck = Callable[[ChangeContext], Iterable[Problem]]


@dataclass(frozen=True, slots=True)
class ChangeRule:
    """A change rule: its catalog entry and the check that applies it."""

    base: Rule
    check: ChangeCheck

    @property
    def id(self) -> str:
        return self.base.id

    def problem(self, path: str, line: int, column: int, message: str, hint: str = "", json_path: str = "") -> Problem:
        return self.base.problem(path, line, column, message, hint, json_path)


# -- transitions ---------------------------------------------------------------------------------------
def _requirements_met(record: Record, state: str, config: Config) -> list[str]:
    """What `record` lacks of what `state` requires (by the given configuration)."""
    from bir.check.rules.lifecycle import requirement_applies

    model = config.model_for(record.kind)
    missing = []
    for req in model.requires.get(state, ()):
        if requirement_applies(record, config, req) and get_path(record.data, req.field) in (None, "", [], {}):
            missing.append(req.field)
    return missing


def shortest_path(model: LifecycleModel, old: str, new: str) -> tuple[str, ...]:
    """The shortest way from `old` to `new` through the model's transitions (empty when there is none)."""
    queue: deque[tuple[str, ...]] = deque([(old,)])
    seen = {old}
    while queue:
        path = queue.popleft()
        for nxt in sorted(model.transitions.get(path[-1], ()), key=model.order):
            if nxt == new:
                return (*path, new)
            if nxt not in seen:
                seen.add(nxt)
                queue.append((*path, nxt))
    return ()


def lifecycle_path(model: LifecycleModel, record: Record, old: str, new: str, config: Config) -> tuple[str, ...]:
    """The states the record went through from `old` to `new` in one change: the direct transition when the
    model allows it, else the shortest path whose every intermediate state the record shows it entered (its
    `status_dates` entry, on or after the state before, with what that state requires); empty when none."""
    if model.allows(old, new):
        return (old, new)
    raw = record.data.get("status_dates")
    dates = raw if isinstance(raw, dict) else {}
    queue: deque[tuple[str, ...]] = deque([(old,)])
    seen = {old}
    while queue:
        path = queue.popleft()
        last = max((d for s in path if (d := parse_date(dates.get(s))) is not None), default=None)
        for nxt in sorted(model.transitions.get(path[-1], ()), key=model.order):
            if nxt == new:
                return (*path, new)
            when = parse_date(dates.get(nxt))
            if nxt in seen or when is None or (last is not None and when < last) or _requirements_met(record, nxt, config):
                continue
            seen.add(nxt)
            queue.append((*path, nxt))
    return ()


def check_transition(ctx: ChangeContext) -> Iterator[tuple[str, str, str, str]]:
    """A status change follows the base's lifecycle model: the head state is reachable from the base state,
    directly or through states the record shows it entered in this change (each dated in `status_dates`, in
    order, with what that state requires); the report shows the path taken.

    Passes: a laptop `in_use` -> `disposed` with `status_dates.retired`, `retirement.reason`, then its disposal
      and sanitisation evidence (in_use -> retired -> disposed).
    Fails:  hardware `in_use` -> `disposed` with no sign that it was ever retired.
    """
    for rc in ctx.records:
        if rc.change in ("added", "removed") or rc.old_status is None or rc.new_status is None or rc.head is None:
            continue
        if rc.old_status == rc.new_status or rc.kind not in ctx.config.kind_model:
            continue
        model = ctx.config.model_for(rc.kind)
        if rc.old_status not in model.states or rc.new_status not in model.states:
            continue
        path = lifecycle_path(model, rc.head, rc.old_status, rc.new_status, ctx.config)
        if path:
            rc.path_taken = path if len(path) > 2 else ()
            continue
        allowed = sorted(model.transitions.get(rc.old_status, ()))
        way = shortest_path(model, rc.old_status, rc.new_status)
        through = (f"; to go {' -> '.join(way)} in one change, date each state on the way in status_dates, with what "
                   "it requires" if way else "")
        yield (rc.path, f"{rc.id}: status '{rc.old_status}' -> '{rc.new_status}' is not a transition of the "
                        f"'{model.name}' lifecycle model",
               f"from '{rc.old_status}' go to one of: {', '.join(allowed) or 'nothing (final state)'}{through}", "/status")


def check_requires(ctx: ChangeContext) -> Iterator[tuple[str, str, str, str]]:
    """Entering a state brings what the state requires (`requires` in the base's bir.yaml): a retirement its
    date and reason, a disposal of a data-bearing device its sanitisation evidence.

    Passes: `in_use` -> `retired` with `status_dates.retired` and `retirement.reason`.
    Fails:  `retired` -> `disposed` of a server without `sanitisation.certificate`.
    """
    from bir.check.rules.lifecycle import state_requirements

    for rc in ctx.records:
        if rc.head is None or rc.new_status == rc.old_status or rc.kind not in ctx.config.kind_model:
            continue
        if rc.head.status not in ctx.config.model_for(rc.kind).states:
            continue
        for f in state_requirements(rc.head, ctx.config, ctx.today):
            yield (rc.path, f"{rc.id}: {f.message}", f.hint, f.json_path)


def check_removed(ctx: ChangeContext) -> Iterator[tuple[str, str, str, str]]:
    """A record leaves the register only through its final state; its file stays, holding the record, as
    history. Deleting the file, or emptying it (`~`, `null`, `---`, a list), removes the record.

    Passes: hardware set to `disposed` (with its evidence), the file kept.
    Fails:  `registry/hardware/srv-web-01.yaml` deleted, or its content replaced by `~`.
    """
    for rc in ctx.records:
        if rc.change == "removed":
            model = ctx.config.model_for(rc.kind) if rc.kind in ctx.config.kind_model else None
            final = ", ".join(sorted(model.final)) if model else "its final state"
            how = "emptied: the file no longer holds a record" if rc.emptied else "removed from the register"
            yield (rc.path, f"{rc.id}: record {how}",
                   f"restore the record and set its status to {final} instead; the file stays as history", "")


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


def retiring(config: Config, kind: str, status: str | None) -> bool:
    """Leaving service for good: the final states of its model, or `retired`."""
    if status is None or kind not in config.kind_model:
        return False
    model = config.model_for(kind)
    return status in model.final or status == "retired"


def in_service(config: Config, record: Record) -> bool:
    return record.kind in config.kind_model and record.status in config.model_for(record.kind).in_service


def _minimum(config: Config, group: str) -> int:
    settings = (config.redundancy.get("groups") or {}).get(group)
    value = settings.get("minimum") if isinstance(settings, dict) else None
    return value if isinstance(value, int) and value >= 1 else 1


def _covered_by_pool(config: Config, record: Record, peers: list[Record]) -> int | None:
    """How many in-service peers of `record`'s redundancy group are among `peers`, when that is enough for the
    group's minimum (None: the record has no group, or too few peers are left)."""
    group = record.data.get("redundancy_group")
    if not isinstance(group, str):
        return None
    left = sum(1 for p in peers if p.id != record.id and p.data.get("redundancy_group") == group and in_service(config, p))
    return left if left >= _minimum(config, group) else None


def check_retire_in_use(ctx: ChangeContext) -> Iterator[tuple[str, str, str, str]]:
    """Retiring or disposing a record that in-service records still rest on (they need it, connect to it, or
    are contained in it), or that supports a service still in service, unless its redundancy group covers
    for it: a member of a pool may go while at least the group's minimum of in-service peers
    (`redundancy.groups.<name>.minimum` in bir.yaml, default 1) serve the same record.

    Passes: retiring one of 58 laptops in `redundancy_group: workplace-laptops` (minimum 45) that support
      the workplace service.
    Fails:  retiring `srv-db-01` while active software `runs_on` it.
    """
    changed = {rc.id: rc.head for rc in ctx.records if rc.head is not None}
    for rc in ctx.records:
        if rc.head is None or not retiring(ctx.config, rc.kind, rc.new_status) or retiring(ctx.config, rc.kind, rc.old_status):
            continue
        needed: list[str] = []
        for user in ctx.lookup.dependants(rc.id):
            user = changed.get(user.id, user)
            if not in_service(ctx.config, user):
                continue
            peers = [p for t in _needs_of(user) if (p := changed.get(t) or ctx.lookup.record(t)) is not None]
            if _covered_by_pool(ctx.config, rc.head, peers) is None:
                needed.append(user.id)
        for sid in sorted({rel.target for rel in rc.head.relations if rel.type == "supports"} - set(needed)):
            service = changed.get(sid) or ctx.lookup.record(sid)
            if service is None or not in_service(ctx.config, service):
                continue
            peers = [changed.get(p.id, p) for p in ctx.lookup.supporters(sid)]
            if _covered_by_pool(ctx.config, rc.head, peers) is None:
                needed.append(sid)
        if needed:
            needed = sorted(set(needed))
            shown = ", ".join(needed[:10]) + (f" and {len(needed) - 10} more" if len(needed) > 10 else "")
            yield (rc.path, f"{rc.id}: set to '{rc.new_status}' while in-service records still rest on it: {shown}",
                   "move or retire the dependants first, remove their relations to it in this change, or put it in a "
                   "redundancy group whose other members cover for it", "/status")


def _needs_of(record: Record) -> list[str]:
    from bir.reports.graph import rests_on_edges

    return rests_on_edges(record)


def check_rules_alone(ctx: ChangeContext) -> Iterator[tuple[str, str, str, str]]:
    """With `change.rules_alone: true` in the base's bir.yaml, a change to the rules (bir.yaml, schemas/,
    site/mkdocs.yml, .github/) comes on its own, without record changes, so each is reviewed for what it is.

    Passes: a pull request that only adds a lifecycle state to bir.yaml.
    Fails:  a pull request that relaxes `requires` in bir.yaml and disposes of a laptop.
    """
    edited = [r for r in ctx.records if r.fields or r.change != "modified"]  # a file only reformatted changes no record
    if not ctx.rules or not edited or not (ctx.config.raw.get("change") or {}).get("rules_alone"):
        return
    files = ", ".join(f.path for f in ctx.rules.files)
    yield (ctx.rules.files[0].path, f"the change edits the rules ({files}) and {len(edited)} record(s) together",
           "split it: merge the rules change first, then the records (change.rules_alone is set in bir.yaml)", "")


def _rule(rule_id: str, summary: str, fn: Callable[[ChangeContext], Iterable[tuple[str, str, str, str]]]) -> ChangeRule:
    base = define(rule_id, "error", "change", summary, fn.__doc__ or summary)

    def check(ctx: ChangeContext) -> Iterator[Problem]:
        for path, message, hint, json_path in fn(ctx):
            yield base.problem(path, 0, 0, message, hint, json_path)

    return ChangeRule(base, check)


TRANSITION = _rule("change.transition", "status changes follow the lifecycle model", check_transition)
REQUIRES = _rule("change.requires", "a new state brings what it requires", check_requires)
REMOVED = _rule("change.removed", "records are never deleted or emptied", check_removed)
RENAMED = _rule("change.renamed", "ids never change", check_renamed)
RETIRE_IN_USE = _rule("change.retire-in-use", "nothing still in service rests on a retired record", check_retire_in_use)
RULES_ALONE = _rule("change.rules-alone", "rules changes come without record changes (when required)", check_rules_alone)
RULES: list[ChangeRule] = [TRANSITION, REQUIRES, REMOVED, RENAMED, RETIRE_IN_USE, RULES_ALONE]
CONFLICT = define("change.conflict", "error", "change", "no merge conflict markers", """
    A changed record file still holds git's merge conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`).

    Passes: the conflict resolved, one version of the lines kept.
    Fails:  a line `<<<<<<< HEAD` left in `registry/hardware/srv-01.yaml`.
    """)
NEW_RISK = define("change.new-risk", "error", "change", "the change brings no new unwaived risk at the blocking severity", """
    The impact of the change (base against head, over everything it can affect) shows a new risk finding
    at or above `change.block_on_risk` in the base's bir.yaml (default `high`) that no waiver covers: a new
    single point of failure of a critical service, a licence over-deployed into a true-up, a component of a
    critical service left without support. Accept it deliberately with a waiver record in the change.

    Passes: retiring one of three redundant web servers of a critical service.
    Fails:  retiring one of two, which leaves the other a single point of failure.
    """)
SITE_CONFIG = define("change.site-config", "error", "change", "the site configuration runs no code unless allowed", """
    `site/mkdocs.yml` may not use options that run code or load templates (`hooks`, `plugins` other than
    search, `theme.custom_dir`, Markdown extensions outside the built-in set) unless the base's bir.yaml
    allows them under `site.allow`.

    Passes: `site/mkdocs.yml` that sets the site name and the palette.
    Fails:  `hooks: [site/evil.py]` in `site/mkdocs.yml`.
    """)
