"""The client-side limiter: exact sliding windows on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from nexudus_async._core.throttle import RateLimiter, RateLimits, Window

from .conftest import FakeClock


def exact(min_interval: float = 0.0, *windows: Window) -> RateLimits:
    return RateLimits(min_interval=min_interval, windows=windows).without_safety()


async def times_of(
    limiter: RateLimiter, clock: FakeClock, n: int, write: bool = False
) -> list[float]:
    out = []
    for _ in range(n):
        await limiter.acquire(write=write)
        out.append(round(clock.now - 1000.0, 6))
    return out


async def test_min_interval_spaces_requests(clock: FakeClock) -> None:
    limiter = RateLimiter(exact(0.1), clock=clock, sleep=clock.sleep)
    assert await times_of(limiter, clock, 4) == [0.0, 0.1, 0.2, 0.3]


async def test_sliding_window_is_exact(clock: FakeClock) -> None:
    limiter = RateLimiter(exact(0.0, Window(3, 10.0)), clock=clock, sleep=clock.sleep)
    assert await times_of(limiter, clock, 3) == [0.0, 0.0, 0.0]
    clock.now += 4.0  # t=4: the window still holds 3
    assert await times_of(limiter, clock, 2) == [10.0, 10.0]
    # Sliding, not fixed buckets: the 3rd of the first burst leaves at t=10,
    # the two at t=10 leave at t=20.
    assert await times_of(limiter, clock, 2) == [10.0, 20.0]


async def test_writes_have_their_own_window_and_do_not_block_reads(clock: FakeClock) -> None:
    limits = exact(0.0, Window(100, 60.0), Window(2, 60.0, writes_only=True))
    limiter = RateLimiter(limits, clock=clock, sleep=clock.sleep)
    await limiter.acquire(write=True)
    await limiter.acquire(write=True)
    order: list[str] = []

    async def write() -> None:
        await limiter.acquire(write=True)
        order.append("write")

    async def read() -> None:
        await limiter.acquire()
        order.append("read")

    async with asyncio.timeout(5):
        await asyncio.gather(write(), read())
    # The write waited for its window (the only sleep); the read went past it.
    assert order == ["read", "write"]
    assert clock.sleeps == [60.0]


async def test_waiters_are_served_in_order(clock: FakeClock) -> None:
    limiter = RateLimiter(exact(1.0), clock=clock, sleep=clock.sleep)
    served: list[int] = []

    async def one(i: int) -> None:
        await limiter.acquire()
        served.append(i)

    async with asyncio.timeout(5):
        await asyncio.gather(*(one(i) for i in range(5)))
    assert served == [0, 1, 2, 3, 4]
    assert clock.now - 1000.0 == pytest.approx(4.0)
    assert limiter.acquired == 5


async def test_pause_makes_everybody_wait(clock: FakeClock) -> None:
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    await limiter.acquire()
    limiter.pause_for(2.5)
    await limiter.acquire()
    assert clock.now - 1000.0 == pytest.approx(2.5)


async def test_no_limits_never_waits(clock: FakeClock) -> None:
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    assert await times_of(limiter, clock, 50) == [0.0] * 50
    assert clock.sleeps == []


async def test_published_limits_with_safety_margin(clock: FakeClock) -> None:
    limiter = RateLimiter(RateLimits.published(), clock=clock, sleep=clock.sleep)
    got = await times_of(limiter, clock, 3)
    # 100 ms stretched by 2% plus a 10 ms margin.
    assert got == pytest.approx([0.0, 0.112, 0.224])
    # 120 per minute keeps 2% in reserve: the 118th request of a minute waits.
    clock2 = FakeClock()
    limits = RateLimits.published().scaled(0.001, margin=0.0)
    limiter2 = RateLimiter(attrs_evolve_min_interval(limits), clock=clock2, sleep=clock2.sleep)
    stamps = await times_of(limiter2, clock2, 117)
    assert stamps[-1] == 0.0
    assert (await times_of(limiter2, clock2, 1))[0] == pytest.approx(0.06 * 1.02)


def attrs_evolve_min_interval(limits: RateLimits) -> RateLimits:
    import attrs

    return attrs.evolve(limits, min_interval=0.0)


def test_scaled_limits() -> None:
    limits = RateLimits.published().scaled(0.01)
    assert limits.min_interval == pytest.approx(0.001)
    assert (limits.windows[0].limit, limits.windows[0].period) == (120, pytest.approx(0.6))
    assert limits.margin == pytest.approx(0.005)  # the jitter floor, not 10 ms x 0.01
    assert RateLimits.published().scaled(0.8).margin == pytest.approx(0.008)


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        Window(0, 1.0)
    with pytest.raises(ValueError, match="period"):
        Window(1, 0.0)
    with pytest.raises(ValueError, match="min_interval"):
        RateLimits(min_interval=-1.0)
    with pytest.raises(ValueError, match="factor"):
        RateLimits.published().scaled(0)


async def test_try_acquire_lets_through_only_what_acquire_would_not_delay(
    clock: FakeClock,
) -> None:
    limits = exact(0.1, Window(2, 60.0, writes_only=True))
    limiter = RateLimiter(limits, clock=clock, sleep=clock.sleep)
    assert limiter.try_acquire() is True
    assert limiter.try_acquire() is False  # 0.1 s spacing: it would wait
    assert limiter.acquired == 1 and clock.sleeps == []
    clock.now += 0.1
    # Writes under write-only windows always queue in acquire().
    assert limiter.try_acquire(write=True) is False
    await limiter.acquire(write=True)
    assert limiter.acquired == 2
    limiter.pause_for(1.0)
    clock.now += 0.5
    assert limiter.try_acquire() is False  # paused
    clock.now += 0.5
    assert limiter.try_acquire() is True


async def test_try_acquire_of_a_limiter_switched_off_still_honours_pauses(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    assert all([limiter.try_acquire(), limiter.try_acquire(write=True), limiter.try_acquire()])
    limiter.throttled(2.0)
    assert limiter.try_acquire() is False
    clock.now += 2.0
    assert limiter.try_acquire(write=True) is True
    assert limiter.acquired == 4
