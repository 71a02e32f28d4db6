"""The typed errors every call of the client can raise.

One hierarchy under :class:`NexudusError`. An error about an answer of the API
carries the HTTP status, the API's own message, the request's method and path
(never its query string or headers) and, for validation failures, the
per-field errors. Messages never contain credentials: the pipeline redacts
every secret its auth knows about before an error is built.

::

    NexudusError
    ├── InputError (also ValueError)        bad input, nothing was sent
    ├── TransportError                      no usable answer (connection failed or dropped)
    │   ├── RequestTimeoutError (also TimeoutError)
    │   ├── TLSError                        the server's certificate is not trusted: never retried
    │   └── ProxyError                      the proxy refused the tunnel for good (407, 403)
    ├── OutcomeUnknownError                 a POST may or may not have been executed
    └── APIError                            the API answered with a failure
        ├── ValidationError                 400 (or 5xx carrying field errors)
        ├── AuthenticationError             401
        ├── PermissionDeniedError           403
        ├── NotFoundError                   404
        ├── ThrottledError                  409/429 after the retries ran out
        ├── ServerError                     5xx after the retries ran out
        ├── UnsuccessfulResponseError       200 with ``WasSuccessful: false``
        ├── MalformedResponseError          a body that is not what the API sends
        └── UnexpectedStatusError           any other status
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = [
    "APIError",
    "AuthenticationError",
    "FieldError",
    "FieldsClearedWarning",
    "InputError",
    "MalformedResponseError",
    "NexudusError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "ProxyError",
    "RequestTimeoutError",
    "ServerError",
    "TLSError",
    "ThrottledError",
    "TransportError",
    "UnexpectedStatusError",
    "UnsuccessfulResponseError",
    "ValidationError",
    "error_for_status",
    "field_errors_from_body",
]


@attrs.frozen(slots=True)
class FieldError:
    """One entry of the API's ``Errors[]``: which property was rejected, and why."""

    property_name: str
    """The API's property name, for example ``CreateMultiple``."""
    message: str
    """The API's message for that property, for example ``may not be null or empty``."""
    attempted_value: Any = None
    """The value the API rejected (any JSON value)."""

    def __str__(self) -> str:
        return f"{self.property_name}: {self.message}"


class NexudusError(Exception):
    """Base class of every error raised by ``nexudus_async``.

    Attributes:
        message: A human-readable description (never contains credentials).
        method: The HTTP method of the request, when one was involved.
        path: The request path (without its query string), when one was involved.
        status: The HTTP status of the answer, when there was one.
        api_message: The API's own ``Message``, when it sent one.
    """

    message: str
    method: str | None
    path: str | None
    status: int | None
    api_message: str | None

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        api_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.api_message = api_message

    def __str__(self) -> str:
        where = f"{self.method} {self.path}" if self.method and self.path else None
        parts = [self.message]
        if where:
            parts.append(f"[{where}" + (f" -> {self.status}]" if self.status else "]"))
        return " ".join(parts)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[NexudusError], message: str, state: dict[str, Any]) -> NexudusError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class InputError(NexudusError, ValueError):
    """An argument was rejected before anything was sent.

    Attributes:
        field: The name of the argument (as the caller spelled it).
        value: The rejected value.
    """

    field: str
    value: Any

    def __init__(self, field: str, value: Any, reason: str) -> None:
        super().__init__(f"invalid {field}={value!r}: {reason}")
        self.field = field
        self.value = value


class TransportError(NexudusError):
    """No usable answer: the connection failed or dropped (after any retries).

    Attributes:
        connected: Whether a usable connection was made (to the server, or to
            the proxy). False: refused, no such host, unreachable, the TLS
            handshake failed, or connecting timed out.
        may_have_reached_server: Whether the request may have reached the
            server (and so may have been executed). False: it certainly never
            left this machine or the proxy.
    """

    connected: bool
    may_have_reached_server: bool

    def __init__(
        self,
        message: str,
        *,
        connected: bool = True,
        may_have_reached_server: bool = True,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status)
        self.connected = connected
        self.may_have_reached_server = may_have_reached_server


class RequestTimeoutError(TransportError, TimeoutError):
    """The request timed out (after any retries)."""


class TLSError(TransportError):
    """The TLS connection could not be made safely: a permanent failure, not retried.

    Nothing was sent. Another attempt would meet the same certificate, so the
    first one raises. ``__cause__`` keeps the underlying error for a debug log.

    Attributes:
        host: The server's host name (or address), as the base URL names it.
        port: Its port.
        problem: What is wrong: ``"expired"``, ``"not_yet_valid"``,
            ``"wrong_name"`` (the certificate is for another host),
            ``"unknown_authority"`` (signed by an authority this machine does
            not trust: a company proxy's, a self-signed one), ``"rejected"``
            (another certificate failure) or ``"handshake"`` (no TLS
            connection at all, for example a plain-http server).
        summary: What is wrong, naming the host, without the advice that
            ``message`` adds (a command line gives its own).
    """

    host: str
    port: int | None
    problem: str
    summary: str

    def __init__(
        self,
        message: str,
        *,
        host: str,
        port: int | None,
        problem: str,
        summary: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(
            message, connected=False, may_have_reached_server=False, method=method, path=path
        )
        self.host = host
        self.port = port
        self.problem = problem
        self.summary = summary if summary is not None else message


class ProxyError(TransportError):
    """The proxy refused the tunnel to the API for good (407: credentials missing or wrong;
    403: its policy). Nothing was sent; not retried.

    Attributes:
        proxy: The proxy's URL (never with its credentials).
        status: The proxy's answer (407 or 403).
    """

    proxy: str

    def __init__(
        self,
        message: str,
        *,
        proxy: str,
        status: int,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        # The proxy answered (a connection was made), but nothing went past it.
        super().__init__(
            message, may_have_reached_server=False, method=method, path=path, status=status
        )
        self.proxy = proxy


class OutcomeUnknownError(NexudusError):
    """A request that is not safe to repeat may or may not have been executed.

    Raised for a POST (create, run command) when the connection dropped after
    the request was sent, it timed out, or the API answered a 5xx or an
    unreadable body. It is never resent automatically: creating twice is worse
    than not creating. Check the server (for example list by customer and
    creation date) before trying again.

    Attributes:
        cause: What happened (the transport error or the API error).
    """

    cause: BaseException | None

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        api_message: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status, api_message=api_message)
        self.cause = cause


class APIError(NexudusError):
    """The API answered, with a failure.

    Attributes:
        errors: The per-field errors of the API's ``Errors[]`` (may be empty).
        body: The raw response body (for diagnostics).
        headers: The response headers.
        after_uncertain_attempt: An earlier attempt of the same request failed
            in a way that may have executed it (its answer was lost), so this
            answer may describe the state that attempt left (for example a
            404 to a DELETE whose first attempt deleted the record).
    """

    errors: tuple[FieldError, ...]
    body: bytes
    headers: Mapping[str, str]
    after_uncertain_attempt: bool = False

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        api_message: str | None = None,
        errors: Sequence[FieldError] = (),
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status, api_message=api_message)
        self.errors = tuple(errors)
        self.body = body
        self.headers = dict(headers or {})


class ValidationError(APIError):
    """The API rejected the data (HTTP 400; some API versions send it with 500).

    ``errors`` holds one :class:`FieldError` per rejected property.
    """


class AuthenticationError(APIError):
    """HTTP 401: wrong or expired credentials (after one token refresh, if possible)."""


class PermissionDeniedError(APIError):
    """HTTP 403: the user lacks the role the operation needs."""


class NotFoundError(APIError):
    """HTTP 404: no record with that Id."""


class ThrottledError(APIError):
    """HTTP 409 or 429 still answered after the allowed waits and resends.

    A throttled request was not executed, so it is always safe to send again.

    Attributes:
        retry_after: The wait (seconds) the API asked for, if it said.
    """

    retry_after: float | None

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(APIError):
    """HTTP 5xx still answered after the retries ran out."""


class UnsuccessfulResponseError(APIError):
    """The API answered a success status with ``WasSuccessful: false``."""


class MalformedResponseError(APIError):
    """The body could not be read as the answer the API documents."""


class UnexpectedStatusError(APIError):
    """An HTTP status the API does not document for this operation."""


class FieldsClearedWarning(UserWarning):
    """``update()`` is about to clear fields the record read back did not have.

    A PUT replaces the whole record: a property it does not carry is cleared.
    When the full record read back lacks a writable property (the live GET
    omits some, such as ``PurchaseOrder``), the update cannot send its value
    back. Pass such fields to ``update()`` yourself to keep (or set) them.

    Attributes:
        entity: The entity's name (``CoworkerTimePass``).
        id: The record's Id.
        fields: The Python names of the fields the PUT will clear.
    """

    entity: str
    id: int
    fields: tuple[str, ...]

    def __init__(self, entity: str, id: int, fields: Sequence[str], json_names: Sequence[str]):
        self.entity = entity
        self.id = id
        self.fields = tuple(fields)
        keep = ", ".join(f"{name}=..." for name in self.fields)
        them = "it" if len(self.fields) == 1 else "them"
        super().__init__(
            f"{entity} {id} was read back without {', '.join(json_names)}: the PUT replaces "
            f"the whole record and will clear {them}; to keep {them}, pass {them} to "
            f"update() ({keep})"
        )


# --------------------------------------------------------------------------- mapping


def field_errors_from_body(data: Any) -> tuple[FieldError, ...]:
    """Read the API's ``Errors[]`` (tolerating missing or odd entries)."""
    if not isinstance(data, Mapping):
        return ()
    raw = data.get("Errors")
    if not isinstance(raw, list):
        return ()
    out: list[FieldError] = []
    for item in raw:
        if isinstance(item, Mapping):
            out.append(
                FieldError(
                    property_name=str(item.get("PropertyName") or ""),
                    message=str(item.get("Message") or ""),
                    attempted_value=item.get("AttemptedValue"),
                )
            )
    return tuple(out)


def api_message_from_body(data: Any) -> str | None:
    """The API's ``Message`` (or OAuth ``error_description``/``error``) if there is one.

    A body that is a JSON string is the message itself (older reference pages
    answer a missing record with 404 and ``"Not found"``).
    """
    if isinstance(data, str):
        return data.strip() or None
    if isinstance(data, Mapping):
        for key in ("Message", "error_description", "error"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
    return None


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ThrottledError,
    429: ThrottledError,
}

_STATUS_TEXT: dict[type[APIError], str] = {
    ValidationError: "the API rejected the request",
    AuthenticationError: "authentication failed",
    PermissionDeniedError: "permission denied",
    NotFoundError: "not found",
    ThrottledError: "throttled by the API",
    ServerError: "server error",
    UnexpectedStatusError: "unexpected HTTP status",
}


def error_for_status(
    status: int,
    *,
    method: str,
    path: str,
    data: Any,
    body: bytes,
    headers: Mapping[str, str],
    redact: Any = None,
) -> APIError:
    """Build the error for a failed answer; ``redact`` scrubs secrets from text."""
    cls: type[APIError]
    errors = field_errors_from_body(data)
    if status in _STATUS_CLASSES:
        cls = _STATUS_CLASSES[status]
    elif status >= 500:
        # One documented example sends validation failures with status 500.
        cls = ValidationError if errors else ServerError
    else:
        cls = UnexpectedStatusError
    api_message = api_message_from_body(data)
    if redact is not None:
        # The answer may echo what was sent (a token endpoint: the form body).
        if api_message is not None:
            api_message = redact(api_message)
        body = redact(body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        errors = tuple(
            attrs.evolve(
                e,
                message=redact(e.message),
                attempted_value=redact(e.attempted_value)
                if isinstance(e.attempted_value, str)
                else e.attempted_value,
            )
            for e in errors
        )
    text = _STATUS_TEXT.get(cls, "request failed")
    if api_message:
        text = f"{text}: {api_message}"
    if errors and not api_message:
        text = f"{text}: " + "; ".join(str(e) for e in errors)
    return cls(
        text,
        method=method,
        path=path,
        status=status,
        api_message=api_message,
        errors=errors,
        body=body,
        headers=headers,
    )
