"""Fault injection: which failure, if any, a request gets."""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Callable, Iterable

import attrs
from aiohttp import web

from .config import FaultRule

__all__ = [
    "UNKNOWN_ENUM_VALUE",
    "UNREADABLE_KINDS",
    "FaultInjector",
    "FaultPlan",
    "unreadable_answer",
]

#: Kinds that execute the request, then answer 200 with a body no client can read.
UNREADABLE_KINDS = frozenset({"empty", "not_json"})
#: What ``unknown_enum`` writes into enum fields: the value seen live (ProductTimePass
#: ``ExpirationType: 0``), the default of an enum the service never set.
UNKNOWN_ENUM_VALUE = 0


@attrs.frozen
class FaultPlan:
    """What to do to one request: wait ``latency`` seconds, then ``kind`` (None: no fault)."""

    latency: float = 0.0
    kind: str | None = None


class FaultInjector:
    def __init__(self, rules: Iterable[FaultRule], seed: int | None) -> None:
        self._rng = random.Random(seed)
        self._seed = seed
        self._rules: list[FaultRule] = []
        self._fired: list[int] = []
        self.set_rules(rules)

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        return tuple(self._rules)

    def remaining(self) -> list[int | None]:
        """Per rule, how many times it may still fire (None: no limit)."""
        return [
            None if rule.times is None else max(0, rule.times - fired)
            for rule, fired in zip(self._rules, self._fired, strict=True)
        ]

    def fired(self) -> list[int]:
        """Per rule, how many times it has fired since the rules were set."""
        return list(self._fired)

    def set_rules(self, rules: Iterable[FaultRule]) -> None:
        """Replace the rules; ``times`` counts start again."""
        self._rules = list(rules)
        self._fired = [0] * len(self._rules)

    @staticmethod
    def _matches(rule: FaultRule, method: str, path: str) -> bool:
        if rule.method not in ("*", method.upper()) and rule.method.upper() != method.upper():
            return False
        return rule.path == path or fnmatch.fnmatchcase(path, rule.path)

    def plan(
        self, method: str, path: str, applies: Callable[[str], bool] = lambda kind: True
    ) -> FaultPlan:
        """The faults of one request; a rule whose kind ``applies`` refuses is skipped
        before any draw, so it neither fires nor spends ``times`` there."""
        latency = 0.0
        kind: str | None = None
        for index, rule in enumerate(self._rules):
            if not self._matches(rule, method, path) or not applies(rule.kind):
                continue
            if rule.times is not None and self._fired[index] >= rule.times:
                continue
            if rule.kind != "latency" and kind is not None:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            self._fired[index] += 1
            if rule.kind == "latency":
                latency += rule.latency
            else:
                kind = rule.kind
        return FaultPlan(latency, kind)


def unreadable_answer(kind: str) -> web.Response:
    """The answer of an ``empty`` or ``not_json`` fault (what some proxies send)."""
    if kind == "empty":
        return web.Response(status=200, body=b"", content_type="application/json")
    return web.Response(status=200, text="<html><body>OK</body></html>", content_type="text/html")
