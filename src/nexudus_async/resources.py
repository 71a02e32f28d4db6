"""The resource namespaces of the client: one per entity.

``client.coworker_time_passes``, ``client.product_time_passes`` and
``client.tariff_time_passes``.

Each namespace knows the API's conventions for its entity, over the
generated endpoint functions:

* filters are keyword arguments named after the property without the
  ``Entity_`` prefix (``coworker=42``, ``time_pass=7``, ``used=False``);
  ranges are ``(start, end)`` tuples (``created_on=(start, None)``) that
  become ``From_``/``To_`` parameters; ``None`` as a filter value means "no
  filter";
* lists answer *list-shaped* records (partial: ``Coworker`` instead of
  ``CoworkerId``...), and ``update`` never builds a PUT from them: it reads the
  full record, applies the changes and sends every property back, because a
  PUT clears whatever it does not receive;
* writes answer the action-result envelope: ``WasSuccessful: false`` raises,
  and the new record's ``Id`` is returned as :attr:`WriteResult.id`.

Dates and times are the space's local wall-clock time: values are parsed to
*naive* datetimes (the API's trailing ``Z`` is not a real UTC marker) and
written back unshifted. Pass naive datetimes in the space's local time; an
aware datetime is accepted only with a zero UTC offset, and any other offset
is refused (naming the argument) before anything is sent.
"""

from __future__ import annotations

import builtins
import datetime
import inspect
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Required, TypedDict, TypeVar, Unpack
from uuid import UUID

import attrs

from ._generated import Client as _GeneratedClient
from ._generated.api.coworker_time_passes import (
    create_coworker_time_pass,
    delete_coworker_time_pass,
    get_coworker_time_pass,
    list_coworker_time_pass_commands,
    list_coworker_time_passes,
    run_coworker_time_pass_command,
    update_coworker_time_pass,
)
from ._generated.api.product_time_passes import (
    create_product_time_pass,
    delete_product_time_pass,
    get_product_time_pass,
    list_product_time_pass_commands,
    list_product_time_passes,
    run_product_time_pass_command,
    update_product_time_pass,
)
from ._generated.api.tariff_time_passes import (
    create_tariff_time_pass,
    delete_tariff_time_pass,
    get_tariff_time_pass,
    list_tariff_time_pass_commands,
    list_tariff_time_passes,
    run_tariff_time_pass_command,
    update_tariff_time_pass,
)
from ._generated.models import (
    ActionResult,
    ActionResultValue,
    Command,
    CommandParameter,
    CoworkerTimePass,
    CoworkerTimePassCreate,
    CoworkerTimePassListItem,
    CoworkerTimePassPage,
    CoworkerTimePassUpdate,
    ExpirationType,
    PassRenewalTime,
    ProductTimePass,
    ProductTimePassCreate,
    ProductTimePassListItem,
    ProductTimePassPage,
    ProductTimePassUpdate,
    RunCommandRequest,
    TariffTimePass,
    TariffTimePassCreate,
    TariffTimePassListItem,
    TariffTimePassPage,
    TariffTimePassUpdate,
)
from ._generated.models import SortDirection as _WireSortDirection
from ._generated.types import Response
from ._transport import HttpRequest, HttpResponse, Transport
from ._wire import INT32_MAX, INT32_MIN, UNSET, Unset
from .errors import (
    InputError,
    MalformedResponseError,
    NexudusError,
    NotFoundError,
    OutcomeUnknownError,
)
from .pagination import ItemIterator, Page, PageIterator, SortDirection, check_paging
from .retry import IDEMPOTENT_METHODS, RetryPolicy

if TYPE_CHECKING:
    from .bulk import BulkReport
    from .client import NexudusClient

__all__ = [
    "CoworkerTimePassChanges",
    "CoworkerTimePassFields",
    "CoworkerTimePassFilters",
    "CoworkerTimePasses",
    "DateRange",
    "NumberRange",
    "ProductTimePassChanges",
    "ProductTimePassFields",
    "ProductTimePassFilters",
    "ProductTimePasses",
    "TariffTimePassChanges",
    "TariffTimePassFields",
    "TariffTimePassFilters",
    "TariffTimePasses",
    "WriteResult",
]

RecordT = TypeVar("RecordT")
ItemT = TypeVar("ItemT")

DateRange = tuple[datetime.datetime | None, datetime.datetime | None]
"""``(start, end)``; either end may be None (open)."""
IntRange = tuple[int | None, int | None]
NumberRange = tuple[float | None, float | None]

GET_MANY_CHUNK = 100
"""Ids per get-by-ids request (keeps the URL short)."""


@attrs.frozen(slots=True)
class WriteResult:
    """What a create, update, delete or command answered.

    Attributes:
        id: The ``Value.Id`` the API answered: for a create, the new record's
            Id (with ``create_multiple`` > 1 the API answers one Id only).
            None when the API did not say.
        message: The API's ``Message``.
        raw: The whole action-result envelope (None for an empty answer).
    """

    id: int | None
    message: str | None
    raw: ActionResult | None = attrs.field(default=None, repr=False, eq=False)


# --------------------------------------------------------------------------- typed arguments


class CoworkerTimePassFilters(TypedDict, total=False):
    """Filters of ``coworker_time_passes.list/iter/pages`` (``CoworkerTimePass_*`` parameters)."""

    id: int
    coworker: int
    """The customer's (coworker's) Id."""
    business: int
    """The business (location) Id."""
    time_pass: int
    """The TimePass (definition) Id."""
    checked_in: bool
    coworker_product_unique_id: UUID
    create_multiple: int | IntRange
    expire_date: datetime.datetime | DateRange
    free: bool
    invoiced: bool
    invoice_date: datetime.datetime | DateRange
    is_from_tariff: bool
    notes: str
    price: float | NumberRange
    remaining_uses: int | IntRange
    total_uses: int | IntRange
    used: bool
    used_date: datetime.datetime | DateRange
    time_pass_name: str
    time_pass_currency_code: str
    created_on: DateRange
    updated_on: DateRange


class CoworkerTimePassFields(TypedDict, total=False):
    """The fields of a new CoworkerTimePass (``create_multiple`` defaults to 1)."""

    coworker_id: Required[int]
    business_id: Required[int]
    time_pass_id: Required[int]
    create_multiple: int
    notes: str | None
    purchase_order: str | None
    used: bool
    free: bool
    price: float | None
    expire_date: datetime.datetime | None
    tariff_time_pass_unique_id: UUID | None
    coworker_product_unique_id: UUID | None
    coworker_contract_unique_id: UUID | None
    system_id: str | None


class CoworkerTimePassChanges(TypedDict, total=False):
    """Changes for ``coworker_time_passes.update`` (``None`` clears a field)."""

    coworker_id: int
    business_id: int
    time_pass_id: int
    create_multiple: int
    notes: str | None
    purchase_order: str | None
    used: bool
    free: bool
    price: float | None
    expire_date: datetime.datetime | None
    tariff_time_pass_unique_id: UUID | None
    coworker_product_unique_id: UUID | None
    coworker_contract_unique_id: UUID | None
    system_id: str | None


class ProductTimePassFilters(TypedDict, total=False):
    """Filters of ``product_time_passes.list/iter/pages``."""

    id: int
    product: int
    time_pass: int
    passes_included: int | IntRange
    expire_time_in_months: int | IntRange
    expire_time_in_weeks: int | IntRange
    expiration_type: ExpirationType | int
    expires_in: int | IntRange
    product_name: str
    time_pass_name: str
    created_on: DateRange
    updated_on: DateRange


class ProductTimePassFields(TypedDict, total=False):
    """The fields of a new ProductTimePass."""

    product_id: Required[int]
    time_pass_id: Required[int]
    passes_included: Required[int]
    expire_time_in_months: int | None
    expire_time_in_weeks: int | None
    expiration_type: ExpirationType | int | None
    expires_in: int | None
    system_id: str | None


class ProductTimePassChanges(TypedDict, total=False):
    """Changes for ``product_time_passes.update`` (``None`` clears a field)."""

    product_id: int
    time_pass_id: int
    passes_included: int
    expire_time_in_months: int | None
    expire_time_in_weeks: int | None
    expiration_type: ExpirationType | int | None
    expires_in: int | None
    system_id: str | None


class TariffTimePassFilters(TypedDict, total=False):
    """Filters of ``tariff_time_passes.list/iter/pages``."""

    id: int
    tariff: int
    time_pass: int
    passes_included: int | IntRange
    pass_renewal_time: PassRenewalTime | int
    tariff_name: str
    time_pass_name: str
    created_on: DateRange
    updated_on: DateRange


class TariffTimePassFields(TypedDict, total=False):
    """The fields of a new TariffTimePass."""

    tariff_id: Required[int]
    time_pass_id: Required[int]
    passes_included: Required[int]
    pass_renewal_time: Required[PassRenewalTime | int]
    system_id: str | None


class TariffTimePassChanges(TypedDict, total=False):
    """Changes for ``tariff_time_passes.update``."""

    tariff_id: int
    time_pass_id: int
    passes_included: int
    pass_renewal_time: PassRenewalTime | int
    system_id: str | None


# --------------------------------------------------------------------------- validation


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_id(field: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(field, value, "must be a positive integer Id")
    return _check_int32(field, value)


def _check_int32(field: str, value: int) -> int:
    if value > INT32_MAX:
        raise InputError(field, value, f"is out of range (at most {INT32_MAX})")
    if value < INT32_MIN:
        raise InputError(field, value, f"is out of range (at least {INT32_MIN})")
    return value


def _check_datetime(field: str, value: datetime.datetime) -> None:
    offset = value.utcoffset()
    if offset is not None and offset != datetime.timedelta(0):
        raise InputError(
            field,
            value,
            "has a non-zero UTC offset; the Nexudus API stores the space's local "
            "wall-clock time and would shift it. Pass a naive datetime in the space's "
            "local time",
        )


_NON_NEGATIVE = frozenset(
    {"passes_included", "expire_time_in_months", "expire_time_in_weeks", "expires_in"}
)

# One check per kind of create/update field, chosen by the field's name
# (_checker); values that are None or UNSET are not checked.


def _check_unique_id(field: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            raise InputError(field, value, "must be a UUID") from None
    if not isinstance(value, UUID):
        raise InputError(field, value, "must be a UUID")
    return value


def _check_create_multiple(field: str, value: Any) -> Any:
    if not _is_int(value) or value < 1:
        raise InputError(field, value, "must be an integer of at least 1")
    return _check_int32(field, value)


def _check_id_field(field: str, value: Any) -> Any:
    _check_id(field, value)
    return value


def _check_non_negative(field: str, value: Any) -> Any:
    if not _is_int(value) or value < 0:
        raise InputError(field, value, "must be an integer of at least 0")
    return _check_int32(field, value)


def _check_price(field: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field, value, "must be a number")
    if not math.isfinite(value):
        raise InputError(field, value, "must be a finite number")
    return value


def _check_expiration_type(field: str, value: Any) -> Any:
    if not _is_int(value):
        raise InputError(field, value, "must be an ExpirationType")
    return ExpirationType(_check_int32(field, value))


def _check_pass_renewal_time(field: str, value: Any) -> Any:
    if not _is_int(value):
        raise InputError(field, value, "must be a PassRenewalTime")
    return PassRenewalTime(_check_int32(field, value))


def _check_other(field: str, value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        _check_datetime(field, value)
    elif field in ("used", "free") and not isinstance(value, bool):
        raise InputError(field, value, "must be True or False")
    return value


def _checker(field: str) -> Callable[[str, Any], Any]:
    """The check of the create/update field ``field``."""
    if field.endswith("_unique_id"):
        return _check_unique_id
    if field == "create_multiple":
        return _check_create_multiple
    if field.endswith("_id") and field != "system_id":
        return _check_id_field
    if field in _NON_NEGATIVE:
        return _check_non_negative
    if field == "price":
        return _check_price
    if field == "expiration_type":
        return _check_expiration_type
    if field == "pass_renewal_time":
        return _check_pass_renewal_time
    return _check_other


_CHECKERS: dict[str, Callable[[str, Any], Any]] = {}
"""The check of every field of the create and update bodies (filled below)."""


def _check_field(field: str, value: Any) -> Any:
    """Check one create/update field; return it normalised (enums from ints)."""
    if value is None or isinstance(value, Unset):
        return value
    check = _CHECKERS.get(field)
    if check is None:  # not a field of any body: the body's constructor will say so
        check = _checker(field)
    return check(field, value)


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


# --------------------------------------------------------------------------- per-entity wiring


@attrs.frozen(slots=True)
class _EntitySpec:
    """How the facade reaches one entity through the generated layer."""

    name: str
    prefix: str
    path: str
    get: Callable[..., Awaitable[Response[Any]]]
    list: Callable[..., Awaitable[Response[Any]]]
    create: Callable[..., Awaitable[Response[Any]]]
    update: Callable[..., Awaitable[Response[Any]]]
    delete: Callable[..., Awaitable[Response[Any]]]
    commands: Callable[..., Awaitable[Response[Any]]]
    run_command: Callable[..., Awaitable[Response[Any]]]
    record_cls: type
    page_cls: type
    create_cls: type
    update_cls: type
    equals: frozenset[str]
    ranges: frozenset[str]
    update_fields: tuple[str, ...]
    update_defaults: Mapping[str, Any]

    @classmethod
    def build(
        cls,
        *,
        name: str,
        prefix: str,
        path: str,
        module_get: Any,
        module_list: Any,
        module_create: Any,
        module_update: Any,
        module_delete: Any,
        module_commands: Any,
        module_run: Any,
        record_cls: type,
        page_cls: type,
        create_cls: type,
        update_cls: type,
        update_defaults: Mapping[str, Any] | None = None,
    ) -> _EntitySpec:
        # The filter names come from the generated list function itself, so
        # a parameter added to the spec is a filter here without more code.
        params = inspect.signature(module_list.asyncio_detailed).parameters
        own = f"{prefix}_"
        equals = {"id"} | {
            p[len(own) :] for p in params if p.startswith(own) and p != f"{prefix}_id"
        }
        ranges = {p[len("from_" + own) :] for p in params if p.startswith("from_" + own)}
        return cls(
            name=name,
            prefix=prefix,
            path=path,
            get=module_get.asyncio_detailed,
            list=module_list.asyncio_detailed,
            create=module_create.asyncio_detailed,
            update=module_update.asyncio_detailed,
            delete=module_delete.asyncio_detailed,
            commands=module_commands.asyncio_detailed,
            run_command=module_run.asyncio_detailed,
            record_cls=record_cls,
            page_cls=page_cls,
            create_cls=create_cls,
            update_cls=update_cls,
            equals=frozenset(equals),
            ranges=frozenset(ranges),
            update_fields=tuple(f.name for f in attrs.fields(update_cls) if f.init),
            update_defaults=dict(update_defaults or {}),
        )


_COWORKER = _EntitySpec.build(
    name="CoworkerTimePass",
    prefix="coworker_time_pass",
    path="/api/billing/coworkertimepasses",
    module_get=get_coworker_time_pass,
    module_list=list_coworker_time_passes,
    module_create=create_coworker_time_pass,
    module_update=update_coworker_time_pass,
    module_delete=delete_coworker_time_pass,
    module_commands=list_coworker_time_pass_commands,
    module_run=run_coworker_time_pass_command,
    record_cls=CoworkerTimePass,
    page_cls=CoworkerTimePassPage,
    create_cls=CoworkerTimePassCreate,
    update_cls=CoworkerTimePassUpdate,
    # A record without CreateMultiple stands for one pass.
    update_defaults={"create_multiple": 1},
)
_PRODUCT = _EntitySpec.build(
    name="ProductTimePass",
    prefix="product_time_pass",
    path="/api/billing/producttimepasses",
    module_get=get_product_time_pass,
    module_list=list_product_time_passes,
    module_create=create_product_time_pass,
    module_update=update_product_time_pass,
    module_delete=delete_product_time_pass,
    module_commands=list_product_time_pass_commands,
    module_run=run_product_time_pass_command,
    record_cls=ProductTimePass,
    page_cls=ProductTimePassPage,
    create_cls=ProductTimePassCreate,
    update_cls=ProductTimePassUpdate,
)
_TARIFF = _EntitySpec.build(
    name="TariffTimePass",
    prefix="tariff_time_pass",
    path="/api/billing/tarifftimepasses",
    module_get=get_tariff_time_pass,
    module_list=list_tariff_time_passes,
    module_create=create_tariff_time_pass,
    module_update=update_tariff_time_pass,
    module_delete=delete_tariff_time_pass,
    module_commands=list_tariff_time_pass_commands,
    module_run=run_tariff_time_pass_command,
    record_cls=TariffTimePass,
    page_cls=TariffTimePassPage,
    create_cls=TariffTimePassCreate,
    update_cls=TariffTimePassUpdate,
)


_CHECKERS.update(
    (field.name, _checker(field.name))
    for entity in (_COWORKER, _PRODUCT, _TARIFF)
    for body in (entity.create_cls, entity.update_cls)
    for field in attrs.fields(body)
)


class _Capture:
    """Remembers whether an answer arrived, to tell bad input from a bad answer."""

    __slots__ = ("inner", "response")

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.response: HttpResponse | None = None

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.response = await self.inner.send(request)
        return self.response


# --------------------------------------------------------------------------- the resources


class _Resource(Generic[RecordT, ItemT]):
    """What every time-pass namespace can do; the typed subclasses add the entity's arguments."""

    _spec: _EntitySpec

    def __init__(self, owner: NexudusClient) -> None:
        self._owner = owner

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._owner!r}>"

    # ---------------------------------------------------------------- plumbing

    async def _call(
        self, fn: Callable[..., Awaitable[Response[Any]]], method: str, path: str, **kwargs: Any
    ) -> Any:
        capture = _Capture(self._owner._transport)
        try:
            response = await fn(client=_GeneratedClient(transport=capture), **kwargs)
        except NexudusError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            if capture.response is None:
                raise  # the arguments could not be encoded: nothing was sent
            raise MalformedResponseError(
                f"the answer does not have the documented shape ({type(exc).__name__}: {exc})",
                method=method,
                path=path,
                status=capture.response.status_code,
                body=capture.response.content,
                headers=capture.response.headers,
            ) from exc
        return response.parsed

    @staticmethod
    def _expect(parsed: Any, cls: type[Any], method: str, path: str) -> Any:
        if not isinstance(parsed, cls):
            raise MalformedResponseError(
                f"expected a {cls.__name__} in the answer, got {type(parsed).__name__}",
                method=method,
                path=path,
            )
        return parsed

    def _filters(self, filters: Mapping[str, Any]) -> dict[str, Any]:
        spec = self._spec
        out: dict[str, Any] = {}
        for name, value in filters.items():
            if value is None:
                continue
            if isinstance(value, tuple):
                if name not in spec.ranges:
                    raise InputError(
                        name,
                        value,
                        f"{spec.name} has no range filter {name!r}"
                        + (f" (ranges: {', '.join(sorted(spec.ranges))})" if spec.ranges else ""),
                    )
                if len(value) != 2:
                    raise InputError(name, value, "a range is a (start, end) pair")
                start, end = value
                for bound in (start, end):
                    if isinstance(bound, datetime.datetime):
                        _check_datetime(name, bound)
                if start is not None and end is not None:
                    try:
                        backwards = start > end
                    except TypeError:
                        raise InputError(name, value, "start and end cannot be compared") from None
                    if backwards:
                        raise InputError(name, value, "the start is after the end")
                if start is not None:
                    out[f"from_{spec.prefix}_{name}"] = start
                if end is not None:
                    out[f"to_{spec.prefix}_{name}"] = end
                continue
            if name not in spec.equals:
                if name in spec.ranges:
                    raise InputError(name, value, "is a range filter: pass (start, end)")
                raise TypeError(
                    f"unknown {spec.name} filter {name!r}; "
                    f"known: {', '.join(sorted(spec.equals | spec.ranges))}"
                )
            if isinstance(value, datetime.datetime):
                _check_datetime(name, value)
            out["id" if name == "id" else f"{spec.prefix}_{name}"] = value
        return out

    def _ordering(
        self, order_by: str | None, direction: SortDirection | str | int | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if order_by is not None:
            if not isinstance(order_by, str) or not order_by:
                raise InputError("order_by", order_by, "must be a property name such as 'Id'")
            out["orderby"] = _pascal(order_by) if order_by[0].islower() else order_by
        if direction is not None:
            try:
                out["dir_"] = _WireSortDirection(SortDirection.parse(direction).value)
            except ValueError:
                raise InputError(
                    "direction", direction, "must be SortDirection.ASCENDING or DESCENDING"
                ) from None
        return out

    async def _fetch_page(self, number: int, size: int, query: Mapping[str, Any]) -> Page[ItemT]:
        path = self._spec.path
        parsed = await self._call(self._spec.list, "GET", path, page=number, size=size, **query)
        envelope = self._expect(parsed, self._spec.page_cls, "GET", path)
        return Page(
            items=envelope.records,
            page_number=number,
            page_size=size,
            total_items=envelope.total_items,
            total_pages=envelope.total_pages,
            raw=envelope,
        )

    def _query(
        self,
        order_by: str | None,
        direction: SortDirection | str | int | None,
        filters: Mapping[str, Any],
    ) -> dict[str, Any]:
        return {**self._ordering(order_by, direction), **self._filters(filters)}

    async def _list(
        self,
        page: int,
        size: int,
        order_by: str | None,
        direction: SortDirection | str | int | None,
        filters: Mapping[str, Any],
    ) -> Page[ItemT]:
        check_paging(size=size, max_items=None, prefetch=1, page=page)
        return await self._fetch_page(page, size, self._query(order_by, direction, filters))

    def _pages(
        self,
        size: int,
        max_items: int | None,
        prefetch: int,
        order_by: str | None,
        direction: SortDirection | str | int | None,
        filters: Mapping[str, Any],
    ) -> PageIterator[ItemT]:
        query = self._query(order_by, direction, filters)

        async def fetch(number: int, page_size: int) -> Page[ItemT]:
            return await self._fetch_page(number, page_size, query)

        return PageIterator(fetch, size=size, max_items=max_items, prefetch=prefetch)

    async def _create(self, fields: Mapping[str, Any]) -> WriteResult:
        spec = self._spec
        values = {name: _check_field(name, value) for name, value in fields.items()}
        try:
            body = spec.create_cls(**values)
        except TypeError as exc:
            raise TypeError(f"{spec.name} create: {exc}") from None
        return await self._write(spec.create, "POST", spec.path, body=body)

    async def _update(self, id: int, changes: Mapping[str, Any]) -> WriteResult:
        spec = self._spec
        _check_id("id", id)
        unknown = set(changes) - set(spec.update_fields)
        if "id" in changes:
            raise InputError("id", changes["id"], "the Id of a record cannot change")
        if unknown:
            raise TypeError(
                f"unknown {spec.name} field(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(f for f in spec.update_fields if f != 'id')}"
            )
        checked = {name: _check_field(name, value) for name, value in changes.items()}
        # Never from list data: the full record, so untouched fields are sent back as they are.
        record = await self._get(id)
        values: dict[str, Any] = {}
        required = {f.name for f in attrs.fields(spec.update_cls) if f.default is attrs.NOTHING}
        for name in spec.update_fields:
            if name in checked:
                values[name] = checked[name]
                continue
            current = getattr(record, name, UNSET)
            if name in required and (current is None or isinstance(current, Unset)):
                if name in spec.update_defaults:
                    current = spec.update_defaults[name]
                else:
                    raise InputError(
                        name,
                        current,
                        f"{spec.name} {id} has no {_pascal(name)}, which an update must send; "
                        f"pass {name}=...",
                    )
            values[name] = current
        body = spec.update_cls(**values)
        # Properties the spec does not know are sent back too: a PUT would clear them.
        body.additional_properties.update(getattr(record, "additional_properties", {}))
        return await self._write(spec.update, "PUT", spec.path, body=body)

    async def _write(
        self, fn: Callable[..., Awaitable[Response[Any]]], method: str, path: str, **kwargs: Any
    ) -> WriteResult:
        try:
            parsed = await self._call(fn, method, path, **kwargs)
            if parsed is None:
                return WriteResult(id=None, message=None, raw=None)
            result = self._expect(parsed, ActionResult, method, path)
        except MalformedResponseError as exc:
            if method in IDEMPOTENT_METHODS:
                raise
            # The POST reached the server and was answered: an answer that cannot
            # be read says nothing about whether it was executed.
            raise OutcomeUnknownError(
                f"the outcome is unknown: the API's answer could not be read ({exc.message}); "
                "the request may have been executed and was not resent",
                method=method,
                path=path,
                status=exc.status,
                cause=exc,
            ) from exc
        value = result.value
        new_id = value.id if isinstance(value, ActionResultValue) else None
        message = result.message
        return WriteResult(
            id=new_id if isinstance(new_id, int) else None,
            message=message if isinstance(message, str) else None,
            raw=result,
        )

    async def _get(self, id: int) -> RecordT:
        _check_id("id", id)
        path = f"{self._spec.path}/{id}"
        parsed = await self._call(self._spec.get, "GET", path, id=id)
        record: RecordT = self._expect(parsed, self._spec.record_cls, "GET", path)
        return record

    # ---------------------------------------------------------------- shared public methods

    async def get(self, id: int) -> RecordT:
        """The full record with this Id (the single-record shape, every field).

        Raises:
            NotFoundError: No record has this Id.
        """
        return await self._get(id)

    async def get_many(self, ids: Iterable[int]) -> builtins.list[ItemT]:
        """Several records by Id, in the order of ``ids`` (duplicates once; unknown Ids left out).

        Uses the API's get-by-ids lookup (``Entity_Id=[1,2,...]``), which
        answers *list-shaped* (partial) records, in chunks of 100 Ids.
        """
        wanted = builtins.list(dict.fromkeys(_check_id("ids", i) for i in ids))
        found: dict[int, ItemT] = {}
        param = f"{self._spec.prefix}_id"
        for start in range(0, len(wanted), GET_MANY_CHUNK):
            chunk = wanted[start : start + GET_MANY_CHUNK]
            number = 1
            while True:
                page = await self._fetch_page(number, len(chunk), {param: chunk})
                for item in page.items:
                    found[item.id] = item  # type: ignore[attr-defined]
                if not page.has_next or not page.items:
                    break
                number += 1
        return [found[i] for i in wanted if i in found]

    async def delete(self, id: int) -> WriteResult:
        """Delete the record with this Id.

        DELETE is retried after transient failures. When an attempt whose
        answer was lost had already deleted the record, the next attempt's 404
        is taken as success (the message says so); a 404 otherwise raises
        :class:`~nexudus_async.errors.NotFoundError`.
        """
        _check_id("id", id)
        try:
            return await self._write(self._spec.delete, "DELETE", f"{self._spec.path}/{id}", id=id)
        except NotFoundError as exc:
            if not exc.after_uncertain_attempt:
                raise
            return WriteResult(
                id=None,
                message=f"{self._spec.name} {id} is gone: an earlier attempt, whose answer "
                "was lost, deleted it",
            )

    async def commands(self) -> builtins.list[Command]:
        """The commands that can run on records of this entity."""
        path = f"{self._spec.path}/commands"
        parsed = await self._call(self._spec.commands, "GET", path)
        items = self._expect(parsed, builtins.list, "GET", path)
        return [self._expect(c, Command, "GET", path) for c in items]

    async def run_command(
        self,
        key: str,
        *,
        ids: Sequence[int] = (),
        parameters: Sequence[CommandParameter] = (),
    ) -> WriteResult:
        """Run the command ``key`` (see :meth:`commands`) on the records ``ids``.

        ``parameters`` give values for the command's ``RequiresParameters``, for
        example ``CommandParameter(value=True, name="Notify")``. Like every
        POST, it is never resent when its outcome is unknown.
        """
        if not isinstance(key, str) or not key:
            raise InputError("key", key, "must be a command key (see commands())")
        id_list = [_check_id("ids", i) for i in ids]
        for p in parameters:
            if not isinstance(p, CommandParameter):
                raise InputError("parameters", p, "each parameter must be a CommandParameter")
        body = RunCommandRequest(
            key=key, ids=id_list, parameters=builtins.list(parameters) if parameters else UNSET
        )
        return await self._write(
            self._spec.run_command, "POST", f"{self._spec.path}/runcommand", body=body
        )

    async def bulk_create(
        self, rows: Iterable[Mapping[str, Any] | Any], **options: Any
    ) -> BulkReport:
        """Create many records in as few requests as the API allows (see :mod:`nexudus_async.bulk`).

        Rows are validated first (nothing is sent if one is invalid, unless
        ``on_invalid="skip"``), identical rows are coalesced into
        ``CreateMultiple`` requests, and creates whose outcome is unknown are
        reconciled by counting, never blindly resent. Every request goes
        through this client's limiter, retries and credentials. ``options``
        are those of :func:`nexudus_async.bulk.bulk_create` (``concurrency``,
        ``journal``, ``progress``, ``max_per_request``...).
        """
        from .bulk import bulk_create_for

        return await bulk_create_for(self, rows, **options)


class CoworkerTimePasses(_Resource[CoworkerTimePass, CoworkerTimePassListItem]):
    """Time passes held by customers (``/api/billing/coworkertimepasses``)."""

    _spec = _COWORKER

    def with_options(
        self, *, timeout: float | None = None, retry: RetryPolicy | None = None
    ) -> CoworkerTimePasses:
        """This namespace on a client view with another per-attempt timeout and/or retry policy."""
        return CoworkerTimePasses(self._owner.with_options(timeout=timeout, retry=retry))

    async def list(
        self,
        *,
        page: int = 1,
        size: int = 25,
        order_by: str | None = None,
        direction: SortDirection | str | int | None = None,
        **filters: Unpack[CoworkerTimePassFilters],
    ) -> Page[CoworkerTimePassListItem]:
        """One page of CoworkerTimePasses matching the filters (list-shaped records).

        Example: ``await client.coworker_time_passes.list(coworker=42,
        created_on=(datetime(2025, 1, 1), None), size=100)``.
        """
        return await self._list(page, size, order_by, direction, filters)

    def iter(
        self,
        *,
        size: int = 100,
        max_items: int | None = None,
        prefetch: int = 1,
        order_by: str | None = None,
        direction: SortDirection | str | int | None = None,
        **filters: Unpack[CoworkerTimePassFilters],
    ) -> ItemIterator[CoworkerTimePassListItem]:
        """Every matching CoworkerTimePass, lazily, page by page.

        Stops after ``max_items`` records without fetching more pages; with
        ``prefetch=N`` fetches up to N pages concurrently once the first has
        told how many there are (see :mod:`~nexudus_async.pagination`).
        """
        return ItemIterator(self._pages(size, max_items, prefetch, order_by, direction, filters))

    def pages(
        self,
        *,
        size: int = 100,
        max_items: int | None = None,
        prefetch: int = 1,
        order_by: str | None = None,
        direction: SortDirection | str | int | None = None,
        **filters: Unpack[CoworkerTimePassFilters],
    ) -> PageIterator[CoworkerTimePassListItem]:
        """The pages of matching CoworkerTimePasses, lazily and in order."""
        return self._pages(size, max_items, prefetch, order_by, direction, filters)

    async def create(self, **fields: Unpack[CoworkerTimePassFields]) -> WriteResult:
        """Create ``create_multiple`` (default 1) time passes for a customer in one request.

        Returns the API's answer; :attr:`WriteResult.id` is the new Id. A POST
        whose outcome is unknown (connection lost, timeout, 5xx, unreadable answer) raises
        :class:`~nexudus_async.errors.OutcomeUnknownError` and is never resent.
        """
        values: dict[str, Any] = {"create_multiple": 1, **fields}
        return await self._create(values)

    async def update(self, id: int, /, **changes: Unpack[CoworkerTimePassChanges]) -> WriteResult:
        """Change some fields of a CoworkerTimePass and keep all the others.

        Reads the full record, applies ``changes`` and PUTs every property back
        (a PUT clears whatever it does not receive). ``None`` clears a field.
        """
        return await self._update(id, changes)


class ProductTimePasses(_Resource[ProductTimePass, ProductTimePassListItem]):
    """Time passes granted by the purchase of a product (``/api/billing/producttimepasses``)."""

    _spec = _PRODUCT

    def with_options(
        self, *, timeout: float | None = None, retry: RetryPolicy | None = None
    ) -> ProductTimePasses:
        """This namespace on a client view with another per-attempt timeout and/or retry policy."""
        return ProductTimePasses(self._owner.with_options(timeout=timeout, retry=retry))

    async def list(
        self,
        *,
        page: int = 1,
        size: int = 25,
        order_by: str | None = None,
        direction: SortDirection | str | int | None = None,
        **filters: Unpack[ProductTimePassFilters],
    ) -> Page[ProductTimePassListItem]:
        """One page of ProductTimePasses matching the filters (list-shaped records)."""
        return await self._list(page, size, order_by, direction, filters)

    def iter(
        self,
        *,
        size: int = 100,
        max_items: int | None = None,
        prefetch: int = 1,
        order_by: str | None = None,
        direction: SortDirection | str | int | None = None,
        **filters: Unpack[ProductTimePassFilters],
    ) -> ItemIterator[ProductTimePassListItem]:
        """Every matching ProductTimePass, lazily, page by page."""
        return ItemIterator(self._pages(size, max_items, prefetch, order_by, direction, filters))

    def pages(
        self,
        *,
        size: int = 100,
        max_items: int | None = None,
        prefetch: int = 1,
        order_by: str | None = None,
        direction: SortDirection | str | int | None = None,
        **filters: Unpack[ProductTimePassFilters],
    ) -> PageIterator[ProductTimePassListItem]:
        """The pages of matching ProductTimePasses, lazily and in order."""
        return self._pages(size, max_items, prefetch, order_by, direction, filters)

    async def create(self, **fields: Unpack[ProductTimePassFields]) -> WriteResult:
        """Link a TimePass to a Product; :attr:`WriteResult.id` is the new Id."""
        return await self._create(dict(fields))

    async def update(self, id: int, /, **changes: Unpack[ProductTimePassChanges]) -> WriteResult:
        """Change some fields of a ProductTimePass and keep all the others (read, merge, PUT)."""
        return await self._update(id, changes)


class TariffTimePasses(_Resource[TariffTimePass, TariffTimePassListItem]):
    """Time passes included in a pricing plan (``/api/billing/tarifftimepasses``)."""

    _spec = _TARIFF

    def with_options(
        self, *, timeout: float | None = None, retry: RetryPolicy | None = None
    ) -> TariffTimePasses:
        """This namespace on a client view with another per-attempt timeout and/or retry policy."""
        return TariffTimePasses(self._owner.with_options(timeout=timeout, retry=retry))

    async def list(
        self,
        *,
        page: int = 1,
        size: int = 25,
        order_by: str | None = None,
        direction: SortDirection | str | int | None = None,
        **filters: Unpack[TariffTimePassFilters],
    ) -> Page[TariffTimePassListItem]:
        """One page of TariffTimePasses matching the filters (list-shaped records)."""
        return await self._list(page, size, order_by, direction, filters)

    def iter(
        self,
        *,
        size: int = 100,
        max_items: int | None = None,
        prefetch: int = 1,
        order_by: str | None = None,
        direction: SortDirection | str | int | None = None,
        **filters: Unpack[TariffTimePassFilters],
    ) -> ItemIterator[TariffTimePassListItem]:
        """Every matching TariffTimePass, lazily, page by page."""
        return ItemIterator(self._pages(size, max_items, prefetch, order_by, direction, filters))

    def pages(
        self,
        *,
        size: int = 100,
        max_items: int | None = None,
        prefetch: int = 1,
        order_by: str | None = None,
        direction: SortDirection | str | int | None = None,
        **filters: Unpack[TariffTimePassFilters],
    ) -> PageIterator[TariffTimePassListItem]:
        """The pages of matching TariffTimePasses, lazily and in order."""
        return self._pages(size, max_items, prefetch, order_by, direction, filters)

    async def create(self, **fields: Unpack[TariffTimePassFields]) -> WriteResult:
        """Include a TimePass in a pricing plan; :attr:`WriteResult.id` is the new Id."""
        return await self._create(dict(fields))

    async def update(self, id: int, /, **changes: Unpack[TariffTimePassChanges]) -> WriteResult:
        """Change some fields of a TariffTimePass and keep all the others (read, merge, PUT)."""
        return await self._update(id, changes)
