"""Spacing that absorbs scheduling delay, on a fake clock: late wake-ups widen it."""

from __future__ import annotations

import pytest

from nexudus_async import RateLimits
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
