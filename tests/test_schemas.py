"""Checks of the JSON Schemas under schemas/: well-formed, documented, and their examples valid."""

import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schemas"
KINDS = [
    "hardware", "software", "licence", "cloud_service", "network", "facility",
    "information", "service", "contract", "party", "waiver",
]
SCHEMA_FILES = sorted(p.name for p in SCHEMA_DIR.glob("*.schema.json"))
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def load(name):
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


SCHEMAS = {name: load(name) for name in SCHEMA_FILES}
REGISTRY = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7))
    for schema in SCHEMAS.values()
)


def validator(name):
    return Draft7Validator(SCHEMAS[name], registry=REGISTRY,
                           format_checker=Draft7Validator.FORMAT_CHECKER)


def walk(node, path):
    """Yield (path, subschema) for every property-like subschema at every level."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from walk(item, f"{path}/{i}")
        return
    if not isinstance(node, dict):
        return
    for key in ("properties", "patternProperties", "definitions"):
        for name, sub in node.get(key, {}).items():
            if key != "definitions":
                yield f"{path}/{key}/{name}", sub
            yield from walk(sub, f"{path}/{key}/{name}")
    if isinstance(node.get("additionalProperties"), dict):
        sub = node["additionalProperties"]
        yield f"{path}/additionalProperties", sub
        yield from walk(sub, f"{path}/additionalProperties")
    for key in ("items", "oneOf", "anyOf", "allOf"):
        if key in node:
            yield from walk(node[key], f"{path}/{key}")


KIND_EXAMPLES = [
    pytest.param(kind, i, id=f"{kind}-{example.get('id', i)}")
    for kind in KINDS
    for i, example in enumerate(SCHEMAS.get(f"{kind}.schema.json", {}).get("examples", []))
]


def test_all_schema_files_present():
    expected = {"defs.schema.json", "config.schema.json", *(f"{k}.schema.json" for k in KINDS)}
    assert expected <= set(SCHEMA_FILES)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid_draft7(name):
    Draft7Validator.check_schema(SCHEMAS[name])
    assert SCHEMAS[name]["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert SCHEMAS[name]["$id"] == name


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_json_is_two_space_formatted(name):
    text = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert text == json.dumps(SCHEMAS[name], indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_property_has_description(name):
    schema = SCHEMAS[name]
    assert schema.get("description"), f"{name}: top-level description missing"
    missing = [path for path, sub in walk(schema, "#")
               if not (isinstance(sub, dict) and isinstance(sub.get("description"), str) and sub["description"].strip())]
    assert not missing, f"{name}: properties without description: {missing}"


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_all_refs_resolve(name):
    resolver = REGISTRY.resolver(base_uri=name)
    refs = []

    def collect(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect({k: v for k, v in SCHEMAS[name].items() if k != "examples"})
    for ref in refs:
        resolver.lookup(ref)


@pytest.mark.parametrize("kind", KINDS)
def test_kind_schema_shape(kind):
    schema = SCHEMAS[f"{kind}.schema.json"]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert {"id", "kind", "name", "owner", "status"} <= set(schema["required"])
    assert schema["properties"]["kind"]["const"] == kind
    envelope = SCHEMAS["defs.schema.json"]["definitions"]["envelope"]["properties"]
    assert set(envelope) <= set(schema["properties"]), "every envelope field must be listed"
    assert isinstance(schema.get("examples"), list) and schema["examples"], "examples must be non-empty"


@pytest.mark.parametrize(("kind", "index"), KIND_EXAMPLES)
def test_kind_example_is_valid(kind, index):
    example = SCHEMAS[f"{kind}.schema.json"]["examples"][index]
    errors = sorted(validator(f"{kind}.schema.json").iter_errors(example), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    assert ID_PATTERN.match(example["id"]) and len(example["id"]) <= 100
    assert example["kind"] == kind


@pytest.mark.parametrize("index", range(len(SCHEMAS.get("config.schema.json", {}).get("examples", []))))
def test_config_example_is_valid(index):
    example = SCHEMAS["config.schema.json"]["examples"][index]
    validator("config.schema.json").validate(example)


def test_bir_yaml_is_valid():
    config = yaml.safe_load((ROOT / "bir.yaml").read_text(encoding="utf-8"))
    errors = list(validator("config.schema.json").iter_errors(config))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_record_is_rejected(kind):
    """Sanity check that validation is not vacuous: unknown fields and bad refs fail."""
    example = dict(SCHEMAS[f"{kind}.schema.json"]["examples"][0])
    v = validator(f"{kind}.schema.json")
    assert not v.is_valid({**example, "unknown_field": 1})
    assert not v.is_valid({**example, "owner": "Not A Slug"})
    assert not v.is_valid({**example, "relations": [{"type": "supports", "target": "x", "extra": 1}]})
    assert not v.is_valid({**example, "financial": {"purchase_cost": -1}})


def test_fields_follow_the_schema_order_and_its_shared_definitions() -> None:
    """The one reading of a kind's fields that authoring (key order) and the CSV import (cell types) use."""
    from bir.read.schemas import SchemaSet

    fields = SchemaSet.from_folder(ROOT / "schemas").fields("licence")
    assert list(fields)[:11] == ["id", "kind", "name", "description", "owner", "status", "product", "software",
                                 "metric", "quantity", "consumption"]
    financial = {k: v.get("type") for k, v in fields.items() if k.startswith("financial.")}
    assert financial == {"financial.order_date": "string", "financial.purchase_date": "string",
                         "financial.order_number": "string", "financial.supplier": "string",
                         "financial.cost_centre": "string", "financial.purchase_cost": "number",
                         "financial.currency": "string", "financial.depreciation": "object",
                         "financial.recurring_costs": "array"}
