"""The bulk engine through its public API, in-process, against the emulator.

``client.coworker_time_passes.bulk_create(rows, ...)`` is what users await in
their own jobs; these tests say what it does through that API only (the
report, the journal's public records, what the emulator's store holds and
received), so they hold whatever the engine's inside looks like.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.errors import AuthenticationError, TransportError
from nexudus_async._core.retry import RetryPolicy
from nexudus_async.bulk import BulkProgress
from nexudus_async.bulk.journal import Journal
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    EmulatorServer,
    FaultRule,
    ThrottleLimits,
    run_emulator,
)

from .helpers import CTP, store_counts

CREATE = "POST /api/billing/coworkertimepasses"
FAST = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)


def client_for(emu: EmulatorServer, retry: RetryPolicy = FAST) -> NexudusClient:
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    return NexudusClient(emu.base_url, auth, rate_limits=None, retry=retry)


def rows_for(customers: list[int], count: int = 2) -> list[dict[str, Any]]:
    """One group per customer, ``count`` passes each."""
    return [
        {"CoworkerId": c, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": count}
        for c in customers
    ]


def created_per_customer(emu: EmulatorServer) -> Counter[int]:
    return Counter({c: n for (c, _), n in store_counts(emu.store.all(CTP)).items()})


CUSTOMERS = [101, 102, 103, 104]


@pytest.mark.parametrize("after", [1, 2, 3])
async def test_a_stop_is_honoured_between_every_pair_of_groups(tmp_path: Path, after: int) -> None:
    """Stopped once ``after`` groups went out (one at a time): none of the others is touched."""
    stop = asyncio.Event()

    async def progress(p: BulkProgress) -> None:
        if p.requests_sent == after:  # reported right after the create, the group still open
            stop.set()

    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        async with client_for(emu) as client:
            with Journal(tmp_path / "job.sqlite") as journal:
                report = await client.coworker_time_passes.bulk_create(
                    rows_for(CUSTOMERS), concurrency=1, journal=journal, stop=stop,
                    progress=progress,
                )  # fmt: skip
                assert report.job_id is not None
                states = {k: g.state for k, g in journal.groups(report.job_id).items()}
        assert report.interrupted
        assert emu.stats.by_route[CREATE] == after
        assert report.create_requests == after
        sent = [g for g in report.groups if g.status == "created"]
        assert len(sent) == after and all((g.created, g.requests) == (2, 1) for g in sent)
        untouched = [g for g in report.groups if g.status == "not_sent"]
        assert len(untouched) == len(CUSTOMERS) - after
        assert all(g.created == 0 and g.requests == 0 for g in untouched)
        # the journal holds only the groups that went out: the others were never started
        assert sorted(states.values()) == ["done"] * after
        assert sorted(created_per_customer(emu).values()) == [2] * after


async def test_a_stop_between_the_requests_of_one_group_sends_no_more_and_resumes_exactly(
    tmp_path: Path,
) -> None:
    stop = asyncio.Event()

    async def progress(p: BulkProgress) -> None:
        if p.requests_sent == 1:
            stop.set()

    rows = rows_for([201], count=3)
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        async with client_for(emu) as client:
            with Journal(tmp_path / "job.sqlite") as journal:
                first = await client.coworker_time_passes.bulk_create(
                    rows, max_per_request=1, journal=journal, stop=stop, progress=progress
                )
                assert emu.stats.by_route[CREATE] == 1
                [group] = first.groups
                assert (group.status, group.created, group.requests) == ("not_sent", 1, 1)
                again = await client.coworker_time_passes.bulk_create(
                    rows, max_per_request=1, journal=journal
                )
        assert again.ok and again.create_requests == 2
        assert emu.stats.by_route[CREATE] == 3
        assert created_per_customer(emu) == {201: 3}


async def test_a_5xx_answer_to_a_create_is_reconciled_by_counting_not_failed() -> None:
    # The server executes the create, then answers 500. With no status resent by the
    # client, the 500 reaches the bulk engine as a ServerError: it may have run, so count.
    fault = FaultRule(method="POST", path=f"/api/billing/{CTP}", kind="error500_after", times=1)
    config = EmulatorConfig(limits=ThrottleLimits.off(), faults=(fault,))
    no_status_retries = RetryPolicy(retry_statuses=frozenset(), backoff_initial=0.01)
    async with run_emulator(config) as emu:
        async with client_for(emu, no_status_retries) as client:
            report = await client.coworker_time_passes.bulk_create(
                rows_for([301, 302]), concurrency=1
            )
        assert emu.stats.faults["error500_after"] == 1
        assert report.ok, [g.reason for g in report.groups]
        assert report.create_requests == 2  # the executed one is counted, not resent
        assert report.count_requests == 1
        assert created_per_customer(emu) == {301: 2, 302: 2}


async def test_aborting_a_stopping_job_sends_nothing_more_and_the_journal_resumes_it(
    tmp_path: Path,
) -> None:
    """First Ctrl-C: ``stop``; second: cancel the job while a create waits to be resent."""
    rows = rows_for([401, 402, 403])
    # Time scale 1: once writes are shut, a create is throttled for a whole minute.
    config = EmulatorConfig(limits=ThrottleLimits.off(), time_scale=1.0)
    shut = ThrottleLimits(min_interval=None, writes_per_minute=0)

    async def progress(p: BulkProgress) -> None:
        if p.requests_sent == 1:  # the first group went out: the next create is throttled
            emu.set_limits(shut)

    async with run_emulator(config) as emu:
        async with client_for(emu, RetryPolicy()) as client:
            with Journal(tmp_path / "job.sqlite") as journal:
                stop = asyncio.Event()
                job = asyncio.create_task(
                    client.coworker_time_passes.bulk_create(
                        rows, concurrency=1, journal=journal, stop=stop, progress=progress
                    )
                )
                async with asyncio.timeout(30):
                    while emu.stats.throttled == 0:  # noqa: ASYNC110 (stats have no event)
                        await asyncio.sleep(0.01)
                stop.set()  # Ctrl-C: the create waiting to be resent is still in flight
                job.cancel()  # Ctrl-C again: abort now
                with pytest.raises(asyncio.CancelledError):
                    await job
                # one create executed; the other throttled (not executed) and never resent
                assert emu.stats.executed[CREATE] == 1
                assert emu.stats.by_status[409] == emu.stats.throttled >= 1
                [record] = journal.unfinished_jobs()
                states = Counter(g.state for g in journal.groups(record.job_id).values())
                assert states == {"done": 1, "sending": 1}  # the third never started
                assert created_per_customer(emu) == {401: 2}

                emu.set_limits(ThrottleLimits.off())
                again = await client.coworker_time_passes.bulk_create(rows, journal=journal)
        assert again.ok and again.create_requests == 2
        assert emu.stats.executed[CREATE] == 3
        assert [g.status for g in again.groups] == ["skipped", "created", "created"]
        assert [g.resumed for g in again.groups] == [False, True, False]  # found 'sending'
        assert [g.requests for g in again.groups] == [0, 1, 1]
        assert created_per_customer(emu) == {401: 2, 402: 2, 403: 2}


async def test_a_group_is_given_up_after_exactly_max_attempts_creates() -> None:
    # Every write throttled, and the client resends nothing itself: each throttled
    # create reaches the engine, which tries max_attempts times, no more.
    shut = ThrottleLimits(min_interval=None, writes_per_minute=0)
    async with run_emulator(EmulatorConfig(limits=shut)) as emu:
        async with client_for(emu, RetryPolicy.never()) as client:
            report = await client.coworker_time_passes.bulk_create(
                rows_for([501]), max_attempts=3, throttle_backoff=0.001
            )
        [group] = report.groups
        assert (group.status, group.created, group.requests) == ("failed", 0, 3)
        assert group.reason is not None and group.reason.startswith("gave up after 3 attempts")
        assert emu.stats.by_route[CREATE] == emu.stats.throttled == report.create_requests == 3
        assert emu.stats.executed[CREATE] == 0


async def test_refused_credentials_stop_the_whole_job_at_the_first_answer() -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        wrong = BasicAuth(DEFAULT_ADMIN_EMAIL, "not-the-password")
        async with NexudusClient(emu.base_url, wrong, rate_limits=None, retry=FAST) as client:
            with pytest.raises(AuthenticationError):
                await client.coworker_time_passes.bulk_create(rows_for(CUSTOMERS), concurrency=1)
        # one refused request, then nothing: no group tried its own login
        assert emu.stats.requests == emu.stats.by_status[401] == 1
        assert emu.store.count(CTP) == 0


async def test_an_unreachable_host_stops_the_job_before_any_group() -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    quick = RetryPolicy(max_retries=1, backoff_initial=0.001)
    async with NexudusClient(
        f"http://127.0.0.1:{port}", auth, rate_limits=None, retry=quick
    ) as client:
        with pytest.raises(TransportError, match="connection failed"):
            await client.coworker_time_passes.bulk_create(rows_for(CUSTOMERS), concurrency=1)
