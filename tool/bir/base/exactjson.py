"""JSON of record data with numbers exactly as written: `12345678901234567.89` stays that, not the float
`1.2345678901234568e+16`.

The strict loader keeps each number's text (`bir.read.yamlvalues.Number`, a float that carries it); Python's
json module writes every float with `float.__repr__`. Here such numbers are written as their exact decimal
(`Decimal(text)`, always valid JSON for a finite number), through a marker that cannot occur in record text
(a NUL character: the `text.control` rule refuses it in every string).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import orjson

_MARK = "\x00n:"
_MARKED = re.compile(r'"\\u0000n:([^"\\]+)"')


def _exact(value: Any) -> Any:
    text = getattr(value, "text", None)
    if isinstance(value, float) and isinstance(text, str):
        number = Decimal(text)
        return _MARK + str(number) if number.is_finite() else float(value)
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


def iterencode(doc: Any, **options: Any) -> Iterator[str]:
    """`json.JSONEncoder(**options).iterencode(doc)` with exact numbers (each marker is within one chunk)."""
    for chunk in json.JSONEncoder(**options).iterencode(_exact(doc)):
        yield _MARKED.sub(r"\1", chunk) if "\\u0000n:" in chunk else chunk


def dumps(doc: Any, **options: Any) -> str:
    return "".join(iterencode(doc, **options))


def indented(doc: Any) -> bytes:
    """`dumps(doc, indent=2, ensure_ascii=False)` as UTF-8, written by orjson (6x the standard library's
    indented encoder, which is pure Python: the register's JSON download of 100,000 records). A number that
    keeps its text goes in as that exact decimal (an `orjson.Fragment`); what orjson cannot write as the
    standard library does (an integer past 64 bits, a number past the float range, a key that is not
    text) is written by the standard library instead."""
    try:
        return orjson.dumps(doc, default=_fragment, option=orjson.OPT_INDENT_2)
    except orjson.JSONEncodeError:
        return dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")


def _fragment(value: Any) -> Any:
    text = getattr(value, "text", None)
    if isinstance(value, float) and isinstance(text, str):
        number = Decimal(text)
        if number.is_finite():
            return orjson.Fragment(str(number).encode("ascii"))
    raise TypeError(f"{type(value).__name__} is not record data")
