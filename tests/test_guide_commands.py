"""The user guide's commands work as written: every `$ ...` line of a ```console block in site/docs/guide/*.md
runs, in order, in a fresh git copy of the demo register (one per guide page). A command whose shown output
says `error:` must fail and print the rule ids shown; any other must succeed and print the lines shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support import demo_repo

PROJECT = Path(__file__).resolve().parent.parent
GUIDE = PROJECT / "site" / "docs" / "guide"
# Commands that read a file the reader brings (their own export or scan): not in the demo register.
READER_FILES = ("assets.csv", "inventory.csv", "scan.csv")


def commands(page: Path) -> list[tuple[str, list[str]]]:
    """(command, the output lines shown under it) for every `$` line of the page's console blocks."""
    out: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if not line.startswith("$ "):
                continue
            cmd = line[2:]
            while cmd.endswith("\\") and i < len(lines):
                cmd = cmd[:-1] + " " + lines[i].strip()
                i += 1
            shown: list[str] = []
            while i < len(lines) and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            out.append((cmd, shown))
    return out


PAGES = sorted(p for p in GUIDE.glob("*.md") if commands(p))


def test_the_guide_has_commands_and_the_skips_are_known() -> None:
    every = [cmd for page in PAGES for cmd, _ in commands(page)]
    assert len(every) >= 30
    skipped = [cmd.split()[:3] for cmd in every if any(f in cmd for f in READER_FILES)]
    assert skipped == [["bir", "import", "csv"], ["bir", "import", "csv"], ["bir", "import", "csv"], ["bir", "reconcile", "scan.csv"]]


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_guide_commands_work_as_written(page: Path, tmp_path: Path) -> None:
    root = demo_repo(tmp_path / "repo", hostile=False)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1",
           "BIR_CACHE_DIR": str(tmp_path / "cache")}
    ran = 0
    for cmd, shown in commands(page):
        if any(f in cmd for f in READER_FILES):
            continue
        res = subprocess.run(["bash", "-c", cmd], cwd=root, env=env, capture_output=True, text=True, timeout=120)
        said = res.stdout + res.stderr
        assert "Traceback" not in said and "internal error" not in said, (cmd, said)
        if any(" error: " in line for line in shown):
            assert res.returncode == 1, (cmd, said)
            for rule in re.findall(r"\[([a-z_.-]+)\]$", "\n".join(shown), flags=re.M):
                assert f"[{rule}]" in said, (cmd, rule, said)
        else:
            assert res.returncode == 0, (cmd, said)
            for line in shown:
                if line.strip() and "..." not in line and "…" not in line:
                    assert line.strip() in said, (cmd, line, said)
        ran += 1
    assert ran >= 5
