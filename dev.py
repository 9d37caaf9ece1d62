#!/usr/bin/env python3
"""Set up and run bir from a fresh clone: `python3 dev.py demo` and `python3 dev.py test`.

Standard library only: it creates `.venv`, installs the project (with the site's packages for `demo`,
and with those and the test tools for `test`),
installs Debian's chromium for the browser tests when it is missing and we may, then runs the job.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
BIN = VENV / "bin"


def run(*cmd: str | Path, check: bool = True) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=HERE, check=check).returncode


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 -- dev.py runs on any python3 to say this
        sys.exit(f"bir needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp_value = hashlib.sha256((HERE / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / ".bir-installed"
    if stamp.is_file() and stamp.read_text() == stamp_value and (BIN / "bir").exists():
        return
    if not (BIN / "python").exists():
        print(f"+ python3 -m venv {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, upgrade_deps=False).create(VENV)
    run(BIN / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", f".{extras}")
    stamp.write_text(stamp_value)


def ensure_chromium() -> None:
    """The browser tests drive Debian's chromium; install it when missing and this user may."""
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        run("apt-get", "update", "-qq", check=False)
        run("apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", "fonts-dejavu-core")
    else:
        print("note: chromium is missing and cannot be installed here (needs root and apt-get): "
              "install Debian's `chromium` package to run the browser tests", flush=True)


def demo() -> int:
    ensure_venv("[site]")
    code = run(BIN / "bir", "validate", HERE, check=False)
    if code not in (0,):
        return code
    out = HERE / "site" / "build"
    if run(BIN / "bir", "site", "--help", check=False) == 0:
        code = run(BIN / "bir", "site", "build", "--root", HERE, "--out", out, check=False)
        if code == 0:
            print(f"\nThe demo register's dashboard: {(out / 'index.html').as_uri()}\n"
                  f"or run `{BIN / 'bir'} site serve` and open http://127.0.0.1:8000/index.html")
    return code


def test() -> int:
    ensure_venv("[dev,site]")
    ensure_chromium()
    for cmd in ((BIN / "ruff", "check", "tool", "tests", "bench", "dev.py"), (BIN / "mypy",)):
        if run(*cmd, check=False) != 0:
            return 1
    return run(BIN / "python", "-m", "pytest", *sys.argv[2:], check=False)


def main() -> int:
    jobs = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in jobs:
        print("usage: python3 dev.py demo | test [pytest args]", file=sys.stderr)
        return 2
    return jobs[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(main())
