"""Cancellation never turns into another error, and leaves nothing behind.

Every place where tasks wait on each other gets a seeded storm: hundreds of
calls, each under ``asyncio.wait_for`` with a random budget, some cancelled
outright. A caller only ever sees its answer, its own ``TimeoutError`` /
``CancelledError``, or a ``NexudusError``; afterwards the same client has
every place, slot and in-flight count back and answers the next call.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from nexudus_async import NexudusClient, PasswordGrant, RateLimits
from nexudus_async._core.errors import NexudusError
from nexudus_async._core.gate import Gate
from nexudus_async._core.pipeline import Pipeline
from nexudus_async._core.throttle import RateLimiter
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, FaultRule
from nexudus_async.testing.server import EmulatorServer

from .conftest import FAST_RETRY

CTP = "coworkertimepasses"
STORM_BOUND = 120.0  # seconds the whole storm may take at most (a hang fails, not a slow machine)


async def storm(
    call: Callable[[int], Awaitable[Any]],
    *,
    calls: int = 400,
    seed: int,
    budgets: tuple[float, float] = (0.01, 0.3),
    cancel_share: float = 0.1,
) -> Counter[str]:
    """Run ``calls`` calls at once, each under a random ``wait_for`` budget; some are cancelled.

    Returns how many ended how ("ok", "timeout", "cancelled", "nexudus"); any
    other outcome fails the test with the exception.
    """
    rng = random.Random(seed)

    async def one(i: int) -> Any:
        return await asyncio.wait_for(call(i), rng.uniform(*budgets))

    tasks = [asyncio.create_task(one(i)) for i in range(calls)]
    cancelled: set[int] = set()
    async with asyncio.timeout(STORM_BOUND):
        for i in rng.sample(range(calls), int(calls * cancel_share)):
            await asyncio.sleep(rng.uniform(0, 0.01))
            if tasks[i].cancel():
                cancelled.add(i)
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    seen: Counter[str] = Counter()
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, asyncio.CancelledError):
            assert i in cancelled, f"call {i} was cancelled though nobody cancelled it"
            seen["cancelled"] += 1
        elif isinstance(outcome, NexudusError):
            seen["nexudus"] += 1
        elif isinstance(outcome, TimeoutError):
            seen["timeout"] += 1
        elif isinstance(outcome, BaseException):
            raise AssertionError(f"call {i} ended with {outcome!r}") from outcome
        else:
            seen["ok"] += 1
    return seen


def assert_nothing_held(pipeline: Pipeline, size: int) -> None:
    """Every place of the gate is free and nobody waits at the gate or the limiter."""
    gate = pipeline._gate
    assert gate is not None and not gate.full()
    assert gate._semaphore._value == size
    assert not gate._semaphore._waiters
    limiter = pipeline.limiter
    if isinstance(limiter, RateLimiter):
        assert not limiter._lock.locked() and not limiter._write_lock.locked()


# ---------------------------------------------------------------- the gate


async def test_a_waiter_cancelled_in_the_tick_a_place_is_handed_to_it_passes_it_on() -> None:
    gate = Gate(1)
    await gate.enter()
    b = asyncio.create_task(gate.enter())
    c = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)  # b and c queue, in that order
    b.cancel()
    gate.leave()  # same tick: the place is handed to b, which is being cancelled
    with pytest.raises(asyncio.CancelledError):
        await b  # its own cancellation, not a ValueError from the queue
    await asyncio.wait_for(c, 5)  # b passed the place on to c
    gate.leave()
    assert not gate.full()
    await asyncio.wait_for(gate.enter(), 5)


async def test_a_cancelled_waiter_leaves_no_place_behind_and_keeps_the_order() -> None:
    gate = Gate(2)
    await gate.enter()
    await gate.enter()
    waiters = [asyncio.create_task(gate.enter()) for _ in range(4)]
    await asyncio.sleep(0)
    waiters[1].cancel()
    gate.leave()
    gate.leave()
    await asyncio.wait_for(asyncio.gather(waiters[0], waiters[2]), 5)
    assert waiters[1].cancelled()
    assert [w.done() and not w.cancelled() for w in waiters] == [True, False, True, False]
    gate.leave()
    await asyncio.wait_for(waiters[3], 5)
    assert gate._semaphore._value == 0 and not gate._semaphore._waiters


# ---------------------------------------------------------------- whole calls


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_storm_of_list_calls_ends_each_call_its_own_way(
    nexudus_emulator: EmulatorServer, seed: int
) -> None:
    for i in range(30):
        nexudus_emulator.store.insert(
            CTP, {"CoworkerId": 1 + i % 3, "BusinessId": 1, "TimePassId": 7}
        )
    async with NexudusClient(
        nexudus_emulator.base_url,
        PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD),
        rate_limits=RateLimits.published().scaled(nexudus_emulator.config.time_scale),
        retry=FAST_RETRY,
        connection_limit=4,
    ) as client:
        ctp = client.coworker_time_passes
        seen = await storm(lambda i: ctp.list(coworker=1 + i % 3), seed=seed)
        # 400 calls cannot pass the limiter within 0.3 s: budgets run out, whatever the machine.
        assert seen["timeout"] > 0 and seen["cancelled"] > 0, seen
        await asyncio.sleep(0.05)  # the cancelled requests' connections close
        assert_nothing_held(client._pipeline, 4)
        page = await asyncio.wait_for(ctp.list(coworker=1), 10)
        assert len(page.items) == 10


# ---------------------------------------------------------------- the limiters


@pytest.mark.parametrize("seed", [4, 5])
async def test_a_storm_on_the_in_memory_limiter_leaves_no_slot_taken(seed: int) -> None:
    limiter = RateLimiter(RateLimits.published().scaled(0.01))
    got: list[int] = []

    async def take(i: int) -> None:
        await limiter.acquire(write=i % 3 == 0)
        got.append(i)

    seen = await storm(take, seed=seed, budgets=(0.001, 0.2))
    # wait_for may report a timeout (or a cancellation) for an acquire that had just
    # finished: such a caller holds its slot, so ``got`` exceeds the "ok"s by those only.
    extra = len(got) - seen["ok"]
    assert 0 <= extra <= seen["timeout"] + seen["cancelled"] and seen["timeout"] > 0, seen
    assert limiter.acquired == len(got)  # a slot counted is a slot a caller received
    assert not limiter._lock.locked() and not limiter._write_lock.locked()
    await asyncio.wait_for(limiter.acquire(write=True), 10)


# ---------------------------------------------------------------- the token


async def test_a_token_request_outlives_the_callers_that_gave_up_on_it(
    nexudus_emulator: EmulatorServer,
) -> None:
    # The token takes 0.25 s; most callers' budgets are shorter. A caller who
    # leaves does not take the token request with it, so one is ever sent.
    nexudus_emulator.set_faults(
        [FaultRule(method="POST", path="/api/token", kind="latency", latency=0.25)]
    )
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    async with NexudusClient(
        nexudus_emulator.base_url,
        auth,
        rate_limits=RateLimits.published().scaled(nexudus_emulator.config.time_scale),
        retry=FAST_RETRY,
        connection_limit=4,
    ) as client:
        ctp = client.coworker_time_passes
        seen = await storm(lambda i: ctp.list(), calls=200, seed=6, budgets=(0.01, 0.3))
        assert seen["timeout"] > 0, seen
        await asyncio.wait_for(ctp.list(), 10)
        assert auth.token_requests == 1
        assert nexudus_emulator.stats.by_route["POST /api/token"] == 1
        assert_nothing_held(client._pipeline, 4)


# ---------------------------------------------------------------- pagination prefetch


@pytest.mark.parametrize("seed", [7, 8])
async def test_a_storm_of_prefetching_iterations_leaves_no_fetch_running(
    nexudus_emulator: EmulatorServer, emulator_client: NexudusClient, seed: int
) -> None:
    for _ in range(40):
        nexudus_emulator.store.insert(CTP, {"CoworkerId": 5, "BusinessId": 1, "TimePassId": 7})
    ctp = emulator_client.coworker_time_passes

    def fetches() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if "PageIterator._get" in repr(t.get_coro())]

    async def walk(i: int) -> int:
        async with ctp.iter(size=5, prefetch=4) as passes:
            return len([p async for p in passes])

    seen = await storm(walk, calls=60, seed=seed, budgets=(0.005, 0.4))
    assert seen["timeout"] > 0, seen
    # Every prefetch task was cancelled and collected before its iteration ended.
    assert fetches() == []
    assert await asyncio.wait_for(walk(0), 20) == 40
    assert_nothing_held(emulator_client._pipeline, 100)
