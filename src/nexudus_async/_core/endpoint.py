"""One generated operation as the runtime calls it, and the one call path of a namespace.

Each generated endpoint module ends with ``ENDPOINT = Endpoint(_build_request,
_parse_response)``. :class:`Caller` (the base of every namespace) builds the
request with it, sends the request through the client's pipeline and has the
operation read the answer, so a call runs downward only: namespace ->
resource -> request builder -> pipeline -> transport. Which phase failed says
what was wrong: an error while building is the caller's input, an error while
reading is a :class:`~nexudus_async.MalformedResponseError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self

import attrs

from .account_answers import AccountAnswers, Rewrite
from .entity import Entity
from .errors import MalformedResponseError, OutcomeUnknownError
from .pagination import SortDirection
from .pipeline import NOT_GIVEN, NotGiven
from .retry import IDEMPOTENT_METHODS
from .transport import HttpRequest, HttpResponse, Transport

if TYPE_CHECKING:
    from .auth import Auth
    from .limiter import Limiter
    from .retry import RetryPolicy

__all__ = [
    "Caller",
    "Endpoint",
    "Operations",
    "Owner",
    "WriteResult",
    "expect",
    "numeric_dir",
    "read_answer",
]


@attrs.frozen(slots=True)
class Endpoint:
    """The generated request builder and answer reader of one operation."""

    build: Callable[..., HttpRequest]
    """Keyword arguments (the generated function's) -> the request, wire-encoded."""
    parse: Callable[..., Any]
    """``parse(client=None, response=...)``: the documented answer's model (None when
    the status is not a documented one: the pipeline has raised for every error)."""

    def read(self, response: HttpResponse) -> Any:
        """The answer's model; raises whatever the model's structuring raises."""
        return self.parse(client=None, response=response)


@attrs.frozen(slots=True, init=False)
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

    def __init__(self, id: int | None, message: str | None, raw: Any = None) -> None:
        # attrs' frozen __init__ through the slots' own setters: one per write, made faster.
        _set_id(self, id)
        _set_message(self, message)
        _set_raw(self, raw)


_set_id, _set_message, _set_raw = (
    vars(WriteResult)[f.name].__set__ for f in attrs.fields(WriteResult)
)


@attrs.frozen(slots=True)
class Operations:
    """The generated operations and models of one entity namespace (filled by the template)."""

    list: Endpoint
    get: Endpoint
    create: Endpoint
    update: Endpoint
    delete: Endpoint
    commands: Endpoint
    run_command: Endpoint
    record: type
    page: type
    create_body: type
    update_body: type
    action_result: type
    command: type
    command_parameter: type
    run_command_request: type
    sort_direction: type
    enums: Mapping[str, type[IntEnum]]


class Owner(Protocol):
    """What a namespace needs of the client it belongs to (all public on ``NexudusClient``)."""

    @property
    def transport(self) -> Transport:
        """The pipeline: credentials, limiter, retries, typed errors."""

    @property
    def sort_direction_format(self) -> Literal["string", "numeric"]: ...

    @property
    def allow_unknown_enum_values(self) -> bool: ...

    @property
    def limiter(self) -> Limiter: ...

    @property
    def base_url(self) -> str: ...

    @property
    def auth(self) -> Auth | None: ...

    def with_options(
        self,
        *,
        timeout: float | NotGiven | None = ...,
        retry: RetryPolicy | None = ...,
        allow_unknown_enum_values: bool | None = ...,
    ) -> Any: ...


def numeric_dir(request: HttpRequest) -> HttpRequest:
    """``dir`` as 1/2, for API versions that want the numeric form; a spelling learned
    from the account (``-1``) goes as it is."""
    if not any(name == "dir" for name, _ in request.params):
        return request

    def number(value: str) -> str:
        try:
            return str(SortDirection(value).number)
        except ValueError:
            return value

    params = tuple((k, number(v) if k == "dir" else v) for k, v in request.params)
    return request.evolve(params=params)


def expect(parsed: Any, cls: type[Any], request: HttpRequest) -> Any:
    if not isinstance(parsed, cls):
        raise MalformedResponseError(
            f"expected a {cls.__name__} in the answer, got {type(parsed).__name__}",
            method=request.method,
            path=request.path,
        )
    return parsed


class Caller:
    """What every namespace is made of: the client it sends through, and the call path."""

    _entity: Entity
    _operations: Operations

    def __init__(self, owner: Owner) -> None:
        self._owner = owner
        self._learned = AccountAnswers()
        # Read once: a client's (or view's) pipeline and options never change.
        self._transport = owner.transport
        self._numeric_dir = owner.sort_direction_format == "numeric"
        self._unknown_enums = owner.allow_unknown_enum_values

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._owner!r}>"

    @property
    def entity(self) -> Entity:
        """The entity's descriptor (fields, constraints, filters, list shape)."""
        return self._entity

    @property
    def client(self) -> Owner:
        """The client (or client view) this namespace sends through."""
        return self._owner

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

    # ---------------------------------------------------------------- the one call path

    def _request(
        self, endpoint: Endpoint, rewrite: Rewrite | None = None, /, **arguments: Any
    ) -> HttpRequest:
        """The generated builder's request, adapted to what the account understands."""
        request = endpoint.build(**arguments)
        if rewrite is not None:
            request = rewrite(request)
        if self._numeric_dir:
            request = numeric_dir(request)
        return request

    async def _send(self, endpoint: Endpoint, request: HttpRequest) -> Any:
        """Send through the pipeline (which raises the typed errors) and read the answer."""
        return read_answer(endpoint, request, await self._transport.send(request))

    async def _write(self, endpoint: Endpoint, request: HttpRequest) -> WriteResult:
        try:
            # _send's body in this frame: one coroutine less for every resumption of a write
            parsed = read_answer(endpoint, request, await self._transport.send(request))
            if parsed is None:
                return WriteResult(id=None, message=None, raw=None)
            result = parsed
            if not isinstance(result, self._operations.action_result):
                expect(result, self._operations.action_result, request)  # raises
        except MalformedResponseError as exc:
            if request.method in IDEMPOTENT_METHODS:
                raise
            # The POST reached the server and was answered: an answer that cannot
            # be read says nothing about whether it was executed.
            raise OutcomeUnknownError(
                f"the outcome is unknown: the API's answer could not be read ({exc.message}); "
                "the request may have been executed and was not resent",
                method=request.method,
                path=request.path,
                status=exc.status,
                cause=exc,
            ) from exc
        new_id = getattr(result.value, "id", None)
        message = result.message
        return WriteResult(  # id, message, raw
            new_id if isinstance(new_id, int) else None,
            message if isinstance(message, str) else None,
            result,
        )


def read_answer(endpoint: Endpoint, request: HttpRequest, response: HttpResponse) -> Any:
    """The answer's model: an error while reading it is a :class:`MalformedResponseError`
    (a plain function, not a coroutine: the callers await the send in their own frame)."""
    try:
        return endpoint.parse(client=None, response=response)
    except Exception as exc:
        raise MalformedResponseError(
            f"the answer does not have the documented shape ({type(exc).__name__}: {exc})",
            method=request.method,
            path=request.path,
            status=response.status_code,
            body=response.content,
            headers=response.headers,
        ) from exc
