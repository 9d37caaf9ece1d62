"""A static search index that scales: shards of a token trie, loaded on demand by `assets/bir-search.js`.

One search for the whole site, in the header of every page and on the search page: every record is indexed
under the tokens of its id, name, serial number, asset tag, host name and tags, and every section of the
written pages (guide, reference, reports, schema) under the words of its title and text.
Tokens are grouped into shards by prefix; a shard with too many entries is split by one more character,
so no shard grows past `MAX_SHARD` entries however large the register. Shards are JavaScript files
(`BIR_SHARD(key, entries)`) rather than JSON so the search also works when the site is opened from disk,
where browsers refuse `fetch` of local files. `manifest.js` lists the shard keys.
"""

from __future__ import annotations

import bisect
import html.parser
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bir.base.model import Record

MAX_SHARD = 1500
MAX_POSTINGS = 200  # a token shared by more records (a kind prefix, "server") lists this many; type more to narrow
_TOKEN = re.compile(r"[0-9a-z]+(?:[-_.:/][0-9a-z]+)*")
_SAFE_KEY = re.compile(r"[^0-9a-z]")
_SEPARATORS = re.compile(r"[-_.:/]")
_PART = re.compile(r"[0-9a-z]+")


def tokens(text: str) -> list[str]:
    """Whole tokens (`srv-ams-01`) and their parts (`srv`, `ams`, `01`), lowercased."""
    out: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        whole = match.group(0)
        out.append(whole)
        if whole.isalnum():
            continue  # one part: the token itself
        out.extend(p for p in _SEPARATORS.split(whole) if p)
    return out


def token_set(text: str) -> set[str]:
    """`set(tokens(text))`, in two scans: the whole tokens, and every run of letters and digits (each run is a
    part of exactly one whole token)."""
    low = text.lower()
    found = set(_TOKEN.findall(low))
    found.update(_PART.findall(low))
    return found


def record_tokens(rec: Record) -> set[str]:
    fields = [rec.id, rec.name]
    for key in ("serial_number", "asset_tag", "hostname", "product", "circuit_id", "code"):
        value = rec.data.get(key)
        if isinstance(value, str):
            fields.append(value)
    fields.extend(rec.tags)
    return token_set("\n".join(fields))  # no token spans a line break


@dataclass(frozen=True, slots=True)
class PageSection:
    """One section of a written page: its link (with the heading's anchor), the page and section titles, its text."""

    url: str
    title: str
    text: str


class _Sections(html.parser.HTMLParser):
    """The sections of one MkDocs page's article, split at its h1-h3 headings that have an id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # > 0 inside the article
        self.skip = 0  # > 0 inside script/style/svg
        self.heading: str | None = None
        self.sections: list[list[str]] = []  # [anchor, heading text, body text...]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "article":
            self.depth += 1
        if not self.depth:
            return
        if tag in ("script", "style", "svg", "table"):
            self.skip += 1
        elif tag in ("h1", "h2", "h3") and a.get("id") and not self.skip:
            self.heading = tag
            self.sections.append([a["id"] or "", ""])

    def handle_endtag(self, tag: str) -> None:
        if tag == "article" and self.depth:
            self.depth -= 1
        elif tag in ("script", "style", "svg", "table") and self.skip:
            self.skip -= 1
        elif tag == self.heading:
            self.heading = None

    def handle_data(self, data: str) -> None:
        if not self.depth or self.skip or not self.sections:
            return
        if self.heading:
            self.sections[-1][1] += data.replace("¶", "")
        else:
            self.sections[-1].append(data)


_TABLE_TAG = re.compile(r"<(/?)table\b[^>]*>", re.IGNORECASE)


def without_tables(text: str) -> str:
    """`text` with every outermost table element (and what it holds) replaced by a space.

    The search indexes no table text (a report page is mostly one table of up to 5,000 rows), and cutting the
    tables out before parsing spares the parser most of the page. A table left open runs to the end, as the
    parser would skip it."""
    kept: list[str] = []
    depth = pos = 0
    for m in _TABLE_TAG.finditer(text):
        if not m.group(1):
            if not depth:
                kept.append(text[pos : m.start()])
            depth += 1
        elif depth:
            depth -= 1
            if not depth:
                kept.append(" ")
                pos = m.end()
    if not depth:
        kept.append(text[pos:])
    return "".join(kept)


def page_sections(site: Path, pages: Iterable[str]) -> list[PageSection]:
    """The sections of the written pages `pages` (relative to `site`), for the search index."""
    out: list[PageSection] = []
    for rel in pages:
        parser = _Sections()
        parser.feed(without_tables((site / rel).read_text(encoding="utf-8")))
        title = ""
        for i, (anchor, heading, *body) in enumerate(parser.sections):
            heading = " ".join(heading.split())
            title = heading if i == 0 else title
            name = heading if i == 0 else f"{title} › {heading}"
            out.append(PageSection(rel if i == 0 else f"{rel}#{anchor}", name[:160], " ".join(" ".join(body).split())))
    return out


def _shard_key(key: str) -> str:
    # File names: letters and digits only; other characters become `_` plus their code.
    return "".join(c if not _SAFE_KEY.match(c) else f"_{ord(c):x}" for c in key)


@dataclass(slots=True)
class RecordPostings:
    """The records' part of the index: their rows, each as the shards hold it (`row_json`), and each token's
    rows (numbered from the first record, at most MAX_POSTINGS a token). It needs only the register, so the
    site computes it while the reports are."""

    rows: list[str]
    by_token: dict[str, list[int]]


def row_json(row: list[str]) -> str:
    """A row's fields as a shard holds them: JSON, ASCII only, with `</` written `<\\/` (a shard is a script,
    and a name could close it)."""
    return json.dumps(row, ensure_ascii=True, separators=(",", ":"))[1:-1].replace("</", "<\\/")


def _post(by_token: dict[str, list[int]], toks: Iterable[str], n: int) -> None:
    for tok in toks:
        postings = by_token.get(tok)
        if postings is None:
            by_token[tok] = [n]
        elif len(postings) < MAX_POSTINGS:
            postings.append(n)


def record_postings(records: Iterable[Record], url_of: Mapping[str, str]) -> RecordPostings:
    """Each record's row ([id, name, kind, status, url]) and the rows of each of their tokens."""
    rows: list[str] = []
    by_token: dict[str, list[int]] = {}
    for rec in records:
        _post(by_token, record_tokens(rec), len(rows))
        rows.append(row_json([rec.id, " ".join(rec.name.split())[:120], rec.kind, rec.status, url_of[rec.id]]))
    return RecordPostings(rows, by_token)


def build_index(records: Iterable[Record], url_of: Mapping[str, str], out: Path,
                sections: Iterable[PageSection] = (), *, prepared: RecordPostings | None = None) -> dict[str, int]:
    """Write `manifest.js` and the shards under `out`; returns {shard key: number of entries}.

    A row is [id, name, kind, status, url]; a page section's is [url, title, "page", "", url]. A token lists the
    sections' rows first, then the records' (`prepared`: `record_postings` of the same records, computed
    before), MAX_POSTINGS in all."""
    out.mkdir(parents=True, exist_ok=True)
    part = prepared if prepared is not None else record_postings(records, url_of)
    # The records' rows are numbered first, so their lists serve as they are; the sections' rows follow them,
    # and a token the sections share lists the sections' rows before the records' first `room` (the records'
    # lists hold their first MAX_POSTINGS: the ones a single pass would keep).
    rows = list(part.rows)
    by_token = dict(part.by_token)
    of_sections: dict[str, list[int]] = {}
    for sec in sections:
        _post(of_sections, token_set(sec.title) | {t for t in token_set(sec.text) if len(t) > 1}, len(rows))
        rows.append(row_json([sec.url, sec.title, "page", "", sec.url]))
    for tok, numbers in of_sections.items():
        theirs = by_token.get(tok)
        by_token[tok] = numbers + theirs[:MAX_POSTINGS - len(numbers)] if theirs else numbers
    shards: dict[str, list[str]] = {}
    toks = sorted(by_token)
    before = [0]  # before[i]: the postings of the tokens ahead of toks[i] (a group's size is a subtraction)
    for tok in toks:
        before.append(before[-1] + len(by_token[tok]))
    _split(toks, before, 0, len(toks), 1, shards)
    sizes: dict[str, int] = {}
    for key, group in shards.items():
        # An entry is [token, *row]; a token is letters, digits and -_.:/ (nothing JSON escapes).
        entries = [f'["{tok}",{rows[n]}]' for tok in group for n in by_token[tok]]
        sizes[key] = len(entries)
        (out / f"s-{_shard_key(key)}.js").write_text(f"BIR_SHARD({json.dumps(key)},[{','.join(entries)}]);\n", encoding="utf-8")
    manifest = {"keys": sorted(shards), "files": {k: f"s-{_shard_key(k)}.js" for k in shards}, "records": len(rows)}
    (out / "manifest.js").write_text("BIR_MANIFEST(" + json.dumps(manifest, separators=(",", ":")) + ");\n", encoding="utf-8")
    return sizes


# Above every character a token holds ([0-9a-z] and -_.:/): `key + _ABOVE` sorts after every token starting with key.
_ABOVE = "\x7f"


def _split(toks: list[str], before: list[int], lo: int, hi: int, depth: int, shards: dict[str, list[str]]) -> None:
    """Group the sorted tokens toks[lo:hi] by their first `depth` characters; split a group that is too large
    by one more character. A group is a run of the sorted tokens, found by bisection."""
    i = lo
    while i < hi:
        key = toks[i][:depth]
        # Tokens shorter than `depth` are a group of one: no other token has them as its first characters.
        j = i + 1 if len(key) < depth else max(i + 1, bisect.bisect_left(toks, key + _ABOVE, i, hi))
        size = before[j] - before[i]
        exact = toks[i] == key  # the key itself is a token: the first of its run
        longer = j - i - (1 if exact else 0)
        if size > MAX_SHARD and longer and depth < 40:
            if exact:
                shards[key] = [key]
            _split(toks, before, i + 1 if exact else i, j, depth + 1, shards)
        else:
            shards[key] = toks[i:j]
        i = j


def lookup(out: Path, query: str) -> list[list[str]]:
    """What the browser's search does, in Python (for tests and the benchmark): rows matching `query`.

    The rows matching the longest word (a token starting with it) are the candidates; each other word must
    be in a candidate's id or name, or be a token of it too. Records whose id is the query come first."""
    manifest = json.loads((out / "manifest.js").read_text(encoding="utf-8")[len("BIR_MANIFEST(") : -3])
    words = tokens(query)
    if not words:
        return []
    loaded: dict[str, list[list[str]]] = {}

    def matches(word: str) -> dict[str, list[str]]:
        seen: dict[str, list[str]] = {}
        for key in shards_for(manifest["keys"], word):
            if key not in loaded:
                text = (out / manifest["files"][key]).read_text(encoding="utf-8")
                loaded[key] = json.loads(text[text.index(",") + 1 : -3])
            for tok, *row in loaded[key]:
                if tok.startswith(word) and row[0] not in seen:
                    seen[row[0]] = row
        return seen

    word = max(words, key=len)
    found = matches(word)
    for other in {w for w in words if w != word}:
        also = matches(other)
        found = {k: r for k, r in found.items() if other in f"{r[0]} {r[1]}".lower() or k in also}
    q = query.strip().lower()
    return sorted(found.values(), key=lambda r: (r[0] != q, r[2] != "page"))


def shards_for(keys: list[str], word: str, limit: int = 12) -> list[str]:
    """The shards that can hold tokens starting with `word`: the deepest key above it and the keys below it."""
    above = [k for k in keys if word.startswith(k)]
    below = [k for k in keys if k.startswith(word) and len(k) > len(word)]
    return ([max(above, key=len)] if above else []) + below[:limit]
