"""The machine-local shared limiter: one budget per account for every process of a machine.

Windows and spacing on a fake clock (the in-memory limiter's own rules, the
same figures as the Redis limiter's tests), sharing between limiters and
between real processes, the shared pause after a throttled answer, priming,
and a holder killed with SIGKILL while it holds the store's lock.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nexudus_async import LimiterStoreError, LocalRateLimiter, RateLimits, Window
from nexudus_async._core.limiter import Limiter
from nexudus_async._core.local_limiter import (
    ENV_STATE_DIR,
    shared_spending,
    state_directory,
    store_path,
)

from ..client.conftest import FakeClock

LIMITS = RateLimits(
    min_interval=0.1, windows=(Window(3, 60.0), Window(2, 60.0, writes_only=True))
).without_safety()
HOUR, DAY = 3600.0, 86_400.0


def fake(tmp_path: Path, clock: FakeClock, account: str = "acct", **kw: object) -> LocalRateLimiter:
    return LocalRateLimiter(
        LIMITS,
        account=account,
        directory=tmp_path,
        clock=clock,
        sleep=clock.sleep,
        **kw,  # type: ignore[arg-type]
    )


def test_the_state_directory_follows_the_environment(tmp_path: Path) -> None:
    assert state_directory({ENV_STATE_DIR: str(tmp_path)}) == tmp_path
    assert state_directory({"XDG_STATE_HOME": "/x/state"}) == Path("/x/state/nexudus-async")
    home = state_directory({})
    assert home == Path.home() / ".local" / "state" / "nexudus-async"


async def test_it_is_a_limiter(tmp_path: Path) -> None:
    async with LocalRateLimiter(LIMITS, account="a", directory=tmp_path) as limiter:
        assert isinstance(limiter, Limiter)
        assert limiter.path == store_path(tmp_path, "a", LIMITS)
        assert limiter.path is not None and limiter.path.stat().st_mode & 0o777 == 0o600


async def test_spacing_and_windows_on_a_fake_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    async with fake(tmp_path, clock) as limiter:
        for _ in range(3):
            await limiter.acquire()
        # the 100 ms spacing, doubled once 2 of the minute's 3 are spent (RateLimiter.pressed)
        assert clock.sleeps == [0.1, 0.2]
        await limiter.acquire()
        # 3 per minute: the first must leave the window
        assert clock.sleeps[2:] == [pytest.approx(59.7, abs=1e-5)]
        clock.sleeps.clear()
        for _ in range(3):
            await limiter.acquire(write=True)
        # 2 writes per minute: the third write waits for the first write (at +0.2) to leave
        assert clock.sleeps == [0.2, 0.2, pytest.approx(59.8, abs=1e-5)]
        assert limiter.acquired == 7


async def test_try_acquire_decides_without_waiting_and_records(tmp_path: Path) -> None:
    clock = FakeClock()
    async with fake(tmp_path, clock) as one, fake(tmp_path, clock) as two:
        assert one.try_acquire() is True
        assert two.try_acquire() is False  # 100 ms after one's request, not before
        clock.now += 0.1
        assert two.try_acquire(write=True) is True
        assert one.acquired == 1 and two.acquired == 1
        reads, writes = one.spent(now=clock.now)
        assert (reads, writes) == ([pytest.approx(-0.1)], [0.0])


async def test_limiters_of_one_account_share_the_windows_others_do_not(tmp_path: Path) -> None:
    clock = FakeClock()
    async with (
        fake(tmp_path, clock) as one,
        fake(tmp_path, clock) as two,
        fake(tmp_path, clock, account="other") as other,
    ):
        await one.acquire()
        await two.acquire()  # the same account: spaced after one's request
        assert clock.sleeps == [0.1]
        await other.acquire()  # another account: its own windows
        assert clock.sleeps == [0.1]
        await one.acquire()  # the minute's third: doubled spacing, seen through the store
        assert clock.sleeps == [0.1, 0.2]
        await two.acquire()  # the fourth waits for the first to leave the minute
        assert clock.sleeps[2:] == [pytest.approx(59.7, abs=1e-5)]


async def test_a_throttle_seen_by_one_pauses_all_and_widens_the_spacing(tmp_path: Path) -> None:
    clock = FakeClock()
    async with fake(tmp_path, clock) as one, fake(tmp_path, clock) as two:
        await one.acquire()
        await one.report_throttled(2.5)
        await two.acquire()
        assert clock.sleeps == [2.5]
        clock.sleeps.clear()
        await one.acquire()
        step = LIMITS.effective().widen_step
        # 0.1 widened by a step, plus 0.1 more: 2 of the minute's 3 are spent
        assert clock.sleeps == [pytest.approx(0.2 + step, abs=1e-6)]


async def test_a_late_wake_up_in_one_process_widens_the_spacing_of_all(tmp_path: Path) -> None:
    # One process waking 4 ms late sends late; the next process's request must
    # keep its distance from it, so the lateness allowance is shared.
    limits = RateLimits(min_interval=0.1, windows=(Window(100, 60.0),)).without_safety()
    clock = FakeClock()
    overshoot = [0.004]

    async def late_sleep(seconds: float) -> None:
        clock.now += seconds + (overshoot.pop() if overshoot else 0.0)

    kw = {"account": "acct", "directory": tmp_path, "clock": clock}
    async with (
        LocalRateLimiter(limits, sleep=late_sleep, **kw) as one,  # type: ignore[arg-type]
        LocalRateLimiter(limits, sleep=clock.sleep, **kw) as two,  # type: ignore[arg-type]
    ):
        await one.acquire()
        await one.acquire()  # woke 4 ms late, then waited out its own widened spacing
        await two.acquire()
        # twice the decayed lateness (RateLimiter.lateness_allowance) on top of 0.1
        assert clock.sleeps == [pytest.approx(0.1 + 2 * 0.004 * 0.98, abs=1e-6)]


async def test_another_process_s_request_is_kept_one_margin_further(tmp_path: Path) -> None:
    # Requests of two processes leave from two event loops: one jitter margin more.
    limits = RateLimits(min_interval=0.1, windows=(Window(100, 60.0),), safety=0.0, margin=0.01)
    clock = FakeClock()
    kw = {"account": "acct", "directory": tmp_path, "clock": clock, "sleep": clock.sleep}
    async with (
        LocalRateLimiter(limits, **kw) as one,  # type: ignore[arg-type]
        LocalRateLimiter(limits, **kw) as two,  # type: ignore[arg-type]
    ):
        await one.acquire()
        await one.acquire()  # its own last request: 0.1 + margin
        await two.acquire()  # one's request went last: a margin more
        await two.acquire()
        await one.acquire()
        assert clock.sleeps == pytest.approx([0.11, 0.12, 0.11, 0.12], abs=1e-6)


async def test_a_wall_clock_set_back_does_not_hold_requests_until_it_catches_up(
    tmp_path: Path,
) -> None:
    clock = FakeClock(start=1_800_000_000.0)
    async with fake(tmp_path, clock) as one, fake(tmp_path, clock) as two:
        await one.acquire()
        await one.acquire()
        clock.now -= 3600  # an NTP step of an hour back
        await two.acquire()
        # the shared timeline moved back with the clock: the spacing (doubled, 2 of
        # the minute's 3 spent), not an hour
        assert clock.sleeps == [0.1, 0.2]
        await one.acquire()  # the minute's window, on the moved timeline
        assert clock.sleeps[2:] == [pytest.approx(59.7, abs=1e-5)]


def test_no_extra_margin_where_the_spacing_would_set_the_pace() -> None:
    from nexudus_async._core.local_limiter import _cross_margin

    published = RateLimits.published()
    assert _cross_margin(published) == published.margin
    assert _cross_margin(published.scaled(0.05)) == 0.005
    assert _cross_margin(published.scaled(0.01)) == 0.0  # 58 writes x 11 ms > 0.6 s


async def test_prime_adds_only_what_the_shared_windows_lack(tmp_path: Path) -> None:
    limits = RateLimits(
        min_interval=0.0, windows=(Window(5, HOUR), Window(4, DAY, writes_only=True))
    ).without_safety()
    clock = FakeClock(start=1_800_000_000.0)
    wall = clock.now
    sends = [wall - 300, wall - 200, wall - 100]
    kw = {"account": "acct", "directory": tmp_path, "clock": clock, "sleep": clock.sleep}
    async with (
        LocalRateLimiter(limits, **kw) as one,  # type: ignore[arg-type]
        LocalRateLimiter(limits, **kw) as two,  # type: ignore[arg-type]
    ):
        await two.acquire()  # two holds the store's old generation
        assert await one.prime(sends, now=wall) == 3
        assert await one.prime(sends, now=wall) == 0  # idempotent
        assert await two.prime(sends, now=wall) == 0  # and so for another process
        await two.acquire(write=True)  # the day's fourth write goes at once
        assert clock.sleeps == []
        # the fifth waits until the oldest primed write leaves the daily window
        await one.acquire(write=True)
        assert clock.sleeps == [DAY - 300]
        reads, writes = two.spent()
        # what the windows count: the last 5 requests, the last 4 writes
        assert writes == [pytest.approx(t) for t in (-DAY + 100, -DAY + 200, -DAY + 300, 0.0)]
        assert reads == [pytest.approx(-DAY + 300)]  # two's first request


async def test_spending_is_read_without_recording_or_creating_a_store(tmp_path: Path) -> None:
    clock = FakeClock()
    assert shared_spending(LIMITS, "acct", directory=tmp_path) == ([], [])
    assert not (tmp_path / "limits").exists()
    async with fake(tmp_path, clock) as limiter:
        await limiter.acquire(write=True)
        await limiter.acquire()
    spent = shared_spending(LIMITS, "acct", directory=tmp_path, now=clock.now + 1)
    assert spent == ([pytest.approx(-1.0)], [pytest.approx(-1.1)])  # read, write
    again = shared_spending(LIMITS, "acct", directory=tmp_path, now=clock.now + 1)
    assert again == spent  # reading recorded nothing


def test_a_store_that_cannot_be_used_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(LimiterStoreError) as info:
        LocalRateLimiter(LIMITS, account="acct", directory=blocker)
    assert str(info.value).startswith(f"{blocker}/limits")
    assert "cannot use the shared rate-limit store" in str(info.value)


async def test_a_torn_store_is_started_again(tmp_path: Path) -> None:
    path = store_path(tmp_path, "acct", LIMITS)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\0" * 50)  # a crash between creating and writing the header
    clock = FakeClock()
    async with fake(tmp_path, clock) as limiter:
        await limiter.acquire()
        assert limiter.spent(now=clock.now) == ([0.0], [])


async def test_a_storm_of_cancelled_waits_leaks_nothing(tmp_path: Path) -> None:
    rng = random.Random(28)
    limits = RateLimits(min_interval=0.005, windows=(Window(4, 0.2),)).without_safety()
    async with LocalRateLimiter(limits, account="acct", directory=tmp_path) as limiter:

        async def caller() -> bool:
            try:
                await asyncio.wait_for(
                    limiter.acquire(write=rng.random() < 0.3), rng.uniform(0, 0.05)
                )
            except TimeoutError:
                return False
            return True

        async with asyncio.timeout(30):
            granted = sum(await asyncio.gather(*(caller() for _ in range(60))))
            assert granted < 60 and limiter.acquired == granted  # only what went, counted
            assert not limiter._read_lock.locked() and not limiter._write_lock.locked()
            assert limiter._bound().try_lock()  # the store's lock is free
            limiter._bound().unlock()
            await limiter.acquire()  # and the limiter still answers
        limiter.spent()  # read the store again
        sent, _ = limiter._rules.histories()
        assert len(sent) == min(granted + 1, 4)  # what went, a window's worth kept


# ---------------------------------------------------------------- real processes

_WORKER = """
import asyncio, sys
from nexudus_async import LocalRateLimiter, RateLimits
async def main():
    limits = RateLimits.published().scaled(0.02)
    async with LocalRateLimiter(limits, account="shared", directory=sys.argv[1]) as limiter:
        for i in range(int(sys.argv[2])):
            await asyncio.wait_for(limiter.acquire(write=i % 2 == 0), 30)
    print("ok", limiter.acquired)
asyncio.run(main())
"""


def _run_workers(directory: Path, workers: int, per_worker: int) -> list[str]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(directory), str(per_worker)],
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


def test_processes_together_stay_under_the_limits(tmp_path: Path) -> None:
    per_worker, workers = 30, 3
    outs = _run_workers(tmp_path, workers, per_worker)
    assert outs == [f"ok {per_worker}\n"] * workers
    limits = RateLimits.published().scaled(0.02)
    # a reader far in the future of these sends: every one still in the windows' rings
    sent, writes = LocalRateLimiter(limits, account="shared", directory=tmp_path).spent(now=0.0)
    everything = sorted([*sent, *writes])
    assert len(everything) == per_worker * workers and len(writes) == per_worker * workers // 2
    ref = limits.effective()
    gaps = [b - a for a, b in itertools.pairwise(everything)]
    assert min(gaps) >= ref.interval  # spaced, whichever process sent
    for times, windows in ((everything, ref.all_windows), (sorted(writes), ref.write_windows)):
        for limit, period in windows:
            for i in range(len(times) - limit):
                assert times[i + limit] - times[i] >= period


_HOLDER = """
import sys, time
from nexudus_async import LocalRateLimiter, RateLimits, Window
limits = RateLimits(
    min_interval=0.1, windows=(Window(3, 60.0), Window(2, 60.0, writes_only=True))
).without_safety()
limiter = LocalRateLimiter(limits, account="acct", directory=sys.argv[1])
assert limiter._store.try_lock()
print("locked", flush=True)
time.sleep(60)
"""


def _start_holder(directory: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(directory)], stdout=subprocess.PIPE, text=True
    )


async def test_a_holder_killed_mid_decision_leaves_no_stuck_lock(tmp_path: Path) -> None:
    clock = FakeClock()
    limiter = fake(tmp_path, clock, lock_timeout=30.0)
    holder = _start_holder(tmp_path)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        assert limiter.try_acquire() is False  # held by the other process
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        await limiter.acquire()  # the OS released the dead holder's lock
        assert limiter.acquired == 1 and limiter.try_acquire() is False  # spacing, not lock
        clock.now += 0.1
        assert limiter.try_acquire() is True
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
        limiter.close()


async def test_a_stopped_holder_is_reported_not_waited_for_ever(tmp_path: Path) -> None:
    clock = FakeClock()
    limiter = fake(tmp_path, clock, lock_timeout=0.2)
    holder = _start_holder(tmp_path)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        started = time.monotonic()
        with pytest.raises(LimiterStoreError, match="held the shared rate-limit store's lock"):
            await limiter.acquire()
        assert time.monotonic() - started >= 0.2
    finally:
        holder.kill()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
        limiter.close()
