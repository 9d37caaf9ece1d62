"""The register's configuration (`bir.yaml`): currencies, lifecycle models, defaults and horizons."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bir.base.model import KINDS, to_decimal
from bir.base.problems import Problem, UsageError, error
from bir.read.yamlstrict import parse

CONFIG_FILE = "bir.yaml"
SCHEMA_DIR = "schemas"
RECORD_DIR = "registry"
KIND_FOLDERS = {f"{RECORD_DIR}/{k}": k for k in KINDS}  # "registry/hardware" -> "hardware"


def record_of(path: str) -> tuple[str, str] | None:
    """(kind, id) of a record's path `registry/<kind>/<id>.yaml` (relative to the register root), None
    for any other path."""
    folder, _, name = path.rpartition("/")
    kind = KIND_FOLDERS.get(folder)
    if kind is None or not name.endswith(".yaml"):
        return None
    return kind, name[:-5]


class ConfigError(UsageError):
    """The configuration is unusable; carries the problems that say why."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


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
    root: Path
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


def find_root(start: Path) -> Path:
    """The register containing `start`: the nearest folder upwards holding `bir.yaml`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise UsageError(f"no register here: neither {start} nor any folder above it holds {CONFIG_FILE}; "
                     "pass the register's folder, or create one with `bir init`")


def load_config(root: Path, text: bytes | None = None) -> Config:
    """Read, validate and interpret `bir.yaml`. `text` lets callers pass an old version read from git."""
    path = root / CONFIG_FILE
    if text is None:
        if path.is_symlink() or not path.is_file():
            raise ConfigError(f"{path} is missing or not a regular file")
        text = path.read_bytes()
    parsed = parse(text, CONFIG_FILE)
    if parsed.problems or not isinstance(parsed.value, dict):
        raise ConfigError(f"{CONFIG_FILE} is not valid", parsed.problems or [error(CONFIG_FILE, 1, 1, "config.invalid",
                                                                                   "the configuration must be a mapping", "")])
    raw: dict[str, Any] = parsed.value
    if (root / SCHEMA_DIR / "config.schema.json").is_file():
        from bir.read.schemas import SchemaSet, compiled_cache_dir

        schemas = SchemaSet(root / SCHEMA_DIR, cache_dir=compiled_cache_dir())
        if not schemas.is_valid("config", raw):
            raise ConfigError(f"{CONFIG_FILE} does not match its schema", schemas.explain("config", raw, text, CONFIG_FILE))
    return _interpret(root, raw)


def _interpret(root: Path, raw: dict[str, Any]) -> Config:
    problems: list[Problem] = []

    def bad(message: str) -> None:
        problems.append(error(CONFIG_FILE, 1, 1, "config.invalid", message, "fix bir.yaml"))

    models: dict[str, LifecycleModel] = {}
    kind_model: dict[str, str] = {}
    for name, m in (raw.get("lifecycle_models") or {}).items():
        states = tuple(m.get("states") or ())
        transitions = {s: frozenset(t or ()) for s, t in (m.get("transitions") or {}).items()}
        for s, targets in transitions.items():
            for t in {s, *targets}:
                if t not in states:
                    bad(f"lifecycle model '{name}': transition names unknown state '{t}'")
        requires: dict[str, tuple[Requirement, ...]] = {}
        for state, reqs in (m.get("requires") or {}).items():
            if state not in states:
                bad(f"lifecycle model '{name}': `requires` names unknown state '{state}'")
            items = []
            for r in reqs or ():
                if isinstance(r, str):
                    items.append(Requirement(r))
                else:
                    items.append(Requirement(str(r["field"]), tuple(sorted((r.get("when") or {}).items()))))
            requires[state] = tuple(items)
        for key in ("in_service", "final"):
            for s in m.get(key) or ():
                if s not in states:
                    bad(f"lifecycle model '{name}': `{key}` names unknown state '{s}'")
        initial = str(m.get("initial") or (states[0] if states else ""))
        for kind in m.get("kinds") or ():
            if kind not in KINDS:
                bad(f"lifecycle model '{name}' names unknown kind '{kind}'")
            elif kind in kind_model:
                bad(f"kind '{kind}' is in two lifecycle models: '{kind_model[kind]}' and '{name}'")
            else:
                kind_model[kind] = name
        models[name] = LifecycleModel(name, tuple(m.get("kinds") or ()), initial, states, transitions,
                                      frozenset(m.get("in_service") or ()), frozenset(m.get("final") or ()), requires)
    for kind in KINDS:
        if kind not in kind_model:
            bad(f"kind '{kind}' has no lifecycle model")
    rates_raw = raw.get("exchange_rates") or {}
    rates: dict[str, Decimal] = {}
    for cur, value in (rates_raw.get("rates") or {}).items():
        dec = to_decimal(value)
        if dec is None or dec <= 0:
            bad(f"exchange rate for {cur} must be a positive number")
        else:
            rates[cur] = dec
    rates_date = None
    if rates_raw.get("date"):
        try:
            rates_date = dt.date.fromisoformat(str(rates_raw["date"]))
        except ValueError:
            bad(f"exchange_rates.date '{rates_raw['date']}' is not a date (YYYY-MM-DD)")
    if problems:
        raise ConfigError(f"{CONFIG_FILE} is not consistent", problems)
    reports = raw.get("reports") or {}
    return Config(
        root=root,
        name=str(raw.get("name", "")),
        base_currency=str(raw.get("base_currency", "EUR")),
        rates=rates,
        rates_date=rates_date,
        repository_url=str(raw.get("repository_url", "")),
        models=models,
        kind_model=kind_model,
        defaults=dict(raw.get("defaults") or {}),
        data_bearing_classes=frozenset(raw.get("data_bearing_classes") or ()),
        horizons_days=tuple(reports.get("horizons_days") or (30, 90, 365)),
        verification_period_days=int(reports.get("verification_period_days") or 365),
        change_required_fields=tuple((raw.get("change") or {}).get("required_fields") or ()),
        raw=raw,
    )
