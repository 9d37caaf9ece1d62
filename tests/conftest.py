"""Shared fixtures. The helpers they use (and the tests import) are in `support.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import CASES, make_register


@pytest.fixture
def base_register(tmp_path: Path) -> Path:
    return make_register(tmp_path / "reg", CASES / "_base")


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo register as a git repository (with one hostile record) and its site, built once per run."""
    from bir.site.build import build_site
    from support import demo_repo

    base = tmp_path_factory.mktemp("demo-site")
    root = demo_repo(base / "repo")
    build_site(root, base / "out")
    return root, base / "out"
