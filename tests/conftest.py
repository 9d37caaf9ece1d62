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


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo register as a git repository (with one hostile record) and its site, built once per run."""
    from bir.site.build import build_site
    from site_support import demo_repo

    base = tmp_path_factory.mktemp("demo-site")
    root = demo_repo(base / "repo")
    build_site(root, base / "out")
    return root, base / "out"
