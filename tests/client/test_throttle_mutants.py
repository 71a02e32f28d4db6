"""The in-memory limiter's edges that one-line changes of `_core/throttle.py` left unseen.

Each test pins what the limiter decides on a fake clock: the sleeps it asks
for, whether a request may go now, and the send times it keeps.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from nexudus_async._core.throttle import RateLimiter, RateLimits, Window, half_full

from .conftest import FakeClock


def exact(min_interval: float = 0.0, *windows: Window) -> RateLimits:
    return RateLimits(min_interval=min_interval, windows=windows).without_safety()


class CountedSleep(FakeClock):
    """A fake clock whose sleep refuses to be asked more than a few times (no endless loop)."""

    async def sleep(self, seconds: float) -> None:
        if len(self.sleeps) >= 5:
            raise AssertionError(f"asked to sleep again after {self.sleeps}")
        await super().sleep(seconds)


def test_half_full_looks_past_a_window_the_doubled_spacing_would_pace() -> None:
    # The first window (2 per 0.1 s) is skipped, the second (10 per 100 s) holds 5 of 10.
    windows = [(2, 0.1), (10, 100.0)]
    sent = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert half_full(sent, windows, 6.0, 0.1) is True
    assert half_full(sent[:4], windows, 6.0, 0.1) is False


def test_a_wait_that_ends_exactly_on_time_sleeps_once() -> None:
    clock = CountedSleep()
    limiter = RateLimiter(exact(0.5), clock=clock, sleep=clock.sleep)

    async def two() -> None:
        await limiter.acquire()
        await limiter.acquire()

    asyncio.run(two())
    # woken exactly when the spacing is over: the request goes, no second (zero) sleep
    assert clock.sleeps == [0.5]
    assert clock.now == 1000.5
    assert limiter.total_wait == 0.5


async def test_a_throttled_answer_widens_the_wait_between_requests(clock: FakeClock) -> None:
    limiter = RateLimiter(exact(0.5), clock=clock, sleep=clock.sleep)
    limiter.throttled(0.0)  # widened by one step: max(margin / 2, 5 % of 0.5) = 0.025
    await limiter.acquire()
    await limiter.acquire()
    assert clock.sleeps == [0.525]
    assert limiter.spacing == 0.525


async def test_a_write_waits_the_doubled_spacing_once_the_write_window_is_half_spent(
    clock: FakeClock,
) -> None:
    # No window counts reads; the write window (4 per minute) is half spent after 2 writes,
    # so the third write waits twice the spacing, on the queue-free path as well.
    limiter = RateLimiter(
        exact(0.5, Window(4, 60.0, writes_only=True)), clock=clock, sleep=clock.sleep
    )
    start = clock.now
    limiter.record(start, True)
    limiter.record(start + 0.5, True)
    clock.now = start + 1.0  # the plain spacing is over, the doubled one is not
    assert limiter.pressed(clock.now, True) is True
    assert limiter.pressed(clock.now, False) is False
    await limiter.acquire(write=True)
    assert clock.sleeps == [0.5]  # 0.5 + 2 x 0.5 - 1.0
    assert list(limiter.histories()[1]) == [start, start + 0.5, start + 1.5]


async def test_a_write_with_no_write_window_is_still_kept_as_a_write(clock: FakeClock) -> None:
    limiter = RateLimiter(exact(0.5, Window(10, 60.0)), clock=clock, sleep=clock.sleep)
    await limiter.acquire(write=True)
    sent, writes = limiter.histories()
    assert list(sent) == [1000.0]
    assert list(writes) == [1000.0]


def test_priming_keeps_only_as_many_send_times_as_the_largest_window_counts() -> None:
    clock = FakeClock()
    limits = exact(0.0, Window(3, 60.0), Window(2, 60.0, writes_only=True))
    limiter = RateLimiter(limits, clock=clock)
    now = time.time()
    limiter.count_earlier([now - 50 + i for i in range(6)], write=True, now=now)
    sent, writes = limiter.histories()
    assert (len(sent), len(writes)) == (3, 2)  # the newest, as many as the windows count
    assert sent[-1] == writes[-1] == max(sent)
    limiter.count_earlier([now - 40 + i for i in range(6)], write=False, now=now)
    assert (len(limiter.histories()[0]), len(limiter.histories()[1])) == (3, 2)


def test_a_limiter_without_spacing_is_never_pressed() -> None:
    clock = FakeClock()
    limiter = RateLimiter(exact(0.0, Window(4, 60.0)), clock=clock)
    for _ in range(3):
        limiter.record(clock.now, False)
    assert limiter.pressed(clock.now, False) is False


def test_a_second_process_waits_for_its_turn_of_two() -> None:
    limiter = RateLimiter(exact(10.0), clock=FakeClock())
    turn, cycle = 20.0, 40.0
    # the turn of the two whose first quarter is far from now (one always is)
    phases = {t: (time.time() - t * turn) % cycle for t in (0, 1)}
    mine = next(t for t, p in phases.items() if turn / 4 + 1 < p < cycle - 1)
    limiter.share(2, mine)
    assert limiter.shared_by == 2
    assert limiter.turn_delay() > 0
    assert limiter.try_acquire() is False
    limiter.share(1)
    assert limiter.try_acquire() is True


@pytest.mark.parametrize("write", [False, True])
def test_try_acquire_with_no_window_lets_the_first_request_go(write: bool) -> None:
    limiter = RateLimiter(exact(0.5), clock=FakeClock())
    assert limiter.try_acquire(write=write) is True
    assert limiter.try_acquire(write=write) is False
