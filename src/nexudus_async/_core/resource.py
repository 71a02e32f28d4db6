"""The generic resource every generated entity namespace subclasses.

``client.coworker_time_passes`` (and its siblings) are generated from the
spec (``nexudus_async._generated.api.<tag>``): a thin subclass of
:class:`Resource` with the entity's typed arguments. A call runs downward:
the namespace checks its arguments (:mod:`.arguments`), the generated
operation builds the request (:class:`~.endpoint.Endpoint`), the resource
sends it through the client's pipeline and has the operation read the
answer. An error while building is the caller's input; an error while
reading is a :class:`~nexudus_async.MalformedResponseError`.

* lists answer *list-shaped* records (partial), and ``update`` never builds a
  PUT from them: it reads the full record, applies the changes and sends every
  property back, because a PUT clears whatever it does not receive;
* writes answer the action-result envelope: ``WasSuccessful: false`` raises,
  and the new record's ``Id`` is returned as :attr:`WriteResult.id`.
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import arguments as _args
from .arguments import DateRange, IntRange, NumberRange
from .endpoint import Endpoint, Operations, Owner, WriteResult, expect, read_answer
from .errors import FieldsClearedWarning, InputError, NotFoundError
from .listing import Listing
from .wire import UNSET, structure

if TYPE_CHECKING:
    from ..bulk import BulkReport

__all__ = [
    "DateRange",
    "Endpoint",
    "IntRange",
    "NumberRange",
    "Operations",
    "Owner",
    "Resource",
    "WriteResult",
]

RecordT = TypeVar("RecordT")
ItemT = TypeVar("ItemT")


class Resource(Listing[ItemT], Generic[RecordT, ItemT]):
    """What every entity namespace can do; the generated subclasses add the typed arguments."""

    # ---------------------------------------------------------------- writes

    def _checked(self, fields: Mapping[str, Any], *, update: bool) -> dict[str, Any]:
        return _args.body_values(
            self._entity,
            fields,
            update=update,
            enums=self._operations.enums,
            allow_unknown_enum_values=self._unknown_enums,
        )

    def _create(self, fields: Mapping[str, Any]) -> Coroutine[Any, Any, WriteResult]:
        # Checks and builds, then hands over the coroutine that sends (awaited by the caller,
        # it raises what these raise, with no frame of its own).
        values = _args.create_values(self._entity, self._checked(fields, update=False))
        endpoint = self._operations.create
        body = self._operations.create_body(**values)
        return self._write(endpoint, self._request(endpoint, body=body))

    async def _update(self, id: int, changes: Mapping[str, Any]) -> WriteResult:
        entity = self._entity
        _args.record_id(entity, "id", id)
        if "id" in changes:
            raise InputError("id", changes["id"], "the Id of a record cannot change")
        checked = self._checked(changes, update=True)
        # Never from list data: the full record, so untouched fields are sent back as they are.
        record = await self._get(id)
        values, cleared = _args.update_values(entity, id, record, checked)
        if cleared:
            # stacklevel 3: the caller of the namespace's update(), through the awaits
            warnings.warn(
                FieldsClearedWarning(
                    entity.name, id, [f.name for f in cleared], [f.json_name for f in cleared]
                ),
                stacklevel=3,
            )
        body = self._operations.update_body(**values)
        # Properties the spec does not know are sent back too: a PUT would clear them.
        body.additional_properties.update(getattr(record, "additional_properties", {}))
        endpoint = self._operations.update
        return await self._write(endpoint, self._request(endpoint, body=body))

    async def _commands(self) -> builtins.list[Any]:
        endpoint = self._operations.commands
        request = self._request(endpoint)
        items = expect(await self._send(endpoint, request), builtins.list, request)
        return [expect(c, self._operations.command, request) for c in items]

    async def _run_command(
        self, key: str, ids: Sequence[int], parameters: Sequence[Any]
    ) -> WriteResult:
        ops = self._operations
        if not isinstance(key, str) or not key:
            raise InputError("key", key, "must be a command key (see commands())")
        id_list = [_args.record_id(self._entity, "ids", i) for i in ids]
        for p in parameters:
            if not isinstance(p, ops.command_parameter):
                raise InputError("parameters", p, "each parameter must be a CommandParameter")
            _args.check_command_value(getattr(p, "value", None))
        body = ops.run_command_request(
            key=key, ids=id_list, parameters=builtins.list(parameters) if parameters else UNSET
        )
        return await self._write(ops.run_command, self._request(ops.run_command, body=body))

    # ---------------------------------------------------------------- shared public methods

    async def get(self, id: int) -> RecordT:
        """The full record with this Id (the single-record shape, every field).

        Raises:
            NotFoundError: No record has this Id.
        """
        _args.record_id(self._entity, "id", id)
        ops = self._operations
        endpoint = ops.get
        # No query (nothing for _request to adapt); sent and read in this frame, as _send does.
        request = endpoint.build(id=id)
        record: RecordT = read_answer(endpoint, request, await self._transport.send(request))
        if not isinstance(record, ops.record):
            expect(record, ops.record, request)  # raises
        return record

    _get = get  # update() reads through it, whatever a subclass makes of get()

    async def delete(self, id: int) -> WriteResult:
        """Delete the record with this Id.

        DELETE is retried after transient failures. When an attempt whose
        answer was lost had already deleted the record, the next attempt's 404
        is taken as success (the message says so); a 404 otherwise raises
        :class:`~nexudus_async.NotFoundError`.
        """
        _args.record_id(self._entity, "id", id)
        endpoint = self._operations.delete
        try:
            return await self._write(endpoint, self._request(endpoint, id=id))
        except NotFoundError as exc:
            if not exc.after_uncertain_attempt:
                raise
            return WriteResult(
                id=None,
                message=f"{self._entity.name} {id} is gone: an earlier attempt, whose answer "
                "was lost, deleted it",
            )

    async def replace(self, record: Mapping[str, Any]) -> WriteResult:
        """PUT a full record (API names, ``Id`` included) as given: no read first.

        For code that has just read the record in full and changed some fields
        (the bulk jobs); :meth:`update` reads the record itself.
        """
        endpoint = self._operations.update
        body: Any = structure(dict(record), self._operations.update_body)
        return await self._write(endpoint, self._request(endpoint, body=body))

    async def create_from(self, fields: Mapping[str, Any]) -> WriteResult:
        """:meth:`create` with the fields as a mapping (``{"coworker_id": 42, ...}``), for
        code that holds them as data (the bulk layer). The same checks and defaults apply."""
        return await self._create(fields)

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
        from ..bulk.executor import bulk_create_for  # a feature: imported when used

        rows = _formatted_rows(rows, options)
        return await bulk_create_for(self, rows, **options)

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


def _formatted_rows(rows: Iterable[Any], options: dict[str, Any]) -> Iterable[Any]:
    """The rows read with the cell options (``decimal=","``, ``date_format="%d/%m/%Y"``),
    which are taken out of ``options``; the rows as they are without them."""
    from ..bulk.formatted_rows import CELL_OPTIONS, formatted_rows

    cells = {k: options.pop(k) for k in CELL_OPTIONS if k in options}
    return formatted_rows(rows, **cells) if cells else rows
