"""JSON of record data with numbers exactly as written: `12345678901234567.89` stays that, not the float
`1.2345678901234568e+16`.

The strict loader keeps each number's text (`bir.read.yamlstrict.Number`, a float that carries it); Python's
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
