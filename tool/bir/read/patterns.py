"""Schema patterns on a linear-time engine (RE2, from google-re2), for both validators.

A register's schemas come with pull requests, so their patterns are hostile input: on a backtracking
engine a pattern such as `(a+)+$` takes exponential time. RE2's matching time is linear in the text; a
pattern it cannot run (look-arounds, back-references) is refused with the reason. fastjsonschema's
generated code is given these compiled patterns (`bir.read.schemas`), and jsonschema, which explains
a rejected record, is extended to run them too (`detailed_validator_class`).
"""

from __future__ import annotations

from typing import Any

from bir.read.yamlvalues import shorten


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


_DETAILED: list[Any] = []


def detailed_validator_class() -> Any:
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
