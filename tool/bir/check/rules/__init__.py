"""Validation rules: each a small module with an id, a severity and a docstring that is its documentation.

A record rule sees one record (it runs in the worker that parsed the file); a register rule sees the
index of every record. Both yield `Finding`s; the framework turns them into positioned `Problem`s.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from bir.base.problems import Problem, Severity
from bir.base.rules import Rule as BaseRule
from bir.base.rules import define

if TYPE_CHECKING:
    import datetime as dt

    from bir.base.config import Config
    from bir.base.model import Record


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found: the field (JSON path), the message, the fix; `path` only when not the record's own file."""

    json_path: str
    message: str
    hint: str = ""
    path: str | None = None


class RecordFacts(NamedTuple):
    """The little a register rule needs of each record (a tuple: it crosses process boundaries by the
    hundred thousand, and tuples pickle far faster than objects)."""

    id: str
    kind: str
    path: str
    status: str
    references: tuple[tuple[str, str, frozenset[str], str], ...]  # (json path, target, allowed kinds, label)
    part_of: tuple[str, ...]
    member_of: tuple[str, ...]
    redundancy_group: str | None
    party_type: str | None = None  # parties: person, team, supplier, cost_centre, ...
    stores: tuple[str, ...] = ()  # the information records it `stores`
    personal_data: bool = False  # information: holds personal data
    data_bearing: bool | None = None  # hardware: as written (None: not given, the class decides)
    sanitised: bool = False  # hardware: sanitisation method, date and certificate all given
    hw_class: str | None = None


def link_of(label: str) -> str | None:
    """How a reference of this label ties a record into the register: the relation's type (`relation
    supports` -> `supports`), `installed_on` for an installation (software rests on its host), `""` for a
    licence's `software` and a device's holder (`assigned_to`), which tie it in without being a relation;
    None for a reference that does not (an owner, a supplier, a cost centre...).

    Register rules ask it for every reference of every record (700,000 at 100,000 records): the answer
    for each label is kept, and a register has a few dozen labels."""
    found = _LINKS.get(label, _UNSEEN)
    if found is not _UNSEEN:
        return found  # type: ignore[return-value]
    if label.startswith("relation "):
        found = label[len("relation "):]
    elif label.startswith("installations["):
        found = "installed_on"
    elif label in ("software", "assigned_to"):
        found = ""
    else:
        found = None
    if len(_LINKS) < 10_000:  # labels come from the schemas and from indices: bounded, but never trusted to be
        _LINKS[label] = found
    return found  # type: ignore[return-value]


_LINKS: dict[str, object] = {}
_UNSEEN = object()


RecordCheck = Callable[["Record", "Config", "dt.date"], Iterable[Finding]]
RegisterCheck = Callable[[dict[str, list[RecordFacts]], "Config"], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A validation rule: its catalog entry (id, severity, documentation) and the check that applies it."""

    base: BaseRule
    record_check: RecordCheck | None = None
    register_check: RegisterCheck | None = None

    @property
    def id(self) -> str:
        return self.base.id

    @property
    def severity(self) -> Severity:
        return Severity(self.base.severity)

    @property
    def summary(self) -> str:
        return self.base.summary

    @property
    def doc(self) -> str:
        return self.base.doc

    def problem(self, path: str, line: int, column: int, message: str, hint: str = "", json_path: str = "") -> Problem:
        return self.base.problem(path, line, column, message, hint, json_path)


def _discover() -> list[Rule]:
    rules: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module: Any = importlib.import_module(f"{__name__}.{info.name}")
        for rule in getattr(module, "RULES", ()):
            rules.append(rule)
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)), f"duplicate rule ids: {ids}"
    return rules




def rule(rule_id: str, severity: Severity, summary: str, doc: str | None,
         *, record: RecordCheck | None = None, register: RegisterCheck | None = None) -> Rule:
    """Declare a rule; its documentation is the checking function's (or module's) docstring."""
    fn: Any = record or register
    text = (fn.__doc__ if fn is not None and fn.__doc__ else doc) or summary
    scope = "record" if record is not None else "register"
    return Rule(define(rule_id, severity.value, scope, summary, text), record, register)


def check_record(record: Record, config: Config, day: dt.date) -> Iterator[Problem]:
    for r in RECORD_RULES:
        assert r.record_check is not None
        for f in r.record_check(record, config, day):
            yield r.base.problem(f.path or record.path, 0, 0, f.message, f.hint, f.json_path)


def check_register(index: dict[str, list[RecordFacts]], config: Config) -> Iterator[Problem]:
    from bir.check.rules.refpass import shared_pass

    with shared_pass(index):  # the rules over references read them in one pass
        for r in REGISTER_RULES:
            assert r.register_check is not None
            for f in r.register_check(index, config):
                yield r.base.problem(f.path or "", 0, 0, f.message, f.hint, f.json_path)


RULES: list[Rule] = _discover()
RECORD_RULES = [r for r in RULES if r.record_check is not None]
REGISTER_RULES = [r for r in RULES if r.register_check is not None]
