"""What passes admission between the request loop and the wire (`_core/admission.py`).

A write is counted as a write by the limiter whichever way it is let through
(at once, or after queueing), and a request that queued reports its wait as an
event saying which request waited and whether it writes.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from nexudus_async._core import events
from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.throttle import RateLimiter, RateLimits, Window
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
            started = time.perf_counter()
            await asyncio.gather(*(client.coworker_time_passes.create(**PASS) for _ in range(3)))
            elapsed = time.perf_counter() - started
        assert emu.stats.by_route[CREATE] == 3
    sent, writes = limiter.histories()
    assert len(writes) == 3 and writes[-1] == sent[-1]  # sent keeps one: no window counts reads
    waits = [e for e in seen if isinstance(e, events.LimiterWaitEvent)]
    # sent together, the 2nd and 3rd waited the spacing (0.05 s) at least (the 1st may too)
    assert len(waits) >= 2
    assert {(w.method, w.path, w.write) for w in waits} == {
        ("POST", "/api/billing/coworkertimepasses", True)
    }
    assert all(0.001 <= w.seconds <= elapsed for w in waits)
