"""`bir site` without the `site` extra installed: a usage error naming the install command (exit 2)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from support import make_register, run


def test_site_without_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_register(tmp_path / "reg", scaffold=True)
    real = importlib.util.find_spec

    def without_site(name: str, *args: Any) -> Any:
        return None if name in ("mkdocs", "material") else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_site)
    for command in (["site", "build", "--root", str(root)], ["site", "serve", "--root", str(root)]):
        code, out, err = run(*command)
        assert code == 2 and out == ""
        assert err == ("bir: error: the site needs packages that are not installed (mkdocs, material): install bir with "
                       "its site extra, e.g. `pip install 'bir[site]'` (from a clone: `pip install '.[site]'`)\n")
    assert not (root / "site").exists()
    code, out, _ = run("site", "build", "--help")  # help still works
    assert code == 0 and "Build the site" in out


def test_site_extra_declares_what_the_site_imports() -> None:
    """Every third-party package the site stage imports is in the `site` extra, and none of them is a
    dependency of `bir validate`."""
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    names = {d.split(">")[0].split("<")[0].split("=")[0].strip().lower() for d in project["optional-dependencies"]["site"]}
    core = {d.split(">")[0].split("<")[0].split("=")[0].strip().lower() for d in project["dependencies"]}
    assert names == {"mkdocs", "mkdocs-material", "jinja2", "markupsafe"}
    assert not names & core
    for dep in [*project["dependencies"], *project["optional-dependencies"]["site"], *project["optional-dependencies"]["dev"]]:
        assert "<" in dep, f"{dep} has no upper bound"
