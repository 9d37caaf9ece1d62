"""Data-driven validation cases: each folder under tests/cases/ is a register overlay plus the problems
it must produce (`expected.txt`: `path:line:col: severity: rule`), on top of the valid `_base` register.

Adding a case is adding a folder. Set BIR_UPDATE_GOLDEN=1 to rewrite the expected files (then review them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bir.api import validate
from bir.base.problems import Problem
from support import CASES, make_register

CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir() and not p.name.startswith("_"))


def render(problems: list[Problem]) -> str:
    return "".join(f"{p.path}:{p.line}:{p.column}: {p.severity.value}: {p.rule}\n" for p in problems)


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case(case: Path, tmp_path: Path) -> None:
    root = make_register(tmp_path / "reg", CASES / "_base", case)
    result = validate(root, use_cache=False, jobs=1)
    got = render(result.problems)
    expected_file = case / "expected.txt"
    if os.environ.get("BIR_UPDATE_GOLDEN"):
        expected_file.write_text(got, encoding="utf-8")
    assert got == expected_file.read_text(encoding="utf-8")
    assert result.problems, "every case must produce at least one problem"
    for p in result.problems:
        assert p.message and p.hint, f"{p.rule} needs a message and a hint"


def test_base_register_is_clean(base_register: Path) -> None:
    result = validate(base_register, use_cache=False)
    assert result.problems == []
    assert result.summary.records == 3
    assert result.summary.by_kind == {"hardware": 1, "party": 1, "service": 1}


def test_symlink_is_reported_not_followed(base_register: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("id: secret\n", encoding="utf-8")
    (base_register / "registry" / "hardware" / "lt-09.yaml").symlink_to(secret)
    (base_register / "registry" / "linked").symlink_to(tmp_path)
    result = validate(base_register, use_cache=False)
    assert render(result.problems) == (
        "registry/hardware/lt-09.yaml:0:0: error: file.symlink\n"
        "registry/linked:0:0: error: file.symlink\n"
    )


def test_too_large_file_is_refused_before_parsing(base_register: Path) -> None:
    big = base_register / "registry" / "hardware" / "lt-big.yaml"
    big.write_bytes(b"id: lt-big\ndescription: " + b"x" * 1_100_000 + b"\n")
    result = validate(base_register, use_cache=False)
    assert render(result.problems) == "registry/hardware/lt-big.yaml:0:0: error: yaml.too-large\n"


def test_unchanged_rerun_uses_cache_and_edit_invalidates_it(base_register: Path) -> None:
    first = validate(base_register)
    assert not first.cached
    second = validate(base_register)
    assert second.cached and second.summary == first.summary
    rec = base_register / "registry" / "hardware" / "srv-01.yaml"
    rec.write_text(rec.read_text(encoding="utf-8").replace("owner: team-it", "owner: nobody"), encoding="utf-8")
    third = validate(base_register)
    assert not third.cached
    assert [p.rule for p in third.problems] == ["ref.unknown"]


def test_fifo_is_not_read(base_register: Path) -> None:
    os.mkfifo(base_register / "registry" / "hardware" / "pipe.yaml")
    result = validate(base_register, use_cache=False)
    assert render(result.problems) == "registry/hardware/pipe.yaml:0:0: error: file.not-regular\n"


def test_every_rule_is_exercised_by_a_test() -> None:
    from bir.api.rulesdoc import catalog
    from bir.base.rules import JUDGING

    tests_text = "".join(p.read_text(encoding="utf-8", errors="replace")
                         for p in Path(__file__).parent.rglob("*") if p.is_file() and p.suffix in (".py", ".txt"))
    untested = [r.id for r in catalog().values() if r.scope in JUDGING
                and r.id not in tests_text and r.id != "file.unreadable"]  # unreadable: root reads everything
    assert untested == []


def test_relation_index_is_kept_with_the_cache(base_register: Path) -> None:
    expected = [("registry/hardware/srv-01.yaml", "supports")]
    cold = validate(base_register, want_relations=True)
    assert not cold.cached and cold.relations is not None and cold.relations.get("svc-web") == expected
    warm = validate(base_register, want_relations=True)
    assert warm.cached and warm.relations is not None and warm.relations.get("svc-web") == expected
    assert warm.relations.get("srv-01") == [] and type(warm.relations).__name__ == "StoredRelations"
    (base_register / ".bir-cache" / "relations.bin").write_bytes(b"damaged")
    rebuilt = validate(base_register, want_relations=True)
    assert not rebuilt.cached and rebuilt.relations is not None and rebuilt.relations.get("svc-web") == expected


def test_a_cache_not_sealed_by_this_user_is_never_loaded(base_register: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A `.bir-cache/` that came with a pull request is not unpickled: every cache file carries a MAC
    under a key kept in the user's own cache folder."""
    import pickle

    from bir.base import atomic

    validate(base_register)
    cache = base_register / ".bir-cache" / "validate.pickle"
    sealed = cache.read_bytes()
    assert atomic.read_cache(cache) is not None
    cache.write_bytes(pickle.dumps(("a plain pickle",)))
    assert atomic.read_cache(cache) is None
    cache.write_bytes(sealed[:-1] + bytes([sealed[-1] ^ 1]))  # one bit changed
    assert atomic.read_cache(cache) is None
    monkeypatch.setattr(atomic, "_key", None)
    monkeypatch.setenv("BIR_CACHE_DIR", str(tmp_path / "another-user"))
    cache.write_bytes(sealed)
    assert atomic.read_cache(cache) is None  # another user's key
    assert not validate(base_register).cached
