"""Read what the spec says about each entity tag, for the templates.

openapi-python-client's template objects drop the raw schema of scalar
properties and parameters (``minimum``, ``format``, ``readOnly``, ``x-``
extensions), so this module reads the YAML itself and hands the templates
one :class:`EntityData` per tag that carries ``x-nexudus-entity``.

The conventions it relies on (documented in generator/README.md):

* a tag with ``x-nexudus-entity: <Name>`` is an entity namespace whose schemas
  are ``<Name>`` (the single record), ``<Name>ListItem``, ``<Name>Create``,
  ``<Name>Update`` and ``<Name>Page``; its list operation is the GET answering
  ``<Name>Page``;
* filters are ``<Name>_<Property>`` and ``From_``/``To_<Name>_<Property>``
  query parameters, ``<Name>_Id`` the get-by-ids lookup, ``Id`` and
  ``UniqueId`` the two unprefixed filters; ``<Name>_<Related>_<Property>``
  (``ProductTimePass_Product_Name``) a chained filter through the record
  ``<Related>Id`` points at;
* ``x-nexudus-related`` on an Id property names the collection it points at;
  a list property without the ``Id`` suffix shows it;
* ``x-nexudus-derived: {from: <IdField>, field: <Property>}`` on a list
  property: a flattened name of the related record;
* ``x-nexudus-contains: <IdField>`` on a filter ``<Name>_<Collection>``
  (``TimePass_Businesses``): it finds the records whose ``<Collection>`` list
  holds the Id, or whose own ``<IdField>`` is it;
* ``x-nexudus-count`` / ``x-nexudus-reconcile`` on the create schema: the
  field saying how many records one create makes, and the fields whose
  filters count what a group of identical creates made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from openapi_python_client.strings import fix_reserved_words, snake_case

__all__ = ["EntityData", "read_entities"]

_PAGING = {"page", "size", "orderby", "dir"}
_RANGE_TYPES = {"int": "IntRange", "decimal": "NumberRange", "datetime": "DateRange"}


def python_name(json_name: str) -> str:
    """The name openapi-python-client gives a property or parameter."""
    return fix_reserved_words(snake_case(json_name))


@attrs.frozen
class Scalar:
    kind: str
    nullable: bool
    enum: tuple[int, ...] = ()
    enum_name: str | None = None


def _resolve(spec: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _resolve(spec, target)


def _scalar(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> Scalar:
    nullable = False
    if "oneOf" in schema:  # an enum $ref or null
        options = list(schema["oneOf"])
        nullable = any(o.get("type") == "null" for o in options)
        schema = next(o for o in options if o.get("type") != "null")
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = _resolve(spec, schema)
        if target.get("type") == "integer" and "enum" in target:
            return Scalar("enum", nullable, tuple(target["enum"]), name)
        schema = target
    kind_type = schema.get("type")
    if isinstance(kind_type, list):
        nullable = nullable or "null" in kind_type
        kind_type = next(t for t in kind_type if t != "null")
    fmt = schema.get("format")
    if kind_type == "integer":
        kind = "int"
    elif kind_type == "boolean":
        kind = "bool"
    elif kind_type == "number":
        kind = "decimal"
    elif kind_type == "string" and fmt == "date-time":
        kind = "datetime"
    elif kind_type == "string" and fmt == "uuid":
        kind = "uuid"
    elif kind_type == "string":
        kind = "string"
    else:
        raise ValueError(f"unsupported schema for an entity field: {dict(schema)}")
    return Scalar(kind, nullable)


def _python_type(scalar: Scalar) -> str:
    return {
        "int": "int",
        "bool": "bool",
        "string": "str",
        "decimal": "Decimal | float",  # a float goes through its shortest repr
        "datetime": "datetime.datetime | datetime.date | str",  # the one date rule
        "uuid": "UUID",
        "enum": f"{scalar.enum_name} | int",
    }[scalar.kind]


@attrs.frozen
class Argument:
    """One key of a generated TypedDict."""

    name: str
    type: str
    required: bool = False
    doc: str | None = None


@attrs.frozen
class EntityData:
    """What the templates render for one entity tag."""

    tag: str
    name: str
    constant: str
    """The descriptor's module-level name (``COWORKER_TIME_PASS``)."""
    attribute: str
    namespace: str
    """The namespace class (the tag's name: ``CoworkerTimePasses``)."""
    description: str
    path: str
    descriptor: str
    """The descriptor's Python source (an ``Entity(...)`` expression)."""
    filters: tuple[Argument, ...]
    fields: tuple[Argument, ...]
    changes: tuple[Argument, ...]
    enums: tuple[str, ...]
    modules: Mapping[str, str]
    """The operation modules by role (list, get, create, update, delete, commands, run)."""


def _operations(spec: Mapping[str, Any], tag: str) -> dict[tuple[str, str], Mapping[str, Any]]:
    out: dict[tuple[str, str], Mapping[str, Any]] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, Mapping) and tag in op.get("tags", ()):
                out[(method, path)] = op
    return out


def _answers(op: Mapping[str, Any], schema: str) -> bool:
    """Whether the 200 answer is ``schema`` (or a ``oneOf`` of which it is one form)."""
    ok = op.get("responses", {}).get("200", {})
    answer = ok.get("content", {}).get("application/json", {}).get("schema", {})
    forms = answer.get("oneOf", [answer])
    return any(str(form.get("$ref", "")).endswith(f"/{schema}") for form in forms)


def _bound(body: Mapping[str, Any], prop: Mapping[str, Any], key: str, int32: int) -> Any:
    """A bound of the body's (or the record's) schema; an int32's own when none is given."""
    for schema in (body, prop):
        if key in schema:
            return schema[key]
    if "int32" in (body.get("format"), prop.get("format")):
        return int32  # the API's integers are .NET Int32: anything wider cannot be sent
    return None


def _r(value: Any) -> str:
    return repr(value)


def _field_source(field: Mapping[str, Any]) -> str:
    defaults = {
        "nullable": False,
        "read_only": False,
        "create": "absent",
        "update": "absent",
        "minimum": None,
        "maximum": None,
        "enum": (),
        "enum_name": None,
        "default": None,
        "list_name": None,
        "related": None,
    }
    args = [_r(field["json_name"]), _r(field["name"]), _r(field["kind"])]
    for key, default in defaults.items():
        value = field[key]
        if key == "default":
            if value is not _MISSING:
                args.append(f"default={value!r}")
            continue
        if value != default:
            args.append(f"{key}={value!r}")
    return "Field(" + ", ".join(args) + ")"


_MISSING = object()


def _entity(spec: Mapping[str, Any], tag: Mapping[str, Any]) -> EntityData:
    name: str = tag["x-nexudus-entity"]
    tag_name: str = tag["name"]
    schemas = spec["components"]["schemas"]
    record = schemas[name]
    create = schemas[f"{name}Create"]
    update = schemas[f"{name}Update"]
    listed = schemas[f"{name}ListItem"]
    ops = _operations(spec, tag_name)
    (list_path,) = [p for (m, p), op in ops.items() if m == "get" and _answers(op, f"{name}Page")]
    modules: dict[str, str] = {}
    for (method, path), op in ops.items():
        module = python_name(op["operationId"])
        role = {
            ("get", list_path): "list",
            ("post", list_path): "create",
            ("put", list_path): "update",
            ("get", f"{list_path}/{{Id}}"): "get",
            ("delete", f"{list_path}/{{Id}}"): "delete",
            ("get", f"{list_path}/commands"): "commands",
            ("post", f"{list_path}/runcommand"): "run",
        }.get((method, path))
        if role is None:
            raise ValueError(f"{tag_name}: {method.upper()} {path} is not an entity operation")
        modules[role] = module
    missing = {"list", "get", "create", "update", "delete", "commands", "run"} - set(modules)
    if missing:
        raise ValueError(f"{tag_name} lacks the operations {sorted(missing)}")

    # The list shape: which record field each list property shows.
    list_source: dict[str, str] = {}
    list_fields: list[str] = []
    enums: set[str] = set()
    for json_name, prop in listed["properties"].items():
        scalar = _scalar(spec, prop)
        if scalar.enum_name:
            enums.add(scalar.enum_name)
        derived = prop.get("x-nexudus-derived")
        source = None
        if json_name in record["properties"]:
            source = json_name
        elif f"{json_name}Id" in record["properties"]:
            source = f"{json_name}Id"
        args = [_r(json_name), _r(python_name(json_name)), _r(scalar.kind)]
        if not scalar.nullable:
            args.append("nullable=False")
        if source is not None:
            args.append(f"source={source!r}")
            list_source[source] = json_name
        if derived is not None:
            args.append(f"derived_from={derived['from']!r}")
            args.append(f"derived_field={derived['field']!r}")
        list_fields.append("ListField(" + ", ".join(args) + ")")

    create_props: Mapping[str, Any] = create["properties"]
    update_props: Mapping[str, Any] = update["properties"]
    fields: list[str] = []
    scalars: dict[str, Scalar] = {}
    for json_name, prop in record["properties"].items():
        scalar = _scalar(spec, prop)
        scalars[json_name] = scalar
        if scalar.enum_name:
            enums.add(scalar.enum_name)
        body = create_props.get(json_name) or update_props.get(json_name) or {}
        data = {
            "json_name": json_name,
            "name": python_name(json_name),
            "kind": scalar.kind,
            "nullable": scalar.nullable,
            "read_only": bool(prop.get("readOnly", False)),
            "create": (
                "absent"
                if json_name not in create_props
                else "required"
                if json_name in create.get("required", ())
                else "optional"
            ),
            "update": (
                "absent"
                if json_name not in update_props
                else "required"
                if json_name in update.get("required", ())
                else "optional"
            ),
            "minimum": _bound(body, prop, "minimum", -(2**31)),
            "maximum": _bound(body, prop, "maximum", 2**31 - 1),
            "enum": scalar.enum,
            "enum_name": scalar.enum_name,
            "default": create_props.get(json_name, {}).get("default", _MISSING),
            "list_name": list_source.get(json_name),
            "related": prop.get("x-nexudus-related"),
        }
        fields.append(_field_source(data))

    # Filters, grouped by the property they compare.
    params = spec["paths"][list_path]["get"]["parameters"]
    own = f"{name}_"
    order: list[str] = []
    groups: dict[str, dict[str, Any]] = {}
    ids_param = ids_arg = None
    for raw in params:
        param = _resolve(spec, raw)
        wire = param["name"]
        if wire in _PAGING:
            continue
        if wire == f"{name}_Id":
            ids_param, ids_arg = wire, python_name(wire)
            continue
        if wire in ("Id", "UniqueId"):  # the two filters the API names without a prefix
            suffix, part = wire, "equals"
        elif wire.lower().startswith("from_" + own.lower()):
            suffix, part = wire[len("from_" + own) :], "from"
        elif wire.lower().startswith("to_" + own.lower()):
            suffix, part = wire[len("to_" + own) :], "to"
        elif wire.startswith(own):
            suffix, part = wire[len(own) :], "equals"
        else:
            raise ValueError(f"{name}: filter {wire!r} does not follow the naming convention")
        if suffix not in groups:
            order.append(suffix)
            groups[suffix] = {"kind": _scalar(spec, param["schema"])}
        groups[suffix][part] = wire
        contains = param.get("x-nexudus-contains")
        if contains is not None:
            if not record["properties"].get(contains, {}).get("x-nexudus-related"):
                raise ValueError(f"{wire}: x-nexudus-contains names no related Id field")
            groups[suffix]["contains"] = contains
    if ids_param is None or ids_arg is None:
        raise ValueError(f"{name}: the list operation lacks the {name}_Id lookup")
    size_max = next(
        (
            _resolve(spec, raw)["schema"].get("maximum")
            for raw in params
            if _resolve(spec, raw)["name"] == "size"
        ),
        None,
    )

    prefix = python_name(name) + "_"
    filters_src: list[str] = []
    filter_args: list[Argument] = []
    for suffix in order:
        group = groups[suffix]
        scalar: Scalar = group["kind"]
        if scalar.enum_name:
            enums.add(scalar.enum_name)
        equals = group.get("equals")
        has_range = "from" in group and "to" in group
        if ("from" in group) != ("to" in group):
            raise ValueError(f"{name}: range filter {suffix} needs both From_ and To_")
        arg = (
            python_name(equals)
            if equals in ("Id", "UniqueId")
            else python_name(f"{name}_{suffix}")[len(prefix) :]
        )
        wire_params = [p for p in (equals, group.get("from"), group.get("to")) if p is not None]
        call_args = tuple(python_name(p) for p in wire_params)
        range_src = f"({group['from']!r}, {group['to']!r})" if has_range else "None"
        field = suffix if suffix in listed["properties"] else None
        # A chained name (Product_Name): a property of the related record an Id field points at.
        head, _, tail = suffix.partition("_")
        through = None
        if (
            field is None
            and tail
            and record["properties"].get(f"{head}Id", {}).get("x-nexudus-related")
        ):
            through = (f"{head}Id", tail)
        extra = f", through={through!r}" if through else ""
        if "contains" in group:
            extra += f", contains={group['contains']!r}"
        filters_src.append(
            f"Filter({arg!r}, {scalar.kind!r}, equals={equals!r}, range={range_src}, "
            f"params={call_args!r}, field={field!r}{extra})"
        )
        types = []
        if equals is not None:
            types.append(_python_type(scalar))
        if has_range:
            types.append(_RANGE_TYPES[scalar.kind])
        filter_args.append(Argument(arg, " | ".join(types)))

    def body_args(schema: Mapping[str, Any], *, creating: bool) -> tuple[Argument, ...]:
        out = []
        for json_name, prop in schema["properties"].items():
            if json_name == "Id":
                continue
            scalar = scalars.get(json_name) or _scalar(spec, prop)
            if scalar.enum_name:
                enums.add(scalar.enum_name)
            text = _python_type(scalar)
            own_scalar = _scalar(spec, prop)
            if own_scalar.nullable:
                text += " | None"
            required = (
                creating and json_name in schema.get("required", ()) and "default" not in prop
            )
            doc = "required" if required else None
            if creating and "default" in prop:
                doc = f"default {prop['default']!r}"
            out.append(Argument(python_name(json_name), text, required, doc))
        return tuple(out)

    extras = []
    if size_max is not None:
        extras.append(f"max_page_size={size_max!r}")
    if create.get("x-nexudus-count"):
        extras.append(f"count_field={create['x-nexudus-count']!r}")
    if create.get("x-nexudus-reconcile"):
        extras.append(f"reconcile={tuple(create['x-nexudus-reconcile'])!r}")
    description = str(tag.get("description", "")).strip()
    descriptor = (
        f"Entity(\n    name={name!r},\n    attribute={python_name(tag_name)!r},\n"
        f"    path={list_path!r},\n    description={description!r},\n"
        "    fields=(\n" + "".join(f"        {f},\n" for f in fields) + "    ),\n"
        "    list_fields=(\n" + "".join(f"        {f},\n" for f in list_fields) + "    ),\n"
        "    filters=(\n" + "".join(f"        {f},\n" for f in filters_src) + "    ),\n"
        f"    ids_param={ids_param!r},\n    ids_arg={ids_arg!r},\n"
        + "".join(f"    {e},\n" for e in extras)
        + ")"
    )
    return EntityData(
        tag=tag_name,
        name=name,
        constant=python_name(name).upper(),
        attribute=python_name(tag_name),
        namespace=tag_name,
        description=description,
        path=list_path,
        descriptor=descriptor,
        filters=tuple(filter_args),
        fields=body_args(create, creating=True),
        changes=body_args(update, creating=False),
        enums=tuple(sorted(enums)),
        modules=modules,
    )


def read_entities(spec: Mapping[str, Any]) -> dict[str, EntityData]:
    """Every entity tag of the spec, by tag name, in the spec's order."""
    return {
        tag["name"]: _entity(spec, tag) for tag in spec.get("tags", ()) if "x-nexudus-entity" in tag
    }
