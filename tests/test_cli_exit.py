"""The console entry point (`bir.cli.run`, what `bir` and `python -m bir` call) ends the process without
tearing its heap down: what a user sees (exit code, every byte of stdout and stderr, the files written) is what
`bir.cli.main` gives in this process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support import NOT_IN_CI, PROJECT, run

CASES = [
    ("version", ["--version"], 0),
    ("clean register", ["validate", "{root}"], 0),
    ("problems", ["validate", "{root}", "--format", "json"], 1),
    ("usage error", ["report", "cost", "--as-of", "yesterday", "--root", "{root}"], 2),
    ("large output", ["export", "json", "--root", "{root}"], 0),
]


@pytest.mark.parametrize(("args", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_process_shows_what_main_shows(base_register: Path, args: list[str], code: int) -> None:
    if "--format" in args:  # one broken reference: exit code 1
        rec = base_register / "registry" / "hardware" / "srv-01.yaml"
        rec.write_text(rec.read_text(encoding="utf-8").replace("owner: team-it", "owner: team-x"), encoding="utf-8")
    argv = [a.format(root=base_register) for a in args]
    inside = run(*argv, env=NOT_IN_CI)
    process = run(*argv, env=NOT_IN_CI, process=True)
    assert (process.code, process.out, process.err) == (inside.code, inside.out, inside.err)
    assert process.code == code
    if "export" in args:
        assert len(process.out) > 1000 and process.out.endswith("}\n")  # flushed to the last byte


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`bir export json | head -c 10`: the reader goes away; no traceback, no "Exception ignored" line."""
    import os

    env = {**os.environ, **{k: v for k, v in NOT_IN_CI.items() if v is not None}, "PYTHONPATH": os.pathsep.join(sys.path)}
    for key in [k for k, v in NOT_IN_CI.items() if v is None]:
        env.pop(key, None)
    proc = subprocess.Popen([sys.executable, "-m", "bir", "export", "json", "--root", str(PROJECT)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert len(first) == 10 and err == ""


def test_the_console_script_and_the_module_call_run() -> None:
    script = Path(sys.executable).with_name("bir")
    if script.is_file():
        assert "from bir.cli import run" in script.read_text(encoding="utf-8")
    assert (PROJECT / "tool" / "bir" / "__main__.py").read_text(encoding="utf-8") == "from bir.cli import run\n\nrun()\n"
