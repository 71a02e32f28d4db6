"""What the journal says after a job is aborted or stopped by a fatal error, through the public API.

Beside ``test_bulk_api_in_process.py``: ``bulk_create`` awaited in-process
against the emulator, checked through the report, the journal's public
records and the emulator's store, so these hold whatever the engine's
inside looks like.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.errors import TransportError
from nexudus_async._core.retry import RetryPolicy
from nexudus_async.bulk import BulkProgress
from nexudus_async.bulk.journal import Journal
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    ThrottleLimits,
    run_emulator,
)

from .test_bulk_api_in_process import CREATE, CUSTOMERS, client_for, created_per_customer, rows_for


def closed_port() -> int:
    """A port nothing listens on once the probe is closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_abort_between_the_creates_of_a_group_keeps_what_was_acknowledged(
    tmp_path: Path,
) -> None:
    """One create of three answered, the next throttled and waiting: cancelled there."""
    rows = rows_for([601], count=3)
    # Time scale 1: once writes are shut, a create is throttled for a whole minute.
    config = EmulatorConfig(limits=ThrottleLimits.off(), time_scale=1.0)
    shut = ThrottleLimits(min_interval=None, writes_per_minute=0)

    async def progress(p: BulkProgress) -> None:
        if p.requests_sent == 1:  # the first create was answered: the next one is throttled
            emu.set_limits(shut)

    async with run_emulator(config) as emu:
        async with client_for(emu, RetryPolicy()) as client:
            with Journal(tmp_path / "job.sqlite") as journal:
                job = asyncio.create_task(
                    client.coworker_time_passes.bulk_create(
                        rows, max_per_request=1, journal=journal, progress=progress
                    )
                )
                async with asyncio.timeout(30):
                    while emu.stats.throttled == 0:  # noqa: ASYNC110 (stats have no event)
                        await asyncio.sleep(0.01)
                job.cancel()  # Ctrl-C twice: abort while the second create waits to be resent
                with pytest.raises(asyncio.CancelledError):
                    await job
                assert emu.stats.executed[CREATE] == 1
                [record] = journal.unfinished_jobs()
                [group] = journal.groups(record.job_id).values()
                # the acknowledged create is in the journal; the outcome of the rest is open
                assert (group.state, group.expected, group.created, group.requests) == (
                    "sending",
                    3,
                    1,
                    1,
                )
                assert group.last_error is None

                emu.set_limits(ThrottleLimits.off())
                again = await client.coworker_time_passes.bulk_create(
                    rows, max_per_request=1, journal=journal
                )
                [done] = journal.groups(record.job_id).values()
        [resumed] = again.groups
        assert (resumed.status, resumed.resumed, resumed.created_before) == ("created", True, 1)
        assert (resumed.created, resumed.requests) == (3, 2)
        # one count reconciles the group; the snapshot of the first run is reused
        assert (again.count_requests, again.snapshot_requests, again.create_requests) == (1, 0, 2)
        assert (done.state, done.created, done.requests) == ("done", 3, 3)
        assert emu.stats.executed[CREATE] == 3
        assert created_per_customer(emu) == {601: 3}
        assert journal_is_finished(tmp_path / "job.sqlite")


def journal_is_finished(path: Path) -> bool:
    with Journal(path) as journal:
        return not journal.unfinished_jobs()


async def test_a_host_lost_before_any_answer_fails_the_first_create_and_stops_the_job(
    tmp_path: Path,
) -> None:
    """Resumed from a journal holding the snapshot, the run's first request is a create.

    It cannot connect and nothing of this run was answered: the error would fail
    every group, so the job stops there, the group failed with that error (not
    retried, not "interrupted"), and the other groups never started.
    """
    rows = rows_for(CUSTOMERS)
    stop = asyncio.Event()

    async def progress(p: BulkProgress) -> None:
        if p.reads_sent == 1 and p.requests_sent == 0:  # the snapshot is saved, nothing sent
            stop.set()

    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        async with client_for(emu) as client:
            with Journal(tmp_path / "job.sqlite") as journal:
                first = await client.coworker_time_passes.bulk_create(
                    rows, concurrency=1, journal=journal, stop=stop, progress=progress
                )
        assert first.interrupted and (first.snapshot_requests, first.create_requests) == (1, 0)
        assert emu.stats.by_route.get(CREATE, 0) == 0

    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    url = f"http://127.0.0.1:{closed_port()}"
    async with NexudusClient(url, auth, rate_limits=None, retry=RetryPolicy.never()) as client:
        with Journal(tmp_path / "job.sqlite") as journal:
            with pytest.raises(TransportError, match="connection failed") as caught:
                await client.coworker_time_passes.bulk_create(
                    rows, concurrency=1, journal=journal, max_attempts=3, throttle_backoff=0.001
                )
            [record] = journal.unfinished_jobs()
            assert journal.snapshot(record.job_id) is not None
            groups = journal.groups(record.job_id)
            sent = journal.send_times(since=0, write=True)
    [group] = groups.values()
    assert (group.state, group.created, group.requests) == ("failed", 0, 1)
    assert group.last_error == str(caught.value)
    assert len(sent) == 1  # one create tried, none after it
