"""One job, one runner, through the library: a second run of a job in progress sends nothing.

In-process, against the emulator over loopback: two ``bulk_create`` calls on
the same rows at once (same journal, or each its own), ``wait_for_lock``, and
the lock the operating system drops with its holder. The processes' side is
in ``test_one_runner_processes.py``.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import io
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.errors import NexudusError
from nexudus_async._core.throttle import RateLimits
from nexudus_async.bulk import JobLockedError, JobLockError
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.lock import JobLock
from nexudus_async.cli.connect import Connection
from nexudus_async.cli.import_cmd import ImportOptions, run_import
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

from .helpers import distinct_groups, expected_counts, sample_rows, store_counts, write_csv

SCALE = 0.01
POST_CTP = "POST /api/billing/coworkertimepasses"
# Every create held 0.3 s: the first job is still running when the second starts.
HOLD = FaultRule(method="POST", path="/api/billing/coworkertimepasses", kind="latency", latency=0.3)


def _config(*faults: FaultRule) -> EmulatorConfig:
    # Throttling off: a 409 would add a (harmless) resend to the create count.
    return EmulatorConfig(time_scale=SCALE, faults=list(faults), limits=ThrottleLimits.off())


def _client(emu: EmulatorServer) -> NexudusClient:
    return NexudusClient(
        base_url=emu.base_url,
        auth=BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD),
        rate_limits=RateLimits.published().scaled(SCALE),
    )


async def _first_create(emu: EmulatorServer, task: asyncio.Task[Any]) -> None:
    """Until the first job's first create reached the emulator (bounded)."""
    async with asyncio.timeout(30):
        while emu.stats.by_route[POST_CTP] == 0:
            assert not task.done(), task
            await asyncio.sleep(0.005)


def test_a_job_lock_is_a_nexudus_error() -> None:
    assert issubclass(JobLockedError, NexudusError)
    assert issubclass(JobLockError, NexudusError)


@pytest.mark.parametrize("journals", ["one journal", "a journal each"])
async def test_two_bulk_creates_of_one_job_in_one_process_do_not_both_send(
    tmp_path: Path, journals: str
) -> None:
    rows = sample_rows(customers=12, passes=60, seed=3)
    async with run_emulator(_config(HOLD)) as emu:
        async with _client(emu) as client:
            first_journal = Journal(tmp_path / "a.sqlite")
            path = "a.sqlite" if journals == "one journal" else "b.sqlite"
            second_journal = Journal(tmp_path / path)
            first = asyncio.create_task(
                client.coworker_time_passes.bulk_create(rows, journal=first_journal)
            )
            await _first_create(emu, first)
            with pytest.raises(JobLockedError) as caught:
                await client.coworker_time_passes.bulk_create(rows, journal=second_journal)
            creates_when_refused = emu.stats.by_route[POST_CTP]
            report = await first
            first_journal.close()
            second_journal.close()
        assert report.ok
        # The refused run sent nothing at all: every create is the first run's.
        assert emu.stats.by_route[POST_CTP] == distinct_groups(rows) >= creates_when_refused
        assert store_counts(emu.store.all("coworkertimepasses")) == expected_counts(rows)
    holder = caught.value.holder
    assert holder is not None
    assert (holder.pid, holder.host) == (os.getpid(), socket.gethostname())
    assert holder.journal == str(tmp_path / "a.sqlite")
    assert str(caught.value).startswith(f"job {report.job_id[:12]}")
    assert f"is already running: pid {os.getpid()} on {socket.gethostname()} since " in str(
        caught.value
    )


async def test_in_memory_journals_are_refused_too() -> None:
    """No journal file: the job's identity (account and content) is still locked."""
    rows = sample_rows(customers=8, passes=30, seed=4)
    async with run_emulator(_config(HOLD)) as emu:
        async with _client(emu) as client:
            first = asyncio.create_task(client.coworker_time_passes.bulk_create(rows))
            await _first_create(emu, first)
            with pytest.raises(JobLockedError):
                await client.coworker_time_passes.bulk_create(rows)
            assert (await first).ok
            # Other content is another job: not refused.
            other = await client.coworker_time_passes.bulk_create(rows[:3])
            assert other.ok
        want = expected_counts(rows) + expected_counts(rows[:3])
        assert store_counts(emu.store.all("coworkertimepasses")) == want


async def test_wait_for_lock_runs_after_the_holder_as_a_rerun_that_sends_nothing(
    tmp_path: Path,
) -> None:
    rows = sample_rows(customers=12, passes=60, seed=5)
    async with run_emulator(_config(HOLD)) as emu:
        async with _client(emu) as client:
            with Journal(tmp_path / "j.sqlite") as j1, Journal(tmp_path / "j.sqlite") as j2:
                bulk = client.coworker_time_passes.bulk_create
                first = asyncio.create_task(bulk(rows, journal=j1))
                await _first_create(emu, first)
                second = asyncio.create_task(bulk(rows, journal=j2, wait_for_lock=True))
                await asyncio.sleep(0.3)
                assert not second.done()  # waiting, not refused
                one, two = await first, await second
        assert one.ok and two.ok
        assert one.create_requests == distinct_groups(rows)
        assert two.create_requests == 0
        assert two.records_skipped == sum(expected_counts(rows).values())
        assert emu.stats.by_route[POST_CTP] == distinct_groups(rows)
        assert store_counts(emu.store.all("coworkertimepasses")) == expected_counts(rows)


async def test_the_lock_is_released_when_the_job_ends_or_fails(tmp_path: Path) -> None:
    rows = sample_rows(customers=4, passes=10, seed=6)
    lock_file = tmp_path / "j.sqlite.lock"
    async with run_emulator(_config()) as emu:
        async with _client(emu) as client:
            with Journal(tmp_path / "j.sqlite") as journal:
                assert (await client.coworker_time_passes.bulk_create(rows, journal=journal)).ok
                assert not lock_file.exists()  # released, and its file removed
                # A rerun takes it again: a no-op, the job is done.
                again = await client.coworker_time_passes.bulk_create(rows, journal=journal)
        assert again.create_requests == 0 and again.ok


def test_a_file_system_without_locks_is_bad_input_and_nothing_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error as such a file system gives it (ENOLCK), from the real code path."""
    real = fcntl.flock

    def no_locks(fd: int, op: int) -> None:
        if op & fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))
        real(fd, op)

    path = write_csv(tmp_path / "p.csv", sample_rows(customers=3, passes=6, seed=1))
    monkeypatch.setattr(fcntl, "flock", no_locks)

    async def go() -> tuple[int, int]:
        async with run_emulator(_config()) as emu:
            conn = Connection(
                emu.base_url, BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD), "x"
            )
            out, err = io.StringIO(), io.StringIO()
            outcome = await run_import(
                ImportOptions(path, time_scale=SCALE), conn, out=out, err=err
            )
            lines.extend(err.getvalue().splitlines())
            return outcome.exit_code, sum(emu.stats.by_route.values())

    lines: list[str] = []
    code, requests = asyncio.run(go())
    assert code == 2
    assert requests == 0
    assert lines == [
        f"error: {tmp_path}/p.csv.journal.sqlite.lock: cannot lock the job (the file system "
        "does not support locks: use a local disk); nothing was sent"
    ]


def test_a_lock_taken_twice_in_one_process_is_refused_and_free_after_release(
    tmp_path: Path,
) -> None:
    a = JobLock("id-1", journal=tmp_path / "j.sqlite", job="a")
    b = JobLock("id-1", journal=tmp_path / "other.sqlite", job="b")
    a.try_acquire()
    with pytest.raises(JobLockedError) as caught:
        b.try_acquire()
    assert caught.value.holder is not None and caught.value.holder.job == "a"
    # b let go of what it took (its own journal's lock): a third run of b's journal gets it.
    c = JobLock("id-2", journal=tmp_path / "other.sqlite", job="c")
    c.try_acquire()
    c.release()
    a.release()
    b.try_acquire()
    b.release()
