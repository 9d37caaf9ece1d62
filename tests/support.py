"""The tests' helpers, one of each kind: a git runner, a register builder, a `bir` runner, record factories.

- `git(repo, *args)` and `commit(repo, message)`: git with a fixed author, fixed dates, and neither the
  user's nor the system's configuration (nor a calling git's repository variables).
- `make_register(dest, ...)`: a register in a folder, from the project's `bir.yaml` and `schemas/` (or
  from `bir init`), with the registries of overlays, records given as texts or as mappings, the demo
  register, the pinned feeds, and optionally a git repository (`git init -b main`, caches ignored).
  `loaded_register` is the same register loaded as the reports see it; `RECORDS` is a small valid register.
- `run(*args)`: `bir ARGS` through the real entry point `bir.cli.main`, in this process, with stdout and
  stderr apart and the exit code a user sees (0 clean, 1 problems, 2 usage, 3 internal). `process=True`
  runs `python -m bir` as a real process instead (tracebacks, exit status), and `background=True` starts
  one and returns it (signals, writers at the same time).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple, overload

import pytest
import yaml
from click.testing import CliRunner

from bir.base.model import Register

PROJECT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"

# -- git ---------------------------------------------------------------------------------------------------

AUTHOR, EMAIL = "Alice Admin", "alice@example.com"
DATE = "2026-01-05T10:00:00+00:00"
# a calling git (a hook, say) names its own repository in these: never the one a test builds
_GIT_LOCATORS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")


def git(repo: Path, *args: str, date: str = DATE) -> str:
    """`git ARGS` in `repo` with a fixed author and date and no user or system configuration; its stdout."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATORS}
    env.update(GIT_AUTHOR_NAME=AUTHOR, GIT_AUTHOR_EMAIL=EMAIL, GIT_COMMITTER_NAME=AUTHOR, GIT_COMMITTER_EMAIL=EMAIL,
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_SYSTEM=os.devnull,
               GIT_CONFIG_NOSYSTEM="1")
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {repo} ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def commit(repo: Path, message: str, date: str = DATE) -> str:
    """Commit everything in `repo` (an empty commit when nothing changed); the new commit's sha."""
    git(repo, "add", "-A", date=date)
    git(repo, "commit", "-q", "--allow-empty", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD").strip()


# -- records -----------------------------------------------------------------------------------------------

# A small valid register (texts by path under registry/): two parties, two services, two servers, one application.
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

# The team that owns the records the factories below make.
TEAM: dict[str, Any] = {"id": "team-it", "kind": "party", "name": "IT", "owner": "team-it", "status": "active",
                        "party_type": "team"}


def hardware(rid: str, **fields: Any) -> dict[str, Any]:
    """A server in use since 2024-02-01, owned by TEAM; `fields` replace or add fields."""
    rec: dict[str, Any] = {"id": rid, "kind": "hardware", "name": rid, "owner": "team-it", "status": "in_use",
                           "status_dates": {"in_use": "2024-02-01"}, "class": "server", "last_verified": "2026-10-01"}
    rec.update(fields)
    return rec


def service(rid: str, criticality: str = "critical", **fields: Any) -> dict[str, Any]:
    """An active service owned by TEAM; `fields` replace or add fields."""
    rec: dict[str, Any] = {"id": rid, "kind": "service", "name": rid, "owner": "team-it", "status": "active",
                           "status_dates": {"active": "2020-01-01"}, "criticality": criticality, "last_verified": "2026-10-01"}
    rec.update(fields)
    return rec


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def write(root: Path, rel: str, text: str) -> Path:
    """Write `text` to `registry/<rel>` in the register at `root`."""
    path = root / "registry" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_records(root: Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Write each record mapping as `registry/<kind>/<id>.yaml`, its keys in order."""
    for rec in records:
        folder = root / "registry" / rec["kind"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{rec['id']}.yaml").write_text(yaml.safe_dump(dict(rec), sort_keys=False), encoding="utf-8")


# -- registers ---------------------------------------------------------------------------------------------

Records = Mapping[str, str] | Iterable[Mapping[str, Any]]


def _demo_present() -> bool:
    return (PROJECT / "registry" / "hardware").is_dir() and len(list((PROJECT / "registry").rglob("*.yaml"))) >= 100


def make_register(dest: Path, *overlays: Path, records: Records | None = None, demo: bool = False, scaffold: bool = False,
                  feeds: bool = False, git_init: bool = False) -> Path:
    """A register in `dest`; returns `dest`.

    Its configuration and schemas are the project's (`scaffold`: what `bir init` writes, five records that
    validate clean); then, in this order: the demo register's records (`demo`; skips the test when the demo
    register is not there), the `registry/` of each overlay, `records` (texts by path under `registry/`, or
    record mappings), the project's pinned feeds (`feeds`), and a git repository on branch main with the
    caches ignored and nothing committed (`git_init`).
    """
    if scaffold:
        from bir.write.scaffold import init

        init(dest, name="Test register")
    else:
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT / "bir.yaml", dest / "bir.yaml")
        shutil.copytree(PROJECT / "schemas", dest / "schemas")
        (dest / "registry").mkdir(exist_ok=True)
    if demo:
        if not _demo_present():
            pytest.skip("the demo register is not there")
        shutil.copytree(PROJECT / "registry", dest / "registry", dirs_exist_ok=True, symlinks=True)
    for overlay in overlays:
        shutil.copytree(overlay / "registry", dest / "registry", dirs_exist_ok=True, symlinks=True)
    if isinstance(records, Mapping):
        for rel, text in records.items():
            write(dest, rel, text)
    elif records is not None:
        write_records(dest, records)
    if feeds:
        shutil.copytree(PROJECT / "feeds", dest / "feeds", dirs_exist_ok=True)
    if git_init:
        if not (dest / ".gitignore").exists():
            (dest / ".gitignore").write_text(".bir-cache/\n")
        git(dest, "init", "-q", "-b", "main")
    return dest


def loaded_register(dest: Path, records: Iterable[Mapping[str, Any]]) -> Register:
    """The register of exactly `records` plus TEAM, built in `dest` and loaded as the reports see it; every
    record must be valid."""
    from bir.api import load

    root = make_register(dest, records=[TEAM, *records])
    result = load(root, jobs=1)
    errors = [f"{p.path}: {p.message} [{p.rule}]" for p in result.problems if p.is_error]
    assert not errors, errors
    return result.register


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` (caches excluded) with the hash of its content."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".bir-cache" not in p.parts}


def validate_clean(root: Path) -> list[str]:
    """The errors `bir validate` would report (empty when clean)."""
    from bir.api import validate

    return [f"{p.path}:{p.line}: {p.message} [{p.rule}]" for p in validate(root, use_cache=False).problems if p.is_error]


# -- the command line --------------------------------------------------------------------------------------

# What a run outside CI sees: no colours, no GitHub Actions annotations or step summary.
NOT_IN_CI: dict[str, str | None] = {"NO_COLOR": "1", "GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": ""}


class Result(NamedTuple):
    code: int
    out: str
    err: str


@overload
def run(*args: str | Path, cwd: Path | None = None, env: Mapping[str, str | None] | None = None, process: bool = False,
        background: Literal[False] = False, timeout: float = 120) -> Result: ...


@overload
def run(*args: str | Path, cwd: Path | None = None, env: Mapping[str, str | None] | None = None, process: bool = False,
        background: Literal[True], timeout: float = 120) -> subprocess.Popen[str]: ...


def run(*args: str | Path, cwd: Path | None = None, env: Mapping[str, str | None] | None = None, process: bool = False,
        background: bool = False, timeout: float = 120) -> Result | subprocess.Popen[str]:
    """`bir ARGS` as a user runs it: (exit code, stdout, stderr).

    In this process through `bir.cli.main` unless `process` (a real `python -m bir`, for what only a process
    shows: a traceback, the interpreter's exit status). `background` starts the process and returns it,
    stdout and stderr piped, for a test that signals it or runs several at once. `env` sets (None: removes)
    environment variables for the run; `cwd` is the folder it runs in.
    """
    argv = [str(a) for a in args]
    if not (process or background):
        return _in_process(argv, cwd, env)
    child_env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for key, value in (env or {}).items():
        if value is None:
            child_env.pop(key, None)
        else:
            child_env[key] = value
    command = [sys.executable, "-m", "bir", *argv]
    if background:
        return subprocess.Popen(command, cwd=cwd, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, encoding="utf-8")
    proc = subprocess.run(command, cwd=cwd, env=child_env, capture_output=True, text=True, encoding="utf-8",
                          timeout=timeout, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _in_process(argv: list[str], cwd: Path | None, env: Mapping[str, str | None] | None) -> Result:
    from bir.cli import main

    with CliRunner().isolation(env=env) as (out, err, _both), _working_in(cwd):
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return Result(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))


@contextlib.contextmanager
def _working_in(cwd: Path | None) -> Iterator[None]:
    if cwd is None:
        yield
        return
    with contextlib.chdir(cwd):
        yield


# -- the demo register in git, with one hostile record (the site tests) ------------------------------------
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


def demo_repo(dest: Path, hostile: bool = True) -> Path:
    """The demo register as a git repository with fixed dates, in three commits: half the records, the rest
    (a PR merge subject), the hostile record."""
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
