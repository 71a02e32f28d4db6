"""The emulator's one table of entity fields.

Everything the emulator knows about a record's shape lives here: field names
and types, which are nullable, required on create, read-only, how a field is
named in the list shape, which query filters and range filters exist and the
commands each entity offers. ``tests/emulator/test_entity_table.py`` checks
this table against the OpenAPI document so the two cannot drift apart.

Kept free of the generated models on purpose: the emulator must run before
(and independently of) ``make generate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

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
    #: The catalogue (``timepasses``, ``products``, ``tariffs``) this id refers to.
    related: str | None = None


@attrs.frozen
class Derived:
    """A flattened list-only property computed from a related record's catalogue entry."""

    list_name: str
    #: The ``Entity_X`` filter suffix (``TimePassName`` -> ``CoworkerTimePass_TimePassName``).
    filter_suffix: str
    #: The id field whose catalogue entry is read.
    source: str
    #: The catalogue entry's attribute: ``name`` or ``currency``.
    attribute: Literal["name", "currency"]
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


def _audit() -> tuple[FieldSpec, ...]:
    """Fields every entity has, all set by the server."""
    return (
        FieldSpec("UniqueId", "guid", read_only=True, list_name="UniqueId"),
        FieldSpec("SystemId", "str", nullable=True, list_name="SystemId"),
        FieldSpec(
            "CreatedOn", "datetime", read_only=True, list_name="CreatedOn", range_filter=True
        ),
        FieldSpec(
            "UpdatedOn", "datetime", read_only=True, list_name="UpdatedOn", range_filter=True
        ),
        FieldSpec("UpdatedBy", "str", nullable=True, read_only=True, list_name="UpdatedBy"),
    )


_ID = FieldSpec("Id", "int", read_only=True, list_name="Id")
# Fields the three entities (or the two link entities) share, declared once.
_TIME_PASS_ID = FieldSpec(
    "TimePassId", "int", required=True, list_name="TimePass", filter=True, related="timepasses"
)
_PASSES_INCLUDED = FieldSpec(
    "PassesIncluded",
    "int",
    required=True,
    minimum=0,
    list_name="PassesIncluded",
    filter=True,
    range_filter=True,
)

COWORKER_TIME_PASS = EntitySpec(
    name="CoworkerTimePass",
    path="coworkertimepasses",
    fields=(
        _ID,
        FieldSpec(
            "CoworkerId",
            "int",
            required=True,
            list_name="Coworker",
            filter=True,
            related="coworkers",
        ),
        FieldSpec(
            "BusinessId",
            "int",
            required=True,
            list_name="Business",
            filter=True,
            related="businesses",
        ),
        _TIME_PASS_ID,
        # Transient on the live API: the docs' records show it empty (null).
        FieldSpec(
            "CreateMultiple",
            "int",
            nullable=True,
            required=True,
            minimum=1,
            list_name="CreateMultiple",
            filter=True,
            range_filter=True,
        ),
        FieldSpec("Notes", "str", nullable=True, list_name="Notes", filter=True),
        FieldSpec("PurchaseOrder", "str", nullable=True),
        FieldSpec("Used", "bool", list_name="Used", filter=True),
        FieldSpec("Free", "bool", list_name="Free", filter=True),
        FieldSpec(
            "Price", "decimal", nullable=True, list_name="Price", filter=True, range_filter=True
        ),
        FieldSpec(
            "ExpireDate",
            "datetime",
            nullable=True,
            list_name="ExpireDate",
            filter=True,
            range_filter=True,
        ),
        FieldSpec("TariffTimePassUniqueId", "guid", nullable=True),
        FieldSpec(
            "CoworkerProductUniqueId",
            "guid",
            nullable=True,
            list_name="CoworkerProductUniqueId",
            filter=True,
        ),
        FieldSpec("CoworkerContractUniqueId", "guid", nullable=True),
        FieldSpec("CheckedIn", "bool", read_only=True, list_name="CheckedIn", filter=True),
        FieldSpec("Invoiced", "bool", read_only=True, list_name="Invoiced", filter=True),
        FieldSpec(
            "InvoiceDate",
            "datetime",
            nullable=True,
            read_only=True,
            list_name="InvoiceDate",
            filter=True,
            range_filter=True,
        ),
        FieldSpec("IsFromTariff", "bool", read_only=True, list_name="IsFromTariff", filter=True),
        FieldSpec("IsPayAsYouGo", "bool", read_only=True),
        FieldSpec(
            "RemainingUses",
            "int",
            nullable=True,
            read_only=True,
            list_name="RemainingUses",
            filter=True,
            range_filter=True,
        ),
        FieldSpec(
            "TotalUses",
            "int",
            nullable=True,
            read_only=True,
            list_name="TotalUses",
            filter=True,
            range_filter=True,
        ),
        FieldSpec(
            "UsedDate",
            "datetime",
            nullable=True,
            read_only=True,
            list_name="UsedDate",
            filter=True,
            range_filter=True,
        ),
        *_audit(),
    ),
    derived=(
        Derived(
            "CoworkerTimePassTimePassName", "TimePassName", "TimePassId", "name", "TimePass_Name"
        ),
        Derived(
            "CoworkerTimePassTimePassCurrency_Code",
            "TimePassCurrency_Code",
            "TimePassId",
            "currency",
            "TimePass_Currency_Code",
        ),
    ),
    commands=(
        CommandSpec("MARK_AS_USED", "Mark as used", 1),
        CommandSpec("MARK_AS_UNUSED", "Mark as not used", 2),
        CommandSpec(
            "SET_EXPIRY_DATE",
            "Set expiry date",
            3,
            parameters=(ParameterSpec("Expiry date", "DateTime"),),
        ),
    ),
)

PRODUCT_TIME_PASS = EntitySpec(
    name="ProductTimePass",
    path="producttimepasses",
    fields=(
        _ID,
        FieldSpec(
            "ProductId", "int", required=True, list_name="Product", filter=True, related="products"
        ),
        _TIME_PASS_ID,
        _PASSES_INCLUDED,
        FieldSpec(
            "ExpireTimeInMonths",
            "int",
            nullable=True,
            list_name="ExpireTimeInMonths",
            filter=True,
            range_filter=True,
        ),
        FieldSpec(
            "ExpireTimeInWeeks",
            "int",
            nullable=True,
            list_name="ExpireTimeInWeeks",
            filter=True,
            range_filter=True,
        ),
        FieldSpec(
            "ExpirationType",
            "enum",
            nullable=True,
            enum=(1, 2, 3, 4, 5, 6),
            list_name="ExpirationType",
            filter=True,
        ),
        FieldSpec(
            "ExpiresIn", "int", nullable=True, list_name="ExpiresIn", filter=True, range_filter=True
        ),
        *_audit(),
    ),
    derived=(
        Derived("ProductTimePassProductName", "ProductName", "ProductId", "name", "Product_Name"),
        Derived(
            "ProductTimePassTimePassName", "TimePassName", "TimePassId", "name", "TimePass_Name"
        ),
    ),
    commands=(
        CommandSpec(
            "SET_PASSES_INCLUDED",
            "Set passes included",
            1,
            parameters=(ParameterSpec("Passes included", "Int32"),),
        ),
        CommandSpec("CLEAR_EXPIRATION", "Remove expiration", 2),
    ),
)

TARIFF_TIME_PASS = EntitySpec(
    name="TariffTimePass",
    path="tarifftimepasses",
    fields=(
        _ID,
        FieldSpec(
            "TariffId", "int", required=True, list_name="Tariff", filter=True, related="tariffs"
        ),
        _TIME_PASS_ID,
        _PASSES_INCLUDED,
        FieldSpec(
            "PassRenewalTime",
            "enum",
            nullable=True,
            required=True,
            enum=(1, 2, 3, 4, 5),
            list_name="PassRenewalTime",
            filter=True,
        ),
        *_audit(),
    ),
    derived=(
        Derived("TariffTimePassTariffName", "TariffName", "TariffId", "name", "Tariff_Name"),
        Derived(
            "TariffTimePassTimePassName", "TimePassName", "TimePassId", "name", "TimePass_Name"
        ),
    ),
    commands=(
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
)

ENTITIES: tuple[EntitySpec, ...] = (COWORKER_TIME_PASS, PRODUCT_TIME_PASS, TARIFF_TIME_PASS)
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


#: Related records used to fill the flattened list names. Unknown ids get a
#: generic name (``Time pass 123``), so any id is accepted on create.
DEFAULT_CATALOGUES: Mapping[str, Mapping[int, CatalogueEntry]] = {
    "timepasses": {
        1: CatalogueEntry("Day pass", "EUR"),
        2: CatalogueEntry("Half day pass", "EUR"),
        3: CatalogueEntry("10 hour pass", "EUR"),
        4: CatalogueEntry("Meeting room hour", "GBP"),
        5: CatalogueEntry("Evening pass", "USD"),
    },
    "products": {
        1: CatalogueEntry("10 day passes bundle"),
        2: CatalogueEntry("Hot desk week"),
    },
    "tariffs": {
        1: CatalogueEntry("Flexible membership"),
        2: CatalogueEntry("Part-time membership"),
    },
}

GENERIC_NAMES: Mapping[str, str] = {
    "timepasses": "Time pass {id}",
    "products": "Product {id}",
    "tariffs": "Tariff {id}",
}
GENERIC_CURRENCY = "EUR"
