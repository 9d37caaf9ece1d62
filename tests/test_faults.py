"""Faults: writers killed at every step, writers at the same time. No record is torn, lost or half-applied.

- Crash injection: each writing command runs in a forked child that dies (`os._exit`, no clean-up of any
  kind, as under `kill -9`) at its k-th rename, for every k. The next command must find the register
  exactly as before the command or exactly as after it.
- Kills: the same commands run as real processes and get SIGKILL after a random delay (fixed seed, a
  bounded number of rounds).
- Concurrent writers: two `bir set` on the same record at once, several rounds: no update is lost; a
  writer that cannot get the lock in time refuses, naming the holder.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bir.base import journal
from bir.base.atomic import is_temporary
from bir.base.lock import register_lock
from support import make_register, run, snapshot

BULK = 12  # hardware records in the register the bulk commands edit
FEED = Path(__file__).parent / "fixtures" / "feeds" / "acmeos.json"


def bulk_register(dest: Path) -> Path:
    reg = make_register(dest, scaffold=True)
    text = (reg / "registry/hardware/hw-1.yaml").read_text()
    for i in range(2, BULK + 1):
        (reg / f"registry/hardware/hw-{i}.yaml").write_text(
            text.replace("id: hw-1", f"id: hw-{i}").replace("IT-0001", f"IT-{i:04d}").replace("EXAMPLE-0001", f"EXAMPLE-{i:04d}"))
    return reg


def commands(tmp: Path) -> dict[str, list[str]]:
    csv = tmp / "in.csv"
    csv.write_text("Asset Tag,Name,Serial,Category,Status,Checkout Date\n" + "".join(
        f"IT-{i:04d},New laptop {i},SN{i},Laptops,Deployed,2026-01-10\n" for i in range(200, 210)))
    feed2 = tmp / "betaos.json"
    feed2.write_text(FEED.read_text().replace('"acmeos"', '"betaos"').replace("Acme OS", "Beta OS"))
    scan = tmp / "scan.csv"
    scan.write_text("hostname,serial_number\n" + "".join(f"host-{i},SN-SCAN-{i}\n" for i in range(5)))
    return {
        "set --where": ["set", "--where", "kind=hardware", "tags+=lab", "name=Lab laptop"],
        "transition --where": ["transition", "--where", "kind=hardware", "in_maintenance", "--date", "2026-01-02"],
        "import csv": ["import", "csv", str(csv), "--kind", "hardware", "--owner", "team-it"],
        "new": ["new", "hardware", "--set", "owner=team-it", "--set", "class=laptop"],
        "feed import": ["feed", "import", str(FEED), str(feed2)],
        "reconcile --write": ["reconcile", str(scan), "--write", "--owner", "team-it"],
    }


def register_files(root: Path) -> dict[str, str]:
    """The register's records and feeds (bir's own temporary files left by a crash are no part of it: nothing
    reads them, and the next writer removes them)."""
    return {k: v for k, v in snapshot(root).items() if k.startswith(("registry/", "feeds/")) and not is_temporary(k.rsplit("/", 1)[-1])}


def _in_child(fn: Callable[[], None]) -> int:
    """Run `fn` in a forked child; its exit status."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover -- the child
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            fn()
        finally:
            os._exit(0)
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _run_crashing_at(root: Path, argv: list[str], k: int) -> int:
    """Run `bir ARGV` in a child that dies at its k-th rename (k counted from 1)."""
    def child() -> None:
        real = os.replace
        count = [0]

        def replace(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
            count[0] += 1
            if count[0] == k:
                os._exit(137)  # killed: no finally, no clean-up
            return real(src, dst, *args, **kwargs)

        os.replace = replace  # type: ignore[assignment]
        run(*argv, "--root", root)
        os._exit(0 if count[0] < k else 1)

    return _in_child(child)


def _renames(root: Path, argv: list[str]) -> int:
    """How many renames the command makes (its crash points)."""
    count = [0]
    real = os.replace

    def replace(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        count[0] += 1
        return real(src, dst, *args, **kwargs)

    os.replace = replace  # type: ignore[assignment]
    try:
        code = run(*argv, "--root", root).code
        assert code in (0, 1), code
    finally:
        os.replace = real  # type: ignore[assignment]
    return count[0]


def _settled(root: Path) -> dict[str, str]:
    """The register as the next command sees it (any command completes a pending journal first)."""
    run("validate", str(root), "--no-cache")
    assert not journal.pending(root)
    return register_files(root)


@pytest.mark.parametrize("name", ["set --where", "transition --where", "import csv", "new", "feed import", "reconcile --write"])
def test_crash_at_every_rename_leaves_the_register_before_or_after(tmp_path: Path, name: str) -> None:
    import shutil

    template = bulk_register(tmp_path / "template")
    argv = commands(tmp_path)[name]
    before = register_files(template)
    ref = tmp_path / "ref"
    shutil.copytree(template, ref)
    points = _renames(ref, argv)
    after = register_files(ref)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert len(changed) >= (BULK if "--where" in name else 1)
    assert points >= len(changed) + 1  # the journal, then one rename per file (caches may add more)
    outcomes = {"before": 0, "after": 0}
    for k in range(1, points + 1):
        root = tmp_path / f"crash-{k}"
        shutil.copytree(template, root)
        _run_crashing_at(root, argv, k)
        got = _settled(root)
        assert got in (before, after), f"crash at rename {k}: {len(changed)} files, torn or half applied"
        outcomes["before" if got == before else "after"] += 1
        leftovers = [p for p in root.rglob("*.tmp") if ".bir-cache" not in p.parts]
        run("set", "hw-1", "--root", str(root), "description=after the crash")  # the next writer sweeps
        assert [p for p in leftovers if p.exists()] == []
        shutil.rmtree(root)
    assert outcomes["before"] >= 1 and outcomes["after"] >= 1  # both sides of the journal were hit


def test_sigkill_at_random_moments(tmp_path: Path) -> None:
    """Real processes, real SIGKILL (fixed seed; three rounds per bulk command keep it to a few seconds)."""
    import shutil

    rng = random.Random(15)
    template = bulk_register(tmp_path / "template")
    for name in ("set --where", "import csv"):
        argv = commands(tmp_path)[name]
        ref = tmp_path / "ref"
        shutil.copytree(template, ref)
        started = time.perf_counter()
        run(*argv, "--root", ref, process=True)
        full = time.perf_counter() - started
        before, after = register_files(template), register_files(ref)
        assert before != after
        shutil.rmtree(ref)
        for round_ in range(3):
            root = tmp_path / f"kill-{round_}"
            shutil.copytree(template, root)
            proc = run(*argv, "--root", root, background=True)
            time.sleep(rng.uniform(0.5, 1.0) * full)
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            assert _settled(root) in (before, after), f"{name}: killed after a {full:.2f} s run, torn"
            shutil.rmtree(root)


# -- concurrent writers ----------------------------------------------------------------------------------
def test_two_writers_on_one_record_lose_nothing(tmp_path: Path) -> None:
    reg = make_register(tmp_path / "reg", scaffold=True)
    lost = 0
    rounds = 4
    for i in range(rounds):
        procs = [run("set", "hw-1", f"{field}=value {i}", "--root", reg, background=True) for field in ("name", "model")]
        outputs = [p.communicate() for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [err for _out, err in outputs]
        text = (reg / "registry/hardware/hw-1.yaml").read_text()
        lost += (f"name: value {i}\n" not in text) + (f"model: value {i}\n" not in text)
    assert lost == 0


def test_a_writer_waits_for_the_lock_then_reads_what_the_first_wrote(tmp_path: Path) -> None:
    reg = make_register(tmp_path / "reg", scaffold=True)
    path = reg / "registry/hardware/hw-1.yaml"
    with register_lock(reg):
        proc = run("set", "hw-1", "model=second", "--root", reg, background=True)
        time.sleep(1.5)
        assert proc.poll() is None  # waiting
        path.write_text(path.read_text().replace("name: Example laptop", "name: first"))
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    text = path.read_text()
    assert "name: first\n" in text and "model: second\n" in text


def test_a_writer_that_cannot_get_the_lock_refuses_naming_the_holder(tmp_path: Path) -> None:
    reg = make_register(tmp_path / "reg", scaffold=True)
    before = snapshot(reg)
    ready, done = threading.Event(), threading.Event()

    def hold() -> None:
        with register_lock(reg):
            ready.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    ready.wait(10)
    try:
        proc = run("set", "hw-1", "name=x", "--root", reg, env={"BIR_LOCK_TIMEOUT": "0.3"}, process=True)
    finally:
        done.set()
        holder.join()
    assert proc.code == 2
    assert proc.err.startswith(f"bir: error: another bir command is writing to {reg}: process {os.getpid()} (`")
    assert proc.err.rstrip().endswith("nothing was changed. Wait for it to finish and run the command again "
                                         "(waited 0.3 s; BIR_LOCK_TIMEOUT sets how long)")
    assert snapshot(reg) == before


# -- the journal read as hostile data ----------------------------------------------------------------------
def test_a_planted_journal_moves_nothing(tmp_path: Path) -> None:
    reg = make_register(tmp_path / "reg", scaffold=True)
    (reg / "registry/hardware/.evil.abcdefgh.tmp").write_text("id: evil\n")
    before = register_files(reg)
    (reg / ".bir-cache").mkdir(exist_ok=True)
    (reg / ".bir-cache/journal").write_text('{"format": 1, "files": [["registry/hardware/.evil.abcdefgh.tmp", '
                                            '"registry/party/team-it.yaml"], ["../outside.tmp", "bir.yaml"]]}')
    assert run("validate", str(reg), "--no-cache")[0] == 0
    assert register_files(reg) == before and not journal.pending(reg)


# -- the site's output swap ----------------------------------------------------------------------------------
def test_site_swap_always_leaves_a_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bir.site import build

    reg = make_register(tmp_path / "reg", scaffold=True)
    out = tmp_path / "site"
    assert run("site", "build", "--root", str(reg), "--out", str(out))[0] == 0
    (out / "old-marker").write_text("the previous build")
    # a build killed midway left its work folder behind (a process that is gone)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    stale = tmp_path / f".site.build-{dead.stdout.strip()}-abcdefgh"
    stale.mkdir()
    # a crash between the two renames of the fallback swap (no atomic exchange here); the last build's
    # manifest is gone, so this build replaces the folder instead of updating it in place
    from bir.site import incremental

    manifest = incremental._cache(reg.resolve())
    assert manifest is not None and manifest.is_file()
    manifest.unlink()
    monkeypatch.setattr(build, "_exchange", lambda a, b: False)

    def crash_between() -> None:
        real = os.replace
        calls = [0]

        def replace(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls[0] += 1
            real(src, dst, *args, **kwargs)
            if Path(dst).name.startswith(".site.old-"):
                os._exit(137)

        os.replace = replace  # type: ignore[assignment]
        run("site", "build", "--root", reg, "--out", out)

    assert _in_child(crash_between) == 137
    assert not out.exists() and len(list(tmp_path.glob(".site.old-*"))) == 1
    monkeypatch.undo()
    build._clean_leftovers(out)  # what the next build does first
    assert (out / "old-marker").read_text() == "the previous build" and not stale.exists()
    # the atomic exchange: the new site replaces the old one in one step
    assert run("site", "build", "--root", str(reg), "--out", str(out))[0] == 0
    assert not (out / "old-marker").exists() and (out / "index.html").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_a_journal_that_cannot_be_completed_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = make_register(tmp_path / "reg", scaffold=True)
    path = reg / "registry/hardware/hw-1.yaml"
    staged = reg / "registry/hardware/.hw-1.yaml.abcdefgh.tmp"
    staged.write_text(path.read_text().replace("name: Example laptop", "name: Renamed"))
    (reg / ".bir-cache").mkdir(exist_ok=True)
    (reg / ".bir-cache/journal").write_text('{"format": 1, "files": [["registry/hardware/.hw-1.yaml.abcdefgh.tmp", '
                                            '"registry/hardware/hw-1.yaml"]]}')
    monkeypatch.setenv("BIR_LOCK_TIMEOUT", "0.2")
    ready, done = threading.Event(), threading.Event()

    def hold() -> None:
        with register_lock(reg):
            ready.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    ready.wait(10)
    try:
        code, out, _err = run("validate", str(reg), "--no-cache", "--format", "text")
    finally:
        done.set()
        holder.join()
    assert code == 1 and ".bir-cache/journal: error: a killed bir command left a write half done, and it cannot be completed " \
                         "here [file.interrupted-write]" in out
    code, out, _err = run("validate", str(reg), "--no-cache", "--format", "text")
    assert code == 0 and "name: Renamed\n" in path.read_text() and not staged.exists() and not journal.pending(reg)


def test_a_record_removed_while_the_register_is_listed_is_not_in_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file removed between the listing of its folder and its status (another writer, a `git checkout`) is
    not a record of this run, and not an error: the run sees the register as it is."""
    from bir.read.files import discover
    from support import CASES

    root = make_register(tmp_path / "reg", CASES / "_base")
    gone = root / "registry" / "hardware" / "srv-01.yaml"
    before = [c.path for c in discover(root)[0]]
    real = os.lstat

    def racing(path: str | os.PathLike[str]) -> os.stat_result:
        if os.fspath(path) == str(gone):
            gone.unlink()
        return real(path)

    monkeypatch.setattr(os, "lstat", racing)
    found, problems = discover(root)
    assert [c.path for c in found] == [p for p in before if p != "registry/hardware/srv-01.yaml"] and problems == []
    assert "registry/hardware/srv-01.yaml" in before
