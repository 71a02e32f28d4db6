"""The token request after a dropped connection: resent (it creates nothing), never a failure.

Decided in the pipeline (``path == TOKEN_PATH`` counts as idempotent) and stated
in :mod:`nexudus_async._core.retry`: a token request whose connection dropped
may have been executed, which costs nothing but a token nobody uses, so it is
sent again with the same bytes, like a GET; a create that waited for the token
is sent once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from nexudus_async import NexudusClient, PasswordGrant
from nexudus_async._core.errors import TransportError
from nexudus_async._core.retry import RetryPolicy

from .conftest import BASE, FakeClock, Wire
from .test_auth import CTP, PASSWORD_BODY, token

OK = {"WasSuccessful": True, "Message": "created", "Value": {"Id": 9}}


@pytest.fixture
async def client(mocked: Any, clock: FakeClock) -> AsyncIterator[NexudusClient]:
    auth = PasswordGrant("admin@example.com", "s3cret!", clock=clock)
    policy = RetryPolicy(max_retries=2, backoff_initial=0.5, jitter=False)
    async with NexudusClient(
        BASE, auth, rate_limits=None, retry=policy, clock=clock, sleep=clock.sleep
    ) as c:
        yield c


async def test_a_token_request_whose_connection_dropped_is_sent_again(
    client: NexudusClient, wire: Wire, clock: FakeClock
) -> None:
    wire.add("POST", "/api/token", exception=aiohttp.ServerDisconnectedError())
    wire.add("POST", "/api/token", payload=token(1))
    wire.add("POST", CTP, payload=OK)
    made = await client.coworker_time_passes.create(coworker_id=1, business_id=1, time_pass_id=1)
    assert made.id == 9
    assert wire.lines() == ["POST /api/token", "POST /api/token", f"POST {CTP}"]
    first, again, create = wire.log
    assert first.body == again.body == PASSWORD_BODY  # the same bytes
    assert create.headers["Authorization"] == "Bearer access-1-xxxx"
    assert clock.sleeps == [0.5]  # the policy's backoff, as for any idempotent request


async def test_token_resends_stop_at_the_policy_s_budget(
    client: NexudusClient, wire: Wire, clock: FakeClock
) -> None:
    for _ in range(3):
        wire.add("POST", "/api/token", exception=aiohttp.ServerDisconnectedError())
    with pytest.raises(TransportError) as info:
        await client.coworker_time_passes.create(coworker_id=1, business_id=1, time_pass_id=1)
    assert wire.lines() == ["POST /api/token"] * 3  # first try and max_retries=2; no create
    assert str(info.value) == (
        "connection failed (ServerDisconnectedError: Server disconnected) [POST /api/token]"
    )
    assert clock.sleeps == [0.5, 1.0]
