"""What the OpenAPI document says about one entity, as data: the descriptors.

``make generate`` writes one :class:`Entity` per entity tag of the spec into
``nexudus_async._generated.api`` (``COWORKER_TIME_PASS``, ...). Everything
that needs to know an entity's fields, constraints, filters or list shape
reads it from there: the facade's input checks and typed namespaces, the bulk
layer's row parsing, the emulator's tables and validation. Nothing here names
an entity.

Kept free of cattrs, aiohttp and the request pipeline: the emulator imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

__all__ = ["NO_DEFAULT", "Entity", "Field", "Filter", "Kind", "ListField", "Presence"]

Kind = Literal["int", "bool", "string", "decimal", "datetime", "uuid", "enum"]
"""A field's kind: the schema's type and format, read by every check."""

Presence = Literal["required", "optional", "absent"]
"""Whether a body (create or update) must carry, may carry or lacks a field."""


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()
"""A field whose schema has no ``default``."""


@attrs.frozen(slots=True)
class Field:
    """One property of the single-record shape, and how the write bodies treat it."""

    json_name: str
    name: str
    """The Python (snake_case) name, as the generated models spell it."""
    kind: Kind
    nullable: bool = False
    read_only: bool = False
    create: Presence = "absent"
    update: Presence = "absent"
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[int, ...] = ()
    """The documented values of an enum field."""
    enum_name: str | None = None
    """The schema (and generated IntEnum) an enum field's values come from."""
    default: Any = NO_DEFAULT
    """The create body's default (the spec's ``default``), applied when a create omits it."""
    list_name: str | None = None
    """The property's name in list records (``None``: lists lack it)."""
    related: str | None = None
    """The collection an Id field points at (``x-nexudus-related``)."""

    @property
    def writable(self) -> bool:
        return self.create != "absent" or self.update != "absent"


@attrs.frozen(slots=True)
class ListField:
    """One property of the list-record shape."""

    json_name: str
    name: str
    kind: Kind
    nullable: bool = True
    source: str | None = None
    """The single-record field this one shows (``Coworker`` shows ``CoworkerId``)."""
    derived_from: str | None = None
    """For a flattened name (``x-nexudus-derived``): the Id field of the related record..."""
    derived_field: str | None = None
    """...and the related record's property it shows (``Name``, ``Currency_Code``)."""


@attrs.frozen(slots=True)
class Filter:
    """One search filter of the list operation."""

    name: str
    """The keyword argument (``coworker``, ``time_pass_name``, ``created_on``)."""
    kind: Kind
    equals: str | None
    """The wire name of the equality parameter (``CoworkerTimePass_Coworker``), if any."""
    range: tuple[str, str] | None
    """The wire names of the ``From_``/``To_`` parameters, if the filter has a range."""
    params: tuple[str, ...]
    """The generated list function's keyword arguments: equality, from, to (present ones)."""
    field: str | None = None
    """The list-record property it compares (``Coworker``), when it is one."""
    through: tuple[str, str] | None = None
    """A chained filter (``ProductTimePass_Product_Name``): the Id field whose related
    record it reads (``ProductId``) and that record's property (``Name``)."""
    contains: str | None = None
    """A collection filter (``TimePass_Businesses``, ``x-nexudus-contains``): the Id field
    (``BusinessId``) that also counts; it finds the records whose list named by the
    filter's suffix (``Businesses``) holds the value, or whose Id field is it."""


def _index(items: tuple[Any, ...], *keys: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        for key in keys:
            out.setdefault(getattr(item, key), item)
    return out


@attrs.frozen(slots=True)
class Entity:
    """One entity collection, as the spec describes it."""

    name: str
    """The API's entity name (``CoworkerTimePass``): role prefix and filter prefix."""
    attribute: str
    """The client's namespace attribute (``coworker_time_passes``)."""
    path: str
    """The collection path (``/api/billing/coworkertimepasses``)."""
    fields: tuple[Field, ...]
    list_fields: tuple[ListField, ...]
    filters: tuple[Filter, ...]
    ids_param: str
    """The get-by-ids parameter (``CoworkerTimePass_Id``), sent as ``[1,2]``."""
    ids_arg: str
    """The generated list function's keyword argument for it."""
    max_page_size: int | None = None
    """The largest ``size`` the list operation accepts (the spec's ``maximum``)."""
    count_field: str | None = None
    """The create field saying how many records one request makes (``x-nexudus-count``)."""
    reconcile: tuple[str, ...] = ()
    """Create fields whose filters count what a group of identical creates made
    (``x-nexudus-reconcile``)."""
    description: str = ""
    _by_name: Mapping[str, Field] = attrs.field(init=False, repr=False, eq=False)
    _filters_by_name: Mapping[str, Filter] = attrs.field(init=False, repr=False, eq=False)
    _list_by_name: Mapping[str, ListField] = attrs.field(init=False, repr=False, eq=False)
    _create: tuple[Field, ...] = attrs.field(init=False, repr=False, eq=False)
    _update: tuple[Field, ...] = attrs.field(init=False, repr=False, eq=False)
    _arguments: Mapping[bool, Mapping[str, Field]] = attrs.field(init=False, repr=False, eq=False)
    memo: dict[Any, Any] = attrs.field(init=False, repr=False, eq=False)
    """Checked values of text cells (a file repeats them), filled by ``values.check_body``."""

    def __attrs_post_init__(self) -> None:
        # Built once: row parsing looks a field up for every cell.
        object.__setattr__(self, "_by_name", _index(self.fields, "json_name", "name"))
        object.__setattr__(self, "_filters_by_name", _index(self.filters, "name"))
        object.__setattr__(self, "_list_by_name", _index(self.list_fields, "json_name", "name"))
        object.__setattr__(self, "_create", tuple(f for f in self.fields if f.create != "absent"))
        object.__setattr__(self, "_update", tuple(f for f in self.fields if f.update != "absent"))
        object.__setattr__(self, "memo", {})
        # Every create (update) keyword argument: a Python name, never the Id.
        by_name = self._by_name
        object.__setattr__(
            self,
            "_arguments",
            {
                update: {f.name: f for f in fields if f.name != "id" and by_name.get(f.name) is f}
                for update, fields in ((False, self._create), (True, self._update))
            },
        )

    @property
    def collection(self) -> str:
        """The last path segment (``coworkertimepasses``)."""
        return self.path.rsplit("/", 1)[-1]

    def field(self, name: str) -> Field | None:
        """The field named ``name`` (its JSON or its Python name)."""
        return self._by_name.get(name)

    def list_field(self, name: str) -> ListField | None:
        return self._list_by_name.get(name)

    def filter(self, name: str) -> Filter | None:
        return self._filters_by_name.get(name)

    def create_fields(self) -> tuple[Field, ...]:
        return self._create

    def update_fields(self) -> tuple[Field, ...]:
        return self._update

    def argument(self, name: str, *, update: bool) -> Field | None:
        """The field a create (``update=True``: update) keyword argument ``name`` sets."""
        return self._arguments[update].get(name)

    def role(self, action: str) -> str:
        """The entity role an operation needs (``CoworkerTimePass-Create``)."""
        return f"{self.name}-{action}"
