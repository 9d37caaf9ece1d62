"""One escaping function per channel that text from records (untrusted: it arrives in pull requests) reaches.

- `terminal`: one line for a terminal; every control character, and every invisible or direction-changing
  character, is shown as its escape (`\\x1b`, `\\u202e`), never acted on.
- `markdown`: inline text in GitHub-flavoured Markdown (pull-request comments, job summaries): HTML and
  Markdown syntax neutralised, and the things GitHub acts on in plain text defused: @-mentions, autolinks
  (`https://`, `www.`), issue references (`#12`).
- `workflow_data` / `workflow_property`: the message and the properties of a GitHub workflow command
  (`::error file=...::message`). Record text reaches the runner only through these, inside an annotation,
  never on a line of its own (where `::add-mask::` or `::stop-commands::` would be acted on).
- `csv_cell`: a spreadsheet cell that is shown as text and never evaluated as a formula.
- `html`: text and attribute values in HTML.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata

_ZWSP = "\u200b"  # zero width space: breaks a pattern GitHub would act on, invisible to the reader
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _needs_escape(ch: str) -> bool:
    return (not ch.isprintable() and ch != " ") or ch in _INVISIBLE or ch in _BIDI


def terminal(value: object) -> str:
    """Text on one line, safe for a terminal: control, invisible and bidirectional characters escaped."""
    text = str(value)
    if text.isprintable() and not any(c in _INVISIBLE or c in _BIDI for c in text):
        return text
    out = []
    for ch in text:
        if _needs_escape(ch):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


_MD_PUNCT = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()!|~<>&\"'"}
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(?=://)|(?<=\bwww)(?=\.)")
_ISSUE = re.compile(r"#(?=\d)")


def markdown(value: object) -> str:
    """Inline GitHub Markdown that shows the text as written and does nothing else: no HTML, links, images,
    emphasis, code spans, table breaks, mentions or autolinks; on one line."""
    text = " ".join(terminal(value).split())
    text = _MENTION.sub("@" + _ZWSP, text)
    text = _AUTOLINK.sub(_ZWSP, text)
    text = _ISSUE.sub("#" + _ZWSP, text)
    text = "".join(_MD_PUNCT.get(c, c) for c in text)
    if text.startswith(("#", "-", "+", "=", ">")) or re.match(r"^\d+[.)]", text):
        text = "&#8203;" + text  # not a heading, list item, quote or setext underline at the start of a line
    return text


def workflow_data(value: object) -> str:
    """The message of a workflow command: `%`, CR and LF encoded (the runner decodes them)."""
    return str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(value: object) -> str:
    """A property value of a workflow command (`file=`, `title=`): also `:` and `,` encoded."""
    return workflow_data(value).replace(":", "%3A").replace(",", "%2C")


_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading character that could start a formula (or a line
    break, after which the next line's first character could) gets an apostrophe in front."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA) or "\r" in text or "\n" in text:
        return "'" + text
    return text


def html(value: object) -> str:
    """Text (or an attribute value) in HTML."""
    return _html.escape(str(value), quote=True)


def invisible_characters(text: str) -> list[tuple[int, str]]:
    """(position, name) of every character in `text` that a reader cannot see or that reorders text."""
    found = []
    for i, ch in enumerate(text):
        if ch in _INVISIBLE or ch in _BIDI or (unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n"):
            found.append((i, unicodedata.name(ch, f"U+{ord(ch):04X}")))
    return found
