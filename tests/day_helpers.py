"""What tests/test_site_extra.py still imports under its old names, until the site tests use `support.py`
directly: both are `support` functions. Nothing else may import this module."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import make_register
from support import run as _run


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`support.run(*args)`; `capsys` is not needed and is ignored."""
    return _run(*args)


def small_register(dest: Path) -> Path:
    """`make_register(dest, scaffold=True)`."""
    return make_register(dest, scaffold=True)
