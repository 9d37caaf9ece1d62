"""Purchase / reuse / retire decision support, for each hardware retirement candidate.

- Reuse candidates: in-stock hardware of the same class that is supported and within its useful life.
- Replace cost: the candidate's own purchase cost (a like-for-like estimate), in base currency.
- Keep cost per year: the candidate's recurring costs in force, plus its share (split equally over the
  records each covers) of the active contracts that cover it.
- Recommendation: `reuse` when a reuse candidate of the same class is in stock; else `replace` when it
  is out of support or past end of life (keeping it is a risk, not a saving), or when keeping it costs
  more per year than a replacement depreciates per year (replace cost / useful life in years); else `keep`.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from bir.base.model import Record
from bir.reports.context import Context
from bir.reports.lifecycle import is_reuse_candidate, retirement_reasons
from bir.reports.models import DecisionLine, DecisionReport
from bir.reports.money import ZERO, cents


def keep_cost_per_year(ctx: Context, rec: Record) -> Decimal:
    total = sum((c.annual() for c in ctx.recurring(rec) if c.active(ctx.as_of)), ZERO)
    for rel in ctx.relations(rec):
        ctr = ctx.rec(rel.target)
        if rel.type != "covered_by" or ctr is None or not ctx.in_service(ctr):
            continue
        covered = sum(1 for t, _ in ctx.inverse.get(ctr.id, ()) if t == "covered_by") or 1
        total += sum((c.annual() for c in ctx.recurring(ctr) if c.active(ctx.as_of)), ZERO) / covered
    return cents(total)


def decision_report(ctx: Context) -> DecisionReport:
    stock: dict[str, list[str]] = defaultdict(list)
    for rec in ctx.register.of_kind("hardware"):
        if is_reuse_candidate(ctx, rec):
            stock[ctx.hw_class(rec)].append(rec.id)
    lines: list[DecisionLine] = []
    for rec in sorted(ctx.register.of_kind("hardware"), key=lambda r: r.id):
        if not ctx.in_service(rec):
            continue
        reasons = retirement_reasons(ctx, rec)
        if not reasons:
            continue
        hw_class = ctx.hw_class(rec)
        reuse = tuple(sorted(stock.get(hw_class, ())))
        replace = ctx.purchase_base(rec)
        keep = keep_cost_per_year(ctx, rec)
        sched = ctx.schedule(rec)
        years = Decimal(sched.life_months) / 12 if sched is not None and sched.life_months > 0 else Decimal(0)
        per_year = cents(replace / years) if replace and years else None
        if reuse:
            rec_, why = "reuse", f"{len(reuse)} {hw_class} in stock, supported and within useful life"
        elif "past end of life" in reasons or "out of support" in reasons:
            rec_, why = "replace", "out of support: keeping it is a risk"
        elif replace and years and keep > replace / years:
            rec_, why = "replace", f"keeping costs {keep}/year, more than a replacement depreciates ({per_year}/year)"
        else:
            rec_, why = "keep", f"keeping costs {keep}/year" + (f", less than a replacement depreciates ({per_year}/year)"
                                                                if per_year is not None else "; no purchase cost to compare")
        lines.append(DecisionLine(rec.id, hw_class, reasons, reuse, replace, keep, rec_, why, (rec.id, *reuse)))
    return DecisionReport(ctx.as_of, ctx.config.base_currency, lines, warnings=list(ctx.warnings))
