"""Schema validation: compiled validators for the common valid case, rich errors for the rest.

fastjsonschema compiles each kind's schema into Python code, which checks a valid record many times
faster than an interpreting validator; that is the case for nearly every record. When it rejects a
record, jsonschema explains why (every error, with its path and validator), and the file is parsed
again with positions to place each problem on its line and column.

Schemas come with pull requests, so they are read as hostile input too. Before a schema set is first
used, every file is checked against the JSON Schema draft-07 meta-schema, every `$ref` must point at a
definition of the register's own schemas, and every pattern must compile: a malformed schema is a
positioned `schema.malformed` problem (exit code 2), never a crash. Patterns run on RE2 (google-re2), whose
matching time is linear in the text, so a pattern such as `(a+)+$` cannot hang validation; a pattern RE2
cannot run (look-arounds, back-references) is refused. The compiled validators are kept in the user's
cache sealed like every other cache (`bir.base.atomic.read_cache`), so a planted file is never executed.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, ScalarNode

from bir.base.problems import Problem, UsageError
from bir.base.rules import define
from bir.read.yamlstrict import compose, node_at, shorten

Validator = Callable[[Any], Any]


# -- rules ------------------------------------------------------------------------------------------------
SCHEMA_TYPE = define("schema.type", "error", "schema", "values have the type the schema gives", """
    A value of the wrong type; for YAML 1.1 look-alikes (`no`, `1.10`, `0777`) the hint says to quote or
    unquote. A record that is not a mapping of fields is this error too.

    Passes: `version: "1.10"` where version is text.
    Fails:  `version: 1.10` (a number: YAML reads it as 1.1).
    """)
SCHEMA_REQUIRED = define("schema.required", "error", "schema", "required fields are present", """
    A required field is missing.

    Passes: a hardware record with `owner: team-it`.
    Fails:  a hardware record without `owner`.
    """)
SCHEMA_UNKNOWN_FIELD = define("schema.unknown-field", "error", "schema", "fields are defined by the schema", """
    A field the schema does not define (with a did-you-mean); custom data goes under `custom.<namespace>`.

    Passes: `serial_number: CZ1234`.
    Fails:  `serial_no: CZ1234` (did you mean `serial_number`?).
    """)
SCHEMA_ENUM = define("schema.enum", "error", "schema", "values are one of the allowed ones", """
    A value outside the allowed list (with a did-you-mean).

    Passes: `class: laptop`.
    Fails:  `class: notebook`.
    """)
SCHEMA_CONST = define("schema.const", "error", "schema", "fixed values are as fixed", """
    A value that must be fixed (`kind`).

    Passes: `kind: hardware` in a hardware record.
    Fails:  `kind: hardwares`.
    """)
SCHEMA_PATTERN = define("schema.pattern", "error", "schema", "text has the expected form", """
    Text that does not have the expected form (ids, dates, currencies).

    Passes: `purchase_date: "2024-03-01"`.
    Fails:  `purchase_date: "01/03/2024"`.
    """)
SCHEMA_RANGE = define("schema.range", "error", "schema", "numbers, lengths and counts are within bounds", """
    A number, length or count outside its bounds.

    Passes: `quantity: 50`.
    Fails:  `quantity: -5`.
    """)
SCHEMA_MALFORMED = define("schema.malformed", "error", "config", "schemas are valid JSON Schemas", """
    A schema file that is not a valid draft-07 JSON Schema (a `type` that is not a type name,
    `properties` that is not a mapping, `required` that is not a list...), a `$ref` to a definition that
    does not exist or to anything outside the register's own schemas, a nesting deeper than 64 levels, or
    a `pattern` that is not a regular expression the linear-time engine (RE2) runs: no look-arounds or
    back-references. Validation stops (exit code 2) until the schema is fixed.

    Passes: `"pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$"`.
    Fails:  `"required": "id"`, `"$ref": "#/definitions/nowhere"` or `"pattern": "^(?=a)"`.
    """)
SCHEMA_INVALID = define("schema.invalid", "error", "schema", "records match their schema", """
    Any other way a record does not match its schema (a `not`, `if`/`then`, or `format` constraint).

    Passes: a record that matches `schemas/<kind>.schema.json`.
    Fails:  a record the schema rejects for a reason none of the other schema rules names.
    """)


class SchemaError(UsageError):
    """The register's schemas are unusable; carries the positioned problems that say why (exit code 2)."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


MAX_SCHEMA_DEPTH = 64
COMPILED_FORMAT = 2  # part of the compiled validators' cache names: a new format never reads an old file


def _re2_options() -> Any:
    try:
        import re2
    except ImportError:  # pragma: no cover -- google-re2 is a dependency; see _refuse_catastrophic
        return None
    options = re2.Options()
    options.log_errors = False  # the error comes back as an exception; RE2 would also print it on stderr
    options.never_capture = True  # a schema only asks whether the text matches
    return options


_RE2_OPTIONS = _re2_options()
_PATTERNS: dict[str, Any] = {}


def compile_pattern(pattern: str) -> Any:
    """A schema pattern compiled for linear-time matching (an object with `.search(text)`); ValueError
    with the reason when the pattern cannot be run that way."""
    found = _PATTERNS.get(pattern)
    if found is not None:
        return found
    if _RE2_OPTIONS is not None:
        import re2

        try:
            found = _Linear(re2.compile(pattern, _RE2_OPTIONS))
        except re2.error as exc:
            reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise ValueError(f"the linear-time engine cannot run it ({reason})") from None
    else:  # pragma: no cover
        import re

        _refuse_catastrophic(pattern)
        try:
            found = re.compile(pattern)
        except re.error as exc:
            raise ValueError(str(exc)) from None
    _PATTERNS[pattern] = found
    return found


class _Linear:
    """An RE2 pattern as the validators use it: `.search(text)` is whether it matches. It calls RE2's binding
    directly (the module's Python layer costs several times the match) and remembers the answers for the
    values a register repeats (ids, dates, currencies), up to a bound."""

    __slots__ = ("_anchor", "_match", "_seen")

    def __init__(self, compiled: Any) -> None:
        import re2

        self._match = compiled._regexp.Match
        self._anchor = re2._Anchor.UNANCHORED
        self._seen: dict[str, bool] = {}

    def search(self, text: str) -> bool:
        found = self._seen.get(text)
        if found is None:
            data = text.encode("utf-8", "surrogatepass")
            found = self._match(self._anchor, data, 0, len(data))[0][0] != -1
            if len(self._seen) >= 50_000:
                self._seen.clear()
            self._seen[text] = found
        return found


def _refuse_catastrophic(pattern: str) -> None:  # pragma: no cover -- only without google-re2
    """Without RE2: refuse a group that repeats a repetition (`(a+)+`, `(a*)*`, `(a|b+){2,}`), the shape
    that makes a backtracking engine take exponential time."""
    stack: list[bool] = []
    inner = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            stack.append(inner)
            inner = False
        elif c == ")" and stack:
            nxt = pattern[i + 1:i + 2]
            if inner and (nxt in ("+", "*") or (pattern[i + 1:].startswith("{") and "," in pattern[i + 1:pattern.find("}", i) + 1])):
                raise ValueError("a repeated group holds a repetition, which can take exponential time")
            inner = stack.pop() or inner
        elif c in "+*":
            inner = True
        i += 1


def compiled_cache_dir() -> Path | None:
    """Where compiled validators are kept: like `__pycache__`, they depend only on the schemas and the
    Python version, so one copy serves every clone and every run (`BIR_CACHE_DIR`, else the user cache)."""
    from bir.base.atomic import user_cache_dir

    return user_cache_dir()


def _rewrite_refs(node: Any, own_stem: str) -> Any:
    """Point every `$ref` at the bundled definitions: `defs.schema.json#/definitions/x` -> `#/definitions/defs__x`."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                file, _, pointer = value.partition("#")
                stem = file.removesuffix(".schema.json") if file else own_stem
                if pointer.startswith("/definitions/") and stem:
                    out[key] = f"#/definitions/{stem}__{pointer[len('/definitions/'):]}"
                else:
                    out[key] = value
            else:
                out[key] = _rewrite_refs(value, own_stem)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, own_stem) for v in node]
    return node


class SchemaSet:
    """Every schema in a register's `schemas/` folder, bundled (no file references left) per kind."""

    def __init__(self, raw: dict[str, dict[str, Any]], source: str, cache_dir: Path | None = None,
                 files: dict[str, bytes] | None = None) -> None:
        self.raw = raw
        self.source = source  # where the schemas were read: "schemas/" or "schemas/ of commit 1a2b3c4"
        self.cache_dir = cache_dir
        self.files = files or {}  # name (`hardware`) -> the file's bytes, to position problems
        self._verified = False
        self.fingerprint = hashlib.sha256(
            json.dumps(self.raw, sort_keys=True).encode()).hexdigest()[:16]
        self._bundled: dict[str, dict[str, Any]] = {}
        self._fast: dict[str, Validator] = {}
        self._detailed: dict[str, Any] = {}

    @classmethod
    def from_folder(cls, folder: Path, cache_dir: Path | None = None) -> SchemaSet:
        """The schemas of a register's `schemas/` folder on disk (symbolic links refused)."""
        if folder.is_symlink() or not folder.is_dir():
            raise UsageError(f"schema folder {folder} is missing; a register keeps its JSON Schemas in schemas/")
        files: dict[str, bytes] = {}
        for path in sorted(folder.glob("*.schema.json")):
            if path.is_symlink():
                raise UsageError(f"schema {path} is a symbolic link; schemas must be regular files")
            try:
                files[path.name] = path.read_bytes()
            except OSError as exc:
                raise UsageError(f"cannot read schema {path}: {exc.strerror or exc}") from None
        return cls.from_files(files, f"{folder.name}/", cache_dir)

    @classmethod
    def from_files(cls, files: dict[str, bytes], source: str, cache_dir: Path | None = None) -> SchemaSet:
        """Schemas from their file names (`hardware.schema.json`) and contents, e.g. read from a commit."""
        raw: dict[str, dict[str, Any]] = {}
        for name in sorted(files):
            if not name.endswith(".schema.json"):
                continue
            try:
                data = json.loads(files[name])
            except RecursionError:
                raise SchemaError(f"schema {source}{name} is nested too deeply to be read", [SCHEMA_MALFORMED.problem(
                    f"schemas/{name}", 1, 1, f"the schema nests deeper than {MAX_SCHEMA_DEPTH} levels",
                    "flatten it: a record's schema never needs this much nesting")]) from None
            except ValueError as exc:
                raise UsageError(f"cannot read schema {source}{name}: {shorten(str(exc))}") from None
            if not isinstance(data, dict):
                raise UsageError(f"schema {source}{name} is not a JSON object")
            raw[name.removesuffix(".schema.json")] = data
        return cls(raw, source, cache_dir, {n.removesuffix(".schema.json"): b for n, b in files.items()})

    def kinds(self) -> list[str]:
        return [k for k in self.raw if k not in ("defs", "config")]

    def bundled(self, name: str) -> dict[str, Any]:
        if name not in self._bundled:
            if name not in self.raw:
                raise UsageError(f"no schema {name}.schema.json in {self.source}")
            schema = _rewrite_refs(copy.deepcopy(self.raw[name]), name)
            own = schema.pop("definitions", {})
            definitions: dict[str, Any] = {}
            for stem, other in self.raw.items():
                for key, value in (other.get("definitions") or {}).items():
                    definitions[f"{stem}__{key}"] = _rewrite_refs(value, stem)
            for key, value in own.items():
                definitions[f"{name}__{key}"] = value
            schema["definitions"] = definitions
            schema.pop("$id", None)
            schema.pop("examples", None)
            self._bundled[name] = schema
        return self._bundled[name]

    def verify(self) -> None:
        """Check every schema file once (meta-schema, `$ref`s, patterns); SchemaError with the problems."""
        if self._verified:
            return
        problems: list[Problem] = []
        for name in sorted(self.raw):
            problems.extend(check_schema(name, self.raw[name], self.raw, self.files.get(name)))
        if problems:
            raise SchemaError(f"the schemas in {self.source} are not valid JSON Schemas; fix them and run again", problems)
        self._verified = True

    def fast(self, name: str) -> Validator:
        if name not in self._fast:
            self._fast[name] = self._compile(name)
        return self._fast[name]

    def _compile(self, name: str) -> Validator:
        """Compile with fastjsonschema, keeping the generated code in the user's cache, sealed: compiling
        costs far more than loading, and a register's schemas rarely change. A cached validator exists only
        for schemas that passed `verify`, so finding one stands for that check."""
        import importlib.util
        import types

        from bir.base.atomic import read_cache, write_cache

        tag = importlib.util.MAGIC_NUMBER.hex()
        cached = (self.cache_dir / f"schema-{name}-{self.fingerprint}-{tag}-{COMPILED_FORMAT}.bin"
                  if self.cache_dir else None)
        loaded = read_cache(cached, codec="marshal") if cached is not None else None
        code_obj = loaded if isinstance(loaded, types.CodeType) else None
        if code_obj is None:
            import fastjsonschema

            self.verify()
            if name not in self.raw:
                raise UsageError(f"no schema {name}.schema.json in {self.source}")
            source = fastjsonschema.compile_to_code(self.bundled(name), use_formats=False)
            code_obj = compile(source, f"<schema {name}>", "exec")
            if cached is not None:
                write_cache(cached, code_obj, codec="marshal")  # a read-only cache folder: only slower
        namespace: dict[str, Any] = {}
        exec(code_obj, namespace)  # noqa: S102  # generated here from the register's schemas, or sealed by this user
        patterns = namespace.get("REGEX_PATTERNS")
        if isinstance(patterns, dict):  # keyed by the schema's own patterns: run them on RE2, not on `re`
            for pattern in list(patterns):
                patterns[pattern] = compile_pattern(pattern)
        return namespace["validate"]  # type: ignore[no-any-return]

    def detailed(self, name: str) -> Any:
        if name not in self._detailed:
            self.verify()
            self._detailed[name] = _detailed_class()(self.bundled(name))
        return self._detailed[name]

    def warm(self) -> None:
        """Compile every validator now (before worker processes fork, so they inherit them)."""
        for kind in self.kinds():
            self.fast(kind)

    def is_valid(self, name: str, value: Any) -> bool:
        validator = self.fast(name)  # a malformed schema raises SchemaError here, not "invalid record"
        try:
            validator(value)
        except Exception:  # fastjsonschema raises JsonSchemaValueException; anything else is a failure too
            return False
        return True

    def explain(self, name: str, value: Any, data: bytes, path: str) -> list[Problem]:
        """Every schema error of an invalid record, positioned, each with a fix hint."""
        root = compose(data)
        errors = sorted(self.detailed(name).iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
        problems = [_to_problem(e, root, path, self.bundled(name)) for e in _leaf_errors(errors)]
        if not problems:
            problems.append(SCHEMA_INVALID.problem(path, 1, 1, "record does not match its schema",
                                  f"check the record against schemas/{name}.schema.json"))
        return problems


def _leaf_errors(errors: list[Any]) -> list[Any]:
    out = []
    for e in errors:
        if e.validator in ("anyOf", "oneOf") and e.context:
            import jsonschema.exceptions

            out.append(jsonschema.exceptions.best_match(e.context))
        else:
            out.append(e)
    return out


_TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "object": "a mapping", "array": "a list", "null": "empty"}


def _json_type(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _to_problem(e: Any, root: Any, path: str, schema: dict[str, Any]) -> Problem:
    parts = [str(p) for p in e.absolute_path]
    field = "/" + "/".join(parts) if parts else ""
    label = shorten(".".join(parts), 120) if parts else "the record"
    node, key = node_at(root, parts) if root is not None else (None, None)
    hint = ""
    rule = SCHEMA_INVALID
    message = shorten(e.message)
    description = e.schema.get("description", "") if isinstance(e.schema, dict) else ""
    at = node
    if e.validator == "type":
        expected = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in expected)
        message = f"{label} must be {words}, not {_json_type(e.instance)}"
        rule = SCHEMA_TYPE
        if isinstance(node, ScalarNode) and node.tag == "bir:plain" and "string" in expected:
            hint = f'quote the value so YAML keeps it as text: "{shorten(node.value, 80)}"'
        elif isinstance(node, ScalarNode) and "boolean" in expected and node.tag == "bir:plain":
            hint = "write true or false (YAML 1.1 words such as yes/no/on/off are not accepted)"
        elif e.instance is None:
            hint = f"give {label} a value, or remove the line"
        elif isinstance(node, ScalarNode) and node.tag == "bir:plain" and ({"number", "integer"} & set(expected)):
            hint = f"write a plain decimal number: YAML 1.1 tools read '{shorten(node.value, 80)}' differently (octal, base 60 or text)"
        elif isinstance(node, ScalarNode) and node.tag == "bir:quoted" and ({"number", "integer"} & set(expected)):
            hint = "remove the quotes: this field is a number"
        else:
            hint = description
    elif e.validator == "required":
        missing = e.message.split("'")[1] if "'" in e.message else e.message
        message = f"{label} is missing the required field '{missing}'"
        rule = SCHEMA_REQUIRED
        hint = f"add `{missing}:` with a value"
        at = key if key is not None else node
        if not parts:
            at = None
    elif e.validator == "additionalProperties":
        extras = sorted(set(e.instance) - set((e.schema.get("properties") or {}).keys())) if isinstance(e.instance, dict) else []
        name = extras[0] if extras else "?"
        message = f"unknown field '{shorten(name, 120)}' in {label}"
        rule = SCHEMA_UNKNOWN_FIELD
        allowed = sorted((e.schema.get("properties") or {}).keys())
        close = difflib.get_close_matches(name[:200], allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "remove it, or keep custom data under `custom.<namespace>`"
        if isinstance(node, MappingNode):
            at = next((k for k, _ in node.value if isinstance(k, ScalarNode) and k.value == name), node)
    elif e.validator == "enum":
        options = [str(v) for v in e.validator_value]
        message = f"{label} is {shorten(json.dumps(e.instance))}, not one of: {shorten(', '.join(options))}"
        rule = SCHEMA_ENUM
        close = difflib.get_close_matches(str(e.instance)[:200], options, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(options)}"
    elif e.validator == "const":
        message = f"{label} must be {shorten(json.dumps(e.validator_value))}, not {shorten(json.dumps(e.instance))}"
        rule = SCHEMA_CONST
        hint = f"write `{parts[-1] if parts else 'value'}: {e.validator_value}`"
    elif e.validator == "pattern":
        message = f"{label} {shorten(json.dumps(e.instance))} does not have the expected form"
        rule = SCHEMA_PATTERN
        hint = description or f"it must match {e.validator_value}"
    elif e.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
                         "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "multipleOf"):
        message = f"{label}: {shorten(e.message)}"
        rule = SCHEMA_RANGE
        hint = description
    else:
        message = f"{label}: {shorten(e.message)}"
        hint = description
    line, col = (at.start_mark.line + 1, at.start_mark.column + 1) if at is not None else (1, 1)
    return rule.problem(path, line, col, message, hint, field)


# -- the schemas themselves ---------------------------------------------------------------------------------
def _depth(node: Any, limit: int) -> int:
    """How deep `node` nests, counted up to `limit` (without recursion: the input is not trusted)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return depth
        deepest = max(deepest, depth)
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


_DATA_KEYWORDS = frozenset({"examples", "enum", "const", "default"})  # what they hold is data, not schemas


def _walk(node: Any, path: tuple[str, ...] = ()) -> Any:
    """Every mapping in a schema, with its path (keys and list indexes as text)."""
    stack = [(node, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            yield value, where
            stack.extend((v, (*where, str(k))) for k, v in value.items()
                         if isinstance(v, (dict, list)) and k not in _DATA_KEYWORDS)
        elif isinstance(value, list):
            stack.extend((v, (*where, str(i))) for i, v in enumerate(value) if isinstance(v, (dict, list)))


def _resolve_pointer(doc: Any, pointer: str) -> bool:
    """Whether the JSON pointer `pointer` (`/definitions/x`) names something in `doc`."""
    if pointer in ("", "/"):
        return pointer == "" or (isinstance(doc, dict) and "" in doc)
    if not pointer.startswith("/"):
        return False
    node = doc
    for raw in pointer[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def check_schema(name: str, schema: dict[str, Any], every: dict[str, dict[str, Any]], data: bytes | None) -> list[Problem]:
    """The problems of one schema file: the meta-schema, its `$ref`s and its patterns, each positioned."""
    import jsonschema

    path = f"schemas/{name}.schema.json"
    found: list[tuple[tuple[str, ...], str, str]] = []  # (json path, message, hint)
    if _depth(schema, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH:
        found.append(((), f"the schema nests deeper than {MAX_SCHEMA_DEPTH} levels", "flatten it"))
        return _positioned(path, data, found)
    meta = jsonschema.Draft7Validator(jsonschema.Draft7Validator.META_SCHEMA,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    for e in sorted(meta.iter_errors(schema), key=lambda e: [str(p) for p in e.absolute_path])[:20]:
        where = tuple(str(p) for p in e.absolute_path)
        found.append((where, f"{'/'.join(where) or 'the schema'}: {shorten(e.message)}",
                      "write it as draft-07 JSON Schema defines it (https://json-schema.org/draft-07)"))
    if found:
        return _positioned(path, data, found)
    for node, where in _walk(schema):
        ref = node.get("$ref")
        if "$ref" in node and not (where and where[-1] == "properties"):
            target, _, pointer = str(ref).partition("#")
            stem = target.removesuffix(".schema.json") if target else name
            if target and (not target.endswith(".schema.json") or "/" in target or ":" in target):
                found.append(((*where, "$ref"), f"$ref {shorten(json.dumps(ref), 80)} points outside the register's schemas",
                              "refer to a definition in this folder, e.g. defs.schema.json#/definitions/money"))
            elif stem not in every or not _resolve_pointer(every[stem], pointer):
                found.append(((*where, "$ref"), f"$ref {shorten(json.dumps(ref), 80)} points at nothing",
                              f"define it under `definitions` in {stem}.schema.json, or fix the reference"))
        candidates = []
        if isinstance(node.get("pattern"), str) and not (where and where[-1] == "properties"):
            candidates.append(((*where, "pattern"), node["pattern"]))
        if isinstance(node.get("patternProperties"), dict) and not (where and where[-1] == "properties"):
            candidates += [((*where, "patternProperties", k), k) for k in node["patternProperties"]]
        for at, pattern in candidates:
            try:
                compile_pattern(pattern)
            except ValueError as exc:
                found.append((at, f"pattern {shorten(json.dumps(pattern), 80)}: {exc}",
                              "write it without look-arounds or back-references (RE2 syntax, which runs in linear time)"))
    return _positioned(path, data, sorted(found))


def _positioned(path: str, data: bytes | None, found: list[tuple[tuple[str, ...], str, str]]) -> list[Problem]:
    root = None
    if data is not None and found:
        try:
            root = compose(data)  # JSON is YAML: the node tree gives every key its line and column
        except Exception:  # a schema YAML cannot compose (a tab, say): the problems go at the top
            root = None
    out = []
    for where, message, hint in found:
        line, col = 1, 1
        if root is not None:
            node, key = node_at(root, list(where))
            mark = (key if key is not None else node).start_mark
            line, col = mark.line + 1, mark.column + 1
        out.append(SCHEMA_MALFORMED.problem(path, line, col, message, hint, "/" + "/".join(where) if where else ""))
    return out


_DETAILED: list[Any] = []


def _detailed_class() -> Any:
    """jsonschema's draft-07 validator with every pattern run on RE2 (`compile_pattern`)."""
    if _DETAILED:
        return _DETAILED[0]
    import jsonschema
    from jsonschema.exceptions import ValidationError

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not compile_pattern(patrn).search(instance):
            yield ValidationError(f"{shorten(repr(instance))} does not match {patrn!r}")

    def pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any, schema: Any) -> Any:
        if not validator.is_type(instance, "object"):
            return
        for patrn, subschema in patterns.items():
            for k, v in instance.items():
                if compile_pattern(patrn).search(k):
                    yield from validator.descend(v, subschema, path=k, schema_path=patrn)

    def additional_properties(validator: Any, ap: Any, instance: Any, schema: Any) -> Any:
        if not validator.is_type(instance, "object"):
            return
        props = schema.get("properties", {})
        patterns = list(schema.get("patternProperties", {}))
        extras = sorted((k for k in instance if k not in props and not any(compile_pattern(p).search(k) for p in patterns)),
                        key=str)
        if validator.is_type(ap, "object"):
            for extra in extras:
                yield from validator.descend(instance[extra], ap, path=extra)
        elif not ap and extras:
            yield ValidationError(f"Additional properties are not allowed ({', '.join(repr(e) for e in extras)} "
                                  f"{'was' if len(extras) == 1 else 'were'} unexpected)")

    cls = jsonschema.validators.extend(jsonschema.Draft7Validator, {
        "pattern": pattern, "patternProperties": pattern_properties, "additionalProperties": additional_properties})
    _DETAILED.append(cls)
    return cls
