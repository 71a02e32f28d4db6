"""The in-memory RateLimiter's rules at their edges, on a fake clock.

Each test pins a number a one-line change would move: the effective spacing and
windows the limits become, the widening after a throttled answer and its
calming, the turns of processes sharing the limits, what a window lets through
at exactly its limit, and the time a caller is told to wait.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from nexudus_async._core import throttle
from nexudus_async._core.throttle import (
    EffectiveLimits,
    RateLimiter,
    RateLimits,
    SpacingState,
    Window,
    unseen_sends,
)

from ..client.conftest import FakeClock

START = 1000.0


def limiter(limits: RateLimits | None, clock: FakeClock) -> RateLimiter:
    return RateLimiter(limits, clock=clock, sleep=clock.sleep)


def exact(min_interval: float, *windows: Window) -> RateLimits:
    return RateLimits(min_interval=min_interval, windows=windows).without_safety()


# the limits


def test_the_defaults_and_the_published_limits() -> None:
    assert RateLimits() == RateLimits(min_interval=0.1, windows=(), safety=0.02, margin=0.01)
    assert Window(3, 1.0).writes_only is False
    assert RateLimits.published() == RateLimits(
        min_interval=0.1,
        windows=(
            Window(120, 60.0),
            Window(5_000, 3_600.0),
            Window(200_000, 86_400.0),
            Window(60, 60.0, writes_only=True),
            Window(5_000, 86_400.0, writes_only=True),
        ),
        safety=0.02,
        margin=0.01,
    )
    assert throttle.SCALED_JITTER_FLOOR == 0.005


def test_the_smallest_valid_limits_are_taken_and_one_less_refused_in_words() -> None:
    assert Window(1, 1e-9).limit == 1
    assert RateLimits(min_interval=0.0, safety=0.0, margin=0.0).margin == 0.0
    with pytest.raises(ValueError) as caught:
        Window(0, 1.0)
    assert str(caught.value) == "Window limit must be at least 1, got 0"
    with pytest.raises(ValueError) as caught:
        Window(1, -0.5)
    assert str(caught.value) == "Window period must be positive, got -0.5"
    for name in ("min_interval", "safety", "margin"):
        with pytest.raises(ValueError) as caught:
            RateLimits(**{name: -0.25})  # type: ignore[arg-type]
        assert str(caught.value) == f"{name} must not be negative, got -0.25"
    with pytest.raises(ValueError) as caught:
        RateLimits().scaled(-1.0)
    assert str(caught.value) == "scale factor must be positive, got -1.0"


def test_scaling_keeps_write_windows_and_an_explicit_margin() -> None:
    limits = exact(0.5, Window(4, 10.0, writes_only=True)).scaled(0.1, margin=0.002)
    assert limits.min_interval == pytest.approx(0.05)
    (window,) = limits.windows
    assert (window.limit, window.period, window.writes_only) == (4, pytest.approx(1.0), True)
    assert (limits.margin, limits.safety) == (0.002, 0.0)
    # the margin scales with the clock, above the jitter floor
    assert RateLimits(margin=1.0).scaled(0.5).margin == pytest.approx(0.5)
    assert RateLimits(margin=0.01).scaled(0.1).margin == pytest.approx(0.005)
    assert RateLimits(safety=0.3).without_safety() == RateLimits(safety=0.0, margin=0.0)


# what the limits become


async def test_safety_and_margin_stretch_the_spacing_and_lower_the_counts() -> None:
    clock = FakeClock()
    limits = RateLimits(min_interval=1.0, windows=(Window(10, 100.0),), safety=0.2, margin=0.5)
    lim = limiter(limits, clock)
    assert lim.spacing == pytest.approx(1.0 * 1.2 + 0.5)
    # 10 x 0.8 = 8 per 100 x 1.2 + 0.5 = 120.5 s
    for _ in range(8):
        lim.take(clock.now, False)
        clock.now += lim.spacing * 2
    assert lim.take(clock.now, False) == pytest.approx(START + 120.5 - clock.now)


def test_the_effective_limits_every_limiter_reads() -> None:
    eff = RateLimits.published().effective()
    assert eff == EffectiveLimits(
        interval=pytest.approx(0.1 * 1.02 + 0.01),  # type: ignore[arg-type]
        widen_step=pytest.approx(0.005),  # type: ignore[arg-type]
        widen_max=pytest.approx(0.1),  # type: ignore[arg-type]
        all_windows=(
            (117, pytest.approx(60 * 1.02 + 0.01)),
            (4900, pytest.approx(3600 * 1.02 + 0.01)),
            (196_000, pytest.approx(86_400 * 1.02 + 0.01)),
        ),
        write_windows=((58, pytest.approx(61.21)), (4900, pytest.approx(88_128.01))),
    )
    assert (eff.history_length(write=False), eff.history_length(write=True)) == (196_000, 4900)
    bare = exact(0.0, Window(3, 10.0)).effective()
    assert bare == EffectiveLimits(0.0, 0.0, 0.0, ((3, 10.0),), ())
    assert (bare.history_length(write=False), bare.history_length(write=True)) == (3, 1)
    # no spacing asked: none kept, not even the margin (the windows keep theirs)
    unspaced = RateLimits(min_interval=0.0, windows=(Window(3, 10.0),)).effective()
    assert (unspaced.interval, unspaced.widen_step, unspaced.widen_max) == (0.0, 0.0, 0.0)
    assert unspaced.all_windows == ((2, pytest.approx(10.21)),)


def test_record_counts_a_send_decided_elsewhere_even_when_it_would_wait() -> None:
    clock = FakeClock()
    lim = limiter(exact(1.0, Window(5, 10.0), Window(1, 10.0, writes_only=True)), clock)
    lim.record(START, True)
    lim.record(START, True)  # a shared store let both go: both are counted
    sent, writes = lim.histories()
    assert (list(sent), list(writes), lim.acquired) == ([START, START], [START], 2)
    assert lim.take(START + 1.0, False) == 0.0
    assert lim.take(START + 1.5, True) == pytest.approx(8.5)


def test_a_window_kept_in_reserve_still_lets_one_through() -> None:
    clock = FakeClock()
    lim = limiter(RateLimits(min_interval=0.0, windows=(Window(1, 10.0),), safety=0.5), clock)
    assert lim.take(clock.now, False) == 0.0
    assert lim.take(clock.now, False) == pytest.approx(10.0 * 1.5 + 0.01)


def test_a_window_lets_exactly_its_limit_through_then_waits_for_the_oldest() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.0, Window(3, 10.0)), clock)
    for at in (0.0, 1.0, 2.0):
        assert lim.take(START + at, False) == 0.0
    assert lim.take(START + 3.0, False) == pytest.approx(7.0)
    assert lim.take(START + 10.0, False) == 0.0
    assert lim.take(START + 10.0, False) == pytest.approx(1.0)
    assert lim.acquired == 4


def test_the_histories_keep_as_many_as_the_largest_window_counts() -> None:
    clock = FakeClock()
    lim = limiter(
        exact(0.0, Window(2, 5.0), Window(3, 50.0), Window(2, 9.0, writes_only=True)), clock
    )
    sent, writes = lim.histories()
    assert (sent.maxlen, writes.maxlen) == (3, 2)
    bare, bare_writes = limiter(None, clock).histories()
    assert (bare.maxlen, bare_writes.maxlen) == (1, 1)
    lim.replace_histories([1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0])
    sent, writes = lim.histories()
    assert (list(sent), list(writes)) == ([2.0, 3.0, 4.0], [6.0, 7.0])
    assert (sent.maxlen, writes.maxlen) == (3, 2)


# spacing, pauses, widening


def test_take_waits_for_the_spacing_and_records_only_what_goes() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.5), clock)
    assert lim.take(START, False) == 0.0
    sent, writes = lim.histories()
    assert (list(sent), list(writes)) == ([START], [])
    assert lim.take(START + 0.2, False) == pytest.approx(0.3)
    assert lim.take(START + 0.5, True) == 0.0
    assert lim.acquired == 2
    sent, writes = lim.histories()  # without windows each keeps the last one
    assert (list(sent), list(writes)) == ([START + 0.5], [START + 0.5])
    assert lim.spacing_state() == SpacingState(START + 0.5, -math.inf, 0.0, 0, 0.0)


def test_a_pause_is_never_shortened_by_a_shorter_one() -> None:
    clock = FakeClock()
    lim = limiter(None, clock)
    lim.pause_for(5.0)
    lim.pause_until(START + 1.0)
    assert lim.take(START + 4.0, False) == pytest.approx(1.0)
    assert lim.spacing_state().paused_until == START + 5.0


async def test_report_throttled_pauses_and_widens_by_a_step_up_to_the_bound() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.1), clock)  # no margin: a step is 5 % of 0.1, the bound 0.1
    await lim.report_throttled(2.0)
    assert lim.take(START + 1.0, False) == pytest.approx(1.0)
    assert lim.spacing == pytest.approx(0.105)
    for _ in range(30):
        lim.throttled(0.0)
    assert lim.spacing == pytest.approx(0.2)  # 0.1 + at most max(4 x 0.005, 0.1)
    state = lim.spacing_state()
    assert (state.widened, state.calm) == (pytest.approx(0.1), 0)


def test_a_large_margin_sets_the_widening_step() -> None:
    clock = FakeClock()
    lim = limiter(RateLimits(min_interval=0.1, safety=0.0, margin=0.04), clock)
    lim.throttled(0.0)
    assert lim.spacing == pytest.approx(0.14 + 0.02)  # a step of half the margin
    for _ in range(10):
        lim.throttled(0.0)
    assert lim.spacing == pytest.approx(0.14 + 0.1)  # max(4 x 0.02, 0.1)
    big = limiter(RateLimits(min_interval=0.1, safety=0.0, margin=0.1), clock)
    for _ in range(10):
        big.throttled(0.0)
    assert big.spacing == pytest.approx(0.2 + 0.2)  # 4 steps of 0.05


def test_a_limiter_without_spacing_is_paused_but_never_widened() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.0, Window(5, 1.0)), clock)
    lim.throttled(3.0)
    assert (lim.spacing, lim.spacing_state().widened) == (0.0, 0.0)
    assert lim.take(START, False) == pytest.approx(3.0)
    lim.note_lateness(1.0)
    assert lim.lateness_allowance == 0.0


def test_the_widening_halves_after_each_hundred_calm_requests_then_ends() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.1), clock)
    assert RateLimiter.CALM_REQUESTS == 100
    for _ in range(4):
        lim.throttled(0.0)
    assert lim.spacing_state().widened == pytest.approx(0.02)
    now = START

    def calm(requests: int) -> None:
        nonlocal now
        for _ in range(requests):
            now += 1.0
            assert lim.take(now, False) == 0.0

    calm(99)
    assert lim.spacing_state().widened == pytest.approx(0.02)
    assert lim.spacing_state().calm == 99
    calm(1)
    assert (lim.spacing_state().widened, lim.spacing_state().calm) == (pytest.approx(0.01), 0)
    calm(100)
    assert lim.spacing_state().widened == pytest.approx(0.005)
    calm(100)
    assert lim.spacing_state().widened == pytest.approx(0.0025)  # exactly one step: halved
    calm(100)
    assert lim.spacing_state().widened == 0.0  # under a step: gone
    calm(100)
    assert lim.spacing_state().calm == 0  # no widening: nothing counted


def test_lateness_is_remembered_decaying_and_allowed_twice_up_to_the_bound() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.1), clock)
    assert RateLimiter.LATE_DECAY == 0.98
    lim.note_lateness(0.01)
    assert lim.lateness_allowance == pytest.approx(0.02)
    lim.note_lateness(0.0)
    assert lim.lateness_allowance == pytest.approx(0.02 * 0.98)
    lim.note_lateness(-5.0)
    assert lim.spacing_state().late == pytest.approx(0.01 * 0.98 * 0.98)
    lim.note_lateness(1.0)
    assert lim.lateness_allowance == pytest.approx(0.1)
    assert lim.take(START, False) == 0.0
    assert lim.take(START, False) == pytest.approx(0.2)


async def test_a_wait_is_summed_and_a_late_wake_up_noted() -> None:
    clock = FakeClock()

    async def late_sleep(seconds: float) -> None:
        await clock.sleep(seconds + 0.003)

    lim = RateLimiter(exact(0.1), clock=clock, sleep=late_sleep)
    await lim.acquire()
    await lim.acquire()
    # it slept 0.1, woke 3 ms late, and the spacing grew by twice that at once:
    # 3 ms more to sleep (woken late again), 0.103 s asked in all
    assert lim.total_wait == pytest.approx(0.103)
    assert clock.now - START == pytest.approx(0.109)
    assert lim.spacing_state().late == pytest.approx(0.003)
    await lim.acquire()  # spaced 0.1 + 2 x 0.003
    assert lim.total_wait == pytest.approx(0.103 + 0.106)
    assert clock.now - START == pytest.approx(0.109 + 0.109)


def test_the_state_round_trips() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.1), clock)
    state = SpacingState(last=START, paused_until=START + 2.0, widened=0.05, calm=7, late=0.01)
    lim.load_spacing_state(state)
    assert lim.spacing_state() == state
    assert lim.take(START + 1.0, False) == pytest.approx(1.0)
    assert SpacingState() == SpacingState(-math.inf, -math.inf, 0.0, 0, 0.0)


# doubling when a window is half spent


def test_pressed_counts_half_a_window_rounded_up() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.1, Window(5, 60.0)), clock)  # half of 5 is 3
    lim.replace_histories([START - 1.0, START - 0.5], [])
    assert not lim.pressed(START, False)
    lim.replace_histories([START - 1.0, START - 0.5, START - 0.2], [])
    assert lim.pressed(START, False)
    # a send leaves the window after its period: then fewer than half are in it
    assert lim.pressed(START + 58.9, False)
    assert not lim.pressed(START + 59.0, False)


def test_pressed_leaves_windows_alone_that_doubling_would_pace() -> None:
    clock = FakeClock()
    # 4 per 0.8 s at 2 x 0.1 s takes exactly 0.8 s: still doubled
    at_edge = limiter(exact(0.1, Window(4, 0.8)), clock)
    at_edge.replace_histories([START - 0.1, START], [])
    assert at_edge.pressed(START, False)
    over = limiter(exact(0.1, Window(4, 0.79)), clock)
    over.replace_histories([START - 0.1, START], [])
    assert not over.pressed(START, False)
    # a window of 2 (half of it 1) is never half spent
    tiny = limiter(exact(0.1, Window(2, 60.0)), clock)
    tiny.replace_histories([START], [])
    assert not tiny.pressed(START, False)
    three = limiter(exact(0.1, Window(3, 60.0)), clock)  # half of 3 is 2
    three.replace_histories([START - 1.0, START], [])
    assert three.pressed(START, False)
    assert not limiter(exact(0.0, Window(4, 60.0)), clock).pressed(START, True)


def test_a_pressed_limiter_doubles_only_a_request_that_follows_closely() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.1, Window(4, 60.0)), clock)
    lim.replace_histories([START - 10.0, START], [])
    lim.load_spacing_state(SpacingState(last=START))
    assert lim.take(START + 0.05, False) == pytest.approx(0.15)  # 2 x 0.1 after the last
    lim2 = limiter(exact(0.1, Window(4, 60.0)), clock)
    lim2.replace_histories([START - 10.0, START - 0.3], [])
    lim2.load_spacing_state(SpacingState(last=START - 0.3))
    assert lim2.take(START - 0.1 + 1e-9, False) == 0.0  # 0.2 past the last: not doubled


# sharing between processes


def test_sharing_divides_every_window_and_refuses_a_turn_out_of_range() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.0, Window(7, 10.0), Window(3, 10.0, writes_only=True)), clock)
    assert lim.shared_by == 1
    lim.share(2, 1)
    assert lim.shared_by == 2
    assert lim.take(START, True) == 0.0
    assert lim.take(START, True) == pytest.approx(10.0)  # max(1, 3 // 2) writes
    assert lim.take(START, False) == 0.0
    assert lim.take(START + 1, False) == 0.0
    assert lim.take(START + 2, False) == pytest.approx(8.0)  # 7 // 2 = 3 requests
    lim.share(5)
    assert lim.take(START + 2, False) == pytest.approx(9.0)  # max(1, 7 // 5)
    lim.share(1)
    assert lim.shared_by == 1
    assert lim.take(START + 2, False) == 0.0
    for processes, turn in ((0, 0), (2, 2), (2, -1)):
        with pytest.raises(ValueError) as caught:
            lim.share(processes, turn)
        assert str(caught.value) == f"turn {turn!r} of {processes!r} processes"


@pytest.mark.parametrize(
    ("wall", "turn", "wait"),
    [
        (750.0, 0, 0.0),  # the start of turn 0
        (750.06, 0, 0.0),  # within its first quarter (0.0625 s of 0.25)
        (750.0625, 0, 0.6875),  # a quarter in: wait for the next cycle (0.75 s)
        (750.0, 1, 0.25),  # turn 1 starts 0.25 s later
        (750.25, 2, 0.25),
        (750.5, 2, 0.0),
    ],
)
def test_a_shared_limiter_sends_in_the_first_quarter_of_its_turn(
    monkeypatch: pytest.MonkeyPatch, wall: float, turn: int, wait: float
) -> None:
    clock = FakeClock()
    lim = limiter(exact(0.125), clock)  # a turn is 2 x 0.125 s; three make a cycle
    monkeypatch.setattr(throttle.time, "time", lambda: wall)
    assert lim.turn_delay() == 0.0  # not sharing
    lim.share(3, turn)
    assert lim.turn_delay() == pytest.approx(wait)
    assert lim.take(START, False) == pytest.approx(wait)
    unspaced = limiter(exact(0.0), clock)
    unspaced.share(3, turn)
    assert unspaced.turn_delay() == 0.0


# awaiting


async def test_a_write_under_write_windows_never_takes_a_slot_without_waiting() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.0, Window(5, 10.0, writes_only=True)), clock)
    assert lim.try_acquire(write=True) is False
    assert lim.try_acquire() is True
    plain = limiter(exact(0.0, Window(5, 10.0)), clock)
    assert plain.try_acquire(write=True) is True
    assert list(plain.histories()[1]) == [START]


async def test_nobody_jumps_the_queue_while_a_caller_waits() -> None:
    clock = FakeClock()
    lim = limiter(exact(1.0), clock)
    await lim.acquire()
    waiting = asyncio.ensure_future(lim.acquire())
    await asyncio.sleep(0)
    # the waiter holds the queue: even a request due now must queue
    clock.now += 5.0
    assert lim.try_acquire() is False
    await asyncio.wait_for(waiting, 5)
    assert lim.try_acquire() is False  # 1 s after the waiter
    assert lim.acquired == 2


async def test_writes_wait_for_their_window_and_then_the_spacing() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.5, Window(1, 10.0, writes_only=True)), clock)
    await lim.acquire(write=True)
    await lim.acquire()
    await lim.acquire(write=True)
    assert clock.now - START == pytest.approx(10.0)
    sent, writes = lim.histories()  # each keeps as many as its largest window counts: one
    assert (list(writes), list(sent)) == ([START + 10.0], [START + 10.0])
    assert lim.acquired == 3


# priming with an earlier run's sends


async def test_priming_counts_an_earlier_run_against_the_right_windows() -> None:
    clock = FakeClock()
    lim = limiter(exact(0.0, Window(3, 100.0), Window(2, 100.0, writes_only=True)), clock)
    wall = 5000.0
    added = await lim.prime([wall - 50.0, wall - 10.0], now=wall)
    assert added == 2
    sent, writes = lim.histories()
    assert list(writes) == [START - 50.0, START - 10.0]
    assert list(sent) == [START - 50.0, START - 10.0]
    assert lim.try_acquire(write=False) is True
    assert lim.take(START, True) == pytest.approx(50.0)  # the write window is full
    # reads only: the write window stays as it was
    other = limiter(exact(0.0, Window(3, 100.0), Window(2, 100.0, writes_only=True)), clock)
    assert await other.prime([wall - 50.0, wall + 1.0], write=False, now=wall) == 2
    assert list(other.histories()[1]) == []
    assert list(other.histories()[0]) == [START - 50.0, START]  # a future send counts as now
    assert limiter(None, clock).count_earlier([wall], now=wall) == 0


async def test_priming_reads_the_wall_clock_when_not_told(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(throttle.time, "time", lambda: 7000.0)
    lim = limiter(exact(0.0, Window(3, 100.0), Window(2, 100.0, writes_only=True)), clock)
    assert lim.count_earlier([6990.0]) == 1  # a write unless told: counted in both
    assert (list(lim.histories()[0]), list(lim.histories()[1])) == ([START - 10.0], [START - 10.0])


def test_unseen_sends_count_each_period_shortest_first_and_skip_the_future() -> None:
    sends = [10.0, 20.0, 30.0, 40.0, 60.0]
    assert unseen_sends([], sends, [25.0, 100.0], now=50.0) == [40.0, 30.0, 20.0, 10.0]
    assert unseen_sends([], sends, [100.0, 25.0], now=50.0) == [40.0, 30.0, 20.0, 10.0]
    # a send exactly at the window's start is outside it
    assert unseen_sends([], [25.0, 30.0], [25.0], now=50.0) == [30.0]
    assert unseen_sends([], [50.0], [25.0], now=50.0) == [50.0]
    assert unseen_sends([26.0], [30.0, 40.0], [25.0], now=50.0) == [40.0]
    assert unseen_sends([20.0], [30.0, 40.0], [25.0], now=50.0) == [40.0, 30.0]
    assert unseen_sends([25.0], [30.0, 40.0], [25.0], now=50.0) == [40.0, 30.0]
    # what a shorter period added counts in the longer ones, once
    assert unseen_sends([45.0], [30.0, 40.0], [25.0, 100.0], now=50.0) == [40.0]
    assert unseen_sends([], [10.0, 40.0], [25.0, 100.0], now=50.0) == [40.0, 10.0]
    assert unseen_sends([], [], [25.0], now=50.0) == []


@pytest.mark.parametrize(("wall", "wait"), [(750.0, 0.25), (750.25, 0.0)])
def test_the_second_of_two_processes_sends_one_turn_later(
    monkeypatch: pytest.MonkeyPatch, wall: float, wait: float
) -> None:
    lim = limiter(exact(0.125), FakeClock())  # turns of 0.25 s, a cycle of 0.5 s
    lim.share(2, 1)
    monkeypatch.setattr(throttle.time, "time", lambda: wall)
    assert lim.turn_delay() == pytest.approx(wait)
