"""Admission before the limiter: the in-flight bound and the first request's warm-up.

:class:`Gate` bounds how many requests of a client are past it at once
(``max_in_flight``); :class:`Warmup` sends a client's requests one at a time
until its first answer arrives. Both are used by the pipeline only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["Gate", "Warmup"]


class Warmup:
    """Until a client's first answer arrives, its requests go one at a time.

    The first request pays for the first connection (and TLS handshake), so a
    request released right after it could overtake it and reach the server
    too soon after it; and with wrong credentials one 401 is enough.
    """

    __slots__ = ("done", "event", "leading")

    def __init__(self) -> None:
        self.done = False
        self.leading = False
        self.event = asyncio.Event()


class Gate:
    """At most ``size`` requests past this point at once; the others wait, first come first served.

    An :class:`asyncio.Semaphore` (its waiters are served in order, a
    cancelled waiter passes on a place handed to it, and nobody overtakes a
    waiter) under the names the pipeline uses; ``enter`` and ``full`` are bound to
    it directly, and the pipeline's usual case (``try_enter``, ``leave``) reads its
    counter without a coroutine or a scan of its waiters:

    * ``await gate.enter()``: take a place, waiting if none is free; while one
      is free it returns without suspending.
    * ``gate.full()``: whether :meth:`enter` would wait (no place free, or
      somebody waits already).
    * ``gate.try_enter()``: take a place if one is free and nobody waits, without
      suspending; False when :meth:`enter` should be awaited instead.
    * ``gate.leave()``: give the place back (to the first waiter, if any).
    """

    __slots__ = ("_semaphore", "enter", "full")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {size!r}")
        self._semaphore = semaphore = asyncio.Semaphore(size)
        self.enter: Callable[[], Coroutine[Any, Any, bool]] = semaphore.acquire
        self.full: Callable[[], bool] = semaphore.locked

    def try_enter(self) -> bool:
        # What Semaphore.acquire does before it would wait, without its coroutine, and
        # without locked()'s scan of the waiters (any waiter at all: False, enter() sorts
        # out cancelled ones).
        semaphore = self._semaphore
        if semaphore._value > 0 and not semaphore._waiters:
            semaphore._value -= 1
            return True
        return False

    def leave(self) -> None:
        semaphore = self._semaphore
        if semaphore._waiters:
            semaphore.release()  # hands the place to the first waiter
        else:
            semaphore._value += 1  # what release() does when nobody waits
