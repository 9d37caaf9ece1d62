"""A static search index that scales: shards of a token trie, loaded on demand by `assets/bir-search.js`.

Every record is indexed under the tokens of its id, name, serial number, asset tag, host name and tags.
Tokens are grouped into shards by prefix; a shard with too many entries is split by one more character,
so no shard grows past `MAX_SHARD` entries however large the register. Shards are JavaScript files
(`BIR_SHARD(key, entries)`) rather than JSON so the search also works when the site is opened from disk,
where browsers refuse `fetch` of local files. `manifest.js` lists the shard keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bir.base.model import Record

MAX_SHARD = 1500
MAX_POSTINGS = 200  # a token shared by more records (a kind prefix, "server") lists this many; type more to narrow
_TOKEN = re.compile(r"[0-9a-z]+(?:[-_.:/][0-9a-z]+)*")
_SAFE_KEY = re.compile(r"[^0-9a-z]")


def tokens(text: str) -> list[str]:
    """Whole tokens (`srv-ams-01`) and their parts (`srv`, `ams`, `01`), lowercased."""
    out: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        whole = match.group(0)
        out.append(whole)
        parts = re.split(r"[-_.:/]", whole)
        if len(parts) > 1:
            out.extend(p for p in parts if p)
    return out


def record_tokens(rec: Record) -> set[str]:
    fields = [rec.id, rec.name]
    for key in ("serial_number", "asset_tag", "hostname", "product", "circuit_id", "code"):
        value = rec.data.get(key)
        if isinstance(value, str):
            fields.append(value)
    fields.extend(rec.tags)
    found: set[str] = set()
    for text in fields:
        found.update(tokens(text))
    return found


@dataclass(slots=True)
class Entry:
    record: int
    token: str


def _shard_key(key: str) -> str:
    # File names: letters and digits only; other characters become `_` plus their code.
    return "".join(c if not _SAFE_KEY.match(c) else f"_{ord(c):x}" for c in key)


def build_index(records: Iterable[Record], url_of: dict[str, str], out: Path) -> dict[str, int]:
    """Write `manifest.js` and the shards under `out`; returns {shard key: number of entries}."""
    out.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    by_token: dict[str, list[int]] = {}
    for rec in records:
        n = len(rows)
        rows.append([rec.id, " ".join(rec.name.split())[:120], rec.kind, rec.status, url_of[rec.id]])
        for tok in record_tokens(rec):
            postings = by_token.setdefault(tok, [])
            if len(postings) < MAX_POSTINGS:
                postings.append(n)
    shards: dict[str, list[str]] = {}
    _split(sorted(by_token), by_token, 1, shards)
    sizes: dict[str, int] = {}
    for key, toks in shards.items():
        entries = [[tok, *rows[n]] for tok in toks for n in by_token[tok]]
        sizes[key] = len(entries)
        payload = json.dumps(entries, ensure_ascii=True, separators=(",", ":")).replace("</", "<\\/")
        (out / f"s-{_shard_key(key)}.js").write_text(f"BIR_SHARD({json.dumps(key)},{payload});\n", encoding="utf-8")
    manifest = {"keys": sorted(shards), "files": {k: f"s-{_shard_key(k)}.js" for k in shards}, "records": len(rows)}
    (out / "manifest.js").write_text("BIR_MANIFEST(" + json.dumps(manifest, separators=(",", ":")) + ");\n", encoding="utf-8")
    return sizes


def _split(toks: list[str], by_token: dict[str, list[int]], depth: int, shards: dict[str, list[str]]) -> None:
    """Group sorted tokens by their first `depth` characters; split a group that is too large."""
    groups: dict[str, list[str]] = {}
    for tok in toks:
        groups.setdefault(tok[:depth], []).append(tok)
    for key, group in groups.items():
        size = sum(len(by_token[t]) for t in group)
        longer = [t for t in group if len(t) > depth]
        if size > MAX_SHARD and longer and depth < 40:
            exact = [t for t in group if len(t) <= depth]
            if exact:
                shards[key] = exact
            _split(longer, by_token, depth + 1, shards)
        else:
            shards[key] = group


def lookup(out: Path, query: str) -> list[list[str]]:
    """What the browser's search does, in Python (for tests and the benchmark): rows matching `query`."""
    manifest = json.loads((out / "manifest.js").read_text(encoding="utf-8")[len("BIR_MANIFEST(") : -3])
    words = tokens(query)
    if not words:
        return []
    word = max(words, key=len)
    seen: dict[str, list[str]] = {}
    for key in shards_for(manifest["keys"], word):
        text = (out / manifest["files"][key]).read_text(encoding="utf-8")
        entries = json.loads(text[text.index(",") + 1 : -3])
        for tok, *row in entries:
            if tok.startswith(word) and row[0] not in seen:
                seen[row[0]] = row
    return list(seen.values())


def shards_for(keys: list[str], word: str, limit: int = 12) -> list[str]:
    """The shards that can hold tokens starting with `word`: the deepest key above it and the keys below it."""
    above = [k for k in keys if word.startswith(k)]
    below = [k for k in keys if k.startswith(word) and len(k) > len(word)]
    return ([max(above, key=len)] if above else []) + below[:limit]
