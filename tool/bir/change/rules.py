"""Change policy: small named rules over a change (`change.*`), each a function whose docstring is its
documentation, declared in the rule catalog like every other rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bir.base.config import Config
from bir.base.model import Record
from bir.base.problems import Problem
from bir.base.rules import Rule, define
from bir.change.model import RecordChange


@dataclass(slots=True)
class ChangeContext:
    base_config: Config
    config: Config
    records: list[RecordChange]
    dependents: Callable[[str], list[Record]]  # head records whose relations need the given id
    today: dt.date
    services: dict[str, Record]  # the head's services that records retired by the change support


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
    rec = ctx.services.get(service_id)
    return rec is not None and _in_service(ctx.config, rec)


def _rule(rule_id: str, summary: str, fn: Callable[[ChangeContext], Iterable[tuple[str, str, str, str]]]) -> ChangeRule:
    base = define(rule_id, "error", "change", summary, fn.__doc__ or summary)

    def check(ctx: ChangeContext) -> Iterator[Problem]:
        for path, message, hint, json_path in fn(ctx):
            yield base.problem(path, 0, 0, message, hint, json_path)

    return ChangeRule(base, check)


TRANSITION = _rule("change.transition", "status changes follow the lifecycle model", check_transition)
REQUIRES = _rule("change.requires", "a new state brings what it requires", check_requires)
REMOVED = _rule("change.removed", "records are never deleted", check_removed)
RENAMED = _rule("change.renamed", "ids never change", check_renamed)
RETIRE_IN_USE = _rule("change.retire-in-use", "nothing still in service depends on a retired record", check_retire_in_use)
RULES: list[ChangeRule] = [TRANSITION, REQUIRES, REMOVED, RENAMED, RETIRE_IN_USE]
CONFLICT = define("change.conflict", "error", "change", "no merge conflict markers", """
    A changed record file still holds git's merge conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`).

    Passes: the conflict resolved, one version of the lines kept.
    Fails:  a line `<<<<<<< HEAD` left in `registry/hardware/srv-01.yaml`.
    """)


