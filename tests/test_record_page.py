"""A record page's content is written in Python (`bir.site.recordpage`); the Jinja2 template it replaced is
kept here as the oracle (`oracles/record.html.j2`, and `oracles/operations.html.j2` for the part with a record's
hand-outs, budgets, maintenance plans and vulnerabilities). Every record page of the demo register (a hostile
record and git history among them) and of a generated register is rendered both ways and must be the same text."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from jinja2 import FileSystemLoader
from markupsafe import Markup

from bir.site import recordpage, render
from bir.site.build import build_site
from support import HOSTILE_ID, demo_repo

ORACLES = Path(__file__).resolve().parent / "oracles"
MARKUP = ("attributes", "relations", "diagram", "operations")  # HTML built (and escaped) before the page


def _compare_every_page(root: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Build the site of `root`; each record page's content from the template and from Python, compared.
    Returns the ids of the records compared."""
    python = recordpage.record_content
    seen: list[str] = []
    templates: dict[str, Any] = {}

    def both(**kw: Any) -> str:
        ours = python(**kw)
        if "t" not in templates:
            env = render.environment(kw["money"].keywords["currency"])  # the template's money() and record_rows()
            env.loader = FileSystemLoader(ORACLES)
            templates["t"] = env.get_template("record.html.j2")
        tables = kw["tables"]
        args = {k: v for k, v in kw.items() if k not in ("tables", "money", "record_rows")}
        args.update({k: Markup(args[k]) for k in MARKUP})
        theirs = templates["t"].render(**args, owns=tables["owns"], pays_for=tables["pays_for"], holds=tables["holds"],
                                       located=tables["located"])
        assert ours == theirs, kw["rec"].id
        seen.append(kw["rec"].id)
        return ours

    operations = recordpage.operations_content

    def both_operations(**kw: Any) -> str:
        ours = operations(**kw)
        env = render.environment("EUR")  # the operations part shows no amount through money()
        env.loader = FileSystemLoader(ORACLES)
        assert ours == env.get_template("operations.html.j2").render(**kw)
        parts.update(name for name in ("held", "budgets", "maintenance", "vulnerabilities") if kw[name])
        return ours

    parts: set[str] = set()
    monkeypatch.setattr(recordpage, "record_content", both)
    monkeypatch.setattr(recordpage, "operations_content", both_operations)
    build_site(root, out, workers=1)
    seen.extend(sorted(f"part:{p}" for p in parts))
    return seen


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIR_CACHE_DIR", str(tmp_path / "results"))


@pytest.mark.usefixtures("results")
def test_every_demo_page_reads_as_the_template_wrote_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = demo_repo(tmp_path / "repo")
    seen = _compare_every_page(root, tmp_path / "out", monkeypatch)
    pages = [s for s in seen if not s.startswith("part:")]
    assert len(pages) == len(list((root / "registry").rglob("*.yaml"))) and HOSTILE_ID in pages
    assert seen[len(pages):] == ["part:budgets", "part:held", "part:maintenance", "part:vulnerabilities"]
    page = (tmp_path / "out" / "records" / f"{HOSTILE_ID}.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page  # the hostile record's text stays text


@pytest.mark.usefixtures("results")
def test_every_generated_page_reads_as_the_template_wrote_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("bench_generate", Path(__file__).resolve().parents[1] / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen
    spec.loader.exec_module(gen)
    gen.generate(tmp_path / "gen", 1500, seed=3)
    seen = _compare_every_page(tmp_path / "gen", tmp_path / "out", monkeypatch)
    assert len(seen) == 1500 + 3 and seen[1500:] == ["part:budgets", "part:held", "part:maintenance"]
