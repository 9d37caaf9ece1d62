"""Reading `bir.yaml`: strict YAML, checked against the config schema of the same point, then interpreted
into `bir.base.config.Config` (lifecycle models, currencies, defaults and horizons)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bir.base.config import Config, LifecycleModel, Requirement
from bir.base.layout import CONFIG_FILE
from bir.base.model import KINDS, to_decimal
from bir.base.problems import Problem, UsageError
from bir.base.rules import define

if TYPE_CHECKING:
    from bir.read.schemas import SchemaSet


CONFIG_INVALID = define("config.invalid", "error", "config", "bir.yaml is consistent", """
    `bir.yaml` is not a mapping, or names things that do not exist: a transition to an unknown state, a
    kind without a lifecycle model, a kind in two models, a rate that is not a positive number.

    Passes: every kind in exactly one lifecycle model, every transition between its states.
    Fails:  `transitions: {in_use: [scrapped]}` where `scrapped` is not a state.
    """)


# The lifecycle models of the kinds added after the first registers were made (stock-takes, budgets): a
# bir.yaml that names no model for them (an older one, or one read from an old commit) gets these, the same
# as the project's own bir.yaml declares, so the register and its history stay readable.
BUILTIN_MODELS: dict[str, LifecycleModel] = {
    "audit": LifecycleModel("audit", ("audit",), "planned", ("planned", "completed", "cancelled"),
                            {"planned": frozenset({"completed", "cancelled"}), "completed": frozenset(), "cancelled": frozenset()},
                            frozenset(), frozenset({"completed", "cancelled"}),
                            {"completed": (Requirement("status_dates.completed"), Requirement("results"))}),
    "budget": LifecycleModel("budget", ("budget",), "draft", ("draft", "approved", "closed"),
                             {"draft": frozenset({"approved", "closed"}), "approved": frozenset({"draft", "closed"}),
                              "closed": frozenset()},
                             frozenset({"approved"}), frozenset({"closed"}),
                             {"approved": (Requirement("status_dates.approved"), Requirement("approved_by"))}),
}


class ConfigError(UsageError):
    """The configuration is unusable; carries the problems that say why."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def find_root(start: Path) -> Path:
    """The register containing `start`: the nearest folder upwards holding `bir.yaml`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise UsageError(f"no register here: neither {start} nor any folder above it holds {CONFIG_FILE}; "
                     "pass the register's folder, or create one with `bir init`")


def read_config_file(root: Path) -> bytes:
    """The bytes of `bir.yaml` in the working tree (a symbolic link or a folder is refused)."""
    path = root / CONFIG_FILE
    if path.is_symlink() or not path.is_file():
        raise ConfigError(f"{path} is missing or not a regular file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None


def load_config(text: bytes, schemas: SchemaSet | None) -> Config:
    """Check and interpret the bytes of `bir.yaml` (from disk or from a commit) against the config schema of
    the same point: an old configuration is judged by the schema it had then. Without a config schema
    (`schemas` None, or no `config.schema.json` in it) only the interpretation checks it."""
    from bir.read.yamlstrict import parse

    parsed = parse(text, CONFIG_FILE)
    if parsed.problems or not isinstance(parsed.value, dict):
        raise ConfigError(f"{CONFIG_FILE} is not valid", parsed.problems or [
            CONFIG_INVALID.problem(CONFIG_FILE, 1, 1, "the configuration must be a mapping", "write `name: ...` and the other settings")])
    raw: dict[str, Any] = parsed.value
    if schemas is not None and "config" in schemas.raw and not schemas.is_valid("config", raw):
        raise ConfigError(f"{CONFIG_FILE} does not match its schema ({schemas.source}config.schema.json)",
                          schemas.explain("config", raw, text, CONFIG_FILE))
    return _interpret(raw)


def _interpret(raw: dict[str, Any]) -> Config:
    problems: list[Problem] = []

    def bad(message: str) -> None:
        problems.append(CONFIG_INVALID.problem(CONFIG_FILE, 1, 1, message, "fix bir.yaml"))

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
    for kind, model in BUILTIN_MODELS.items():
        if kind not in kind_model and model.name not in models:
            models[model.name] = model  # a configuration older than the kind: the kind keeps its standard model
            kind_model[kind] = model.name
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
        redundancy=dict(raw.get("redundancy") or {}),
        raw=raw,
    )
