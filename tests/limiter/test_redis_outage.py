"""Redis restarted or away: a dropped connection is not an outage, and an outage is shared out.

Against a real ``redis-server`` stopped and started again on the same port.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from nexudus_async import RateLimits, RedisRateLimiter
from nexudus_async._core.throttle import RateLimiter
from nexudus_async.testing.server import EmulatorServer

from .redis_server import RedisServer

LIMITS = RateLimits.published().scaled(0.01)


async def test_connections_the_server_dropped_on_restart_are_not_an_outage(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nexudus_async")
    async with RedisRateLimiter(redis_server.url, LIMITS, account="acct") as limiter:
        # Three operations at once: three pooled connections, all dropped by the restart.
        await asyncio.wait_for(
            asyncio.gather(limiter.acquire(), limiter.acquire(write=True), limiter.acquire()), 10
        )
        redis_server.stop()
        redis_server.start()
        for i in range(6):
            await asyncio.wait_for(limiter.acquire(write=i % 2 == 0), 10)
        assert limiter.fallbacks == 0 and not limiter.using_fallback
    assert "unreachable" not in caplog.text


async def test_each_limiter_keeps_a_heartbeat_and_knows_how_many_share(
    redis_server: RedisServer,
) -> None:
    async with (
        RedisRateLimiter(redis_server.url, LIMITS, account="acct") as a,
        RedisRateLimiter(redis_server.url, LIMITS, account="acct") as b,
        RedisRateLimiter(redis_server.url, LIMITS, account="other") as other,
    ):
        await asyncio.wait_for(a.acquire(), 10)
        assert a.sharers == 1
        await asyncio.wait_for(b.acquire(), 10)
        await asyncio.wait_for(other.acquire(), 10)
        await asyncio.wait_for(a.acquire(), 10)
        assert (a.sharers, b.sharers, other.sharers) == (2, 2, 1)
        assert {a._rank, b._rank} == {0, 1}
        await b.aclose()  # a limiter that leaves withdraws its heartbeat
        await asyncio.wait_for(a.acquire(), 10)
        assert a.sharers == 1


async def test_a_heartbeat_expires_with_its_limiter_s_silence(redis_server: RedisServer) -> None:
    a = RedisRateLimiter(redis_server.url, LIMITS, account="acct", heartbeat=0.2)
    b = RedisRateLimiter(redis_server.url, LIMITS, account="acct", heartbeat=0.2)
    async with a, b:
        await asyncio.wait_for(b.acquire(), 10)
        await asyncio.wait_for(a.acquire(), 10)
        assert a.sharers == 2
        await asyncio.sleep(0.3)  # b sends nothing for longer than its heartbeat lives
        await asyncio.wait_for(a.acquire(), 10)
        assert a.sharers == 1


async def test_during_an_outage_the_fallback_keeps_this_process_s_share(
    redis_server: RedisServer,
) -> None:
    a = RedisRateLimiter(redis_server.url, LIMITS, account="acct", retry_after=60)
    b = RedisRateLimiter(redis_server.url, LIMITS, account="acct", retry_after=60)
    async with a, b:
        await asyncio.wait_for(b.acquire(), 10)
        await asyncio.wait_for(a.acquire(), 10)
        redis_server.stop()
        await asyncio.wait_for(a.acquire(), 10)
        assert a.using_fallback
        full = LIMITS.effective()
        assert a.fallback._all_windows == tuple((n // 2, p) for n, p in full.all_windows)
        assert a.fallback._write_windows == tuple((n // 2, p) for n, p in full.write_windows)
        assert (a.fallback._share, a.fallback._turn) == (2, a._rank)
        redis_server.start()
        a._down_until = 0.0  # the next check is due: the first answer ends the fallback
        await asyncio.wait_for(a.acquire(), 10)
        assert not a.using_fallback
        # b may still be on its fallback until its own next check: a keeps to its turns
        assert a.fallback.shared_by == 2 and a._turns_until > a._clock()
        a._turns_until = 0.0
        await asyncio.wait_for(a.acquire(), 10)
        assert a.fallback._all_windows == full.all_windows and a.fallback.shared_by == 1


def test_a_fallback_in_its_turn_sends_in_the_first_quarter_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limiter = RateLimiter(RateLimits(min_interval=0.1).without_safety())
    limiter.share(3, 1)
    # Turns of 0.2 s (twice the spacing), three to a cycle; turn 1 is [0.2, 0.4) + k * 0.6.
    for wall, wait in ((0.6, 0.2), (0.8, 0.0), (0.84, 0.0), (0.86, 0.54), (1.3, 0.1), (1.41, 0.0)):
        monkeypatch.setattr(time, "time", lambda wall=wall: wall)
        assert limiter.turn_delay() == pytest.approx(wait), wall
    with pytest.raises(ValueError, match="turn 3 of 3"):
        limiter.share(3, 3)


# ------------------------------------------------------------ three processes, one restart

_WORKER = """
import asyncio, json, logging, os, sys, time
from nexudus_async import NexudusClient, PasswordGrant, RateLimits, RedisRateLimiter
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

reports = []
class Catch(logging.Handler):
    def emit(self, record):
        if "unreachable" in record.getMessage():
            reports.append(time.time())
logging.getLogger("nexudus_async").addHandler(Catch())
logging.getLogger("nexudus_async").setLevel(logging.INFO)

async def main(base_url, redis_url, stop_file, scale):
    limiter = RedisRateLimiter(
        redis_url, RateLimits.published().scaled(scale), retry_after=1.0, heartbeat=5.0
    )
    ok = failed = 0
    errors = []
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    async with limiter, NexudusClient(base_url, auth, rate_limiter=limiter, timeout=30) as c:
        async def loop():
            nonlocal ok, failed
            for _ in range(5000):  # bounded; the deadline ends it first
                if os.path.exists(stop_file):
                    return
                try:
                    await c.coworker_time_passes.list(size=1)
                    ok += 1
                except Exception as exc:
                    failed += 1
                    errors.append(repr(exc))
        await asyncio.gather(*(loop() for _ in range(3)))
    print(json.dumps({"ok": ok, "failed": failed, "errors": errors[:3],
                      "fallbacks": limiter.fallbacks, "reports": reports}))

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
"""

SCALE = 0.05  # 1 request per 5 ms, 120 per 3 s: a 15 s run is ~5 minutes of the real API
WORKERS = 3


async def _until(condition: Any, bound: float) -> None:
    """Wait (polling) until ``condition()`` holds; fail after ``bound`` seconds."""
    async with asyncio.timeout(bound):
        for _ in range(int(bound / 0.05) + 1):
            if condition():
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"not reached within {bound}s")


@pytest.mark.nexudus_emulator(time_scale=SCALE)
async def test_three_processes_through_a_redis_restart_lose_nothing_and_stay_under_the_limits(
    nexudus_emulator: EmulatorServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    stats = nexudus_emulator.stats
    stop_file = tmp_path / "stop"
    argv = [nexudus_emulator.base_url, redis_server.url, str(stop_file), str(SCALE)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _WORKER, *argv, stdout=subprocess.PIPE
        )
        for _ in range(WORKERS)
    ]
    try:
        # Shared for a while first: every worker logged in (a token each) and sends.
        await _until(lambda: stats.by_route["POST /api/token"] == WORKERS, 60)
        start = stats.requests
        await _until(lambda: stats.requests >= start + 150, 60)
        throttled_before = stats.throttled
        redis_server.stop()
        stopped = time.time()
        await asyncio.sleep(3.0)
        redis_server.start()  # the same port
        back = time.time()
        at_back = stats.requests
        throttled_outage = stats.throttled - throttled_before
        await _until(lambda: stats.requests >= at_back + 300, 60)
        stop_file.touch()
        async with asyncio.timeout(60):
            outs = [json.loads((await p.communicate())[0]) for p in procs]
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
    figures: dict[str, Any] = {
        "requests": stats.requests,
        "throttled": stats.throttled,
        "failed": sum(o["failed"] for o in outs),
        "calls": sum(o["ok"] for o in outs),
        "throttled_shared_before": throttled_before,
        "throttled_in_outage": throttled_outage,
        "throttled_by": dict(stats.throttled_by),
        "outage_seconds": round(back - stopped, 1),
        "last_unreachable_after_back": max(
            (round(t - back, 2) for o in outs for t in o["reports"]), default=None
        ),
    }
    print("redis restart figures:", json.dumps(figures))
    assert figures["failed"] == 0, [o["errors"] for o in outs]
    assert all(o["fallbacks"] == 1 for o in outs), outs  # each saw the outage once
    assert stats.throttled <= 0.02 * stats.requests, (figures, dict(stats.throttled_by))
    # Every "unreachable" report came at the outage's start, none after Redis was back.
    assert all(stopped - 1.0 <= t <= back + 2.0 for o in outs for t in o["reports"]), figures


# ------------------------------------------------------------ cancellation


@pytest.mark.parametrize("seed", [11, 12])
async def test_a_storm_of_cancelled_acquires_is_no_outage_and_leaves_no_slot_taken(
    redis_server: RedisServer, seed: int
) -> None:
    from ..client.test_cancellation import storm

    got: list[int] = []
    async with RedisRateLimiter(redis_server.url, LIMITS, account="acct") as limiter:

        async def take(i: int) -> None:
            await limiter.acquire(write=i % 3 == 0)
            got.append(i)

        seen = await storm(take, seed=seed, budgets=(0.001, 0.2))
        # A call whose acquire finished as its budget ran out (or as it was cancelled)
        # is counted a timeout or a cancellation by wait_for, yet holds its slot: so
        # ``got`` may exceed the "ok"s by those, never by more.
        extra = len(got) - seen["ok"]
        assert 0 <= extra <= seen["timeout"] + seen["cancelled"] and seen["timeout"] > 0, seen
        # A call cancelled mid round trip breaks its connection; that is no outage.
        assert limiter.fallbacks == 0 and limiter.acquired == len(got)
        assert not limiter._read_lock.locked() and not limiter._write_lock.locked()
        await asyncio.wait_for(limiter.acquire(write=True), 10)
        assert limiter.fallbacks == 0
