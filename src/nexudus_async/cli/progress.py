"""Progress of a bulk job: a one-line bar on a terminal, log lines otherwise.

The bar is fitted to the terminal's width, measured again at every redraw
(so a resized window is followed) and kept one column short of it, so the
terminal never wraps it onto a new line; the log lines say the same words.
The rate is smoothed (an exponentially weighted moving average over ``tau``
seconds of the job's clock). The ETA is what the create requests left take
under the rate limits (``eta_seconds``, the dry run's replay of the limiter),
so it is right from the first line; without it, it comes from the rate, and
there is none before the rate is known. Counts never go down. Once the job
is stopping, the line says so instead of a rate and an ETA.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from typing import TextIO

from ..bulk.executor import BulkProgress

__all__ = ["ProgressPrinter", "format_duration"]


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    d, seconds = divmod(seconds, 86_400)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    clock = f"{h}:{m:02d}:{s:02d}" if h or d else f"{m}:{s:02d}"
    return f"{d} day{'s' if d > 1 else ''} {clock}" if d else clock


def _terminal_columns() -> int:
    return shutil.get_terminal_size((80, 24)).columns


class ProgressPrinter:
    """An async progress callback for :func:`nexudus_async.bulk.run_bulk`.

    ``mode``: ``"bar"`` redraws one line (for a terminal), ``"log"`` prints a
    line every ``log_interval`` seconds and at the end, ``"none"`` prints nothing.
    ``width``: a fixed bar width (default: what the terminal leaves);
    ``columns``: how wide the terminal is (default: measured at each redraw).
    """

    def __init__(
        self,
        stream: TextIO,
        mode: str,
        *,
        width: int | None = None,
        bar_interval: float = 0.1,
        log_interval: float = 2.0,
        noun: str = "passes",
        columns: Callable[[], int] = _terminal_columns,
        tau: float = 5.0,
        eta_seconds: Callable[[int], float] | None = None,
    ) -> None:
        self.noun = noun
        self.stream = stream
        self.mode = mode
        self.width = width
        self.bar_interval = bar_interval
        self.log_interval = log_interval
        self.columns = columns
        self.tau = tau
        self.eta_seconds = eta_seconds
        self._last_draw: float | None = None
        self._last: BulkProgress | None = None
        self._drawn = False
        self._rate: float | None = None
        self._sample: tuple[float, int] | None = None

    async def __call__(self, p: BulkProgress) -> None:
        self._update_rate(p)
        self._last = p
        if self.mode == "none":
            return
        finished = p.groups_done >= p.groups_total
        interval = self.bar_interval if self.mode == "bar" else self.log_interval
        last = self._last_draw
        if not finished and self._drawn and last is not None and p.elapsed - last < interval:
            return
        self._last_draw = p.elapsed
        self._draw(p)

    def _update_rate(self, p: BulkProgress) -> None:
        done = p.records_done - p.records_skipped
        if self._sample is None:
            self._sample = (p.elapsed, done)
            self._rate = p.rate if p.rate > 0 else None
            return
        t0, d0 = self._sample
        dt = p.elapsed - t0
        # A short job gets a shorter memory: a quarter of its elapsed time at most.
        tau = min(self.tau, max(p.elapsed / 4, 0.25))
        if dt < tau / 5:  # callbacks come in bursts: measure over a span, not per call
            return
        instant = (done - d0) / dt
        alpha = 1.0 - math.exp(-dt / tau)
        self._rate = instant if self._rate is None else self._rate + alpha * (instant - self._rate)
        self._sample = (p.elapsed, done)

    @property
    def rate(self) -> float:
        """The smoothed rate of records created per second (0 before any)."""
        return self._rate or 0.0

    def eta(self, p: BulkProgress) -> str:
        left = p.records_total - p.records_done - p.records_failed - p.records_not_sent
        if left <= 0 or p.groups_done >= p.groups_total:
            return "0:00"
        if self.eta_seconds is not None:
            return format_duration(self.eta_seconds(max(0, p.requests_total - p.requests_sent)))
        return format_duration(left / self.rate) if self.rate > 0 else "-"

    def _parts(self, p: BulkProgress) -> list[str]:
        failed = f"{p.records_failed} failed" if p.records_failed else ""
        not_sent = f"{p.records_not_sent} not sent" if p.records_not_sent else ""
        done = f"{p.records_done}/{p.records_total} {self.noun}"
        requests = f"{p.requests_sent}/{p.requests_total} requests"
        if p.stopping:
            return [done, failed, requests, not_sent, "stopping"]
        return [done, failed, requests, f"{self.rate:,.1f} {self.noun}/s", f"ETA {self.eta(p)}"]

    def line(self, p: BulkProgress) -> str:
        parts = self._parts(p)
        if self.mode != "bar":
            return "progress: " + "  ".join(x for x in parts if x)
        total = max(p.records_total, 1)
        frac = min(1.0, (p.records_done + p.records_failed + p.records_not_sent) / total)
        room = max(self.columns(), 20) - 1  # the last column would wrap the line
        # Least useful first when the terminal is narrow.
        for drop in ((), (2,), (2, 3)):
            text = "  ".join(x for i, x in enumerate(parts) if x and i not in drop)
            head = f"{frac * 100:3.0f}% "
            width = self.width if self.width is not None else min(40, room - len(head + text) - 3)
            if width >= 10 or len(head + text) <= room:
                break
        if width >= 5:
            filled = int(frac * width)
            head = f"[{'#' * filled}{'.' * (width - filled)}] " + head
        return (head + text)[:room]

    def _draw(self, p: BulkProgress) -> None:
        if self.mode == "bar":
            self.stream.write("\r\x1b[2K" + self.line(p))
        else:
            self.stream.write(self.line(p) + "\n")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line (after a final redraw) so later output starts clean."""
        if self.mode == "bar" and self._drawn:
            if self._last is not None:
                self.stream.write("\r\x1b[2K" + self.line(self._last))
            self.stream.write("\n")
            self.stream.flush()
