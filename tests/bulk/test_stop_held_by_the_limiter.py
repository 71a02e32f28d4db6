"""A stop while the limiter holds a create (a full daily window: hours) ends the job at once.

The client's limiter lets 3 writes a day through; the job has 8 groups. The
fourth create waits in the limiter for a day. Stopping cancels it (it never
reached the wire, and with the stop's wire guard never could), so the job
ends now with exactly three creates sent and everything else not sent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.throttle import RateLimits, Window
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk.executor import rows_from_mappings, run_bulk
from nexudus_async.bulk.gateway import ResourceGateway
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.bulk.stopping import stop_trace_config
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    ThrottleLimits,
    run_emulator,
)

POST_CTP = "POST /api/billing/coworkertimepasses"
THREE_A_DAY = RateLimits(
    min_interval=0.001, windows=(Window(3, 86_400.0, writes_only=True),), safety=0.0, margin=0.0
)


async def test_a_stop_does_not_wait_for_the_daily_window(tmp_path: Path) -> None:
    rows = [{"CoworkerId": c, "BusinessId": 1, "TimePassId": 1} for c in range(1, 9)]
    plan = make_plan(
        COWORKER_TIME_PASS, validate_rows(COWORKER_TIME_PASS, rows_from_mappings(rows))[0]
    )
    stop = asyncio.Event()
    config = EmulatorConfig(limits=ThrottleLimits.off())
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    async with run_emulator(config) as emu:
        client = NexudusClient(
            emu.base_url, auth, rate_limits=THREE_A_DAY, trace_configs=[stop_trace_config(stop)]
        )
        async with client:
            with Journal(tmp_path / "j.sqlite") as journal:
                job = asyncio.create_task(
                    run_bulk(
                        plan,
                        ResourceGateway(client.coworker_time_passes),
                        journal=journal,
                        concurrency=2,
                        stop=stop,
                    )
                )
                for _ in range(3000):  # bounded: until the three creates of the day went
                    if emu.stats.by_route[POST_CTP] == 3:
                        break
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.1)  # the next create is now held for a day
                assert not job.done()
                stop.set()
                # Without the cancel the job waited for the held creates' timeout (the
                # client's minute here; the daily window with a longer one) and counted
                # them as sent; the guard only fails the test.
                report = await asyncio.wait_for(job, 120)
                held = {k: g.state for k, g in journal.groups(report.job_id).items()}
    assert report.interrupted
    assert emu.stats.by_route[POST_CTP] == 3 == report.create_requests
    assert [g.status for g in report.groups].count("created") == 3
    assert [g.status for g in report.groups].count("not_sent") == 5
    # The groups that waited in the limiter: nothing sent, and the journal says so exactly.
    assert sorted(held.values()) == ["done"] * 3 + ["failed"] * (len(held) - 3)
    assert emu.store.count("coworkertimepasses") == 3
