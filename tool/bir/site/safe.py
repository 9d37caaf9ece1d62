"""Escaping for every place record text lands: HTML, attributes, Markdown, URLs and CSV cells."""

from __future__ import annotations

import html
import re

_MD_SPECIAL = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+!|~$"}
_URL_OK = re.compile(r"^(https?://|mailto:)[^\s<>\"'`\\]+$", re.IGNORECASE)
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
HTML_SPECIAL = re.compile(r"[&<>\"']")  # the characters HTML escaping changes
_JINJA_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#39;", '"': "&#34;"})


def esc(value: object) -> str:
    """`str(value)` escaped exactly as the templates' autoescape does (markupsafe), so that HTML built in
    Python reads byte for byte as the template it replaces."""
    text = value if type(value) is str else str(value)
    return text.translate(_JINJA_ESCAPES) if HTML_SPECIAL.search(text) else text


def md_text(value: object) -> str:
    """Record text for a generated Markdown page: HTML-escaped, Markdown syntax neutralised, one line."""
    text = " ".join(str(value).split())
    text = html.escape(text, quote=True)
    return "".join(_MD_SPECIAL.get(c, c) for c in text)


def safe_url(value: object) -> str | None:
    """The URL when it is http(s) or mailto and has no characters that could break out; else None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    return url if _URL_OK.match(url) else None


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet will show as text, never evaluate as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_CSV_TRIGGERS):
        return "'" + text
    return text
