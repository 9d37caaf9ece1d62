"""Strict YAML: the safe subset a record may use, parsed by libyaml, with every problem positioned.

Why not `yaml.safe_load`: it silently turns `no` into False, `1:20` into 80 and `0777` into 511,
keeps the last of two duplicate keys, and expands anchors and merge keys. Here a plain scalar is typed
only when YAML 1.1 and YAML 1.2 agree on it (true/false, null, decimal integers and floats); any other
plain scalar stays the exact text that was written, so the schema, which types every field, decides,
and its error can say "quote it". Anchors, aliases, merge keys, explicit tags and multi-document files
are rejected.

The C parser does the scanning and composing; this module only walks the node tree, so it costs about
what `yaml.load(Loader=CSafeLoader)` costs, and node marks give every problem its line and column.

Over 400 lines on purpose: the strict subset is one walk of the node tree (what it accepts, the
Number that keeps a figure's text, the positions of its problems); split, each part would need the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml._yaml import CParser  # type: ignore[import-not-found]
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from bir.base.problems import Problem, UsageError
from bir.base.rules import Rule, define
from bir.read import text as deceit
from bir.read.yamlvalues import MAX_FILE_BYTES, Number, Oversized, shorten

MAX_DEPTH = 24
MAX_DIGITS = 4300  # Python's limit for reading an integer from text (sys.get_int_max_str_digits)
_INF = float("inf")

_PLAIN = "bir:plain"
_QUOTED = "bir:quoted"
_MAP = "bir:map"
_SEQ = "bir:seq"

_KEYWORDS: dict[str, object] = {
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
    "null": None, "Null": None, "NULL": None, "~": None, "": None,
}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_MISSING = object()


def storable(value: Any) -> Any:
    """Record data as marshal can store it: a `Number` as `(text,)` (record data holds no tuples), so two
    numbers written differently (`949` and `949.00`) stay different."""
    if isinstance(value, dict):
        return {k: storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    if type(value) is Number:
        return (value.text,)
    return value


class _Composer(CParser):  # type: ignore[misc]
    """libyaml's composer with a resolver that only marks plain or quoted: typing is done here."""

    def resolve(self, kind: type, value: object, implicit: object) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _QUOTED  # type: ignore[index]
        return _MAP if kind is MappingNode else _SEQ

    def descend_resolver(self, current_node: object, current_index: object) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


class NumberTooLarge(UsageError):
    """A plain number that no field can hold: more digits than Python reads, or a float past infinity."""


def plain_value(text: str) -> object:
    """The value of a plain (unquoted) scalar: typed only where YAML 1.1 and 1.2 agree.

    Raises NumberTooLarge for an integer of more than MAX_DIGITS digits or a float that would be infinite."""
    v = _KEYWORDS.get(text, _MISSING)
    if v is not _MISSING:
        return v
    if text[0] in "0123456789-+":
        if _INT.fullmatch(text):
            if len(text) > MAX_DIGITS:
                raise NumberTooLarge(f"a number of {len(text.lstrip('+-')):,} digits is larger than any field holds "
                                     f"(at most {MAX_DIGITS:,} digits are read)")
            return int(text)
        if "." in text or "e" in text or "E" in text:
            if _FLOAT.fullmatch(text):
                number = float(text)
                if number in (_INF, -_INF):
                    raise NumberTooLarge(f"the number {shorten(text, 40)} is too large to be read (it would be infinite)")
                return number
    return text


# -- rules ------------------------------------------------------------------------------------------------
YAML_TOO_LARGE = define("yaml.too-large", "error", "yaml", "a record file is at most 1,000,000 bytes", """
    A file over 1,000,000 bytes, refused before it is read.

    Passes: a record of a few kilobytes.
    Fails:  a 5 MB file in `registry/information/`.
    """)
YAML_ENCODING = define("yaml.encoding", "error", "yaml", "record files are UTF-8", """
    A file that is not UTF-8 (UTF-16 included).

    Passes: `name: Müller` saved as UTF-8.
    Fails:  the same file saved as Latin-1 or UTF-16.
    """)
YAML_SYNTAX = define("yaml.syntax", "error", "yaml", "record files are valid YAML", """
    Invalid YAML, or control characters in the file.

    Passes: `name: "Web server: front"`.
    Fails:  `name: Web server: front` (a second `: ` in a plain value).
    """)
YAML_EMPTY = define("yaml.empty", "error", "yaml", "a record file holds a record", """
    A file without a YAML document, or whose document is empty (`~`, `null`, `---`): emptying a file is
    not a way to remove a record.

    Passes: a file starting with `id: srv-01`.
    Fails:  a file holding only `~`.
    """)
YAML_MULTI_DOCUMENT = define("yaml.multi-document", "error", "yaml", "one YAML document per file", """
    More than one YAML document (`---`) in a file.

    Passes: one record per file.
    Fails:  two records separated by `---`.
    """)
YAML_DUPLICATE_KEY = define("yaml.duplicate-key", "error", "yaml", "keys are unique in a mapping", """
    The same key twice in a mapping; the message names both lines.

    Passes: `owner: team-it` once.
    Fails:  `owner: team-it` on line 3 and `owner: team-ops` on line 9.
    """)
YAML_ANCHOR = define("yaml.anchor", "error", "yaml", "no anchors", """
    An anchor (`&name`): records do not share parts.

    Passes: `financial: {currency: EUR}` written out.
    Fails:  `financial: &fin {currency: EUR}`.
    """)
YAML_ALIAS = define("yaml.alias", "error", "yaml", "no aliases", """
    An alias (`*name`).

    Passes: each value written out.
    Fails:  `financial: *fin`.
    """)
YAML_MERGE_KEY = define("yaml.merge-key", "error", "yaml", "no merge keys", """
    A merge key (`<<`).

    Passes: each field written out.
    Fails:  `<<: *defaults`.
    """)
YAML_TAG = define("yaml.tag", "error", "yaml", "no explicit tags", """
    An explicit tag (`!tag`, `!!python/...`).

    Passes: `purchase_cost: 1200.00`.
    Fails:  `purchase_cost: !!float 1200`.
    """)
YAML_KEY_TYPE = define("yaml.key-type", "error", "yaml", "keys are text", """
    A list or mapping used as a key.

    Passes: `name: srv-01`.
    Fails:  `? [a, b]\n: value`.
    """)
YAML_NUMBER = define("yaml.number-too-large", "error", "yaml", "numbers can be read exactly", """
    A plain number too large to read: an integer of more than 4,300 digits, or a float beyond the largest
    one (`1e999`, which would be read as infinity). Quote it if it is text.

    Passes: `quantity: 250`.
    Fails:  `quantity: 1e999`.
    """)
YAML_TOO_DEEP = define("yaml.too-deep", "error", "yaml", "at most 24 levels of nesting", """
    Nesting deeper than 24 levels, refused before the document is built.

    Passes: `custom: {vendor: {field: value}}`.
    Fails:  30 nested lists `[[[[...]]]]`.
    """)


class _Fail(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


@dataclass(slots=True)
class Parsed:
    """The result of parsing one file: its value (None when unusable) and its problems."""

    value: Any = None
    problems: list[Problem] = field(default_factory=list)


def _mark(node_or_event: Any) -> tuple[int, int]:
    m = node_or_event.start_mark
    return m.line + 1, m.column + 1


class _Builder:
    def __init__(self, path: str, check_text: bool = False) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.check_text = check_text  # the file could hold deceptive text: check every string

    def fail(self, node: Any, rule: Rule, message: str, hint: str, jpath: str = "") -> None:
        line, col = _mark(node)
        self.problems.append(rule.problem(self.path, line, col, message, hint, jpath))

    def text(self, node: ScalarNode, jpath: str, what: str) -> None:
        """Report deceptive characters in one scalar (a key or a value), at the character when it can be placed."""
        for found in deceit.findings(node.value):
            line, col = _mark(node)
            before = node.value[: found.offset]
            if node.style is None and "\n" not in before:
                col += found.offset  # a plain scalar on one line: the character's own column
            self.problems.append(found.rule.problem(self.path, line, col, f"{what}: {found.message}", found.hint, jpath))

    def build(self, node: Node, depth: int, jpath: str) -> object:
        cls = node.__class__
        if cls is ScalarNode:
            tag = node.tag
            if self.check_text:
                self.text(node, jpath, jpath[1:].replace("/", ".") or "the document")  # type: ignore[arg-type]
            if tag is _PLAIN:
                try:
                    value = plain_value(node.value)
                except NumberTooLarge as exc:
                    self.fail(node, YAML_NUMBER, f"{jpath[1:].replace('/', '.') or 'the document'}: {exc}",
                              "quote it if it is text; no field of a record holds a number this large", jpath)
                    return node.value
                return Number(node.value) if value.__class__ is float else value
            if tag is _QUOTED:
                return node.value
            self._bad_tag(node, jpath)
            return node.value
        if depth >= MAX_DEPTH:
            self.fail(node, YAML_TOO_DEEP, f"{jpath or 'the document'} nests deeper than {MAX_DEPTH} levels",
                      "flatten the structure: records never need this much nesting")
            raise _Fail(self.problems[-1])
        if node.tag is not _MAP and node.tag is not _SEQ:
            self._bad_tag(node, jpath)
        if cls is MappingNode:
            out: dict[str, object] = {}
            for knode, vnode in node.value:
                if knode.__class__ is not ScalarNode:
                    self.fail(knode, YAML_KEY_TYPE, f"a key in {jpath or 'the document'} is a list or mapping",
                              "keys must be plain text such as `name:`")
                    continue
                key = knode.value
                if self.check_text:
                    self.text(knode, f"{jpath}/{key}", f"the key {shorten(repr(key), 60)} in {jpath[1:].replace('/', '.') or 'the document'}")
                if knode.tag is _PLAIN and key == "<<":
                    self.fail(knode, YAML_MERGE_KEY, "merge keys (`<<`) are not allowed in records",
                              "write the fields out in full: each record stands on its own")
                    continue
                if key in out:
                    first = next(k for k, _ in node.value if k.__class__ is ScalarNode and k.value == key)
                    fl, fc = _mark(first)
                    self.fail(knode, YAML_DUPLICATE_KEY,
                              f"duplicate key '{key}': first defined at line {fl}, column {fc}",
                              "keep one of the two; YAML would silently drop the first")
                    continue
                out[key] = self.build(vnode, depth + 1, f"{jpath}/{key}")
            return out
        return [self.build(item, depth + 1, f"{jpath}/{i}") for i, item in enumerate(node.value)]

    def _bad_tag(self, node: Node, jpath: str) -> None:
        self.fail(node, YAML_TAG, f"explicit tag '{node.tag}' at {jpath or 'the document'} is not allowed",
                  "remove the tag; quote the value if it must stay text")


def _scan_events(data: bytes, path: str) -> list[Problem]:
    """The slow check, run only when the text could hold anchors, aliases or deep flow nesting."""
    problems: list[Problem] = []
    depth = 0
    for event in yaml.parse(data, Loader=yaml.CSafeLoader):
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent):
            line, col = _mark(event)
            problems.append(YAML_ALIAS.problem(path, line, col, f"alias '*{anchor}' is not allowed in records",
                                  "write the value out in full; records do not share parts"))
        elif anchor is not None:
            line, col = _mark(event)
            problems.append(YAML_ANCHOR.problem(path, line, col, f"anchor '&{anchor}' is not allowed in records",
                                  "remove the anchor and write values out in full"))
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                line, col = _mark(event)
                problems.append(YAML_TOO_DEEP.problem(path, line, col, f"the document nests deeper than {MAX_DEPTH} levels",
                                      "flatten the structure: records never need this much nesting"))
                break
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return problems


_BRACKETS = re.compile(rb"[\[\]{}]")


def _first_deep_bracket(data: bytes) -> int | None:
    """The offset of the first `[` or `{` nested deeper than MAX_DEPTH (brackets counted as they come; a
    document that starts as a block mapping or list is the first level, as in the event count)."""
    depth = 0 if data.lstrip()[:1] in (b"[", b"{") else 1
    for m in _BRACKETS.finditer(data):
        if m.group() in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        else:
            depth = max(0, depth - 1)
    return None


def _line_col_of_offset(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, len(data[start:offset].decode("utf-8", "replace")) + 1


def compose(data: bytes) -> Node | None:
    """The node tree of a document already known to parse (used to position schema problems)."""
    loader = _Composer(data)
    try:
        node: Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


def parse(data: bytes, path: str) -> Parsed:
    """Parse one record file strictly. Never raises for bad input: problems come back as data."""
    size = data.size if isinstance(data, Oversized) else len(data)
    if size > MAX_FILE_BYTES:
        return Parsed(None, [YAML_TOO_LARGE.problem(path, 0, 0, f"file is {size:,} bytes; records are at most {MAX_FILE_BYTES:,}",
                                   "keep large documents outside the register and link to them")])
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col_of_offset(data, exc.start)
        return Parsed(None, [YAML_ENCODING.problem(path, line, col, f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                                   "save the file as UTF-8")])
    if data.startswith((b"\xfe\xff", b"\xff\xfe")):
        return Parsed(None, [YAML_ENCODING.problem(path, 1, 1, "file is UTF-16, not UTF-8", "save the file as UTF-8")])
    check_text = deceit.suspect(data)
    raw_control = deceit.raw_control(data) if check_text else None
    if raw_control is not None:  # libyaml refuses the file: say which character, and where
        line, col = _line_col_of_offset(data, raw_control.start())
        ch = raw_control.group().decode("utf-8")
        return Parsed(None, [deceit.TEXT_CONTROL.problem(path, line, col, f"the file holds the control character {deceit.describe(ch)}",
                                                         "remove it: a record holds visible text, tabs and line breaks only")])
    if b"&" in data or b"*" in data or data.count(b"[") + data.count(b"{") > MAX_DEPTH:
        try:
            early = _scan_events(data, path)
        except ReaderError as exc:
            line, col = _line_col_of_offset(data, exc.position or 0)
            return Parsed(None, [YAML_SYNTAX.problem(path, line, col, shorten(str(exc).splitlines()[0]),
                                                     "remove the character the message names")])
        except yaml.MarkedYAMLError as exc:
            # Some libyaml builds stop deep flow nesting themselves, as a syntax error: say what it is.
            deep = _first_deep_bracket(data)
            if deep is not None:
                line, col = _line_col_of_offset(data, deep)
                return Parsed(None, [YAML_TOO_DEEP.problem(path, line, col, f"the document nests deeper than {MAX_DEPTH} levels",
                                           "flatten the structure: records never need this much nesting")])
            return Parsed(None, [_syntax_problem(exc, path)])
        if early:
            return Parsed(None, early)
    try:
        node = compose(data)
    except yaml.MarkedYAMLError as exc:
        return Parsed(None, [_syntax_problem(exc, path)])
    except yaml.YAMLError as exc:  # reader errors carry a position but no mark
        pos = getattr(exc, "position", 0) or 0
        line, col = _line_col_of_offset(data, pos)
        return Parsed(None, [YAML_SYNTAX.problem(path, line, col, str(exc).splitlines()[0], "remove control characters from the file")])
    if node is None:
        return Parsed(None, [YAML_EMPTY.problem(path, 1, 1, "file holds no YAML document", "write the record's fields, or delete the file")])
    builder = _Builder(path, check_text)
    try:
        value = builder.build(node, 0, "")
    except _Fail:
        return Parsed(None, builder.problems)
    return Parsed(value, builder.problems)


def _syntax_problem(exc: yaml.MarkedYAMLError, path: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    what = exc.problem or "invalid YAML"
    if "expected a single document" in (exc.context or ""):
        return YAML_MULTI_DOCUMENT.problem(path, line, col, "file holds more than one YAML document",
                     "one record per file: remove the `---` separator and move the second document to its own file")
    if exc.context:
        what = f"{what} ({exc.context})"
    return YAML_SYNTAX.problem(path, line, col, what, "fix the YAML syntax at this position; quote values that contain `: ` or `#`")


def node_at(root: Node, parts: list[str]) -> tuple[Node, Node | None]:
    """The value node at a JSON path, and its key node when the last step is a mapping key.

    Follows the path as far as it exists, so a missing field is positioned at its parent.
    """
    node, key = root, None
    for part in parts:
        if isinstance(node, MappingNode):
            found = next(((k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == part), None)
            if found is None:
                break
            key, node = found
        elif isinstance(node, SequenceNode) and part.isdigit() and int(part) < len(node.value):
            key, node = None, node.value[int(part)]
        else:
            break
    return node, key


def iter_scalars(node: Node) -> Iterator[ScalarNode]:
    if isinstance(node, ScalarNode):
        yield node
    elif isinstance(node, MappingNode):
        for k, v in node.value:
            yield from iter_scalars(k)
            yield from iter_scalars(v)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from iter_scalars(item)
