"""The generic resource every generated entity namespace subclasses.

``client.coworker_time_passes`` (and its siblings) are generated from the
spec (``nexudus_async._generated.api.<tag>``): a thin subclass of
:class:`Resource` with the entity's typed arguments. Everything they do lives
here, read from the entity's descriptor and the generated operations:

* filters are keyword arguments named after the property without the
  ``Entity_`` prefix (``coworker=42``, ``time_pass=7``, ``used=False``);
  ranges are ``(start, end)`` tuples (``created_on=(start, None)``) that
  become ``From_``/``To_`` parameters; ``None`` as a filter value means "no
  filter";
* lists answer *list-shaped* records (partial), and ``update`` never builds a
  PUT from them: it reads the full record, applies the changes and sends every
  property back, because a PUT clears whatever it does not receive;
* writes answer the action-result envelope: ``WasSuccessful: false`` raises,
  and the new record's ``Id`` is returned as :attr:`WriteResult.id`.

Dates and times are the space's local wall-clock time (:mod:`.dates`): naive
datetimes; an aware datetime is accepted only with a zero UTC offset.
"""

from __future__ import annotations

import builtins
import datetime
import difflib
import math
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

import attrs

from . import dates as _dates, values as _values
from .account_answers import (
    DESCENDING_SPELLINGS,
    AccountAnswers,
    Rewrite,
    is_descending,
    rename_param,
    respell_dir,
)
from .entity import NO_DEFAULT, Entity, Field, Filter
from .errors import (
    FieldsClearedWarning,
    InputError,
    MalformedResponseError,
    NexudusError,
    NotFoundError,
    OutcomeUnknownError,
)
from .pagination import Page, PageIterator, SortDirection, check_paging
from .pipeline import NOT_GIVEN, NotGiven
from .retry import IDEMPOTENT_METHODS
from .transport import HttpRequest, HttpResponse, Transport
from .wire import UNSET, Unset

if TYPE_CHECKING:
    from ..bulk import BulkReport
    from .retry import RetryPolicy

__all__ = [
    "DateRange",
    "IntRange",
    "NumberRange",
    "Operations",
    "Owner",
    "Resource",
    "WriteResult",
]

RecordT = TypeVar("RecordT")
ItemT = TypeVar("ItemT")

if TYPE_CHECKING:
    _Date = datetime.datetime | datetime.date | str
    DateRange = tuple[_Date | None, _Date | None]
    IntRange = tuple[int | None, int | None]
    NumberRange = tuple[Decimal | float | None, Decimal | float | None]
else:
    # Classes at run time, so that help() shows their own docstrings (a
    # ``tuple[...]`` alias shows tuple's); type checkers read the aliases above.

    class DateRange(tuple):
        """A date range filter: ``(start, end)``, either end None (open), both included.

        Each end is a ``datetime``, a ``date`` (that day at 00:00 wall-clock) or
        text ``YYYY-MM-DD[THH:MM[:SS]]``, read by the same rule as a create
        argument: ``created_on=(date(2027, 1, 1), "2027-01-31T18:00")``.
        """

    class IntRange(tuple):
        """A whole-number range filter: ``(low, high)``, either end None (open)."""

    class NumberRange(tuple):
        """A money range filter: ``(low, high)`` of Decimals (a float goes through its
        shortest repr, see :mod:`nexudus_async._core.decimals`), either end None."""


GET_MANY_CHUNK = 100
"""Ids per get-by-ids request (keeps the URL short)."""

DEFAULT_ITER_PAGE_SIZE = 100
"""``iter()``/``pages()`` page size for an entity whose spec states no maximum."""

Operation = Callable[..., Awaitable[Any]]


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
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.frozen(slots=True)
class Operations:
    """The generated functions and models one entity namespace calls (filled by the template)."""

    list: Operation
    get: Operation
    create: Operation
    update: Operation
    delete: Operation
    commands: Operation
    run_command: Operation
    record: type
    page: type
    create_body: type
    update_body: type
    client: Callable[[Transport], Any]
    action_result: type
    command: type
    command_parameter: type
    run_command_request: type
    sort_direction: type
    enums: Mapping[str, type[IntEnum]]


class Owner(Protocol):
    """What a namespace needs of the client it belongs to."""

    @property
    def transport(self) -> Transport: ...

    @property
    def allow_unknown_enum_values(self) -> bool: ...

    def with_options(
        self,
        *,
        timeout: float | NotGiven | None = ...,
        retry: RetryPolicy | None = ...,
        allow_unknown_enum_values: bool | None = ...,
    ) -> Any: ...

    async def _bulk_create(
        self, resource: Resource[Any, Any], rows: Iterable[Any], options: Mapping[str, Any]
    ) -> BulkReport: ...


class _Capture:
    """Remembers whether an answer arrived, to tell bad input from a bad answer.

    ``rewrite`` adapts the request to what the account understands (account_answers.py).
    """

    __slots__ = ("inner", "response", "rewrite")

    def __init__(self, inner: Transport, rewrite: Rewrite | None = None) -> None:
        self.inner = inner
        self.response: HttpResponse | None = None
        self.rewrite = rewrite

    async def send(self, request: HttpRequest) -> HttpResponse:
        if self.rewrite is not None:
            request = self.rewrite(request)
        self.response = await self.inner.send(request)
        return self.response


def _check(field: Field, value: Any, *, allow_unknown_enum_values: bool = False) -> Any:
    try:
        return _values.check(field, value, allow_unknown_enum_values=allow_unknown_enum_values)
    except _values.Invalid as exc:
        reason = str(exc)
        if field.kind == "enum" and reason.startswith("must be one of"):
            reason += (
                " (the documented values; to send another, create the client with "
                "allow_unknown_enum_values=True)"
            )
        raise InputError(field.name, value, reason) from None


class Resource(Generic[RecordT, ItemT]):
    """What every entity namespace can do; the generated subclasses add the typed arguments."""

    _entity: Entity
    _operations: Operations

    def __init__(self, owner: Owner) -> None:
        self._owner = owner
        self._learned = AccountAnswers()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._owner!r}>"

    @property
    def entity(self) -> Entity:
        """The entity's descriptor (fields, constraints, filters, list shape)."""
        return self._entity

    def with_options(
        self,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        retry: RetryPolicy | None = None,
        allow_unknown_enum_values: bool | None = None,
    ) -> Self:
        """This namespace on a client view with another timeout, retry policy and/or
        ``allow_unknown_enum_values``, as ``NexudusClient.with_options`` takes them
        (an option not given keeps the client's; ``timeout=None`` switches it off)."""
        return type(self)(
            self._owner.with_options(
                timeout=timeout, retry=retry, allow_unknown_enum_values=allow_unknown_enum_values
            )
        )

    # ---------------------------------------------------------------- plumbing

    async def _call(
        self,
        fn: Operation,
        method: str,
        path: str,
        *,
        rewrite: Rewrite | None = None,
        **kwargs: Any,
    ) -> Any:
        capture = _Capture(self._owner.transport, rewrite)
        try:
            response = await fn(client=self._operations.client(capture), **kwargs)
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

    def _id(self, name: str, value: Any) -> int:
        field = self._entity.field("Id")
        assert field is not None  # every entity has one
        try:
            number: int = _values.check(field, value)
        except _values.Invalid as exc:
            raise InputError(name, value, f"{exc} (a record Id)") from None
        return number

    def _filters(self, filters: Mapping[str, Any], call: str = "list") -> dict[str, Any]:
        entity = self._entity
        out: dict[str, Any] = {}
        for name, value in filters.items():
            if value is None:
                continue
            spec = entity.filter(name)
            if spec is None:
                known = [f.name for f in entity.filters]
                raise TypeError(
                    f"{entity.attribute}.{call}() got an unknown filter {name}"
                    + _did_you_mean(name, known)
                )
            if isinstance(value, tuple):
                if spec.range is None:
                    ranges = ", ".join(sorted(f.name for f in entity.filters if f.range))
                    raise InputError(
                        name,
                        value,
                        f"{entity.name} has no range filter {name!r}"
                        + (f" (ranges: {ranges})" if ranges else ""),
                    )
                if len(value) != 2:
                    raise InputError(name, value, "a range is a (start, end) pair")
                start, end = (self._filter_value(spec, value, b) for b in value)
                if start is not None and end is not None and start > end:
                    raise InputError(name, value, "the start is after the end")
                low, high = spec.params[-2:]
                if start is not None:
                    out[low] = start
                if end is not None:
                    out[high] = end
                continue
            if spec.equals is None:
                raise InputError(name, value, "is a range filter: pass (start, end)")
            out[spec.params[0]] = self._filter_value(spec, value, value)
        return out

    @staticmethod
    def _filter_value(spec: Filter, given: Any, value: Any) -> Any:
        """One value (or range end) of a filter, by the rule its kind has everywhere."""
        if value is None:
            return None
        try:
            return _values.check_filter(spec.kind, value)
        except _values.Invalid as exc:
            raise InputError(spec.name, given, str(exc)) from None

    @staticmethod
    def _check_datetime(name: str, value: datetime.datetime) -> None:
        offset = value.utcoffset()
        if offset is not None and offset != datetime.timedelta(0):
            raise InputError(
                name,
                value,
                "has a non-zero UTC offset; the Nexudus API stores the space's local "
                "wall-clock time and would shift it. Pass a naive datetime in the space's "
                "local time",
            )

    def _check_read_back_datetime(self, id: int, field: Field, value: datetime.datetime) -> None:
        """A date the API answered with a non-zero UTC offset cannot be sent back as it is."""
        try:
            _dates.wall_clock(value)
        except _dates.OffsetError:
            raise InputError(
                field.name,
                value,
                f"{self._entity.name} {id} was read back with {field.json_name} at a non-zero "
                "UTC offset; the Nexudus API stores the space's local wall-clock time and "
                "would shift it if sent so, and the client will not guess the local time: "
                f"pass {field.name}= (a naive datetime in the space's local time, or None) "
                "to update()",
            ) from None

    def _ordering(
        self, order_by: str | None, direction: SortDirection | str | int | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if order_by is not None:
            if not isinstance(order_by, str) or not order_by:
                raise InputError("order_by", order_by, "must be a property name such as 'Id'")
            known = self._entity.field(order_by) or self._entity.list_field(order_by)
            out["orderby"] = known.json_name if known is not None else order_by
        if direction is not None:
            try:
                wire = self._operations.sort_direction(SortDirection.parse(direction).value)
            except ValueError:
                raise InputError(
                    "direction", direction, "must be SortDirection.ASCENDING or DESCENDING"
                ) from None
            out["dir_"] = wire
        return out

    async def _fetch_page(
        self, number: int, size: int, query: Mapping[str, Any], rewrite: Rewrite | None = None
    ) -> Page[ItemT]:
        descending = rewrite is None and self._is_descending(query)
        if descending and self._learned.descending not in (None, "descending"):
            rewrite = respell_dir(self._learned.descending)
        page = await self._fetch_once(number, size, query, rewrite)
        if descending and self._learned.descending is None:
            page = await self._learn_descending(page, number, size, query)
        return page

    async def _learn_descending(
        self, page: Page[ItemT], number: int, size: int, query: Mapping[str, Any]
    ) -> Page[ItemT]:
        """The first descending page: if it came back ascending, the account ignored the
        spelling; ask again with the next one (account_answers.py) and remember the one
        that works. A page that cannot tell (fewer than two distinct values) is kept."""
        value = self._order_value(query)
        answer = page
        for spelling in DESCENDING_SPELLINGS:
            if spelling != "descending":
                answer = await self._fetch_once(number, size, query, respell_dir(spelling))
            verdict = is_descending([value(item) for item in answer.items])
            if verdict is None:
                return answer
            if verdict:
                self._learned.descending = spelling
                return answer
        self._learned.descending = "descending"  # none worked: keep the documented one
        return page

    def _order_value(self, query: Mapping[str, Any]) -> Callable[[Any], Any]:
        """Reads the ordered property of a list record (None where unknown)."""
        name = str(query.get("orderby", "Id"))
        entity = self._entity
        listed = entity.list_field(name) or next(
            (f for f in entity.list_fields if f.source == name), None
        )
        attribute = listed.name if listed is not None else None
        return lambda item: getattr(item, attribute, None) if attribute else None

    async def _fetch_once(
        self, number: int, size: int, query: Mapping[str, Any], rewrite: Rewrite | None
    ) -> Page[ItemT]:
        path = self._entity.path
        ops = self._operations
        parsed = await self._call(
            ops.list, "GET", path, rewrite=rewrite, page=number, size=size, **query
        )
        if isinstance(parsed, builtins.list):
            # Get by ids as the newer reference pages document it: the records, bare.
            # Nothing says more pages exist, so this is the last one.
            return Page(
                items=parsed,
                page_number=number,
                page_size=size,
                total_items=(number - 1) * size + len(parsed),
                total_pages=number,
                raw=parsed,
            )
        envelope = self._expect(parsed, ops.page, "GET", path)
        return Page(
            items=envelope.records,
            page_number=number,
            page_size=size,
            total_items=envelope.total_items,
            total_pages=envelope.total_pages,
            raw=envelope,
        )

    def _is_descending(self, query: Mapping[str, Any]) -> bool:
        direction = query.get("dir_")
        return direction is not None and str(getattr(direction, "value", direction)) == (
            SortDirection.DESCENDING.value
        )

    def _query(
        self,
        order_by: str | None,
        direction: SortDirection | str | int | None,
        filters: Mapping[str, Any],
        call: str = "list",
    ) -> dict[str, Any]:
        return {**self._ordering(order_by, direction), **self._filters(filters, call)}

    async def _list(
        self,
        page: int,
        size: int,
        order_by: str | None,
        direction: SortDirection | str | int | None,
        filters: Mapping[str, Any],
    ) -> Page[ItemT]:
        check_paging(
            size=size, max_items=None, prefetch=1, page=page, max_size=self._entity.max_page_size
        )
        return await self._fetch_page(page, size, self._query(order_by, direction, filters))

    def _pages(
        self,
        size: int | None,
        max_items: int | None,
        prefetch: int,
        order_by: str | None,
        direction: SortDirection | str | int | None,
        filters: Mapping[str, Any],
    ) -> PageIterator[ItemT]:
        largest = self._entity.max_page_size
        if size is None:  # requests are the scarce resource: the largest page the API allows
            size = largest or DEFAULT_ITER_PAGE_SIZE
            if self._learned.page_size is not None:  # the account serves smaller ones
                size = min(size, self._learned.page_size)
        query = self._query(order_by, direction, filters, "iter/pages")

        async def fetch(number: int, page_size: int) -> Page[ItemT]:
            return await self._fetch_page(number, page_size, query)

        def learned(served: int) -> None:
            self._learned.page_size = served

        return PageIterator(
            fetch,
            size=size,
            max_items=max_items,
            prefetch=prefetch,
            max_size=largest,
            on_size=learned,
        )

    def _body_value(self, field: Field, value: Any) -> Any:
        """A checked create/update argument in the form the generated body takes."""
        if value is None or isinstance(value, Unset):
            return value
        checked = _check(
            field, value, allow_unknown_enum_values=self._owner.allow_unknown_enum_values
        )
        if field.enum_name is not None:
            return self._operations.enums[field.enum_name](checked)
        return checked

    def _writable(self, name: str, *, update: bool) -> Field:
        field = self._entity.field(name)
        presence = None if field is None else (field.update if update else field.create)
        if field is None or field.name != name or presence == "absent" or name == "id":
            known = [
                f.name
                for f in (self._entity.update_fields() if update else self._entity.create_fields())
                if f.name != "id"
            ]
            verb = "update" if update else "create"
            raise TypeError(
                f"{self._entity.attribute}.{verb}() got an unexpected argument {name}"
                + _did_you_mean(name, known)
            )
        return field

    async def _create(self, fields: Mapping[str, Any]) -> WriteResult:
        entity, ops = self._entity, self._operations
        values = {
            name: self._body_value(self._writable(name, update=False), value)
            for name, value in fields.items()
        }
        for field in entity.create_fields():  # the spec's defaults (CreateMultiple: 1)
            if field.name not in values and field.default is not NO_DEFAULT:
                values[field.name] = field.default
        missing = [
            f.name
            for f in entity.create_fields()
            if f.create == "required" and f.name not in values
        ]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise TypeError(
                f"{entity.attribute}.create() missing required argument{plural}: "
                + ", ".join(missing)
            )
        body = ops.create_body(**values)
        return await self._write(ops.create, "POST", entity.path, body=body)

    async def _update(self, id: int, changes: Mapping[str, Any]) -> WriteResult:
        entity, ops = self._entity, self._operations
        self._id("id", id)
        if "id" in changes:
            raise InputError("id", changes["id"], "the Id of a record cannot change")
        checked = {
            name: self._body_value(self._writable(name, update=True), value)
            for name, value in changes.items()
        }
        # Never from list data: the full record, so untouched fields are sent back as they are.
        record = await self._get(id)
        values: dict[str, Any] = {}
        cleared: list[Field] = []
        for field in entity.update_fields():
            name = field.name
            if name in checked:
                values[name] = checked[name]
                continue
            current = getattr(record, name, UNSET)
            if isinstance(current, Unset) and field.update != "required":
                cleared.append(field)  # not read back, so not sent: the PUT clears it
            if field.update == "required" and (current is None or isinstance(current, Unset)):
                if field.default is NO_DEFAULT:
                    raise InputError(
                        name,
                        current,
                        f"{entity.name} {id} has no {field.json_name}, which an update must "
                        f"send; pass {name}=...",
                    )
                current = field.default
            if isinstance(current, datetime.datetime):
                self._check_read_back_datetime(id, field, current)
            values[name] = current
        if cleared:
            # stacklevel 3: the caller of the namespace's update(), through the awaits
            warnings.warn(
                FieldsClearedWarning(
                    entity.name, id, [f.name for f in cleared], [f.json_name for f in cleared]
                ),
                stacklevel=3,
            )
        body = ops.update_body(**values)
        # Properties the spec does not know are sent back too: a PUT would clear them.
        body.additional_properties.update(getattr(record, "additional_properties", {}))
        return await self._write(ops.update, "PUT", entity.path, body=body)

    async def _write(self, fn: Operation, method: str, path: str, **kwargs: Any) -> WriteResult:
        try:
            parsed = await self._call(fn, method, path, **kwargs)
            if parsed is None:
                return WriteResult(id=None, message=None, raw=None)
            result = self._expect(parsed, self._operations.action_result, method, path)
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
        new_id = getattr(value, "id", None)
        message = result.message
        return WriteResult(
            id=new_id if isinstance(new_id, int) else None,
            message=message if isinstance(message, str) else None,
            raw=result,
        )

    async def _get(self, id: int) -> RecordT:
        self._id("id", id)
        path = f"{self._entity.path}/{id}"
        parsed = await self._call(self._operations.get, "GET", path, id=id)
        record: RecordT = self._expect(parsed, self._operations.record, "GET", path)
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
        answers *list-shaped* (partial) records, in chunks of 100 Ids; the
        answer may be the list envelope or (as newer reference pages
        document it) a bare JSON array of the records.
        """
        wanted = builtins.list(dict.fromkeys(self._id("ids", i) for i in ids))
        found: dict[int, ItemT] = {}
        for start in range(0, len(wanted), GET_MANY_CHUNK):
            chunk = wanted[start : start + GET_MANY_CHUNK]
            found.update(await self._by_ids(chunk))
        return [found[i] for i in wanted if i in found]

    async def _by_ids(self, chunk: builtins.list[int]) -> dict[int, ItemT]:
        """One get-by-ids lookup, in the form this account understands (learned once)."""
        found: dict[int, ItemT] = {}
        asked = set(chunk)
        number = 1
        while True:
            rewrite = None
            if self._learned.ids_param is not None:
                rewrite = rename_param(self._entity.ids_param, self._learned.ids_param)
            page = await self._fetch_page(
                number, len(chunk), {self._entity.ids_arg: chunk}, rewrite
            )
            if page.total_items > len(asked) or any(
                item.id not in asked  # type: ignore[attr-defined]
                for item in page.items
            ):
                # The account ignored the lookup and answered its plain list.
                if self._learned.ids_param is not None:
                    raise MalformedResponseError(
                        f"the account ignores both get-by-ids forms ({self._entity.ids_param}"
                        "=[..] and id=[..]): its answer holds records not asked for",
                        method="GET",
                        path=self._entity.path,
                    )
                self._learned.ids_param = "id"
                number = 1
                continue
            for item in page.items:
                found[item.id] = item  # type: ignore[attr-defined]
            if not page.has_next or not page.items:
                return found
            number += 1

    async def delete(self, id: int) -> WriteResult:
        """Delete the record with this Id.

        DELETE is retried after transient failures. When an attempt whose
        answer was lost had already deleted the record, the next attempt's 404
        is taken as success (the message says so); a 404 otherwise raises
        :class:`~nexudus_async.NotFoundError`.
        """
        self._id("id", id)
        path = f"{self._entity.path}/{id}"
        try:
            return await self._write(self._operations.delete, "DELETE", path, id=id)
        except NotFoundError as exc:
            if not exc.after_uncertain_attempt:
                raise
            return WriteResult(
                id=None,
                message=f"{self._entity.name} {id} is gone: an earlier attempt, whose answer "
                "was lost, deleted it",
            )

    async def _commands(self) -> builtins.list[Any]:
        path = f"{self._entity.path}/commands"
        command = self._operations.command
        parsed = await self._call(self._operations.commands, "GET", path)
        items = self._expect(parsed, builtins.list, "GET", path)
        return [self._expect(c, command, "GET", path) for c in items]

    @staticmethod
    def _check_command_value(value: Any) -> None:
        """A parameter's value (any JSON value) must be one the wire can carry unshifted."""
        if isinstance(value, datetime.datetime):
            Resource._check_datetime("parameters", value)  # the filters' check and wording
        elif (isinstance(value, float) and not math.isfinite(value)) or (
            isinstance(value, Decimal) and not value.is_finite()
        ):
            raise InputError("parameters", value, "must be a finite number (JSON has no NaN)")

    async def _run_command(
        self, key: str, ids: Sequence[int], parameters: Sequence[Any]
    ) -> WriteResult:
        ops = self._operations
        if not isinstance(key, str) or not key:
            raise InputError("key", key, "must be a command key (see commands())")
        id_list = [self._id("ids", i) for i in ids]
        for p in parameters:
            if not isinstance(p, ops.command_parameter):
                raise InputError("parameters", p, "each parameter must be a CommandParameter")
            self._check_command_value(getattr(p, "value", None))
        body = ops.run_command_request(
            key=key, ids=id_list, parameters=builtins.list(parameters) if parameters else UNSET
        )
        return await self._write(
            ops.run_command, "POST", f"{self._entity.path}/runcommand", body=body
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
        return await self._owner._bulk_create(self, rows, options)

    async def bulk_update(
        self,
        rows: Iterable[Mapping[str, Any] | Any] | None = None,
        *,
        where: Mapping[str, Any] | None = None,
        set: Mapping[str, Any] | None = None,  # the command line's --set
        **options: Any,
    ) -> BulkReport:
        """Change fields of many records: rows keyed by ``Id``, or ``where=`` filters
        (as :meth:`list` takes them) plus ``set={...}``. Each changed record is read
        in full and PUT back with only those fields changed; one already holding the
        values costs no write. Options: :func:`nexudus_async.bulk.jobs.bulk_update_for`."""
        from ..bulk.jobs import bulk_update_for

        return await bulk_update_for(self, rows, where=where, set=set, **options)

    async def bulk_delete(
        self,
        rows: Iterable[Mapping[str, Any] | Any] | None = None,
        *,
        where: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> BulkReport:
        """Delete many records: rows of ``Id`` s, or ``where=`` filters; a record already
        gone counts as deleted. Options: :func:`nexudus_async.bulk.jobs.bulk_delete_for`."""
        from ..bulk.jobs import bulk_delete_for

        return await bulk_delete_for(self, rows, where=where, **options)

    async def bulk_apply(
        self,
        rows: Iterable[Mapping[str, Any] | Any],
        *,
        key: str | None = None,
        prune: bool = False,
        where: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> BulkReport:
        """Make the records match ``rows``, matched by ``key`` (``Id``, ``SystemId``,
        ``ProductId+TimePassId``...): create the missing, update the changed, and with
        ``prune`` delete the records of ``where`` the rows lack; coworker passes by
        ``Count`` take no key. Options: :func:`nexudus_async.bulk.jobs.bulk_apply_for`."""
        from ..bulk.jobs import bulk_apply_for

        return await bulk_apply_for(self, rows, key=key, prune=prune, where=where, **options)


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    """``; did you mean coworker?`` for a misspelt name, else the names there are."""
    names = list(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if not close:  # coworker_id for coworker: a prefix is a likelier slip than a typo
        close = [k for k in names if name.startswith(k) or k.startswith(name)][:1]
    if close:
        return f"; did you mean {close[0]}?"
    return "; known: " + ", ".join(sorted(names))
