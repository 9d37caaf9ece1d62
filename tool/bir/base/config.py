"""The register's configuration as values: lifecycle models, currencies, defaults and horizons.

Reading and checking `bir.yaml` is `bir.read.config`; every later stage only reads these values.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Requirement:
    """A field a lifecycle state requires, optionally only when other fields have given values."""

    field: str
    when: tuple[tuple[str, Any], ...] = ()

    def describe(self) -> str:
        if not self.when:
            return self.field
        cond = ", ".join(f"{k} is {json.dumps(v)}" for k, v in self.when)
        return f"{self.field} (when {cond})"


@dataclass(frozen=True, slots=True)
class LifecycleModel:
    name: str
    kinds: tuple[str, ...]
    initial: str
    states: tuple[str, ...]
    transitions: dict[str, frozenset[str]]
    in_service: frozenset[str]
    final: frozenset[str]
    requires: dict[str, tuple[Requirement, ...]]

    def allows(self, old: str, new: str) -> bool:
        return old == new or new in self.transitions.get(old, frozenset())

    def order(self, state: str) -> int:
        return self.states.index(state) if state in self.states else len(self.states)


@dataclass(frozen=True, slots=True)
class Config:
    """What `bir.yaml` says, interpreted: the register's rules and settings at one point."""

    name: str
    base_currency: str
    rates: dict[str, Decimal]
    rates_date: dt.date | None
    repository_url: str
    models: dict[str, LifecycleModel]
    kind_model: dict[str, str]
    defaults: dict[str, Any]
    data_bearing_classes: frozenset[str]
    horizons_days: tuple[int, ...] = (30, 90, 365)
    verification_period_days: int = 365
    change_required_fields: tuple[str, ...] = ()
    redundancy: dict[str, Any] = field(default_factory=dict)  # `redundancy` in bir.yaml: groups, failure kinds
    raw: dict[str, Any] = field(default_factory=dict)

    def model_for(self, kind: str) -> LifecycleModel:
        return self.models[self.kind_model[kind]]

    def has_rate(self, currency: str) -> bool:
        return currency == self.base_currency or currency in self.rates

    def depreciation_defaults(self, kind: str, hw_class: str | None = None) -> dict[str, Any]:
        by_class = self.defaults.get("by_class", {})
        if hw_class and hw_class in by_class:
            return dict(by_class[hw_class])
        return dict(self.defaults.get(kind, {}).get("depreciation", {}))
