"""The emulator's entity tables against the OpenAPI document, read independently of the
generator: the descriptors they are built from must say what the YAML says (field names,
types, nullability, read-only, required-on-create, minimums, enum values, list-shape
names, filters, range filters), and the routes and roles must be the documented ones."""

from __future__ import annotations

from typing import Any

import pytest

from nexudus_async.testing.app import ENTITY_ROUTES
from nexudus_async.testing.entities import ENTITIES, EntitySpec, FieldSpec

from .spec import load_spec, resolve

SCHEMAS: dict[str, Any] = load_spec()["components"]["schemas"]

_JSON_TYPE = {
    "int": ("integer", "int32"),
    "bool": ("boolean", None),
    "str": ("string", None),
    "decimal": ("number", "decimal"),
    "datetime": ("string", "date-time"),
    "guid": ("string", "uuid"),
}


def describe(prop: dict[str, Any]) -> tuple[str, str | None, bool, tuple[int, ...]]:
    """(json type, format, nullable, enum values) of a property schema."""
    if "oneOf" in prop:
        options = [resolve(o) for o in prop["oneOf"]]
        nullable = any(o.get("type") == "null" for o in options)
        (real,) = [o for o in options if o.get("type") != "null"]
        base, fmt, _, enum = describe(real)
        return base, fmt, nullable, enum
    prop = resolve(prop)
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    nullable = "null" in types
    (base,) = [t for t in types if t != "null"]
    return base, prop.get("format"), nullable, tuple(prop.get("enum", ()))


def expected(field: FieldSpec) -> tuple[str, str | None]:
    if field.type == "enum":
        return "integer", None
    return _JSON_TYPE[field.type]


@pytest.fixture(params=ENTITIES, ids=lambda e: e.name)
def entity(request: pytest.FixtureRequest) -> EntitySpec:
    spec: EntitySpec = request.param
    return spec


def test_single_record_fields(entity: EntitySpec) -> None:
    schema = SCHEMAS[entity.name]
    assert set(schema["properties"]) == {f.name for f in entity.fields}
    for field in entity.fields:
        prop = schema["properties"][field.name]
        base, fmt, nullable, enum = describe(prop)
        assert (base, fmt) == expected(field), field.name
        assert nullable == field.nullable, field.name
        assert bool(prop.get("readOnly")) == field.read_only, field.name
        assert enum == field.enum, field.name
    required_in_record = {f.name for f in entity.fields if f.required and not f.nullable}
    assert set(schema["required"]) == required_in_record | {"Id"}


def test_create_and_update_bodies(entity: EntitySpec) -> None:
    create = SCHEMAS[entity.name + "Create"]
    update = SCHEMAS[entity.name + "Update"]
    writable = {f.name for f in entity.writable}
    required = {f.name for f in entity.fields if f.required}
    assert set(create["properties"]) == writable
    assert set(create["required"]) == required
    assert set(update["properties"]) == writable | {"Id"}
    assert set(update["required"]) == required | {"Id"}
    for field in entity.writable:
        for body in (create, update):
            prop = body["properties"][field.name]
            base, fmt, nullable, enum = describe(prop)
            assert (base, fmt) == expected(field), field.name
            assert enum == field.enum, field.name
            int32 = -(2**31) if prop.get("format") == "int32" else None
            assert prop.get("minimum", int32) == field.minimum, field.name
            if not field.required:
                assert nullable == field.nullable, field.name


def test_list_shape(entity: EntitySpec) -> None:
    item = SCHEMAS[entity.name + "ListItem"]
    by_list_name = {f.list_name: f for f in entity.fields if f.list_name}
    derived = {d.list_name for d in entity.derived}
    assert set(item["properties"]) == set(by_list_name) | derived
    for name, field in by_list_name.items():
        base, fmt, _nullable, enum = describe(item["properties"][name])
        assert (base, fmt) == expected(field), name
        assert enum == field.enum, name
    for name in derived:
        assert describe(item["properties"][name])[:2] == ("string", None)
    page = SCHEMAS[entity.name + "Page"]
    records = page["allOf"][1]["properties"]["Records"]["items"]["$ref"]
    assert records.endswith("/" + entity.name + "ListItem")


def test_filters_and_range_filters(entity: EntitySpec) -> None:
    op = load_spec()["paths"][entity.collection_url]["get"]
    names = {resolve(p)["name"] for p in op["parameters"]}
    prefix = entity.name + "_"
    unprefixed = {"Id", "UniqueId"}  # every entity filters on both, without its prefix
    equality = unprefixed | {prefix + "Id"}
    equality |= {
        prefix + f.list_name
        for f in entity.fields
        if f.filter and f.list_name and f.list_name not in unprefixed
    }
    # A related record's property: flattened as 003 spells it (CoworkerTimePass_TimePassName)
    # or chained through the record as the older pages do (ProductTimePass_Product_Name).
    equality |= {
        prefix + d.filter_suffix if prefix + d.filter_suffix in names else prefix + d.chained
        for d in entity.derived
    }
    # A collection (TimePass_Businesses): the records whose list, or Id field, holds the value.
    equality |= {f.equals for f in entity.descriptor.filters if f.contains and f.equals}
    ranges = {
        f"{side}_{prefix}{f.name}"
        for f in entity.fields
        if f.range_filter
        for side in ("From", "To")
    }
    assert names == {"page", "size", "orderby", "dir"} | equality | ranges


def test_routes_and_roles(entity: EntitySpec) -> None:
    paths = load_spec()["paths"]
    documented = {
        (method.upper(), path)
        for path, item in paths.items()
        if path.startswith(entity.collection_url)
        for method in item
        if method != "parameters"
    }
    served = {(m, entity.collection_url + suffix) for m, suffix, _, _ in ENTITY_ROUTES}
    assert served == documented
    for method, suffix, _, action in ENTITY_ROUTES:
        op = paths[entity.collection_url + suffix][method.lower()]
        assert op["x-nexudus-role"] == entity.role(action)


def test_enum_schemas_match() -> None:
    fields = {f.name: f for e in ENTITIES for f in e.fields if f.type == "enum"}
    assert tuple(SCHEMAS["ExpirationType"]["enum"]) == fields["ExpirationType"].enum
    assert tuple(SCHEMAS["PassRenewalTime"]["enum"]) == fields["PassRenewalTime"].enum
