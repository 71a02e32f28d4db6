"""How long the API's rate limits make a job take, every window included.

The limiter lets a request go as soon as the spacing and every sliding window
allow it. :func:`finish_seconds` replays exactly that, on the limiter's own
effective windows (its reserve and margin included), for a job's reads and
then its writes, after the requests an earlier run already spent (the
journal's send times). The dry run's estimate and the progress ETA both come
from it, so neither forgets the hourly (5,000 requests) or the daily (5,000
writes) window: a job of more than a day's writes is told so up front.

When the daily window is full the job **waits**: the limiter holds the next
write until the oldest one of the window is a day old, then carries on.
Stopping it meanwhile (Ctrl-C) and running the same command again later is
safe and loses nothing: the journal primes the rerun's limiter with what was
spent (:func:`~nexudus_async.bulk.executor.prime_limiter`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import attrs

from .._core.throttle import RateLimits, Window, half_full

__all__ = [
    "HeldBy",
    "Schedule",
    "Spent",
    "finish_seconds",
    "schedule",
    "shared_schedule",
    "spent_summary",
]

Spent = tuple[Sequence[float], Sequence[float]]
"""Send times of the account's reads and writes, in seconds before now (not above 0)."""

LONG = 3_600.0
"""Windows at least this long (the hourly and daily ones) are named to a user."""


@attrs.frozen
class HeldBy:
    """A window that held some of the job's requests back."""

    window: Window
    """As published (5,000 writes per 86,400 s)."""
    kept: int
    """What the limiter lets through in it, its reserve kept (4,900)."""
    over: int
    """The job's requests beyond what the window lets through: they wait for it to free."""
    first_held_at: float
    """Seconds from the start when the first of them could go."""


@attrs.frozen
class Schedule:
    seconds: float
    """Seconds from now until the last request may go."""
    held_by: tuple[HeldBy, ...]
    """The windows of an hour or more that held requests back, longest first."""
    times: tuple[float, ...] = ()
    """With ``keep_times``: when each request may go (seconds from now), in order."""


def schedule(
    limits: RateLimits | None,
    *,
    reads: int,
    writes: int,
    spent_reads: Sequence[float] = (),
    spent_writes: Sequence[float] = (),
    keep_times: bool = False,
) -> Schedule:
    """When ``reads`` then ``writes`` requests may go, the limiter's way.

    ``spent_*``: send times of earlier requests of the account, in seconds
    relative to now (so not above 0), in any order. ``keep_times``: also
    return when each request may go (the progress ETA reads it as it goes).
    """
    if limits is None or reads + writes <= 0:
        return Schedule(0.0, ())
    eff = limits.effective()  # the limiter's own windows: one definition of the reserve
    # The published windows, in the order the limiter keeps their effective forms.
    published = [w for w in limits.windows if not w.writes_only]
    published += [w for w in limits.windows if w.writes_only]
    effective = [*eff.all_windows, *eff.write_windows]
    n_all = len(eff.all_windows)
    spent_all = sorted([*spent_reads, *spent_writes])
    sent = deque(spent_all, maxlen=eff.history_length(write=False))
    sent_w = deque(sorted(spent_writes), maxlen=eff.history_length(write=True))
    held = [0] * len(effective)
    first = [0.0] * len(effective)
    last = spent_all[-1] if spent_all else -eff.interval
    t = 0.0
    times: list[float] = []
    for k in range(reads + writes):
        write = k >= reads
        t = max(0.0, last + eff.interval)
        if half_full(sent, eff.all_windows, t, eff.interval) or (
            write and half_full(sent_w, eff.write_windows, t, eff.interval)
        ):
            t = max(0.0, last + 2 * eff.interval)  # RateLimiter.pressed: the spacing doubles
        binding = -1
        for i, (limit, period) in enumerate(effective):
            history = sent if i < n_all else sent_w
            if (i < n_all or write) and len(history) >= limit and history[-limit] + period > t:
                t, binding = history[-limit] + period, i
        if binding >= 0:
            held[binding] += 1
            if held[binding] == 1:
                first[binding] = t
        if write:
            sent_w.append(t)
        sent.append(t)
        last = t
        if keep_times:
            times.append(t)
    counted = [reads + writes] * n_all + [writes] * (len(effective) - n_all)
    held_by = [
        HeldBy(published[i], effective[i][0], max(counted[i] - effective[i][0], 1), first[i])
        for i in range(len(effective))
        if held[i] and published[i].period >= LONG * _scale(limits)
    ]
    return Schedule(t, tuple(sorted(held_by, key=lambda h: -h.window.period)), tuple(times))


def shared_schedule(*, reads: int, writes: int, time_scale: float, spent: Spent) -> Schedule:
    """:func:`schedule` at the published limits, after what other jobs already spent.

    ``spent``: what the shared store counts (other jobs of this machine on the
    account), in real seconds; on an emulator's clock (``time_scale``) a
    second is ``1 / time_scale`` published seconds.
    """
    scale = time_scale if time_scale > 0 else 1.0
    return schedule(
        RateLimits.published(),
        reads=reads,
        writes=writes,
        spent_reads=[t / scale for t in spent[0]],
        spent_writes=[t / scale for t in spent[1]],
    )


def spent_summary(spent: Spent) -> str:
    """One line on what the account's windows already hold."""
    reads, writes = len(spent[0]), len(spent[1])
    return (
        f"{reads + writes:,} requests ({writes:,} writes) in the account's windows, "
        "by jobs of this machine; the estimate waits for them"
    )


def finish_seconds(limits: RateLimits | None, *, reads: int, writes: int, **spent: Any) -> float:
    """:func:`schedule`'s seconds only."""
    return schedule(limits, reads=reads, writes=writes, **spent).seconds


def _scale(limits: RateLimits) -> float:
    """How much faster than published ``limits`` run (1 for the published ones)."""
    base = RateLimits.published().min_interval
    return limits.min_interval / base if limits.min_interval > 0 else 1.0
