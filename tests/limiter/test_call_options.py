"""What a web backend needs from one call: a whole-call timeout, headers, raw answers, events."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from nexudus_async import (
    BasicAuth,
    NexudusClient,
    PasswordGrant,
    RateLimits,
    RequestTimeoutError,
    RetryPolicy,
)
from nexudus_async._core import events
from nexudus_async._core.raw import RawResponse
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    FaultRule,
    ThrottleLimits,
)
from nexudus_async.testing.server import EmulatorServer

CTP = "coworkertimepasses"
ONE = "GET /api/billing/coworkertimepasses/{Id}"


def seed(emu: EmulatorServer) -> int:
    record = emu.store.insert(CTP, {"CoworkerId": 42, "BusinessId": 1, "TimePassId": 7})
    return int(record["Id"])


@pytest.fixture
def client(emulator_client: NexudusClient) -> NexudusClient:
    return emulator_client


async def test_the_timeout_bounds_queueing_for_the_limiter(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    rid = seed(nexudus_emulator)
    await client.coworker_time_passes.get(rid)
    client.limiter.pause_for(3600.0)  # type: ignore[attr-defined]
    async with asyncio.timeout(5):
        with pytest.raises(RequestTimeoutError, match=r"timeout of 0\.2s ran out"):
            await client.with_options(timeout=0.2).coworker_time_passes.get(rid)
    assert nexudus_emulator.stats.by_route[ONE] == 1  # the queued call sent nothing


async def test_no_resend_once_the_timeout_cannot_cover_the_wait(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    rid = seed(nexudus_emulator)
    nexudus_emulator.set_faults([FaultRule(method="GET", kind="error500")])
    # No jitter: with full jitter the wait is random in [0, 30 s] and fitted the
    # 2 s timeout about once in fifteen runs (a resend, by_route == 2).
    slow_retry = RetryPolicy(backoff_initial=30.0, backoff_max=30.0, jitter=False)
    async with asyncio.timeout(5):
        with pytest.raises(RequestTimeoutError) as info:
            await client.with_options(timeout=2, retry=slow_retry).coworker_time_passes.get(rid)
    assert "500" in str(info.value) or info.value.__cause__ is not None
    assert nexudus_emulator.stats.by_route[ONE] == 1


async def test_timeout_none_switches_the_timeout_off(client: NexudusClient) -> None:
    view = client.with_options(timeout=None)
    assert (view.timeout, client.timeout) == (None, 10)
    assert view.with_options(retry=RetryPolicy.never()).timeout is None  # not given: kept
    with pytest.raises(ValueError, match="positive"):
        client.with_options(timeout=0)


async def test_a_namespace_view_keeps_the_clients_timeout_unless_told(
    client: NexudusClient,
) -> None:
    # A namespace's with_options once passed timeout=None on, switching the timeout off.
    kept = client.coworker_time_passes.with_options(retry=RetryPolicy.never())
    assert kept._owner.timeout == 10
    assert kept._owner.retry == RetryPolicy.never()
    assert client.coworker_time_passes.with_options(timeout=None)._owner.timeout is None
    assert client.time_passes.with_options(timeout=3)._owner.timeout == 3


async def test_per_call_headers_are_added_and_never_replace_credentials(
    nexudus_emulator: EmulatorServer,
) -> None:
    rid = seed(nexudus_emulator)
    seen: list[dict[str, str]] = []
    trace = aiohttp.TraceConfig()

    async def on_start(_: Any, __: Any, params: aiohttp.TraceRequestStartParams) -> None:
        seen.append(dict(params.headers))

    trace.on_request_start.append(on_start)
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    async with NexudusClient(
        nexudus_emulator.base_url, auth, rate_limits=None, trace_configs=[trace]
    ) as client:
        tagged = client.with_options(headers={"X-Request-Id": "req-1"})
        await tagged.coworker_time_passes.get(rid)
        await client.coworker_time_passes.get(rid)
        with pytest.raises(ValueError, match="auth="):
            client.with_options(headers={"authorization": "Basic x"})
    assert seen[0]["X-Request-Id"] == "req-1" and seen[0]["Authorization"].startswith("Basic ")
    assert "X-Request-Id" not in seen[1]


async def test_with_raw_response_gives_status_headers_and_the_parsed_result(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    rid = seed(nexudus_emulator)
    raw = await client.with_raw_response.coworker_time_passes.get(rid)
    assert isinstance(raw, RawResponse)
    assert raw.status == 200
    assert "json" in raw.headers["Content-Type"]
    assert raw.parsed.id == rid
    plain = await client.coworker_time_passes.get(rid)
    assert plain.id == rid  # the plain client is unchanged
    with pytest.raises(TypeError, match="awaited calls"):
        await client.with_raw_response.coworker_time_passes.iter()


async def test_events_report_limiter_waits_throttle_waits_and_retries(
    nexudus_emulator: EmulatorServer,
) -> None:
    rid = seed(nexudus_emulator)
    seen: list[events.Event] = []
    scale = nexudus_emulator.config.time_scale
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    fast = RetryPolicy(backoff_initial=0.005, backoff_max=0.02, default_throttle_wait=0.01)

    def boom(_: events.Event) -> None:
        raise RuntimeError("a broken hook must not break the call")

    async with NexudusClient(
        nexudus_emulator.base_url,
        auth,
        rate_limits=RateLimits.published().scaled(scale),
        retry=fast,
        on_event=seen.append,
    ) as client:
        await asyncio.gather(*(client.coworker_time_passes.get(rid) for _ in range(3)))
        nexudus_emulator.set_faults([FaultRule(method="GET", kind="error500", times=1)])
        await client.coworker_time_passes.get(rid)
    async with NexudusClient(
        nexudus_emulator.base_url, auth, rate_limits=None, retry=fast, on_event=seen.append
    ) as unlimited:
        # no client-side limiter, and 0.2 s between requests on the emulator: the second
        # request (sent once the first is answered) is throttled
        nexudus_emulator.set_limits(ThrottleLimits(min_interval=20.0))
        await asyncio.gather(*(unlimited.coworker_time_passes.get(rid) for _ in range(2)))
    async with NexudusClient(
        nexudus_emulator.base_url, auth, rate_limits=None, retry=fast, on_event=boom
    ) as broken:
        nexudus_emulator.set_faults([FaultRule(method="GET", kind="error500", times=1)])
        assert (await broken.coworker_time_passes.get(rid)).id == rid
    waits = [e for e in seen if isinstance(e, events.LimiterWaitEvent)]
    retries = [e for e in seen if isinstance(e, events.RetryEvent)]
    throttles = [e for e in seen if isinstance(e, events.ThrottleEvent)]
    assert waits and all(w.seconds > 0 and not w.write for w in waits)
    assert [(r.reason, r.status, r.attempt) for r in retries] == [("status", 500, 2)]
    assert throttles and throttles[0].status in (409, 429) and throttles[0].attempt == 2
    assert all(
        isinstance(e, events.RequestEvent) and e.path.startswith(f"/api/billing/{CTP}/")
        for e in seen
    )


async def test_credentials_are_read_after_the_limiter_wait(
    nexudus_emulator: EmulatorServer,
) -> None:
    rid = seed(nexudus_emulator)
    now = [0.0]
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, clock=lambda: now[0])
    scale = nexudus_emulator.config.time_scale
    async with NexudusClient(
        nexudus_emulator.base_url, auth, rate_limits=RateLimits.published().scaled(scale)
    ) as client:
        await client.coworker_time_passes.get(rid)
        assert auth.token_requests == 1
        client.limiter.pause_for(0.2)  # type: ignore[attr-defined]
        queued = asyncio.ensure_future(client.coworker_time_passes.get(rid))
        await asyncio.sleep(0.05)  # it has its (still fresh) token and waits in the queue
        assert not queued.done()
        now[0] += 10 * 86_400.0  # the token expires while it queues
        nexudus_emulator.expire_tokens()
        async with asyncio.timeout(10):
            assert (await queued).id == rid
    assert auth.token_requests == 2
    assert nexudus_emulator.stats.by_status[401] == 0  # the stale token was never sent


async def test_a_token_that_always_expires_before_sending_is_a_clear_error_without_a_timeout(
    nexudus_emulator: EmulatorServer,
) -> None:
    # A clock that leaps ten days at every reading: each token is stale by the time the
    # limiter lets its call go. Without a call timeout, the renewals are bounded and the
    # error says what happened (it used to be a TypeError formatting a None timeout).
    rid = seed(nexudus_emulator)
    ticks = [0.0]

    def leaping() -> float:
        ticks[0] += 10 * 86_400.0
        return ticks[0]

    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, clock=leaping)
    async with NexudusClient(nexudus_emulator.base_url, auth, rate_limits=None) as client:
        with pytest.raises(RequestTimeoutError) as info:
            await client.with_options(timeout=None).coworker_time_passes.get(rid)
    assert info.value.message == (
        "the access token expired 11 times while the call waited in the rate limiter's "
        "queue (tokens live shorter than the queue); nothing was sent"
    )
    assert (info.value.method, info.value.path) == ("GET", f"/api/billing/{CTP}/{rid}")
    # only token requests reached the emulator: the stale GET was never sent
    assert set(nexudus_emulator.stats.by_route) == {"POST /api/token"}


SOAK_TASKS, SOAK_CALLS = 200, 1


@pytest.mark.nexudus_emulator(time_scale=0.02, token_ttl=50)  # tokens live 1 s
async def test_a_long_queue_with_short_tokens_sends_no_expired_token(
    nexudus_emulator: EmulatorServer,
) -> None:
    # 200 calls at 120 per 1.2 s queue for seconds, longer than a token lives:
    # a token attached before the queue would be stale when its request left.
    rid = seed(nexudus_emulator)
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    scale = nexudus_emulator.config.time_scale
    async with NexudusClient(
        nexudus_emulator.base_url, auth, rate_limits=RateLimits.published().scaled(scale)
    ) as client:

        async def task() -> int:
            for _ in range(SOAK_CALLS):
                await client.coworker_time_passes.get(rid)
            return SOAK_CALLS

        async with asyncio.timeout(60):
            done = await asyncio.gather(*(task() for _ in range(SOAK_TASKS)))
    assert sum(done) == SOAK_TASKS * SOAK_CALLS
    assert auth.token_requests >= 3  # the token did expire during the run
    assert nexudus_emulator.stats.by_status[401] == 0  # and no stale one was sent
    # The windows were kept; on a loaded machine two requests the limiter spaced may still
    # arrive closer than 100 ms (delivery jitter), which every call absorbed above.
    assert set(nexudus_emulator.stats.throttled_by) <= {"min_interval"}
