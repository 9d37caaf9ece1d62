"""The search index's shards: a large register splits them by longer prefixes, each token in one shard, and
every record found by what it is searched by."""

from __future__ import annotations

import json
import random
from pathlib import Path

from bir.base.model import Record
from bir.site.search import MAX_POSTINGS, MAX_SHARD, PageSection, build_index, lookup, record_postings, record_tokens, token_set


def _records(n: int) -> list[Record]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        rid = f"{rng.choice(['srv', 'lap', 'sw', 'net'])}-{rng.choice(['ams', 'fra', 'lon'])}-{i:05d}"
        data = {"name": f"{rng.choice(['Dell', 'HP', 'Lenovo'])} unit {i}", "status": "in_use",
                "serial_number": f"SN{rng.randrange(10**8):08d}", "tags": [rng.choice(["prod", "lab", "dmz"])]}
        out.append(Record(rid, "hardware", f"registry/hardware/{rid}.yaml", data))
    return sorted(out, key=lambda r: r.id)


def _reference_split(toks: list[str], counts: dict[str, int], depth: int, shards: dict[str, list[str]]) -> None:
    """The shards as the index defines them, written the plain way: group by the first `depth` characters, and
    split a group over MAX_SHARD entries by one more (its tokens of exactly `depth` characters stay)."""
    groups: dict[str, list[str]] = {}
    for tok in toks:
        groups.setdefault(tok[:depth], []).append(tok)
    for key, group in groups.items():
        longer = [t for t in group if len(t) > depth]
        if sum(counts[t] for t in group) > MAX_SHARD and longer and depth < 40:
            exact = [t for t in group if len(t) <= depth]
            if exact:
                shards[key] = exact
            _reference_split(longer, counts, depth + 1, shards)
        else:
            shards[key] = group


def _shards(out: Path) -> dict[str, list[list[str]]]:
    manifest = json.loads((out / "manifest.js").read_text(encoding="utf-8")[len("BIR_MANIFEST("):-3])
    shards = {}
    for key in manifest["keys"]:
        text = (out / manifest["files"][key]).read_text(encoding="utf-8")
        shards[key] = json.loads(text[text.index(",") + 1:-3])
    return shards


def test_a_large_register_splits_its_shards_as_defined(tmp_path: Path) -> None:
    records = _records(6000)
    sizes = build_index(records, {r.id: f"records/{r.id}.html" for r in records}, tmp_path / "index")
    shards = _shards(tmp_path / "index")
    assert sizes == {k: len(v) for k, v in shards.items()} and len(shards) > 40
    tokens_of = {k: sorted({e[0] for e in v}) for k, v in shards.items()}
    counts: dict[str, int] = {}
    for entries in shards.values():
        for e in entries:
            counts[e[0]] = counts.get(e[0], 0) + 1
    expected: dict[str, list[str]] = {}
    _reference_split(sorted(counts), counts, 1, expected)
    assert tokens_of == expected
    # Every token is in the one shard its key leads to; only a shard of one token can stay over the limit.
    assert sum(len(t) for t in tokens_of.values()) == len(counts)
    assert all(len(v) <= MAX_SHARD or len(tokens_of[k]) == 1 for k, v in shards.items())
    for rec in random.Random(3).sample(records, 40):
        assert rec.id in [r[0] for r in lookup(tmp_path / "index", rec.id)]
        assert rec.id in [r[0] for r in lookup(tmp_path / "index", rec.data["serial_number"])]


def _one_pass(sections: list[PageSection], records: list[Record], url_of: dict[str, str]) -> dict[str, list[list[str]]]:
    """Each token's rows as one pass over the sections, then the records, defines them: in order, at most
    MAX_POSTINGS a token."""
    rows: list[tuple[set[str], list[str]]] = [
        (token_set(s.title) | {t for t in token_set(s.text) if len(t) > 1}, [s.url, s.title, "page", "", s.url]) for s in sections]
    rows += [(record_tokens(r), [r.id, " ".join(r.name.split())[:120], r.kind, r.status, url_of[r.id]]) for r in records]
    out: dict[str, list[list[str]]] = {}
    for toks, row in rows:
        for tok in toks:
            got = out.setdefault(tok, [])
            if len(got) < MAX_POSTINGS:
                got.append(row)
    return out


def test_the_records_part_made_before_gives_the_index_of_one_pass(tmp_path: Path) -> None:
    """The site indexes the records while the reports are computed (`record_postings`) and adds the page
    sections later: every token lists the sections first, then the records, MAX_POSTINGS in all; the files
    are the same whether the records' part was made before or not."""
    records = _records(3000)
    url_of = {r.id: f"records/{r.id}.html" for r in records}
    # 150 sections share "srv", "ams" and "unit" with the records: those tokens keep 50 records after them
    sections = [PageSection(f"reports/r{i}.html#s", f"Section {i} srv", f"ams unit text{i} x") for i in range(150)]
    build_index(records, url_of, tmp_path / "before", sections, prepared=record_postings(records, url_of))
    build_index(records, url_of, tmp_path / "inline", sections)
    before, inline = tmp_path / "before", tmp_path / "inline"
    assert sorted(p.name for p in before.iterdir()) == sorted(p.name for p in inline.iterdir())
    assert all((before / p.name).read_bytes() == (inline / p.name).read_bytes() for p in inline.iterdir())
    got: dict[str, list[list[str]]] = {}
    for entries in _shards(before).values():
        for tok, *row in entries:
            got.setdefault(tok, []).append(row)
    expected = _one_pass(sections, records, url_of)
    assert got == expected
    assert len(got["srv"]) == MAX_POSTINGS and sum(row[2] == "page" for row in got["srv"]) == 150
    assert "x" not in got and len(got["dell"]) == MAX_POSTINGS and got["dell"][0][2] == "hardware"
