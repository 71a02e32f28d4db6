"""Admission before the limiter: the in-flight bound and the first request's warm-up.

:class:`Gate` bounds how many requests of a client are past it at once
(``max_in_flight``); :class:`Warmup` sends a client's requests one at a time
until its first answer arrives. Both are used by the pipeline only.
"""

from __future__ import annotations

import asyncio
from collections import deque

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

    What ``asyncio.Semaphore`` does (a released place goes straight to the
    first waiter, and nobody overtakes a waiter), with a synchronous
    :meth:`try_enter` so that the usual case, a free place, costs no awaiting.
    While anybody waits, no place is free: so a newcomer never waits while a
    place is free, and never overtakes a waiter.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {size!r}")
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_enter(self) -> bool:
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    async def enter(self) -> None:
        if self.try_enter():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # a place was handed over just before the cancellation: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def leave(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the place goes to the first waiter
                return
        self._free += 1
