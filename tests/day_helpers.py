"""Helpers for the tests of the day-to-day commands (authoring, import, export, reconcile, init)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from bir.cli import main

PROJECT = Path(__file__).resolve().parent.parent


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` (caches excluded) with the hash of its content."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".bir-cache" not in p.parts}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `bir ARGS` as a user would (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def small_register(dest: Path) -> Path:
    """A register made by `bir init`: five records that validate clean."""
    from bir.write.scaffold import init

    init(dest, name="Test register")
    return dest


def demo_register(dest: Path) -> Path:
    """A copy of the project's demo register; skips when it is not there."""
    if not (PROJECT / "registry" / "hardware").is_dir() or len(list((PROJECT / "registry").rglob("*.yaml"))) < 100:
        pytest.skip("the demo register is not there")
    dest.mkdir(parents=True)
    shutil.copy(PROJECT / "bir.yaml", dest / "bir.yaml")
    shutil.copytree(PROJECT / "schemas", dest / "schemas")
    shutil.copytree(PROJECT / "registry", dest / "registry")
    return dest


def validate_clean(root: Path) -> list[str]:
    """The errors `bir validate` would report (empty when clean)."""
    from bir.api import validate

    return [f"{p.path}:{p.line}: {p.message} [{p.rule}]" for p in validate(root, use_cache=False).problems if p.is_error]
