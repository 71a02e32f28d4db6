"""Per-client throttling with the published limits, on sliding windows.

Each client (one user, whichever credential it uses) has one window per
limit; a window remembers only the last ``limit`` accepted requests, so memory
stays bounded whatever the traffic. A throttled request is not recorded: it
was not executed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from .config import ThrottleLimits

__all__ = ["Throttle"]

_MINUTE, _HOUR, _DAY = 60.0, 3600.0, 86400.0


class _Window:
    __slots__ = ("hits", "limit", "name", "seconds", "writes_only")

    def __init__(self, name: str, seconds: float, limit: int, writes_only: bool) -> None:
        self.name = name  # the ThrottleLimits field, for stats
        self.seconds = seconds
        self.limit = limit
        self.writes_only = writes_only
        self.hits: deque[float] = deque(maxlen=limit)

    def wait(self, now: float, scale: float) -> float:
        if self.limit <= 0:
            return self.seconds * scale
        if len(self.hits) < self.limit:
            return 0.0
        return self.hits[0] + self.seconds * scale - now


class _Client:
    __slots__ = ("last", "windows")

    def __init__(self, windows: list[_Window]) -> None:
        self.last: float | None = None
        self.windows = windows


class Throttle:
    """Decides whether a client's request may run now, and how long to wait if not."""

    def __init__(
        self,
        limits: ThrottleLimits,
        time_scale: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = limits
        self._scale = time_scale
        self._clock = clock
        self._clients: dict[str, _Client] = {}
        #: The ThrottleLimits field that decided the last throttled answer.
        self.last_limit: str | None = None

    @property
    def limits(self) -> ThrottleLimits:
        return self._limits

    def set_limits(self, limits: ThrottleLimits) -> None:
        """New limits apply at once; the history of accepted requests is kept."""
        self._limits = limits
        for client in self._clients.values():
            fresh = self._windows()
            for window in fresh:
                for old in client.windows:
                    if (old.seconds, old.writes_only) == (window.seconds, window.writes_only):
                        window.hits.extend(old.hits)
            client.windows = fresh

    def set_time_scale(self, time_scale: float) -> None:
        """Every window (and wait) is measured with the new scale from now on."""
        self._scale = time_scale

    def reset(self) -> None:
        self._clients.clear()

    def _windows(self) -> list[_Window]:
        lim = self._limits
        spec = [
            ("per_minute", _MINUTE, lim.per_minute, False),
            ("per_hour", _HOUR, lim.per_hour, False),
            ("per_day", _DAY, lim.per_day, False),
            ("writes_per_minute", _MINUTE, lim.writes_per_minute, True),
            ("writes_per_day", _DAY, lim.writes_per_day, True),
        ]
        return [_Window(name, s, n, w) for name, s, n, w in spec if n is not None]

    def check(self, client_key: str, is_write: bool) -> float | None:
        """Record the request and return None, or return the seconds to wait (not recorded)."""
        if not self._limits.enabled:
            return None
        now = self._clock()
        client = self._clients.get(client_key)
        if client is None:
            client = self._clients[client_key] = _Client(self._windows())
        wait, limit = 0.0, None
        interval = self._limits.min_interval
        if interval and client.last is not None:
            wait, limit = client.last + interval * self._scale - now, "min_interval"
        applicable = [w for w in client.windows if is_write or not w.writes_only]
        for window in applicable:
            window_wait = window.wait(now, self._scale)
            if window_wait > wait:
                wait, limit = window_wait, window.name
        if wait > 0:
            self.last_limit = limit
            return wait
        client.last = now
        for window in applicable:
            window.hits.append(now)
        return None
