"""`FIELD=VALUE` edits: read from the command line, applied to a round-trip YAML tree.

Values are read like a plain YAML scalar by the strict rules of `bir.read.yamlstrict.plain_value`:
`true`, `false`, `null`, decimal integers and floats are typed; anything else (dates included) stays
the text that was written. `[a, b]` and `{k: v}` are read as flow YAML. `FIELD=` removes the field,
`FIELD+=VALUE` appends to a list, `FIELD-=VALUE` removes from a list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bir.base.problems import UsageError
from bir.read.yamlstrict import parse, plain_value
from bir.write.rtyaml import plain, to_rt

_ASSIGN = re.compile(r"^(?P<field>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(?P<op>\+=|-=|=)(?P<value>.*)$",
                     re.DOTALL)


@dataclass(frozen=True, slots=True)
class Assignment:
    """One `FIELD=VALUE` (op `=`), `FIELD+=VALUE` (append) or `FIELD-=VALUE` (remove from a list)."""

    field: str
    op: str
    value: Any
    remove: bool = False  # `FIELD=`: delete the field


def parse_value(text: str) -> Any:
    text = text.strip()
    if text[:1] in ("[", "{", '"', "'"):
        parsed = parse(text.encode("utf-8"), "<value>")
        if parsed.problems:
            raise UsageError(f"cannot read the value {text!r}: {parsed.problems[0].message}")
        return parsed.value
    return plain_value(text)


def parse_assignment(text: str) -> Assignment:
    m = _ASSIGN.match(text)
    if not m:
        raise UsageError(f"'{text}' is not FIELD=VALUE (also FIELD+=VALUE to append, FIELD-=VALUE to remove, FIELD= to delete)")
    value_text = m.group("value")
    if m.group("op") == "=" and value_text.strip() == "":
        return Assignment(m.group("field"), "=", None, remove=True)
    return Assignment(m.group("field"), m.group("op"), parse_value(value_text))


def parse_assignments(texts: Iterable[str]) -> list[Assignment]:
    return [parse_assignment(t) for t in texts]


def _insert(mapping: Any, key: str, value: Any, order: Sequence[str]) -> None:
    """Set `key`; a new key goes right after the existing key that precedes it in the schema's property
    order (at the top when none does; at the end when the schema does not name it)."""
    if key in mapping or key not in order or not isinstance(mapping, CommentedMap):
        mapping[key] = value
        return
    rank = order.index(key)
    pos = 0
    best = -1
    for i, existing in enumerate(mapping):
        r = order.index(existing) if existing in order else -1
        if best < r < rank:
            best, pos = r, i + 1
    mapping.insert(pos, key, value)


Order = Mapping[str, Sequence[str]]  # dotted parent path ("" for the top) -> the schema's property order


def apply(tree: Any, assignment: Assignment, order: Order | None = None) -> None:
    """Apply one assignment to a round-trip tree, creating intermediate mappings as needed; new keys go
    where the schema's property order puts them."""
    order = order or {}
    parts = assignment.field.split(".")
    cur = tree
    for i, part in enumerate(parts[:-1]):
        nxt = cur.get(part)
        if nxt is None:
            if assignment.remove:
                return
            nxt = CommentedMap()
            _insert(cur, part, nxt, order.get(".".join(parts[:i]), ()))
        elif not isinstance(nxt, Mapping):
            raise UsageError(f"{'.'.join(parts[:i + 1])} is not a mapping, so {assignment.field} cannot be set")
        cur = nxt
    last = parts[-1]
    top_order = order.get(".".join(parts[:-1]), ())
    if assignment.remove:
        if last in cur:
            del cur[last]
        return
    if assignment.op == "=":
        if last in cur and plain(cur[last]) == assignment.value:
            return  # unchanged: keep the original node (and its quoting)
        _insert(cur, last, to_rt(assignment.value), top_order)
        return
    items = cur.get(last)
    if items is None:
        items = CommentedSeq()
        if not isinstance(assignment.value, Mapping):
            items.fa.set_flow_style()
        _insert(cur, last, items, top_order)
    if not isinstance(items, list):
        raise UsageError(f"{assignment.field} is not a list, so it cannot take += or -=")
    if assignment.op == "+=":
        if assignment.value not in [plain(v) for v in items]:
            items.append(to_rt(assignment.value))
    else:
        for i in reversed(range(len(items))):
            if plain(items[i]) == assignment.value:
                del items[i]
