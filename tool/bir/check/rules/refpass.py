"""One pass over every reference of the register, for the rules across records that read them.

`ref.unknown`, `ref.kind`, `ref.party-type` and `record.orphan` each read every reference of every record:
537,000 at 100,000 records, which do not fit in the processor's caches, so each rule reached all of them in
memory again (together 0.53 s; one pass that finds what all four need: 0.37 s). `check_register` opens a
scope in which the first rule that asks makes the pass and the others take it; a rule called on its own (a
test, say) makes its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from bir.check.rules import RecordFacts, link_of

Index = dict[str, list[RecordFacts]]
Reference = tuple[str, str, frozenset[str], str]  # (json path, target, allowed kinds, label)
PEOPLE = frozenset({"person", "team", "department"})
SELLERS = frozenset({"supplier", "manufacturer"})
# reference label -> the party types it may name
PARTY_TYPES: dict[str, frozenset[str]] = {
    "owner": PEOPLE, "service_owner": PEOPLE, "verified_by": PEOPLE, "retirement.decided_by": PEOPLE, "approver": PEOPLE,
    "assigned_to": PEOPLE, "financial.cost_centre": frozenset({"cost_centre"}), "financial.supplier": SELLERS,
    "supplier": SELLERS, "provider": SELLERS, "manufacturer": SELLERS, "vendor": SELLERS,
    "cost_centre": frozenset({"cost_centre"}), "auditor": PEOPLE, "approved_by": PEOPLE,  # budgets and audits
}


class ReferencePass(NamedTuple):
    """What the rules over references need, each list in the order of the index and of each record's
    references (the order the rules report in)."""

    missing: list[tuple[RecordFacts, Reference]]  # the target is no record (every record holding the id)
    wrong_kind: list[tuple[RecordFacts, Reference, str]]  # the target's kind is not allowed (and that kind)
    wrong_party: list[tuple[RecordFacts, Reference, str, frozenset[str]]]  # a party of a type that does not fit
    targeted: set[str]  # ids a reference ties into the register (a relation, an installation, a holder...)
    tied: set[str]  # ids whose own references tie them in


_SCOPE: list[tuple[Index, ReferencePass | None]] = []


@contextmanager
def shared_pass(index: Index) -> Iterator[None]:
    """While open, the rules over `index` share one pass (made when the first of them asks)."""
    _SCOPE.append((index, None))
    try:
        yield
    finally:
        _SCOPE.pop()


def reference_pass(index: Index) -> ReferencePass:
    """The pass over `index`: the scope's when `index` is the scope's index, else one made now."""
    if _SCOPE and _SCOPE[-1][0] is index:
        made = _SCOPE[-1][1]
        if made is None:
            made = _make(index)
            _SCOPE[-1] = (index, made)
        return made
    return _make(index)


def _make(index: Index) -> ReferencePass:
    """Every reference once. The kind of an id, and a party's type, are its first record's (as the register
    rules read a duplicated id); `ref.unknown` and `ref.kind` judge the references of every record holding an
    id, the others those of the first."""
    kind_of = {rid: facts[0].kind for rid, facts in index.items()}.get
    type_of = {rid: facts[0].party_type for rid, facts in index.items() if facts[0].kind == "party"}.get
    wanted_of = PARTY_TYPES.get
    ties: dict[str, bool] = {}  # label -> whether it ties a record in (a few dozen labels)
    missing: list[tuple[RecordFacts, Reference]] = []
    wrong_kind: list[tuple[RecordFacts, Reference, str]] = []
    wrong_party: list[tuple[RecordFacts, Reference, str, frozenset[str]]] = []
    targeted: set[str] = set()
    tied: set[str] = set()
    for facts in index.values():
        first = True
        for f in facts:
            for ref in f.references:
                target = ref[1]
                kind = kind_of(target)
                if kind is None:
                    missing.append((f, ref))
                elif kind not in ref[2]:
                    wrong_kind.append((f, ref, kind))
                if not first:
                    continue
                label = ref[3]
                ties_in = ties.get(label)
                if ties_in is None:
                    ties_in = ties[label] = link_of(label) is not None
                if ties_in:
                    targeted.add(target)
                    tied.add(f.id)
                wanted = wanted_of(label) if kind == "party" else None
                if wanted is not None:
                    got = type_of(target)
                    if got is not None and got not in wanted and not (label == "owner" and target == f.id):
                        wrong_party.append((f, ref, got, wanted))  # (a party may own itself)
            first = False
    return ReferencePass(missing, wrong_kind, wrong_party, targeted, tied)
