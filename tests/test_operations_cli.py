"""The operational reports through the command line: every format, on the demo register."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bir.cli.report import REPORT_NAMES
from bir.reports import REPORTS
from support import make_register, run

OPERATIONAL = ("assignments", "audits", "maintenance", "vulnerabilities", "budget")


def test_the_command_offers_every_report() -> None:
    assert REPORT_NAMES == tuple(REPORTS)


@pytest.mark.parametrize("name", OPERATIONAL)
def test_every_format(name: str, tmp_path: Path) -> None:
    root = make_register(tmp_path / "demo", demo=True, feeds=True)
    outputs = {}
    for fmt in ("text", "markdown", "json", "csv"):
        code, out, err = run("report", name, "--as-of", "2026-12-31", "--format", fmt, "--root", str(root))
        assert code == 0, err
        outputs[fmt] = out
    data = json.loads(outputs["json"])
    assert (data["report"], data["as_of"]) == (name, "2026-12-31")
    assert outputs["text"].startswith(f"{name} report as of 2026-12-31\n")
    assert outputs["markdown"].startswith(f"# {name.capitalize()} report as of 2026-12-31\n")
    rows = list(csv.reader(io.StringIO(outputs["csv"])))
    lines = [r for r in rows if r and r[0] not in ("section", "warning")]
    lists = {k: v for k, v in data.items() if isinstance(v, list) and k != "warnings"}
    assert len(lines) == sum(len(v) for v in lists.values())  # every line of every section, once
    assert all(r[0] in lists for r in lines)
