"""Real flows over loopback HTTP against the embedded emulator (time-scaled)."""

from __future__ import annotations

import asyncio
import datetime
import logging
from typing import Any

import aiohttp
import pytest

from nexudus_async import (
    BasicAuth,
    CommandParameter,
    NexudusClient,
    NotFoundError,
    OutcomeUnknownError,
    PasswordGrant,
    RateLimits,
    RequestTimeoutError,
    RetryPolicy,
    SortDirection,
    UnsuccessfulResponseError,
    ValidationError,
)
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    FaultRule,
    ThrottleLimits,
    run_emulator,
)
from nexudus_async.testing.server import EmulatorServer

from .conftest import FAST_RETRY

CTP = "coworkertimepasses"
CREATE_PATH = "/api/billing/coworkertimepasses"


def scaled(emu: EmulatorServer) -> RateLimits:
    return RateLimits.published().scaled(emu.config.time_scale)


def basic() -> BasicAuth:
    return BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)


def seed(emu: EmulatorServer, n: int, **fields: Any) -> list[int]:
    return [
        emu.store.insert(CTP, {"CoworkerId": 42, "BusinessId": 1, "TimePassId": 7, **fields})["Id"]
        for _ in range(n)
    ]


@pytest.fixture
def client(emulator_client: NexudusClient) -> NexudusClient:
    return emulator_client


async def test_readme_first_example_runs_as_written() -> None:
    async with run_emulator(EmulatorConfig(time_scale=0.01, seed=1)) as emu:
        seed(emu, 30)
        emu.store.insert(CTP, {"Id": 123, "CoworkerId": 42, "BusinessId": 1, "TimePassId": 7})
        base_url = emu.base_url
        auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
        rate_limits = RateLimits.published().scaled(0.01)
        seen = 0
        async with asyncio.timeout(30):
            # --- the README's first example, as written ---
            async with NexudusClient(
                base_url=base_url, auth=auth, rate_limits=rate_limits
            ) as client:
                tp = await client.coworker_time_passes.get(123)
                page = await client.coworker_time_passes.list(coworker=42, size=100)
                async for tp in client.coworker_time_passes.iter(time_pass=7, max_items=500):  # noqa: B007
                    seen += 1
                async for page in client.coworker_time_passes.pages(coworker=42, size=10):
                    seen += len(page)
                many = await client.coworker_time_passes.get_many([1, 2, 3])
                created = await client.coworker_time_passes.create(
                    coworker_id=42, business_id=1, time_pass_id=7, create_multiple=5
                )
                await client.coworker_time_passes.update(123, notes="moved")
                await client.coworker_time_passes.delete(123)
                cmds = await client.coworker_time_passes.commands()
                await client.coworker_time_passes.run_command(cmds[0].key, ids=[created.id or 0])
            # --- end ---
        assert seen == 62 and len(many) == 3
        assert created.id is not None
        assert emu.store.count(CTP, CoworkerId=42) == 35
        assert emu.store.get(CTP, 123) is None
        assert emu.stats.throttled == 0


async def test_concurrent_load_stays_under_the_limits(nexudus_emulator: EmulatorServer) -> None:
    ids = seed(nexudus_emulator, 5)
    async with NexudusClient(
        nexudus_emulator.base_url, basic(), rate_limits=scaled(nexudus_emulator)
    ) as client:
        async with asyncio.timeout(30):
            got = await asyncio.gather(
                *(client.coworker_time_passes.get(ids[i % 5]) for i in range(300))
            )
    assert len(got) == 300
    stats = nexudus_emulator.stats
    assert stats.by_status[200] == 300
    # The limiter spaces the requests as it sends them (its own tests, on a fake clock,
    # say exactly how); how they arrive depends on the machine: a loaded one delivers
    # some bunched up (a mutation run saw 7 of 300 throttled). Each was waited for and
    # resent without the caller noticing.
    assert stats.by_status[409] == stats.throttled
    assert stats.requests == 300 + stats.throttled


async def test_throttling_is_absorbed_when_the_client_limits_are_too_loose(
    nexudus_emulator_factory: Any,
) -> None:
    # The server first refuses every request (a limit of 0 a minute: throttled however
    # slow the machine), then, once it has throttled ten, keeps the published limits,
    # which the client's, twice as fast, do not respect either. The user never sees it.
    closed = ThrottleLimits(per_minute=0)
    async with nexudus_emulator_factory(time_scale=0.01, throttle_status=429, limits=closed) as emu:
        ids = seed(emu, 3)

        async def reopen_after_throttling() -> None:
            async with asyncio.timeout(30):
                while emu.stats.throttled < 10:  # noqa: ASYNC110 (stats have no event)
                    await asyncio.sleep(0.01)
            emu.set_limits(ThrottleLimits())

        loose = RateLimits.published().scaled(0.005).without_safety()
        async with (
            NexudusClient(emu.base_url, basic(), rate_limits=loose) as client,
            asyncio.timeout(30),
            asyncio.TaskGroup() as tasks,
        ):
            tasks.create_task(reopen_after_throttling())
            got = await asyncio.gather(
                *(client.coworker_time_passes.get(ids[i % 3]) for i in range(150))
            )
        assert len(got) == 150
        assert emu.stats.throttled >= 10
        assert emu.stats.by_status[200] == 150


async def test_transient_get_failures_are_retried(nexudus_emulator_factory: Any) -> None:
    faults = (
        FaultRule(method="GET", path="/api/billing/*", kind="error500", probability=0.25),
        FaultRule(method="GET", path="/api/billing/*", kind="drop_before", probability=0.1),
    )
    async with nexudus_emulator_factory(time_scale=0.01, seed=7, faults=faults) as emu:
        ids = seed(emu, 3)
        patient = RetryPolicy(max_retries=8, backoff_initial=0.005, backoff_max=0.02)
        async with NexudusClient(
            emu.base_url, basic(), rate_limits=scaled(emu), retry=patient
        ) as client:
            async with asyncio.timeout(30):
                for _ in range(10):
                    for i in ids:
                        assert (await client.coworker_time_passes.get(i)).id == i
        assert emu.stats.faults["error500"] > 0 and emu.stats.faults["drop_before"] > 0


@pytest.mark.parametrize(
    ("kind", "executed"),
    [
        ("error500", False),
        ("drop_before", False),
        ("drop_after", True),
        ("malformed", True),
        ("empty", True),
        ("not_json", True),
    ],
)
async def test_a_post_that_may_have_run_raises_outcome_unknown(
    nexudus_emulator: EmulatorServer, client: NexudusClient, kind: str, executed: bool
) -> None:
    nexudus_emulator.set_faults([FaultRule(method="POST", path=CREATE_PATH, kind=kind, times=1)])
    with pytest.raises(OutcomeUnknownError, match="outcome is unknown") as info:
        await client.coworker_time_passes.create(coworker_id=42, business_id=1, time_pass_id=7)
    assert (info.value.method, info.value.path) == ("POST", CREATE_PATH)
    # Never resent: exactly one POST reached the server, and the store says what happened.
    assert nexudus_emulator.stats.by_route[f"POST {CREATE_PATH}"] == 1
    assert nexudus_emulator.store.count(CTP) == (1 if executed else 0)


async def test_unsuccessful_answers_raise(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    nexudus_emulator.set_faults([FaultRule(method="POST", path=CREATE_PATH, kind="unsuccessful")])
    with pytest.raises(UnsuccessfulResponseError, match="could not be completed"):
        await client.coworker_time_passes.create(coworker_id=42, business_id=1, time_pass_id=7)
    assert nexudus_emulator.store.count(CTP) == 0


async def test_validation_errors_are_typed(client: NexudusClient) -> None:
    with pytest.raises(ValidationError) as info:
        await client.coworker_time_passes.create(
            coworker_id=42, business_id=1, time_pass_id=7, create_multiple=5000
        )
    assert info.value.status == 400
    assert [e.property_name for e in info.value.errors] == ["CreateMultiple"]
    assert info.value.errors[0].attempted_value == 5000


async def test_timeouts_per_call(nexudus_emulator: EmulatorServer, client: NexudusClient) -> None:
    (rid,) = seed(nexudus_emulator, 1)
    nexudus_emulator.set_faults([FaultRule(method="GET", kind="latency", latency=0.3)])
    impatient = client.with_options(
        timeout=0.05, retry=RetryPolicy(max_retries=1, backoff_initial=0.01)
    )
    with pytest.raises(RequestTimeoutError):
        await impatient.coworker_time_passes.get(rid)
    # the timeout bounds the whole call: its one attempt used it up, nothing more was sent
    assert nexudus_emulator.stats.by_route["GET /api/billing/coworkertimepasses/{Id}"] == 1
    nexudus_emulator.set_faults([])
    assert (await client.coworker_time_passes.get(rid)).id == rid


async def test_expired_tokens_are_refreshed_once(nexudus_emulator: EmulatorServer) -> None:
    (rid,) = seed(nexudus_emulator, 1)
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    async with NexudusClient(
        nexudus_emulator.base_url, auth, rate_limits=scaled(nexudus_emulator)
    ) as client:
        await client.coworker_time_passes.get(rid)
        nexudus_emulator.expire_tokens()
        async with asyncio.timeout(30):
            await asyncio.gather(*(client.coworker_time_passes.get(rid) for _ in range(10)))
    assert auth.token_requests == 2
    stats = nexudus_emulator.stats
    assert stats.by_route["POST /api/token"] == 2
    assert stats.by_status[401] >= 1


async def test_a_token_about_to_expire_is_renewed_before_use(
    nexudus_emulator: EmulatorServer,
) -> None:
    (rid,) = seed(nexudus_emulator, 1)
    now = [0.0]
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, clock=lambda: now[0])
    async with NexudusClient(
        nexudus_emulator.base_url, auth, rate_limits=scaled(nexudus_emulator)
    ) as client:
        await client.coworker_time_passes.get(rid)
        now[0] += 7 * 86400  # a week later, on the grant's clock
        await client.coworker_time_passes.get(rid)
    assert auth.token_requests == 2
    assert nexudus_emulator.stats.by_status[401] == 0


async def test_paginating_thousands_with_max_items_and_prefetch(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    seed(nexudus_emulator, 2500)
    seed(nexudus_emulator, 500, CoworkerId=43)
    stats = nexudus_emulator.stats
    route = "GET /api/billing/coworkertimepasses"
    async with asyncio.timeout(60):
        ids = [
            tp.id
            async for tp in client.coworker_time_passes.iter(coworker=42, size=100, prefetch=4)
        ]
        assert ids == list(range(1, 2501))
        assert stats.by_route[route] == 25

        limited = [tp.id async for tp in client.coworker_time_passes.iter(size=100, max_items=250)]
        assert limited == list(range(1, 251))
        assert stats.by_route[route] == 25 + 3

        newest = [
            tp.id
            async for tp in client.coworker_time_passes.iter(
                direction=SortDirection.DESCENDING, max_items=5, prefetch=3
            )
        ]
        assert newest == [3000, 2999, 2998, 2997, 2996]
        assert stats.by_route[route] == 28 + 1

        async with client.coworker_time_passes.iter(size=50, prefetch=4) as passes:
            async for tp in passes:
                if tp.id == 60:
                    break
        assert stats.by_route[route] <= 29 + 5
    assert stats.throttled == 0


async def test_filters_by_customer_time_pass_and_creation_date(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    seed(nexudus_emulator, 3, CreatedOn="2024-12-31T23:00:00Z")
    seed(nexudus_emulator, 4, CreatedOn="2025-01-15T10:30:00Z")
    seed(nexudus_emulator, 2, CreatedOn="2025-01-15T10:30:00Z", TimePassId=8)
    page = await client.coworker_time_passes.list(
        coworker=42, time_pass=7, created_on=(datetime.datetime(2025, 1, 1), None), size=1
    )
    assert page.total_items == 4
    assert page.items[0].created_on == datetime.datetime(2025, 1, 15, 10, 30)


async def test_update_keeps_every_field_the_caller_did_not_touch(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    rid = nexudus_emulator.store.insert(
        CTP,
        {
            "CoworkerId": 42,
            "BusinessId": 1,
            "TimePassId": 7,
            "Notes": "old",
            "PurchaseOrder": "PO-9",
            "Used": True,
            "Free": True,
            "Price": 12.5,
            "ExpireDate": "2025-03-01T18:00:00Z",
            "CoworkerProductUniqueId": "4bf6f8b5-9763-4f32-8408-52872c134b11",
            "SystemId": "ext-1",
        },
    )["Id"]
    before = nexudus_emulator.store.get(CTP, rid)
    assert before is not None
    await client.coworker_time_passes.update(rid, notes="moved", price=None)
    after = nexudus_emulator.store.get(CTP, rid)
    assert after is not None
    assert after["Notes"] == "moved" and after["Price"] is None
    for field in (
        "CoworkerId",
        "BusinessId",
        "TimePassId",
        "PurchaseOrder",
        "Used",
        "Free",
        "ExpireDate",
        "CoworkerProductUniqueId",
        "SystemId",
        "UniqueId",
    ):
        assert after[field] == before[field], field


async def test_run_command_and_not_found(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    ids = seed(nexudus_emulator, 2, Used=False)
    result = await client.coworker_time_passes.run_command("MARK_AS_USED", ids=ids)
    assert result.message
    assert nexudus_emulator.store.count(CTP, Used=True) == 2
    with pytest.raises(NotFoundError) as info:
        await client.coworker_time_passes.get(999_999)
    assert info.value.status == 404
    with pytest.raises(ValidationError):
        await client.coworker_time_passes.run_command(
            "NO_SUCH_COMMAND", ids=ids, parameters=[CommandParameter(value=1, name="x")]
        )


async def test_product_and_tariff_passes(client: NexudusClient) -> None:
    p = await client.product_time_passes.create(product_id=1, time_pass_id=7, passes_included=10)
    assert p.id is not None
    await client.product_time_passes.update(p.id, passes_included=12)
    assert (await client.product_time_passes.get(p.id)).passes_included == 12
    t = await client.tariff_time_passes.create(
        tariff_id=1, time_pass_id=7, passes_included=2, pass_renewal_time=2
    )
    assert t.id is not None
    items = [x async for x in client.tariff_time_passes.iter(time_pass=7)]
    assert [x.id for x in items] == [t.id]
    await client.tariff_time_passes.delete(t.id)


async def test_credentials_never_appear_in_logs_reprs_or_errors(
    nexudus_emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="nexudus_async")
    nexudus_emulator.set_faults([FaultRule(method="GET", kind="error500", times=1)])
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    texts: list[str] = []
    async with NexudusClient(
        nexudus_emulator.base_url, auth, rate_limits=scaled(nexudus_emulator), retry=FAST_RETRY
    ) as client:
        texts.append(repr(client))
        for call in (
            client.coworker_time_passes.get(424242),
            client.coworker_time_passes.create(
                coworker_id=1, business_id=1, time_pass_id=1, create_multiple=99999
            ),
        ):
            try:
                await call
            except Exception as exc:
                texts += [str(exc), repr(exc)]
        nexudus_emulator.expire_tokens()
        with pytest.raises(NotFoundError):
            await client.coworker_time_passes.get(1)
        secrets = auth.secrets()
    assert len(secrets) >= 3  # the password and the tokens
    everything = "\n".join([*texts, caplog.text])
    assert "GET /api/billing/coworkertimepasses/424242 -> 500" in caplog.text
    for secret in (*secrets, DEFAULT_ADMIN_EMAIL):
        assert secret not in everything


async def test_trace_configs_see_every_request(nexudus_emulator: EmulatorServer) -> None:
    (rid,) = seed(nexudus_emulator, 1)
    started: list[str] = []

    async def on_start(session: Any, ctx: Any, params: aiohttp.TraceRequestStartParams) -> None:
        started.append(f"{params.method} {params.url.path}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with NexudusClient(
        nexudus_emulator.base_url,
        basic(),
        rate_limits=scaled(nexudus_emulator),
        trace_configs=[trace],
    ) as client:
        await client.coworker_time_passes.get(rid)
    assert started == [f"GET /api/billing/coworkertimepasses/{rid}"]


async def test_cancelling_a_call_in_flight_leaves_nothing_open(
    nexudus_emulator: EmulatorServer,
) -> None:
    (rid,) = seed(nexudus_emulator, 1)
    nexudus_emulator.set_faults([FaultRule(method="GET", kind="latency", latency=5.0)])
    async with NexudusClient(
        nexudus_emulator.base_url, basic(), rate_limits=scaled(nexudus_emulator)
    ) as client:
        task = asyncio.create_task(client.coworker_time_passes.get(rid))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        nexudus_emulator.set_faults([])
        assert (await client.coworker_time_passes.get(rid)).id == rid


async def test_an_error_inside_async_with_still_closes_the_session(
    nexudus_emulator: EmulatorServer,
) -> None:
    with pytest.raises(NotFoundError):
        async with NexudusClient(
            nexudus_emulator.base_url, basic(), rate_limits=scaled(nexudus_emulator)
        ) as client:
            await client.coworker_time_passes.get(5)
    assert client.closed


async def test_bulk_create_goes_through_the_resource(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    rows = [{"CoworkerId": 42, "BusinessId": 1, "TimePassId": 7}] * 10
    rows += [{"coworker_id": 43, "business_id": 1, "time_pass_id": 7}]
    await client.coworker_time_passes.bulk_create(rows)
    assert nexudus_emulator.store.count(CTP, CoworkerId=42) == 10
    assert nexudus_emulator.store.count(CTP, CoworkerId=43) == 1
    assert nexudus_emulator.stats.by_route[f"POST {CREATE_PATH}"] == 2  # one CreateMultiple each


async def test_delete_survives_a_dropped_answer(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    (rid,) = seed(nexudus_emulator, 1)
    nexudus_emulator.set_faults([FaultRule(method="DELETE", kind="drop_after", times=1)])
    result = await client.coworker_time_passes.delete(rid)
    assert result.message is not None and "earlier attempt" in result.message
    assert nexudus_emulator.store.get(CTP, rid) is None


@pytest.mark.parametrize("kind", ["empty", "not_json"])
async def test_a_put_or_delete_answered_unreadably_is_resent_safely(
    nexudus_emulator: EmulatorServer, client: NexudusClient, kind: str
) -> None:
    # The emulator executes the request, then answers 200 with an empty or HTML body.
    (rid,) = seed(nexudus_emulator, 1)
    nexudus_emulator.set_faults(
        [
            FaultRule(method="PUT", path=CREATE_PATH, kind=kind, times=1),
            FaultRule(method="DELETE", path=f"{CREATE_PATH}/*", kind=kind, times=1),
        ]
    )
    result = await client.coworker_time_passes.update(rid, notes="moved")
    assert result.id == rid
    assert nexudus_emulator.store.get(CTP, rid)["Notes"] == "moved"  # type: ignore[index]
    # Sent twice and executed twice: a resend the emulator throttled (429: not executed,
    # which a loaded machine can bring about) is no third execution.
    put, stats = f"PUT {CREATE_PATH}", nexudus_emulator.stats
    assert stats.by_route[put] - stats.by_operation[put][429] == 2
    assert stats.executed[put] == 2
    deleted = await client.coworker_time_passes.delete(rid)
    # The first DELETE did it; the resend's 404 says so, and is no error.
    assert deleted.message == (
        f"CoworkerTimePass {rid} is gone: an earlier attempt, whose answer was lost, deleted it"
    )
    assert nexudus_emulator.store.get(CTP, rid) is None
    delete = f"DELETE {CREATE_PATH}/{{Id}}"
    assert stats.by_route[delete] - stats.by_operation[delete][429] == 2
    assert stats.executed[delete] == 1  # the resend found nothing to delete (404)
    assert stats.faults[kind] == 2
