"""The machine-local limiter's edges: its queues per kind, no limits, priming reads, clock steps.

Every wait here is on a fake clock, and every "does not wait" is checked by
stepping the event loop a bounded number of times: a wrong line fails the
test instead of hanging it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from nexudus_async import LocalRateLimiter, RateLimits, Window
from nexudus_async._core.local_limiter import ENV_STATE_DIR, state_directory

from ..client.conftest import FakeClock

#: The 3-a-minute, 2-writes-a-minute limits of test_local_limiter.py.
LIMITS = RateLimits(
    min_interval=0.1, windows=(Window(3, 60.0), Window(2, 60.0, writes_only=True))
).without_safety()
#: Only the spacing matters: the window is far from full.
SPACED = RateLimits(min_interval=0.1, windows=(Window(100, 60.0),)).without_safety()
HOUR = 3600.0
STEPS = 200
T = TypeVar("T")


async def steps_until(done: Callable[[], bool]) -> None:
    """Run the loop until ``done()``, at most STEPS turns (never a wait that might not end)."""
    for _ in range(STEPS):
        if done():
            return
        await asyncio.sleep(0)


async def bounded(call: Coroutine[Any, Any, T]) -> T:
    """Await ``call`` within STEPS turns of the loop (the fake clock's sleeps take one each)."""
    task = asyncio.ensure_future(call)
    try:
        await steps_until(task.done)
        assert task.done(), "still waiting after every step allowed"
    finally:
        await cancelled(task)
    return task.result()


async def cancelled(*tasks: asyncio.Future[Any]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class HeldSleep:
    """A sleep on the fake clock that returns only once released."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sleeps: list[float] = []
        self.released = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        await self.released.wait()
        self.clock.now += seconds


def limiter_on(
    tmp_path: Path, clock: FakeClock, limits: RateLimits = LIMITS, **kw: Any
) -> LocalRateLimiter:
    kw.setdefault("sleep", clock.sleep)
    return LocalRateLimiter(limits, account="acct", directory=tmp_path, clock=clock, **kw)


async def test_a_free_slot_is_taken_at_once_and_a_spaced_one_after_one_sleep(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    async with limiter_on(tmp_path, clock) as limiter:
        first = asyncio.ensure_future(limiter.acquire())
        second = asyncio.ensure_future(limiter.acquire())
        try:
            await steps_until(lambda: first.done() and second.done())
            assert first.done() and second.done()
        finally:
            await cancelled(first, second)
        assert clock.sleeps == [0.1]  # the spacing, once
        assert limiter.acquired == 2
        assert limiter.spent(now=clock.now) == ([pytest.approx(-0.1), 0.0], [])


async def test_without_limits_everything_goes_and_nothing_is_stored(tmp_path: Path) -> None:
    clock = FakeClock()
    limiter = limiter_on(tmp_path, clock, limits=None)  # type: ignore[arg-type]
    assert limiter.try_acquire() is True and limiter.try_acquire(write=True) is True
    await bounded(limiter.acquire(write=True))
    await bounded(limiter.report_throttled(30.0))
    assert await bounded(limiter.prime([clock.now - 10.0], now=clock.now)) == 0
    assert limiter.spent() == ([], [])
    assert limiter.path is None and clock.sleeps == []
    assert not (tmp_path / "limits").exists()
    limiter.close()  # nothing to close: no error
    unbound = LocalRateLimiter(LIMITS, directory=tmp_path)
    unbound.close()  # no account yet, no store: no error either


def test_the_state_directory_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_STATE_DIR, str(tmp_path / "state"))
    assert state_directory() == tmp_path / "state"


async def test_a_waiting_request_holds_up_new_ones_of_its_kind_only(tmp_path: Path) -> None:
    clock = FakeClock()
    held = HeldSleep(clock)
    async with limiter_on(tmp_path, clock, SPACED, sleep=held) as limiter:
        assert limiter.try_acquire() is True
        reading = asyncio.ensure_future(limiter.acquire())  # spaced: waits 0.1
        writing: asyncio.Future[None] = asyncio.ensure_future(asyncio.sleep(0))
        try:
            await steps_until(lambda: bool(held.sleeps))
            assert held.sleeps == [0.1]
            clock.now += 1.0  # the store would let anything go now, but a read waits:
            assert limiter.try_acquire() is False  # a new read queues behind it
            writing = asyncio.ensure_future(limiter.acquire(write=True))
            await steps_until(writing.done)
            assert writing.done()  # a write does not
            held.released.set()
            await steps_until(reading.done)
            assert reading.done()
        finally:
            await cancelled(reading, writing)
        assert limiter.acquired == 3

        held.released = asyncio.Event()
        slept = len(held.sleeps)
        writing = asyncio.ensure_future(limiter.acquire(write=True))  # spaced: waits
        reading = asyncio.ensure_future(asyncio.sleep(0))
        try:
            await steps_until(lambda: len(held.sleeps) > slept)
            assert len(held.sleeps) == slept + 1
            clock.now += 1.0
            assert limiter.try_acquire(write=True) is False  # a new write queues behind it
            reading = asyncio.ensure_future(limiter.acquire())
            await steps_until(reading.done)
            assert reading.done()  # a read does not
            assert limiter.try_acquire() is False  # (spaced after that read)
            clock.now += 1.0
            assert limiter.try_acquire() is True  # reads go as the store says
            held.released.set()
            await steps_until(writing.done)
            assert writing.done()
        finally:
            await cancelled(writing, reading)
        assert limiter.acquired == 6


async def test_primed_reads_count_as_reads_only(tmp_path: Path) -> None:
    limits = RateLimits(
        min_interval=0.0, windows=(Window(5, HOUR), Window(1, HOUR, writes_only=True))
    ).without_safety()
    clock = FakeClock(start=1_800_000_000.0)
    wall = clock.now
    async with limiter_on(tmp_path, clock, limits) as limiter:
        assert await bounded(limiter.prime([wall - 100.0], write=False, now=wall)) == 1
        await bounded(limiter.acquire(write=True))  # the hour's one write is still free
        assert clock.sleeps == []
        assert limiter.spent(now=wall) == ([pytest.approx(-100.0)], [0.0])


async def test_a_clock_set_back_moves_the_writes_window_and_the_pause_with_it(
    tmp_path: Path,
) -> None:
    clock = FakeClock(start=1_800_000_000.0)
    async with limiter_on(tmp_path, clock) as one, limiter_on(tmp_path, clock) as two:
        await bounded(one.acquire(write=True))
        await bounded(one.acquire(write=True))
        assert clock.sleeps == [0.1]
        clock.now -= HOUR  # an NTP step back
        await bounded(two.acquire(write=True))
        # the minute's two writes are over once the first one (moved back) leaves it
        assert clock.sleeps[1:] == [pytest.approx(59.9, abs=1e-5)]

    clock = FakeClock(start=1_800_000_000.0)
    async with limiter_on(tmp_path / "b", clock) as one, limiter_on(tmp_path / "b", clock) as two:
        await bounded(one.acquire())
        await bounded(one.report_throttled(2.5))
        clock.now -= HOUR
        await bounded(two.acquire())  # the pause moved back with the clock: 2.5 s, not an hour more
        assert clock.sleeps == [pytest.approx(2.5, abs=1e-6)]


async def test_a_clock_set_back_by_one_second_is_not_a_step(tmp_path: Path) -> None:
    clock = FakeClock()
    async with limiter_on(tmp_path, clock) as limiter:
        await bounded(limiter.acquire())
        clock.now -= 1.0  # within _CLOCK_STEP: the timeline stays, the spacing counts from it
        await bounded(limiter.acquire())
        assert clock.sleeps == [pytest.approx(1.1, abs=1e-9)]
