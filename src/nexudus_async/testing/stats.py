"""Counters of what the emulator answered, for tests and benchmarks."""

from __future__ import annotations

from collections import Counter, defaultdict

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
        #: Answers per route and status (routes as in ``by_route``).
        self.by_operation: defaultdict[str, Counter[int | str]] = defaultdict(Counter)
        #: Throttled answers by the ThrottleLimits field that decided them.
        self.throttled_by: Counter[str] = Counter()
        #: Writes counted in ``writes``, per route: ``executed["POST /api/billing/..."]``.
        self.executed: Counter[str] = Counter()

    def answered(self, operation: str | None, status: int | str) -> None:
        """Count one answer (``operation`` None: a path or method the API lacks)."""
        self.by_status[status] += 1
        if operation is not None:
            self.by_operation[operation][status] += 1

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
            "by_operation": {op: dict(c) for op, c in self.by_operation.items()},
            "throttled_by": dict(self.throttled_by),
            "executed": dict(self.executed),
        }

    def __repr__(self) -> str:
        return f"Stats({self.snapshot()!r})"
