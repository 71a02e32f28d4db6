"""Across hosts: a job's lease in Redis, when the client shares its limits there.

Two "hosts" are two clients with their own ``RedisRateLimiter`` on one real
redis-server, each with its own state directory (so this machine's ``flock``
does not see the other): the lease alone keeps the second from sending.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio

from nexudus_async import RedisRateLimiter
from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.throttle import RateLimits
from nexudus_async.bulk import JobLockedError, JobLockError, lease as lease_module
from nexudus_async.bulk.lease import RedisLease
from nexudus_async.bulk.lock import ENV_STATE_DIR, Holder
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    EmulatorServer,
    FaultRule,
    ThrottleLimits,
    run_emulator,
)

from ..limiter.redis_server import RedisServer
from .helpers import distinct_groups, expected_counts, sample_rows, store_counts

SCALE = 0.01
POST_CTP = "POST /api/billing/coworkertimepasses"
HOLD = FaultRule(method="POST", path="/api/billing/coworkertimepasses", kind="latency", latency=0.2)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def _client(emu: EmulatorServer, redis_url: str) -> AsyncIterator[NexudusClient]:
    """A "host": a client whose limiter keeps the account's windows in Redis."""
    limiter = RedisRateLimiter(redis_url, RateLimits.published().scaled(SCALE))
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    client = NexudusClient(base_url=emu.base_url, auth=auth, rate_limiter=limiter)
    async with limiter, client:
        yield client


def _config() -> EmulatorConfig:
    return EmulatorConfig(time_scale=SCALE, faults=[HOLD], limits=ThrottleLimits.off())


async def _first_create(emu: EmulatorServer) -> None:
    for _ in range(3000):  # bounded: 30 s
        if emu.stats.by_route[POST_CTP] > 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no create reached the emulator")


async def test_a_second_host_on_the_same_job_sends_nothing(
    redis_server: RedisServer, raw: redis.asyncio.Redis, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    rows = sample_rows(customers=10, passes=40, seed=8)
    async with (
        run_emulator(_config()) as emu,
        _client(emu, redis_server.url) as a,
        _client(emu, redis_server.url) as b,
    ):
        monkeypatch.setenv(ENV_STATE_DIR, str(tmp_path / "host-a"))
        first = asyncio.create_task(a.coworker_time_passes.bulk_create(rows))
        await _first_create(emu)
        keys = [k async for k in raw.scan_iter("nexudus-async:*:job:*")]
        assert len(keys) == 1 and 0 < await raw.pttl(keys[0]) <= 30_000
        monkeypatch.setenv(ENV_STATE_DIR, str(tmp_path / "host-b"))
        with pytest.raises(JobLockedError) as caught:
            await b.coworker_time_passes.bulk_create(rows)
        report = await first
        assert await raw.exists(keys[0]) == 0  # released at the end
    assert report.ok
    assert emu.stats.by_route[POST_CTP] == distinct_groups(rows)
    assert store_counts(emu.store.all("coworkertimepasses")) == expected_counts(rows)
    assert " is already running on another host: pid " in str(caught.value)


async def test_a_dead_holders_lease_expires_and_a_live_one_is_renewed(
    raw: redis.asyncio.Redis,
) -> None:
    lost: list[str] = []
    alive = RedisLease(raw, "t:{a}:job:1", Holder.me("alive", None), ttl=0.6)
    await alive.acquire(lost.append)
    await asyncio.sleep(1.5)  # more than twice its ttl: renewed meanwhile
    with pytest.raises(JobLockedError):
        await RedisLease(raw, "t:{a}:job:1", Holder.me("other", None), ttl=0.6).acquire(lost.append)
    await alive.release()
    assert lost == []

    dead = RedisLease(raw, "t:{a}:job:2", Holder.me("dead", None), ttl=0.5)
    await dead.acquire(lost.append)
    assert dead._renewer is not None
    dead._renewer.cancel()  # its process died: nobody renews, nobody releases
    successor = RedisLease(raw, "t:{a}:job:2", Holder.me("next", None), ttl=0.5)
    with pytest.raises(JobLockedError) as caught:
        await successor.acquire(lost.append)
    assert caught.value.holder is not None and caught.value.holder.job == "dead"
    for _ in range(100):  # bounded: the lease expires 0.5 s after the last renewal
        try:
            await successor.acquire(lost.append)
            break
        except JobLockedError:
            await asyncio.sleep(0.05)
    else:
        raise AssertionError("the dead holder's lease never expired")
    await successor.release()
    assert lost == []


async def test_a_job_whose_lease_is_taken_stops_starting_requests(
    redis_server: RedisServer, raw: redis.asyncio.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_module, "LEASE_TTL", 0.6)
    rows = sample_rows(customers=30, passes=90, seed=9)
    async with run_emulator(_config()) as emu, _client(emu, redis_server.url) as client:
        job = asyncio.create_task(client.coworker_time_passes.bulk_create(rows, concurrency=1))
        await _first_create(emu)
        (key,) = [k async for k in raw.scan_iter("nexudus-async:*:job:*")]
        await raw.set(key, '{"pid": 1, "host": "elsewhere", "since": "now"}')
        with pytest.raises(JobLockError) as caught:
            await job
        sent = emu.stats.by_route[POST_CTP]
    assert caught.value.temporary
    assert "expired or was taken by another run" in str(caught.value)
    assert sent < distinct_groups(rows)  # it stopped well before the end
    assert await raw.get(key) == '{"pid": 1, "host": "elsewhere", "since": "now"}'  # not deleted
