"""Field-level differences between two versions of a record, as the change report and the history show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs: dotted path, value before and after (None when absent)."""

    path: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new}


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Mappings flattened to dotted paths; lists and scalars are values (a relation list compares whole)."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict) and value:
                out.update(flatten(value, path))
            else:
                out[path] = value
    return out


def diff_fields(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[FieldChange]:
    a, b = flatten(old or {}), flatten(new or {})
    keys = list(dict.fromkeys([*a, *b]))
    return [FieldChange(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)]
