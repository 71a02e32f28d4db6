"""Spacing that absorbs scheduling delay, on a fake clock: late wake-ups widen it."""

from __future__ import annotations

import pytest

from nexudus_async import RateLimits, Window
from nexudus_async._core.throttle import RateLimiter

from ..client.conftest import FakeClock

LIMITS = RateLimits(min_interval=0.1).without_safety()


def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(LIMITS, clock=clock, sleep=clock.sleep)


async def test_late_wake_ups_widen_the_spacing_and_the_widening_fades() -> None:
    clock = FakeClock()
    lim = limiter(clock)
    assert lim.spacing == pytest.approx(0.1)
    lim.note_lateness(0.004)
    assert lim.spacing == pytest.approx(0.108)
    for _ in range(300):
        lim.note_lateness(0.0)
    assert lim.spacing == pytest.approx(0.1, abs=1e-4)
    lim.note_lateness(5.0)
    assert lim.spacing == pytest.approx(0.1 + lim.lateness_allowance)
    assert lim.lateness_allowance <= 0.1  # bounded like the widening


async def test_the_spacing_doubles_once_half_a_window_is_spent() -> None:
    # 10 per minute: the first half at 100 ms, the rest at 200 ms (the window
    # sets the job's pace anyway, and arrivals twice as far apart cannot bunch).
    clock = FakeClock()
    lim = RateLimiter(
        RateLimits(min_interval=0.1, windows=(Window(10, 60.0),)).without_safety(),
        clock=clock,
        sleep=clock.sleep,
    )
    for _ in range(10):
        await lim.acquire()
    assert clock.sleeps == [pytest.approx(0.1)] * 4 + [pytest.approx(0.2)] * 5
    assert lim.pressed(clock(), write=False)
    clock.sleeps.clear()
    await lim.acquire()  # the 11th waits for the first to leave the minute
    assert clock.sleeps == [pytest.approx(60.0 - 1.4)]


async def test_no_doubling_where_it_would_set_the_pace() -> None:
    # 10 per 1.5 s at 200 ms would take 2 s: the plain spacing stays.
    clock = FakeClock()
    lim = RateLimiter(
        RateLimits(min_interval=0.1, windows=(Window(10, 1.5),)).without_safety(),
        clock=clock,
        sleep=clock.sleep,
    )
    for _ in range(10):
        await lim.acquire()
    assert clock.sleeps == [pytest.approx(0.1)] * 9
    assert not lim.pressed(clock(), write=False)


async def test_writes_double_on_the_write_windows_reads_do_not() -> None:
    clock = FakeClock()
    lim = RateLimiter(
        RateLimits(min_interval=0.1, windows=(Window(4, 60.0, writes_only=True),)).without_safety(),
        clock=clock,
        sleep=clock.sleep,
    )
    for _ in range(2):
        await lim.acquire(write=True)
    assert lim.pressed(clock(), write=True) and not lim.pressed(clock(), write=False)
    await lim.acquire()  # a read: plain spacing
    await lim.acquire(write=True)  # a write: doubled
    assert clock.sleeps == [pytest.approx(0.1)] * 2 + [pytest.approx(0.2)]
