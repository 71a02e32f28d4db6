"""Fault injection: which failure, if any, a request gets (:class:`FaultInjector`), and
what each kind does to it (:data:`FAULTS`)."""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Callable, Iterable, Mapping

import attrs
from aiohttp import web

from .._core.decimals import json_loads
from .answers import (
    NOT_FOUND_STRING,
    OOOPS,
    SERVER_MESSAGE,
    error_envelope,
    json_answer,
    validation_500,
)
from .config import FaultRule
from .entities import EntitySpec

__all__ = [
    "FAULTS",
    "UNKNOWN_ENUM_VALUE",
    "Dropped",
    "Fault",
    "FaultInjector",
    "FaultPlan",
    "unreadable_answer",
    "with_unknown_enums",
]

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
    """The answer of an ``empty`` or ``not_json`` fault (what some proxies send): the
    request was executed, and the 200 has a body no client can read."""
    if kind == "empty":
        return web.Response(status=200, body=b"", content_type="application/json")
    return web.Response(status=200, text="<html><body>OK</body></html>", content_type="text/html")


class Dropped(web.Response):
    """A closed connection: aiohttp writes nothing; the stats count it as ``"dropped"``."""


def _drop(request: web.Request) -> Dropped:
    transport = request.transport
    if transport is not None:
        transport.close()
    return Dropped(status=200)


def _malformed(response: web.StreamResponse) -> web.Response:
    status = response.status if isinstance(response, web.Response) else 200
    text = '{"Status":200,"WasSuccessful":tru'
    if isinstance(response, web.Response) and response.body is not None:
        body = bytes(response.body)  # type: ignore[arg-type]
        text = body[: max(1, len(body) // 2)].decode("utf-8", "replace") + '"\x00<html>'
    return web.Response(status=status, text=text, content_type="application/json")


def _error500() -> web.Response:
    return json_answer(error_envelope(500, OOOPS, None), status=500)


def with_unknown_enums(spec: EntitySpec, response: web.StreamResponse) -> web.StreamResponse:
    """The same answer with :data:`UNKNOWN_ENUM_VALUE` in every record's enum fields."""
    if not isinstance(response, web.Response) or response.status != 200 or response.body is None:
        return response
    names = {n for f in spec.fields if f.type == "enum" for n in (f.name, f.list_name) if n}
    body = json_loads(bytes(response.body).decode("utf-8"))  # type: ignore[arg-type]
    if isinstance(body, dict) and isinstance(body.get("Records"), list):
        records = body["Records"]
    else:
        records = body if isinstance(body, list) else [body]
    for record in records:
        if isinstance(record, dict):
            for name in names & record.keys():
                record[name] = UNKNOWN_ENUM_VALUE
    return json_answer(body)


#: Answers instead of the handler: the request is not executed.
Instead = Callable[[web.Request, EntitySpec | None], web.Response]
#: Replaces the handler's answer: the request was executed.
After = Callable[[web.Request, EntitySpec | None, web.StreamResponse], web.StreamResponse]
#: Whether the kind can be seen on this request (method, query), entity and route template.
Seen = Callable[[web.Request, EntitySpec | None, str], bool]


def _everywhere(request: web.Request, spec: EntitySpec | None, template: str) -> bool:
    return True


def _ids_lookup(request: web.Request, spec: EntitySpec | None, template: str) -> bool:
    return (
        spec is not None
        and template == spec.collection_url
        and request.method == "GET"
        and spec.name + "_Id" in request.query
    )


def _enum_read(request: web.Request, spec: EntitySpec | None, template: str) -> bool:
    return (
        spec is not None and request.method == "GET" and any(f.type == "enum" for f in spec.fields)
    )


def _unknown_enums(
    request: web.Request, spec: EntitySpec | None, response: web.StreamResponse
) -> web.StreamResponse:
    return with_unknown_enums(spec, response) if spec is not None else response


@attrs.frozen
class Fault:
    """What one kind does. Neither ``instead`` nor ``after``: the plan's wait
    (``latency``) or the handler plays it (``ids_array``, which reads the kind)."""

    instead: Instead | None = None
    after: After | None = None
    #: A rule whose kind is not seen on a request neither fires nor spends ``times``.
    seen: Seen = _everywhere


#: Every kind of :data:`~nexudus_async.testing.config.FAULT_KINDS`.
FAULTS: Mapping[str, Fault] = {
    "latency": Fault(),
    "error500": Fault(instead=lambda request, spec: _error500()),
    "drop_before": Fault(instead=lambda request, spec: _drop(request)),
    "drop_after": Fault(after=lambda request, spec, response: _drop(request)),
    "unsuccessful": Fault(
        instead=lambda request, spec: json_answer(
            error_envelope(200, "The action could not be completed.", None)
        )
    ),
    "malformed": Fault(after=lambda request, spec, response: _malformed(response)),
    "empty": Fault(after=lambda request, spec, response: unreadable_answer("empty")),
    "not_json": Fault(after=lambda request, spec, response: unreadable_answer("not_json")),
    "validation500": Fault(instead=lambda request, spec: validation_500(spec)),
    "server_message500": Fault(
        instead=lambda request, spec: json_answer({"Message": SERVER_MESSAGE}, status=500)
    ),
    "error500_after": Fault(after=lambda request, spec, response: _error500()),
    "not_found_string": Fault(
        instead=lambda request, spec: json_answer(NOT_FOUND_STRING, status=404)
    ),
    "ids_array": Fault(seen=_ids_lookup),
    "unknown_enum": Fault(after=_unknown_enums, seen=_enum_read),
}
