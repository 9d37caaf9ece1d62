"""The demo register as a git repository with fixed dates and one hostile record, for the site tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

HOSTILE_ID = "pty-hostile"
HOSTILE = """\
id: pty-hostile
kind: party
name: "<script>alert(1)</script> [click](javascript:alert(2)) **bold** LONG_NAME"
description: "=cmd|' /C calc'!A0 <img src=x onerror=alert(3)> ![x](https://evil.example/x.png) LONG_TEXT"
owner: pty-hostile
status: active
status_dates: {active: "2024-01-01"}
party_type: person
custom:
  northwind:
    homepage_url: "javascript:alert(4)"
    note: "<b>tag</b> =HYPERLINK(\\"http://evil.example\\")"
""".replace("LONG_NAME", "W" * 120).replace("LONG_TEXT", "x" * 4800)  # long unbroken strings must never widen a page


def git(repo: Path, *args: str, date: str = "2026-01-05T10:00:00+00:00") -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Ada Admin",
        "GIT_AUTHOR_EMAIL": "ada@example.org",
        "GIT_COMMITTER_NAME": "Ada Admin",
        "GIT_COMMITTER_EMAIL": "ada@example.org",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_SYSTEM": "/dev/null",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def demo_repo(dest: Path, hostile: bool = True) -> Path:
    """The demo register in three commits: half the records, the rest (a PR merge subject), the hostile record."""
    dest.mkdir(parents=True)
    shutil.copy(PROJECT / "bir.yaml", dest / "bir.yaml")
    shutil.copytree(PROJECT / "schemas", dest / "schemas")
    shutil.copytree(PROJECT / "feeds", dest / "feeds")
    if (PROJECT / "site" / "docs").is_dir():
        shutil.copytree(PROJECT / "site" / "docs", dest / "site" / "docs")
    shutil.copy(PROJECT / "site" / "mkdocs.yml", dest / "site" / "mkdocs.yml")
    files = sorted((PROJECT / "registry").rglob("*.yaml"))
    git(dest, "init", "-q", "-b", "main")
    for i, chunk in enumerate((files[: len(files) // 2], files[len(files) // 2 :])):
        for f in chunk:
            target = dest / f.relative_to(PROJECT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, target)
        git(dest, "add", "-A")
        git(
            dest,
            "commit",
            "-q",
            "-m",
            "Add the first records" if i == 0 else "Add the remaining records (#12)",
            date=f"2026-0{i + 1}-05T10:00:00+00:00",
        )
    if hostile:
        (dest / "registry" / "party").mkdir(parents=True, exist_ok=True)
        (dest / "registry" / "party" / f"{HOSTILE_ID}.yaml").write_text(HOSTILE, encoding="utf-8")
        git(dest, "add", "-A")
        git(dest, "commit", "-q", "-m", "Add <script>alert(6)</script> party (#13)", date="2026-03-05T10:00:00+00:00")
    return dest
