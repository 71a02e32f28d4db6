"""The gate's size: a bound of at least one place, refused by name otherwise."""

from __future__ import annotations

import asyncio

import pytest

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
