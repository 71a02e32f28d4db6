"""The Redis backend against a real redis-server: windows on a fake clock, sharing, outage."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from nexudus_async import (
    LimiterFallbackEvent,
    NexudusClient,
    PasswordGrant,
    RateLimits,
    RedisRateLimiter,
    Window,
)
from nexudus_async._core import redis_limiter
from nexudus_async._core.events import Event
from nexudus_async._core.limiter import Limiter, account_key
from nexudus_async._core.throttle import RateLimiter
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD
from nexudus_async.testing.server import EmulatorServer

from ..client.conftest import FakeClock
from .redis_server import RedisServer

LIMITS = RateLimits(
    min_interval=0.1, windows=(Window(3, 60.0), Window(2, 60.0, writes_only=True))
).without_safety()


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


def fake(
    server: RedisServer, clock: FakeClock, account: str = "acct", **kw: object
) -> RedisRateLimiter:
    return RedisRateLimiter(
        server.url,
        LIMITS,
        account=account,
        server_clock=clock,
        clock=clock,
        sleep=clock.sleep,
        **kw,  # type: ignore[arg-type]
    )


async def test_it_is_a_limiter_and_so_is_the_in_memory_one(redis_server: RedisServer) -> None:
    async with RedisRateLimiter(redis_server.url, account="a") as limiter:
        assert isinstance(limiter, Limiter)
    assert isinstance(RateLimiter(LIMITS), Limiter)


async def test_spacing_and_windows_on_a_fake_clock(redis_server: RedisServer) -> None:
    clock = FakeClock()
    async with fake(redis_server, clock) as limiter:
        for _ in range(3):
            await limiter.acquire()
        # the 100 ms spacing, doubled once 2 of the minute's 3 are spent (RateLimiter.pressed)
        assert clock.sleeps == [0.1, 0.2]
        await limiter.acquire()
        # 3 per minute: the first must leave the window
        assert clock.sleeps[2:] == [pytest.approx(59.7, abs=1e-5)]
        clock.sleeps.clear()
        await limiter.acquire(write=True)
        await limiter.acquire(write=True)
        await limiter.acquire(write=True)
        # the minute's window still holds 2 of 3 (doubled spacing); 2 writes per
        # minute: the third write waits for the first write (at +0.2) to leave
        assert clock.sleeps == [0.2, 0.2, pytest.approx(59.8, abs=1e-5)]
        assert limiter.acquired == 7 and not limiter.using_fallback


async def test_processes_of_one_account_share_the_windows_others_do_not(
    redis_server: RedisServer,
) -> None:
    clock = FakeClock()
    async with (
        fake(redis_server, clock) as one,
        fake(redis_server, clock) as two,
        fake(redis_server, clock, account="other") as other,
    ):
        await one.acquire()
        await two.acquire()  # the same account: spaced after one's request
        assert clock.sleeps == [0.1]
        await other.acquire()  # another account: its own windows
        assert clock.sleeps == [0.1]


async def test_a_throttle_seen_by_one_pauses_all_and_widens_the_spacing(
    redis_server: RedisServer,
) -> None:
    clock = FakeClock()
    async with fake(redis_server, clock) as one, fake(redis_server, clock) as two:
        await one.acquire()
        await one.report_throttled(2.5)
        await two.acquire()
        assert clock.sleeps == [2.5]
        clock.sleeps.clear()
        await one.acquire()
        step = LIMITS.effective().widen_step
        # 0.1 widened by a step, plus 0.1 more: 2 of the minute's 3 are spent
        assert clock.sleeps == [pytest.approx(0.2 + step, abs=1e-6)]


async def test_a_slow_redis_round_trip_widens_the_spacing(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    async with fake(redis_server, clock) as limiter:
        script = redis_limiter._ACQUIRE

        async def slow(*args: object) -> object:
            answer = await script(*args)  # type: ignore[arg-type]
            clock.now += 0.004  # the answer comes back 4 ms after Redis decided
            return answer

        monkeypatch.setattr(redis_limiter, "_ACQUIRE", slow)
        await limiter.acquire()
        await limiter.acquire()
        # the request leaves 4 ms after its slot: the spacing asked of Redis
        # grows by twice that (0.1 - 0.004 without it)
        assert clock.sleeps == [pytest.approx(0.104, abs=1e-5)]


async def test_the_script_is_loaded_again_after_the_server_lost_it(
    redis_server: RedisServer, raw: redis.asyncio.Redis
) -> None:
    clock = FakeClock()
    async with fake(redis_server, clock) as limiter:
        await limiter.acquire()
        await raw.script_flush()
        clock.now += 1
        await limiter.acquire()
        assert limiter.acquired == 2 and not limiter.using_fallback


async def test_keys_name_the_account_by_hash_never_by_secret(
    nexudus_emulator: EmulatorServer, redis_server: RedisServer, raw: redis.asyncio.Redis
) -> None:
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    scale = nexudus_emulator.config.time_scale
    async with (
        RedisRateLimiter(redis_server.url, RateLimits.published().scaled(scale)) as limiter,
        NexudusClient(nexudus_emulator.base_url, auth, rate_limiter=limiter) as client,
    ):
        await client.coworker_time_passes.list()
        assert client.limiter is limiter
        keys = await raw.keys("*")
        (state,) = (k for k in keys if k.endswith(":state"))
        (members,) = (k for k in keys if k.endswith(":members"))
        heartbeats = await raw.zrange(members, 0, -1)
        dump = json.dumps([keys, await raw.hgetall(state), heartbeats])
        with pytest.raises(ValueError, match="another account"):
            limiter.bind_account("somebody-else")
    account = account_key(nexudus_emulator.base_url, DEFAULT_ADMIN_EMAIL)
    # (the token request is a POST: it counts as a write)
    assert sorted(keys) == [
        f"nexudus-async:{{{account}}}:{k}" for k in ("all", "members", "state", "writes")
    ]
    assert len(heartbeats) == 1 and len(heartbeats[0]) == 16  # a random name, nothing else
    for secret in (*auth.secrets(), DEFAULT_ADMIN_EMAIL):
        assert secret not in dump
    assert "redis" in repr(limiter) and DEFAULT_ADMIN_PASSWORD not in repr(limiter)


async def test_a_client_takes_either_limits_or_a_limiter(redis_server: RedisServer) -> None:
    async with RedisRateLimiter(redis_server.url) as limiter:
        with pytest.raises(ValueError, match="either rate_limits or rate_limiter"):
            NexudusClient(auth=None, rate_limits=None, rate_limiter=limiter)
        with pytest.raises(TypeError, match="Limiter protocol"):
            NexudusClient(auth=None, rate_limiter=object())  # type: ignore[arg-type]


_WORKER = """
import asyncio, sys
from nexudus_async import RateLimits, RedisRateLimiter
async def main():
    limits = RateLimits.published().scaled(0.02)
    async with RedisRateLimiter(sys.argv[1], limits, account="shared") as limiter:
        for i in range(int(sys.argv[2])):
            await asyncio.wait_for(limiter.acquire(write=i % 2 == 0), 30)
    print("ok", limiter.acquired, limiter.fallbacks)
asyncio.run(main())
"""


def _run_workers(url: str, workers: int, per_worker: int) -> list[str]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, str(per_worker)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        return [p.communicate(timeout=60)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=5)


async def test_processes_together_stay_under_the_limits(
    redis_server: RedisServer, raw: redis.asyncio.Redis
) -> None:
    per_worker, workers = 20, 3
    outs = await asyncio.to_thread(_run_workers, redis_server.url, workers, per_worker)
    assert outs == [f"ok {per_worker} 0\n"] * workers
    key = "nexudus-async:{shared}:"
    sent = [s for _, s in await raw.zrange(key + "all", 0, -1, withscores=True)]
    writes = [s for _, s in await raw.zrange(key + "writes", 0, -1, withscores=True)]
    assert len(sent) == per_worker * workers and len(writes) == per_worker * workers // 2
    ref = RateLimits.published().scaled(0.02).effective()
    interval_us = ref.interval * 1e6
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= interval_us - 1  # spaced on Redis's clock, whichever process sent
    for times, windows in ((sent, ref.all_windows), (writes, ref.write_windows)):
        for limit, period in windows:
            for i in range(len(times) - limit):
                assert times[i + limit] - times[i] >= period * 1e6 - 1


async def test_an_outage_falls_back_with_one_warning_and_comes_back(
    nexudus_emulator: EmulatorServer,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[Event] = []
    scale = nexudus_emulator.config.time_scale
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    limiter = RedisRateLimiter(
        redis_server.url,
        RateLimits.published().scaled(scale),
        op_timeout=0.5,
        retry_after=0.05,
        on_event=seen.append,
    )
    caplog.set_level(logging.INFO, logger="nexudus_async")
    async with limiter, NexudusClient(nexudus_emulator.base_url, auth, rate_limiter=limiter) as c:
        ctp = c.coworker_time_passes
        async with asyncio.timeout(30):
            await asyncio.gather(*(ctp.list() for _ in range(5)))
            redis_server.stop()  # mid-run
            await asyncio.gather(*(ctp.list() for _ in range(10)))
            assert limiter.using_fallback
            await asyncio.sleep(0.1)  # past retry_after: Redis is tried again, still down
            await asyncio.gather(*(ctp.list() for _ in range(5)))
            redis_server.start()
            await asyncio.sleep(0.1)
            for _ in range(3):  # bounded: the first acquire past retry_after reconnects
                await ctp.list()
    route = "GET /api/billing/coworkertimepasses"
    assert nexudus_emulator.stats.by_route[route] >= 23  # nothing lost
    assert limiter.acquired == nexudus_emulator.stats.requests  # every request was limited
    assert not limiter.using_fallback and limiter.fallbacks == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis unreachable" in warnings[0].getMessage()
    assert DEFAULT_ADMIN_PASSWORD not in caplog.text
    assert [(e.reachable) for e in seen if isinstance(e, LimiterFallbackEvent)] == [False, True]
