"""Lifecycle rules: a record's status is a state of its kind's model, with what that state requires."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bir.base.model import get_path
from bir.base.problems import Severity
from bir.check.rules import Finding, rule

if TYPE_CHECKING:
    import datetime as dt

    from bir.base.config import Config, Requirement
    from bir.base.model import Record


def known_state(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """`status` is a state of the lifecycle model configured for the record's kind, and every key of
    `status_dates` is a state of that model too.

    Passes: hardware with `status: in_use` (model `physical`).
    Fails:  hardware with `status: active` (`active` is a state of `intangible`, not `physical`).
    """
    model = config.model_for(record.kind)
    if record.status not in model.states:
        import difflib

        close = difflib.get_close_matches(record.status, model.states, n=1)
        yield Finding("/status", f"status '{record.status}' is not a state of the '{model.name}' lifecycle model",
                      f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(model.states)}")
    dates = record.data.get("status_dates") or {}
    for state in dates:
        if state not in model.states:
            yield Finding(f"/status_dates/{state}", f"status_dates names '{state}', which is not a state of the '{model.name}' model",
                          f"use one of: {', '.join(model.states)}")


def state_requirements(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """A state may require fields (configured under `requires` in `bir.yaml`), some only when another
    field has a value: disposing of a data-bearing device requires sanitisation evidence.

    Passes: `status: disposed` with `disposal` and, as `data_bearing: true`, `sanitisation` method, date and certificate.
    Fails:  `status: disposed`, `data_bearing: true`, no `sanitisation.certificate`.
    """
    model = config.model_for(record.kind)
    for req in model.requires.get(record.status, ()):
        if not requirement_applies(record, config, req):
            continue
        if get_path(record.data, req.field) in (None, "", [], {}):
            why = f" (required when {', '.join(f'{k} is {v}' for k, v in req.when).replace('True', 'true')})" if req.when else ""
            yield Finding("/status",
                          f"status '{record.status}' requires {req.field}{why}",
                          f"add `{req.field}` to the record, or keep the previous status until it is known")


def requirement_applies(record: Record, config: Config, req: Requirement) -> bool:
    """Whether a requirement applies to the record: every `when` condition holds (data-bearing from the record,
    else from its class)."""
    return all(_effective(record, config, k) == v for k, v in req.when)


def _effective(record: Record, config: Config, field: str) -> object:
    value = get_path(record.data, field)
    if value is None and field == "data_bearing" and record.kind == "hardware":
        return record.data.get("class") in config.data_bearing_classes
    return value


LIFECYCLE_STATE = rule("lifecycle.state", Severity.ERROR, "status is a state of the kind's lifecycle model", None, record=known_state)
LIFECYCLE_REQUIRES = rule("lifecycle.requires", Severity.ERROR, "a state's required fields are present", None, record=state_requirements)
RULES = [LIFECYCLE_STATE, LIFECYCLE_REQUIRES]
