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
import functools
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .._core.transport import TraceConfig, before_send_hook

__all__ = ["SendingStopped", "WireMark", "guarded", "stop_trace_config", "unless_stopped"]

_T = TypeVar("_T")


class WireMark:
    """Set in a request's context by the executor; ``started`` once it reached the wire."""

    started = False
    refused = False
    """Cancelled by the stop before it reached the wire."""


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


class _Watch:
    """The sends of one stop event still waiting for an answer, and ONE task that waits
    for the event for all of them (not a waiter and an ``asyncio.wait`` per send)."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.sends: dict[asyncio.Future[Any], WireMark] = {}
        self.waiter: asyncio.Task[None] | None = None

    def add(self, sending: asyncio.Future[Any], mark: WireMark) -> None:
        self.sends[sending] = mark
        if self.waiter is None or self.waiter.done():  # done: told already, refuse this one too
            self.waiter = asyncio.get_running_loop().create_task(self.refuse_when_told())

    def remove(self, sending: asyncio.Future[Any]) -> None:
        del self.sends[sending]
        if not self.sends and self.waiter is not None:  # the waiter ends with the last send
            self.waiter.cancel()
            self.waiter = None

    async def refuse_when_told(self) -> None:
        await self.stop.wait()
        for sending, mark in list(self.sends.items()):
            if not mark.started:
                mark.refused = True
                sending.cancel()


_watches: weakref.WeakKeyDictionary[asyncio.Event, _Watch] = weakref.WeakKeyDictionary()


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
    watcher = _watches.get(stop)
    if watcher is None:
        watcher = _watches[stop] = _Watch(stop)
    watcher.add(sending, mark)
    # Waited for through a future of its own: a caller cancelled (abort) gets
    # CancelledError whatever the send then does, and the send is cancelled below.
    ended = asyncio.get_running_loop().create_future()
    sending.add_done_callback(functools.partial(_resolve, ended))
    try:
        await ended
        if mark.refused:
            with contextlib.suppress(asyncio.CancelledError, SendingStopped):
                await sending
            raise SendingStopped("stopping: held by the rate limiter, not sent")
        return await sending  # on the wire when told: it finished (bounded by its timeout)
    finally:
        watcher.remove(sending)
        if not sending.done():  # the caller itself was cancelled (abort)
            sending.cancel()


def _resolve(ended: asyncio.Future[None], _sending: asyncio.Future[Any]) -> None:
    if not ended.done():  # cancelled with its caller
        ended.set_result(None)
