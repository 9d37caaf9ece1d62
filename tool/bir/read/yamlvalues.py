"""What the strict YAML reader (`bir.read.yamlstrict`) hands out and accepts, apart from the parser: the
Number that keeps a figure's text, the largest record file, the longest value a message quotes.

Here so that what only needs these (listing the register, reading a schema, a kept configuration that
holds Numbers) does not load PyYAML: an unchanged re-run never parses a file.
"""

from __future__ import annotations

MAX_FILE_BYTES = 1_000_000
QUOTE_LIMIT = 200  # the longest value a message quotes


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` cut to `limit` characters with an ellipsis: messages quote values, never whole documents."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Oversized(bytes):
    """What `bir.read.files.read_regular` returns for a file too large to read: no content, its real size."""

    size: int

    def __new__(cls, size: int) -> Oversized:
        out = super().__new__(cls, b"")
        out.size = size
        return out


class Number(float):
    """A number of a record as written (`949.00`, `12345678901234567.89`, `1e400`): a float for the schema,
    which only needs its type and rough size, and its exact text for money (`bir.base.model.to_decimal`
    reads it). `plain_value` itself still gives a plain float (authoring writes what it returns)."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> Number:
        value = super().__new__(cls, text)
        value.text = text
        return value

    def __reduce__(self) -> tuple[type[Number], tuple[str]]:  # records cross process boundaries pickled
        return Number, (self.text,)
