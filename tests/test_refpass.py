"""The one pass over every reference (bir.check.rules.refpass) finds what the four rules found when each read
every reference itself: on random registers (unknown targets, wrong kinds, party types, ties, duplicated ids,
a party owning itself), each rule's findings, in order, equal those of the rule as it was written before the
pass (kept here as the oracle), inside `check_register`'s scope and outside it."""

from __future__ import annotations

import difflib
import random
from collections.abc import Iterator

import pytest

from bir.base.config import Config
from bir.check.rules import REGISTER_RULES, Finding, RecordFacts, check_register, link_of
from bir.check.rules.integrity import ORPHAN_KINDS, orphans, party_types
from bir.check.rules.references import SUGGESTIONS, reference_kinds, references_resolve
from bir.check.rules.refpass import PARTY_TYPES
from support import make_register

Index = dict[str, list[RecordFacts]]


# -- the oracle: the four rules as they read the references before the pass ------------------------------------
def old_party_types(index: Index, config: Config) -> Iterator[Finding]:
    types = {rid: facts[0].party_type for rid, facts in index.items() if facts[0].kind == "party"}
    for facts in index.values():
        f = facts[0]
        for jpath, target, _allowed, label in f.references:
            wanted = PARTY_TYPES.get(label)
            if wanted is None:
                continue
            got = types.get(target)
            if got is None or got in wanted:
                continue
            if label == "owner" and target == f.id:
                continue
            yield Finding(jpath, f"{label} '{target}' is a {got.replace('_', ' ')}; it must be a {' or '.join(sorted(wanted))}",
                          f"point {label} at a party of type {' or '.join(sorted(wanted))}, or correct the party_type of '{target}'",
                          path=f.path)


def old_orphans(index: Index, config: Config) -> Iterator[Finding]:
    targeted: set[str] = set()
    for facts in index.values():
        for ref in facts[0].references:
            if link_of(ref[3]) is not None:
                targeted.add(ref[1])
    for rid, facts in index.items():
        f = facts[0]
        if f.kind not in ORPHAN_KINDS or rid in targeted:
            continue
        if f.status not in config.model_for(f.kind).in_service or any(link_of(ref[3]) is not None for ref in f.references):
            continue
        yield Finding("/relations", f"{rid} is {f.status} but has no relation, location or service, and nothing relates to it",
                      "add where it is (located_in), what it supports (supports) or runs on, or retire it if it is gone",
                      path=f.path)


def old_references_resolve(index: Index, config: Config) -> Iterator[Finding]:
    ids: list[str] | None = None
    missing = [(f, ref) for facts in index.values() for f in facts for ref in f.references if ref[1] not in index]
    for n, (f, (jpath, target, allowed, label)) in enumerate(missing):
        if ids is None:
            ids = list(index)
        close = difflib.get_close_matches(target, ids, n=1, cutoff=0.8) if n < SUGGESTIONS else []
        kinds = " or ".join(sorted(allowed)) if len(allowed) <= 3 else "the"
        hint = f"did you mean '{close[0]}'?" if close else f"add {kinds} record '{target}', or fix the id"
        yield Finding(jpath, f"{label} '{target}' is not a known record", hint, path=f.path)


def old_reference_kinds(index: Index, config: Config) -> Iterator[Finding]:
    kind_of = {rid: facts[0].kind for rid, facts in index.items()}.get
    for facts in index.values():
        for f in facts:
            for ref in f.references:
                kind = kind_of(ref[1])
                if kind is None or kind in ref[2]:
                    continue
                jpath, target, allowed, label = ref
                yield Finding(jpath, f"{label} '{target}' is a {kind} record; it must be a {' or '.join(sorted(allowed))}",
                              "point it at a record of the right kind", path=f.path)


PAIRS = {"ref.party-type": (party_types, old_party_types), "record.orphan": (orphans, old_orphans),
         "ref.unknown": (references_resolve, old_references_resolve), "ref.kind": (reference_kinds, old_reference_kinds)}
KINDS = ("hardware", "software", "party", "service", "contract", "network", "information", "cloud_service")
LABELS = (*PARTY_TYPES, "relation supports", "relation located_in", "relation runs_on", "installations[0].on",
          "software", "relation member_of", "relation covered_by", "licence", "record")
ALLOWED = (frozenset({"party"}), frozenset({"hardware"}), frozenset({"service"}), frozenset({"contract", "party"}),
           frozenset(KINDS), frozenset({"hardware", "software", "network", "cloud_service"}))
STATUSES = ("in_use", "in_stock", "retired", "active", "planned", "", "disposed")


def random_index(seed: int, size: int = 400) -> Index:
    rng = random.Random(seed)
    ids = [f"rec-{i:04d}" for i in range(size)]
    index: Index = {}
    for i, rid in enumerate(ids):
        kind = rng.choice(KINDS)
        refs = []
        for j in range(rng.randrange(0, 7)):
            target = rng.choice(ids) if rng.random() < 0.85 else f"rec-{rng.randrange(size, size + 40):04d}"
            if rng.random() < 0.03:
                target = rid  # a record naming itself (a party owning itself, say)
            refs.append((f"/ref/{j}", target, rng.choice(ALLOWED), rng.choice(LABELS)))
        party_type = rng.choice(("person", "team", "supplier", "cost_centre", "manufacturer", None)) if kind == "party" else None
        facts = RecordFacts(rid, kind, f"registry/{kind}/{rid}.yaml", rng.choice(STATUSES), tuple(refs), (), (), None,
                            party_type=party_type)
        index[rid] = [facts]
        if rng.random() < 0.02:  # the same id in a second file, of another kind, with references of its own
            other = rng.choice(KINDS)
            index[rid].append(facts._replace(kind=other, path=f"registry/{other}/{rid}.yaml",
                                             references=tuple(reversed(refs))))
    return index


@pytest.fixture(scope="module")
def config() -> Config:
    from bir.point.point import open_point

    return open_point(make_register(__import__("pathlib").Path(__import__("tempfile").mkdtemp()) / "reg")).config


@pytest.mark.parametrize("seed", range(12))
def test_the_pass_finds_what_each_rule_found_reading_every_reference(config: Config, seed: int) -> None:
    index = random_index(seed)
    expected = {rule_id: list(old(index, config)) for rule_id, (_new, old) in PAIRS.items()}
    assert sum(map(len, expected.values())) > 0 and all(expected[r] for r in ("ref.unknown", "ref.kind")), seed
    alone = {rule_id: list(new(index, config)) for rule_id, (new, _old) in PAIRS.items()}
    assert alone == expected
    shared = {rule_id: [(p.path, p.message, p.hint, p.json_path) for p in check_register(index, config) if p.rule == rule_id]
              for rule_id in PAIRS}
    assert shared == {rule_id: [(f.path or "", f.message, f.hint, f.json_path) for f in found]
                      for rule_id, found in expected.items()}


def test_every_kind_of_finding_is_reached(config: Config) -> None:
    """The random registers reach every finding the four rules make (else the comparison above proves little)."""
    found = {rule_id: 0 for rule_id in PAIRS}
    for seed in range(12):
        index = random_index(seed)
        for rule_id, (_new, old) in PAIRS.items():
            found[rule_id] += len(list(old(index, config)))
    assert all(n >= 5 for n in found.values()), found


def test_a_pass_is_shared_only_within_check_register_and_for_the_same_index(config: Config) -> None:
    from bir.check.rules import refpass

    index = random_index(1)
    assert refpass.reference_pass(index) is not refpass.reference_pass(index)  # no scope: made each time
    with refpass.shared_pass(index):
        first = refpass.reference_pass(index)
        assert refpass.reference_pass(index) is first
        other = random_index(2)
        assert refpass.reference_pass(other) is not refpass.reference_pass(other)  # another index: its own
    assert refpass._SCOPE == []
    list(check_register(index, config))
    assert refpass._SCOPE == [] and len(REGISTER_RULES) >= 4
