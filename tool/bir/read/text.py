"""Text that deceives: characters a reader cannot see, or that a terminal or a CI log obeys.

Every string of a record (keys included) and of `bir.yaml` is checked, however it was written: a literal
character or a YAML escape (`"\\x1b"`, `"\\0"`, `"\\u202e"`) are the same text once read.
- control characters other than tab and line feed (NUL, ESC, CR, the C1 range...): a terminal acts on
  them (colours, cursor moves, hidden text), other tools cut the text at a NUL. An error.
- bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder what a
  reader sees, so a review shows other text than the file holds ("Trojan Source"). An error.
- zero-width and other invisible characters (U+200B-U+200F, U+2060-U+2064, U+FEFF, U+061C, U+180E): two
  values that look the same differ. A warning: some scripts use a zero-width (non-)joiner on purpose.
- a line that is a GitHub workflow command (`::error ...::`, `::add-mask::`): printed in a CI log, it would
  be obeyed. An error.

The whole file is searched once, as bytes, for anything that could produce these characters (a backslash
for escapes, the UTF-8 lead bytes of the characters above, `::` after a line break); only a file that has
one has its strings checked one by one, so a clean register pays one search per file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import NamedTuple

from bir.base.rules import Rule, define

TEXT_CONTROL = define("text.control", "error", "text", "no control characters in text", """
    A control character other than tab and line feed in a value or key (NUL, ESC, carriage return,
    backspace, the C1 range), whether written as the character itself or as a YAML escape (`"\\x1b"`, `"\\0"`,
    `"\\e"`): a terminal obeys it (colours, cursor moves, text that hides other text) and other tools cut
    the text at a NUL.

    Passes: `description: "Rack 4, row B"`.
    Fails:  `description: "Rack 4\\x1b[2K"` (an escape that erases the terminal line).
    """)
TEXT_BIDI = define("text.bidi", "error", "text", "no bidirectional control characters in text", """
    A bidirectional embedding, override or isolate (U+202A to U+202E, U+2066 to U+2069): it reorders
    the characters a reader sees, so a review shows other text than the file holds.

    Passes: `name: "שרת דואר"` (right-to-left text written as it is).
    Fails:  `owner: "team-it\\u202e"` (a right-to-left override after the id).
    """)
TEXT_INVISIBLE = define("text.invisible", "warning", "text", "no invisible characters in text", """
    A zero-width or otherwise invisible character (zero-width space, joiners, word joiner, left-to-right
    and right-to-left marks, a byte-order mark inside text): two values that look the same differ. A
    warning, as some scripts use a zero-width (non-)joiner on purpose.

    Passes: `name: "Mail server"`.
    Fails:  `name: "Mail\\u200bserver"` (a zero-width space).
    """)
TEXT_WORKFLOW = define("text.workflow-command", "error", "text", "no CI workflow commands in text", """
    A line of text that is a GitHub Actions workflow command (`::error file=...::`, `::add-mask::`,
    `::stop-commands::`): printed in a CI log it would be obeyed, so a record could fake annotations or
    hide the log.

    Passes: `description: "See ::1 on the loopback interface"`.
    Fails:  `name: "srv-01\\n::error file=README.md::approved"`.
    """)

# Anything in the raw bytes of a file that could become one of the characters below once read.
SUSPECT = re.compile(rb"\\|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\x8b-\x8f\xaa-\xae]"
                     rb"|\xe2\x81[\xa0-\xa4\xa6-\xa9]|\xef\xbb\xbf|\xd8\x9c|\xe1\xa0\x8e|\n[ \t]*::")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060-\u2064\ufeff\u061c\u180e]")
_WORKFLOW = re.compile(r"(?:^|\n)[ \t]*(::[A-Za-z][A-Za-z-]*(?:[ \t][^\n]*?)?::)")
_CONTROL_NAMES = {0: "NUL", 7: "bell", 8: "backspace", 0x0B: "vertical tab", 0x0C: "form feed", 0x0D: "carriage return",
                  0x1B: "escape", 0x7F: "delete", 0x85: "next line", 0x9B: "control sequence introducer"}


class Finding(NamedTuple):
    rule: Rule
    offset: int  # in the text
    message: str
    hint: str


def describe(ch: str) -> str:
    """A character by its code point and name: `U+202E (RIGHT-TO-LEFT OVERRIDE)`."""
    code = ord(ch)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(ch, "") or ("control character" if code < 0xA0 else "")
    return f"U+{code:04X} ({name})" if name else f"U+{code:04X}"


def findings(text: str) -> Iterator[Finding]:
    """What is deceptive in one string: at most one finding per rule (the first occurrence)."""
    m = _CONTROL.search(text)
    if m is not None:
        yield Finding(TEXT_CONTROL, m.start(), f"the text holds the control character {describe(m.group())}",
                      "remove it; write line breaks as a YAML block scalar (`|`) and nothing else invisible")
    m = _BIDI.search(text)
    if m is not None:
        yield Finding(TEXT_BIDI, m.start(), f"the text holds the bidirectional control {describe(m.group())}, "
                      "which makes it display in another order than it is stored",
                      "remove it; right-to-left text needs no control characters")
    m = _INVISIBLE.search(text)
    if m is not None:
        yield Finding(TEXT_INVISIBLE, m.start(), f"the text holds the invisible character {describe(m.group())}",
                      "remove it unless the script needs it: values that look the same should be the same")
    m = _WORKFLOW.search(text)
    if m is not None:
        yield Finding(TEXT_WORKFLOW, m.start(1), f"a line of the text is a CI workflow command ({m.group(1)[:40]!r})",
                      "remove the line, or start it with another character than `::`")


_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LEADS = (b"\\", b"\xc2", b"\xe2\x80", b"\xe2\x81", b"\xef\xbb\xbf", b"\xd8\x9c", b"\xe1\xa0\x8e", b"::")


def suspect(data: bytes) -> bool:
    """Whether the raw bytes of a file could hold deceptive text (only then are its strings checked). Byte
    searches first (each a memchr): nearly every file has none of the lead bytes, and is done."""
    if not any(lead in data for lead in _LEADS) and _CONTROL_BYTES.search(data) is None:
        return False
    return SUSPECT.search(data) is not None


def raw_control(data: bytes) -> re.Match[bytes] | None:
    """The first control character the YAML reader refuses, written as itself (not as an escape)."""
    found = _CONTROL_BYTES.search(data)
    if found is None and b"\xc2" in data:
        found = _RAW_C1.search(data)
    return found


_RAW_C1 = re.compile(rb"\xc2[\x80-\x84\x86-\x9f]")
