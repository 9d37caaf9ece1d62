"""Money: `Decimal` amounts in a currency, converted to the register's base currency.

The conversion uses the rate configured in `bir.yaml` (`exchange_rates.rates`, one unit of the currency in
base units) and says which rate and date it used. A missing rate is an error, never a zero: a report that
silently leaves out a foreign-currency cost would understate it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from bir.base.model import to_decimal
from bir.base.problems import UsageError

if TYPE_CHECKING:
    from bir.base.config import Config

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class MissingRateError(UsageError):
    """An amount is in a currency without an exchange rate to the base currency."""


def cents(value: Decimal) -> Decimal:
    """Round half up to whole cents (the unit every report shows)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def total(values: Iterable[Decimal]) -> Decimal:
    return cents(sum(values, ZERO))


@dataclass(frozen=True, slots=True)
class Rate:
    """The rate used for a conversion: 1 `currency` = `rate` base units, as configured on `date`."""

    currency: str
    base: str
    rate: Decimal
    date: dt.date | None

    def describe(self) -> str:
        when = f" ({self.date.isoformat()})" if self.date else ""
        return f"1 {self.currency} = {self.rate} {self.base}{when}"


def rate_for(currency: str, config: Config) -> Rate:
    """The configured rate for `currency`; the base currency converts at 1."""
    if currency == config.base_currency:
        return Rate(currency, currency, Decimal(1), None)
    rate = config.rates.get(currency)
    if rate is None:
        raise MissingRateError(f"no exchange rate from {currency} to {config.base_currency}: add `{currency}: <rate>` "
                               "under exchange_rates.rates in bir.yaml")
    return Rate(currency, config.base_currency, rate, config.rates_date)


def to_base(amount: Decimal, currency: str | None, config: Config) -> Decimal:
    """`amount` in `currency` (default: the base currency) as base-currency cents."""
    cur = currency or config.base_currency
    if cur == config.base_currency:
        return cents(amount)
    return cents(amount * rate_for(cur, config).rate)


def amount(value: object) -> Decimal | None:
    """A money value from a record (YAML number) as Decimal, or None when absent."""
    return to_decimal(value)


