"""A fresh client's first request goes out at once; the next ones wait for its answer.

Checked by stepping the event loop a bounded number of times, never by awaiting
something that might not come: a wrong line in the warm-up (the first request
waiting for an answer nobody will give) fails here at once instead of hanging.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from multidict import CIMultiDict

from nexudus_async import NexudusClient
from nexudus_async._core.pipeline import Pipeline
from nexudus_async._core.throttle import RateLimiter
from nexudus_async._core.transport import HttpRequest, HttpResponse

from .conftest import BASE, Wire

CTP = "/api/billing/coworkertimepasses"
EMPTY_PAGE = {
    "Records": [],
    "CurrentPageSize": 0,
    "CurrentPage": 1,
    "TotalItems": 0,
    "TotalPages": 1,
    "HasNextPage": False,
}
#: Loop steps allowed before a request must have reached the wire: far more than
#: the suspensions between a call and aiohttp, far fewer than forever.
STEPS = 200


async def steps_until(done: Callable[[], bool]) -> None:
    for _ in range(STEPS):
        if done():
            return
        await asyncio.sleep(0)


async def cancelled(tasks: list[asyncio.Future[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class Answers:
    """An in-memory transport: every request answered at once with an empty object."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(f"{request.method} {request.path}")
        return HttpResponse(200, CIMultiDict(), b"{}", request)


async def test_a_fresh_pipelines_first_request_reaches_the_transport_at_once() -> None:
    # The cheapest test of the warm-up, so that a mutation tool (fastest tests
    # first, stop at the first failure) reaches it before any unbounded one.
    answers = Answers()
    pipeline = Pipeline(answers, limiter=RateLimiter(None))
    call = asyncio.ensure_future(pipeline.send(HttpRequest("GET", CTP)))
    try:
        await steps_until(call.done)
        assert answers.sent == [f"GET {CTP}"]
        assert call.done()
    finally:
        await cancelled([call])
    assert call.result().json() == {}


async def test_a_fresh_clients_first_request_is_sent_without_waiting(wire: Wire) -> None:
    wire.add("GET", CTP, payload=EMPTY_PAGE)
    async with NexudusClient(BASE, None, rate_limits=None, timeout=None) as client:
        call = asyncio.ensure_future(client.coworker_time_passes.list())
        try:
            await steps_until(lambda: call.done())
            assert wire.lines() == [f"GET {CTP}?page=1&size=25"]
            assert call.done()
        finally:
            await cancelled([call])
        assert call.result().total_items == 0


async def test_until_the_first_answer_the_others_wait_then_go_together(wire: Wire) -> None:
    answer = asyncio.Event()
    reached: list[int] = []

    async def first_answer_held(url: Any, **kwargs: Any) -> None:
        reached.append(len(reached))
        if len(reached) == 1:
            await answer.wait()

    url = re.compile("^" + re.escape(BASE + CTP) + r"(\?.*)?$")
    wire.m.add(url, "GET", callback=first_answer_held, payload=EMPTY_PAGE, repeat=True)
    async with NexudusClient(BASE, None, rate_limits=None, timeout=None) as client:
        calls = [asyncio.ensure_future(client.coworker_time_passes.list()) for _ in range(3)]
        try:
            await steps_until(lambda: len(reached) > 1)
            assert reached == [0]  # only the first is out; the two others wait for its answer
            answer.set()
            await steps_until(lambda: all(call.done() for call in calls))
            assert reached == [0, 1, 2]
            assert all(call.done() for call in calls)
        finally:
            await cancelled(calls)
        assert [call.result().total_items for call in calls] == [0, 0, 0]
