"""Helpers for the report tests: a small register written by the test, loaded as the reports see it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from bir.api import load as load_register
from bir.base.model import Register
from conftest import make_register

TEAM = {"id": "team-it", "kind": "party", "name": "IT", "owner": "team-it", "status": "active", "party_type": "team"}


def write_records(root: Path, records: list[dict[str, Any]]) -> None:
    for rec in records:
        folder = root / "registry" / rec["kind"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{rec['id']}.yaml").write_text(yaml.safe_dump(rec, sort_keys=False), encoding="utf-8")


def register(tmp_path: Path, records: list[dict[str, Any]], *, team: bool = True) -> Register:
    """A register of exactly `records` (plus the team that owns them); every record must be valid."""
    root = make_register(tmp_path / "reg")
    write_records(root, ([TEAM] if team else []) + records)
    result = load_register(root, jobs=1)
    errors = [f"{p.path}: {p.message} [{p.rule}]" for p in result.problems if p.is_error]
    assert not errors, errors
    return result.register


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def hardware(rid: str, **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": rid, "kind": "hardware", "name": rid, "owner": "team-it", "status": "in_use",
                           "status_dates": {"in_use": "2024-02-01"}, "class": "server", "last_verified": "2026-10-01"}
    rec.update(fields)
    return rec


def service(rid: str, criticality: str = "critical", **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": rid, "kind": "service", "name": rid, "owner": "team-it", "status": "active",
                           "status_dates": {"active": "2020-01-01"}, "criticality": criticality, "last_verified": "2026-10-01"}
    rec.update(fields)
    return rec
