"""Progress of a bulk job: a one-line bar on a terminal, log lines otherwise."""

from __future__ import annotations

import time
from typing import TextIO

from ..bulk.executor import BulkProgress

__all__ = ["ProgressPrinter", "format_duration"]


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressPrinter:
    """An async progress callback for :func:`nexudus_async.bulk.run_bulk`.

    ``mode``: ``"bar"`` redraws one line (for a terminal), ``"log"`` prints a
    line every ``log_interval`` seconds and at the end, ``"none"`` prints nothing.
    """

    def __init__(
        self,
        stream: TextIO,
        mode: str,
        *,
        width: int = 28,
        bar_interval: float = 0.1,
        log_interval: float = 2.0,
        noun: str = "passes",
    ) -> None:
        self.noun = noun
        self.stream = stream
        self.mode = mode
        self.width = width
        self.bar_interval = bar_interval
        self.log_interval = log_interval
        self._last_draw = 0.0
        self._last: BulkProgress | None = None
        self._drawn = False

    async def __call__(self, p: BulkProgress) -> None:
        self._last = p
        if self.mode == "none":
            return
        now = time.monotonic()
        finished = p.groups_done >= p.groups_total
        interval = self.bar_interval if self.mode == "bar" else self.log_interval
        if not finished and now - self._last_draw < interval and self._drawn:
            return
        self._last_draw = now
        self._draw(p)

    def line(self, p: BulkProgress) -> str:
        total = max(p.records_total, 1)
        frac = min(1.0, (p.records_done + p.records_failed) / total)
        rate = p.rate
        left = p.records_total - p.records_done - p.records_failed
        eta = format_duration(left / rate) if rate > 0 and left > 0 else "-"
        if left <= 0:
            eta = "0:00"
        failed = f"  {p.records_failed} failed" if p.records_failed else ""
        text = (
            f"{p.records_done}/{p.records_total} {self.noun}{failed}  "
            f"{p.requests_sent}/{p.requests_total} requests  "
            f"{rate:,.1f} {self.noun}/s  ETA {eta}"
        )
        if self.mode == "bar":
            filled = int(frac * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            return f"[{bar}] {frac * 100:3.0f}% {text}"
        return f"progress: {text}"

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
