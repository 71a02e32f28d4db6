"""Spacing that absorbs scheduling delay, on a fake clock: late answers and late wake-ups."""

from __future__ import annotations

import pytest

from nexudus_async import RateLimits
from nexudus_async._core.throttle import RateLimiter

from ..client.conftest import FakeClock

LIMITS = RateLimits(min_interval=0.1).without_safety()


def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(LIMITS, clock=clock, sleep=clock.sleep)


async def request(lim: RateLimiter, clock: FakeClock, rtt: float | None) -> None:
    """One request through the limiter, answered ``rtt`` seconds later (None: not yet)."""
    await lim.acquire()
    if rtt is not None:
        clock.now += rtt
        lim.answered(lim.acquired)


async def test_answers_on_time_change_nothing_even_from_a_slow_server() -> None:
    clock = FakeClock()
    lim = limiter(clock)
    for _ in range(5):
        await request(lim, clock, 0.06)  # steady 60 ms answers
    assert clock.sleeps == [0.04] * 4  # the plain 100 ms spacing


async def test_after_a_late_answer_the_next_request_leaves_an_interval_after_it() -> None:
    clock = FakeClock()
    lim = limiter(clock)
    for _ in range(3):
        await request(lim, clock, 0.001)
    clock.sleeps.clear()
    await request(lim, clock, 0.001)
    await request(lim, clock, 0.08)  # the server stalled: it may have handled it only now
    await lim.acquire()
    # plain spacing twice; then 0.1 s after the late answer instead of the 0.02 s the
    # send time alone would ask
    assert clock.sleeps == [pytest.approx(0.099), pytest.approx(0.099), pytest.approx(0.1)]


async def test_an_overdue_answer_holds_the_next_request_a_bounded_time() -> None:
    clock = FakeClock()
    lim = limiter(clock)
    for _ in range(3):
        await request(lim, clock, 0.001)
    await request(lim, clock, None)  # its answer never comes
    started = clock.now
    clock.sleeps.clear()
    await lim.acquire()
    waited = clock.now - started
    assert lim.HOLD_LIMIT * 0.1 <= waited <= lim.HOLD_LIMIT * 0.1 + 0.1 / 4 + 1e-9
    assert all(s <= 0.1 for s in clock.sleeps)  # it kept looking for the answer


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
