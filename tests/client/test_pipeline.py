"""The request pipeline over aioresponses: exact retry, backoff, throttling and error sequences."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from nexudus_async._core import transport as _transport
from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.errors import (
    AuthenticationError,
    FieldError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RequestTimeoutError,
    ServerError,
    ThrottledError,
    TransportError,
    UnexpectedStatusError,
    UnsuccessfulResponseError,
    ValidationError,
)
from nexudus_async._core.pipeline import Pipeline
from nexudus_async._core.retry import RetryPolicy
from nexudus_async._core.throttle import RateLimiter, RateLimits
from nexudus_async._core.transport import HttpRequest, dumps
from nexudus_async.bulk.executor import cannot_connect

from .conftest import BASE, FakeClock, PipelineFactory, Recorder

LIST = "/api/billing/coworkertimepasses"
URL = re.compile(r"^https://nexudus\.test/api/billing/coworkertimepasses(\?.*)?$")
ONE = re.compile(r"^https://nexudus\.test/api/billing/coworkertimepasses/12$")
OK = {"Status": 200, "WasSuccessful": True, "Message": "ok", "Value": {"Id": 7}, "Errors": None}


def get(path: str = LIST, **kw: Any) -> HttpRequest:
    return HttpRequest("GET", path, **kw)


def post(body: Any) -> HttpRequest:
    return HttpRequest("POST", LIST, body=dumps(body), content_type="application/json")


def connect_error() -> aiohttp.ClientConnectorError:
    key = ConnectionKey("nexudus.test", 443, True, None, None, None, None, None)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))


async def test_get_sends_exact_wire_format(
    mocked: Any, make_pipeline: PipelineFactory, recorder: Recorder
) -> None:
    mocked.get(URL, payload={"Records": []})
    pipe = make_pipeline(auth=BasicAuth("admin@example.com", "s3cret!"))
    resp = await pipe.send(get(params=(("page", "2"), ("CoworkerTimePass_Coworker", "42"))))
    assert resp.status_code == 200
    assert resp.json() == {"Records": []}
    assert recorder.lines() == [f"GET {LIST}?page=2&CoworkerTimePass_Coworker=42"]
    # Basic admin@example.com:s3cret!
    assert (
        recorder.requests[0].headers["Authorization"]
        == "Basic YWRtaW5AZXhhbXBsZS5jb206czNjcmV0IQ=="
    )
    ((key, calls),) = mocked.requests.items()
    assert str(key[1]).startswith(f"{BASE}{LIST}?")
    assert calls[0].kwargs["params"] == (("page", "2"), ("CoworkerTimePass_Coworker", "42"))
    assert calls[0].kwargs["allow_redirects"] is False


async def test_409_waits_retry_after_then_resends(
    mocked: Any, make_pipeline: PipelineFactory, recorder: Recorder, clock: FakeClock
) -> None:
    mocked.post(URL, status=409, headers={"Retry-After": "0.05"}, body=b"")
    mocked.post(URL, status=409, headers={"Retry-After": "1"}, body=b"")
    mocked.post(URL, payload=OK)
    pipe = make_pipeline()
    resp = await pipe.send(post({"CoworkerId": 1}))
    assert resp.json()["Value"] == {"Id": 7}
    assert clock.sleeps == [0.05, 1.0]
    # A throttled request was not executed: resent identically, POST included.
    assert [r.body for r in recorder.requests] == [b'{"CoworkerId":1}'] * 3


async def test_429_waits_for_the_body_then_resends(
    mocked: Any, make_pipeline: PipelineFactory, clock: FakeClock
) -> None:
    mocked.get(URL, status=429, body=b"Too many requests. Wait 3 seconds.")
    mocked.get(URL, status=429, body=b"wait 0.25 seconds")
    mocked.get(URL, payload={})
    await make_pipeline().send(get())
    assert clock.sleeps == [3.0, 0.25]


async def test_409_with_http_date_and_without_any_hint(
    mocked: Any, make_pipeline: PipelineFactory, clock: FakeClock
) -> None:
    # wall clock is 1_700_000_000 = Tue, 14 Nov 2023 22:13:20 GMT
    mocked.get(URL, status=409, headers={"Retry-After": "Tue, 14 Nov 2023 22:13:22 GMT"})
    mocked.get(URL, status=409)
    mocked.get(URL, payload={})
    await make_pipeline().send(get())
    assert clock.sleeps == [2.0, 1.0]


async def test_throttling_is_bounded(
    mocked: Any, make_pipeline: PipelineFactory, recorder: Recorder
) -> None:
    mocked.get(URL, status=409, headers={"Retry-After": "1"}, repeat=True)
    pipe = make_pipeline(retry=RetryPolicy(max_throttle_retries=2))
    with pytest.raises(ThrottledError) as info:
        await pipe.send(get())
    assert len(recorder.requests) == 3
    assert info.value.retry_after == 1.0
    assert info.value.status == 409
    assert (info.value.method, info.value.path) == ("GET", LIST)


async def test_too_long_retry_after_raises_at_once(
    mocked: Any, make_pipeline: PipelineFactory, recorder: Recorder
) -> None:
    mocked.get(URL, status=409, headers={"Retry-After": "3600"})
    with pytest.raises(ThrottledError, match="wait 3600s"):
        await make_pipeline().send(get())
    assert len(recorder.requests) == 1


async def test_get_5xx_retried_with_capped_exponential_backoff(
    mocked: Any, make_pipeline: PipelineFactory, clock: FakeClock, recorder: Recorder
) -> None:
    for status in (500, 502, 503, 504):
        mocked.get(URL, status=status, payload={"Message": "Ooops!"})
    mocked.get(URL, payload={"Records": []})
    policy = RetryPolicy(max_retries=4, backoff_initial=0.5, backoff_max=1.5)
    await make_pipeline(retry=policy).send(get())
    # rand() is 1.0 here, so full jitter waits the whole cap.
    assert clock.sleeps == [0.5, 1.0, 1.5, 1.5]
    assert len(recorder.requests) == 5


async def test_full_jitter_draws_below_the_cap(
    mocked: Any, make_pipeline: PipelineFactory, clock: FakeClock
) -> None:
    mocked.get(URL, status=503)
    mocked.get(URL, status=503)
    mocked.get(URL, payload={})
    await make_pipeline(rand=lambda: 0.25).send(get())
    assert clock.sleeps == [0.125, 0.25]


async def test_5xx_retries_run_out(mocked: Any, make_pipeline: PipelineFactory) -> None:
    mocked.get(URL, status=500, payload={"Message": "Ooops! There was a problem"}, repeat=True)
    with pytest.raises(ServerError) as info:
        await make_pipeline(retry=RetryPolicy(max_retries=2)).send(get())
    assert info.value.status == 500
    assert info.value.api_message == "Ooops! There was a problem"
    assert "Ooops! There was a problem" in str(info.value)
    assert f"GET {LIST}" in str(info.value)


async def test_put_and_delete_are_retried(
    mocked: Any, make_pipeline: PipelineFactory, recorder: Recorder
) -> None:
    mocked.put(URL, exception=aiohttp.ServerDisconnectedError())
    mocked.put(URL, payload=OK)
    mocked.delete(ONE, exception=TimeoutError())
    mocked.delete(ONE, payload=OK)
    pipe = make_pipeline()
    await pipe.send(HttpRequest("PUT", LIST, body=b"{}", content_type="application/json"))
    await pipe.send(HttpRequest("DELETE", LIST + "/12"))
    assert [r.method for r in recorder.requests] == ["PUT", "PUT", "DELETE", "DELETE"]


@pytest.mark.parametrize(
    "failure",
    [
        {
            "status": 500,
            "payload": {"Message": "Ooops! There was a problem while running this action"},
        },
        {"status": 502, "body": b"Bad gateway"},
        {"exception": aiohttp.ServerDisconnectedError()},
        {"exception": TimeoutError()},
        {"exception": aiohttp.ClientPayloadError("truncated")},
        {"status": 200, "body": b'{"Status": 200, "WasSu', "content_type": "application/json"},
    ],
)
async def test_post_that_may_have_run_is_never_resent(
    failure: dict[str, Any], mocked: Any, make_pipeline: PipelineFactory, recorder: Recorder
) -> None:
    mocked.post(URL, **failure)
    mocked.post(URL, payload=OK)
    with pytest.raises(OutcomeUnknownError, match="outcome is unknown") as info:
        await make_pipeline().send(post({"CoworkerId": 1}))
    assert len(recorder.requests) == 1
    assert (info.value.method, info.value.path) == ("POST", LIST)
    assert info.value.cause is not None


async def test_post_whose_connection_never_opened_is_resent(
    mocked: Any, make_pipeline: PipelineFactory, recorder: Recorder, clock: FakeClock
) -> None:
    mocked.post(URL, exception=connect_error())
    mocked.post(URL, exception=aiohttp.ConnectionTimeoutError())
    mocked.post(URL, payload=OK)
    resp = await make_pipeline().send(post({"CoworkerId": 1}))
    assert resp.json()["Value"]["Id"] == 7
    assert len(recorder.requests) == 3
    assert clock.sleeps == [0.5, 1.0]


async def test_connection_errors_run_out(mocked: Any, make_pipeline: PipelineFactory) -> None:
    mocked.get(URL, exception=connect_error(), repeat=True)
    with pytest.raises(TransportError, match="connection failed") as info:
        await make_pipeline(retry=RetryPolicy(max_retries=1)).send(get())
    assert not isinstance(info.value, RequestTimeoutError)


@pytest.mark.parametrize(
    ("failure", "kind", "connected", "may_have_reached_server"),
    [
        (connect_error(), TransportError, False, False),
        (aiohttp.ConnectionTimeoutError(), RequestTimeoutError, False, False),
        (aiohttp.ServerDisconnectedError(), TransportError, True, True),
        (TimeoutError(), RequestTimeoutError, True, True),
    ],
)
async def test_the_error_says_what_the_transport_knew(
    failure: BaseException,
    kind: type[TransportError],
    connected: bool,
    may_have_reached_server: bool,
    mocked: Any,
    make_pipeline: PipelineFactory,
) -> None:
    mocked.get(URL, exception=failure, repeat=True)
    with pytest.raises(TransportError) as info:
        await make_pipeline(retry=RetryPolicy(max_retries=1)).send(get())
    error = info.value
    assert type(error) is kind
    assert (error.connected, error.may_have_reached_server) == (connected, may_have_reached_server)
    assert error.__cause__ is failure
    # The bulk layer reads the same facts: only a failed connect (not a timeout) stops a job.
    assert cannot_connect(error) is (type(error) is TransportError and not connected)


async def test_timeouts_run_out(mocked: Any, make_pipeline: PipelineFactory) -> None:
    mocked.get(URL, exception=TimeoutError(), repeat=True)
    with pytest.raises(RequestTimeoutError, match="timed out") as info:
        await make_pipeline(retry=RetryPolicy(max_retries=1)).send(get())
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, TransportError)


async def test_never_policy_raises_at_once(
    mocked: Any, make_pipeline: PipelineFactory, recorder: Recorder
) -> None:
    mocked.get(URL, status=503, repeat=True)
    with pytest.raises(ServerError):
        await make_pipeline(retry=RetryPolicy.never()).send(get())
    assert len(recorder.requests) == 1


async def test_validation_error_carries_typed_field_errors(
    mocked: Any, make_pipeline: PipelineFactory
) -> None:
    envelope = {
        "Message": "CreateMultiple: must be at least 1",
        "Value": None,
        "WasSuccessful": False,
        "Errors": [
            {"AttemptedValue": 0, "Message": "must be at least 1", "PropertyName": "CreateMultiple"}
        ],
    }
    mocked.post(URL, status=400, payload=envelope)
    with pytest.raises(ValidationError) as info:
        await make_pipeline().send(post({"CreateMultiple": 0}))
    err = info.value
    assert err.errors == (FieldError("CreateMultiple", "must be at least 1", 0),)
    assert err.status == 400
    assert err.api_message == "CreateMultiple: must be at least 1"
    assert str(err) == (
        f"the API rejected the request: CreateMultiple: must be at least 1 [POST {LIST} -> 400]"
    )


async def test_validation_sent_as_500_is_not_outcome_unknown(
    mocked: Any, make_pipeline: PipelineFactory, recorder: Recorder
) -> None:
    envelope = {
        "Status": 500,
        "Message": "Name: may not be null or empty",
        "WasSuccessful": False,
        "Errors": [
            {"AttemptedValue": None, "Message": "may not be null or empty", "PropertyName": "Name"}
        ],
    }
    mocked.post(URL, status=500, payload=envelope)
    with pytest.raises(ValidationError) as info:
        await make_pipeline().send(post({}))
    assert info.value.errors[0].property_name == "Name"
    assert len(recorder.requests) == 1


async def test_200_with_was_successful_false_raises(
    mocked: Any, make_pipeline: PipelineFactory
) -> None:
    mocked.post(
        URL,
        payload={"Status": 200, "WasSuccessful": False, "Message": "Could not run", "Errors": None},
    )
    with pytest.raises(UnsuccessfulResponseError, match="Could not run") as info:
        await make_pipeline().send(post({}))
    assert info.value.status == 200


async def test_malformed_get_is_retried_then_raised(
    mocked: Any, make_pipeline: PipelineFactory, recorder: Recorder
) -> None:
    mocked.get(URL, status=200, body=b"{not json", content_type="application/json", repeat=True)
    with pytest.raises(MalformedResponseError):
        await make_pipeline(retry=RetryPolicy(max_retries=1)).send(get())
    assert len(recorder.requests) == 2


@pytest.fixture
def default_recursion_limit() -> Iterator[None]:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1_000)
    yield
    sys.setrecursionlimit(old)


@pytest.mark.usefixtures("default_recursion_limit")
async def test_a_body_too_deep_to_decode_is_unreadable_without_orjson_too(
    mocked: Any, make_pipeline: PipelineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stdlib decoder raises RecursionError, not ValueError, on deep nesting. Where it
    # gives up is the process's: the recursion limit on 3.11 (which anything may raise:
    # mypy's in-process API sets 2**14), a C limit of 10 000 on 3.13. So the limit is
    # set here, and the body is deeper than either C limit.
    monkeypatch.setattr(_transport, "_orjson", None)
    deep = b"[" * 20_000 + b"]" * 20_000  # 40 kB: aioresponses feeds a body in one piece
    with pytest.raises(ValueError, match="JSON nested too deeply"):
        _transport.loads(deep)
    mocked.post(URL, status=200, body=deep, content_type="application/json")
    with pytest.raises(OutcomeUnknownError, match="outcome is unknown"):
        await make_pipeline().send(post({}))
    mocked.post(URL, status=400, body=deep, content_type="application/json")
    with pytest.raises(ValidationError):
        await make_pipeline().send(post({}))
    mocked.get(URL, status=200, body=deep, content_type="application/json")
    with pytest.raises(MalformedResponseError):
        await make_pipeline(retry=RetryPolicy(max_retries=0)).send(get())


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (418, UnexpectedStatusError),
    ],
)
async def test_statuses_map_to_errors(
    status: int, cls: type[Exception], mocked: Any, make_pipeline: PipelineFactory
) -> None:
    mocked.get(ONE, status=status, payload={"Message": "nope", "WasSuccessful": False})
    with pytest.raises(cls) as info:
        await make_pipeline().send(get(LIST + "/12"))
    assert info.value.status == status
    assert info.value.path == LIST + "/12"
    assert info.value.api_message == "nope"


async def test_retries_are_logged_without_secrets(
    mocked: Any, make_pipeline: PipelineFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="nexudus_async")
    mocked.get(URL, status=409, headers={"Retry-After": "0.5"})
    mocked.get(URL, status=503)
    mocked.get(URL, status=401, payload={"Message": "bad s3cret! for admin"})
    pipe = make_pipeline(auth=BasicAuth("admin@example.com", "s3cret!"))
    with pytest.raises(AuthenticationError) as info:
        await pipe.send(get(params=(("CoworkerTimePass_Notes", "x"),)))
    assert "s3cret!" not in str(info.value)
    assert "***" in str(info.value)
    text = caplog.text
    assert "GET /api/billing/coworkertimepasses throttled (409); waiting 0.500s (attempt 2)" in text
    assert "GET /api/billing/coworkertimepasses -> 503; retrying in 0.500s (attempt 3)" in text
    assert "GET /api/billing/coworkertimepasses -> 401 (attempt 3" in text
    assert "s3cret" not in text and "YWRtaW5" not in text and "Notes" not in text
    rec = next(r for r in caplog.records if "throttled" in r.getMessage())
    assert (rec.nexudus_status, rec.nexudus_attempt, rec.nexudus_wait) == (409, 2, 0.5)  # type: ignore[attr-defined]


async def test_one_request_at_a_time_until_the_first_answer(
    mocked: Any, make_pipeline: PipelineFactory
) -> None:
    in_flight: list[int] = []
    current = 0
    release = asyncio.Event()

    async def answer(url: Any, **kwargs: Any) -> None:
        nonlocal current
        current += 1
        in_flight.append(current)
        if len(in_flight) == 1:
            await release.wait()
        current -= 1

    mocked.get(URL, callback=answer, payload={}, repeat=True)
    pipe = make_pipeline()
    tasks = [asyncio.create_task(pipe.send(get())) for _ in range(4)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert in_flight == [1]  # the others wait for the first answer
    release.set()
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)
    assert len(in_flight) == 4


async def test_in_flight_requests_are_bounded_by_the_pool(
    mocked: Any, recorder: Recorder, clock: FakeClock
) -> None:
    peak = current = 0

    async def answer(url: Any, **kwargs: Any) -> None:
        nonlocal peak, current
        current += 1
        peak = max(peak, current)
        await asyncio.sleep(0.001)
        current -= 1

    mocked.get(URL, callback=answer, payload={}, repeat=True)
    pipe = Pipeline(recorder, limiter=RateLimiter(None), max_in_flight=3, sleep=clock.sleep)
    async with asyncio.timeout(5):
        await asyncio.gather(*(pipe.send(get()) for _ in range(12)))
    assert peak == 3


async def test_a_throttled_answer_widens_the_spacing_for_a_while(
    mocked: Any, make_pipeline: PipelineFactory, clock: FakeClock
) -> None:
    mocked.get(URL, status=409, headers={"Retry-After": "0.5"})
    mocked.get(URL, payload={}, repeat=True)
    pipe = make_pipeline(limits=RateLimits(min_interval=0.1, margin=0.01).without_safety())
    limiter = pipe.limiter
    before = limiter.spacing
    await pipe.send(get())
    assert limiter.spacing == pytest.approx(before + 0.005)
    for _ in range(30):
        limiter.throttled(0.0)
    assert limiter.spacing == pytest.approx(0.1 + 0.1)  # bounded by the interval
    # Calm again: the extra spacing halves every CALM_REQUESTS requests.
    for _ in range(limiter.CALM_REQUESTS):
        await limiter.acquire()
    assert limiter.spacing == pytest.approx(0.1 + 0.05)
    for _ in range(limiter.CALM_REQUESTS * 6):
        await limiter.acquire()
    assert limiter.spacing == pytest.approx(0.1)


async def test_5xx_retry_after_is_honoured(
    mocked: Any, make_pipeline: PipelineFactory, clock: FakeClock
) -> None:
    mocked.get(URL, status=503, headers={"Retry-After": "4"})
    mocked.get(URL, payload={})
    await make_pipeline().send(get())
    assert clock.sleeps == [4.0]


async def test_transport_errors_never_show_the_query_string(
    mocked: Any, make_pipeline: PipelineFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="nexudus_async")
    mocked.get(
        URL,
        exception=aiohttp.ClientConnectionError(
            f"failed: GET {BASE}{LIST}?CoworkerTimePass_Notes=private"
        ),
        repeat=True,
    )
    with pytest.raises(TransportError) as info:
        await make_pipeline(retry=RetryPolicy(max_retries=1)).send(
            get(params=(("CoworkerTimePass_Notes", "private"),))
        )
    assert f"{BASE}{LIST}" in str(info.value)
    assert "private" not in str(info.value) and "private" not in caplog.text


async def test_the_gate_serves_waiters_in_order_and_passes_on_a_cancelled_place() -> None:
    from nexudus_async._core.gate import Gate

    gate = Gate(2)
    await gate.enter()
    await gate.enter()
    assert gate.full()
    order: list[str] = []

    async def waiter(name: str) -> None:
        await gate.enter()
        order.append(name)

    first = asyncio.create_task(waiter("first"))
    second = asyncio.create_task(waiter("second"))
    third = asyncio.create_task(waiter("third"))
    await asyncio.sleep(0)
    gate.leave()  # the place is handed to "first" ...
    first.cancel()  # ... which is cancelled before it runs: the place goes on
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order == ["second"]
    assert gate.full()  # "third" still waits: no overtaking
    gate.leave()
    await asyncio.sleep(0)
    assert order == ["second", "third"]
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.gather(second, third)
    gate.leave()
    gate.leave()
    await gate.enter()
    await gate.enter()
    assert gate.full()


async def test_a_waiter_cancelled_while_waiting_gives_up_its_turn() -> None:
    from nexudus_async._core.gate import Gate

    gate = Gate(1)
    await gate.enter()
    cancelled = asyncio.create_task(gate.enter())
    later = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    gate.leave()
    async with asyncio.timeout(5):
        await later
    assert cancelled.cancelled()
    assert gate.full()
    gate.leave()
    assert not gate.full()
