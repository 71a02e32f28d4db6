"""The machine-local limiter's store on disk: where it lives, its modes, what it refuses."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pytest

from nexudus_async import LimiterStoreError, LocalRateLimiter, RateLimits, Window
from nexudus_async._core.local_limiter import (
    ENV_STATE_DIR,
    _cross_margin,
    shared_spending,
    store_path,
)

from ..client.conftest import FakeClock
from .test_local_limiter_queues import bounded

LIMITS = RateLimits(
    min_interval=0.1, windows=(Window(3, 60.0), Window(2, 60.0, writes_only=True))
).without_safety()
HOUR = 3600.0


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_directory_is_checked_by_creating_and_locking_a_probe(tmp_path: Path) -> None:
    where = tmp_path / "new" / "state"
    LocalRateLimiter.check_directory(where)
    assert mode(where / "limits") == 0o700
    assert mode(where / "limits" / "probe.lock") == 0o600
    # another process probing at the same moment holds the probe's lock: that is fine
    fd = os.open(where / "limits" / "probe.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        LocalRateLimiter.check_directory(where)
    finally:
        os.close(fd)


def test_a_directory_that_cannot_hold_stores_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(LimiterStoreError) as info:
        LocalRateLimiter.check_directory(blocker)
    expected = f"{blocker}/limits: cannot use the shared rate-limit store (Not a directory)"
    assert str(info.value) == expected


async def test_a_store_is_made_in_a_directory_that_does_not_exist_yet(tmp_path: Path) -> None:
    where = tmp_path / "new" / "deeper"
    clock = FakeClock()
    async with LocalRateLimiter(
        LIMITS, account="acct", directory=where, clock=clock, sleep=clock.sleep
    ) as limiter:
        await bounded(limiter.acquire(write=True))
        assert limiter.path == store_path(where, "acct", LIMITS)
        assert mode(where / "limits") == 0o700
        # a header and two rings of 8-byte times: 3 sends of all kinds, 2 writes
        assert limiter.path.stat().st_size == 128 + 8 * (3 + 2)


async def test_the_default_directory_is_the_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_STATE_DIR, str(tmp_path / "state"))
    assert shared_spending(LIMITS, "acct") == ([], [])
    clock = FakeClock()
    async with LocalRateLimiter(
        LIMITS, account="acct", directory=tmp_path / "elsewhere", clock=clock
    ) as limiter:
        assert limiter.path == store_path(tmp_path / "elsewhere", "acct", LIMITS)
        await bounded(limiter.acquire())
    async with LocalRateLimiter(LIMITS, account="acct", clock=clock) as limiter:
        assert limiter.path == store_path(tmp_path / "state", "acct", LIMITS)
        await bounded(limiter.acquire(write=True))
    assert shared_spending(LIMITS, "acct", now=clock.now) == ([], [0.0])


def test_one_limiter_serves_one_account(tmp_path: Path) -> None:
    limiter = LocalRateLimiter(LIMITS, account="acct", directory=tmp_path)
    try:
        limiter.bind_account("acct")  # the same again: nothing changes
        assert limiter.path == store_path(tmp_path, "acct", LIMITS)
        with pytest.raises(ValueError) as info:
            limiter.bind_account("other")
        assert str(info.value) == (
            "this LocalRateLimiter already serves another account; use one per account"
        )
        assert repr(limiter) == f"<LocalRateLimiter account=acct path={limiter.path}>"
    finally:
        limiter.close()


def test_a_limiter_without_an_account_says_so(tmp_path: Path) -> None:
    limiter = LocalRateLimiter(LIMITS, directory=tmp_path)
    with pytest.raises(RuntimeError) as info:
        limiter.try_acquire()
    assert str(info.value) == (
        "LocalRateLimiter has no account: pass account= or use it in a client"
    )


def test_a_closed_limiter_refuses_with_its_store_s_path(tmp_path: Path) -> None:
    limiter = LocalRateLimiter(LIMITS, account="acct", directory=tmp_path)
    limiter.close()
    with pytest.raises(LimiterStoreError) as info:
        limiter.try_acquire()
    assert str(info.value) == (
        f"{limiter.path}: cannot use the shared rate-limit store (Bad file descriptor)"
    )


def test_reading_the_store_waits_for_a_lock_held_a_moment(tmp_path: Path) -> None:
    limiter = LocalRateLimiter(LIMITS, account="acct", directory=tmp_path)
    assert limiter.path is not None
    fd = os.open(limiter.path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        release = threading.Timer(0.05, fcntl.flock, (fd, fcntl.LOCK_UN))
        release.start()
        assert limiter.spent() == ([], [])  # polled until the holder let go
        release.join()
    finally:
        os.close(fd)
        limiter.close()


async def test_a_store_not_ours_is_started_again(tmp_path: Path) -> None:
    path = store_path(tmp_path, "acct", LIMITS)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff" * 200)  # header-sized, but not a store of ours
    clock = FakeClock()
    async with LocalRateLimiter(
        LIMITS, account="acct", directory=tmp_path, clock=clock, sleep=clock.sleep
    ) as limiter:
        await bounded(limiter.acquire())
        assert limiter.spent(now=clock.now) == ([0.0], [])
        assert path.stat().st_size == 128 + 8 * (3 + 2)


async def test_a_read_that_wraps_around_the_ring_sees_each_send_once(tmp_path: Path) -> None:
    limits = RateLimits(min_interval=0.0, windows=(Window(3, 2.0),)).without_safety()
    clock = FakeClock()
    kw = {"account": "acct", "directory": tmp_path, "clock": clock, "sleep": clock.sleep}
    async with (
        LocalRateLimiter(limits, **kw) as one,  # type: ignore[arg-type]
        LocalRateLimiter(limits, **kw) as two,  # type: ignore[arg-type]
    ):
        for _ in range(2):
            await bounded(one.acquire())
            clock.now += 1.0
        for _ in range(2):  # the ring's third slot, then its first again
            await bounded(two.acquire())
            clock.now += 1.0
        assert one.spent(now=clock.now) == ([-3.0, -2.0, -1.0], [])


async def test_a_primed_store_is_read_again_in_full_writes_from_the_writes_ring(
    tmp_path: Path,
) -> None:
    limits = RateLimits(
        min_interval=0.0, windows=(Window(5, HOUR), Window(4, HOUR, writes_only=True))
    ).without_safety()
    clock = FakeClock(start=1_800_000_000.0)
    wall = clock.now
    kw = {"account": "acct", "directory": tmp_path, "clock": clock, "sleep": clock.sleep}
    async with (
        LocalRateLimiter(limits, **kw) as one,  # type: ignore[arg-type]
        LocalRateLimiter(limits, **kw) as two,  # type: ignore[arg-type]
    ):
        assert two.spent(now=wall) == ([], [])  # two holds the store's first generation
        assert await bounded(one.prime([wall - 500.0], write=False, now=wall)) == 1
        assert await bounded(one.prime([wall - 300.0, wall - 200.0], now=wall)) == 2
        assert two.spent(now=wall) == ([-500.0], [-300.0, -200.0])


def test_a_margin_more_only_while_the_spacing_does_not_set_a_window_s_pace() -> None:
    # spacing 0.25 + 2 x 0.125 = 0.5 s; 4 of them fill the 2 s window exactly
    exact = RateLimits(min_interval=0.25, windows=(Window(4, 2.0),), margin=0.125, safety=0.0)
    assert _cross_margin(exact) == 0.125
    over = RateLimits(min_interval=0.25, windows=(Window(5, 2.0),), margin=0.125, safety=0.0)
    assert _cross_margin(over) == 0.0
