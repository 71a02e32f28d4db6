"""What every bulk command prints besides its own plan and summary: the estimate at
the published limits, the progress display and its ETA, and how to resume."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from .._core.entity import Entity
from .._core.throttle import RateLimits
from ..bulk.journal import Journal
from ..bulk.schedule import HeldBy, Schedule, schedule, spent_summary
from .progress import format_duration

__all__ = [
    "ETA_REPLAY",
    "estimate_lines",
    "noun",
    "progress_mode",
    "resume_text",
    "schedule_eta",
]

Spent = tuple[Sequence[float], Sequence[float]]


def noun(entity: Entity) -> str:
    """What a record is called in messages: passes, or links for product/tariff."""
    return "passes" if entity.count_field is not None else "links"


def progress_mode(requested: str, stream: TextIO) -> str:
    if requested != "auto":
        return requested
    return "bar" if stream.isatty() else "log"


def resume_text(resume_hint: str | None) -> str:
    if resume_hint is None:
        return " (The in-process emulator is gone with its data: nothing to resume.)"
    return f" To resume, run the same command again:\n  {resume_hint}"


def _window_name(period: float) -> str:
    return {3_600.0: "an hour", 86_400.0: "a day"}.get(period, f"{format_duration(period)}")


def _held_lines(held: HeldBy, kind: str) -> tuple[str, list[str]]:
    """What a full hourly or daily window does to the job, and what the user can do."""
    w = held.window
    what = "writes" if w.writes_only else "requests"
    name = _window_name(w.period)
    return f"more than {name}:", [
        f"the API allows {w.limit:,} {what} in {name} (the client sends {held.kept:,}, "
        "keeping a reserve);",
        f"the other {held.over:,} {what} wait for the window to free, "
        f"{format_duration(held.first_held_at)} after the start.",
        f"The job waits: the limiter holds them and the {kind} carries on by itself.",
        "Or stop it (Ctrl-C) and run the same command again later: nothing is lost,",
        "and the journal tells the new run's limiter what was already sent.",
    ]


def estimate_lines(
    planned: Schedule, time_scale: float, spent: Spent, *, kind: str = "import"
) -> list[str]:
    """The plan's estimate at the published limits, after what other jobs ``spent``."""
    published = planned.seconds
    lines = [
        f"estimated time:   {format_duration(published)} at the published limits "
        "(120 requests/min, 5,000/hour; 60 writes/min, 5,000/day)",
    ]
    if time_scale != 1.0:
        lines.append(
            f"                  {format_duration(published * time_scale)} "
            f"at time scale {time_scale:g}"
        )
    if spent[0] or spent[1]:
        lines.append(f"{'already spent:':<18}{spent_summary(spent)}")
    for held in planned.held_by:
        label, text = _held_lines(held, kind)
        lines.append(f"{label:<18}{text[0]}")
        lines += [" " * 18 + line for line in text[1:]]
    return lines


ETA_REPLAY = 60.0
"""Seconds between two replays of the schedule for the ETA (in between, it is read off)."""


def schedule_eta(limits: RateLimits, journal: Journal) -> Callable[[int], float]:
    """Seconds the last ``n`` write requests take under ``limits``: the dry run's replay.

    Every window counts, after what the journal says the account sent in the
    last day (this run's requests and a crashed run's): past 4,900 writes in a
    day the ETA says so. One replay gives when each request may go; until the
    next (a minute later), the ETA of the last ``n`` is read off it (the time
    from the one before them to the last), so the cost per update is constant.
    """
    longest = max((w.period for w in limits.windows), default=0.0) * (1 + limits.safety)
    replay: list[Any] = []  # [when (monotonic), the replay's times]

    def eta(n: int) -> float:
        if n <= 0:
            return 0.0
        mono = time.monotonic()
        if not replay or n > len(replay[1]) or mono - replay[0] >= ETA_REPLAY:
            wall = time.time()
            spent = {
                kind: [t - wall for t in journal.send_times(since=wall - longest, write=kind)]
                for kind in (True, False)
            }
            planned = schedule(
                limits, reads=0, writes=n, spent_writes=spent[True], spent_reads=spent[False],
                keep_times=True,
            )  # fmt: skip
            replay[:] = [mono, planned.times]
        times: tuple[float, ...] = replay[1]
        before = times[len(times) - n - 1] if n < len(times) else 0.0
        return times[-1] - before

    return eta
