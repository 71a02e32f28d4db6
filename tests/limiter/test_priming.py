"""A rerun's limiter counts what an earlier run spent (issue 10, the API's real limits).

The API's hourly and daily windows are the account's and outlive a crash: a
limiter primed from the journal's send times holds the rerun back as the API
would, and priming twice (or priming what it saw itself) adds nothing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from nexudus_async import RateLimits, RedisRateLimiter, Window
from nexudus_async._core.throttle import RateLimiter, unseen_sends
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk.executor import prime_limiter, rows_from_mappings, run_bulk
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import validate_rows

from ..client.conftest import FakeClock
from .redis_server import RedisServer

HOUR, DAY = 3600.0, 86_400.0
WALL = 1_800_000_000.0  # "now" on the wall clock the journal uses
# 5 requests an hour, 4 writes a day: small enough to count by hand.
LIMITS = RateLimits(
    min_interval=0.0, windows=(Window(5, HOUR), Window(4, DAY, writes_only=True))
).without_safety()


def test_unseen_sends_fill_each_window_with_the_most_recent() -> None:
    sends = [10.0, 20.0, 30.0, 40.0]
    assert unseen_sends([], sends, [100.0], now=50.0) == [40.0, 30.0, 20.0, 10.0]
    assert unseen_sends([35.0, 45.0], sends, [100.0], now=50.0) == [40.0, 30.0]
    assert unseen_sends(sends, sends, [100.0], now=50.0) == []
    # Only what a window holds: sends older than the longest period are left out.
    assert unseen_sends([], sends, [25.0], now=50.0) == [40.0, 30.0]


async def test_n_sends_in_the_last_hour_start_the_rerun_with_n_counted() -> None:
    clock = FakeClock()
    limiter = RateLimiter(LIMITS, clock=clock, sleep=clock.sleep)
    sends = [WALL - 300, WALL - 200, WALL - 100]  # three writes in the last five minutes
    assert await limiter.prime(sends, now=WALL) == 3
    assert await limiter.prime(sends, now=WALL) == 0  # idempotent
    await limiter.acquire(write=True)  # the day's fourth write goes at once
    assert clock.sleeps == []
    # The fifth must wait until the oldest primed write leaves the daily window.
    await limiter.acquire(write=True)
    assert clock.sleeps == [DAY - 300]
    # Reads are held by the hourly window, which the primed writes are in as well.
    fresh = RateLimiter(LIMITS, clock=clock, sleep=clock.sleep)
    await fresh.prime(sends, now=WALL)
    clock.sleeps.clear()
    await fresh.acquire()
    await fresh.acquire()
    await fresh.acquire()  # 3 primed + 2 = 5 an hour: this one waits
    assert clock.sleeps == [HOUR - 300]


async def test_sends_older_than_a_day_are_not_counted() -> None:
    clock = FakeClock()
    limiter = RateLimiter(LIMITS, clock=clock, sleep=clock.sleep)
    assert await limiter.prime([WALL - DAY - 1, WALL - 2 * DAY], now=WALL) == 0
    for _ in range(4):
        await limiter.acquire(write=True)
    assert clock.sleeps == []


def journal_with_sends(path: Path, n: int, *, ago: float) -> Journal:
    journal = Journal(path)
    for i in range(n):
        journal.record_send("earlier-job", write=True, at=time.time() - ago + i)
    return journal


async def test_prime_limiter_reads_the_journal_of_every_job(tmp_path: Path) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits.published(), clock=clock, sleep=clock.sleep)
    with journal_with_sends(tmp_path / "j.sqlite", 40, ago=1800) as journal:
        journal.record_send("another-job", write=False)
        journal.record_send("old-job", write=True, at=time.time() - 3 * DAY)
        assert await prime_limiter(limiter, journal) == 41
        assert await prime_limiter(limiter, journal) == 0


class Gateway:
    """A bulk gateway that creates nothing but answers as the API would, with a limiter."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.created = 0

    async def create(self, fields: Any, count: int) -> Any:
        await self.limiter.acquire(write=True)
        self.created += count
        return None

    async def count(self, match: Any, since: str) -> int:
        await self.limiter.acquire()
        return 0


async def test_a_rerun_waits_for_what_the_crashed_run_spent(tmp_path: Path) -> None:
    # 4 writes a day; the journal says 3 went out half an hour ago.
    clock = FakeClock()
    limiter = RateLimiter(LIMITS, clock=clock, sleep=clock.sleep)
    rows = rows_from_mappings([{"CoworkerId": c, "BusinessId": 1, "TimePassId": 1} for c in (1, 2)])
    valid, errors = validate_rows(COWORKER_TIME_PASS, rows)
    assert not errors
    plan = make_plan(COWORKER_TIME_PASS, valid)
    with journal_with_sends(tmp_path / "j.sqlite", 3, ago=1800) as journal:
        report = await run_bulk(plan, Gateway(limiter), journal=journal, concurrency=1)
    assert report.records_created == 2
    # One write was left in the day: the second create went when the oldest primed write,
    # sent half an hour before the rerun, left the daily window.
    assert sum(clock.sleeps) == pytest.approx(DAY - 1800, abs=60)


# ------------------------------------------------------------------------- Redis


async def test_redis_priming_counts_once_and_holds_the_daily_window(
    redis_server: RedisServer,
) -> None:
    clock = FakeClock(start=WALL)
    async with RedisRateLimiter(
        redis_server.url,
        LIMITS,
        account="primed",
        server_clock=clock,
        clock=clock,
        sleep=clock.sleep,
    ) as limiter:
        sends = [WALL - 300, WALL - 200, WALL - 100]
        assert await limiter.prime(sends, now=WALL) == 3
        assert await limiter.prime(sends, now=WALL) == 0  # Redis remembers them already
        await limiter.acquire(write=True)
        assert clock.sleeps == []
        await limiter.acquire(write=True)
        assert clock.sleeps == [DAY - 300]


async def test_redis_adds_nothing_for_requests_it_saw_itself(redis_server: RedisServer) -> None:
    clock = FakeClock(start=WALL)
    async with RedisRateLimiter(
        redis_server.url,
        LIMITS,
        account="seen",
        server_clock=clock,
        clock=clock,
        sleep=clock.sleep,
    ) as limiter:
        sent = []
        for _ in range(2):
            await limiter.acquire(write=True)
            sent.append(clock())
        assert await limiter.prime(sent, now=clock()) == 0
