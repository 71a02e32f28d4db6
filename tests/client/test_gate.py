"""The gate's size: a bound of at least one place, refused by name otherwise."""

from __future__ import annotations

import asyncio

import pytest

from nexudus_async import NexudusClient
from nexudus_async._core.gate import Gate


@pytest.mark.parametrize("size", [0, -2])
def test_a_gate_without_a_place_is_refused_by_name(size: int) -> None:
    with pytest.raises(ValueError) as caught:
        Gate(size)
    assert str(caught.value) == f"max_in_flight must be at least 1, got {size!r}"


async def test_a_gate_of_n_lets_exactly_n_in_without_waiting() -> None:
    gate = Gate(3)
    for _ in range(3):
        assert not gate.full()
        assert await gate.enter() is True
    assert gate.full()
    waiting = asyncio.ensure_future(gate.enter())
    await asyncio.sleep(0)
    assert not waiting.done()
    gate.leave()
    async with asyncio.timeout(5):
        assert await waiting is True
    assert gate.full()


async def test_try_enter_takes_a_free_place_and_never_overtakes_a_waiter() -> None:
    gate = Gate(2)
    assert gate.try_enter() is True
    assert gate.try_enter() is True
    assert gate.try_enter() is False and gate.full()
    first = asyncio.ensure_future(gate.enter())
    second = asyncio.ensure_future(gate.enter())
    await asyncio.sleep(0)
    gate.leave()  # the place goes to the first waiter, not to whoever asks next
    assert gate.try_enter() is False
    async with asyncio.timeout(5):
        assert await first is True
    assert not second.done()
    gate.leave()
    async with asyncio.timeout(5):
        assert await second is True
    gate.leave()
    gate.leave()  # nobody waits: the places are free again, exactly two
    assert gate.try_enter() is True and gate.try_enter() is True
    assert gate.try_enter() is False


async def test_a_cancelled_waiter_passes_its_place_on() -> None:
    gate = Gate(1)
    assert gate.try_enter() is True
    cancelled = asyncio.ensure_future(gate.enter())
    waiting = asyncio.ensure_future(gate.enter())
    await asyncio.sleep(0)
    cancelled.cancel()
    gate.leave()
    async with asyncio.timeout(5):
        assert await waiting is True
    assert cancelled.cancelled()
    gate.leave()
    assert gate.try_enter() is True  # one place, not two: none was lost or doubled
    assert gate.try_enter() is False


async def test_a_new_clients_first_request_leads_the_warm_up_at_once(
    emulator_client: NexudusClient,
) -> None:
    # Nobody leads before the first request: were a fresh warm-up marked as led,
    # that request would wait for an answer that no request is there to get.
    async with asyncio.timeout(5):
        page = await emulator_client.coworker_time_passes.list(size=1)
    assert (len(page.items), page.total_items) == (0, 0)  # an empty account, answered
