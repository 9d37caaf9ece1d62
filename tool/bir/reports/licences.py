"""Licence position per metric: consumption against entitlement, one figure for the licence report, the risk
rules, the decisions and the site.

Consumers are the records with a `licensed_by` relation to the licence that are not ended (retired,
disposed, lost, stolen, expired, terminated). Consumption by metric:
- `per_device`: hardware consumers, plus the hardware a consuming software or cloud service is installed on
  or runs on (each once);
- `per_core`: the `cpu_cores` of that same hardware, summed;
- `per_user` and `subscription` (named seats): the people consuming it: party consumers, plus the people
  the consuming hardware is `assigned_to` (each once);
- `site`: the sites (facilities of type `site`) the consuming hardware is located in, through the places
  it is part of (each once);
- `concurrent`: only a declared consumption (the peak of simultaneous users) says it: without one the
  position is `unknown`.
A declared consumption (`consumption: {count, date, source}` on the licence: the vendor portal's count of
assigned seats, a licence server's peak) dated on or before the day wins over what the register's records
show, whatever the metric: it is the count the vendor bills.

Over-deployed (consumption > quantity) is a compliance risk: true-up cost = excess x `true_up_unit_cost`
(else purchase cost / quantity). Unused entitlement (consumption < quantity) is waste, valued the same way.
"""

from __future__ import annotations

from decimal import Decimal

from bir.base.model import Record, to_decimal
from bir.reports.context import Context
from bir.reports.models import LicencePosition, LicenceReport
from bir.reports.money import to_base

PEOPLE_METRICS = frozenset({"per_user", "subscription"})


def _hardware_of(ctx: Context, rec: Record) -> list[str]:
    if rec.kind == "hardware":
        return [rec.id]
    return [h for h in ctx.hosts(rec) if (hw := ctx.rec(h)) is not None and hw.kind == "hardware" and not ctx.is_ended(hw)]


def _site_of(ctx: Context, rid: str) -> str | None:
    """The site a record is located in: up its `located_in` and `part_of` chain to a facility of type site."""
    seen: set[str] = set()
    current = ctx.rec(rid)
    while current is not None and current.id not in seen:
        seen.add(current.id)
        if current.kind == "facility" and current.data.get("facility_type") == "site":
            return current.id
        nxt = next((r.target for r in ctx.relations(current) if r.type in ("located_in", "part_of")), None)
        current = ctx.rec(nxt) if nxt else None
    return None


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


def declared(ctx: Context, lic: Record) -> tuple[int, str] | None:
    """The declared consumption in force on the day: (count, "declared <date>: <source>")."""
    count, when, source = lic.get("consumption.count"), lic.date("consumption.date"), lic.get("consumption.source")
    if not isinstance(count, int) or isinstance(count, bool) or when is None or when > ctx.as_of:
        return None
    return count, f"declared {when.isoformat()}: {source}"


def measured(ctx: Context, lic: Record, metric: str, consumers: list[str]) -> tuple[int | None, str]:
    """What the register's records show for `metric`: (consumption, how it was counted); None: not countable."""
    records = ctx.register.records
    if metric in ("per_device", "per_core", "site"):
        hardware: set[str] = set()
        for cid in consumers:
            hardware.update(_hardware_of(ctx, records[cid]))
        if metric == "per_device":
            return len(hardware), "devices"
        if metric == "per_core":
            return sum(int(records[h].data.get("cpu_cores") or 0) for h in hardware), "cores of the devices"
        return len({s for h in hardware if (s := _site_of(ctx, h)) is not None}), "sites of the devices"
    if metric in PEOPLE_METRICS:
        people = {cid for cid in consumers if records[cid].kind == "party"}
        for cid in consumers:
            holder = records[cid].data.get("assigned_to") if records[cid].kind == "hardware" else None
            if isinstance(holder, str) and holder in records and not ctx.is_ended(records[holder]):
                people.add(holder)
        return len(people), "people"
    if metric == "concurrent":
        return None, "no declared consumption: concurrent use is not in the register"
    return len(consumers), "consumers"


def position(ctx: Context, lic: Record) -> LicencePosition:
    metric = str(lic.data.get("metric") or "subscription")
    quantity = int(lic.data.get("quantity") or 0)
    consumers = sorted({src.id for t, src in ctx.inverse.get(lic.id, ()) if t == "licensed_by" and not ctx.is_ended(src)})
    found = declared(ctx, lic)
    if found is not None:
        consumption: int | None = found[0]
        how = found[1]
    else:
        consumption, how = measured(ctx, lic, metric, consumers)
    unit = unit_cost(ctx, lic)
    if consumption is None:
        return LicencePosition(lic.id, str(lic.data.get("product", "")), metric, quantity, 0, "unknown", 0, 0, unit, None, None,
                               how, tuple(consumers))
    excess, unused = max(consumption - quantity, 0), max(quantity - consumption, 0)
    state = "over" if excess else "under" if unused else "compliant"
    return LicencePosition(lic.id, str(lic.data.get("product", "")), metric, quantity, consumption, state, excess, unused,
                           unit, ctx.money(unit * excess) if unit is not None else None,
                           ctx.money(unit * unused) if unit is not None else None, how, tuple(consumers))


def licence_positions(ctx: Context) -> list[LicencePosition]:
    """Positions of the licences in service (active), computed once per context."""
    if "licence_positions" not in ctx.cache:
        licences = sorted(ctx.of_kind("licence"), key=lambda r: r.id)
        ctx.cache["licence_positions"] = [position(ctx, lic) for lic in licences if ctx.in_service(lic)]
    return list(ctx.cache["licence_positions"])


def licence_report(ctx: Context) -> LicenceReport:
    return LicenceReport(ctx.as_of, ctx.config.base_currency, licence_positions(ctx), warnings=list(ctx.warnings))
