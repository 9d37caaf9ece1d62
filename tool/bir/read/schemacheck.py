"""The schemas themselves checked before first use: hostile input, like every file a pull request brings.

Every file is checked against the JSON Schema draft-07 meta-schema, every `$ref` must point at a
definition of the register's own schemas, every pattern must run on the linear-time engine
(`bir.read.patterns`), and no schema may nest deeper than `MAX_SCHEMA_DEPTH`. A malformed schema is a
positioned `schema.malformed` problem (exit code 2), never a crash.
"""

from __future__ import annotations

import json
from typing import Any

from bir.base.problems import Problem
from bir.base.rules import define
from bir.read.patterns import compile_pattern
from bir.read.yamlstrict import compose, node_at
from bir.read.yamlvalues import shorten

SCHEMA_MALFORMED = define("schema.malformed", "error", "config", "schemas are valid JSON Schemas", """
    A schema file that is not a valid draft-07 JSON Schema (a `type` that is not a type name,
    `properties` that is not a mapping, `required` that is not a list...), a `$ref` to a definition that
    does not exist or to anything outside the register's own schemas, a nesting deeper than 64 levels, or
    a `pattern` that is not a regular expression the linear-time engine (RE2) runs: no look-arounds or
    back-references. Validation stops (exit code 2) until the schema is fixed.

    Passes: `"pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$"`.
    Fails:  `"required": "id"`, `"$ref": "#/definitions/nowhere"` or `"pattern": "^(?=a)"`.
    """)


MAX_SCHEMA_DEPTH = 64


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
