"""Purchase / reuse / retire decisions, one per component that needs one, from one plan (`bir.reports.plan`).

- Hardware retirement candidates (in service): `reuse` the one spare allocated to it; else `replace` when
  it is out of support or past end of life with no extended support running, or when keeping it costs more
  per year than a replacement depreciates per year (the replacement price / useful life in years); else
  `keep`. The replacement price is the dated catalogue's, else the historical purchase price (said so).
- Keep cost per year: the candidate's recurring costs in force, plus its share (split equally over the
  records each covers) of the active contracts that cover it.
- Software retirement candidates (in service): out of active support but not past end of life, `keep` (its
  security fixes run to its end of life: the deadline to upgrade); past end of life, `keep` while bought
  extended support runs, else `extend_support` where the vendor still sells it (the feed's end of extended
  support is ahead), else `upgrade` to a supported release; only past its useful life or fully
  depreciated, `keep`.
- Licences (active): `true_up` when over-deployed (the true-up cost), `cancel` when nothing consumes them,
  `reduce` when less than 80 % is used (to what is used, saving the unused part's value); each by the
  notice deadline (`term.end` less `notice_period_days`).
- Cloud services (active) that serve no service in service and no consumer: `cancel` by the notice deadline.

The lifecycle report (refresh plan and retirement candidates) and the forecast read the same decisions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from bir.base.model import Record
from bir.reports.context import Context, LifeDates
from bir.reports.licences import licence_positions
from bir.reports.models import DecisionLine, DecisionReport
from bir.reports.money import ZERO
from bir.reports.plan import Price, allocation, catalogue_price, replacement_date, retirement_reasons

UNUSED_THRESHOLD = Decimal("0.8")


def keep_cost_per_year(ctx: Context, rec: Record) -> Decimal:
    total = sum((c.annual() for c in ctx.recurring(rec) if c.active(ctx.as_of)), ZERO)
    for rel in ctx.relations(rec):
        ctr = ctx.rec(rel.target)
        if rel.type != "covered_by" or ctr is None or not ctx.in_service(ctr):
            continue
        covered = sum(1 for t, _ in ctx.inverse.get(ctr.id, ()) if t == "covered_by") or 1
        total += sum((c.annual() for c in ctx.recurring(ctr) if c.active(ctx.as_of)), ZERO) / covered
    return ctx.money(total)


def notice_deadline(rec: Record) -> dt.date | None:
    end = rec.date("term.end") or rec.date("end")
    notice = rec.data.get("notice_period_days")
    if end is None:
        return None
    return end - dt.timedelta(days=notice) if isinstance(notice, int) and notice > 0 else end


def _hardware(ctx: Context, rec: Record, spare: str | None) -> DecisionLine | None:
    reasons = retirement_reasons(ctx, rec)
    if not reasons:
        return None
    hw_class = ctx.hw_class(rec)
    price = catalogue_price(ctx, rec)
    replace = price.amount if price is not None else None
    keep = keep_cost_per_year(ctx, rec)
    sched = ctx.schedule(rec)
    years = Decimal(sched.life_months) / 12 if sched is not None and sched.life_months > 0 else Decimal(0)
    per_year = ctx.money(replace / years) if replace and years else None
    life = ctx.life(rec)
    unsupported = "past end of life" in reasons or "out of support" in reasons
    if spare is not None:
        rec_, why = "reuse", f"spare {spare} ({hw_class}) is in stock, supported and within its useful life"
    elif unsupported and life.extended(ctx.as_of):
        rec_, why = "keep", f"extended support bought until {life.extended_until} ({life.extended_source})"
    elif unsupported:
        rec_, why = "replace", "out of support: keeping it is a risk"
    elif replace and years and keep > replace / years:
        rec_, why = "replace", f"keeping costs {keep}/year, more than a replacement depreciates ({per_year}/year)"
    else:
        rec_, why = "keep", f"keeping costs {keep}/year" + (f", less than a replacement depreciates ({per_year}/year)"
                                                            if per_year is not None else "; no price to compare")
    return DecisionLine(rec.id, hw_class, reasons, (spare,) if spare else (), replace, keep, rec_, why, "hardware", None,
                        price.source if price is not None else "", (rec.id, *((spare,) if spare else ())))


def _software(ctx: Context, rec: Record) -> DecisionLine | None:
    reasons = retirement_reasons(ctx, rec)
    if not reasons:
        return None
    unsupported = "past end of life" in reasons or "out of support" in reasons
    life = ctx.life(rec)
    price: Price | None = catalogue_price(ctx, rec)
    if price is not None and price.source.startswith("historical"):
        price = None  # a software's own purchase price is no price of its successor
    if not unsupported:
        rec_, why = "keep", "still supported: " + ", ".join(reasons) + " is no reason to replace it"
    elif "past end of life" not in reasons and life.eol is not None:
        rec_, why = "keep", f"out of active support, security fixes until {life.eol}: plan the upgrade before then"
    elif life.extended(ctx.as_of):
        rec_, why = "keep", f"extended support bought until {life.extended_until} ({life.extended_source})"
    elif life.eoes is not None and life.eoes > ctx.as_of:
        rec_, why = "extend_support", f"the vendor sells extended support until {life.eoes}: buy it, or upgrade before then"
    else:
        rec_, why = "upgrade", "no support to buy: upgrade to a supported release"
    hosts = tuple(ctx.hosts(rec))
    return DecisionLine(rec.id, "", reasons, (), price.amount if price else None, keep_cost_per_year(ctx, rec), rec_, why,
                        "software", _software_deadline(rec_, life, reasons),
                        price.source if price else "", (rec.id, *hosts))


def _software_deadline(recommendation: str, life: LifeDates, reasons: tuple[str, ...]) -> dt.date | None:
    if recommendation == "extend_support":
        return life.eoes
    if recommendation == "keep" and life.extended_until is not None:
        return life.extended_until
    if recommendation == "keep" and "out of support" in reasons:
        return life.eol
    return None


def _licences(ctx: Context) -> list[DecisionLine]:
    out: list[DecisionLine] = []
    for pos in licence_positions(ctx):
        lic = ctx.register.records[pos.licence]
        deadline = notice_deadline(lic)
        by = f" by {deadline}" if deadline is not None and deadline >= ctx.as_of else " at the next renewal"
        if pos.position == "over":
            rec_, why, amount = "true_up", f"{pos.consumption} used of {pos.quantity}: buy {pos.excess} more{by}", pos.true_up_cost
        elif pos.position == "under" and pos.consumption == 0:
            rec_, why, amount = "cancel", f"nothing consumes its {pos.quantity} units: cancel{by}", pos.waste
        elif pos.position == "under" and Decimal(pos.consumption) < UNUSED_THRESHOLD * pos.quantity:
            saving = f", saving {pos.waste}" if pos.waste is not None else ""
            rec_, why, amount = "reduce", f"{pos.consumption} used of {pos.quantity}: reduce to {pos.consumption}{by}{saving}", pos.waste
        else:
            continue
        out.append(DecisionLine(pos.licence, "", (pos.position,), (), amount, keep_cost_per_year(ctx, lic), rec_, why, "licence",
                                deadline, pos.consumption_source, (pos.licence, *pos.records)))
    return out


def _cloud(ctx: Context, rec: Record) -> DecisionLine | None:
    if ctx.services_of.get(rec.id) or any(t == "licensed_by" or t == "depends_on" for t, _ in ctx.inverse.get(rec.id, ())):
        return None
    if any(r.type == "supports" and (s := ctx.rec(r.target)) is not None and ctx.in_service(s) for r in ctx.relations(rec)):
        return None
    deadline = notice_deadline(rec)
    by = f" by {deadline}" if deadline is not None and deadline >= ctx.as_of else ""
    keep = keep_cost_per_year(ctx, rec)
    return DecisionLine(rec.id, "", ("serves nothing",), (), None, keep, "cancel", f"it serves no service in service: cancel{by}, "
                        f"saving {keep}/year", "cloud_service", deadline, "", (rec.id,))


def decisions(ctx: Context) -> Mapping[str, DecisionLine]:
    """Every decision, by record (computed once per context; read it, never change it)."""
    got = ctx.cache.get("decisions")
    if got is not None:
        return got  # type: ignore[no-any-return]
    spares = allocation(ctx)
    lines: list[DecisionLine] = []
    for rec in sorted(ctx.register, key=lambda r: r.id):
        if not ctx.in_service(rec):
            continue
        line = (_hardware(ctx, rec, spares.get(rec.id)) if rec.kind == "hardware" else _software(ctx, rec) if rec.kind == "software"
                else _cloud(ctx, rec) if rec.kind == "cloud_service" else None)
        if line is not None:
            lines.append(line)
    lines.extend(_licences(ctx))
    out = MappingProxyType({line.record: line for line in sorted(lines, key=lambda d: d.record)})
    ctx.cache["decisions"] = out
    return out


@dataclass(frozen=True, slots=True)
class Replacement:
    """A planned purchase of in-service hardware: when, why, at what price."""

    due: dt.date
    reason: str
    cost: Decimal | None
    price_source: str


def replacement(ctx: Context, rec: Record) -> Replacement | None:
    """The plan's replacement of in-service hardware: now where the decision is replace, on its replacement
    date where there is no decision yet; none where a spare is reused or it is kept."""
    if rec.kind != "hardware" or not ctx.in_service(rec):
        return None
    decision = decisions(ctx).get(rec.id)
    due = replacement_date(ctx, rec)
    if decision is not None:
        if decision.recommendation != "replace":
            return None
        return Replacement(min(due[0], ctx.as_of) if due else ctx.as_of, due[1] if due else "decision", decision.replace_cost,
                           decision.price_source)
    if due is None:
        return None
    price = catalogue_price(ctx, rec)
    return Replacement(due[0], due[1], price.amount if price else None, price.source if price else "")


def decision_report(ctx: Context) -> DecisionReport:
    return DecisionReport(ctx.as_of, ctx.config.base_currency, list(decisions(ctx).values()), warnings=list(ctx.warnings))
