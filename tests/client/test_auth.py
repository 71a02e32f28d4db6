"""Auth schemes over aioresponses: token requests, single-flight renewal, 401 handling, secrecy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aioresponses import CallbackResult

from nexudus_async import (
    AuthenticationError,
    BearerToken,
    CoworkerTimePass,
    NexudusClient,
    PasswordGrant,
)

from ..aioresponses_compat import CompatResponse
from .conftest import BASE, FakeClock, Wire

CTP = "/api/billing/coworkertimepasses"
FORM = "application/x-www-form-urlencoded"
PASSWORD_BODY = b"grant_type=password&username=admin%40example.com&password=s3cret%21"


def token(n: int, expires_in: int = 604799) -> dict[str, Any]:
    return {
        "access_token": f"access-{n}-xxxx",
        "token_type": "bearer",
        "expires_in": expires_in,
        "refresh_token": f"refresh-{n}-xxxx",
    }


def rec(i: int = 1) -> dict[str, Any]:
    return {"Id": i, "CoworkerId": 42, "BusinessId": 1, "TimePassId": 7}


ClientFactory = Callable[..., NexudusClient]


@pytest.fixture
async def make(mocked: Any, clock: FakeClock) -> AsyncIterator[ClientFactory]:
    made: list[NexudusClient] = []

    def factory(auth: Any) -> NexudusClient:
        client = NexudusClient(BASE, auth, rate_limits=None, clock=clock, sleep=clock.sleep)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.close()


def grant(clock: FakeClock, **kw: Any) -> PasswordGrant:
    return PasswordGrant("admin@example.com", "s3cret!", clock=clock, **kw)


async def test_password_grant_gets_a_token_then_sends_bearer(
    make: ClientFactory, wire: Wire, clock: FakeClock
) -> None:
    wire.add("POST", "/api/token", payload=token(1))
    wire.add("GET", f"{CTP}/1", payload=rec())
    client = make(grant(clock))
    assert isinstance(await client.coworker_time_passes.get(1), CoworkerTimePass)
    assert wire.lines() == ["POST /api/token", f"GET {CTP}/1"]
    tok, get = wire.log
    assert tok.body == PASSWORD_BODY
    assert tok.headers["Content-Type"] == FORM
    assert "Authorization" not in tok.headers
    assert get.headers["Authorization"] == "Bearer access-1-xxxx"


async def test_totp_is_sent_fresh_from_a_callable(
    make: ClientFactory, wire: Wire, clock: FakeClock
) -> None:
    codes = iter(["123456", "654321"])
    wire.add("POST", "/api/token", payload=token(1))
    wire.add("GET", f"{CTP}/1", payload=rec())
    client = make(grant(clock, totp=lambda: next(codes)))
    await client.coworker_time_passes.get(1)
    assert wire.log[0].body == PASSWORD_BODY + b"&totp=123456"


async def test_one_token_request_however_many_wait(
    make: ClientFactory, wire: Wire, clock: FakeClock
) -> None:
    wire.add("POST", "/api/token", payload=token(1))
    for i in range(20):
        wire.add("GET", f"{CTP}/{i + 1}", payload=rec(i + 1))
    auth = grant(clock)
    client = make(auth)
    async with asyncio.timeout(5):
        got = await asyncio.gather(*(client.coworker_time_passes.get(i + 1) for i in range(20)))
    assert [g.id for g in got] == list(range(1, 21))
    assert auth.token_requests == 1
    assert wire.lines().count("POST /api/token") == 1


async def test_401_refreshes_once_and_resends(
    make: ClientFactory, wire: Wire, clock: FakeClock
) -> None:
    wire.add("POST", "/api/token", payload=token(1))
    wire.add("GET", f"{CTP}/1", status=401)
    wire.add("POST", "/api/token", payload=token(2))
    wire.add("GET", f"{CTP}/1", payload=rec())
    client = make(grant(clock))
    await client.coworker_time_passes.get(1)
    assert wire.lines() == ["POST /api/token", f"GET {CTP}/1", "POST /api/token", f"GET {CTP}/1"]
    assert wire.log[2].body == b"grant_type=refresh_token&refresh_token=refresh-1-xxxx"
    assert wire.log[1].headers["Authorization"] == "Bearer access-1-xxxx"
    assert wire.log[3].headers["Authorization"] == "Bearer access-2-xxxx"


async def test_a_second_401_is_raised(make: ClientFactory, wire: Wire, clock: FakeClock) -> None:
    wire.add("POST", "/api/token", payload=token(1))
    wire.add("GET", f"{CTP}/1", status=401)
    wire.add("POST", "/api/token", payload=token(2))
    wire.add(
        "GET", f"{CTP}/1", status=401, payload={"Message": "Missing role CoworkerTimePass-Read"}
    )
    client = make(grant(clock))
    with pytest.raises(AuthenticationError, match="Missing role") as info:
        await client.coworker_time_passes.get(1)
    assert info.value.status == 401
    assert len(wire.log) == 4
    assert "access-2-xxxx" not in str(info.value)


async def test_concurrent_401s_share_one_refresh(
    make: ClientFactory, wire: Wire, clock: FakeClock, mocked: Any
) -> None:
    wire.add("POST", "/api/token", payload=token(1))
    wire.add("POST", "/api/token", payload=token(2))
    seen: list[str] = []
    all_sent = asyncio.Event()

    async def answer(url: Any, **kwargs: Any) -> CallbackResult:
        used = kwargs["headers"]["Authorization"]
        seen.append(used)
        if used == "Bearer access-1-xxxx":
            # Answer 401 only once all five are in flight with the old token.
            if seen.count(used) == 5:
                all_sent.set()
            await all_sent.wait()
            return CallbackResult(status=401, response_class=CompatResponse)
        return CallbackResult(payload=rec(), response_class=CompatResponse)

    mocked.get(f"{BASE}{CTP}/1", callback=answer, repeat=True)
    auth = grant(clock)
    client = make(auth)
    async with asyncio.timeout(5):
        await asyncio.gather(*(client.coworker_time_passes.get(1) for _ in range(5)))
    assert auth.token_requests == 2
    assert seen == ["Bearer access-1-xxxx"] * 5 + ["Bearer access-2-xxxx"] * 5


async def test_a_token_near_expiry_is_refreshed_before_sending(
    make: ClientFactory, wire: Wire, clock: FakeClock
) -> None:
    wire.add("POST", "/api/token", payload=token(1, expires_in=1000))
    wire.add("GET", f"{CTP}/1", payload=rec(), repeat=True)
    wire.add("POST", "/api/token", payload=token(2, expires_in=1000))
    client = make(grant(clock))
    await client.coworker_time_passes.get(1)
    clock.now += 899  # the margin is a tenth of the lifetime: still fresh
    await client.coworker_time_passes.get(1)
    clock.now += 2
    await client.coworker_time_passes.get(1)
    assert wire.lines() == ["POST /api/token"] + [f"GET {CTP}/1"] * 2 + [
        "POST /api/token",
        f"GET {CTP}/1",
    ]
    assert wire.log[3].body == b"grant_type=refresh_token&refresh_token=refresh-1-xxxx"
    assert wire.log[4].headers["Authorization"] == "Bearer access-2-xxxx"


async def test_a_refused_refresh_token_falls_back_to_the_password(
    make: ClientFactory, wire: Wire, clock: FakeClock
) -> None:
    wire.add("POST", "/api/token", payload=token(1))
    wire.add("GET", f"{CTP}/1", status=401)
    wire.add("POST", "/api/token", status=400, payload={"error": "invalid_grant"})
    wire.add("POST", "/api/token", payload=token(3))
    wire.add("GET", f"{CTP}/1", payload=rec())
    client = make(grant(clock))
    await client.coworker_time_passes.get(1)
    assert wire.log[3].body == PASSWORD_BODY
    assert wire.log[4].headers["Authorization"] == "Bearer access-3-xxxx"


async def test_wrong_password_raises_without_leaking_it(
    make: ClientFactory, wire: Wire, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="nexudus_async")
    wire.add(
        "POST",
        "/api/token",
        status=400,
        payload={"error": "invalid_grant", "error_description": "The password s3cret! is wrong"},
    )
    client = make(grant(clock))
    with pytest.raises(AuthenticationError) as info:
        await client.coworker_time_passes.get(1)
    text = str(info.value) + repr(info.value) + caplog.text
    assert "s3cret!" not in text
    assert "authentication failed: The password *** is wrong" in str(info.value)
    assert info.value.path == "/api/token"


async def test_the_token_request_waits_out_throttling(
    make: ClientFactory, wire: Wire, clock: FakeClock
) -> None:
    wire.add("POST", "/api/token", status=409, headers={"Retry-After": "2"})
    wire.add("POST", "/api/token", payload=token(1))
    wire.add("GET", f"{CTP}/1", payload=rec())
    await make(grant(clock)).coworker_time_passes.get(1)
    assert clock.sleeps == [2.0]


async def test_a_fixed_bearer_token_is_not_renewed(make: ClientFactory, wire: Wire) -> None:
    wire.add("GET", f"{CTP}/1", status=401)
    with pytest.raises(AuthenticationError):
        await make(BearerToken("fixed-token")).coworker_time_passes.get(1)
    assert wire.lines() == [f"GET {CTP}/1"]
    assert wire.log[0].headers["Authorization"] == "Bearer fixed-token"


def test_credentials_are_required() -> None:
    with pytest.raises(ValueError):
        PasswordGrant("", "x")
    with pytest.raises(ValueError):
        BearerToken("")
