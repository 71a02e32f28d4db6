"""What passes admission between the request loop and the wire (`_core/admission.py`).

A write is counted as a write by the limiter whichever way it is let through
(at once, or after queueing), and a request that queued reports its wait as an
event saying which request waited and whether it writes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from multidict import CIMultiDict

from nexudus_async._core import events
from nexudus_async._core.auth import Auth, BasicAuth, SendUnauthenticated
from nexudus_async._core.errors import RequestTimeoutError
from nexudus_async._core.pipeline import Pipeline
from nexudus_async._core.throttle import RateLimiter, RateLimits, Window
from nexudus_async._core.transport import HttpRequest, HttpResponse
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    ThrottleLimits,
    run_emulator,
)

PASS = {"coworker_id": 42, "business_id": 1, "time_pass_id": 7}
CREATE = "POST /api/billing/coworkertimepasses"


@pytest.mark.parametrize("call_timeout", [60.0, None])  # a call with a deadline and one without
async def test_writes_queued_or_not_are_counted_as_writes_and_their_waits_reported(
    call_timeout: float | None,
) -> None:
    limits = RateLimits(min_interval=0.05, windows=(Window(5, 60.0, writes_only=True),))
    limiter = RateLimiter(limits.without_safety())
    seen: list[object] = []
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    config = EmulatorConfig(limits=ThrottleLimits.off())
    async with run_emulator(config) as emu:
        async with NexudusClient(
            emu.base_url, auth, rate_limiter=limiter, on_event=seen.append, timeout=call_timeout
        ) as client:
            # The warm-up first: the three below then queue at the limiter together, however
            # slow the machine (behind the warm-up, the 2nd could miss the spacing's wait).
            await client.coworker_time_passes.create(**PASS)
            seen.clear()
            started = time.perf_counter()
            await asyncio.gather(*(client.coworker_time_passes.create(**PASS) for _ in range(3)))
            elapsed = time.perf_counter() - started
        assert emu.stats.by_route[CREATE] == 4
    sent, writes = limiter.histories()
    assert len(writes) == 4 and writes[-1] == sent[-1]  # sent keeps one: no window counts reads
    waits = [e for e in seen if isinstance(e, events.LimiterWaitEvent)]
    # sent together, the 2nd and 3rd waited the spacing (0.05 s) at least (the 1st may too)
    assert len(waits) >= 2
    assert {(w.method, w.path, w.write) for w in waits} == {
        ("POST", "/api/billing/coworkertimepasses", True)
    }
    assert all(0.001 <= w.seconds <= elapsed for w in waits)


class _Tokens(Auth):
    """Credentials the test renews by hand: (header, marker) as an Auth answers them."""

    def __init__(self) -> None:
        self.current: tuple[str, object] = ("Bearer one", "first")
        self.renewed_after_401: list[object] = []

    async def authorization(self, send: SendUnauthenticated) -> tuple[str, object]:
        return self.current

    def cached_authorization(self) -> tuple[str, object] | None:
        return self.current

    async def renew_after_unauthorized(self, marker: object, send: SendUnauthenticated) -> bool:
        self.renewed_after_401.append(marker)
        self.current = ("Bearer three", "third")
        return True


class _QueueingLimiter(RateLimiter):
    """Every request queues; while it does, ``during_wait`` runs (another call's doing)."""

    def __init__(self, during_wait: Callable[[], None]) -> None:
        super().__init__(None)
        self.during_wait = during_wait

    def try_acquire(self, *, write: bool = False) -> bool:
        return False

    async def acquire(self, *, write: bool = False) -> None:
        self.during_wait()
        await asyncio.sleep(0)


class _Scripted:
    """A transport answering 401 to the renewed-while-queued token, 200 otherwise."""

    def __init__(self) -> None:
        self.sent: list[HttpRequest] = []

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request)
        status = 401 if request.headers["Authorization"] == "Bearer two" else 200
        return HttpResponse(status, CIMultiDict({"Content-Type": "application/json"}), b"{}")


async def test_a_token_renewed_while_the_request_queued_is_the_one_sent_and_blamed_on_a_401() -> (
    None
):
    # The pipeline read "Bearer one" before the queue; while the request queued another call
    # renewed the token to "Bearer two". That is what goes on the wire (not the old token, not
    # under another header name), and the 401 it gets is reported against its marker, "second".
    tokens = _Tokens()

    def renewed_elsewhere() -> None:
        if tokens.current[1] == "first":
            tokens.current = ("Bearer two", "second")

    transport = _Scripted()
    pipeline = Pipeline(transport, limiter=_QueueingLimiter(renewed_elsewhere), auth=tokens)
    response = await pipeline.send(HttpRequest("GET", "/api/billing/coworkertimepasses/1"))

    assert response.status_code == 200
    assert [dict(r.headers) for r in transport.sent] == [
        {"Authorization": "Bearer two"},
        {"Authorization": "Bearer three"},
    ]
    assert tokens.renewed_after_401 == ["second"]


async def test_a_follower_s_timeout_runs_while_it_waits_behind_the_first_request() -> None:
    # The first request of a client goes alone; one queued behind it with a deadline gives up
    # when its deadline passes, whatever the first one does.
    release = asyncio.Event()
    sent: list[str] = []

    class _SlowFirst:
        async def send(self, request: HttpRequest) -> HttpResponse:
            sent.append(request.path)
            await release.wait()
            return HttpResponse(200, CIMultiDict(), b"{}")

    pipeline = Pipeline(_SlowFirst(), limiter=RateLimiter(None), timeout=30.0)
    first = asyncio.ensure_future(pipeline.send(HttpRequest("GET", "/first")))
    await asyncio.sleep(0)
    follower = pipeline.with_options(timeout=0.05)
    try:
        with pytest.raises(RequestTimeoutError) as caught:
            await asyncio.wait_for(follower.send(HttpRequest("GET", "/second")), 10)
    finally:
        release.set()
        await first
    assert str(caught.value).startswith(
        "the call's timeout of 0.05s ran out; nothing more was sent"
    )
    assert sent == ["/first"]


class _Held:
    """A transport whose requests stay in flight until released; it counts how many at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.in_flight = self.most = 0
        self.sent: list[HttpRequest] = []

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request)
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            if request.path != "/warm":
                await self.release.wait()
        finally:
            self.in_flight -= 1
        return HttpResponse(200, CIMultiDict({"Content-Type": "application/json"}), b"{}")


async def test_without_a_gate_a_write_let_through_at_once_is_counted_as_a_write() -> None:
    # A window of every request (no write-only one, which would queue the write): the
    # limiter lets the POST go at once once the spacing after the GET has passed.
    limits = RateLimits(min_interval=0.001, margin=0.0, windows=(Window(5, 60.0),))
    limiter = RateLimiter(limits)
    transport = _Held()
    transport.release.set()
    pipeline = Pipeline(transport, limiter=limiter, max_in_flight=None)
    await pipeline.send(HttpRequest("GET", "/warm"))
    await asyncio.sleep(0.05)  # past the spacing: the POST is let through without queueing
    await pipeline.send(HttpRequest("POST", "/api/billing/coworkertimepasses", body=b"{}"))
    sent, writes = limiter.histories()
    assert len(writes) == 1 and writes[-1] == sent[-1]


async def test_a_request_queued_for_a_full_gate_waits_for_its_place() -> None:
    # One place: the second request, queued while the first is in flight, is not sent
    # before the first is answered, and both places are given back (a third goes too).
    transport = _Held()
    pipeline = Pipeline(transport, limiter=RateLimiter(None), max_in_flight=1)
    async with asyncio.timeout(3):  # a place never given back would hang here
        await pipeline.send(HttpRequest("GET", "/warm"))
        first = asyncio.ensure_future(pipeline.send(HttpRequest("GET", "/1")))
        second = asyncio.ensure_future(pipeline.send(HttpRequest("GET", "/2")))
        for _ in range(20):
            await asyncio.sleep(0)
        assert [r.path for r in transport.sent] == ["/warm", "/1"]
        transport.release.set()
        await asyncio.gather(first, second)
        await pipeline.send(HttpRequest("GET", "/3"))
    assert transport.most == 1
    assert [r.path for r in transport.sent] == ["/warm", "/1", "/2", "/3"]


async def test_many_calls_through_a_small_gate_all_end() -> None:
    # Every place taken is given back, whichever way the request went through.
    transport = _Held()
    transport.release.set()
    pipeline = Pipeline(transport, limiter=RateLimiter(None), max_in_flight=2)
    async with asyncio.timeout(3):  # a place never given back would hang here
        await asyncio.gather(*(pipeline.send(HttpRequest("GET", f"/{i}")) for i in range(12)))
    assert len(transport.sent) == 12 and transport.most <= 2


async def test_a_request_with_headers_of_its_own_sends_the_token_renewed_while_it_queued() -> None:
    # The request's own headers make the attempt's headers a plain dict (not the shared
    # credentialed headers): the renewed token still replaces the one read before the queue.
    tokens = _Tokens()

    def renewed_elsewhere() -> None:
        if tokens.current[1] == "first":
            tokens.current = ("Bearer four", "second")

    transport = _Held()
    transport.release.set()
    pipeline = Pipeline(transport, limiter=_QueueingLimiter(renewed_elsewhere), auth=tokens)
    request = HttpRequest("GET", "/api/billing/coworkertimepasses/1", headers={"X-Trace": "7"})
    await pipeline.send(request)
    assert [dict(r.headers) for r in transport.sent] == [
        {"X-Trace": "7", "Authorization": "Bearer four"}
    ]
