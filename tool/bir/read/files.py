"""Record files: which files of a register are records, and reading them safely.

A record is a regular file `registry/<kind>/<id>.yaml`. Everything else under `registry/` is reported, never
skipped silently; symbolic links are reported and never followed, in the working tree and in commits alike.
"""

from __future__ import annotations

import os
import stat
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from bir.base.layout import RECORD_DIR
from bir.base.model import KINDS
from bir.base.problems import Problem
from bir.base.rules import define
from bir.read.yamlstrict import MAX_FILE_BYTES, Oversized


class Candidate(NamedTuple):
    """A file that should hold a record: `registry/<kind>/<name>.yaml` (a tuple: a register has many)."""

    path: str  # relative to the register root
    kind: str
    fingerprint: tuple[int, int, int] = (0, 0, 0)  # size, mtime_ns, inode: for the unchanged-run cache


# -- rules ------------------------------------------------------------------------------------------------
FILE_SYMLINK = define("file.symlink", "error", "file", "symbolic links in the register are reported, never followed", """
    A symbolic link where a record or a kind folder should be: it is never followed (it could point
    anywhere on the machine that runs the check), in the working tree and in commits alike.

    Passes: `registry/hardware/srv-01.yaml` is a regular file.
    Fails:  `registry/hardware/srv-01.yaml` is a link to `/etc/passwd`.
    """)
FILE_HIDDEN = define("file.hidden", "warning", "file", "hidden files in the register are not records", """
    A hidden file or folder (its name starts with a dot) under `registry/`: never read, never counted as
    a record by any command, and reported so that it is not committed by accident.

    Passes: only `<id>.yaml` files in `registry/hardware/`.
    Fails:  `registry/hardware/.srv-01.yaml.swp` left by an editor.
    """)
FILE_EXTENSION = define("file.extension", "error", "file", "record files end in .yaml", """
    A file in a kind folder that is not a `.yaml` record file (`.yml` included).

    Passes: `registry/hardware/srv-01.yaml`.
    Fails:  `registry/hardware/srv-01.yml`.
    """)
FILE_LOCATION = define("file.location", "error", "file", "records live at registry/<kind>/<id>.yaml", """
    A file directly under `registry/`, a sub-folder of a kind folder, or no `registry/` folder at all.

    Passes: `registry/hardware/srv-01.yaml`.
    Fails:  `registry/srv-01.yaml`, or `registry/hardware/old/srv-01.yaml`.
    """)
FILE_UNKNOWN_KIND = define("file.unknown-kind", "error", "file", "folders under registry/ are kinds", """
    A folder under `registry/` that is not one of the kinds.

    Passes: `registry/hardware/srv-01.yaml`.
    Fails:  `registry/servers/srv-01.yaml`.
    """)
FILE_NOT_REGULAR = define("file.not-regular", "error", "file", "records are regular files", """
    A device, socket or pipe where a record should be.

    Passes: `registry/hardware/srv-01.yaml` is a regular file.
    Fails:  `registry/hardware/srv-01.yaml` is a named pipe.
    """)
FILE_UNREADABLE = define("file.unreadable", "error", "file", "record files can be read", """
    A file that cannot be read (permissions, or a blob missing from the repository).

    Passes: a record file readable by the user who runs bir.
    Fails:  a record file with mode 000.
    """)


def discover(root: Path) -> tuple[list[Candidate], list[Problem]]:
    """Every record file under `registry/`, and a problem for everything there that cannot be a record.

    Symbolic links are reported and never followed; nothing is skipped silently.
    """
    base = root / RECORD_DIR
    problems: list[Problem] = []
    found: list[Candidate] = []
    if base.is_symlink() or not base.is_dir():
        return [], [FILE_LOCATION.problem(RECORD_DIR, 0, 0, f"{RECORD_DIR}/ is missing or not a folder",
                          f"create {RECORD_DIR}/<kind>/ folders holding one YAML file per record")]
    with os.scandir(base) as top:
        entries = sorted(top, key=lambda e: e.name)
    for entry in entries:
        rel = f"{RECORD_DIR}/{entry.name}"
        if entry.is_symlink():
            problems.append(FILE_SYMLINK.problem(rel, 0, 0, "symbolic link in the register; links are never followed",
                                  "replace the link with the file itself, or remove it"))
        elif entry.name.startswith("."):
            problems.append(FILE_HIDDEN.problem(rel, 0, 0, "hidden entry in the register is not read",
                                    "remove it; records are visible `.yaml` files"))
        elif entry.is_dir(follow_symlinks=False):
            if entry.name not in KINDS:
                problems.append(FILE_UNKNOWN_KIND.problem(rel, 0, 0, f"folder '{entry.name}' is not a kind",
                                      f"records live in one of: {', '.join(KINDS)}"))
                continue
            _discover_kind(entry.path, entry.name, found, problems)
        else:
            problems.append(FILE_LOCATION.problem(rel, 0, 0, "file directly under registry/ is not a record",
                                  "move it into registry/<kind>/, or out of the register"))
    return found, problems


def _discover_kind(folder: str, kind: str, found: list[Candidate], problems: list[Problem]) -> None:
    with os.scandir(folder) as it:
        entries = sorted(it, key=attrgetter("name"))
    prefix = f"{RECORD_DIR}/{kind}/"
    append = found.append
    for entry in entries:
        name = entry.name
        if name.endswith(".yaml") and name[0] != "." and entry.is_file(follow_symlinks=False):
            st = entry.stat(follow_symlinks=False)  # the common case first: one stat, nothing else
            append(Candidate(prefix + name, kind, (st.st_size, st.st_mtime_ns, st.st_ino)))
            continue
        rel = prefix + name
        if entry.is_symlink():
            problems.append(FILE_SYMLINK.problem(rel, 0, 0, "symbolic link in the register; links are never followed",
                                  "replace the link with the file itself, or remove it"))
        elif name.startswith("."):
            problems.append(FILE_HIDDEN.problem(rel, 0, 0, "hidden file in the register is not read",
                                    "remove it, or rename it to <id>.yaml if it is a record"))
        elif entry.is_dir(follow_symlinks=False):
            problems.append(FILE_LOCATION.problem(rel, 0, 0, "sub-folders of a kind folder are not read",
                                  f"move its records directly into registry/{kind}/"))
        elif not entry.is_file(follow_symlinks=False):
            problems.append(FILE_NOT_REGULAR.problem(rel, 0, 0, "not a regular file", "remove it"))
        elif not name.endswith(".yaml"):
            hint = (f"rename it to {name.rsplit('.', 1)[0]}.yaml" if name.endswith(".yml")
                    else "records are `.yaml` files; move other files out of the register")
            problems.append(FILE_EXTENSION.problem(rel, 0, 0, f"'{name}' is not a .yaml record file", hint))


def read_regular(root: Path, rel: str) -> bytes:
    """Read a file without following a symbolic link, refusing anything but a regular file of sane size."""
    fd = os.open(root / rel, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{rel} is not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            return Oversized(st.st_size)  # parse() reports the real size without reading the content
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def candidates_at(files: dict[str, str]) -> tuple[list[Candidate], list[Problem]]:
    """The record files of a tree listing, and a problem for each file under registry/ that cannot be one."""
    found: list[Candidate] = []
    problems: list[Problem] = []
    for path in sorted(files):
        parts = path.split("/")
        if parts[0] != RECORD_DIR:
            continue
        if len(parts) != 3:
            problems.append(FILE_LOCATION.problem(path, 0, 0, "a record lives at registry/<kind>/<id>.yaml",
                                  "move it into registry/<kind>/"))
        elif parts[1] not in KINDS:
            problems.append(FILE_UNKNOWN_KIND.problem(path, 0, 0, f"folder '{parts[1]}' is not a kind",
                                  f"records live in one of: {', '.join(KINDS)}"))
        elif parts[2].startswith("."):
            continue
        elif not parts[2].endswith(".yaml"):
            problems.append(FILE_EXTENSION.problem(path, 0, 0, f"'{parts[2]}' is not a .yaml record file",
                                  "records are `.yaml` files"))
        else:
            found.append(Candidate(path, parts[1]))
    return found, problems


