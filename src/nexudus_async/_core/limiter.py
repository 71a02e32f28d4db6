"""What the pipeline needs from a rate limiter, whatever keeps its windows.

:class:`~nexudus_async._core.throttle.RateLimiter` keeps them in this
process's memory (the default); :class:`~nexudus_async._core.redis_limiter.
RedisRateLimiter` keeps them in Redis, shared by every process and host of an
account. The pipeline only calls the methods below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from .throttle import RateLimits

__all__ = ["Limiter", "account_key"]


@runtime_checkable
class Limiter(Protocol):
    """A client-side rate limiter, shared by every call of a client and its views."""

    # pragma: no mutate block - nothing here runs, and the methods mutmut would add to a
    # runtime-checkable protocol make isinstance() refuse every real limiter
    @property
    def limits(self) -> RateLimits | None:
        """The limits kept (None: no limiting)."""
        ...

    def try_acquire(self, *, write: bool = False) -> bool:
        """Take a slot now without awaiting, if one is free; False means ``await acquire``.

        A limiter that cannot decide without I/O always answers False.
        """
        ...

    async def acquire(self, *, write: bool = False) -> None:
        """Wait until a read (or a write) may be sent, and count it as sent.

        Cancelling the wait (a call's timeout) must leave the limiter usable.
        """
        ...

    async def report_throttled(self, wait: float) -> None:
        """The API throttled a request: nobody may send for ``wait`` seconds,
        and requests are spaced wider for a while (the adaptive widening)."""
        ...

    async def prime(
        self, sent_at: Iterable[float], *, write: bool = True, now: float | None = None
    ) -> int:
        """Count requests sent before this limiter existed (an earlier run's, from its journal).

        ``sent_at`` are Unix times (``time.time()``; ``now`` is the current
        one, by default ``time.time()``). The API's hourly and daily windows
        remember them, so a rerun after a crash must too. Per window, only
        what the limiter does not count yet is added: priming twice, or with
        requests it saw itself, adds nothing. Returns how many were added.
        """
        ...

    def bind_account(self, account: str) -> None:
        """Called by the client with :func:`account_key` of its base URL and user.

        A limiter shared between processes keys its state by it; the in-memory
        limiter ignores it.
        """
        ...


def account_key(base_url: str, user: str | None) -> str:
    """A stable, non-secret name for an account: a hash of the base URL and the user.

    The limits belong to the account; the user's email names it, and no
    password or token ever goes into the key.
    """
    digest = hashlib.sha256(f"{base_url.rstrip('/')}\0{user or ''}".encode()).hexdigest()
    return digest[:24]
