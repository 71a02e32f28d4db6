"""The emulator's entity tables, built from the spec's descriptors.

Fields, nullability, bounds, enums, list names, filters and range filters
come from ``nexudus_async._generated.api`` (what ``make generate`` reads out
of the OpenAPI document), so a field or entity added to the spec is stored,
listed, filtered and validated here with no edit. What stays hand-written is
behaviour the spec cannot express: the commands each entity offers and the
related records the emulator only names (customers, products, tariffs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

from .._core.entity import Entity
from .._generated.api import ENTITIES as _DESCRIPTORS

__all__ = [
    "ENTITIES",
    "ENTITIES_BY_PATH",
    "CatalogueEntry",
    "CommandSpec",
    "Derived",
    "EntitySpec",
    "FieldSpec",
    "FieldType",
    "ParameterSpec",
    "entity",
]

FieldType = Literal["int", "bool", "str", "decimal", "datetime", "guid", "enum"]
_TYPES: Mapping[str, FieldType] = {"string": "str", "uuid": "guid"}


@attrs.frozen
class FieldSpec:
    """One property of the single-record shape."""

    name: str
    type: FieldType
    nullable: bool = False
    #: Required in the create (and update) body.
    required: bool = False
    #: Set by the server; ignored when sent in a body.
    read_only: bool = False
    #: The property's name in list records (``None``: absent from lists).
    list_name: str | None = None
    #: Allowed values of an enum field (input is validated against them).
    enum: tuple[int, ...] = ()
    #: Smallest accepted value of an int field on input.
    minimum: int | None = None
    #: Has an ``Entity_Filter`` query parameter (named after ``list_name``).
    filter: bool = False
    #: Has ``From_``/``To_`` range query parameters.
    range_filter: bool = False
    #: The collection (``timepasses``, ``products``, ``tariffs``) this id refers to.
    related: str | None = None


@attrs.frozen
class Derived:
    """A flattened list-only property computed from a related record."""

    list_name: str
    #: The ``Entity_X`` filter suffix (``TimePassName`` -> ``CoworkerTimePass_TimePassName``).
    filter_suffix: str
    #: The id field whose related record is read.
    source: str
    #: The related record's property (``Name``, ``Currency_Code``).
    attribute: str
    #: Chained spelling also accepted as a filter (``TimePass_Name``).
    chained: str


@attrs.frozen
class ParameterSpec:
    name: str
    type: Literal["DateTime", "Int32", "String", "Boolean"]


@attrs.frozen
class CommandSpec:
    key: str
    name: str
    order: int
    parameters: tuple[ParameterSpec, ...] = ()
    applies_only_to_one: bool = False


@attrs.frozen
class EntitySpec:
    """One entity collection of the billing area."""

    name: str  # CoworkerTimePass
    path: str  # coworkertimepasses
    fields: tuple[FieldSpec, ...]
    derived: tuple[Derived, ...]
    commands: tuple[CommandSpec, ...]
    descriptor: Entity = attrs.field(eq=False, repr=False)

    @property
    def collection_url(self) -> str:
        return f"/api/billing/{self.path}"

    @property
    def field_map(self) -> Mapping[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    @property
    def writable(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if not f.read_only)

    def role(self, action: str) -> str:
        return f"{self.name}-{action}"


def _from_descriptor(d: Entity, commands: tuple[CommandSpec, ...]) -> EntitySpec:
    equals = {f.field for f in d.filters if f.equals is not None and f.field is not None}
    ranges = {f.field for f in d.filters if f.range is not None and f.field is not None}
    fields = tuple(
        FieldSpec(
            f.json_name,
            _TYPES.get(f.kind, f.kind),  # type: ignore[arg-type]
            nullable=f.nullable,
            required=f.create == "required",
            read_only=f.read_only,
            list_name=f.list_name,
            enum=f.enum,
            minimum=f.minimum,
            filter=f.list_name in equals and f.json_name != "Id",
            range_filter=f.list_name in ranges,
            related=f.related,
        )
        for f in d.fields
    )
    derived = []
    for item in d.list_fields:
        if item.derived_from is None or item.derived_field is None:
            continue
        related = item.derived_from.removesuffix("Id")
        derived.append(
            Derived(
                item.json_name,
                item.json_name.removeprefix(d.name),
                item.derived_from,
                item.derived_field,
                f"{related}_{item.derived_field}",
            )
        )
    return EntitySpec(d.name, d.collection, fields, tuple(derived), commands, d)


# Behaviour the spec cannot express: the commands of each entity.
_COMMANDS: Mapping[str, tuple[CommandSpec, ...]] = {
    "CoworkerTimePass": (
        CommandSpec("MARK_AS_USED", "Mark as used", 1),
        CommandSpec("MARK_AS_UNUSED", "Mark as not used", 2),
        CommandSpec(
            "SET_EXPIRY_DATE",
            "Set expiry date",
            3,
            parameters=(ParameterSpec("Expiry date", "DateTime"),),
        ),
    ),
    "ProductTimePass": (
        CommandSpec(
            "SET_PASSES_INCLUDED",
            "Set passes included",
            1,
            parameters=(ParameterSpec("Passes included", "Int32"),),
        ),
        CommandSpec("CLEAR_EXPIRATION", "Remove expiration", 2),
    ),
    "TariffTimePass": (
        CommandSpec(
            "SET_PASSES_INCLUDED",
            "Set passes included",
            1,
            parameters=(ParameterSpec("Passes included", "Int32"),),
        ),
        CommandSpec(
            "SET_RENEWAL_TIME",
            "Set renewal period",
            2,
            parameters=(ParameterSpec("Renewal period", "Int32"),),
        ),
    ),
}

ENTITIES: tuple[EntitySpec, ...] = tuple(
    _from_descriptor(d, _COMMANDS.get(d.name, ())) for d in _DESCRIPTORS
)
ENTITIES_BY_PATH: Mapping[str, EntitySpec] = {e.path: e for e in ENTITIES}
_BY_ANY_NAME: Mapping[str, EntitySpec] = {
    **{e.path: e for e in ENTITIES},
    **{e.name.lower(): e for e in ENTITIES},
    **{e.name.lower() + "s": e for e in ENTITIES},
}


def entity(name: str | EntitySpec) -> EntitySpec:
    """Look an entity up by path (``coworkertimepasses``) or name (``CoworkerTimePass``)."""
    if isinstance(name, EntitySpec):
        return name
    try:
        return _BY_ANY_NAME[name.lower().replace("_", "")]
    except KeyError:
        known = ", ".join(e.path for e in ENTITIES)
        raise KeyError(f"unknown entity {name!r}; known: {known}") from None


@attrs.frozen
class CatalogueEntry:
    """A related record the emulator does not serve, only names (TimePass, Product, Tariff)."""

    name: str
    currency: str | None = None

    def value(self, attribute: str) -> str | None:
        """The property a flattened list name shows (``Name``, ``Currency_Code``)."""
        return self.currency if attribute == "Currency_Code" else self.name


#: Related records the emulator only names (it serves no such collection). Unknown
#: ids get a generic name (``Product 123``), so any id is accepted on create.
DEFAULT_CATALOGUES: Mapping[str, Mapping[int, CatalogueEntry]] = {
    "products": {
        1: CatalogueEntry("10 day passes bundle"),
        2: CatalogueEntry("Hot desk week"),
    },
    "tariffs": {
        1: CatalogueEntry("Flexible membership"),
        2: CatalogueEntry("Part-time membership"),
    },
    "currencies": {1: CatalogueEntry("EUR"), 2: CatalogueEntry("GBP"), 3: CatalogueEntry("USD")},
}

#: The TimePass records every store starts with (real records: listed, filtered, editable).
DEFAULT_TIME_PASSES: tuple[Mapping[str, object], ...] = tuple(
    {"Id": i, "BusinessId": 1, "Name": name, "Price": price, "CurrencyId": currency}
    | {"MinutesIncluded": minutes, "CountsTowardsPlanLimits": True, "Archived": False}
    for i, (name, price, currency, minutes) in enumerate(
        [
            ("Day pass", 25, 1, None),
            ("Half day pass", 15, 1, 240),
            ("10 hour pass", 90, 1, 600),
            ("Meeting room hour", 20, 2, 60),
            ("Evening pass", 10, 3, 180),
        ],
        start=1,
    )
)

GENERIC_NAMES: Mapping[str, str] = {
    "timepasses": "Time pass {id}",
    "products": "Product {id}",
    "tariffs": "Tariff {id}",
}
GENERIC_CURRENCY = "EUR"
