"""Taking a job before its first request: this machine's locks, then a lease in Redis.

:func:`hold_job` is what :func:`~nexudus_async.bulk.executor.run_bulk` (and
the command line, earlier, before it reads anything) does to make sure a job
has one runner: the ``flock`` locks of :mod:`.lock`, and, when the client's
limiter keeps its windows in Redis, the lease of :mod:`.lease`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from . import lease as _lease
from .lease import RedisLease
from .lock import WAIT_POLL, Holder, JobLock, JobLockedError, job_identity

__all__ = ["hold_job", "job_lock_for"]


def job_lock_for(gateway: Any, job_hash: str, journal: str | None, label: str) -> JobLock:
    """The lock of the job ``job_hash`` sent through ``gateway`` (its account names it)."""
    account = getattr(gateway, "account", None)
    return JobLock(job_identity(account, job_hash), journal=journal, job=label)


async def _take_lease(
    gateway: Any, lock: JobLock, identity: str, *, wait: bool, on_lost: Callable[[str], None]
) -> RedisLease | None:
    limiter = getattr(gateway, "limiter", None)
    redis = getattr(limiter, "redis", None)
    key = getattr(limiter, "key", None)
    if redis is None or not callable(key):
        return None  # not shared through Redis: the guarantee is this machine's
    holder = Holder.me(lock.job, lock.journal)
    lease = RedisLease(redis, key(f"job:{identity}"), holder, ttl=_lease.LEASE_TTL)
    while True:
        try:
            await lease.acquire(on_lost)
            return lease
        except JobLockedError:
            if not wait:
                raise
        await asyncio.sleep(max(WAIT_POLL, lease.ttl / 30))


@contextlib.asynccontextmanager
async def hold_job(
    gateway: Any,
    job_hash: str,
    *,
    journal: str | None,
    label: str,
    lock: JobLock | None = None,
    wait: bool = False,
    on_lost: Callable[[str], None],
) -> AsyncIterator[None]:
    """Hold the job for the block: ``JobLockedError`` if another run holds it (unless
    ``wait``). ``lock``: already held by the caller (it releases it); ``on_lost``: the
    Redis lease was lost while the job ran (it must stop starting requests)."""
    own = lock is None
    held = lock if lock is not None else job_lock_for(gateway, job_hash, journal, label)
    if own:
        await held.acquire(wait=wait)
    try:
        identity = job_identity(getattr(gateway, "account", None), job_hash)
        lease = await _take_lease(gateway, held, identity, wait=wait, on_lost=on_lost)
        try:
            yield
        finally:
            if lease is not None:
                await lease.release()
    finally:
        if own:
            held.release()
