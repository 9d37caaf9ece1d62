"""Helpers for tests on real git repositories: a small valid register and commits with fixed dates."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

RECORDS: dict[str, str] = {
    "party/team-ops.yaml": """\
id: team-ops
kind: party
name: Operations
owner: team-ops
status: active
status_dates: {active: "2024-01-01"}
party_type: team
""",
    "party/acme.yaml": """\
id: acme
kind: party
name: Acme Supplies
owner: team-ops
status: active
status_dates: {active: "2024-01-01"}
party_type: supplier
""",
    "service/svc-portal.yaml": """\
id: svc-portal
kind: service
name: Customer portal
owner: team-ops
status: active
status_dates: {active: "2024-01-01"}
criticality: high
""",
    "service/svc-shop.yaml": """\
id: svc-shop
kind: service
name: Web shop
owner: team-ops
status: active
status_dates: {active: "2024-01-01"}
criticality: medium
relations:
  - {type: depends_on, target: svc-portal}
""",
    "hardware/srv-01.yaml": """\
id: srv-01
kind: hardware
name: Server 01
owner: team-ops
status: in_use
status_dates: {in_stock: "2024-01-10", in_use: "2024-02-01"}
class: server
financial:
  purchase_cost: 1000.00
  currency: EUR
  recurring_costs:
    - {description: Support, amount: 100.00, currency: USD, period: monthly, start: "2024-02-01"}
""",
    "hardware/srv-02.yaml": """\
id: srv-02
kind: hardware
name: Server 02
owner: team-ops
status: in_stock
status_dates: {in_stock: "2024-01-10"}
class: server
""",
    "software/app-portal.yaml": """\
id: app-portal
kind: software
name: Portal application
owner: team-ops
status: active
status_dates: {active: "2024-02-01"}
relations:
  - {type: runs_on, target: srv-01}
  - {type: supports, target: svc-portal}
""",
}


def git(repo: Path, *args: str, date: str = "2026-01-05T10:00:00+00:00") -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="Alice Admin", GIT_AUTHOR_EMAIL="alice@example.com",
               GIT_COMMITTER_NAME="Alice Admin", GIT_COMMITTER_EMAIL="alice@example.com",
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date, GIT_CONFIG_NOSYSTEM="1", HOME=str(repo))
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def make_register(repo: Path, records: dict[str, str] | None = None) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT / "bir.yaml", repo / "bir.yaml")
    shutil.copytree(PROJECT / "schemas", repo / "schemas")
    (repo / ".gitignore").write_text(".bir-cache/\n")
    for rel, text in (RECORDS if records is None else records).items():
        write(repo, rel, text)
    git(repo, "init", "-q", "-b", "main")
    return repo


def write(repo: Path, rel: str, text: str) -> None:
    path = repo / "registry" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def commit(repo: Path, message: str, date: str = "2026-01-05T10:00:00+00:00") -> str:
    git(repo, "add", "-A", date=date)
    git(repo, "commit", "-q", "--allow-empty", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD").strip()
