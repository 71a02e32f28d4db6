"""What an answer (or a failed attempt) means, as the typed error a caller sees.

The request loop (:mod:`nexudus_async._core.pipeline`) decides whether to
resend; these build the error it raises: from a failure status, a throttled
answer, a success answer whose body says otherwise or cannot be read, a
:class:`~nexudus_async._core.transport.SendError`, or a request that may have
been executed and is not resent. Every text the API or aiohttp wrote passes
through ``redact`` first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from .call import Call
from .errors import (
    APIError,
    MalformedResponseError,
    NexudusError,
    OutcomeUnknownError,
    RequestTimeoutError,
    ThrottledError,
    TransportError,
    UnsuccessfulResponseError,
    api_message_from_body,
    error_for_status,
    field_errors_from_body,
)
from .transport import HttpResponse, SendError, loads

__all__ = [
    "failure_error",
    "outcome_unknown",
    "status_error",
    "throttled_error",
    "unknown_after_failure",
    "unreadable_success",
]

logger = logging.getLogger("nexudus_async")

Redact = Callable[[str], str]

_URL_QUERY = re.compile(r"(https?://[^\s?#]+)\?[^\s#]*")

_ANSWERED_WITH_THE_ENVELOPE = frozenset({"PUT", "DELETE"})
"""Idempotent writes, which the API answers with the action-result envelope.

A success status with an empty or non-JSON body to one of them (a proxy, a
cut answer) says nothing about what happened; resending is safe, so it is
resent like any other unreadable answer. A POST's such answer is left to the
caller (OutcomeUnknownError: never resent).
"""


_JSON_STARTS = (b"{", b"[", b'"')


def _is_json(response: HttpResponse) -> bool:
    # The body's first byte first: it settles the usual JSON answer without a header lookup
    # (a JSON string too: the older pages' 404 answers "Not found", quotes included).
    if response.content[:1] in _JSON_STARTS:
        return True
    return "json" in response.headers.get("Content-Type", "").lower()


def _json_or_none(response: HttpResponse) -> Any:
    if not response.content or not _is_json(response):
        return None
    try:
        return loads(response.content)
    except ValueError:
        return None


def status_error(response: HttpResponse, call: Call, redact: Redact) -> APIError:
    """The error for a failure status (or a transient one after the resends)."""
    return error_for_status(
        response.status_code,
        method=call.method,
        path=call.path,
        data=_json_or_none(response),
        body=response.content,
        headers=response.headers,
        redact=redact,
    )


def throttled_error(response: HttpResponse, call: Call, asked: float | None) -> ThrottledError:
    wait = f"; the API asks to wait {asked:g}s" if asked is not None else ""
    return ThrottledError(
        f"still throttled ({response.status_code}) after the allowed waits{wait}",
        retry_after=asked,
        method=call.method,
        path=call.path,
        status=response.status_code,
        body=response.content,
        headers=response.headers,
    )


def _malformed(response: HttpResponse, call: Call, text: str) -> MalformedResponseError:
    return MalformedResponseError(
        text,
        method=call.method,
        path=call.path,
        status=response.status_code,
        body=response.content,
        headers=response.headers,
    )


def unreadable_success(
    response: HttpResponse, call: Call, redact: Redact
) -> MalformedResponseError | None:
    """Raise for ``WasSuccessful: false``; return the error for an unreadable body."""
    if response.status_code == 204:
        return None
    content = response.content
    if content[:1] not in _JSON_STARTS and (not content or not _is_json(response)):
        if call.method not in _ANSWERED_WITH_THE_ENVELOPE:
            return None  # the caller judges it (a POST's: OutcomeUnknownError)
        kind = response.headers.get("Content-Type", "").split(";")[0].strip()
        return _malformed(
            response,
            call,
            "the API answered an empty body"
            if not response.content
            else f"the API answered a body that is not JSON ({kind or 'no Content-Type'})",
        )
    try:
        data = response.json()
    except ValueError as exc:
        error = _malformed(response, call, "the API answered a body that is not valid JSON")
        error.__cause__ = exc
        return error
    if isinstance(data, dict) and data.get("WasSuccessful") is False:
        raise _unsuccessful(response, call, data, redact)
    return None


def _unsuccessful(
    response: HttpResponse, call: Call, data: dict[str, Any], redact: Redact
) -> UnsuccessfulResponseError:
    api_message = api_message_from_body(data)
    if api_message is not None:
        api_message = redact(api_message)
    return UnsuccessfulResponseError(
        "the API reported failure (WasSuccessful: false)"
        + (f": {api_message}" if api_message else ""),
        method=call.method,
        path=call.path,
        status=response.status_code,
        api_message=api_message,
        errors=field_errors_from_body(data),
        body=response.content,
        headers=response.headers,
    )


def failure_error(failure: SendError, call: Call, redact: Redact) -> TransportError:
    """The caller's error for an attempt that got no answer (the transport's facts kept)."""
    kind = failure.kind
    if failure.timed_out:
        error: TransportError = RequestTimeoutError(
            "the request timed out" + (f" ({kind})" if kind != "TimeoutError" else ""),
            connected=failure.connected,
            may_have_reached_server=failure.may_have_reached_server,
            method=call.method,
            path=call.path,
        )
    else:
        # aiohttp's messages may hold the URL: keep its path, drop the query string.
        detail = _URL_QUERY.sub(r"\1", redact(failure.detail)) if failure.detail else ""
        error = TransportError(
            f"connection failed ({kind}{': ' + detail if detail else ''})",
            connected=failure.connected,
            may_have_reached_server=failure.may_have_reached_server,
            method=call.method,
            path=call.path,
        )
    error.__cause__ = failure.__cause__
    return error


def unknown_after_failure(error: NexudusError, call: Call) -> OutcomeUnknownError:
    """A transport failure of a request that may have been executed and is not resent."""
    method, path, attempt = call.method, call.path, call.attempt
    logger.warning(
        "%s %s: %s; not resent, the outcome is unknown (attempt %d)",
        method,
        path,
        error.message,
        attempt,
        extra=call.extra(None, attempt, 0.0),
    )
    return OutcomeUnknownError(
        f"the outcome is unknown: {error.message}; the request may "
        "have been executed and was not resent",
        method=method,
        path=path,
        cause=error,
    )


def outcome_unknown(error: NexudusError, call: Call, status: int) -> OutcomeUnknownError:
    """A transient status or an unreadable answer to a request that is not resent."""
    if isinstance(error, MalformedResponseError):
        text = "the API's answer could not be read"
    else:
        text = f"the API answered {status}"
        text += f" ({error.api_message})" if error.api_message else ""
    return OutcomeUnknownError(
        f"the outcome is unknown: {text}; the request may have been executed and was not resent",
        method=call.method,
        path=call.path,
        status=status,
        api_message=error.api_message,
        cause=error,
    )
