"""Shared fixtures: registers built in temporary folders from the project's configuration and schemas."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"


def make_register(dest: Path, *overlays: Path) -> Path:
    """A register in `dest`: the project's bir.yaml and schemas, plus the `registry/` of each overlay."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT / "bir.yaml", dest / "bir.yaml")
    shutil.copytree(PROJECT / "schemas", dest / "schemas")
    (dest / "registry").mkdir(exist_ok=True)
    for overlay in overlays:
        shutil.copytree(overlay / "registry", dest / "registry", dirs_exist_ok=True, symlinks=True)
    return dest


@pytest.fixture
def base_register(tmp_path: Path) -> Path:
    return make_register(tmp_path / "reg", CASES / "_base")
