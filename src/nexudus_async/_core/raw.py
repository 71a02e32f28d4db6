"""Status and headers of a successful answer, for ``client.with_raw_response``.

The resource layer returns parsed models only; the pipeline drops each
successful answer into the sink of the current context (if a caller opened
one), so capturing works whatever method built the request.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import attrs
from multidict import CIMultiDictProxy

from .transport import HttpResponse

__all__ = ["RawResponse", "capture_responses", "record_response"]

T = TypeVar("T")

_SINK: contextvars.ContextVar[list[HttpResponse] | None] = contextvars.ContextVar(
    "nexudus_async_raw_responses", default=None
)


def record_response(response: HttpResponse) -> None:
    sink = _SINK.get()
    if sink is not None:
        sink.append(response)


@contextlib.contextmanager
def capture_responses() -> Iterator[list[HttpResponse]]:
    """Collect every successful answer received in this context (tasks it starts included)."""
    sink: list[HttpResponse] = []
    token = _SINK.set(sink)
    try:
        yield sink
    finally:
        _SINK.reset(token)


@attrs.frozen(slots=True)
class RawResponse(Generic[T]):
    """A call's result with the HTTP answer it came from (the last one, for calls of several)."""

    status: int
    headers: CIMultiDictProxy[str]
    parsed: T
    """What the call returns without ``with_raw_response``."""
    responses: tuple[HttpResponse, ...] = attrs.field(repr=False, default=())
    """Every successful answer of the call, in order (a ``get_many`` may need several)."""


def raw_result(sink: list[HttpResponse], parsed: Any) -> RawResponse[Any]:
    if not sink:
        raise RuntimeError("the call received no answer to show")
    last = sink[-1]
    headers = last.headers
    if not isinstance(headers, CIMultiDictProxy):
        headers = CIMultiDictProxy(headers)
    return RawResponse(last.status_code, headers, parsed, tuple(sink))
