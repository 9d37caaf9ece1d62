"""Round-trip YAML (ruamel.yaml) for the commands that edit records: comments, key order, quoting and
layout of the untouched parts of a file stay as they were; new values are written the way the model
asks (dates double-quoted, short mappings and lists of scalars in flow style).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def yaml_rt() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def load_rt(data: bytes) -> Any:
    return yaml_rt().load(data.decode("utf-8"))


def dump_rt(tree: Any) -> bytes:
    buf = io.StringIO()
    yaml_rt().dump(tree, buf)
    return buf.getvalue().encode("utf-8")


def header(kind: str) -> str:
    return f"# yaml-language-server: $schema=../../schemas/{kind}.schema.json\n"


def to_rt(value: Any) -> Any:
    """A plain value as round-trip nodes; date strings are double-quoted, as the model asks."""
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = to_rt(v)
        if value and all(not isinstance(v, (Mapping, list)) for v in value.values()) and len(value) <= 4:
            out.fa.set_flow_style()
        return out
    if isinstance(value, list):
        seq = CommentedSeq(to_rt(v) for v in value)
        if all(not isinstance(v, (Mapping, list)) for v in value):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str) and _DATE.match(value):
        return DoubleQuotedScalarString(value)
    return value


def plain(value: Any) -> Any:
    """Round-trip nodes as plain dicts, lists and scalars."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
