"""The bulk job's side of a resource: the typed calls a job makes, and the adapter to the facade.

:func:`~nexudus_async.bulk.executor.run_bulk` only talks to a
:class:`BulkGateway` (create a group, count a key) and, when it can, a
:class:`SnapshotGateway` (read the baseline snapshot's pages);
:class:`ResourceGateway` is that protocol over ``client.coworker_time_passes``
and its siblings, so the job never dispatches on an entity's name.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from .._core import values as _values
from .._core.entity import NO_DEFAULT, Entity, Field
from .._core.errors import NotFoundError
from .._core.limiter import Limiter, account_key
from .._core.resource import Resource
from .snapshot import KeyedPage

__all__ = ["BulkGateway", "ResourceGateway", "SnapshotGateway"]


class BulkGateway(Protocol):
    """The two calls a bulk job makes; the facade adapts its resource to it."""

    async def create(self, fields: Mapping[str, Any], count: int) -> Any:
        """Create ``count`` records with ``fields`` (API names) in ONE request."""
        ...

    async def count(self, match: Mapping[str, Any], since: str) -> int:
        """Records matching ``match`` (API names) created since ``since``."""
        ...


@runtime_checkable
class SnapshotGateway(BulkGateway, Protocol):
    """A gateway that can also read the pages a baseline snapshot needs.

    A gateway without ``snapshot_page`` still works: the job then counts
    each group's key before its first send (one read per group).
    """

    async def snapshot_page(
        self, match: Mapping[str, Any], since: str, page: int, size: int
    ) -> KeyedPage:
        """Page ``page`` (of ``size``) of the records matching ``match`` created
        since ``since``, in ascending ``Id`` order, with each one's reconcile key."""
        ...


def _to_python(field: Field, value: Any, allow_unknown_enum_values: bool = False) -> Any:
    """A normalized row value (JSON form) as the facade's create methods take it."""
    # money stays the row's Decimal
    return _values.check(
        field, value, source="json", allow_unknown_enum_values=allow_unknown_enum_values
    )


def _filter_name(entity: Entity, api_name: str) -> str:
    """``CoworkerId`` -> ``coworker``: the list filter on the property that shows a field."""
    field = entity.field(api_name)
    shown = field.list_name if field is not None else None
    for f in entity.filters:
        if f.field is not None and f.field == shown and f.equals is not None:
            return f.name
    raise ValueError(f"{entity.name} has no list filter for {api_name}")


class ResourceGateway:
    """Adapts a facade resource (``client.coworker_time_passes`` ...) to a bulk job.

    ``create`` calls ``resource.create(**fields)`` (with ``create_multiple``
    for CoworkerTimePasses); ``count`` reads ``total_items`` of a one-record
    page of ``resource.list(<customer>=, time_pass=, created_on=(since, None))``;
    ``snapshot_page`` reads a page of the same list in ascending ``Id`` order.
    """

    def __init__(self, resource: Resource[Any, Any]) -> None:
        self.resource = resource
        self.entity = resource.entity
        self._fields: dict[str, Field] = {}

    @property
    def allow_unknown_enum_values(self) -> bool:
        """The client's option: rows may hold enum values the documentation does not list."""
        return self.resource.client.allow_unknown_enum_values

    @property
    def limiter(self) -> Limiter | None:
        """The client's rate limiter, which :func:`run_bulk` primes from the journal."""
        return self.resource.client.limiter

    @property
    def account(self) -> str | None:
        """The account's non-secret key (base URL and user), which names the job's lock."""
        client = self.resource.client
        auth = client.auth
        return account_key(client.base_url, auth.user() if auth is not None else None)

    def _field(self, name: str) -> Field:
        field = self.entity.field(name)
        if field is None:
            raise ValueError(f"{self.entity.name} has no field {name}")
        return field

    def _list_attribute(self, name: str) -> str:
        shown = self._field(name).list_name
        listed = self.entity.list_field(shown) if shown is not None else None
        if listed is None:
            raise ValueError(f"{self.entity.name} list records lack {name}")
        return listed.name

    def _named(self, name: str) -> Field:
        """:meth:`_field`, looked up once per name (a job asks for the same few per group)."""
        field = self._fields.get(name)
        if field is None:
            field = self._fields[name] = self._field(name)
        return field

    async def create(self, fields: Mapping[str, Any], count: int) -> Any:
        lenient = self.allow_unknown_enum_values
        named = self._named
        kwargs = {named(k).name: _to_python(named(k), v, lenient) for k, v in fields.items()}
        if self.entity.count_field is not None:
            kwargs[named(self.entity.count_field).name] = count
        elif count != 1:
            raise ValueError(f"{self.entity.name} creates one record per request")
        return await self.resource.create_from(kwargs)

    async def count(self, match: Mapping[str, Any], since: str) -> int:
        filters = {_filter_name(self.entity, k): v for k, v in match.items()}
        since_dt = _dt.datetime.fromisoformat(since)
        filters["created_on"] = (since_dt, None)
        return await self.resource.count(filters)

    async def snapshot_page(
        self, match: Mapping[str, Any], since: str, page: int, size: int
    ) -> KeyedPage:
        filters = {_filter_name(self.entity, k): v for k, v in match.items()}
        since_dt = _dt.datetime.fromisoformat(since)
        filters["created_on"] = (since_dt, None)
        result = await self.resource.list_page(
            filters, page=page, size=size, order_by="Id", direction="ascending"
        )
        # List records name a related record without "Id": CoworkerId -> .coworker.
        names = [self._list_attribute(f) for f in self.entity.reconcile]
        records = [
            (int(item.id), tuple(_list_value(getattr(item, n, None)) for n in names))
            for item in result.items
        ]
        return KeyedPage(int(result.total_items), records)

    # ---------------------------------------------------------------- record ops (update, delete)

    async def read(self, record_id: int) -> Mapping[str, Any] | None:
        """The full record (single-record shape, API names, JSON values); None: no such record."""
        try:
            record = await self.resource.get(record_id)
        except NotFoundError:
            return None
        data: dict[str, Any] = record.to_dict()
        return data

    async def replace(self, record_id: int, record: Mapping[str, Any]) -> Any:
        """PUT a full record back (a fresh read with the op's changes applied).

        The update fields are sent as read (a required one the record lacks
        takes the spec's default), and properties the spec does not know too:
        a PUT clears what it lacks.
        """
        body: dict[str, Any] = {
            k: v for k, v in record.items() if self.entity.field(k) is None and k != "Id"
        }
        for field in self.entity.update_fields():
            value = record.get(field.json_name)
            if value is None and field.update == "required" and field.default is not NO_DEFAULT:
                value = field.default
            if value is not None or field.json_name in record:
                body[field.json_name] = value
        body["Id"] = record_id
        return await self.resource.replace(body)

    async def delete(self, record_id: int) -> Any:
        """DELETE the record (the resource takes a 404 after a lost answer as done)."""
        return await self.resource.delete(record_id)


def _list_value(value: Any) -> Any:
    """A list record's field as a reconcile key value (UNSET and None are None)."""
    return value if isinstance(value, (int, str)) else None
