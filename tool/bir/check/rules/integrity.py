"""Integrity the data model promises across records: parties of the right type, data-bearing devices found
through what they store, waivers of rules that exist, no orphans in service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bir.base.problems import Severity
from bir.check.rules import Finding, RecordFacts, rule
from bir.check.rules.refpass import reference_pass

if TYPE_CHECKING:
    import datetime as dt

    from bir.base.config import Config
    from bir.base.model import Record

Index = dict[str, list[RecordFacts]]
# The risk rules a waiver can silence (the risk report's; tests/test_rules_integrity.py keeps the two equal).
WAIVABLE: tuple[str, ...] = (
    "software.end_of_life", "hardware.end_of_life", "software.end_of_support", "hardware.end_of_support",
    "service.unsupported_component", "contract.notice_missed", "licence.over_deployed", "licence.unused", "owner.invalid",
    "record.verification_overdue", "service.single_point_of_failure", "hardware.disposed_unsanitised",
    "relation.ended_target", "lifecycle.feed_missing",
    # the operational reports' rules
    "handout.holder_inactive", "handout.unaccepted", "location.audit_overdue", "maintenance.overdue", "budget.overrun",
    "software.vulnerable",
)
ORPHAN_KINDS = frozenset({"hardware", "software", "cloud_service", "network", "information"})


def party_types(index: Index, config: Config) -> Iterator[Finding]:
    """A reference to a party names a party of a type that fits: a cost centre is a `cost_centre`; an owner,
    a service owner, an approver, a verifier or a holder is a person, team or department; a supplier,
    provider, manufacturer or vendor is a supplier or manufacturer. Parties without a `party_type` are not
    judged.

    Passes: `financial.cost_centre: cc-it-ops` where `cc-it-ops` has `party_type: cost_centre`.
    Fails:  `financial.cost_centre: dell` where `dell` has `party_type: supplier`.
    """
    for f, (jpath, target, _allowed, label), got, wanted in reference_pass(index).wrong_party:
        yield Finding(jpath, f"{label} '{target}' is a {got.replace('_', ' ')}; it must be a {' or '.join(sorted(wanted))}",
                      f"point {label} at a party of type {' or '.join(sorted(wanted))}, or correct the party_type of '{target}'",
                      path=f.path)


def data_bearing_from_what_it_stores(index: Index, config: Config) -> Iterator[Finding]:
    """A device that `stores` information holding personal data is data-bearing, whatever its class says, so
    disposing of it needs the sanitisation evidence (`sanitisation.method`, `date`, `certificate`).

    Passes: a disposed CCTV camera that stores `info-cctv-footage` (personal data) with a sanitisation certificate.
    Fails:  the same camera disposed with no sanitisation.
    """
    personal = {rid for rid, facts in index.items() if facts[0].kind == "information" and facts[0].personal_data}
    for facts in index.values():
        f = facts[0]
        if f.kind != "hardware" or f.status != "disposed" or f.sanitised:
            continue
        held = sorted(t for t in f.stores if t in personal)
        if held:
            yield Finding("/sanitisation", f"disposed without sanitisation evidence, but it stores personal data ({', '.join(held)})",
                          "add sanitisation.method, sanitisation.date and sanitisation.certificate: a device storing "
                          "personal data is data-bearing whatever its class", path=f.path)


def waiver_rule_known(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """A waiver names a risk rule that exists (the risk rules of the rules reference): a misspelled rule would
    validate and never silence anything.

    Passes: `rule: service.single_point_of_failure`.
    Fails:  `rule: service.single_point_of_faillure`.
    """
    if record.kind != "waiver":
        return
    named = record.data.get("rule")
    if isinstance(named, str) and named not in WAIVABLE:
        import difflib

        close = difflib.get_close_matches(named, WAIVABLE, n=1)
        yield Finding("/rule", f"waiver names the rule '{named}', which is no risk rule",
                      f"did you mean '{close[0]}'?" if close else "name a risk rule of the rules reference (Risk and audit)")


def orphans(index: Index, config: Config) -> Iterator[Finding]:
    """A component in service (hardware, software, cloud service, network, information) is related to the
    rest of the register: it has a relation (a location, a service it supports, a host...), an installation
    or a holder (`assigned_to`), or another record relates to it (a relation, an installation, a licence's
    `software`). One with neither is invisible to every report over relations.

    Passes: a server in use with `{type: located_in, target: fac-rack-07}`.
    Fails:  a server in use with no relation, and none pointing at it.
    """
    found = reference_pass(index)
    targeted, tied = found.targeted, found.tied
    in_service: dict[str, frozenset[str]] = {}
    for rid, facts in index.items():
        f = facts[0]
        if f.kind not in ORPHAN_KINDS or rid in targeted:
            continue
        states = in_service.get(f.kind)
        if states is None:
            states = in_service[f.kind] = config.model_for(f.kind).in_service
        if f.status not in states or rid in tied:
            continue
        yield Finding("/relations", f"{rid} is {f.status} but has no relation, location or service, and nothing relates to it",
                      "add where it is (located_in), what it supports (supports) or runs on, or retire it if it is gone",
                      path=f.path)


REF_PARTY_TYPE = rule("ref.party-type", Severity.ERROR, "references to parties name a party of a fitting type", None,
                      register=party_types)
LIFECYCLE_DATA_BEARING = rule("lifecycle.data-bearing-stores", Severity.ERROR, "devices storing personal data are sanitised before disposal",
                              None, register=data_bearing_from_what_it_stores)
WAIVER_RULE = rule("waiver.rule-unknown", Severity.ERROR, "waivers name a risk rule that exists", None, record=waiver_rule_known)
RECORD_ORPHAN = rule("record.orphan", Severity.WARNING, "components in service are related to the register", None, register=orphans)
RULES = [REF_PARTY_TYPE, LIFECYCLE_DATA_BEARING, WAIVER_RULE, RECORD_ORPHAN]
