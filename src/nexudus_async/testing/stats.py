"""Counters of what the emulator answered, for tests and benchmarks."""

from __future__ import annotations

from collections import Counter

__all__ = ["Stats"]


class Stats:
    """Request counters. ``by_status`` keys are HTTP statuses, or ``"dropped"``."""

    def __init__(self) -> None:
        self.requests = 0
        self.by_status: Counter[int | str] = Counter()
        #: Requests answered 409/429 by the throttle (not executed).
        self.throttled = 0
        #: POST/PUT/DELETE requests whose handler ran and succeeded (200).
        self.writes = 0
        #: Requests per route, keyed ``"POST /api/billing/coworkertimepasses"``
        #: (path templates: ``/api/billing/coworkertimepasses/{Id}``).
        self.by_route: Counter[str] = Counter()
        #: Faults injected, by kind.
        self.faults: Counter[str] = Counter()

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def snapshot(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "by_status": dict(self.by_status),
            "throttled": self.throttled,
            "writes": self.writes,
            "by_route": dict(self.by_route),
            "faults": dict(self.faults),
        }

    def __repr__(self) -> str:
        return f"Stats({self.snapshot()!r})"
