"""The call path's usual case, made cheap without changing what is sent.

A call the gate and the limiter let through at once is sent from the request
loop's own frame; the client's headers with one credentials value are built
once as :class:`WireHeaders`, which aiohttp takes without converting them per
request; a limiter with the limits off weighs only a pause. What reaches the
server, what the limiter counts and which token goes out stay as they were.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict

from nexudus_async._core.auth import Auth, BasicAuth, SendUnauthenticated
from nexudus_async._core.pipeline import Pipeline
from nexudus_async._core.throttle import RateLimiter
from nexudus_async._core.transport import (
    AiohttpTransport,
    HttpRequest,
    HttpResponse,
    WireHeaders,
    dumps,
)
from nexudus_async.client import NexudusClient

from .conftest import FakeClock

BASIC = BasicAuth("admin@example.com", "s3cret!")
CTP = "/api/billing/coworkertimepasses"
RECORD = {"Id": 5, "CoworkerId": 42, "BusinessId": 1, "TimePassId": 7}
CREATED = {"Status": 200, "Message": "ok", "Value": {"Id": 77}, "WasSuccessful": True}


class _Server:
    """A loopback server that keeps every request's raw header lines and body."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[tuple[bytes, bytes], ...], bytes]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.seen.append((request.method, request.raw_headers, body))
        answer = CREATED if request.method == "POST" else RECORD
        return web.json_response(answer)


@pytest.fixture
async def server() -> AsyncIterator[_Server]:
    recorded = _Server()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorded.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    recorded.url = f"http://127.0.0.1:{port}"
    try:
        yield recorded
    finally:
        await runner.cleanup()


def _names(raw: tuple[tuple[bytes, bytes], ...]) -> list[bytes]:
    return [name for name, _ in raw]


async def test_wire_headers_reach_the_server_exactly_as_the_plain_dict_of_them(
    server: _Server,
) -> None:
    plain = {"Accept": "application/json", "User-Agent": "t/1", "Authorization": "Basic eA=="}
    async with aiohttp.ClientSession() as session:
        transport = AiohttpTransport(session, server.url)
        for headers in (plain, WireHeaders(plain)):
            await transport.send(HttpRequest("GET", "/a", headers=headers))
            await transport.send(
                HttpRequest("POST", "/a", body=b'{"x":1}', content_type="application/json",
                            headers=headers)
            )  # fmt: skip
    (get_dict, post_dict, get_wire, post_wire) = server.seen
    assert get_wire == get_dict
    assert post_wire == post_dict
    assert post_wire[2] == b'{"x":1}'
    assert b"Content-Type" in _names(post_wire[1])
    assert b"Content-Type" not in _names(get_wire[1])


async def test_the_client_sends_its_headers_and_credentials_on_every_call(
    server: _Server,
) -> None:
    async with NexudusClient(server.url, BASIC, rate_limits=None, headers={"X-Trace": "7"}) as c:
        record = await c.coworker_time_passes.get(5)
        created = await c.coworker_time_passes.create(coworker_id=42, business_id=1, time_pass_id=7)
        again = await c.coworker_time_passes.get(5)
    assert (record.id, created.id, again.id) == (5, 77, 5)
    sent = [(method, dict(raw)) for method, raw, _ in server.seen]
    for method, headers in sent:
        assert headers[b"Accept"] == b"application/json"
        assert headers[b"User-Agent"].startswith(b"nexudus-async/")
        assert headers[b"X-Trace"] == b"7"
        assert headers[b"Authorization"] == BASIC.secrets()[1].encode()
        assert (b"Content-Type" in headers) is (method == "POST")
    # the first and the third call went out with the very same header lines
    assert server.seen[0][1] == server.seen[2][1]
    assert json.loads(server.seen[1][2])["CoworkerId"] == 42


class _Tokens(Auth):
    def __init__(self) -> None:
        self.current = ("Bearer one", "first")

    async def authorization(self, send: SendUnauthenticated) -> tuple[str, object]:
        return self.current

    def cached_authorization(self) -> tuple[str, object] | None:
        return self.current


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[HttpRequest] = []

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request)
        return HttpResponse(200, CIMultiDict({"Content-Type": "application/json"}), b"{}")


async def test_a_renewed_token_is_sent_by_the_next_call_with_the_same_other_headers() -> None:
    tokens, transport = _Tokens(), _Recorder()
    pipeline = Pipeline(
        transport, limiter=RateLimiter(None), auth=tokens, headers={"Accept": "application/json"}
    )
    request = HttpRequest("GET", f"{CTP}/1")
    await pipeline.send(request)
    await pipeline.send(request)
    tokens.current = ("Bearer two", "second")
    await pipeline.send(request)
    await pipeline.send(HttpRequest("GET", f"{CTP}/1", headers={"X-Own": "1"}))
    assert [dict(r.headers) for r in transport.sent] == [
        {"Accept": "application/json", "Authorization": "Bearer one"},
        {"Accept": "application/json", "Authorization": "Bearer one"},
        {"Accept": "application/json", "Authorization": "Bearer two"},
        {"Accept": "application/json", "X-Own": "1", "Authorization": "Bearer two"},
    ]
    # the request the caller built is left without credentials
    assert dict(request.headers) == {}


def test_wire_headers_name_no_values_in_their_repr_and_add_a_content_type_to_a_copy() -> None:
    headers = WireHeaders({"Accept": "application/json", "Authorization": "Basic c2VjcmV0"})
    assert repr(headers) == "<WireHeaders ['Accept', 'Authorization']>"
    typed = headers.with_content_type("application/json")
    assert list(typed.items()) == [
        ("Accept", "application/json"),
        ("Authorization", "Basic c2VjcmV0"),
        ("Content-Type", "application/json"),
    ]
    assert "Content-Type" not in headers
    assert headers.with_content_type("application/json") is typed
    form = headers.with_content_type("application/x-www-form-urlencoded")
    assert form["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers.with_content_type("application/json") == typed


def test_a_limiter_with_the_limits_off_holds_requests_only_while_paused() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock)
    assert limiter.try_acquire() and limiter.try_acquire(write=True)
    limiter.pause_for(2.0)
    assert not limiter.try_acquire()
    assert not limiter.try_acquire(write=True)
    clock.now += 1.999
    assert not limiter.try_acquire()
    clock.now += 0.001
    assert limiter.try_acquire()
    assert limiter.acquired == 3


class _Refusing(RateLimiter):
    """Never lets a request go at once; counts how it was asked."""

    def __init__(self) -> None:
        super().__init__(None)
        self.tries = 0
        self.waits = 0

    def try_acquire(self, *, write: bool = False) -> bool:
        self.tries += 1
        return False

    async def acquire(self, *, write: bool = False) -> None:
        self.waits += 1
        await super().acquire(write=write)


async def test_a_request_the_limiter_refuses_gives_back_its_place_and_queues_once() -> None:
    limiter, transport = _Refusing(), _Recorder()
    pipeline = Pipeline(transport, limiter=limiter, auth=BASIC, max_in_flight=1)
    for _ in range(3):  # the first goes through the warm-up, the others past it
        response = await pipeline.send(HttpRequest("GET", f"{CTP}/1"))
        assert response.status_code == 200
    assert (limiter.tries, limiter.waits) == (3, 3)
    assert len(transport.sent) == 3
    # every place was given back: one more request gets in without waiting
    assert pipeline._gate is not None and not pipeline._gate.full()


def test_equal_decimals_keep_their_own_digits_and_a_repeated_one_its_own() -> None:
    price = Decimal("12.5")
    body = {"a": price, "b": Decimal("12.50"), "c": price, "d": Decimal("0.10")}
    assert dumps(body) == b'{"a":12.5,"b":12.50,"c":12.5,"d":0.10}'
    assert dumps([price, Decimal("12.50")]) == b"[12.5,12.50]"
