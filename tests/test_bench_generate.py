"""The benchmark data generator writes a register that is complete, schema-valid, consistent and reproducible.

If the generated data were invalid, the benchmarks would time error reporting instead of validation.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).resolve().parent.parent
N = 300
KINDS = (
    "hardware", "software", "licence", "cloud_service", "network", "facility",
    "information", "service", "contract", "party", "waiver", "audit", "budget",
)
ANY = frozenset(KINDS)
COMPONENTS = ANY - {"party", "waiver", "audit", "budget"}
# The relation table of site/docs/model.md: type -> (source kinds, target kinds). part_of: same kind.
RELATIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "depends_on": (ANY - {"party"}, COMPONENTS),
    "runs_on": (frozenset({"software", "service", "cloud_service", "information"}), frozenset({"hardware", "cloud_service"})),
    "installed_on": (frozenset({"software"}), frozenset({"hardware", "cloud_service"})),
    "part_of": (ANY, ANY),
    "located_in": (frozenset({"hardware", "facility", "network", "information"}), frozenset({"facility"})),
    "supports": (COMPONENTS, frozenset({"service"})),
    "covered_by": (frozenset({"hardware", "software", "cloud_service", "network", "facility", "service"}),
                   frozenset({"contract"})),
    "licensed_by": (frozenset({"software", "hardware", "party", "cloud_service"}), frozenset({"licence"})),
    "connects": (frozenset({"network"}), frozenset({"hardware", "facility", "network"})),
    "member_of": (frozenset({"party"}), frozenset({"party"})),
    "stores": (frozenset({"hardware", "cloud_service", "software"}), frozenset({"information"})),
}
PARTY = frozenset({"party"})
# Reference fields other than relations: (kind or None for all, dotted path, target kinds).
REFERENCE_FIELDS: tuple[tuple[str | None, str, frozenset[str]], ...] = (
    (None, "owner", PARTY), (None, "verified_by", PARTY), (None, "financial.supplier", PARTY),
    (None, "financial.cost_centre", PARTY), (None, "retirement.decided_by", PARTY),
    ("hardware", "manufacturer", PARTY), ("hardware", "assigned_to", frozenset({"party", "facility"})), ("software", "vendor", PARTY),
    ("licence", "software", frozenset({"software"})), ("cloud_service", "provider", PARTY),
    ("network", "provider", PARTY), ("service", "service_owner", PARTY), ("contract", "supplier", PARTY),
    ("waiver", "record", ANY), ("waiver", "approver", PARTY), ("audit", "location", frozenset({"facility"})),
    ("audit", "auditor", PARTY), ("budget", "cost_centre", PARTY), ("budget", "approved_by", PARTY),
)


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


GEN = load_generator()


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("register")
    GEN.generate(out, N, seed=7)
    return out


@pytest.fixture(scope="module")
def records(register: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """id -> (folder kind, data), parsed the way a YAML 1.1 reader would (the strictest reading here)."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in sorted((register / "registry").glob("*/*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        assert path.stem not in out
        out[path.stem] = (path.parent.name, data)
    return out


def get_path(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def references(kind: str, data: dict[str, Any]) -> Iterator[tuple[str, str, frozenset[str]]]:
    for fkind, dotted, targets in REFERENCE_FIELDS:
        if fkind in (None, kind):
            value = get_path(data, dotted)
            if value is not None:
                yield dotted, value, targets
    for i, inst in enumerate(data.get("installations", [])):
        yield f"installations[{i}].on", inst["on"], frozenset({"hardware", "cloud_service"})
    for rel in data.get("relations", []):
        sources, targets = RELATIONS[rel["type"]]
        assert kind in sources, f"{data['id']}: a {kind} may not hold {rel['type']}"
        yield f"relation {rel['type']}", rel["target"], frozenset({kind}) if rel["type"] == "part_of" else targets


def test_exactly_n_record_files_of_every_kind(register: Path) -> None:
    files = list((register / "registry").glob("*/*.yaml"))
    assert len(files) == N
    assert {f.parent.name for f in files} == set(KINDS)
    assert (register / "bir.yaml").read_bytes() == (ROOT / "bir.yaml").read_bytes()
    assert {p.name for p in (register / "schemas").iterdir()} == {p.name for p in (ROOT / "schemas").glob("*.json")}
    for f in files[:20]:
        assert f.read_text(encoding="utf-8").startswith(
            f"# yaml-language-server: $schema=../../schemas/{f.parent.name}.schema.json\n")


def test_every_record_is_valid_against_its_schema(register: Path, records: dict[str, tuple[str, dict[str, Any]]]) -> None:
    schemas = [json.loads(p.read_text(encoding="utf-8")) for p in (register / "schemas").glob("*.schema.json")]
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s, default_specification=DRAFT7)) for s in schemas)
    by_id = {s["$id"]: s for s in schemas}
    validators = {k: Draft7Validator(by_id[f"{k}.schema.json"], registry=registry,
                                     format_checker=Draft7Validator.FORMAT_CHECKER) for k in KINDS}
    problems = []
    for rid, (kind, data) in records.items():
        assert data["id"] == rid and data["kind"] == kind
        problems += [f"{kind}/{rid}: {e.json_path}: {e.message}" for e in validators[kind].iter_errors(data)]
    assert problems == []


def test_every_reference_resolves_to_an_allowed_kind(records: dict[str, tuple[str, dict[str, Any]]]) -> None:
    bad = []
    for rid, (kind, data) in records.items():
        rels = [(r["type"], r["target"]) for r in data.get("relations", [])]
        if len(set(rels)) != len(rels) or any(target == rid for _, target in rels):
            bad.append(f"{rid}: duplicate or self relation in {rels}")
        for label, target, allowed in references(kind, data):
            if target not in records:
                bad.append(f"{rid}: {label} -> {target} does not exist")
            elif records[target][0] not in allowed:
                bad.append(f"{rid}: {label} -> {target} is a {records[target][0]}")
    assert bad == []


@pytest.mark.parametrize("rtype", ["part_of", "member_of"])
def test_hierarchies_have_no_cycles(records: dict[str, tuple[str, dict[str, Any]]], rtype: str) -> None:
    edges = {rid: [r["target"] for r in data.get("relations", []) if r["type"] == rtype]
             for rid, (_, data) in records.items()}
    done: set[str] = set()
    for start in edges:
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in done:
            assert node not in path, f"{rtype} cycle through {node}"
            path.append(node)
            node = edges[node][0] if edges[node] else None
        done.update(path)
    assert any(edges.values())


def test_lifecycle_states_and_required_fields(register: Path, records: dict[str, tuple[str, dict[str, Any]]]) -> None:
    config = yaml.safe_load((register / "bir.yaml").read_text(encoding="utf-8"))
    models = config["lifecycle_models"]
    model_of = {kind: m for m in models.values() for kind in m["kinds"]}
    seen: dict[str, set[str]] = {name: set() for name in models}
    for rid, (kind, data) in records.items():
        model = model_of[kind]
        status = data["status"]
        assert status in model["states"], rid
        seen[next(n for n, m in models.items() if m is model)].add(status)
        dates = list(data.get("status_dates", {}).items())
        assert [d for _, d in dates] == sorted(d for _, d in dates), f"{rid}: status dates out of order"
        for (a, _), (b, _) in itertools.pairwise(dates):
            assert b in model["transitions"][a], f"{rid}: {a} -> {b} is not a transition"
        for req in model["requires"].get(status, []):
            if isinstance(req, dict):
                if any(data.get(k) != v for k, v in req["when"].items()):
                    continue
                req = req["field"]
            assert get_path(data, req) is not None, f"{rid}: status {status} requires {req}"
    assert seen == {name: set(m["states"]) for name, m in models.items()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    def snapshot(out: Path) -> dict[str, bytes]:
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    GEN.generate(tmp_path / "a", N, seed=3)
    GEN.generate(tmp_path / "b", N, seed=3)
    GEN.generate(tmp_path / "c", N, seed=4)
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    assert snapshot(tmp_path / "a") != snapshot(tmp_path / "c")


def test_smallest_register_has_every_kind(tmp_path: Path) -> None:
    GEN.generate(tmp_path, 50)
    assert {p.name for p in (tmp_path / "registry").iterdir()} == set(KINDS)
    assert len(list((tmp_path / "registry").glob("*/*.yaml"))) == 50
    with pytest.raises(ValueError, match="at least"):
        GEN.generate(tmp_path / "tiny", 10)


def test_the_memory_sampler_takes_at_most_a_twentieth_of_a_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sample that takes 40 ms (a large process's page tables) is followed by a pause of at least 760 ms:
    in one second, two samples at most, and the peak is kept."""
    import time

    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = run
    spec.loader.exec_module(run)
    calls: list[float] = []

    def slow_pss(pid: int) -> int:
        calls.append(time.perf_counter())
        time.sleep(0.04)
        return 1000 + len(calls)

    monkeypatch.setattr(run, "_pss_kb", slow_pss)
    monkeypatch.setattr(run, "_tree", lambda pid: iter([pid]))
    sampler = run._TreeSampler(1)
    sampler.start()
    time.sleep(1.0)
    sampler.stop.set()
    sampler.join()
    assert 1 <= len(calls) <= 2
    assert sampler.peak_kb == 1000 + len(calls)
