"""From files to records: discover, read safely, parse strictly, check the schema and the record rules.

Each file is independent until the register rules, so files are checked in worker processes (one per
core) and only small results come back: the problems, and either the record's data (for reports and
the site) or the few facts the register rules need (for `bir validate`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b as _blake2b
from hashlib import sha1 as _sha1
from pathlib import Path
from typing import Any, Protocol

from bir.base.gcpause import gc_paused
from bir.base.model import KINDS, Record, Register, iter_references
from bir.base.problems import Problem, Severity, Summary
from bir.check.rules import RecordFacts, check_record, check_register
from bir.check.rules.dates import DATE_FUTURE, DATE_INVALID
from bir.check.ruleset import RuleSet
from bir.read.files import FILE_UNREADABLE, Candidate, read_regular, read_to_end
from bir.read.schemas import SCHEMA_TYPE
from bir.read.text import TEXT_BIDI, TEXT_CONTROL, TEXT_INVISIBLE, TEXT_WORKFLOW
from bir.read.yamlstrict import YAML_EMPTY, compose, node_at, parse

Reader = Callable[[str], bytes]
# Problems of the text itself: the data is what its author wrote, so the schema and the rules still judge it.
TEXT_RULES = frozenset(r.id for r in (TEXT_BIDI, TEXT_CONTROL, TEXT_INVISIBLE, TEXT_WORKFLOW))
PARALLEL_THRESHOLD = 400


@dataclass(slots=True)
class FileResult:
    path: str
    kind: str
    problems: list[Problem]
    data: dict[str, Any] | None = None  # set when the record is schema-valid and data was asked for
    facts: RecordFacts | None = None
    # For the result cache (`bir.cache.results`): what the day-free verdict was reached on, and the parts
    # of the verdict that depend on the day.
    key: bytes | None = None  # content_key of the bytes checked (None: the file could not be read)
    usable: bool = False  # valid enough for the reports (data is kept for it in the cache)
    # (status date, the date.future problem or None when it was not found on the day checked): the problem
    # holds on the days before the status date
    future: tuple[str, Problem | None] | None = None


def content_key(path: str, data: bytes) -> bytes:
    """What a file's day-free verdict depends on besides the rules: its path and its bytes, as the file's
    git blob id (so that git, which knows the id of every file it tracks, can vouch for a file unread:
    `bir.cache.gitkeys`)."""
    blob = _sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    blob.update(data)
    return blob_key(path, blob.digest())


def blob_key(path: str, blob_id: bytes) -> bytes:
    """The content key of the file at `path` whose git blob id is `blob_id` (20 bytes)."""
    return _blake2b(path.encode("utf-8", "surrogateescape") + b"\0" + blob_id, digest_size=20).digest()


class ResultCache(Protocol):
    """Verdicts kept per file content (`bir.cache.results.ResultStore`): the checker asks before checking a
    file and hands back what it found."""

    def lookup(self, path: str, key: bytes, day: dt.date, want_data: bool) -> FileResult | None: ...

    def remember(self, result: FileResult, want_data: bool) -> FileResult: ...

    def empty(self) -> bool: ...

    def register_verdict(self, digest: bytes) -> list[Problem] | None: ...

    def remember_register(self, digest: bytes, problems: list[Problem]) -> None: ...


@dataclass(slots=True)
class LoadResult:
    register: Register
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    index: dict[str, list[RecordFacts]] = field(default_factory=dict)  # id -> the record(s) claiming it
    checked: int = 0  # files parsed and checked afresh (the others' verdicts came from the result cache)
    keys: dict[str, bytes] = field(default_factory=dict)  # path -> content key, of the files a cached load keyed

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity is Severity.WARNING)

    def summary(self) -> Summary:
        return Summary(self.files, self.errors, self.warnings, self.by_kind)


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
        party_type=data.get("party_type") if isinstance(data.get("party_type"), str) else None,
        stores=tuple(r["target"] for r in rels if r.get("type") == "stores" and isinstance(r.get("target"), str)),
        personal_data=data.get("personal_data") is True,
        data_bearing=data.get("data_bearing") if isinstance(data.get("data_bearing"), bool) else None,
        sanitised=all((data.get("sanitisation") or {}).get(k) for k in ("method", "date", "certificate"))
        if isinstance(data.get("sanitisation"), dict) else False,
        hw_class=data.get("class") if isinstance(data.get("class"), str) else None,
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


def check_file(path: str, folder_kind: str, data: bytes, rules: RuleSet, want_data: bool, keyed: bool = False) -> FileResult:
    """Everything that can be known about one file on its own (`keyed`: and what the result cache keeps)."""
    parsed = parse(data, path)
    problems = list(parsed.problems)
    value = parsed.value
    if value is None:
        if not problems:  # `~`, `null` or a bare `---`: the file was emptied, the record did not leave
            problems.append(YAML_EMPTY.problem(path, 1, 1, "the file's document is empty: it holds no record",
                                               "restore the record's fields; a record leaves the register through its "
                                               "final state (with `bir transition`), never by emptying its file"))
        return FileResult(path, folder_kind, problems)
    if not isinstance(value, dict):
        problems.append(SCHEMA_TYPE.problem(path, 1, 1, "a record must be a mapping of fields",
                                            "start the file with `id: <id>` and `kind: <kind>` lines"))
        return FileResult(path, folder_kind, problems)
    kind = value.get("kind") if value.get("kind") in KINDS else folder_kind
    if any(p.rule not in TEXT_RULES for p in problems):  # duplicate keys and the like: the data is not what the author wrote
        return FileResult(path, str(kind), problems, None, facts_of(path, str(kind), value, valid=False))
    if not rules.schemas.is_valid(str(kind), value):
        problems.extend(rules.schemas.explain(str(kind), value, data, path))
        return FileResult(path, str(kind), problems, None, facts_of(path, str(kind), value, valid=False))
    facts = facts_of(path, str(kind), value)
    record = Record(str(value["id"]), str(kind), path, value)
    found = place(list(check_record(record, rules.config, rules.day)), data)
    problems.extend(found)
    # A record whose dates cannot be counted from stays out of the reports (its error says why): every
    # report computes with dates, and one past the calendar's end is no figure.
    usable = not any(p.rule == DATE_INVALID.id for p in found)
    return FileResult(path, str(kind), problems, value if usable and want_data else None, facts,
                      usable=usable, future=_future(record, found) if keyed else None)


def _future(record: Record, found: list[Problem]) -> tuple[str, Problem | None] | None:
    """The one verdict that depends on the day (date.future: the current status entered after the day), so
    that a cached verdict serves any day: the status date, and the problem when it was found."""
    when = record.status_date(record.status) if record.status != "planned" else None
    if when is None:
        return None
    mine = [p for p in found if p.rule == DATE_FUTURE.id]
    return when.isoformat(), mine[0] if mine else None


# Worker processes inherit these from the parent at fork: compiled validators are not picklable.
_WORKER: dict[str, Any] = {}


def _work(batch: Sequence[tuple[str, str]]) -> list[tuple[Any, ...]]:
    root: Path = _WORKER["root"]
    reader: Reader | None = _WORKER["reader"]
    out: list[tuple[Any, ...]] = []
    keyed = _WORKER.get("keyed", False)
    for path, kind in batch:
        r = _check_path(root, reader, path, kind, _WORKER["rules"], _WORKER["want_data"])
        if keyed:
            out.append((r.path, r.kind, r.problems, r.data, r.facts, r.key, r.usable, r.future))
        else:
            out.append((r.path, r.kind, r.problems, r.data, r.facts))  # plain tuples unpickle fastest
    return out


def _check_path(root: Path, reader: Reader | None, path: str, kind: str, rules: RuleSet, want_data: bool) -> FileResult:
    try:
        data = reader(path) if reader is not None else read_regular(root, path)
    except OSError as exc:
        return FileResult(path, kind, [FILE_UNREADABLE.problem(path, 0, 0, f"cannot read the file: {exc.strerror or exc}",
                                             "check the file's permissions")])
    keyed = bool(_WORKER.get("keyed") or _KEYED[0])
    result = check_file(path, kind, data, rules, want_data, keyed)
    if keyed:
        from bir.read.yamlvalues import Oversized

        if not isinstance(data, Oversized):
            result.key = content_key(path, data)  # of the very bytes checked: a file changed meanwhile is not mixed up
    return result


_KEYED = [False]  # set while a load with a result cache runs in this process


def check_files(root: Path, items: Sequence[tuple[str, str]], rules: RuleSet, *,
                want_data: bool, reader: Reader | None = None, jobs: int | None = None) -> Iterator[FileResult]:
    """Check many files, in parallel when it pays off; results come in the order of `items`."""
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs <= 1 or len(items) < PARALLEL_THRESHOLD:
        for path, kind in items:
            yield _check_path(root, reader, path, kind, rules, want_data)
        return
    import multiprocessing

    rules.schemas.warm()
    _WORKER.update(root=root, reader=reader, rules=rules, want_data=want_data, keyed=_KEYED[0])
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
            yield _check_path(root, reader, path, kind, rules, want_data)
        for results in pending:
            for fields in results:
                yield FileResult(*fields)
    _WORKER.clear()


def load(root: Path, rules: RuleSet, candidates: list[Candidate], discovery_problems: list[Problem], *,
         want_data: bool = True, reader: Reader | None = None, jobs: int | None = None,
         cache: ResultCache | None = None, known: Callable[[], dict[str, bytes]] | None = None) -> LoadResult:
    """Check every candidate file and the rules across records. With `want_data`, the register holds every
    valid record. `reader` reads a file (from a commit, say); without it files are read from under `root`.
    With `cache`, a file whose content was judged before by the same rules is not parsed again: its
    verdict comes from the cache, and the rules across records run over the index as always. `known`
    gives the content keys already known (from git) of files that need not be read to be keyed."""
    problems: list[Problem] = list(discovery_problems)
    register = Register(str(root), rules.config)
    index: dict[str, list[RecordFacts]] = {}
    by_kind: dict[str, int] = {}
    items = [(c.path, c.kind) for c in candidates]
    keys: dict[str, bytes] = {}
    # The records pile up here and hold no reference cycles: without the cyclic collector re-scanning
    # the growing heap every few thousand allocations, loading stays linear in the register's size.
    with gc_paused():
        if cache is None:
            _collect(root, items, rules, want_data, reader, jobs, problems, register, index, by_kind)
            checked = len(items)
        else:
            checked = _collect_cached(root, candidates, rules, want_data, reader, jobs, cache, problems, register, index,
                                      by_kind, known() if known is not None else {}, keys)
        # The rules across records judge the index, and the index follows from every file's path and content
        # key (in this context): a load of the same files finds what the last one did.
        digest = index_digest(candidates, keys) if cache is not None and len(keys) == len(candidates) else None
        found = cache.register_verdict(digest) if cache is not None and digest is not None else None
        if found is None:
            found = list(place_register_problems(list(check_register(index, rules.config)), root, reader))
            if cache is not None and digest is not None:
                cache.remember_register(digest, found)
        problems.extend(found)
        problems.sort(key=Problem.sort_key)
        if len(items) >= PARALLEL_THRESHOLD:
            # What was built here lives as long as the command and holds no cycles: set it aside from the
            # collector, or its first pass after the pause scans the whole register (0.6 s at 100,000).
            import gc

            gc.freeze()
    return LoadResult(register, problems, len(candidates), dict(sorted(by_kind.items())), index, checked, keys)


def index_digest(candidates: Sequence[Candidate], keys: dict[str, bytes]) -> bytes:
    """What the rules across records depend on in a load (besides its context): every file's path and content
    key, in the order of the listing (`path\0key\0path\0key...`, interleaved by slices: 100,000 files in 40 ms
    instead of 58 ms for a concatenation each)."""
    paths = [c.path for c in candidates]
    parts: list[bytes] = [b""] * (2 * len(paths))
    parts[::2] = [p.encode("utf-8", "surrogateescape") for p in paths]
    parts[1::2] = map(keys.__getitem__, paths)
    return _blake2b(b"\0".join(parts), digest_size=32).digest()


def _collect(root: Path, items: list[tuple[str, str]], rules: RuleSet, want_data: bool,
             reader: Reader | None, jobs: int | None, problems: list[Problem], register: Register,
             index: dict[str, list[RecordFacts]], by_kind: dict[str, int]) -> None:
    for res in check_files(root, items, rules, want_data=want_data, reader=reader, jobs=jobs):
        _add(res, problems, register, index, by_kind)


def _add(res: FileResult, problems: list[Problem], register: Register, index: dict[str, list[RecordFacts]],
         by_kind: dict[str, int]) -> None:
    problems.extend(res.problems)
    by_kind[res.kind] = by_kind.get(res.kind, 0) + 1
    if res.facts is not None:
        index.setdefault(res.facts.id, []).append(res.facts)
    if res.data is not None and res.facts is not None and res.facts.id not in register.records:
        register.records[res.facts.id] = Record(res.facts.id, res.kind, res.path, res.data)


def _collect_cached(root: Path, candidates: list[Candidate], rules: RuleSet, want_data: bool, reader: Reader | None,
                    jobs: int | None, cache: ResultCache, problems: list[Problem], register: Register,
                    index: dict[str, list[RecordFacts]], by_kind: dict[str, int], known: dict[str, bytes],
                    keys: dict[str, bytes]) -> int:
    """Each file's verdict from the cache when its content was judged before, else checked (in parallel
    when many are left) and handed to the cache. Results are added in the order of `candidates`, and each
    file's content key to `keys`; the number of files checked."""
    found: list[FileResult | None] = []
    missing: list[tuple[str, str]] = []
    if cache.empty():  # nothing judged before in this context: every file is checked, none keyed twice
        found = [None] * len(candidates)
        missing = [(c.path, c.kind) for c in candidates]
    else:
        for c, key in zip(candidates, _keys(root, candidates, reader, known), strict=True):
            hit = cache.lookup(c.path, key, rules.day, want_data) if key is not None else None
            found.append(hit)
            if hit is None:
                missing.append((c.path, c.kind))
    # The files checked afresh are taken as they come (not gathered first): each record parsed is handed to
    # the cache, which gives it back made of the texts it shares, and the parsed copy is freed at once.
    _KEYED[0] = bool(missing)
    try:
        checked = check_files(root, missing, rules, want_data=want_data, reader=reader, jobs=jobs) if missing else iter(())
        for res in found:
            if res is None:
                res = next(checked)
                if res.key is not None:
                    res = cache.remember(res, want_data)
            if res.key is not None:
                keys[res.path] = res.key
            _add(res, problems, register, index, by_kind)
        if next(checked, None) is not None:  # none is left: this ends the workers
            raise AssertionError("the checker gave more results than files")
    finally:
        _KEYED[0] = False
    return len(missing)


def _keys(root: Path, candidates: list[Candidate], reader: Reader | None, known: dict[str, bytes]) -> list[bytes | None]:
    """The content key of every candidate (None where it cannot be read: the checker then says why)."""
    out: list[bytes | None] = []
    base = os.fspath(root) + os.sep
    for c in candidates:
        key = known.get(c.path)
        if key is not None:
            out.append(key)
            continue
        try:
            data = reader(c.path) if reader is not None else _read_small(base + c.path, c.fingerprint[0])
        except OSError:
            data = None
        out.append(content_key(c.path, data) if data is not None else None)
    return out


def _read_small(path: str, size: int) -> bytes | None:
    """A record file's bytes for its cache key, read as `read_regular` reads it (no link followed, regular
    files of a sane size only); None when it cannot be: the checker then reads it and says why."""
    import stat as stat_mod

    from bir.read.yamlvalues import MAX_FILE_BYTES

    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat_mod.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            return None
        return read_to_end(fd, max(size, st.st_size))
    finally:
        os.close(fd)


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
