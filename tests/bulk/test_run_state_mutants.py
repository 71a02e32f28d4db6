"""What a run shares, seen from outside: the progress counters, the stop's reason, the pauses.

In-process through ``run_job`` and ``bulk_create`` against the emulator: the
final progress report's counters, the reason the journal keeps for a stop,
the reason each op not sent carries.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import attrs
import pytest

from nexudus_async._core.errors import (
    AuthenticationError,
    OutcomeUnknownError,
    ThrottledError,
    TransportError,
    ValidationError,
)
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk import BulkProgress, JobPlan, ResourceGateway, run_job
from nexudus_async.bulk.executor import rows_from_mappings
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.bulk.stopping import SendingStopped
from nexudus_async.testing import EmulatorConfig, ThrottleLimits, run_emulator

from .helpers import CTP, stop_after
from .test_bulk_api_in_process import client_for, rows_for
from .test_record_ops import _creates, plan_of, seed, update


def stop_reasons(path: Path) -> list[tuple[int, int, str]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT groups_left, records_left, reason FROM stops ORDER BY rowid")
        return [tuple(r) for r in rows.fetchall()]


class Last:
    """The progress callback that keeps the last report."""

    def __init__(self) -> None:
        self.seen: BulkProgress | None = None

    async def __call__(self, p: BulkProgress) -> None:
        self.seen = p

    def counts(self) -> tuple[int, int, int, int, int]:
        p = self.seen
        assert p is not None
        return (p.records_total, p.records_done, p.records_skipped, p.records_failed,
                p.records_not_sent)  # fmt: skip


async def test_a_rerun_of_a_finished_import_counts_every_record_done_and_skipped(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(limits=ThrottleLimits.off())
    async with run_emulator(config) as emu, client_for(emu) as client:
        with Journal(tmp_path / "j.sqlite") as journal:
            first, again = Last(), Last()
            rows = rows_for([101, 102], count=2)
            await client.coworker_time_passes.bulk_create(rows, journal=journal, progress=first)
            await client.coworker_time_passes.bulk_create(rows, journal=journal, progress=again)
    assert first.counts() == (4, 4, 0, 0, 0)
    assert again.counts() == (4, 4, 4, 0, 0)


async def test_a_rerun_of_finished_ops_counts_them_done_and_skipped(tmp_path: Path) -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        a, b = seed(emu, 2)
        plan = plan_of(update(a, Notes="n"), update(b, Notes="n"))
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            with Journal(tmp_path / "j.sqlite") as journal:
                first, again = Last(), Last()
                await run_job(plan, gateway, journal=journal, progress=first)
                await run_job(plan, gateway, journal=journal, progress=again)
    assert first.counts() == (2, 2, 0, 0, 0)
    assert again.counts() == (2, 2, 2, 0, 0)


class _Refused(ResourceGateway):
    """Every PUT refused for the credentials: a refusal every other op would meet too."""

    async def replace(self, record_id: int, record: Any) -> Any:
        raise AuthenticationError("bad credentials", status=401)


async def test_a_job_stopped_by_a_fatal_refusal_says_so_for_every_op_left(
    tmp_path: Path,
) -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        ids = seed(emu, 3)
        plan = plan_of(*(update(i, Notes="n") for i in ids))
        async with client_for(emu) as client:
            gateway = _Refused(client.coworker_time_passes)
            with Journal(tmp_path / "j.sqlite") as journal:
                last = Last()
                with pytest.raises(AuthenticationError):
                    await run_job(plan, gateway, journal=journal, concurrency=1, progress=last)
    reason = "not sent: the job stopped (bad credentials); re-run to resume"
    assert stop_reasons(tmp_path / "j.sqlite") == [(2, 2, reason)]
    assert last.counts() == (3, 0, 0, 1, 2)


async def test_a_job_told_to_stop_says_it_was_interrupted(tmp_path: Path) -> None:
    stop, progress = stop_after(1)

    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        ids = seed(emu, 3)
        plan = plan_of(*(update(i, Notes="n") for i in ids))
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            with Journal(tmp_path / "j.sqlite") as journal:
                report = await run_job(
                    plan, gateway, journal=journal, concurrency=1, progress=progress, stop=stop
                )
    reason = "interrupted before it was sent; re-run to resume"
    assert [(o.status, o.reason) for o in report.ops] == [
        ("updated", None), ("not_sent", reason), ("not_sent", reason),
    ]  # fmt: skip
    assert stop_reasons(tmp_path / "j.sqlite") == [(2, 2, reason)]


class _ThrottledTwice(ResourceGateway):
    def __init__(self, resource: Any) -> None:
        super().__init__(resource)
        self.refused = 0

    async def replace(self, record_id: int, record: Any) -> Any:
        if self.refused < 2:
            self.refused += 1
            raise ThrottledError("You must wait", status=409)
        return await super().replace(record_id, record)


async def test_the_pause_after_a_throttled_write_grows_with_the_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    step = 0.00123
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, result: Any = None) -> Any:
        if delay in (step, 2 * step, step / 2):
            pauses.append(delay)
        return await real_sleep(0, result)

    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        [a] = seed(emu, 1)
        async with client_for(emu) as client:
            gateway = _ThrottledTwice(client.coworker_time_passes)
            monkeypatch.setattr(asyncio, "sleep", sleep)
            report = await run_job(plan_of(update(a, Notes="n")), gateway, throttle_backoff=step)
            monkeypatch.undo()
    assert [o.status for o in report.ops] == ["updated"]
    assert pauses == [step, 2 * step]


async def test_a_group_resumed_after_a_stop_counts_what_it_had_created_as_skipped(
    tmp_path: Path,
) -> None:
    stop = asyncio.Event()
    first, again = Last(), Last()

    async def progress(p: BulkProgress) -> None:
        await first(p)
        if p.requests_sent == 1:
            stop.set()

    rows = rows_for([201], count=3)
    config = EmulatorConfig(limits=ThrottleLimits.off())
    async with run_emulator(config) as emu, client_for(emu) as client:
        with Journal(tmp_path / "j.sqlite") as journal:
            await client.coworker_time_passes.bulk_create(
                rows, max_per_request=1, journal=journal, stop=stop, progress=progress
            )
            await client.coworker_time_passes.bulk_create(
                rows, max_per_request=1, journal=journal, progress=again
            )
    assert first.counts() == (3, 1, 0, 0, 2)
    assert again.counts() == (3, 3, 1, 0, 0)
    reason = "interrupted before it was sent; re-run to resume"
    assert stop_reasons(tmp_path / "j.sqlite") == [(1, 2, reason)]


class _AnotherWriter(ResourceGateway):
    """Another writer adds a pass for the same customer while the create's answer is lost."""

    def __init__(self, resource: Any, emu: Any) -> None:
        super().__init__(resource)
        self.emu = emu

    async def create(self, fields: Any, count: int) -> Any:
        await super().create(fields, count)
        self.emu.store.insert(CTP, {**fields, "Notes": "someone else's"})
        raise OutcomeUnknownError("the answer was lost")


async def test_a_group_counted_over_its_size_counts_only_its_own_records_done(
    tmp_path: Path,
) -> None:
    last = Last()
    plan = _creates(301)
    config = EmulatorConfig(limits=ThrottleLimits.off())
    async with run_emulator(config) as emu, client_for(emu) as client:
        gateway = _AnotherWriter(client.coworker_time_passes, emu)
        report = await run_job(plan, gateway, progress=last)
    [group] = report.groups
    assert (group.status, group.created) == ("created", 3)
    assert last.counts() == (2, 2, 0, 0, 0)


def _rows(*customers: int, count: int = 2) -> JobPlan:
    rows = [
        {"CoworkerId": c, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": count}
        for c in customers
    ]
    valid, errors = validate_rows(COWORKER_TIME_PASS, rows_from_mappings(rows))
    assert not errors
    return JobPlan.from_plan(make_plan(COWORKER_TIME_PASS, valid, cap=1))


class _SecondRefused(ResourceGateway):
    """Each group's second create (one pass per request) is refused: one of two created."""

    def __init__(self, resource: Any) -> None:
        super().__init__(resource)
        self.sent = 0

    async def create(self, fields: Any, count: int) -> Any:
        self.sent += 1
        if self.sent % 2 == 0:
            raise ValidationError("refused", status=400)
        return await super().create(fields, count)


async def test_groups_failed_midway_add_up_what_each_created_and_did_not() -> None:
    last = Last()
    config = EmulatorConfig(limits=ThrottleLimits.off())
    async with run_emulator(config) as emu, client_for(emu) as client:
        gateway = _SecondRefused(client.coworker_time_passes)
        report = await run_job(_rows(401, 402, 403), gateway, concurrency=1, progress=last)
    assert [(g.status, g.created) for g in report.groups] == [("failed", 1)] * 3
    assert last.counts() == (6, 3, 0, 3, 0)


async def test_a_stop_after_a_finished_group_adds_the_stopped_groups_records(
    tmp_path: Path,
) -> None:
    stop = asyncio.Event()
    last = Last()

    async def progress(p: BulkProgress) -> None:
        await last(p)
        if p.requests_sent == 3:  # the first group's two, then one of the second's
            stop.set()

    config = EmulatorConfig(limits=ThrottleLimits.off())
    async with run_emulator(config) as emu, client_for(emu) as client:
        gateway = ResourceGateway(client.coworker_time_passes)
        report = await run_job(
            _rows(501, 502, count=2), gateway, concurrency=1, progress=progress, stop=stop
        )
    assert [(g.status, g.created) for g in report.groups] == [("created", 2), ("not_sent", 1)]
    assert last.counts() == (4, 3, 0, 0, 1)


async def test_every_op_a_stop_left_is_in_the_stops_row_those_workers_held_too(
    tmp_path: Path,
) -> None:
    stop, progress = stop_after(1)

    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        ids = seed(emu, 8)
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            with Journal(tmp_path / "j.sqlite") as journal:
                last = Last()

                async def both(p: BulkProgress) -> None:
                    await progress(p)
                    await last(p)

                report = await run_job(
                    plan_of(*(update(i, Notes="n") for i in ids)), gateway, journal=journal,
                    concurrency=3, progress=both, stop=stop,
                )  # fmt: skip
    left = sum(o.status == "not_sent" for o in report.ops)
    assert left >= 5
    reason = "interrupted before it was sent; re-run to resume"
    assert stop_reasons(tmp_path / "j.sqlite") == [(left, left, reason)]
    assert last.counts() == (8, 8 - left, 0, 0, left)


class _HeldElsewhere(ResourceGateway):
    """A PUT refused by a stop the job was not given (the client's own limiter's)."""

    async def replace(self, record_id: int, record: Any) -> Any:
        raise SendingStopped("stopping: held by the rate limiter, not sent")


async def test_a_send_refused_by_a_stop_the_job_was_not_given_is_interrupted_not_fatal() -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        [a] = seed(emu, 1)
        async with client_for(emu) as client:
            gateway = _HeldElsewhere(client.coworker_time_passes)
            report = await run_job(plan_of(update(a, Notes="n")), gateway)
    [op] = report.ops
    assert op.status == "not_sent"
    assert op.reason == (
        "interrupted before it was sent; re-run to resume; "
        "the journal keeps the op as 'sending', re-run to settle it"
    )


def _cannot_connect() -> TransportError:
    return TransportError("cannot connect", connected=False, may_have_reached_server=False)


class _FlakyConnect(ResourceGateway):
    """The first PUT and the second read cannot connect (nothing sent); then all is well."""

    def __init__(self, resource: Any) -> None:
        super().__init__(resource)
        self.reads = self.puts = 0

    async def read(self, record_id: int) -> Any:
        self.reads += 1
        if self.reads == 2:
            raise _cannot_connect()
        return await super().read(record_id)

    async def replace(self, record_id: int, record: Any) -> Any:
        self.puts += 1
        if self.puts == 1:
            raise _cannot_connect()
        return await super().replace(record_id, record)


async def test_a_host_that_answered_a_read_is_not_given_up_when_a_connect_fails() -> None:
    """A read answered proves the host reachable: a later failed connect is retried, the
    job goes on (before any answer, the same failure would stop it: a host never reached)."""
    last = Last()
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        a, b = seed(emu, 2)
        async with client_for(emu) as client:
            gateway = _FlakyConnect(client.coworker_time_passes)
            report = await run_job(
                plan_of(update(a, Notes="n"), update(b, Notes="n")), gateway,
                concurrency=1, throttle_backoff=0.001, progress=last,
            )  # fmt: skip
    assert [(o.status, o.writes, o.reads) for o in report.ops] == [
        ("updated", 1, 1), ("updated", 1, 1),
    ]  # fmt: skip
    assert (gateway.reads, gateway.puts) == (3, 3)
    assert last.seen is not None and last.seen.groups_total == 2


class _SnapshotStopped(ResourceGateway):
    """The snapshot's list pages: the first throttled as the stop is set, or refused by it."""

    def __init__(self, resource: Any, stop: asyncio.Event, *, refuse: bool) -> None:
        super().__init__(resource)
        self.stop, self.refuse = stop, refuse

    async def snapshot_page(self, match: Any, since: str, page: int, size: int) -> Any:
        self.stop.set()
        if self.refuse:
            raise SendingStopped("stopping: held by the rate limiter, not sent")
        raise ThrottledError("You must wait", status=409)


async def test_a_stop_during_the_snapshot_is_the_baselines_note() -> None:
    for refuse in (False, True):
        stop = asyncio.Event()
        config = EmulatorConfig(limits=ThrottleLimits.off())
        async with run_emulator(config) as emu, client_for(emu) as client:
            gateway = _SnapshotStopped(client.coworker_time_passes, stop, refuse=refuse)
            report = await run_job(_rows(601, 602), gateway, stop=stop, throttle_backoff=0.001)
        assert report.baseline_note == (
            "no snapshot (stopping: did not read the existing records): one count before each group"
        )
        assert [g.status for g in report.groups] == ["not_sent", "not_sent"]
        assert emu.store.all(CTP) == []


async def test_a_host_never_reached_stops_the_job_at_its_first_read() -> None:
    class Unreachable(ResourceGateway):
        async def read(self, record_id: int) -> Any:
            raise _cannot_connect()

    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        a, b = seed(emu, 2)
        async with client_for(emu) as client:
            gateway = Unreachable(client.coworker_time_passes)
            plan = plan_of(update(a, Notes="n"), update(b, Notes="n"))
            with pytest.raises(TransportError, match=r"^cannot connect$"):
                await run_job(plan, gateway, concurrency=1, throttle_backoff=0.001)


async def test_the_last_progress_report_adds_up_every_kind_of_read_and_request() -> None:
    """A snapshot count, a reconciling count and an op's read: three reads, two requests."""
    last = Last()
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        [a] = seed(emu, 1)
        async with client_for(emu) as client:
            gateway = _AnotherWriter(client.coworker_time_passes, emu)
            plan = attrs.evolve(_creates(301), kind="apply", ops=(update(a, Notes="n"),))
            report = await run_job(plan, gateway, progress=last, concurrency=1)
    p = last.seen
    assert p is not None and report.ok
    assert (p.requests_total, p.requests_sent, p.reads_sent) == (2, 2, 3)
    assert (report.snapshot_requests, report.count_requests, report.op_reads) == (1, 1, 1)
    assert 0 <= p.elapsed <= time.monotonic()  # a duration, not a clock reading
