"""The strict YAML subset: what stays text, what is typed, what is refused (rule ids and positions)."""

from __future__ import annotations

import pytest

from bir.read.yamlstrict import MAX_DEPTH, parse, plain_value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True), ("False", False), ("null", None), ("~", None), ("42", 42), ("-7", -7), ("3.5", 3.5),
        ("1e3", 1000.0),
        # YAML 1.1 would change these; here they stay exactly the text that was written
        ("no", "no"), ("NO", "NO"), ("yes", "yes"), ("on", "on"), ("off", "off"), ("y", "y"),
        ("0777", "0777"), ("1:20", "1:20"), ("0x1F", "0x1F"), ("1_000", "1_000"), ("2024-01-15", "2024-01-15"),
        ("2024-01-15T10:00:00Z", "2024-01-15T10:00:00Z"), (".inf", ".inf"), ("+.5", "+.5"),
    ],
)
def test_plain_scalars(text: str, value: object) -> None:
    got = plain_value(text)
    assert got == value and type(got) is type(value)


def test_norway_and_friends_stay_text() -> None:
    result = parse(b"code: NO\nanswer: yes\nversion: '1.10'\nwhen: 2024-01-15\nport: 1:20\n", "x.yaml")
    assert result.problems == []
    assert result.value == {"code": "NO", "answer": "yes", "version": "1.10", "when": "2024-01-15", "port": "1:20"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a: 1\nb: 2\na: 3\n", [(3, 1, "yaml.duplicate-key", "duplicate key 'a': first defined at line 1, column 1")]),
        (b"a: &x 1\nb: *x\n", [(1, 4, "yaml.anchor", "anchor '&x' is not allowed in records"),
                               (2, 4, "yaml.alias", "alias '*x' is not allowed in records")]),
        (b"a:\n  <<: {b: 1}\n", [(2, 3, "yaml.merge-key", "merge keys (`<<`) are not allowed in records")]),
        (b"a: !custom 1\n", [(1, 4, "yaml.tag", "explicit tag '!custom' at /a is not allowed")]),
        (b"a: 1\n---\na: 2\n", [(2, 1, "yaml.multi-document", "file holds more than one YAML document")]),
        (b"", [(1, 1, "yaml.empty", "file holds no YAML document")]),
        (b"a: [1, 2\n", [(2, 1, "yaml.syntax", "did not find expected ',' or ']' (while parsing a flow sequence)")]),
        (b"a: caf\xe9\n", [(1, 7, "yaml.encoding", "file is not valid UTF-8 (byte 0xe9)")]),
        (b"\xff\xfea\x00", [(1, 1, "yaml.encoding", "file is not valid UTF-8 (byte 0xff)")]),
        (b"? [a]\n: 1\n", [(1, 3, "yaml.key-type", "a key in the document is a list or mapping")]),
    ],
)
def test_refused(data: bytes, expected: list[tuple[int, int, str, str]]) -> None:
    result = parse(data, "x.yaml")
    assert [(p.line, p.column, p.rule, p.message) for p in result.problems] == expected
    assert all(p.hint for p in result.problems)


def test_deep_flow_nesting_is_refused_before_composing() -> None:
    result = parse(b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "x.yaml")
    assert [(p.line, p.column, p.rule) for p in result.problems] == [(1, 4 + MAX_DEPTH - 1, "yaml.too-deep")]


def test_deep_block_nesting_is_refused() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 2)) + "  " * (MAX_DEPTH + 2) + "v\n"
    result = parse(text.encode(), "x.yaml")
    assert [p.rule for p in result.problems] == ["yaml.too-deep"]


def test_too_large_is_refused_without_parsing() -> None:
    result = parse(b"a: " + b"x" * 1_000_001, "x.yaml")
    assert [(p.line, p.rule) for p in result.problems] == [(0, "yaml.too-large")]
