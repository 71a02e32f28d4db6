"""The bulk executor's workers under a storm of cancellations: nothing doubled, nothing left held.

A job is started again and again, each run under ``asyncio.wait_for`` with a
random budget (its workers cancelled wherever they are: queued for the
limiter, mid request, between a create and its journal entry); a last run
without budget finishes it. The store then holds exactly the rows asked for,
and the same client answers at once.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from nexudus_async import NexudusClient, PasswordGrant, RateLimits
from nexudus_async.bulk.journal import Journal
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD
from nexudus_async.testing.server import EmulatorServer

from ..client.conftest import FAST_RETRY
from .helpers import CTP, expected_counts, sample_rows, store_counts


@pytest.mark.parametrize("seed", [21, 22])
async def test_a_job_cancelled_again_and_again_finishes_with_every_pass_once(
    nexudus_emulator: EmulatorServer, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    # More groups than the limiter lets through in the longest budget (writes 100/s
    # at this scale): every budget runs out mid-job however fast the machine is.
    rows = sample_rows(customers=150, passes=300, seed=seed)
    path = tmp_path / "journal.sqlite"
    async with NexudusClient(
        nexudus_emulator.base_url,
        PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD),
        rate_limits=RateLimits.published().scaled(nexudus_emulator.config.time_scale),
        retry=FAST_RETRY,
        connection_limit=4,
    ) as client:
        ctp = client.coworker_time_passes
        outcomes: list[str] = []
        for _ in range(40):  # bounded: the storm
            with Journal(path) as journal:
                try:
                    report = await asyncio.wait_for(
                        ctp.bulk_create(rows, journal=journal, concurrency=4, max_attempts=30),
                        rng.uniform(0.01, 0.3),
                    )
                except TimeoutError:
                    outcomes.append("timeout")
                else:
                    outcomes.append("done" if report.ok else "not ok")
        assert "timeout" in outcomes
        with Journal(path) as journal:
            report = await asyncio.wait_for(
                ctp.bulk_create(rows, journal=journal, concurrency=4, max_attempts=30), 120
            )
        assert report.ok, [g.reason for g in report.groups if g.status != "created"]
        assert store_counts(nexudus_emulator.store.all(CTP)) == expected_counts(rows)
        gate = client._pipeline._gate
        assert gate is not None and gate._semaphore._value == 4
        assert len((await asyncio.wait_for(ctp.list(size=1), 10)).items) == 1
