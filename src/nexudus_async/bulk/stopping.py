"""Stopping a bulk job: after the stop flag is set, no new request goes out.

The executor checks the flag after a group gets its concurrency slot and
before each create and read. :func:`stop_trace_config` adds the last check,
at the wire: a request that waited in the client's rate limiter (or a
throttled one about to be resent) when the flag was set is not sent at all.

It also tells the executor which requests reached the wire (:class:`WireMark`),
so that once the flag is set a create still waiting in the limiter (for the
daily window: hours) is cancelled at once instead of waited for: it could
only have been refused when its turn came.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .._core.transport import TraceConfig, before_send_hook

__all__ = ["SendingStopped", "WireMark", "guarded", "stop_trace_config", "unless_stopped"]

_T = TypeVar("_T")


class WireMark:
    """Set in a request's context by the executor; ``started`` once it reached the wire."""

    started = False


_mark: contextvars.ContextVar[WireMark | None] = contextvars.ContextVar(
    "nexudus_async_wire_mark", default=None
)
_guarded: weakref.WeakSet[asyncio.Event] = weakref.WeakSet()


def guarded(stop: asyncio.Event) -> bool:
    """Whether a :func:`stop_trace_config` of ``stop`` watches the wire (marks requests)."""
    return stop in _guarded


def watch(mark: WireMark) -> None:
    """Make ``mark`` the current request context's mark (in the task that sends it)."""
    _mark.set(mark)


class SendingStopped(Exception):
    """The job was told to stop before this request went out: it was not sent."""


def stop_trace_config(stop: asyncio.Event) -> TraceConfig:
    """Request hooks that refuse every request once ``stop`` is set, before it connects."""

    async def starting(method: str, path: str) -> None:
        if stop.is_set():
            raise SendingStopped(f"stopping: {method} {path} not sent")
        mark = _mark.get()
        if mark is not None:
            mark.started = True

    _guarded.add(stop)
    return before_send_hook(starting)


async def unless_stopped(stop: asyncio.Event | None, send: Callable[[], Awaitable[_T]]) -> _T:
    """``await send()``; once ``stop`` is set, not waited for while it has not reached the wire.

    Only when a :func:`stop_trace_config` of ``stop`` watches the wire: a request
    that has not reached it by then never will, so cancelling it (in the
    limiter's wait) loses nothing. Raises :class:`SendingStopped` then.
    """
    if stop is None or not guarded(stop):
        return await send()
    mark = WireMark()

    async def marked() -> _T:
        watch(mark)
        return await send()

    sending = asyncio.create_task(marked())
    told = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait((sending, told), return_when=asyncio.FIRST_COMPLETED)
        if not sending.done() and not mark.started:
            sending.cancel()
            with contextlib.suppress(asyncio.CancelledError, SendingStopped):
                await sending
            raise SendingStopped("stopping: held by the rate limiter, not sent")
        return await sending  # on the wire: it finishes (bounded by its timeout)
    finally:
        told.cancel()
        if not sending.done():  # the caller itself was cancelled (abort)
            sending.cancel()
