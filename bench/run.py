"""The benchmark harness: generated registers of several sizes, timed against their targets.

    python bench/run.py [--sizes 1000,10000,100000] [--repeat R] [--only NAME] [--json FILE]

Every run of bir names its own cache folder (`BIR_CACHE_DIR` under bench/.cache/bir-caches/), so a cold run
is cold and a warm one reads only what its own benchmark wrote.

Each benchmark is a function `(Context) -> list[Row]` in `BENCHMARKS`; adding one is adding a function
and a line there. A row is either a `Measure` (wall seconds and peak memory of one command, or why it
failed) or a `Check` (a ratio or figure against its target: PASS or MISS). Registers are generated once
per size and seed into `bench/.cache/` (git-ignored) and regenerated when the generator, `bir.yaml` or the
schemas change.

Every command runs as a child process, timed with `time.perf_counter` around start to exit, so interpreter
start-up counts for all of them alike. Peak memory is the larger of the child's own peak RSS (`wait4`) and
the sampled peak of the summed PSS of its whole process tree (worker processes included, shared pages
counted once). `bir` runs as `python -m bir` from this checkout; if it is missing or fails, its rows say
so and the run goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CACHE = BENCH / ".cache"
sys.path.insert(0, str(BENCH))
from generate import KINDS, generate  # noqa: E402 - the generator lives beside this file

PY = sys.executable


# ---- rows ------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Measure:
    """The best of the repeats of one command at one size."""

    benchmark: str
    size: int
    name: str
    seconds: float | None  # None: the command failed
    peak_mb: float | None
    error: str = ""
    note: str = ""


@dataclass(slots=True)
class Check:
    """A figure against its target, e.g. `check-jsonschema / bir cold >= 12`."""

    benchmark: str
    size: int
    name: str
    value: float | None
    op: str  # ">=" or "<="
    target: float
    unit: str = "x"

    @property
    def status(self) -> str:
        if self.value is None:
            return "n/a"
        ok = self.value >= self.target if self.op == ">=" else self.value <= self.target
        return "PASS" if ok else "MISS"


Row = Measure | Check


@dataclass(slots=True)
class Context:
    sizes: list[int]
    repeat: int | None  # None: 3 below 100,000 records, 1 from there on
    seed: int
    timeout: float
    keep_going: bool = True
    log: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr, flush=True))

    def repeats(self, size: int) -> int:
        return self.repeat if self.repeat is not None else (3 if size < 100_000 else 1)


# ---- running a child process -----------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


def _tree(pid: int) -> Iterator[int]:
    yield pid
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    yield from _tree(int(child))


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class _TreeSampler(threading.Thread):
    """Samples the summed PSS of a process and its descendants until stopped; keeps the peak.

    Reading `smaps_rollup` walks the process's page tables under its memory lock: 57 ms for a 2.6 GB
    process here. Sampled every 50 ms, a site build at 100k records (three such processes) lost most of a
    core to it, and its wall time doubled. So the pause after a sample is at least SAMPLING_SHARE^-1 times
    what the sample took: sampling costs at most 5 % of one core, whatever the size."""

    SAMPLING_SHARE = 0.05

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kb = pid, interval, 0
        self.stop = threading.Event()

    def run(self) -> None:
        if not os.path.exists("/proc/self/smaps_rollup"):
            return
        while not self.stop.is_set():
            began = time.perf_counter()
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in _tree(self.pid)))
            took = time.perf_counter() - began
            self.stop.wait(max(self.interval, took / self.SAMPLING_SHARE - took))


def run_child(cmd: Sequence[str], *, cwd: Path | None = None, timeout: float = 3600.0, extra_env: dict[str, str] | None = None) -> Run:
    """Run `cmd` to completion: wall seconds, peak MB, exit code and output (killed after `timeout`).
    `extra_env` is added to the environment (an empty value removes the variable)."""
    env = dict(os.environ)
    for name, value in (extra_env or {}).items():
        if value:
            env[name] = value
        else:
            env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "tool"), env.get("PYTHONPATH", "")) if p)
    # Measure what users run: an installed tool whose bytecode is cached, not compiled again on every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True)
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            seconds = time.perf_counter() - started
            timer.cancel()
            sampler.stop.set()
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, tell Popen
        out.seek(0)
        err.seek(0)
        peak_mb = max(usage.ru_maxrss / 1024, sampler.peak_kb / 1024)  # ru_maxrss is in KiB on Linux
        return Run(seconds, peak_mb, proc.returncode, out.read().decode("utf-8", "replace"),
                   err.read().decode("utf-8", "replace"))


def tail(text: str, limit: int = 300) -> str:
    text = " ".join(text.strip().split())
    return text if len(text) <= limit else "..." + text[-limit:]


# ---- registers -------------------------------------------------------------------------------------------


def _inputs_digest() -> str:
    digest = hashlib.sha256()
    for path in [BENCH / "generate.py", ROOT / "bir.yaml", *sorted((ROOT / "schemas").glob("*.json"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _edited(folder: Path) -> Path:
    """The mark a benchmark leaves while it edits a generated register in place: a run killed before its undo
    leaves the register changed, and the next run generates it again."""
    return folder.with_name(folder.name + ".edited")


def register(size: int, seed: int, log: Callable[[str], None]) -> Path:
    """The cached generated register for `size` and `seed`, (re)generated when missing or stale."""
    folder = CACHE / f"r{size}-s{seed}"
    stamp = CACHE / f"r{size}-s{seed}.stamp"
    digest = _inputs_digest()
    if folder.is_dir() and stamp.is_file() and stamp.read_text() == digest and not _edited(folder).exists():
        return folder
    _edited(folder).unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    stamp.unlink(missing_ok=True)
    log(f"generating {size} records (seed {seed}) into {folder} ...")
    started = time.perf_counter()
    generate(folder, size, seed)
    stamp.write_text(digest)
    log(f"  generated in {time.perf_counter() - started:.1f} s")
    return folder


# ---- benchmark: validate ---------------------------------------------------------------------------------


# Every cache bir keeps lives under BIR_CACHE_DIR: each measurement names its own, so "cold" is cold
# (the result cache is shared by every register of a user) and "warm" is this benchmark's own warm cache.
CACHES = CACHE / "bir-caches"
NO_SHARED = {"BIR_CACHE_SHARED": "", "BIR_CACHE_TRUSTED_KEY": "", "BIR_CACHE_SIGNING_KEY": "", "BIR_NO_RESULT_CACHE": ""}


def cache_env(name: str, *, fresh: bool = False, validators: bool = True, **more: str) -> dict[str, str]:
    """The environment of a run whose caches are the folder `name` under bench/.cache/bir-caches/. A fresh
    folder still holds the compiled schema validators (a machine keeps them across every run and register,
    and the figures before the result cache were measured with them), unless `validators` is false (a CI
    job that restores only main's results)."""
    folder = CACHES / name
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    if fresh and validators:
        for compiled in _compiled_validators():
            shutil.copy(compiled, folder / compiled.name)
    return {**NO_SHARED, "BIR_CACHE_DIR": str(folder), **more}


_VALIDATORS: list[Path] = []


def _compiled_validators() -> list[Path]:
    """The schema validators bir compiles for the project's schemas, compiled into their own folder once per
    run: by this code, for these schemas (a folder left by another version would hold validators this code
    never reads, and every "cold" run would compile its own)."""
    if not _VALIDATORS:
        folder = CACHES / "validators"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        small = register(1000, 1, lambda msg: None)
        run_child([PY, "-m", "bir", "validate", str(small), "--format", "json"], extra_env={**NO_SHARED, "BIR_CACHE_DIR": str(folder)})
        shutil.rmtree(folder / "results", ignore_errors=True)
        shutil.rmtree(folder / "registers", ignore_errors=True)
        # The validators are sealed under the folder's own key: it goes with them, or they would not be read.
        _VALIDATORS.extend(sorted([*folder.glob("schema-*.bin"), folder / "cache-key"]))
    return _VALIDATORS


def _bir_validate(root: Path, ctx: Context, size: int, env: dict[str, str] | None = None) -> tuple[Run, str]:
    """Run `bir validate --format json`; an empty error when it ran and counted every record."""
    run = run_child([PY, "-m", "bir", "validate", str(root), "--format", "json"], timeout=ctx.timeout, extra_env=env)
    if run.returncode not in (0, 1):
        return run, f"exit {run.returncode}: {tail(run.stderr or run.stdout)}"
    try:
        summary = json.loads(run.stdout)["summary"]
    except (ValueError, KeyError, TypeError):
        return run, f"exit {run.returncode}, output is not bir's JSON report: {tail(run.stdout or run.stderr)}"
    if summary.get("records") != size:
        return run, f"counted {summary.get('records')} records, not {size}"
    if summary.get("errors"):
        return run, f"{summary['errors']} errors reported on generated data (see --format text)"
    return run, ""


def _bundle(schema_dir: Path, kind: str, into: Path) -> Path:
    """One self-contained schema per kind: the shared definitions copied in, their refs made local."""
    defs = json.loads((schema_dir / "defs.schema.json").read_text(encoding="utf-8"))
    text = (schema_dir / f"{kind}.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text.replace('"defs.schema.json#/', '"#/'))
    schema["definitions"] = json.loads(json.dumps(defs["definitions"]).replace('"defs.schema.json#/', '"#/'))
    schema.pop("$id", None)
    path = into / f"{kind}.schema.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    return path


_UNRESOLVED = re.compile(r"Unresolvable|RefResolution|PointerToNowhere|Unretrievable|NoSuchResource", re.I)


CHECK_JSONSCHEMA_FILES = 2000


def _check_jsonschema(root: Path, ctx: Context, every: int = 1) -> tuple[float, float, str, str]:
    """check-jsonschema over every kind (one process per kind): summed seconds, peak MB, error, note.

    With `every` > 1 it checks every n-th file of each kind and scales the time by n: check-jsonschema takes
    tens of milliseconds per file, so 100,000 files would take over an hour, and its cost is linear in files.
    """
    arg_budget = os.sysconf("SC_ARG_MAX") // 2 if hasattr(os, "sysconf") else 1_000_000
    total, peak, note = 0.0, 0.0, ""
    schema_dir = root / "schemas"
    bundled: Path | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for kind in KINDS:
            folder = root / "registry" / kind
            files = sorted(p.name for p in folder.glob("*.yaml"))[::every]
            # Relative names from inside the folder keep the command line short; split only if still too long.
            batches: list[list[str]] = [[]]
            used = 0
            for name in files:
                if used + len(name) + 9 > arg_budget:
                    batches.append([])
                    used = 0
                batches[-1].append(name)
                used += len(name) + 9
            for batch in batches:
                if not batch:
                    continue
                while True:
                    schema = bundled / f"{kind}.schema.json" if bundled else schema_dir / f"{kind}.schema.json"
                    if bundled and not schema.exists():
                        _bundle(schema_dir, kind, bundled)
                    cmd = [PY, "-m", "check_jsonschema", "--schemafile", str(schema)]
                    if not bundled:
                        cmd += ["--base-uri", schema.as_uri()]
                    run = run_child([*cmd, *batch], cwd=folder, timeout=ctx.timeout)
                    if run.returncode != 0 and not bundled and _UNRESOLVED.search(run.stdout + run.stderr):
                        bundled = Path(tmp)
                        note = "refs unresolvable with --base-uri; used bundled schemas"
                        continue
                    break
                total += run.seconds * every
                peak = max(peak, run.peak_mb)
                if run.returncode != 0:
                    return total, peak, f"{kind}: exit {run.returncode}: {tail(run.stdout + ' ' + run.stderr)}", note
    if every > 1:
        note = (note + "; " if note else "") + f"measured on every {every}th file of each kind, time scaled by {every}"
    return total, peak, "", note


def _validate_floor(root: Path, ctx: Context) -> dict[str, Any]:
    """`validate_floor.py`'s figures (seconds of a bare parse, and of a cold validate whose files are parsed
    already), or {"error": ...}."""
    run = run_child([PY, str(BENCH / "validate_floor.py"), str(root)], timeout=ctx.timeout)
    try:
        got = json.loads(run.stdout) if run.returncode == 0 else None
    except ValueError:
        got = None
    if not isinstance(got, dict):
        return {"error": f"exit {run.returncode}: {tail(run.stderr)}"}
    if got.get("parsed_again"):
        return {"error": f"{got['parsed_again']} files were parsed again: not the floor"}
    return {**got, "peak_mb": run.peak_mb}


def bench_validate(ctx: Context) -> list[Row]:
    """`bir validate` cold and warm against check-jsonschema and a bare libyaml parse of the same files."""
    rows: list[Row] = []
    for size in ctx.sizes:
        root = register(size, ctx.seed, ctx.log)
        best: dict[str, Measure] = {}

        def record(name: str, seconds: float | None, peak_mb: float | None, error: str = "", note: str = "",
                   size: int = size, best: dict[str, Measure] = best) -> None:
            old = best.get(name)
            if old is None or (seconds is not None and (old.seconds is None or seconds < old.seconds)):
                best[name] = Measure("validate", size, name, seconds, peak_mb, error, note)
            if old is not None and peak_mb is not None:
                best[name].peak_mb = max(best[name].peak_mb or 0.0, peak_mb, old.peak_mb or 0.0)

        for attempt in range(ctx.repeats(size)):
            ctx.log(f"validate {size}: repeat {attempt + 1}/{ctx.repeats(size)}")
            shutil.rmtree(root / ".bir-cache", ignore_errors=True)
            env = cache_env(f"validate-{size}", fresh=True)
            cold, error = _bir_validate(root, ctx, size, env)
            record("bir cold", None if error else cold.seconds, cold.peak_mb, error)
            if not error:
                warm, error = _bir_validate(root, ctx, size, env)
                record("bir warm", None if error else warm.seconds, warm.peak_mb, error)
            else:
                record("bir warm", None, None, "cold run failed")
            for procs, name in ((1, "parse 1 proc"), (2, "parse 2 procs")):
                run = run_child([PY, str(BENCH / "parse_baseline.py"), str(root), "--procs", str(procs)],
                                timeout=ctx.timeout)
                err = "" if run.returncode == 0 else f"exit {run.returncode}: {tail(run.stderr)}"
                record(name, None if err else run.seconds, run.peak_mb, err, tail(run.stdout, 80))
            if attempt == 0:  # minutes per run: measured once per size
                floor = _validate_floor(root, ctx)
                record("bir cold without its parse, 1 proc", floor.get("validate_without_parse"), floor.get("peak_mb"),
                       floor.get("error", ""), "in one process with the bare parse below; every file's strict parse done before")
                record("bare parse, same process", floor.get("bare_parse"), floor.get("peak_mb"), floor.get("error", ""))
                every = max(1, size // CHECK_JSONSCHEMA_FILES)
                seconds, peak, err, note = _check_jsonschema(root, ctx, every)
                record("check-jsonschema", None if err else seconds, peak, err, note)
        order = ("bir cold", "bir warm", "check-jsonschema", "parse 1 proc", "parse 2 procs",
                 "bir cold without its parse, 1 proc", "bare parse, same process")
        rows.extend(best[name] for name in order)

        def ratio(a: str, b: str, best: dict[str, Measure] = best) -> float | None:
            x, y = best[a].seconds, best[b].seconds
            return round(x / y, 3) if x is not None and y else None

        rows.append(Check("validate", size, "check-jsonschema / bir cold", ratio("check-jsonschema", "bir cold"), ">=", 12))
        rows.append(Check("validate", size, "bir cold / parse 2 procs", ratio("bir cold", "parse 2 procs"), "<=",
                          0.5 if size >= 100_000 else 0.6))
        rows.append(Check("validate", size, "bir warm / bir cold", ratio("bir warm", "bir cold"), "<=", 0.10))
        # The floor of the ratio above: the same target for what the check costs with a parser that took no
        # time. Above it, no parser can bring `bir cold / parse` to its target; only less checking work can.
        rows.append(Check("validate", size, "floor: bir cold without its parse / bare parse",
                          ratio("bir cold without its parse, 1 proc", "bare parse, same process"), "<=",
                          0.5 if size >= 100_000 else 0.6))
        if size >= 100_000:
            bir_peak = best["bir cold"].peak_mb if best["bir cold"].seconds is not None else None
            rows.append(Check("validate", size, "bir cold peak memory", None if bir_peak is None else round(bir_peak, 1),
                              "<=", 1024, "MB"))
    return rows


# ---- benchmarks: change and history ----------------------------------------------------------------------


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    env = dict(os.environ, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com", GIT_COMMITTER_NAME="Bench",
               GIT_COMMITTER_EMAIL="bench@example.com", GIT_AUTHOR_DATE="2026-01-01T00:00:00+00:00",
               GIT_COMMITTER_DATE="2026-01-01T00:00:00+00:00")
    return subprocess.run(["git", *args], cwd=repo, env=env, input=stdin, check=True, capture_output=True).stdout


def _change_repo(size: int, ctx: Context) -> Path:
    """A git repository holding the generated register in one commit (cached beside the register)."""
    source = register(size, ctx.seed, ctx.log)
    repo = CACHE / f"git-change-r{size}-s{ctx.seed}"
    stamp = CACHE / f"git-change-r{size}-s{ctx.seed}.stamp"
    digest = _inputs_digest()
    if not (repo.is_dir() and stamp.is_file() and stamp.read_text() == digest):
        shutil.rmtree(repo, ignore_errors=True)
        ctx.log(f"change {size}: building a git repository ...")
        shutil.copytree(source, repo, ignore=shutil.ignore_patterns(".bir-cache"))
        (repo / ".gitignore").write_text(".bir-cache/\n")
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "Generated register")
        stamp.write_text(digest)
    _git(repo, "reset", "-q", "--hard", "HEAD")
    _git(repo, "clean", "-q", "-fd", "--", "registry")
    return repo


def _change_ten(repo: Path) -> None:
    """Ten records changed: names edited in eight, one added, one hardware record's support cost changed."""
    hardware = sorted((repo / "registry" / "hardware").glob("*.yaml"))
    for path in hardware[:9]:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("\nname: \"", "\nname: \"Changed ", 1), encoding="utf-8")
    new = hardware[9].read_text(encoding="utf-8").replace(hardware[9].stem, "hw-bench-new")
    (repo / "registry" / "hardware" / "hw-bench-new.yaml").write_text(new, encoding="utf-8")


def bench_change(ctx: Context) -> list[Row]:
    """`bir change --base HEAD` with ten records changed, head validated through a warm cache.

    The sizes take turns, repeat after repeat, so that a noisy moment on a shared machine falls on all of
    them alike; the best of the repeats is kept (at least nine: a run takes under a second)."""
    rows: list[Row] = []
    best: dict[int, Measure] = {}
    errors: dict[int, str] = {}
    repos: dict[int, Path] = {}
    envs: dict[int, dict[str, str]] = {}
    for size in ctx.sizes:
        repo = repos[size] = _change_repo(size, ctx)
        _change_ten(repo)
        envs[size] = cache_env(f"change-{size}", fresh=True)
        warm = run_child([PY, "-m", "bir", "validate", str(repo), "--format", "json"], timeout=ctx.timeout, extra_env=envs[size])
        errors[size] = "" if warm.returncode in (0, 1) else f"validate exit {warm.returncode}: {tail(warm.stderr)}"
    for attempt in range(max(ctx.repeats(max(ctx.sizes)), 9)):
        for size in ctx.sizes:
            ctx.log(f"change {size}: repeat {attempt + 1}")
            run = run_child([PY, "-m", "bir", "change", "--root", str(repos[size]), "--base", "HEAD", "--format", "json"],
                            timeout=ctx.timeout, extra_env=envs[size])
            err = errors[size]
            if not err and run.returncode not in (0, 1):
                err = f"exit {run.returncode}: {tail(run.stderr or run.stdout)}"
            elif not err:
                counts = json.loads(run.stdout)["counts"]
                if sum(counts.values()) != 10:
                    err = f"saw {counts}, not 10 records changed"
            m = Measure("change", size, "bir change (10 records)", None if err else run.seconds, run.peak_mb, err)
            old = best.get(size)
            if old is None or (m.seconds is not None and (old.seconds is None or m.seconds < old.seconds)):
                best[size] = m
    for size in ctx.sizes:
        rows.append(best[size])
        _git(repos[size], "reset", "-q", "--hard", "HEAD")
        _git(repos[size], "clean", "-q", "-fd", "--", "registry")
    small, large = min(best), max(best)
    if small != large and best[small].seconds and best[large].seconds is not None:
        rows.append(Check("change", large, f"{large} / {small} records", round(best[large].seconds / best[small].seconds, 3),
                          "<=", 1.5))
    if best[large].seconds is not None:
        rows.append(Check("change", large, "bir change seconds", round(best[large].seconds, 3), "<=", 3.0, "s"))
    return rows


def _pr_check(clone: Path, base: str, size: int, ctx: Context, env: dict[str, str], *,
              separate: bool = False) -> tuple[float | None, float, str]:
    """The pull request's job in `clone`: `bir change --base BASE`, which validates the head's whole register
    as `bir validate` does and checks the change, in one process (as `.github/workflows/pr.yml` runs it).
    With `separate`, a `bir validate` first, as the job ran before (the figure of earlier rounds). Summed
    seconds (None on failure), peak MB, error."""
    seconds, peak = 0.0, 0.0
    if separate:
        v = run_child([PY, "-m", "bir", "validate", str(clone), "--format", "json"], timeout=ctx.timeout, extra_env=env)
        if v.returncode not in (0, 1):
            return None, v.peak_mb, f"validate exit {v.returncode}: {tail(v.stderr or v.stdout)}"
        records = json.loads(v.stdout)["summary"]["records"]
        if records != size + 1:
            return None, v.peak_mb, f"validate counted {records} records, not {size + 1}"
        seconds, peak = v.seconds, v.peak_mb
    c = run_child([PY, "-m", "bir", "change", "--root", str(clone), "--base", base, "--format", "json"],
                  timeout=ctx.timeout, extra_env=env)
    if c.returncode not in (0, 1):
        return None, c.peak_mb, f"change exit {c.returncode}: {tail(c.stderr or c.stdout)}"
    data = json.loads(c.stdout)
    if sum(data["counts"].values()) != 10:
        return None, c.peak_mb, f"change saw {data['counts']}, not 10 records changed"
    if data["head_summary"]["records"] != size + 1:
        return None, c.peak_mb, f"change validated {data['head_summary']['records']} records, not {size + 1}"
    return seconds + c.seconds, max(peak, c.peak_mb), ""


def bench_pr(ctx: Context) -> list[Row]:
    """The pull-request check as CI runs it: a fresh clone of the pull request (ten records changed, committed),
    main's cache restored (signed by main's key, verified with its public key, read only), the job's own
    cache empty: `bir change --base <main>`, which validates the whole register too. Against the same job
    as two commands (`bir validate`, then `bir change`: how it ran before), the job with no cache (what
    every pull request paid before main's cache) and a cold `bir validate` of the same clone, in the same run."""
    sys.path.insert(0, str(ROOT / "tool"))
    from bir.cache.trust import keygen

    private, public = keygen()
    rows: list[Row] = []
    for size in ctx.sizes:
        repo = _change_repo(size, ctx)
        base = _git(repo, "rev-parse", "HEAD").decode().strip()
        ctx.log(f"pr {size}: main's job validates and signs its cache")
        main_env = cache_env(f"pr-main-{size}", fresh=True, BIR_CACHE_SIGNING_KEY=private)
        run = run_child([PY, "-m", "bir", "validate", str(repo), "--format", "json"], timeout=ctx.timeout, extra_env=main_env)
        err = "" if run.returncode in (0, 1) else f"main's validate exit {run.returncode}: {tail(run.stderr)}"
        clone = CACHE / f"pr-clone-r{size}"
        shutil.rmtree(clone, ignore_errors=True)
        _git(CACHE, "clone", "-q", "--no-hardlinks", str(repo), str(clone))
        _change_ten(clone)
        _git(clone, "add", "-A")
        _git(clone, "commit", "-q", "-m", "Ten records changed")
        best: dict[bool, float | None] = {False: None, True: None}
        peak = {False: 0.0, True: 0.0}
        errors = {False: err, True: err}
        for attempt in range(ctx.repeats(size) if size < 100_000 else 3):
            for separate in (False, True):  # taking turns, so a drift of the machine falls on both
                if errors[separate]:
                    continue
                ctx.log(f"pr {size}: repeat {attempt + 1}{' as two commands' if separate else ''} "
                        "(fresh job cache, main's cache restored)")
                env = cache_env(f"pr-job-{size}", fresh=True, validators=False, BIR_CACHE_SHARED=main_env["BIR_CACHE_DIR"],
                                BIR_CACHE_TRUSTED_KEY=public)
                seconds, mb, errors[separate] = _pr_check(clone, base, size, ctx, env, separate=separate)
                peak[separate] = max(peak[separate], mb)
                found = best[separate]
                if seconds is not None and (found is None or seconds < found):
                    best[separate] = seconds
        rows.append(Measure("pr", size, "the job's check (main's cache)", best[False] if not errors[False] else None,
                            peak[False], errors[False]))
        rows.append(Measure("pr", size, "validate, then change (main's cache)", best[True] if not errors[True] else None,
                            peak[True], errors[True]))
        ctx.log(f"pr {size}: the same check without any cache, and a cold validate")
        seconds, mb, nerr = _pr_check(clone, base, size, ctx, cache_env(f"pr-none-{size}", fresh=True, validators=False))
        rows.append(Measure("pr", size, "the job's check (no cache)", seconds, mb, nerr))
        cold, cerr = _bir_validate(clone, ctx, size + 1, cache_env(f"pr-cold-{size}", fresh=True))
        rows.append(Measure("pr", size, "validate cold", None if cerr else cold.seconds, cold.peak_mb, cerr))
        job = best[False]
        if job is not None and not errors[False]:
            if size >= 100_000:
                rows.append(Check("pr", size, "the job's check seconds (main's cache)", round(job, 3), "<=", 2.0, "s"))
            if not cerr and size >= 10_000:
                rows.append(Check("pr", size, "the job's check / validate cold", round(job / cold.seconds, 3), "<=", 0.25))
    return rows


def _history_repo(size: int, commits: int, ctx: Context, kinds_per_commit: int = 10) -> Path:
    """`size` records and `commits` first-parent commits, ten records changed in each after the first,
    spread over `kinds_per_commit` kind folders; written with `git fast-import`: building it costs
    seconds, not one `git commit` per commit.

    git's cost per commit follows the number of entries in the folders a commit touches (it diffs each
    changed folder entry by entry), so the spread matters: a typical change touches one or two kinds
    (ten laptops replaced, a contract and its licences renewed); ten kinds in every commit is the worst case.
    """
    suffix = "" if kinds_per_commit == 10 else f"-k{kinds_per_commit}"
    repo = CACHE / f"git-history-r{size}-c{commits}{suffix}"
    stamp = CACHE / f"git-history-r{size}-c{commits}{suffix}.packed"
    if (repo / ".git").is_dir() and stamp.is_file():
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    ctx.log(f"history {size} x {commits}: fast-import ...")
    kinds = list(KINDS)
    lines: list[bytes] = []

    def blob(text: str) -> None:
        data = text.encode()
        lines.append(b"data %d\n" % len(data) + data + b"\n")

    def path_of(i: int) -> str:
        kind = kinds[i % len(kinds)]
        return f"registry/{kind}/{kind[:3]}-{i:06d}.yaml"

    for c in range(commits):
        lines.append(b"commit refs/heads/main\n")
        lines.append(b"committer Bench <bench@example.com> %d +0000\n" % (1_700_000_000 + c * 3600))
        blob(f"Change {c} (#{c + 1})\n\nChange-Type: standard\n")
        if c == 0:
            for i in range(size):
                lines.append(f"M 100644 inline {path_of(i)}\n".encode())
                blob(f"id: {path_of(i).rsplit('/', 1)[1][:-5]}\nname: record {i}\nstatus: active\n")
        else:
            for j in range(10):
                i = (c * 97 + j * 7919) % size
                if kinds_per_commit != 10:  # the same spread of records, folded into kinds_per_commit folders
                    kind_index = (c + (j % kinds_per_commit) * 5) % len(kinds)
                    i = kind_index + len(kinds) * ((i // len(kinds)) % (size // len(kinds)))
                lines.append(f"M 100644 inline {path_of(i)}\n".encode())
                blob(f"id: {path_of(i).rsplit('/', 1)[1][:-5]}\nname: record {i} v{c}\nstatus: active\n")
        lines.append(b"\n")
    _git(repo, "fast-import", "--quiet", stdin=b"".join(lines))
    # fast-import's pack is written for speed of import, not of reading (its own manual says to repack):
    # store it as a server does after garbage collection, so reading it costs what reading a clone costs.
    ctx.log(f"history {size} x {commits}: git repack -adf ...")
    _git(repo, "repack", "-q", "-a", "-d", "-f")
    _git(repo, "reset", "-q", "--hard", "main")
    stamp.write_text("repacked\n")
    return repo


def _history_cold(repo: Path, size: int, commits: int, label: str, ctx: Context, script: str) -> Measure:
    best: Measure | None = None
    for attempt in range(ctx.repeats(size)):
        ctx.log(f"history {size} x {commits} {label}: repeat {attempt + 1} (cold: no cache)")
        shutil.rmtree(repo / ".bir-cache", ignore_errors=True)
        run = run_child([PY, "-c", script, str(repo)], timeout=ctx.timeout)
        err = "" if run.returncode == 0 else f"exit {run.returncode}: {tail(run.stderr)}"
        m = Measure("history", size, f"all_history cold ({commits} commits, {label})", None if err else run.seconds,
                    run.peak_mb, err, run.stdout.strip())
        if best is None or (m.seconds is not None and (best.seconds is None or m.seconds < best.seconds)):
            best = m
    assert best is not None
    return best


def bench_history(ctx: Context) -> list[Row]:
    """Every record's history in one pass (path level): 100,000 records x 1,000 commits at the largest size,
    for typical changes (two kinds per commit) and for the worst case (ten kinds per commit)."""
    rows: list[Row] = []
    script = ("import sys; from pathlib import Path; from bir.history.trail import all_history; "
              "h = all_history(Path(sys.argv[1])); print(len(h), sum(len(v) for v in h.values()))")
    for size in ctx.sizes:
        commits = 1000 if size >= 100_000 else max(10, size // 100)
        repo = _history_repo(size, commits, ctx, kinds_per_commit=2)
        best = _history_cold(repo, size, commits, "2 kinds each", ctx, script)
        rows.append(best)
        # The pass is kept in .bir-cache: unchanged, and after one more merged change (read incrementally).
        ctx.log(f"history {size} x {commits}: warm")
        run = run_child([PY, "-c", script, str(repo)], timeout=ctx.timeout)
        warm = Measure("history", size, "all_history warm (unchanged)", run.seconds if run.returncode == 0 else None,
                       run.peak_mb, "" if run.returncode == 0 else tail(run.stderr), run.stdout.strip())
        rows.append(warm)
        env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
               "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
        (repo / "registry" / "party" / "par-bench-extra.yaml").write_text("id: par-bench-extra\nname: one more\n")
        subprocess.run(["git", "add", "registry"], cwd=repo, check=True, env=env)
        subprocess.run(["git", "commit", "-q", "-m", "one more change"], cwd=repo, check=True, env=env)
        try:
            run = run_child([PY, "-c", script, str(repo)], timeout=ctx.timeout)
            rows.append(Measure("history", size, "all_history after 1 new commit", run.seconds if run.returncode == 0 else None,
                                run.peak_mb, "" if run.returncode == 0 else tail(run.stderr), run.stdout.strip()))
        finally:
            subprocess.run(["git", "reset", "-q", "--hard", "HEAD~1"], cwd=repo, check=True)
        worst = _history_cold(_history_repo(size, commits, ctx, kinds_per_commit=10), size, commits, "10 kinds each",
                              ctx, script)
        rows.append(worst)
        if size >= 100_000:
            for m, label in ((best, "2 kinds each"), (worst, "10 kinds each")):
                if m.seconds is not None:
                    rows.append(Check("history", size, f"all_history cold seconds ({commits} commits, {label})",
                                      round(m.seconds, 3), "<=", 3.0, "s"))
            if warm.seconds is not None:
                rows.append(Check("history", size, "all_history warm seconds", round(warm.seconds, 3), "<=", 3.0, "s"))
    return rows


# ---- benchmark: site ------------------------------------------------------------------------------------

SITE_TARGETS = {10_000: 30.0, 100_000: 60.0}  # seconds of a full build; peak memory <= 1 GB at every size
REBUILD_TARGET = {100_000: 10.0}  # seconds of a rebuild after ten records changed


def _site_change_ten(root: Path) -> Callable[[], None]:
    """Ten records changed as in `_change_ten` (nine names edited, one added); returns what undoes it (the
    generated register is shared with the other benchmarks)."""
    _edited(root).touch()
    hardware = sorted((root / "registry" / "hardware").glob("*.yaml"))
    saved = {path: path.read_bytes() for path in hardware[:9]}
    for path in hardware[:9]:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("\nname: \"", "\nname: \"Changed ", 1), encoding="utf-8")
    added = root / "registry" / "hardware" / "hw-bench-new.yaml"
    added.write_text(hardware[9].read_text(encoding="utf-8").replace(hardware[9].stem, "hw-bench-new"), encoding="utf-8")

    def undo() -> None:
        for path, data in saved.items():
            path.write_bytes(data)
        added.unlink(missing_ok=True)
        _edited(root).unlink()

    return undo


def _mtimes(folder: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            out[path] = os.stat(path).st_mtime_ns
    return out


def bench_site(ctx: Context) -> list[Row]:
    """`bir site build` on generated registers from nothing (no output, no cache), then search for random
    record ids in the chunked index, then a rebuild after ten records changed: its time, and how many files
    it wrote (the others must keep their bytes and mtime)."""
    import random
    import resource

    sys.path.insert(0, str(ROOT / "tool"))
    from bir.site.search import lookup

    rows: list[Row] = []
    for size in ctx.sizes:
        root = register(size, ctx.seed, ctx.log)
        out = CACHE / f"site-r{size}"
        shutil.rmtree(out, ignore_errors=True)  # each run builds from scratch (and older outputs lack the marker)
        for name in ("site-records.pickle", "site-pages.pickle"):
            (root / ".bir-cache" / name).unlink(missing_ok=True)
        ctx.log(f"site {size}: building")
        cmd = [PY, "-m", "bir", "site", "build", "--root", str(root), "--out", str(out), "--quiet"]
        # Its own caches, fresh: the user's result cache would hold every record of an earlier run of this code.
        env = cache_env(f"site-{size}", fresh=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        run = run_child(cmd, timeout=ctx.timeout, extra_env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1)
        err = "" if run.returncode == 0 else f"exit {run.returncode}: {tail(run.stderr or run.stdout)}"
        rows.append(Measure("site", size, "bir site build", None if err else run.seconds, run.peak_mb, err))
        # CPU seconds of the build and its workers: the machine is shared, so wall time alone is noisy.
        rows.append(Measure("site", size, "bir site build, CPU seconds", None if err else cpu, run.peak_mb))
        target = SITE_TARGETS.get(size)
        if target is not None and not err:
            rows.append(Check("site", size, "bir site build seconds", round(run.seconds, 1), "<=", target, "s"))
        rows.append(Check("site", size, "peak MB", round(run.peak_mb), "<=", 1024, "MB"))
        if err:
            continue
        ids = sorted(p.stem for p in (root / "registry").rglob("*.yaml"))
        sample = random.Random(ctx.seed).sample(ids, min(50, len(ids)))
        found = sum(1 for rid in sample if rid in [r[0] for r in lookup(out / "search-index", rid)])
        rows.append(Check("site", size, "search finds random ids (of 50)", found, ">=", len(sample), ""))
        ctx.log(f"site {size}: rebuilding after ten records changed")
        stamps = _mtimes(out)
        undo = _site_change_ten(root)
        try:
            run = run_child(cmd, timeout=ctx.timeout, extra_env=env)  # the caches the build left, as in CI
        finally:
            undo()
        err = "" if run.returncode == 0 else f"exit {run.returncode}: {tail(run.stderr or run.stdout)}"
        now = _mtimes(out) if not err else {}
        pages = sum(1 for path in now if path.endswith(".html") and "/records/" in path)
        rewritten = sum(1 for path, ns in now.items() if "/records/" in path and stamps.get(path) != ns)
        rows.append(Measure("site", size, "rebuild, 10 records changed", None if err else run.seconds, run.peak_mb, err,
                            f"{rewritten} of {pages} record pages written"))
        if not err:
            if size in REBUILD_TARGET:
                rows.append(Check("site", size, "rebuild seconds", round(run.seconds, 1), "<=", REBUILD_TARGET[size], "s"))
            # the ten records' pages and the pages that show them (their owners', their neighbours')
            rows.append(Check("site", size, "record pages rewritten", rewritten, "<=", 100, ""))
    return rows


def bench_reports(ctx: Context) -> list[Row]:
    """Loading the register and all reports (`bir.reports.all_reports`) in one process: the first run with
    an empty cache, the next ones reading the records through the result cache; and, at 10,000 records and
    more, `bir report risk` with a warm cache against a cold `bir validate` of the same register."""
    rows: list[Row] = []
    for size in ctx.sizes:
        root = register(size, ctx.seed, ctx.log)
        env = cache_env(f"reports-{size}", fresh=True)
        runs: list[dict[str, float]] = []
        err = ""
        peak_cold = peak_warm = 0.0
        for attempt in range(1 + max(ctx.repeats(size), 2)):
            ctx.log(f"reports {size}: run {attempt + 1} ({'cold' if attempt == 0 else 'warm cache'})")
            run = run_child([PY, str(BENCH / "bench_reports.py"), str(root)], timeout=ctx.timeout, extra_env=env)
            if run.returncode != 0:
                err = f"exit {run.returncode}: {tail(run.stderr or run.stdout)}"
                break
            got = json.loads(run.stdout)
            runs.append({"load": got["load_seconds"], "reports": got["reports_seconds"]})
            if attempt == 0:
                peak_cold = run.peak_mb
            else:
                peak_warm = max(peak_warm, run.peak_mb)
        if len(runs) < 2:
            rows.append(Measure("reports", size, "load + all reports", None, None, err or "no run"))
            continue
        cold, warm = runs[0], min(runs[1:], key=lambda r: r["load"] + r["reports"])
        rows.append(Measure("reports", size, "load register (cold)", cold["load"], peak_cold))
        rows.append(Measure("reports", size, "all reports (cold run)", cold["reports"], peak_cold))
        rows.append(Measure("reports", size, "load register (warm cache)", warm["load"], peak_warm))
        rows.append(Measure("reports", size, "all reports (warm run)", warm["reports"], peak_warm))
        rows.append(Check("reports", size, "reports / cold load", round(cold["reports"] / cold["load"], 3) if cold["load"] else None,
                          "<=", 1.0))
        if size >= 100_000:
            rows.append(Check("reports", size, "warm load + reports seconds", round(warm["load"] + warm["reports"], 2), "<=", 4, "s"))
            rows.append(Check("reports", size, "warm load + reports peak memory", round(peak_warm), "<=", 600, "MB"))
        if size >= 10_000:
            best_risk: float | None = None
            risk_peak, risk_err = 0.0, ""
            for attempt in range(ctx.repeats(size)):
                ctx.log(f"reports {size}: bir report risk, warm cache ({attempt + 1})")
                run = run_child([PY, "-m", "bir", "report", "risk", "--root", str(root), "--format", "json"],
                                timeout=ctx.timeout, extra_env=env)
                risk_peak = max(risk_peak, run.peak_mb)
                if run.returncode != 0:
                    risk_err = f"exit {run.returncode}: {tail(run.stderr or run.stdout)}"
                elif best_risk is None or run.seconds < best_risk:
                    best_risk = run.seconds
            cold_validate, verr = _bir_validate(root, ctx, size, cache_env(f"reports-cold-{size}", fresh=True))
            rows.append(Measure("reports", size, "bir report risk (warm cache)", best_risk, risk_peak,
                                "" if best_risk is not None else risk_err or "no run"))
            rows.append(Measure("reports", size, "bir validate cold", None if verr else cold_validate.seconds, cold_validate.peak_mb, verr))
            if best_risk is not None and not verr:
                rows.append(Check("reports", size, "report risk (warm) / validate cold", round(best_risk / cold_validate.seconds, 3),
                                  "<=", 0.5))
    return rows


# Named benchmarks, run in this order; `--only NAME` picks some.
BENCHMARKS: list[tuple[str, Callable[[Context], list[Row]]]] = [
    ("validate", bench_validate),
    ("change", bench_change),
    ("pr", bench_pr),
    ("history", bench_history),
    ("site", bench_site),
    ("reports", bench_reports),
]


# ---- output ----------------------------------------------------------------------------------------------


def _table(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *body, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in body)])


def render(name: str, rows: Sequence[Row]) -> str:
    measures = [r for r in rows if isinstance(r, Measure)]
    checks = [r for r in rows if isinstance(r, Check)]
    out = [f"== {name} =="]
    if measures:
        names = list(dict.fromkeys(m.name for m in measures))
        sizes = list(dict.fromkeys(m.size for m in measures))
        cell = {(m.size, m.name): m for m in measures}

        def fmt(size: int, n: str, attr: str) -> str:
            m = cell.get((size, n))
            if m is None:
                return ""
            value = getattr(m, attr)
            return "FAIL" if m.seconds is None else (f"{value:.3f}" if attr == "seconds" else f"{value:.0f}")

        out.append("seconds (best of repeats)")
        out.append(_table(["size", *names], [[str(s), *(fmt(s, n, "seconds") for n in names)] for s in sizes]))
        out.append("peak MB")
        out.append(_table(["size", *names], [[str(s), *(fmt(s, n, "peak_mb") for n in names)] for s in sizes]))
        for m in measures:
            if m.error or (m.note and not m.note.startswith("{")):
                out.append(f"  {m.name} at {m.size}: {m.error or m.note}")
    if checks:
        out.append("targets")
        out.append(_table(["size", "figure", "value", "target", "status"],
                          [[str(c.size), c.name, "-" if c.value is None else f"{c.value:g} {c.unit}",
                            f"{c.op} {c.target:g} {c.unit}", c.status] for c in checks]))
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark bir on generated registers.")
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated record counts")
    parser.add_argument("--repeat", type=int, default=None, help="repeats per size, best taken "
                        "(default 3 below 100,000 records, 1 from there)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", action="append", choices=[n for n, _ in BENCHMARKS],
                        help="run only this benchmark (repeatable)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before a command is killed")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes: not a comma-separated list of numbers: {args.sizes!r}")
    ctx = Context(sizes=sizes, repeat=args.repeat, seed=args.seed, timeout=args.timeout)
    results: dict[str, list[Row]] = {}
    for name, bench in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        results[name] = bench(ctx)
        print(render(name, results[name]), flush=True)
    if args.json:
        payload: dict[str, Any] = {
            "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "seed": args.seed, "sizes": sizes,
            "benchmarks": {
                name: {"measures": [asdict(r) for r in rows if isinstance(r, Measure)],
                       "checks": [{**asdict(r), "status": r.status} for r in rows if isinstance(r, Check)]}
                for name, rows in results.items()
            },
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    failed = any(isinstance(r, Measure) and r.seconds is None for rows in results.values() for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
