"""The result cache: each record file's verdict, kept per content, so unchanged content is never parsed again.

For each file the checker has judged, the cache keeps, under a digest of its path and bytes
(`bir.check.checker.content_key`): the problems found in it (strict YAML, schema, record rules, placed on
their lines), the facts the rules across records need (its index entry) and, for the reports and the site,
its data. The rules across records run over the index whenever it changed: their problems are kept for the
last index of each context only (a digest of every file's path and content key, `checker.index_digest`), so
a changed record is judged against every other one, and a load of the same files does not judge it again.
Entries are grouped by what else a verdict depends on, the *context*: bir's code, the Python and YAML
library versions, the point's configuration and schemas. The day is not in it: the one rule that depends
on the day (date.future) is kept as the status date and its problem, and applied to the day of each run.

Where it lives: `$BIR_CACHE_DIR/results/` when `BIR_CACHE_DIR` is set, else the user's cache folder; one
`<context>.facts` pack (what validation needs) and one `<context>.data` pack (the records' data, read only by
`Point.load`), each written atomically.

Threat model. A cache is input that can be planted: a `.bir-cache/` committed in a pull request, a cache
folder restored in CI from a run that executed a pull request's code (actions/cache searches the pull
request's own scope before the base branch's, and any run of the pull request can write that scope). Pickled
or marshalled bytes must never be loaded unverified, and a planted verdict must never make an invalid
record valid. So a pack is read only when one of these holds:
- it is sealed (HMAC-SHA256) with this user's own key (`bir.base.atomic`), which no pull request can read;
  this is the cache a developer's machine and each CI job keep for themselves (`BIR_CACHE_DIR`), and a job
  that runs a pull request's data never shares it;
- it lies in the read-only shared layer (`BIR_CACHE_SHARED`: in CI, main's cache restored with
  actions/cache) *and* carries an Ed25519 signature (`<pack>.sig`) that verifies with the trusted public key
  (`BIR_CACHE_TRUSTED_KEY`, from the base branch). The private key is a secret of main's publish job only
  (`BIR_CACHE_SIGNING_KEY`, in an environment limited to main): a pull request's run can write its own
  cache scope but cannot sign, so whatever it plants there is ignored and its records are checked afresh.
  The signature covers the file's name with its bytes (`bir.cache.trust.signed_bytes`): a signed file
  copied under another name (main's data pack over its facts pack, one kind's compiled validator over
  another's, `bir.cache.validators`) does not verify either.
A verdict is content-addressed and holds for that content under that context whichever commit of main made
it, so an older signed pack replayed is still true. bir never writes into the shared layer. What bir
cannot guard: actions/cache unpacks whatever archive its scope holds, before bir runs; keep pull requests'
runs from saving caches (the workflows here only restore) and require approval for workflows from forks
(see the change-gate guide).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from bir import __version__
from bir.base.atomic import read_cache, read_cache_verified, seal, user_cache_dir, write_bytes
from bir.base.problems import Problem, Severity
from bir.check.checker import FileResult
from bir.check.rules import RecordFacts
from bir.check.ruleset import RuleSet
from bir.read.yamlvalues import Number

STORE_FORMAT = 6
_AFTER_REFERENCES = RecordFacts._fields.index("references") + 1
RESULTS_DIR = "results"
_SEVERITIES = {s.value: s for s in Severity}
_code: list[str] = []
_new_tuple = tuple.__new__  # a named tuple's own constructor is a Python function


def code_digest() -> str:
    """A digest of bir's own modules: a verdict made by other code is not this code's verdict (the version
    number alone stays the same between two commits of a checkout)."""
    if not _code:
        import bir

        folder = Path(bir.__file__).parent
        digest = hashlib.sha256()
        for path in sorted(folder.rglob("*.py")):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
        _code.append(digest.hexdigest())
    return _code[0]


def context_of(rules: RuleSet) -> str:
    """Everything a file's day-free verdict depends on besides its path and bytes."""
    import yaml

    parts = [str(STORE_FORMAT), __version__, code_digest(), rules.fingerprint, f"{sys.version_info[0]}.{sys.version_info[1]}",
             yaml.__version__, getattr(yaml, "__with_libyaml__", False) and _libyaml_version()]
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()


def _libyaml_version() -> str:
    try:
        from yaml._yaml import get_version_string  # type: ignore[import-not-found]

        return str(get_version_string())
    except ImportError:  # pragma: no cover
        return ""


def results_dir() -> Path | None:
    folder = user_cache_dir()
    return None if folder is None else folder / RESULTS_DIR


def shared_dir() -> Path | None:
    """The read-only shared layer (BIR_CACHE_SHARED; its packs are read from its `results/`)."""
    base = os.environ.get("BIR_CACHE_SHARED")
    if not base:
        return None
    folder = Path(base) / RESULTS_DIR
    return None if folder.is_symlink() or not folder.is_dir() else folder


Entry = tuple[Any, ...]  # (kind, problems, facts, future, usable): marshal's types only


def _problem_out(p: Problem) -> tuple[Any, ...]:
    return (p.line, p.column, p.severity.value, p.rule, p.message, p.hint, p.json_path)


def _problem_in(path: str, t: tuple[Any, ...]) -> Problem:
    return Problem(path, t[0], t[1], _SEVERITIES[t[2]], t[3], t[4], t[5], t[6])


class ResultStore:
    """The verdicts of one context: the user's own pack, and the shared layer when it is trusted.

    `bir.check.checker.load(..., cache=store)` asks it for each file and hands it what it checked; `save()`
    then writes what this run used (sealed; signed when a signing key is set)."""

    def __init__(self, context: str, own: Path | None, shared: Path | None) -> None:
        self.context, self.own, self.shared = context, own, shared
        self._facts: dict[bytes, Entry] | None = None
        self._data: dict[bytes, Any] | None = None
        self._own_facts: set[bytes] = set()
        self._own_data: set[bytes] = set()
        self._shared_facts: set[bytes] = set()
        self._shared_data: set[bytes] = set()
        self.used: dict[bytes, Entry] = {}
        self.used_data: dict[bytes, Any] = {}
        self.hits = self.misses = 0
        self._shared_values: dict[Any, Any] = {}
        self._shared_text: dict[str, str] = {}  # one string per value text across the records a pack stores
        self._register: tuple[bytes, list[Problem]] | None = None  # the rules across records: to write
        self._day: dt.date | None = None
        self._day_text = ""

    @classmethod
    def open(cls, rules: RuleSet) -> ResultStore | None:
        """The store for `rules` (None when rules carry no fingerprint, or there is no cache folder)."""
        if not rules.fingerprint or os.environ.get("BIR_NO_RESULT_CACHE"):
            return None
        own = results_dir()
        if own is None:
            return None
        return cls(context_of(rules), own, shared_dir())

    # -- reading ----------------------------------------------------------------------------------------
    def _pack(self, folder: Path, suffix: str) -> Path:
        return folder / f"{self.context[:32]}.{suffix}"

    def _read(self, suffix: str) -> tuple[dict[bytes, Any], set[bytes], set[bytes]]:
        merged: dict[bytes, Any] = {}
        own_keys: set[bytes] = set()
        shared_keys: set[bytes] = set()
        if self.shared is not None:
            found = read_signed(self._pack(self.shared, suffix), self.context)
            if found is not None:
                merged.update(found)
                shared_keys = set(found)
        if self.own is not None:
            mine = _unpack(read_cache(self._pack(self.own, suffix), codec="marshal"), self.context)
            if mine is not None:
                merged.update(mine)
                own_keys = set(mine)
        return merged, own_keys, shared_keys

    def _facts_table(self) -> dict[bytes, Entry]:
        if self._facts is None:
            self._facts, self._own_facts, self._shared_facts = self._read("facts")
        return self._facts

    def _data_table(self) -> dict[bytes, Any]:
        if self._data is None:
            self._data, self._own_data, self._shared_data = self._read("data")
        return self._data

    def empty(self) -> bool:
        """Whether no verdict of this context is kept at all (a first run: nothing to look up)."""
        return not self._facts_table()

    def lookup(self, path: str, key: bytes, day: dt.date, want_data: bool) -> FileResult | None:
        # (called once per file: 100,000 times in a pull request's check, so the table and the day's text are
        # taken without a call each time)
        entry = (self._facts if self._facts is not None else self._facts_table()).get(key)
        if entry is None:
            self.misses += 1
            return None
        kind, problems, facts, future, usable = entry
        data = None
        if want_data and usable:
            stored = self._data_table().get(key)
            data = _restored(stored)
            if data is None:
                self.misses += 1
                return None
        found = [_problem_in(path, t) for t in problems] if problems else []
        if future is not None and future[0] > (self._day_text if self._day is day else self._day_of(day)):
            if future[1] is None:  # in the future on this day, not on the day it was checked: check it again
                self.misses += 1
                return None
            found.append(_problem_in(path, future[1]))
        self.hits += 1
        self.used[key] = entry
        if data is not None:
            self.used_data[key] = stored
        return FileResult(path, kind, found, data, _index_entry(facts, path), key, usable)

    def _day_of(self, day: dt.date) -> str:
        """The day as a status date is kept (ISO 8601, which sorts as the days do)."""
        self._day, self._day_text = day, day.isoformat()
        return self._day_text

    def register_verdict(self, digest: bytes) -> list[Problem] | None:
        """The problems the rules across records found in the index of `digest`, when this user's own cache
        holds them (never the shared layer's: an index is the whole register, which a pull request changes)."""
        found = _unpack(read_cache(self._pack(self.own, "register"), codec="marshal"), self.context) \
            if self.own is not None else None
        kept = found.get(digest) if found is not None else None
        if not isinstance(kept, tuple):
            return None
        try:
            return [_problem_in(t[0], t[1:]) for t in kept]
        except (IndexError, KeyError, TypeError):  # not of this shape: judged again
            return None

    def remember_register(self, digest: bytes, problems: list[Problem]) -> None:
        self._register = (digest, problems)

    # -- writing ----------------------------------------------------------------------------------------
    def remember(self, result: FileResult, want_data: bool) -> FileResult:
        """Keep `result`, and hand it back as a later run's lookup will give it: its data and index entry
        made of the strings the pack stores, one object per text across the records (a record just parsed
        has its own copy of every key and value: at 100,000 records 2.8 million strings of which 50,000
        differ), so a first load holds the register as compactly as the next."""
        if result.key is None or any(p.path != result.path for p in result.problems):
            return result
        future = result.future
        problems = [p for p in result.problems if future is None or future[1] is None or p is not future[1]]
        facts = self._canonical(result.facts) if result.facts is not None else None
        stored_future = None if future is None else (future[0], None if future[1] is None else _problem_out(future[1]))
        entry = (result.kind, tuple(_problem_out(p) for p in problems), facts, stored_future, result.usable)
        self.used[result.key] = entry
        data = result.data
        if want_data and result.usable and data is not None:
            stored = self.used_data[result.key] = _interned(data, self._shared_text)
            restored = _restored(stored)
            data = restored if restored is not None else data
        return FileResult(result.path, result.kind, result.problems, data, _index_entry(facts, result.path), result.key,
                          result.usable, result.future)

    def _canonical(self, f: RecordFacts) -> tuple[Any, ...]:
        """An index entry as marshal stores it best: the path left out (the key holds it), and the strings and
        sets that records repeat (kinds, states, labels, allowed kinds) shared, so a pack writes each once."""
        shared = self._shared_values
        intern = sys.intern

        def one(value: Any) -> Any:
            found = shared.get(value)
            if found is None:
                found = shared[value] = value
            return found

        refs = tuple((intern(jpath), target, one(allowed), intern(label)) for jpath, target, allowed, label in f.references)
        # Every field of the entry but the path, in RecordFacts' order (`read` puts the path back in its place).
        rest = tuple(intern(v) if isinstance(v, str) else v for v in f[_AFTER_REFERENCES:])
        return (f.id, intern(f.kind), intern(f.status), refs, *rest)

    def save(self) -> None:
        """Write the packs this run used, when they differ from what was read: only what the shared layer
        lacks goes into the user's own pack (in CI that is the pull request's few changed records)."""
        if self.own is None:
            return
        from bir.cache.trust import signing_key

        key = signing_key()
        for suffix, used, read_own, read_shared in (("facts", self.used, self._own_facts, self._shared_facts),
                                                    ("data", self.used_data, self._own_data, self._shared_data)):
            if not used and suffix == "data":
                continue
            mine = {k: v for k, v in used.items() if k not in read_shared} if key is None else used
            path = self._pack(self.own, suffix)
            if set(mine) == read_own and (key is None or path.with_suffix(path.suffix + ".sig").is_file()):
                continue
            write_pack(path, self.context, mine, key)
        if self._register is not None:
            digest, problems = self._register
            write_pack(self._pack(self.own, "register"), self.context,
                   {digest: tuple((p.path, *_problem_out(p)) for p in problems)}, None)
        _prune(self.own, self.context)


def _index_entry(facts: tuple[Any, ...] | None, path: str) -> RecordFacts | None:
    """A record's index entry from the form a pack stores it in (`ResultStore._canonical`): the path put back."""
    return None if facts is None else _new_tuple(RecordFacts, (facts[0], facts[1], path, *facts[2:]))


def _unpack(value: object, context: str) -> dict[bytes, Any] | None:
    if isinstance(value, tuple) and len(value) == 3 and value[0] == STORE_FORMAT and value[1] == context \
            and isinstance(value[2], dict):
        return value[2]
    return None


def read_signed(path: Path, context: str) -> dict[bytes, Any] | None:
    """A shared pack, when its signature verifies with the trusted key (None otherwise: never unpacked)."""
    from bir.cache.trust import read_verified, trusted_key

    public = trusted_key()
    data = read_verified(path, public) if public is not None else None
    return None if data is None else _unpack(read_cache_verified(data, codec="marshal"), context)


def write_pack(path: Path, context: str, table: dict[bytes, Any], key: Any) -> None:
    import marshal

    try:
        payload = f"marshal {sys.version_info[0]}.{sys.version_info[1]}\n".encode() + marshal.dumps((STORE_FORMAT, context, table))
        data = seal(payload)
        if data is None:
            return
        write_bytes(path, data, durable=False)
        if key is not None:
            from bir.cache.trust import signature_of

            write_bytes(path.with_name(path.name + ".sig"), signature_of(path, data, key), durable=False)
    except (OSError, ValueError):
        pass  # a read-only cache folder: only slower


def _prune(folder: Path, context: str, days: int = 14) -> None:
    """Remove the packs of other contexts not written for `days` days (old configurations, old versions)."""
    import time

    limit = time.time() - days * 86400
    try:
        for entry in os.scandir(folder):
            if not entry.name.startswith(context[:32]) and entry.is_file(follow_symlinks=False) \
                    and entry.stat(follow_symlinks=False).st_mtime < limit:
                os.unlink(entry.path)
    except OSError:
        pass


def _interned(data: Any, texts: dict[str, str]) -> Any:
    """A record's data as a pack stores it: mapping keys interned, and every text value the same string
    object as the equal values of the other records the pack stores (`texts`), so marshal writes each once
    per pack and the register read back shares them: at 10,000 records 259,000 text values are 50,000
    distinct texts (states, kinds, dates, currencies, the ids records refer to), 12 of the register's 34 MB.
    A number that keeps its written text (`yamlvalues.Number`, which marshal cannot store) is stored as its
    text, and the record as `(data, paths of its numbers)`: reading it back then puts back those few numbers
    (`_restored`) instead of walking every value."""
    numbers: list[tuple[str | int, ...]] = []
    intern = sys.intern
    shared = texts.setdefault

    def walk(value: Any, at: tuple[str | int, ...]) -> Any:
        if type(value) is dict:
            return {intern(k) if type(k) is str else k: (shared(v, v) if type(v) is str else walk(v, (*at, k))
                                                         if type(v) in _WALKED else v)
                    for k, v in value.items()}
        if type(value) is list:
            return [shared(v, v) if type(v) is str else walk(v, (*at, i)) if type(v) in _WALKED else v
                    for i, v in enumerate(value)]
        if type(value) is Number:
            numbers.append(at)
            return shared(value.text, value.text)
        return value

    stored = walk(data, ())
    return (stored, tuple(numbers)) if numbers else stored


_WALKED = frozenset({dict, list, Number})


def _restored(stored: Any) -> Any:
    """The record data `_interned` stored (None when the entry is not of that shape: then it is a miss). The
    stored value is left as it is (a pack written later holds it again): the containers on the way to each
    number are copied."""
    if type(stored) is not tuple:
        return stored
    try:
        data, numbers = stored
        data = dict(data)
        copies: dict[tuple[str | int, ...], Any] = {}
        for path in numbers:
            node: Any = data
            for depth in range(1, len(path)):
                child = copies.get(path[:depth])
                if child is None:
                    found = node[path[depth - 1]]
                    if type(found) is not dict and type(found) is not list:
                        return None
                    child = copies[path[:depth]] = node[path[depth - 1]] = type(found)(found)
                node = child
            node[path[-1]] = Number(node[path[-1]])
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return data
