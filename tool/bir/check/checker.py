"""From files to records: discover, read safely, parse strictly, check the schema and the record rules.

Each file is independent until the register rules, so files are checked in worker processes (one per
core) and only small results come back: the problems, and either the record's data (for reports and
the site) or the few facts the register rules need (for `bir validate`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

from bir.base.gcpause import gc_paused
from bir.base.model import KINDS, Record, Register, iter_references
from bir.base.problems import Problem, Severity, error, warning
from bir.check.rules import RecordFacts, check_record, check_register
from bir.read.config import RECORD_DIR, Config
from bir.read.schemas import SchemaSet
from bir.read.yamlstrict import MAX_FILE_BYTES, compose, node_at, parse

Reader = Callable[[str], bytes]
PARALLEL_THRESHOLD = 400


@dataclass(slots=True)
class FileResult:
    path: str
    kind: str
    problems: list[Problem]
    data: dict[str, Any] | None = None  # set when the record is schema-valid and data was asked for
    facts: RecordFacts | None = None


@dataclass(slots=True)
class LoadResult:
    register: Register
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    index: dict[str, list[RecordFacts]] = field(default_factory=dict)  # id -> the record(s) claiming it

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity is Severity.WARNING)


class Candidate(NamedTuple):
    """A file that should hold a record: `registry/<kind>/<name>.yaml` (a tuple: a register has many)."""

    path: str  # relative to the register root
    kind: str
    fingerprint: tuple[int, int, int] = (0, 0, 0)  # size, mtime_ns, inode: for the unchanged-run cache


def discover(root: Path) -> tuple[list[Candidate], list[Problem]]:
    """Every record file under `registry/`, and a problem for everything there that cannot be a record.

    Symbolic links are reported and never followed; nothing is skipped silently.
    """
    base = root / RECORD_DIR
    problems: list[Problem] = []
    found: list[Candidate] = []
    if base.is_symlink() or not base.is_dir():
        return [], [error(RECORD_DIR, 0, 0, "file.location", f"{RECORD_DIR}/ is missing or not a folder",
                          f"create {RECORD_DIR}/<kind>/ folders holding one YAML file per record")]
    with os.scandir(base) as top:
        entries = sorted(top, key=lambda e: e.name)
    for entry in entries:
        rel = f"{RECORD_DIR}/{entry.name}"
        if entry.is_symlink():
            problems.append(error(rel, 0, 0, "file.symlink", "symbolic link in the register; links are never followed",
                                  "replace the link with the file itself, or remove it"))
        elif entry.name.startswith("."):
            problems.append(warning(rel, 0, 0, "file.hidden", "hidden entry in the register is not read",
                                    "remove it; records are visible `.yaml` files"))
        elif entry.is_dir(follow_symlinks=False):
            if entry.name not in KINDS:
                problems.append(error(rel, 0, 0, "file.unknown-kind", f"folder '{entry.name}' is not a kind",
                                      f"records live in one of: {', '.join(KINDS)}"))
                continue
            _discover_kind(entry.path, entry.name, found, problems)
        else:
            problems.append(error(rel, 0, 0, "file.location", "file directly under registry/ is not a record",
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
            problems.append(error(rel, 0, 0, "file.symlink", "symbolic link in the register; links are never followed",
                                  "replace the link with the file itself, or remove it"))
        elif name.startswith("."):
            problems.append(warning(rel, 0, 0, "file.hidden", "hidden file in the register is not read",
                                    "remove it, or rename it to <id>.yaml if it is a record"))
        elif entry.is_dir(follow_symlinks=False):
            problems.append(error(rel, 0, 0, "file.location", "sub-folders of a kind folder are not read",
                                  f"move its records directly into registry/{kind}/"))
        elif not entry.is_file(follow_symlinks=False):
            problems.append(error(rel, 0, 0, "file.not-regular", "not a regular file", "remove it"))
        elif not name.endswith(".yaml"):
            hint = (f"rename it to {name.rsplit('.', 1)[0]}.yaml" if name.endswith(".yml")
                    else "records are `.yaml` files; move other files out of the register")
            problems.append(error(rel, 0, 0, "file.extension", f"'{name}' is not a .yaml record file", hint))


def read_regular(root: Path, rel: str) -> bytes:
    """Read a file without following a symbolic link, refusing anything but a regular file of sane size."""
    fd = os.open(root / rel, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{rel} is not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            return b"\0" * (MAX_FILE_BYTES + 1)  # parse() reports the size without reading the content
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def facts_of(path: str, kind: str, data: dict[str, Any], *, valid: bool = True) -> RecordFacts | None:
    """What the register rules need of a record. An invalid record still claims its id (so references to it
    resolve), but its own references are not checked: its schema errors already say what is wrong."""
    rid = data.get("id")
    if not isinstance(rid, str):
        return None
    if not valid:
        return RecordFacts(rid, kind, path, "", (), (), (), None)
    rels = [r for r in data.get("relations") or [] if isinstance(r, dict)]
    group = data.get("redundancy_group")
    return RecordFacts(
        id=rid, kind=kind, path=path, status=str(data.get("status", "")),
        references=tuple(iter_references(kind, data)),
        part_of=tuple(r["target"] for r in rels if r.get("type") == "part_of" and isinstance(r.get("target"), str)),
        member_of=tuple(r["target"] for r in rels if r.get("type") == "member_of" and isinstance(r.get("target"), str)),
        redundancy_group=group if isinstance(group, str) else None,
    )


def place(problems: list[Problem], data: bytes) -> list[Problem]:
    """Give problems found on data (line 0, a JSON path) the line and column of that field in the file."""
    if not any(p.line == 0 and p.json_path for p in problems):
        return problems
    try:
        root = compose(data)
    except Exception:  # the file parsed once already; never let positioning hide a problem
        root = None
    out = []
    for p in problems:
        if p.line == 0 and p.json_path and root is not None:
            parts = [s for s in p.json_path.split("/") if s]
            node, _key = node_at(root, parts)
            mark = node.start_mark
            p = Problem(p.path, mark.line + 1, mark.column + 1, p.severity, p.rule, p.message, p.hint, p.json_path)
        out.append(p)
    return out


def check_file(path: str, folder_kind: str, data: bytes, config: Config, schemas: SchemaSet,
               want_data: bool) -> FileResult:
    """Everything that can be known about one file on its own."""
    parsed = parse(data, path)
    problems = list(parsed.problems)
    value = parsed.value
    if value is None:
        return FileResult(path, folder_kind, problems)
    if not isinstance(value, dict):
        problems.append(error(path, 1, 1, "schema.type", "a record must be a mapping of fields",
                              "start the file with `id: <id>` and `kind: <kind>` lines"))
        return FileResult(path, folder_kind, problems)
    kind = value.get("kind") if value.get("kind") in KINDS else folder_kind
    if problems:  # duplicate keys and the like: the data is not what the author wrote
        return FileResult(path, str(kind), problems, None, facts_of(path, str(kind), value, valid=False))
    if not schemas.is_valid(str(kind), value):
        problems.extend(schemas.explain(str(kind), value, data, path))
        return FileResult(path, str(kind), problems, None, facts_of(path, str(kind), value, valid=False))
    facts = facts_of(path, str(kind), value)
    record = Record(str(value["id"]), str(kind), path, value)
    problems.extend(place(list(check_record(record, config)), data))
    return FileResult(path, str(kind), problems, value if want_data else None, facts)


# Worker processes inherit these from the parent at fork: compiled validators are not picklable.
_WORKER: dict[str, Any] = {}


def _work(batch: Sequence[tuple[str, str]]) -> list[tuple[Any, ...]]:
    root: Path = _WORKER["root"]
    reader: Reader | None = _WORKER["reader"]
    out = []
    for path, kind in batch:
        r = _check_path(root, reader, path, kind, _WORKER["config"], _WORKER["schemas"], _WORKER["want_data"])
        out.append((r.path, r.kind, r.problems, r.data, r.facts))  # plain tuples unpickle fastest
    return out


def _check_path(root: Path, reader: Reader | None, path: str, kind: str, config: Config, schemas: SchemaSet,
                want_data: bool) -> FileResult:
    try:
        data = reader(path) if reader is not None else read_regular(root, path)
    except OSError as exc:
        return FileResult(path, kind, [error(path, 0, 0, "file.unreadable", f"cannot read the file: {exc.strerror or exc}",
                                             "check the file's permissions")])
    return check_file(path, kind, data, config, schemas, want_data)


def check_files(root: Path, items: Sequence[tuple[str, str]], config: Config, schemas: SchemaSet, *,
                want_data: bool, reader: Reader | None = None, jobs: int | None = None) -> Iterator[FileResult]:
    """Check many files, in parallel when it pays off; results come in the order of `items`."""
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs <= 1 or len(items) < PARALLEL_THRESHOLD:
        for path, kind in items:
            yield _check_path(root, reader, path, kind, config, schemas, want_data)
        return
    import multiprocessing

    schemas.warm()
    _WORKER.update(root=root, reader=reader, config=config, schemas=schemas, want_data=want_data)
    # The parent is one of the `jobs` processes: it checks the first part itself while `jobs - 1` workers
    # check the rest, so no core is shared and only the workers' part crosses a pipe. It also unpickles
    # the workers' results at the end, so the workers take a little more than their share.
    workers = jobs - 1
    mine = len(items) // jobs - len(items) // (jobs * 20)
    theirs = items[mine:]
    size = max(50, min(1000, len(theirs) // (workers * 8)))
    batches = [theirs[i:i + size] for i in range(0, len(theirs), size)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        pending = pool.imap(_work, batches)
        for path, kind in items[:mine]:
            yield _check_path(root, reader, path, kind, config, schemas, want_data)
        for results in pending:
            for fields in results:
                yield FileResult(*fields)
    _WORKER.clear()


def load(root: Path, config: Config, schemas: SchemaSet, *, want_data: bool = True,
         candidates: list[Candidate] | None = None, discovery_problems: list[Problem] | None = None,
         reader: Reader | None = None, jobs: int | None = None) -> LoadResult:
    """Load and validate a whole register. With `want_data`, the register holds every valid record."""
    if candidates is None:
        candidates, discovery_problems = discover(root)
    problems: list[Problem] = list(discovery_problems or [])
    register = Register(str(root), config)
    index: dict[str, list[RecordFacts]] = {}
    by_kind: dict[str, int] = {}
    items = [(c.path, c.kind) for c in candidates]
    # The records pile up here and hold no reference cycles: without the cyclic collector re-scanning
    # the growing heap every few thousand allocations, loading stays linear in the register's size.
    with gc_paused():
        _collect(root, items, config, schemas, want_data, reader, jobs, problems, register, index, by_kind)
    problems.extend(place_register_problems(list(check_register(index, config)), root, reader))
    problems.sort(key=Problem.sort_key)
    return LoadResult(register, problems, len(candidates), dict(sorted(by_kind.items())), index)


def _collect(root: Path, items: list[tuple[str, str]], config: Config, schemas: SchemaSet, want_data: bool,
             reader: Reader | None, jobs: int | None, problems: list[Problem], register: Register,
             index: dict[str, list[RecordFacts]], by_kind: dict[str, int]) -> None:
    for res in check_files(root, items, config, schemas, want_data=want_data, reader=reader, jobs=jobs):
        problems.extend(res.problems)
        by_kind[res.kind] = by_kind.get(res.kind, 0) + 1
        if res.facts is not None:
            index.setdefault(res.facts.id, []).append(res.facts)
        if res.data is not None and res.facts is not None and res.facts.id not in register.records:
            register.records[res.facts.id] = Record(res.facts.id, res.kind, res.path, res.data)


def place_register_problems(problems: list[Problem], root: Path, reader: Reader | None) -> Iterable[Problem]:
    by_path: dict[str, list[Problem]] = {}
    for p in problems:
        by_path.setdefault(p.path, []).append(p)
    for path, group in by_path.items():
        try:
            data = reader(path) if reader is not None else read_regular(root, path)
        except OSError:
            yield from group
            continue
        yield from place(group, data)
