"""Schema validation: compiled validators for the common valid case, rich errors for the rest.

fastjsonschema compiles each kind's schema into Python code, which checks a valid record many times
faster than an interpreting validator; that is the case for nearly every record. When it rejects a
record, jsonschema explains why (every error, with its path and validator), and the file is parsed
again with positions to place each problem on its line and column.

Schemas come with pull requests, so they are read as hostile input too: before a schema set is first
used, every file is checked (`bir.read.schemacheck`), and every pattern runs on a linear-time engine
(`bir.read.patterns`). The compiled validators are kept in the user's cache sealed like every other
cache (`bir.base.atomic.read_cache`), so a planted file is never executed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from bir.base.problems import Problem, UsageError
from bir.base.rules import define
from bir.read.yamlvalues import shorten

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


COMPILED_FORMAT = 3  # part of the compiled validators' cache names: a new format never reads an old file


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


class SharedValidators(Protocol):
    """Compiled validators handed between CI jobs (`bir.cache.validators`): `fetch` reads one that main's job
    made, verified (None when there is none that verifies); `publish` hands on one that this job holds in
    `path` (main's job, which holds the signing key)."""

    def fetch(self, name: str) -> object | None: ...

    def publish(self, name: str, path: Path) -> None: ...


# The one import of the code fastjsonschema generates. Loading that package takes 13 ms, more than anything
# else `bir validate` imports; only compiling needs it, so the line is left out of the code kept in the
# cache and its names are given when the code runs (a version that writes another line still works: it
# then imports the package).
_GENERATED_IMPORT = "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException\n"


class Invalid(ValueError):
    """What a compiled validator raises for a value its schema refuses (`SchemaSet.is_valid` says False; the
    detailed validator explains why)."""

    def __init__(self, message: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(message)


class SchemaSet:
    """Every schema in a register's `schemas/` folder, bundled (no file references left) per kind."""

    shared: SharedValidators | None = None  # set by the point: main's signed validators in a pull request's job

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
        self._fields: dict[str, dict[str, dict[str, Any]]] = {}

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
                from bir.read.schemacheck import MAX_SCHEMA_DEPTH, SCHEMA_MALFORMED

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

    def fields(self, kind: str) -> dict[str, dict[str, Any]]:
        """The fields of a kind's schema in its property order, top level and one level down (`financial`,
        `financial.purchase_cost`), each with its schema (a `$ref` into the shared definitions followed):
        what authoring uses to place new keys and the import to type CSV cells."""
        if kind in self._fields:
            return self._fields[kind]
        defs = self.raw.get("defs") or {}
        own = self.raw.get(kind) or {}

        def resolve(node: Any, base: Any) -> tuple[Any, Any]:
            """The node a `$ref` points at (by its whole JSON pointer: `defs.schema.json#/definitions/envelope/
            properties/name`, or `#/...` in the document it is written in), its own keywords over the target's,
            and the document it came from; chains of references followed, a few at most."""
            for _hop in range(8):
                ref = node.get("$ref") if isinstance(node, dict) else None
                if not isinstance(ref, str) or "#/" not in ref:
                    return node, base
                doc, pointer = ref.split("#/", 1)
                if doc == "defs.schema.json":
                    base = defs
                elif doc:
                    return {}, base  # another schema file: not one of the kind's own fields
                target: Any = base
                for part in pointer.split("/"):
                    part = part.replace("~1", "/").replace("~0", "~")
                    target = target.get(part) if isinstance(target, dict) else None
                if not isinstance(target, dict):
                    return {}, base
                node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return {}, base

        out: dict[str, dict[str, Any]] = {}
        props = (self.raw.get(kind) or {}).get("properties")
        for name, sub in (props.items() if isinstance(props, dict) else ()):
            sub, base = resolve(sub, own)
            if not isinstance(sub, dict):
                continue
            out[name] = sub
            children = sub.get("properties")
            for child, node in (children.items() if isinstance(children, dict) else ()):
                node, _base = resolve(node, base)
                if isinstance(node, dict):
                    out[f"{name}.{child}"] = node
        self._fields[kind] = out
        return out

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
        from bir.read.schemacheck import check_schema

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
        mine = isinstance(loaded, types.CodeType)
        if not mine and cached is not None and self.shared is not None:
            loaded = self.shared.fetch(cached.name)  # main's, for the same schemas: main verified them
        code_obj = loaded if isinstance(loaded, types.CodeType) else None
        if code_obj is None:
            import fastjsonschema

            self.verify()
            if name not in self.raw:
                raise UsageError(f"no schema {name}.schema.json in {self.source}")
            source = fastjsonschema.compile_to_code(self.bundled(name), use_formats=False)
            code_obj = compile(source.replace(_GENERATED_IMPORT, "", 1), f"<schema {name}>", "exec")
            if cached is not None:
                write_cache(cached, code_obj, codec="marshal")  # a read-only cache folder: only slower
                mine = True
        if mine and cached is not None and self.shared is not None:
            self.shared.publish(cached.name, cached)
        namespace: dict[str, Any] = {"JsonSchemaValueException": Invalid, "JsonSchemaValuesException": Invalid}
        exec(code_obj, namespace)  # noqa: S102  # generated here from the register's schemas, or sealed by this user
        patterns = namespace.get("REGEX_PATTERNS")
        if isinstance(patterns, dict):  # keyed by the schema's own patterns: run them on RE2, not on `re`
            from bir.read.patterns import compile_pattern

            for pattern in list(patterns):
                patterns[pattern] = compile_pattern(pattern)
        return namespace["validate"]  # type: ignore[no-any-return]

    def detailed(self, name: str) -> Any:
        if name not in self._detailed:
            from bir.read.patterns import detailed_validator_class

            self.verify()
            self._detailed[name] = detailed_validator_class()(self.bundled(name))
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
        from bir.read.yamlstrict import compose

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


_NUMBER_STARTS = frozenset("0123456789+-.")  # how a plain scalar that YAML 1.1 might read as a number starts
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")  # a number in YAML 1.1 and 1.2 alike
def _number_hint(text: str, plain: bool, whole: bool) -> str:
    """How to write a number where a value of text stands."""
    shown = shorten(text, 80)
    if plain and text[:1] in _NUMBER_STARTS:  # 0777, 1:20, 0x1F, 1_000, .5: numbers to YAML 1.1 only
        return f"write a plain decimal number: YAML 1.1 tools read '{shown}' differently (octal, base 60 or text)"
    if plain or not _DECIMAL.fullmatch(text):  # a word, or a quoted value that unquoted would not be a number either
        return f"write a {'whole number such as 3' if whole else 'number such as 1299.00'}; '{shown}' is text"
    return "remove the quotes: this field is a number"


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
    from yaml.nodes import MappingNode, ScalarNode

    from bir.read.yamlstrict import node_at

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
        elif isinstance(node, ScalarNode) and {"number", "integer"} & set(expected):
            hint = _number_hint(node.value, node.tag == "bir:plain", "number" not in expected)
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
        import difflib

        close = difflib.get_close_matches(name[:200], allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "remove it, or keep custom data under `custom.<namespace>`"
        if isinstance(node, MappingNode):
            at = next((k for k, _ in node.value if isinstance(k, ScalarNode) and k.value == name), node)
    elif e.validator == "enum":
        options = [str(v) for v in e.validator_value]
        message = f"{label} is {shorten(json.dumps(e.instance))}, not one of: {shorten(', '.join(options))}"
        rule = SCHEMA_ENUM
        import difflib

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


