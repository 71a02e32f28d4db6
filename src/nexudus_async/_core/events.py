"""Typed events the client reports to ``NexudusClient(on_event=...)``, for metrics and tracing.

The hook is called synchronously from the request loop: keep it fast (count,
log, put on a queue). An exception it raises is logged and swallowed, never
passed to the call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import attrs

__all__ = [
    "Event",
    "EventHook",
    "LimiterFallbackEvent",
    "LimiterWaitEvent",
    "RequestEvent",
    "RetryEvent",
    "ThrottleEvent",
    "emit",
]

logger = logging.getLogger("nexudus_async")


@attrs.frozen(slots=True)
class Event:
    """Base class of every event."""


@attrs.frozen(slots=True)
class RequestEvent(Event):
    """An event about one request: its method and path (never the query string)."""

    method: str
    path: str


@attrs.frozen(slots=True)
class LimiterWaitEvent(RequestEvent):
    """A request waited for the client-side rate limiter before it was sent."""

    seconds: float
    write: bool


@attrs.frozen(slots=True)
class ThrottleEvent(RequestEvent):
    """The API throttled a request (409/429); everybody pauses for ``seconds``."""

    status: int
    seconds: float
    attempt: int
    """The attempt that will follow the wait (2 for the first resend)."""


@attrs.frozen(slots=True)
class RetryEvent(RequestEvent):
    """A request is resent after a transient failure, in ``seconds``."""

    reason: str
    """``"connection"``, ``"timeout"``, ``"status"`` or ``"malformed"``."""
    status: int | None
    seconds: float
    attempt: int


@attrs.frozen(slots=True)
class LimiterFallbackEvent(Event):
    """A shared limiter's backend (Redis) became unreachable (``reachable=False``)
    and the local limiter took over, or it became reachable again."""

    reachable: bool
    detail: str


EventHook = Callable[[Event], None]


def emit(hook: EventHook | None, event: Event) -> None:
    if hook is None:
        return
    try:
        hook(event)
    except Exception:
        logger.exception("the on_event hook raised; ignored")
