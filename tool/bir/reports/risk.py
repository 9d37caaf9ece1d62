"""The risk report: findings from small named rules, waivers, a score per service, % compliant per rule.

Each rule is a function whose docstring is its documentation. It yields one item per record in its scope:
`(record id, None)` when the record complies, `(record id, Hit)` when it does not, so every rule is also
an audit rule reported as "% compliant over its scope".

A waiver (a `waiver` record: rule, record, expires) silences the finding of that rule on that record
while it is active and not past `expires`; a finding whose waiver has lapsed says so.

Over 400 lines on purpose: it is the catalogue of risk rules, each a small function read as its own
documentation; the rules and the report that scores them are kept together so the catalogue reads in one place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from bir.base.model import ADMINISTRATIVE_KINDS, Record
from bir.base.rules import Rule, define
from bir.reports.context import ENDED, Context
from bir.reports.decisions import UNUSED_THRESHOLD
from bir.reports.licences import licence_positions
from bir.reports.models import ComplianceLine, Finding, RiskReport, ServiceRisk

WEIGHTS = {"high": 5, "medium": 3, "low": 1}
SUPPORTABLE = ("hardware", "software", "network")


@dataclass(frozen=True, slots=True)
class Hit:
    message: str
    hint: str
    records: tuple[str, ...] = ()  # other records involved, besides the one the finding is about
    severity: str = ""  # this finding's own severity (high, medium, low), e.g. an advisory's; default the rule's


Check = Iterator[tuple[str, Hit | None]]


@dataclass(frozen=True, slots=True)
class RiskRule:
    """A risk (audit) rule: its catalog entry and the check that yields one item per record in its scope."""

    base: Rule
    check: Callable[[Context], Check]

    @property
    def id(self) -> str:
        return self.base.id

    @property
    def severity(self) -> str:
        return self.base.severity

    @property
    def summary(self) -> str:
        return self.base.summary

    @property
    def doc(self) -> str:
        return self.base.doc


def _path(ctx: Context, rec: Record) -> tuple[str, tuple[str, ...]]:
    """For software: the hosts it runs on and the services they serve, as ` on host -> service, ...` text and
    the records involved (the services come with the hosts)."""
    if rec.kind != "software":
        return "", ()
    paths, involved = [], []
    for host in ctx.hosts(rec):
        target = ctx.rec(host)
        if target is None or ctx.is_ended(target):
            continue
        involved.append(host)
        services = ctx.services_of.get(host, ())
        paths.append(f"{rec.id} -> {host}" + (f" -> {', '.join(services)}" if services else ""))
    return ("; path: " + "; ".join(paths)) if paths else "", tuple(involved)


def _past_life(ctx: Context, kind: str, which: str) -> Check:
    for rec in ctx.of_kind(kind):
        if not ctx.in_service(rec):
            continue
        life = ctx.life(rec)
        as_of = ctx.as_of
        if which == "eol":
            if life.eol is None and life.eol_flagged is None:
                continue
            past = life.past_eol(as_of) and not life.extended(as_of)
            if not past:
                yield rec.id, None
                continue
            path, hosts = _path(ctx, rec)
            yield rec.id, Hit(f"{kind} {rec.id} is in service past its end of life ({life.eol_text()}, {life.source}){path}",
                              "replace or upgrade it to a supported release, buy extended support where the vendor sells it "
                              "(`extended_support` on the record, or an extended_support contract), or record a waiver with an "
                              "expiry date" if life.eoes is not None and life.eoes > as_of else
                              "replace or upgrade it to a supported release, or record a waiver with an expiry date", hosts)
        else:
            if (life.eos is None and life.eos_flagged is None) or life.past_eol(as_of):
                continue  # past end of life is the stronger finding
            if not life.past_eos(as_of) or life.extended(as_of):
                yield rec.id, None
                continue
            path, hosts = _path(ctx, rec)
            if life.eol is not None:
                hint = (f"it gets security fixes until its end of life ({life.eol}): plan its upgrade or replacement before then, "
                        "or record a waiver with an expiry date")
            elif life.eoes is None or life.eoes > as_of:
                hint = ("buy extended support (`extended_support` on the record, or an extended_support contract), plan its "
                        "replacement, or record a waiver with an expiry date")
            else:
                hint = "plan its replacement (the vendor's extended support has ended too), or record a waiver with an expiry date"
            yield rec.id, Hit(f"{kind} {rec.id} is in service past its end of support ({life.eos_text()}, {life.source}){path}",
                              hint, hosts)


def software_end_of_life(ctx: Context) -> Check:
    """In-service software past its end of life (`end_of_life`, else the feed's `eolFrom`, else the feed's
    `isEol: true` where it publishes no date) with no bought extended support running. The finding names the
    hosts the software runs on and the services they serve (software -> host -> services).

    Passes: `ubuntu` 24.04 (eolFrom 2029-05-31) in service on 2026-11-28; or 18.04 with
    `extended_support: {until: "2028-04-30"}`.
    Fails:  `ubuntu` 18.04 (eolFrom 2023-05-31) in service on 2026-11-28, installed on a server of svc-tms.
    """
    return _past_life(ctx, "software", "eol")


def hardware_end_of_life(ctx: Context) -> Check:
    """In-service hardware past its end of life (`end_of_life`, else its feed's `eolFrom` or `isEol`), with no
    bought extended support running.

    Passes: `end_of_life: "2029-01-31"` on 2026-11-28.  Fails: `end_of_life: "2025-01-31"`.
    """
    return _past_life(ctx, "hardware", "eol")


def software_end_of_support(ctx: Context) -> Check:
    """In-service software past its end of support (`end_of_support`, else the feed's `eoasFrom` or
    `isEoas`) but not yet past its end of life, with no bought extended support running; the hint offers
    extended support only where the vendor still sells it.

    Passes: `end_of_support: "2027-06-30"` on 2026-11-28.  Fails: `end_of_support: "2026-06-30"`.
    """
    return _past_life(ctx, "software", "eos")


def hardware_end_of_support(ctx: Context) -> Check:
    """In-service hardware past its end of support (`end_of_support`) but not yet past its end of life, with
    no bought extended support running.

    Passes: `end_of_support: "2027-06-30"` on 2026-11-28.  Fails: `end_of_support: "2025-06-30"`.
    """
    return _past_life(ctx, "hardware", "eos")


def _supported(ctx: Context, rec: Record) -> bool:
    warranty = rec.date("warranty_end")
    if warranty is not None and warranty >= ctx.as_of:
        return True
    for rel in ctx.relations(rec):
        if rel.type != "covered_by":
            continue
        ctr = ctx.rec(rel.target)
        if ctr is None or not ctx.in_service(ctr):
            continue
        start, end = ctr.date("start"), ctr.date("end")
        if (start is None or start <= ctx.as_of) and (end is None or ctx.as_of <= end):
            return True
    return False


def critical_services(ctx: Context) -> set[str]:
    """Active services whose criticality is one of `reports.critical_levels` (default: critical)."""
    levels = (ctx.config.raw.get("reports") or {}).get("critical_levels") or ["critical"]
    return {s.id for s in ctx.of_kind("service") if s.data.get("criticality") in levels and ctx.in_service(s)}


def unsupported_critical_component(ctx: Context) -> Check:
    """An in-service component (hardware, software, network) of a critical service has an active support
    contract (`covered_by` an active contract running on the date) or a warranty that has not ended.

    Passes: a server supporting a critical service, `covered_by` an active support contract.
    Fails:  the same server whose warranty ended and whose only contract has expired.
    """
    critical = critical_services(ctx)
    for rec in ctx.register:
        if rec.kind not in SUPPORTABLE or not ctx.in_service(rec):
            continue
        services = [s for s in ctx.services_of.get(rec.id, ()) if s in critical]
        if not services:
            continue
        yield rec.id, (None if _supported(ctx, rec) else Hit(
            f"{rec.kind} {rec.id} supports critical service {', '.join(services)} without an active support contract or warranty",
            "cover it with a support contract (`covered_by`), or record a waiver"))


def contract_notice_missed(ctx: Context) -> Check:
    """An active contract past its notice deadline (end minus `notice_period_days`) has a renewal decision
    (`renewal.decision` renew, terminate or renegotiate); contracts with `renewal.type: none` simply end.

    Passes: deadline passed, `renewal: {decision: renew, decided_on: "2026-09-01"}`.
    Fails:  deadline passed, no `renewal.decision` (or `pending`): the contract renews or lapses by default.
    """
    for ctr in ctx.of_kind("contract"):
        end, notice = ctr.date("end"), ctr.data.get("notice_period_days")
        if not ctx.in_service(ctr) or end is None or not isinstance(notice, int) or ctr.get("renewal.type") == "none":
            continue
        deadline = end - dt.timedelta(days=notice)
        if ctx.as_of > end:
            continue
        decision = ctr.get("renewal.decision")
        missed = ctx.as_of > deadline and decision in (None, "pending")
        yield ctr.id, (Hit(f"contract {ctr.id}: the notice deadline {deadline} has passed (ends {end}) with no renewal decision",
                           "record renewal.decision and renewal.decided_on, and negotiate with the supplier") if missed else None)


def licence_over_deployed(ctx: Context) -> Check:
    """An active licence is not consumed beyond its quantity (see the licence position).

    Passes: quantity 50, 48 devices.  Fails: quantity 50, 58 devices (true-up cost 8 x unit cost).
    """
    for pos in licence_positions(ctx):
        yield pos.licence, (Hit(f"licence {pos.licence} ({pos.metric}) is over-deployed: {pos.consumption} used of "
                                f"{pos.quantity}, true-up cost {pos.true_up_cost if pos.true_up_cost is not None else 'unknown'}",
                                "buy the missing entitlement (true up) or remove the excess installations", pos.records)
                            if pos.excess else None)


def licence_unused(ctx: Context) -> Check:
    """An active licence is used for at least 80 % of its quantity, by the licence position's figure (devices,
    cores, people for per-user and subscription seats, sites, or the declared consumption); below that the
    unused part is waste. A licence whose consumption is unknown (concurrent use not declared) is out of scope.

    Passes: quantity 420 subscription seats, declared consumption 398.  Fails: quantity 100, 40 users (waste
    60 x unit cost).
    """
    for pos in licence_positions(ctx):
        if pos.position == "unknown":
            continue
        low = pos.quantity > 0 and Decimal(pos.consumption) < UNUSED_THRESHOLD * pos.quantity
        yield pos.licence, (Hit(f"licence {pos.licence} ({pos.metric}) is under-used: {pos.consumption} used of {pos.quantity}, "
                                f"{pos.unused} unused worth {pos.waste if pos.waste is not None else 'unknown'} ({pos.consumption_source})",
                                "reduce the quantity before the notice deadline, or reassign the entitlement", pos.records)
                            if low else None)


def feed_missing(ctx: Context) -> Check:
    """A record that names a lifecycle feed (`lifecycle_feed.product`) finds it in `feeds/endoflife/`: a feed
    named and missing leaves its end-of-life dates out without a word.

    Passes: `lifecycle_feed: {product: ubuntu, cycle: "22.04"}` with `feeds/endoflife/ubuntu.json`.
    Fails:  `lifecycle_feed: {product: dell-poweredge, cycle: r650}` with no such feed.
    """
    for rec in ctx.register:
        product = rec.get("lifecycle_feed.product")
        if not isinstance(product, str) or ctx.is_ended(rec):
            continue
        if product not in ctx.feeds:
            yield rec.id, Hit(f"{rec.id} names the lifecycle feed '{product}', which is not in feeds/endoflife/",
                              f"run `bir feed update {product}` (or `bir feed import`), or correct lifecycle_feed.product")
            continue
        cycle = rec.get("lifecycle_feed.cycle") or rec.data.get("version") or ""
        yield rec.id, (None if ctx.feeds[product].cycle_for(str(cycle)) is not None else
                       Hit(f"{rec.id}: the feed '{product}' has no release cycle '{cycle}'",
                           f"set lifecycle_feed.cycle to one of the feed's cycles (feeds/endoflife/{product}.json)"))


def owner_valid(ctx: Context) -> Check:
    """A record that is not ended has an owner: an existing party that is not retired.

    Passes: `owner: team-platform` (an active team).  Fails: `owner: piet-jansen` (a retired person).
    """
    records = ctx.register.records
    for rec in ctx.register:
        if ctx.is_ended(rec):
            continue
        owner = rec.owner
        target = records.get(owner) if owner else None
        if owner is None:
            hit: Hit | None = Hit(f"{rec.id} has no owner", "set `owner` to an active party")
        elif target is None or target.kind != "party":
            hit = Hit(f"{rec.id}: owner '{owner}' is not a party in the register", "set `owner` to an active party")
        elif ctx.is_ended(target):
            hit = Hit(f"{rec.id}: owner '{owner}' is {target.status}", "hand the record over to an active party", (owner,))
        else:
            hit = None
        yield rec.id, hit


def verification_overdue(ctx: Context) -> Check:
    """A record that is not ended was verified (`last_verified`) within `reports.verification_period_days`.
    Parties, waivers, audits and budgets are out of scope (they are not audited physically).

    Passes: `last_verified: "2026-03-14"` on 2026-11-28 with a 365-day period.
    Fails:  `last_verified: "2025-06-01"`, or no `last_verified` at all.
    """
    period = dt.timedelta(days=ctx.config.verification_period_days)
    for rec in ctx.register:
        if rec.kind in ADMINISTRATIVE_KINDS or ctx.is_ended(rec) or rec.status == "planned":
            continue
        last = rec.date("last_verified")
        if last is None:
            yield rec.id, Hit(f"{rec.id} has never been verified", "verify it and set last_verified / verified_by")
        elif last + period < ctx.as_of:
            yield rec.id, Hit(f"{rec.id} was last verified on {last}, more than {period.days} days ago",
                              "verify it and update last_verified / verified_by")
        else:
            yield rec.id, None


LISTED = 5  # ids a finding's message names; the finding's records hold all of them


def _listed(ids: list[str] | tuple[str, ...]) -> str:
    """Ids for a message: all of a few, else the first LISTED and how many more (a service can rest on 1,000)."""
    if len(ids) <= LISTED:
        return ", ".join(ids)
    return f"{len(ids)} components ({', '.join(ids[:LISTED])} and {len(ids) - LISTED} more)"


def single_point_of_failure(ctx: Context) -> Check:
    """A critical service (`reports.critical_levels`) has no single point of failure: no in-service component
    whose failure alone takes it down (every dependency path from the service runs through it, and no
    in-service peer of its `redundancy_group` serves the same need; see the data model on redundancy).

    Passes: two web servers in `redundancy_group: web-frontend`, both supporting the service.
    Fails:  a critical service whose only application server has no redundancy group.
    """
    for sid in sorted(critical_services(ctx)):
        single = ctx.graph.single_points_of_failure(sid)
        yield sid, (Hit(f"service {sid} rests on {_listed(single)} without a redundant peer",
                        "add a peer in the same redundancy_group, or record a waiver", tuple(single)) if single else None)


def disposed_without_sanitisation(ctx: Context) -> Check:
    """Disposed data-bearing hardware has sanitisation evidence (`sanitisation.method`, `date`, `certificate`).

    Passes: a disposed laptop with a sanitisation certificate.  Fails: a disposed server without one.
    """
    for rec in ctx.of_kind("hardware"):
        if rec.status != "disposed" or not ctx.data_bearing(rec):
            continue
        ok = all(rec.get(f"sanitisation.{k}") for k in ("method", "date", "certificate"))
        yield rec.id, None if ok else Hit(f"disposed data-bearing {rec.id} has no sanitisation evidence",
                                          "attach the data-destruction certificate under sanitisation")


def relation_to_ended(ctx: Context) -> Check:
    """A record that is not ended has no relation to a retired, disposed, lost or stolen record.

    Passes: `supports: svc-erp` (active).  Fails: `depends_on: srv-old-01` (retired).
    """
    records = ctx.register.records
    for rec in ctx.register:
        if ctx.is_ended(rec) or not ctx.relations(rec):
            continue
        ended = sorted({r.target for r in ctx.relations(rec)
                        if (t := records.get(r.target)) is not None and t.status in ENDED})
        yield rec.id, (Hit(f"{rec.id} has a relation to ended record(s) {', '.join(ended)}",
                           "point the relation at the replacement, or remove it", tuple(ended)) if ended else None)


def risk_rule(rule_id: str, severity: str, summary: str, check: Callable[[Context], Check]) -> RiskRule:
    """Declare a risk rule; its documentation is the check's docstring."""
    return RiskRule(define(rule_id, severity, "risk", summary, check.__doc__ or summary), check)


RULES: tuple[RiskRule, ...] = (
    risk_rule("software.end_of_life", "high", "software in service past end of life", software_end_of_life),
    risk_rule("hardware.end_of_life", "high", "hardware in service past end of life", hardware_end_of_life),
    risk_rule("software.end_of_support", "medium", "software in service past end of support", software_end_of_support),
    risk_rule("hardware.end_of_support", "medium", "hardware in service past end of support", hardware_end_of_support),
    risk_rule("service.unsupported_component", "high", "critical-service components have support or warranty",
             unsupported_critical_component),
    risk_rule("contract.notice_missed", "high", "contracts past their notice deadline have a renewal decision",
             contract_notice_missed),
    risk_rule("licence.over_deployed", "high", "licences are not over-deployed", licence_over_deployed),
    risk_rule("licence.unused", "low", "licences are at least 80 % used", licence_unused),
    risk_rule("owner.invalid", "medium", "records have an active owner", owner_valid),
    risk_rule("record.verification_overdue", "low", "records are verified within the period", verification_overdue),
    risk_rule("service.single_point_of_failure", "high", "services have no single point of failure", single_point_of_failure),
    risk_rule("hardware.disposed_unsanitised", "high", "disposed data-bearing devices were sanitised",
             disposed_without_sanitisation),
    risk_rule("relation.ended_target", "medium", "no relations to retired or disposed records", relation_to_ended),
    risk_rule("lifecycle.feed_missing", "medium", "lifecycle feeds named by records are pinned", feed_missing),
)


# Risk rules declared by the report modules of their own subject (maintenance, audits, assignments,
# vulnerabilities, budgets): each calls `register` once when it is imported, after the rules above.
EXTRA_RULES: list[RiskRule] = []


def register(rule: RiskRule) -> RiskRule:
    """Add a risk rule declared elsewhere to the risk report (once per id)."""
    if all(r.id != rule.id for r in (*RULES, *EXTRA_RULES)):
        EXTRA_RULES.append(rule)
    return rule


def all_rules() -> tuple[RiskRule, ...]:
    """Every risk rule the risk report runs, in order."""
    return (*RULES, *EXTRA_RULES)


def active_waivers(ctx: Context) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """(rule, record) -> waiver id, for waivers in force on the date, and for lapsed ones (with a note)."""
    active: dict[tuple[str, str], str] = {}
    lapsed: dict[tuple[str, str], str] = {}
    for w in sorted(ctx.of_kind("waiver"), key=lambda r: r.id):
        key = (str(w.data.get("rule", "")), str(w.data.get("record", "")))
        expires = w.date("expires")
        start = w.status_date("active")
        if ctx.in_service(w) and (expires is None or ctx.as_of <= expires) and (start is None or start <= ctx.as_of):
            active[key] = w.id
        elif expires is not None and expires < ctx.as_of:
            lapsed[key] = f"waiver {w.id} expired on {expires}"
    return active, lapsed


def risk_report(ctx: Context) -> RiskReport:
    active, lapsed = active_waivers(ctx)
    findings: list[Finding] = []
    waived: list[Finding] = []
    compliance: list[ComplianceLine] = []
    for r in all_rules():
        scope = failing = n_waived = 0
        for rid, hit in r.check(ctx):
            scope += 1
            if hit is None:
                continue
            rec = ctx.register.records[rid]
            services = set(ctx.services_of.get(rid, ()))
            if rec.kind == "service":
                services.add(rid)
            for other in hit.records:
                services.update(ctx.services_of.get(other, ()))
            waiver = active.get((r.id, rid), "")
            f = Finding(r.id, hit.severity or r.severity, rid, hit.message, hit.hint, tuple(sorted({rid, *hit.records})),
                        tuple(sorted(services)), waiver, lapsed.get((r.id, rid), "") if not waiver else "")
            if waiver:
                n_waived += 1
                waived.append(f)
            else:
                failing += 1
                findings.append(f)
        pct = None if scope == 0 else (Decimal(100) * (scope - failing - n_waived) / scope).quantize(Decimal("0.1"))
        compliance.append(ComplianceLine(r.id, r.severity, scope, failing, n_waived, pct, r.summary))
    order = {"high": 0, "medium": 1, "low": 2}
    findings.sort(key=lambda f: (order[f.severity], f.rule, f.record))
    waived.sort(key=lambda f: (f.rule, f.record))
    by_service: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        for s in f.services:
            by_service[s].append(f)
    scores: list[ServiceRisk] = []
    for svc in ctx.of_kind("service"):
        if not ctx.in_service(svc):
            continue
        fs = by_service.get(svc.id, [])
        scores.append(ServiceRisk(svc.id, str(svc.data.get("criticality", "")), sum(WEIGHTS[f.severity] for f in fs), len(fs),
                                    tuple(sorted({f.rule for f in fs})), tuple(sorted({f.record for f in fs}))))
    scores.sort(key=lambda s: (-s.score, s.service))
    return RiskReport(ctx.as_of, findings, waived, scores, compliance, warnings=list(ctx.warnings))
