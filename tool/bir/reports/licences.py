"""Licence position per metric: consumption against entitlement.

Consumers are the records with a `licensed_by` relation to the licence that are not ended (retired,
disposed, lost, stolen, expired, terminated). Consumption by metric:
- `per_device`: hardware consumers, plus the hardware a consuming software is installed on (each once);
- `per_core`: the `cpu_cores` of that same hardware, summed;
- `per_user`: party consumers;
- `subscription`, `site`: consumers of any kind.

Over-deployed (consumption > quantity) is a compliance risk: true-up cost = excess x `true_up_unit_cost`
(else purchase cost / quantity). Unused entitlement (consumption < quantity) is waste, valued the same way.
"""

from __future__ import annotations

from decimal import Decimal

from bir.base.model import Record, to_decimal
from bir.reports.context import Context
from bir.reports.models import LicencePosition, LicenceReport
from bir.reports.money import cents, to_base


def _hardware_of(ctx: Context, rec: Record) -> list[str]:
    if rec.kind == "hardware":
        return [rec.id]
    out = [r.target for r in ctx.relations(rec) if r.type == "installed_on"]
    for inst in rec.data.get("installations") or () if rec.kind == "software" else ():
        if isinstance(inst, dict) and isinstance(inst.get("on"), str):
            out.append(inst["on"])
    return [h for h in out if (hw := ctx.rec(h)) is not None and hw.kind == "hardware" and not ctx.is_ended(hw)]


def unit_cost(ctx: Context, lic: Record) -> Decimal | None:
    """The cost of one unit of entitlement, in base currency."""
    cur = ctx.currency(lic)
    unit = to_decimal(lic.data.get("true_up_unit_cost"))
    if unit is not None:
        return to_base(unit, cur, ctx.config)
    purchase = to_decimal(lic.get("financial.purchase_cost"))
    qty = lic.data.get("quantity")
    if purchase is not None and isinstance(qty, int) and qty > 0:
        return to_base(purchase / qty, cur, ctx.config)
    return None


def position(ctx: Context, lic: Record) -> LicencePosition:
    metric = str(lic.data.get("metric") or "subscription")
    quantity = int(lic.data.get("quantity") or 0)
    consumers = sorted({src.id for t, src in ctx.inverse.get(lic.id, ()) if t == "licensed_by" and not ctx.is_ended(src)})
    records = ctx.register.records
    if metric in ("per_device", "per_core"):
        hardware: set[str] = set()
        for cid in consumers:
            hardware.update(_hardware_of(ctx, records[cid]))
        if metric == "per_device":
            consumption = len(hardware)
        else:
            consumption = sum(int(records[h].data.get("cpu_cores") or 0) for h in hardware)
    elif metric == "per_user":
        consumption = sum(1 for cid in consumers if records[cid].kind == "party")
    else:
        consumption = len(consumers)
    unit = unit_cost(ctx, lic)
    excess, unused = max(consumption - quantity, 0), max(quantity - consumption, 0)
    state = "over" if excess else "under" if unused else "compliant"
    return LicencePosition(lic.id, str(lic.data.get("product", "")), metric, quantity, consumption, state, excess, unused,
                           unit, cents(unit * excess) if unit is not None else None,
                           cents(unit * unused) if unit is not None else None, tuple(consumers))


def licence_positions(ctx: Context) -> list[LicencePosition]:
    """Positions of the licences in service (active), computed once per context."""
    if "licence_positions" not in ctx.cache:
        licences = sorted(ctx.register.of_kind("licence"), key=lambda r: r.id)
        ctx.cache["licence_positions"] = [position(ctx, lic) for lic in licences if ctx.in_service(lic)]
    return list(ctx.cache["licence_positions"])


def licence_report(ctx: Context) -> LicenceReport:
    return LicenceReport(ctx.as_of, ctx.config.base_currency, licence_positions(ctx), warnings=list(ctx.warnings))
