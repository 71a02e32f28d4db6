"""Admission before the limiter: the in-flight bound and the first request's warm-up.

:class:`Gate` bounds how many requests of a client are past it at once
(``max_in_flight``); :class:`Warmup` sends a client's requests one at a time
until its first answer arrives. Both are used by the pipeline only.
"""

from __future__ import annotations

import asyncio

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
    waiter) under the names the pipeline uses. :meth:`enter` does not
    suspend while a place is free, so the usual case costs no trip through
    the event loop.
    """

    __slots__ = ("_semaphore",)

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {size!r}")
        self._semaphore = asyncio.Semaphore(size)

    def full(self) -> bool:
        """Whether :meth:`enter` would wait (no place free, or somebody waits already)."""
        return self._semaphore.locked()

    async def enter(self) -> None:
        await self._semaphore.acquire()

    def leave(self) -> None:
        self._semaphore.release()
