"""Relation rules on one record: the relation type fits the record's kind, and says something."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bir.base.model import RELATION_TYPES
from bir.base.problems import Severity
from bir.check.rules import Finding, rule

if TYPE_CHECKING:
    import datetime as dt

    from bir.base.config import Config
    from bir.base.model import Record


def relation_source(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """A relation type is only used from the kinds it is defined for (see the data model's relation table).

    Passes: software with `{type: installed_on, target: srv-db-01}`.
    Fails:  a contract with `{type: installed_on, target: srv-db-01}`.
    """
    for i, rel in enumerate(record.relations):
        rtype = RELATION_TYPES.get(rel.type)
        if rtype is not None and record.kind not in rtype.sources:
            yield Finding(f"/relations/{i}/type", f"a {record.kind} record cannot have a '{rel.type}' relation",
                          f"'{rel.type}' is for {', '.join(sorted(rtype.sources))}; pick the relation that says what you mean")


def relation_self(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """A record does not relate to itself.

    Passes: `srv-web-01` with `{type: depends_on, target: srv-db-01}`.
    Fails:  `srv-web-01` with `{type: depends_on, target: srv-web-01}`.
    """
    for i, rel in enumerate(record.relations):
        if rel.target == record.id:
            yield Finding(f"/relations/{i}/target", f"relation '{rel.type}' points at the record itself",
                          "point it at the other record, or remove it")


def relation_duplicate(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """The same relation (type and target) is listed once.

    Passes: one `{type: supports, target: svc-erp}`.
    Fails:  `{type: supports, target: svc-erp}` twice.
    """
    seen: set[tuple[str, str]] = set()
    for i, rel in enumerate(record.relations):
        key = (rel.type, rel.target)
        if key in seen:
            yield Finding(f"/relations/{i}", f"relation '{rel.type}' to '{rel.target}' is listed twice", "remove the second one")
        seen.add(key)


RELATION_SOURCE_KIND = rule("relation.source-kind", Severity.ERROR, "relation types fit the record's kind", None, record=relation_source)
RELATION_SELF = rule("relation.self", Severity.ERROR, "records do not relate to themselves", None, record=relation_self)
RELATION_DUPLICATE = rule("relation.duplicate", Severity.WARNING, "relations are listed once", None, record=relation_duplicate)
RULES = [RELATION_SOURCE_KIND, RELATION_SELF, RELATION_DUPLICATE]
