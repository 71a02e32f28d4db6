"""The client-side rate limiter: stay under the API's published limits.

Nexudus throttles per client (1 request per 100 ms, 120 per minute, 5,000 per
hour, 200,000 per day; POST/PUT/DELETE also 60 per minute and 5,000 per day)
and answers a throttled request with 409 (or 429). Waiting for a 409 costs a
round trip and, for everybody sharing the client, a penalty; so every request
of a client first passes one :class:`RateLimiter` that spaces them out.

The windows are exact sliding windows over the send times of the requests this
client made (not fixed buckets): a request may go when fewer than ``limit``
requests went out in the last ``period`` seconds. A small safety margin covers
network jitter between our clock and the server's (requests sent 100 ms apart
can arrive 95 ms apart).

The clock and the sleep function are injectable, so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence

import attrs

__all__ = [
    "SCALED_JITTER_FLOOR",
    "EffectiveLimits",
    "RateLimiter",
    "RateLimits",
    "SpacingState",
    "Window",
    "half_full",
    "unseen_sends",
]

Clock = Callable[[], float]

SCALED_JITTER_FLOOR = 0.005
"""Seconds of margin a time-scaled limiter keeps at least. With the client and
an emulator sharing two cores, a request's way from our limiter to the
server's clock varied by more than 3 ms (benchmark 4 saw two arrivals closer
than the 8 ms interval although the client spaced them 11 ms apart). The
per-minute windows, not this spacing, set the sustained rate, so it is cheap."""
Sleep = Callable[[float], Awaitable[None]]


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value!r}")


@attrs.frozen(slots=True)
class Window:
    """At most ``limit`` requests in any ``period`` seconds (writes only, if ``writes_only``)."""

    limit: int
    period: float
    writes_only: bool = False

    def __attrs_post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"Window limit must be at least 1, got {self.limit!r}")
        if self.period <= 0:
            raise ValueError(f"Window period must be positive, got {self.period!r}")


@attrs.frozen(slots=True)
class RateLimits:
    """The limits a :class:`RateLimiter` keeps under (frozen; build variants with helpers).

    Use :meth:`published` (the default of :class:`~nexudus_async.NexudusClient`)
    for the live API, :meth:`scaled` for an emulator whose clock runs faster
    (``time_scale``), and ``limits=None`` on the client to switch limiting off.

    Attributes:
        min_interval: Seconds between two consecutive requests.
        windows: The sliding windows.
        safety: Fraction kept in reserve: counts are lowered and periods
            lengthened by it (0.02 keeps 118 of 120 per minute).
        margin: Seconds added to ``min_interval`` and to every period, to
            absorb the jitter between our send time and the server's arrival time.
    """

    min_interval: float = attrs.field(default=0.1, validator=_positive)
    windows: tuple[Window, ...] = ()
    safety: float = attrs.field(default=0.02, validator=_positive)
    margin: float = attrs.field(default=0.01, validator=_positive)

    @classmethod
    def published(cls) -> RateLimits:
        """The vendor's published limits (the client's default)."""
        return cls(
            min_interval=0.1,
            windows=(
                Window(120, 60.0),
                Window(5_000, 3_600.0),
                Window(200_000, 86_400.0),
                Window(60, 60.0, writes_only=True),
                Window(5_000, 86_400.0, writes_only=True),
            ),
        )

    def scaled(self, factor: float, *, margin: float | None = None) -> RateLimits:
        """The same limits on a clock running ``1/factor`` times faster.

        For an emulator started with ``time_scale=0.01`` use
        ``RateLimits.published().scaled(0.01)``: 1 ms between requests, 120
        per 0.6 s, and so on. ``margin`` (absolute seconds, not scaled, since
        network and event-loop jitter do not shrink with the emulator's clock)
        defaults to this object's margin times ``factor`` but at least
        :data:`SCALED_JITTER_FLOOR`.
        """
        if factor <= 0:
            raise ValueError(f"scale factor must be positive, got {factor!r}")
        return attrs.evolve(
            self,
            min_interval=self.min_interval * factor,
            windows=tuple(attrs.evolve(w, period=w.period * factor) for w in self.windows),
            margin=max(self.margin * factor, SCALED_JITTER_FLOOR) if margin is None else margin,
        )

    def without_safety(self) -> RateLimits:
        """The limits exactly as given (no reserve, no margin)."""
        return attrs.evolve(self, safety=0.0, margin=0.0)

    def effective(self) -> EffectiveLimits:
        """The limits as every limiter keeps them: the reserve taken, the margin added."""
        keep = 1.0 - self.safety
        stretch = 1.0 + self.safety
        interval = widen_step = widen_max = 0.0
        if self.min_interval > 0:
            interval = self.min_interval * stretch + self.margin
            # How far a throttled answer may widen the spacing: the jitter
            # between our clock and the server's does not scale with the limits.
            widen_step = max(self.margin / 2, self.min_interval * 0.05)
            widen_max = max(4 * widen_step, self.min_interval)
        all_windows: list[tuple[int, float]] = []
        write_windows: list[tuple[int, float]] = []
        for w in self.windows:
            eff = (max(1, math.floor(w.limit * keep)), w.period * stretch + self.margin)
            (write_windows if w.writes_only else all_windows).append(eff)
        return EffectiveLimits(
            interval, widen_step, widen_max, tuple(all_windows), tuple(write_windows)
        )


@attrs.frozen(slots=True)
class EffectiveLimits:
    """What :meth:`RateLimits.effective` returns: the numbers a limiter decides by.

    The in-memory, the machine-local and the Redis limiter and the dry run's
    schedule all read these, so the reserve and the margin have one definition.
    """

    interval: float = 0.0
    """Seconds between two requests (reserve and margin included; 0: no spacing)."""
    widen_step: float = 0.0
    """Extra spacing a throttled answer adds."""
    widen_max: float = 0.0
    """The most the spacing widens (after throttled answers, or for late wake-ups)."""
    all_windows: tuple[tuple[int, float], ...] = ()
    """(limit, period) of every window that counts all requests."""
    write_windows: tuple[tuple[int, float], ...] = ()
    """(limit, period) of the windows that count writes only."""

    def history_length(self, *, write: bool) -> int:
        """How many send times the largest window of a kind counts (at least 1)."""
        windows = self.write_windows if write else self.all_windows
        return max((n for n, _ in windows), default=1)


class RateLimiter:
    """Spaces out the requests of one client; shared by every call on it.

    ``await limiter.acquire(write=...)`` returns when the request may go and
    records it. Waiters are served first come, first served; a write waiting
    for the write-only windows does not hold up reads.
    :meth:`pause_until` makes everybody wait (after the API throttled us).
    """

    CALM_REQUESTS = 100
    """Requests without a throttled answer after which extra spacing halves."""

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._paused_until = -math.inf
        self._last = -math.inf
        eff = limits.effective() if limits is not None else EffectiveLimits()
        self._interval = eff.interval
        self._widen_step = eff.widen_step
        self._widen_max = eff.widen_max
        self._widened = 0.0
        self._calm = 0  # requests since the last widening or narrowing
        self._late = 0.0  # recent lateness of our own wake-ups (decaying maximum)
        self._all_windows = self._full_all = eff.all_windows
        self._write_windows = self._full_writes = eff.write_windows
        self._share = 1
        self._turn = 0
        self._sent: deque[float] = deque(maxlen=eff.history_length(write=False))
        self._writes: deque[float] = deque(maxlen=eff.history_length(write=True))
        self.total_wait = 0.0
        """Seconds spent waiting in :meth:`acquire`, summed over all callers."""
        self.acquired = 0
        """Requests let through."""

    @property
    def limits(self) -> RateLimits | None:
        return self._limits

    def pause_until(self, deadline: float) -> None:
        """Let no request go before ``deadline`` (on this limiter's clock)."""
        self._paused_until = max(self._paused_until, deadline)

    def pause_for(self, seconds: float) -> None:
        """Let no request go for ``seconds`` from now."""
        self.pause_until(self._clock() + seconds)

    def throttled(self, wait: float) -> None:
        """The API throttled a request anyway: pause everybody, and space requests wider.

        Requests spaced exactly can still arrive bunched up (network and event
        loop jitter), so each throttled answer adds a step to the spacing, up
        to a bound (the larger of four steps and the minimum interval). The
        extra spacing halves again after every :attr:`CALM_REQUESTS` requests
        without a throttled answer.
        """
        self.pause_for(wait)
        if self._interval > 0:
            self._widened = min(self._widened + self._widen_step, self._widen_max)
            self._calm = 0

    async def report_throttled(self, wait: float) -> None:
        """:meth:`throttled`, as the :class:`~nexudus_async._core.limiter.Limiter` protocol asks."""
        self.throttled(wait)

    def bind_account(self, account: str) -> None:
        """This limiter belongs to one client's memory: the account changes nothing."""

    async def prime(
        self, sent_at: Iterable[float], *, write: bool = True, now: float | None = None
    ) -> int:
        """Count an earlier run's requests (Unix times) in the windows; see ``Limiter.prime``."""
        return self.count_earlier(sent_at, write=write, now=now)

    def count_earlier(
        self, sent_at: Iterable[float], *, write: bool = True, now: float | None = None
    ) -> int:
        """:meth:`prime` without awaiting (for a store that must not be held across an await)."""
        if self._limits is None:
            return 0
        wall = time.time() if now is None else now
        mono = self._clock()
        times = sorted(mono - max(wall - t, 0.0) for t in sent_at)
        added = 0
        if write:  # writes first: each is a request too, so it goes into both histories
            new = unseen_sends(self._writes, times, [p for _, p in self._write_windows], mono)
            self._writes = deque(sorted([*self._writes, *new]), maxlen=self._writes.maxlen)
            self._sent = deque(sorted([*self._sent, *new]), maxlen=self._sent.maxlen)
            added += len(new)
        new = unseen_sends(self._sent, times, [p for _, p in self._all_windows], mono)
        self._sent = deque(sorted([*self._sent, *new]), maxlen=self._sent.maxlen)
        return added + len(new)

    def share(self, processes: int, turn: int = 0) -> None:
        """Keep to ``1/processes`` of the limits, sending only in turn ``turn`` of ``processes``.

        For processes of one account that cannot coordinate (a shared limiter's
        store is away): each keeps a share of every window, and the minimum
        spacing becomes turns on the wall clock (``time.time()``, the one clock
        they share). A turn is twice the spacing and requests leave in its
        first quarter, so two processes' requests are at least one and a half
        spacings apart: a late wake-up on a loaded machine still keeps one.
        ``share(1)`` restores the whole limits.
        """
        if processes < 1 or not 0 <= turn < processes:
            raise ValueError(f"turn {turn!r} of {processes!r} processes")
        self._share, self._turn = processes, turn

        def part(windows: tuple[tuple[int, float], ...]) -> tuple[tuple[int, float], ...]:
            return tuple((max(1, limit // processes), period) for limit, period in windows)

        self._all_windows = part(self._full_all)
        self._write_windows = part(self._full_writes)

    @property
    def shared_by(self) -> int:
        """How many processes this limiter shares the limits with (see :meth:`share`)."""
        return self._share

    def turn_delay(self) -> float:
        """Seconds until this process's turn (0 now, or when not sharing)."""
        # Every process must cut the same turns: the spacing of the limits alone,
        # not this process's widening or lateness.
        turn = 2 * self._interval
        if self._share == 1 or turn <= 0:
            return 0.0
        cycle = turn * self._share
        phase = (time.time() - self._turn * turn) % cycle
        return 0.0 if phase < turn / 4 else cycle - phase

    @property
    def spacing(self) -> float:
        """The current seconds between two requests (margin, widening and lateness included)."""
        return self._interval + self._widened + self.lateness_allowance

    LATE_DECAY = 0.98
    """Per wake-up, how much of the remembered lateness is kept."""

    @property
    def lateness_allowance(self) -> float:
        """Extra spacing for scheduling delay: twice the recent lateness of our wake-ups.

        On a loaded machine a sleeper wakes late, and so does whatever else
        shares the CPU (the request on its way out, the server's handler):
        requests spaced exactly can reach the server bunched. The lateness we
        measure on our own sleeps is the sign of it, so the spacing grows with
        it (bounded like the widening) and shrinks again as it fades.
        """
        if self._interval <= 0:
            return 0.0
        return min(2 * self._late, self._widen_max)

    def note_lateness(self, late: float) -> None:
        """A sleep of ours ended ``late`` seconds after it should have."""
        self._late = max(late, self._late * self.LATE_DECAY, 0.0)

    @staticmethod
    def _window_delay(
        sent: deque[float], windows: tuple[tuple[int, float], ...], now: float
    ) -> float:
        delay = 0.0
        for limit, period in windows:
            if len(sent) >= limit:
                delay = max(delay, sent[-limit] + period - now)
        return delay

    def _write_delay(self, now: float) -> float:
        return self._window_delay(self._writes, self._write_windows, now)

    def pressed(self, now: float, write: bool) -> bool:
        """Whether a window is at least half spent: the job will wait for windows anyway.

        Then the spacing doubles, for windows whose whole budget fits in
        their period at doubled spacing (118 per minute at 2 x 112 ms takes
        26 s). The windows, not the spacing, set the pace of such a job, so
        this costs its total time at most one burst's worth; in return its
        requests reach the server twice as far apart, and the server's own
        scheduling delays on a loaded machine no longer bunch them under the
        minimum interval. Short bursts (a web request's few calls) keep the
        plain spacing.
        """
        if self._interval <= 0:
            return False
        return half_full(self._sent, self._all_windows, now, self._interval) or (
            write and half_full(self._writes, self._write_windows, now, self._interval)
        )

    def _delay(self, now: float, write: bool) -> float:
        spacing = self._interval + self._widened + (self._late and self.lateness_allowance)
        if self._last + spacing > now - self._interval and self.pressed(now, write):
            spacing += self._interval
        delay = max(self._paused_until - now, self._last + spacing - now)
        if self._share > 1:
            delay = max(delay, self.turn_delay())
        delay = max(delay, self._window_delay(self._sent, self._all_windows, now))
        if write:
            delay = max(delay, self._write_delay(now))
        return delay

    async def _wait(self, delay_of: Callable[[float], float]) -> float:
        due = None
        while True:
            now = self._clock()
            if due is not None:
                self.note_lateness(now - due)
            delay = delay_of(now)
            if delay <= 0:
                return now
            self.total_wait += delay
            due = now + delay
            await self._sleep(delay)

    def try_acquire(self, *, write: bool = False) -> bool:
        """Count a request as sent and return True if it may go now; False if it must wait.

        The waiting-free part of :meth:`acquire`, without awaiting: when it
        answers False, ``await acquire(write=...)``. Writes held by the
        write-only windows always answer False (they queue in :meth:`acquire`).
        """
        if (write and self._write_windows) or self._lock.locked():
            return False
        now = self._clock()
        if self._interval <= 0 and not self._all_windows:
            # No spacing and no windows (limits off): what _delay would weigh comes down to
            # a pause and a widening (one a shared store may have set).
            if now < self._paused_until or now < self._last + self._widened:
                return False
        elif self._delay(now, write) > 0:
            return False
        self.record(now, write)
        return True

    async def acquire(self, *, write: bool = False) -> None:
        """Wait until a request may be sent, then count it as sent."""
        if write and self._write_windows:
            async with self._write_lock:
                # Only writes holding this lock record writes, so once the
                # write windows allow us they keep allowing us.
                await self._wait(self._write_delay)
                await self._acquire(write=True)
        else:
            await self._acquire(write=write)

    async def _acquire(self, *, write: bool) -> None:
        if not self._lock.locked():
            # Nobody waits: if the request may go now, it goes without queueing.
            now = self._clock()
            if self._delay(now, write) <= 0:
                self.record(now, write)
                return
        async with self._lock:
            now = await self._wait(lambda t: self._delay(t, write))
            self.record(now, write)

    def record(self, now: float, write: bool) -> None:
        """Count a request sent at ``now`` whoever decided it may go (a shared store did)."""
        if self._widened:
            self._calm += 1
            if self._calm >= self.CALM_REQUESTS:
                self._calm = 0
                self._widened = 0.0 if self._widened < self._widen_step else self._widened / 2
        self._last = now
        self._sent.append(now)
        if write:
            self._writes.append(now)
        self.acquired += 1

    # A seam for a limiter whose state lives in a store shared by processes
    # (local_limiter.LocalRateLimiter): it loads the state, lets these same
    # rules decide, and saves what changed. Nothing here awaits.

    def spacing_state(self) -> SpacingState:
        """The state besides the send histories: last send, pause, widening."""
        return SpacingState(self._last, self._paused_until, self._widened, self._calm, self._late)

    def load_spacing_state(self, state: SpacingState) -> None:
        self._last, self._paused_until = state.last, state.paused_until
        self._widened, self._calm, self._late = state.widened, state.calm, state.late

    def histories(self) -> tuple[deque[float], deque[float]]:
        """The send times every window counts (all requests, writes), oldest first.

        Live: a shared store appends what other processes sent; each keeps
        only as many as the largest window counts.
        """
        return self._sent, self._writes

    def replace_histories(self, sent: Iterable[float], writes: Iterable[float]) -> None:
        self._sent = deque(sent, maxlen=self._sent.maxlen)
        self._writes = deque(writes, maxlen=self._writes.maxlen)

    def take(self, now: float, write: bool) -> float:
        """Record a request and return 0 if it may go at ``now``; else the seconds to wait."""
        delay = self._delay(now, write)
        if delay <= 0:
            self.record(now, write)
        return max(delay, 0.0)


@attrs.define
class SpacingState:
    """What :meth:`RateLimiter.spacing_state` returns: all but the send histories."""

    last: float = -math.inf
    """When the last request went (the limiter's clock)."""
    paused_until: float = -math.inf
    """No request before this (after a throttled answer)."""
    widened: float = 0.0
    """Extra spacing after throttled answers (halves when calm)."""
    calm: int = 0
    """Requests since the last widening or narrowing."""
    late: float = 0.0
    """Recent lateness of wake-ups (:meth:`RateLimiter.note_lateness`): shared, since
    one process sending late bunches its request with the next process's."""


def half_full(
    sent: Sequence[float], windows: Iterable[tuple[int, float]], now: float, interval: float
) -> bool:
    """Whether ``sent`` fills half of a window at ``now`` (see :meth:`RateLimiter.pressed`)."""
    for limit, period in windows:
        half = (limit + 1) // 2
        if half < 2 or limit * 2 * interval > period:
            continue  # doubled spacing would set this window's pace: leave it alone
        if len(sent) >= half and sent[-half] > now - period:
            return True
    return False


def unseen_sends(
    seen: Sequence[float], sends: Sequence[float], periods: Iterable[float], now: float
) -> list[float]:
    """The times of ``sends`` to add to ``seen`` so that every window counts as many as they hold.

    For each period, shortest first, the window ending ``now`` should count at
    least the sends inside it; the most recent sends not added yet make up the
    difference (the most recent, so they are remembered longest). Whatever
    ``seen`` already counts is not added again: priming is idempotent.
    ``sends`` must be in ascending order.
    """
    newest_first = [t for t in reversed(sends) if t <= now]
    added: list[float] = []
    for period in sorted(periods):
        start = now - period
        want = sum(1 for t in newest_first if t > start)
        have = sum(1 for t in seen if t > start) + sum(1 for t in added if t > start)
        while want > have and len(added) < len(newest_first) and newest_first[len(added)] > start:
            added.append(newest_first[len(added)])
            have += 1
    return added
