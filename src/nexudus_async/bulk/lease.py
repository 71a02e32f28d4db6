"""One runner per job across hosts: a lease in Redis, renewed while the job runs.

The ``flock`` of :mod:`.lock` holds on one machine. When the client shares
its rate limits through Redis (:class:`~nexudus_async._core.redis_limiter.
RedisRateLimiter`), a job also holds ``<prefix>:{<account>}:job:<identity>``:
set only if absent, with an expiry (``ttl``), renewed every third of it by the
holder alone, and deleted by the holder at the end. A holder that dies stops
renewing, and the lease expires ``ttl`` seconds later.

A renewal that finds the lease gone or taken, or that cannot reach Redis
before the lease would expire, calls ``on_lost``: the job stops starting
requests, since another host may now take the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from .lock import Holder, JobLockedError, JobLockError

__all__ = ["LEASE_TTL", "RedisLease"]

log = logging.getLogger("nexudus_async.bulk")

LEASE_TTL = 30.0
"""Seconds a lease outlives its last renewal (how long a dead holder blocks the job)."""

# KEYS: the lease. ARGV: our value, ttl ms. 1 if we hold it (and it was extended).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS: the lease. ARGV: our value. Deletes it only if it is ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisLease:
    """A job's lease in Redis (see the module's documentation)."""

    def __init__(
        self,
        redis: Any,
        key: str,
        holder: Holder,
        *,
        ttl: float = LEASE_TTL,
        op_timeout: float = 2.0,
    ) -> None:
        if ttl <= 0 or op_timeout <= 0:
            raise ValueError("ttl and op_timeout must be positive")
        self.redis = redis
        self.key = key
        self.holder = holder
        self.value = holder.to_json()
        self.ttl = ttl
        self.op_timeout = op_timeout
        self._renewer: asyncio.Task[None] | None = None

    async def _call(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            async with asyncio.timeout(self.op_timeout):
                return await call()
        except (TimeoutError, OSError, ConnectionError) as exc:
            raise JobLockError(self.key, f"Redis: cannot {what}: {exc}", temporary=True) from exc
        except Exception as exc:  # redis-py's own errors (ConnectionError, ...)
            if type(exc).__module__.startswith("redis"):
                raise JobLockError(
                    self.key, f"Redis: cannot {what}: {exc}", temporary=True
                ) from exc
            raise

    async def acquire(self, on_lost: Callable[[str], None]) -> None:
        """Take the lease and renew it in the background; ``JobLockedError`` if held."""
        ms = int(self.ttl * 1000)
        taken = await self._call(
            "take the job's lease",
            lambda: self.redis.set(self.key, self.value, nx=True, px=ms),
        )
        if not taken:
            other = await self._call("read the job's lease", lambda: self.redis.get(self.key))
            text = other.decode() if isinstance(other, bytes) else str(other or "")
            raise JobLockedError(self.holder.job, Holder.from_json(text), where=" on another host")
        self._renewer = asyncio.create_task(self._renew(on_lost))

    async def _renew(self, on_lost: Callable[[str], None]) -> None:
        held_until = time.monotonic() + self.ttl
        ms = int(self.ttl * 1000)
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                ok = await self._call(
                    "renew the job's lease",
                    lambda: self.redis.eval(_RENEW, 1, self.key, self.value, ms),
                )
            except JobLockError as exc:
                if time.monotonic() + self.ttl / 3 < held_until:
                    log.warning("%s; trying again", exc)
                    continue  # still ours for a while: try again at the next turn
                on_lost(f"the job's lease in Redis could not be renewed ({exc})")
                return
            if not ok:
                on_lost("the job's lease in Redis expired or was taken by another run")
                return
            held_until = time.monotonic() + self.ttl

    async def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours (best effort)."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        with contextlib.suppress(JobLockError):
            await self._call(
                "release the job's lease",
                lambda: self.redis.eval(_RELEASE, 1, self.key, self.value),
            )
