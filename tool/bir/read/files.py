"""Record files: which files of a register are records, and reading them safely.

A record is a regular file `registry/<kind>/<id>.yaml`. Everything else under `registry/` is reported, never
skipped silently; symbolic links are reported and never followed, in the working tree and in commits alike.
Hidden files are never records, in any command. The temporary files of bir's own atomic writes
(`.<name>.<random>.tmp`) are the one exception to "reported": a killed writer may leave one, the next
writing command removes it (`bir.base.journal.sweep`), and until then it is ignored.

Names are checked for what breaks elsewhere: a register is cloned on Windows and macOS too, and its paths
travel through git, CI logs and shell scripts. A name with a control character (a line break, say) is never
a record; reserved Windows names, trailing dots or spaces, characters Windows refuses and names that differ
only in case are errors.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from stat import S_ISDIR, S_ISLNK, S_ISREG
from typing import NamedTuple

from bir.base.atomic import is_temporary
from bir.base.layout import RECORD_DIR
from bir.base.model import KINDS
from bir.base.problems import Problem
from bir.base.rules import define
from bir.read.yamlvalues import MAX_FILE_BYTES, Oversized


class Candidate(NamedTuple):
    """A file that should hold a record: `registry/<kind>/<name>.yaml` (a tuple: a register has many)."""

    path: str  # relative to the register root
    kind: str
    # size, mtime_ns, inode, ctime_ns: for the unchanged-run cache. The status-change time moves on every
    # write, also one that keeps the size and sets the modification time back.
    fingerprint: tuple[int, int, int, int] = (0, 0, 0, 0)


# -- rules ------------------------------------------------------------------------------------------------
FILE_SYMLINK = define("file.symlink", "error", "file", "symbolic links in the register are reported, never followed", """
    A symbolic link where a record or a kind folder should be: it is never followed (it could point
    anywhere on the machine that runs the check), in the working tree and in commits alike.

    Passes: `registry/hardware/srv-01.yaml` is a regular file.
    Fails:  `registry/hardware/srv-01.yaml` is a link to `/etc/passwd`.
    """)
FILE_HIDDEN = define("file.hidden", "error", "file", "hidden files in the register are not records", """
    A hidden file or folder (its name starts with a dot) under `registry/`: never read, never counted as
    a record by any command, and an error so that it is not committed by accident (a record renamed to
    `.srv-01.yaml` would otherwise leave the register unnoticed). bir's own temporary files, which a
    killed command may leave, are not reported: the next writing command removes them.

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
FILE_NAME = define("file.name", "error", "file", "file names work on every system", """
    A name under `registry/` that breaks elsewhere: a control character (a line break, a tab), a character
    Windows refuses (`<>:"\\|?*`), a trailing dot or space, a reserved Windows name (`con`, `prn`, `aux`,
    `nul`, `com1`-`com9`, `lpt1`-`lpt9`, with any extension), or bytes that are not UTF-8. A name with a
    control character is never read as a record.

    Passes: `registry/hardware/srv-01.yaml`.
    Fails:  `registry/hardware/aux.yaml`, or a file name holding a line break.
    """)
FILE_CASE = define("file.case-collision", "error", "file", "no two names differ only in case", """
    Two entries of the same folder whose names differ only in upper and lower case: on Windows and macOS
    (case-insensitive file systems) one overwrites the other at checkout.

    Passes: `srv-01.yaml` alone.
    Fails:  `srv-01.yaml` and `SRV-01.yaml` in `registry/hardware/`.
    """)
FILE_INTERRUPTED = define("file.interrupted-write", "error", "file", "no write is left half done", """
    A bir command that writes several files was killed after it had decided to write them, and the rest
    could not be completed here (the register is read-only, or another command holds the write lock).
    The next command that can write to the register completes it.

    Passes: no `.bir-cache/journal` file.
    Fails:  a journal left by a killed `bir set --where ...`, in a read-only checkout.
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
    from bir.base.journal import settle

    base = root / RECORD_DIR
    problems: list[Problem] = []
    found: list[Candidate] = []
    if not settle(root):
        problems.append(FILE_INTERRUPTED.problem(".bir-cache/journal", 0, 0, "a killed bir command left a write half done, "
                                                 "and it cannot be completed here",
                                                 "run a command that writes (`bir set`, `bir new`...) where the register "
                                                 "can be written: it completes the write before anything else"))
    if base.is_symlink() or not base.is_dir():
        return [], [FILE_LOCATION.problem(RECORD_DIR, 0, 0, f"{RECORD_DIR}/ is missing or not a folder",
                          f"create {RECORD_DIR}/<kind>/ folders holding one YAML file per record")]
    with os.scandir(base) as top:
        entries = sorted(top, key=lambda e: e.name)
    problems.extend(_collisions(RECORD_DIR, [e.name for e in entries]))
    for entry in entries:
        rel = f"{RECORD_DIR}/{entry.name}"
        if is_temporary(entry.name):
            continue
        bad = name_problem(rel, entry.name)
        if bad is not None:
            problems.append(bad)
            if _NEVER_A_RECORD.search(entry.name):
                continue
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
    # os.listdir and one lstat per name: faster than os.scandir's entries, which a register has 100,000 of.
    names = sorted(os.listdir(folder))
    prefix = f"{RECORD_DIR}/{kind}/"
    base = folder + os.sep
    append = found.append
    plain = _PLAIN_NAME.fullmatch
    lstat = os.lstat
    make = tuple.__new__
    odd: list[str] = []
    for name in names:
        try:
            st = lstat(base + name)
        except FileNotFoundError:
            continue  # removed since the folder was listed: not in the register any more
        if plain(name) is not None and name[:-5] not in _RESERVED and S_ISREG(st.st_mode):
            # the common case first: one status, nothing else (`plain_record_name`, written out: a call per file)
            append(make(Candidate, (prefix + name, kind, (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))))
            continue
        rel = prefix + name
        if is_temporary(name):
            continue
        odd.append(name)
        mode = st.st_mode
        bad = name_problem(rel, name)
        if bad is not None:
            problems.append(bad)
            if _NEVER_A_RECORD.search(name):
                continue  # never a record: a line break in a path breaks every listing it passes through
            if name.endswith(".yaml") and name[0] != "." and S_ISREG(mode):
                append(Candidate(rel, kind, (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)))
                continue
        if S_ISLNK(mode):
            problems.append(FILE_SYMLINK.problem(rel, 0, 0, "symbolic link in the register; links are never followed",
                                  "replace the link with the file itself, or remove it"))
        elif name.startswith("."):
            problems.append(FILE_HIDDEN.problem(rel, 0, 0, "hidden file in the register is not read",
                                    "remove it, or rename it to <id>.yaml if it is a record"))
        elif S_ISDIR(mode):
            problems.append(FILE_LOCATION.problem(rel, 0, 0, "sub-folders of a kind folder are not read",
                                  f"move its records directly into registry/{kind}/"))
        elif not S_ISREG(mode):
            problems.append(FILE_NOT_REGULAR.problem(rel, 0, 0, "not a regular file", "remove it"))
        elif not name.endswith(".yaml"):
            hint = (f"rename it to {name.rsplit('.', 1)[0]}.yaml" if name.endswith(".yml")
                    else "records are `.yaml` files; move other files out of the register")
            problems.append(FILE_EXTENSION.problem(rel, 0, 0, f"'{name}' is not a .yaml record file", hint))
        else:  # a record whose name is not the usual lowercase id
            append(Candidate(rel, kind, (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)))
    if odd:  # only names that are not lowercase ids can collide with another in case
        problems.extend(_collisions(prefix.rstrip("/"), names))


# A record's usual name: a lowercase id and `.yaml`. Anything else is looked at more closely.
_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*[a-z0-9_-]\.yaml")
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))})
_UNREADABLE_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # controls, and bytes that are not UTF-8
_WINDOWS_REFUSES = re.compile(r'[<>:"\\|?*]')
_NEVER_A_RECORD = re.compile(r'[\x00-\x1f\x7f-\x9f\ud800-\udfff<>:"\\|?*]')  # as `bir.base.layout.record_of` says


def plain_record_name(name: str) -> bool:
    """Whether `name` is a record file's name that no system objects to (the listing finds no problem in it)."""
    return _PLAIN_NAME.fullmatch(name) is not None and name[:-5] not in _RESERVED


def name_problem(rel: str, name: str) -> Problem | None:
    """What breaks in one name on another system (None for a portable name)."""
    shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    bad = _UNREADABLE_NAME.search(name)
    if bad is not None:
        ch = bad.group()
        what = (f"a control character (U+{ord(ch):04X})" if not "\ud800" <= ch <= "\udfff" else "bytes that are not UTF-8")
        return FILE_NAME.problem(repr(rel)[1:-1], 0, 0, f"the name {shown!r} holds {what}; it is not read as a record",
                                 "rename it to <id>.yaml: names are lowercase letters, digits and hyphens")
    stem = name.split(".", 1)[0].lower()
    if stem in _RESERVED:
        return FILE_NAME.problem(rel, 0, 0, f"'{name}' is a reserved device name on Windows; the register cannot be "
                                 "checked out there", "choose another id")
    if name.rstrip(". ") != name:
        return FILE_NAME.problem(rel, 0, 0, f"'{name}' ends in a dot or a space, which Windows drops",
                                 "rename it without the trailing dot or space")
    found = _WINDOWS_REFUSES.search(name)
    if found is not None:
        return FILE_NAME.problem(rel, 0, 0, f"'{name}' holds '{found.group()}', which Windows does not allow in a file name; "
                                 "it is not read as a record", "rename it to <id>.yaml: names are lowercase letters, digits and hyphens")
    return None


def _collisions(folder: str, names: list[str]) -> list[Problem]:
    """Names of one folder that are the same when case is ignored (both named, at the second)."""
    seen: dict[str, str] = {}
    out = []
    for name in sorted(names):
        key = name.casefold()
        if key in seen:
            out.append(FILE_CASE.problem(f"{folder}/{name}", 0, 0, f"'{name}' and '{seen[key]}' differ only in case: on a "
                                         "case-insensitive file system (Windows, macOS) one replaces the other",
                                         "rename or remove one of them"))
        else:
            seen[key] = name
    return out


def read_regular(root: Path, rel: str) -> bytes:
    """Read a file without following a symbolic link, refusing anything but a regular file of sane size."""
    fd = os.open(root / rel, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not S_ISREG(st.st_mode):
            raise OSError(f"{rel} is not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            return Oversized(st.st_size)  # parse() reports the real size without reading the content
        return read_to_end(fd, st.st_size)
    finally:
        os.close(fd)


def read_to_end(fd: int, size: int) -> bytes:
    """Every byte left in the open file `fd`, whose size was `size` when asked: one read of one byte more
    (the whole file in the usual case, and a short read says it was all), then chunks for whatever a file
    that grew meanwhile still holds."""
    want = size + 1
    first = os.read(fd, want)
    if len(first) < want:  # a regular file gave less than asked: that was all of it
        return first
    chunks = [first]
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def candidates_at(files: dict[str, str]) -> tuple[list[Candidate], list[Problem]]:
    """The record files of a tree listing, and a problem for each file under registry/ that cannot be one."""
    found: list[Candidate] = []
    problems: list[Problem] = []
    folders: dict[str, list[str]] = {}
    for path in sorted(files):
        parts = path.split("/")
        if parts[0] != RECORD_DIR:
            continue
        folder, _, name = path.rpartition("/")
        folders.setdefault(folder, []).append(name)
        if is_temporary(name):
            continue
        bad = name_problem(path, name) if _PLAIN_NAME.fullmatch(name) is None or name[:-5] in _RESERVED else None
        if bad is not None:
            problems.append(bad)
            if _NEVER_A_RECORD.search(name):
                continue
        if len(parts) != 3:
            problems.append(FILE_LOCATION.problem(path, 0, 0, "a record lives at registry/<kind>/<id>.yaml",
                                  "move it into registry/<kind>/"))
        elif parts[1] not in KINDS:
            problems.append(FILE_UNKNOWN_KIND.problem(path, 0, 0, f"folder '{parts[1]}' is not a kind",
                                  f"records live in one of: {', '.join(KINDS)}"))
        elif parts[2].startswith("."):
            problems.append(FILE_HIDDEN.problem(path, 0, 0, "hidden file in the register is not read",
                                                "remove it, or rename it to <id>.yaml if it is a record"))
        elif not parts[2].endswith(".yaml"):
            problems.append(FILE_EXTENSION.problem(path, 0, 0, f"'{parts[2]}' is not a .yaml record file",
                                  "records are `.yaml` files"))
        else:
            found.append(Candidate(path, parts[1]))
    for folder, names in folders.items():
        if any(_PLAIN_NAME.fullmatch(n) is None for n in names):
            problems.extend(_collisions(folder, names))
    return found, problems


