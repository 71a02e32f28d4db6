"""A create group's ends the other tests leave one line short of: each reason word for word,
what the journal keeps, the ids and counts a report gives.

In-process through ``run_job`` against the emulator, with gateways that answer
a create or a count the way the API would.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nexudus_async._core.errors import (
    OutcomeUnknownError,
    ThrottledError,
    TransportError,
    ValidationError,
)
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk import JobPlan, ResourceGateway, run_job
from nexudus_async.bulk.executor import rows_from_mappings
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.bulk.stopping import SendingStopped
from nexudus_async.testing import EmulatorConfig, ThrottleLimits, run_emulator

from .helpers import CTP
from .test_bulk_api_in_process import client_for

OFF = EmulatorConfig(limits=ThrottleLimits.off())


def creates(*rows: dict[str, Any]) -> JobPlan:
    base = {"BusinessId": 1, "TimePassId": 1, "CreateMultiple": 2}
    valid, errors = validate_rows(COWORKER_TIME_PASS, rows_from_mappings([base | r for r in rows]))
    assert not errors
    return JobPlan.from_plan(make_plan(COWORKER_TIME_PASS, valid))


class _Scripted(ResourceGateway):
    """Creates and counts answered from a script first (an exception to raise, or None: the
    real call), then for real."""

    def __init__(self, resource: Any, **script: list[BaseException | None]) -> None:
        super().__init__(resource)
        self.script = script
        self.calls: list[str] = []

    def _next(self, name: str) -> None:
        self.calls.append(name)
        queue = self.script.get(name, [])
        error = queue.pop(0) if queue else None
        if error is not None:
            raise error

    async def create(self, fields: Any, count: int) -> Any:
        self._next("create")
        return await super().create(fields, count)

    async def count(self, match: Any, since: str) -> int:
        self._next("count")
        return await super().count(match, since)


def refused(text: str) -> ValidationError:
    return ValidationError(text, status=400)


async def test_a_count_refused_before_the_first_send_says_nothing_was_sent(
    tmp_path: Path,
) -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        # the snapshot's count refused (counts per group then), the group's too
        gateway = _Scripted(client.coworker_time_passes, count=[refused("no"), refused("no")])
        with Journal(tmp_path / "j.sqlite") as journal:
            report = await run_job(creates({"CoworkerId": 7}), gateway, journal=journal)
            assert report.job_id is not None
            assert journal.groups(report.job_id) == {}
    [group] = report.groups
    assert (group.status, group.created, group.requests) == ("failed", 0, 0)
    assert group.reason == (
        "could not count the existing records: no; "
        "nothing was sent for the group, re-run to send it"
    )
    assert report.baseline == "per_group"
    assert emu.store.all(CTP) == []


async def test_a_create_left_unknown_and_not_counted_is_kept_sending(tmp_path: Path) -> None:
    lost = OutcomeUnknownError("the answer was lost")
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        # the snapshot's count, then the reconciling one refused
        gateway = _Scripted(client.coworker_time_passes, create=[lost], count=[None, refused("no")])
        plan = creates({"CoworkerId": 7})
        with Journal(tmp_path / "j.sqlite") as journal:
            report = await run_job(plan, gateway, journal=journal)
            assert report.job_id is not None
            states = {k: g.state for k, g in journal.groups(report.job_id).items()}
            again = await run_job(
                plan, ResourceGateway(client.coworker_time_passes), journal=journal
            )
    [group] = report.groups
    assert (group.status, group.requests) == ("failed", 1)
    assert group.reason == (
        "could not count the existing records: no; "
        "the journal keeps the group as 'sending', re-run to reconcile"
    )
    assert list(states.values()) == ["sending"]
    [group] = again.groups
    # the lost create never reached the store: the rerun counts 0 and sends it
    assert (group.status, group.created, group.resumed, group.created_before) == (
        "created", 2, True, 0,
    )  # fmt: skip
    assert len(emu.store.all(CTP)) == 2


async def test_a_create_throttled_on_every_attempt_gives_up_saying_why() -> None:
    throttled = [ThrottledError("You must wait", status=409) for _ in range(3)]
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = _Scripted(client.coworker_time_passes, create=throttled)
        report = await run_job(
            creates({"CoworkerId": 7}), gateway, max_attempts=3, throttle_backoff=0.001
        )
    [group] = report.groups
    assert (group.status, group.created, group.requests) == ("failed", 0, 3)
    assert group.reason == "gave up after 3 attempts: throttled (You must wait)"
    assert emu.store.all(CTP) == []


async def test_a_group_counted_over_its_size_says_another_writer_may_have_created() -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:

        class Other(_Scripted):
            async def create(self, fields: Any, count: int) -> Any:
                await ResourceGateway.create(self, fields, count)
                emu.store.insert(CTP, {**fields, "Notes": "someone else's"})
                raise OutcomeUnknownError("the answer was lost")

        report = await run_job(creates({"CoworkerId": 7}), Other(client.coworker_time_passes))
    [group] = report.groups
    assert (group.status, group.created) == ("created", 3)
    assert group.reason == (
        "counted 1 more record(s) than requested: another writer created passes "
        "for the same customer and time pass?"
    )


async def test_a_failed_group_left_unresolved_blocks_the_other_groups_of_its_key(
    tmp_path: Path,
) -> None:
    lost = OutcomeUnknownError("the answer was lost")
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = _Scripted(client.coworker_time_passes, create=[lost], count=[None, refused("no")])
        # two groups of one customer and time pass (different prices)
        plan = creates({"CoworkerId": 7, "Price": 1}, {"CoworkerId": 7, "Price": 2})
        with Journal(tmp_path / "j.sqlite") as journal:
            report = await run_job(plan, gateway, journal=journal, concurrency=1)
    statuses = [(g.status, g.requests) for g in report.groups]
    assert statuses == [("failed", 1), ("not_sent", 0)]
    assert report.groups[1].reason == (
        "not sent: an earlier group for the same CoworkerId and TimePassId "
        "has an unresolved outcome; re-run to resume"
    )


async def test_each_created_id_is_reported() -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        plan = creates(
            {"CoworkerId": 7, "CreateMultiple": 1}, {"CoworkerId": 8, "CreateMultiple": 1}
        )
        report = await run_job(plan, ResourceGateway(client.coworker_time_passes))
    ids = sorted(i for g in report.groups for i in g.ids)
    assert ids == sorted(r["Id"] for r in emu.store.all(CTP)) and len(ids) == 2


async def test_a_rerun_of_a_finished_import_skips_each_group_saying_why(tmp_path: Path) -> None:
    plan = creates({"CoworkerId": 7}, {"CoworkerId": 8})
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = ResourceGateway(client.coworker_time_passes)
        with Journal(tmp_path / "j.sqlite") as journal:
            first = await run_job(plan, gateway, journal=journal)
            again = await run_job(plan, gateway, journal=journal)
    assert [(g.key, g.fields, g.status) for g in first.groups] == [
        (g.key, g.fields, "created") for g in plan.groups
    ]
    assert [(g.key, g.fields, g.created, g.status, g.requests, g.reason) for g in again.groups] == [
        (g.key, g.fields, 2, "skipped", 0, "already created by an earlier run") for g in plan.groups
    ]


async def test_a_create_the_stop_held_back_leaves_the_group_failed_in_the_journal(
    tmp_path: Path,
) -> None:
    stop = asyncio.Event()

    class Held(_Scripted):
        async def create(self, fields: Any, count: int) -> Any:
            stop.set()
            raise SendingStopped("stopping: held by the rate limiter, not sent")

    plan = creates({"CoworkerId": 7})
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        with Journal(tmp_path / "j.sqlite") as journal:
            report = await run_job(
                plan, Held(client.coworker_time_passes), journal=journal, stop=stop
            )
            assert report.job_id is not None
            [record] = journal.groups(report.job_id).values()
    [group] = report.groups
    reason = "interrupted before it was sent; re-run to resume"
    assert (group.key, group.fields, group.status, group.created, group.requests, group.reason) == (
        plan.groups[0].key, plan.groups[0].fields, "not_sent", 0, 0, reason,
    )  # fmt: skip
    assert (record.state, record.created, record.requests, record.last_error) == (
        "failed", 0, 0, "interrupted before the next create was sent",
    )  # fmt: skip
    assert report.create_requests == 0


class _NoPages(ResourceGateway):
    """A gateway without list pages (counts only): each group counts its own baseline."""

    snapshot_page = None  # type: ignore[assignment]


async def test_a_stop_during_a_groups_baseline_count_sends_nothing_for_it() -> None:
    stop = asyncio.Event()

    class Counting(_NoPages):
        async def count(self, match: Any, since: str) -> int:
            stop.set()
            return await ResourceGateway.count(self, match, since)

    plan = creates({"CoworkerId": 7}, {"CoworkerId": 8})
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = Counting(client.coworker_time_passes)
        report = await run_job(plan, gateway, stop=stop, concurrency=1)
    reason = "interrupted before it was sent; re-run to resume"
    assert [(g.key, g.fields, g.created, g.status, g.reason) for g in report.groups] == [
        (g.key, g.fields, 0, "not_sent", reason) for g in plan.groups
    ]
    assert report.baseline == "per_group" and emu.store.all(CTP) == []


async def test_a_create_that_cannot_connect_after_an_answer_is_sent_again() -> None:
    refused_connect = TransportError(
        "cannot connect", connected=False, may_have_reached_server=False
    )
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = _Scripted(client.coworker_time_passes, create=[None, refused_connect])
        plan = creates({"CoworkerId": 7}, {"CoworkerId": 8})
        report = await run_job(plan, gateway, concurrency=1, throttle_backoff=0.001)
    assert [(g.status, g.created, g.requests) for g in report.groups] == [
        ("created", 2, 1), ("created", 2, 2),
    ]  # fmt: skip
    assert report.groups[1].reason == "cannot connect (cannot connect)"


async def test_a_create_whose_answer_was_lost_says_it_was_reconciled_by_counting() -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:

        class Lost(_Scripted):
            async def create(self, fields: Any, count: int) -> Any:
                await ResourceGateway.create(self, fields, count)
                raise OutcomeUnknownError("the answer was lost")

        report = await run_job(creates({"CoworkerId": 7}), Lost(client.coworker_time_passes))
    [group] = report.groups
    assert (group.status, group.created, group.requests) == ("created", 2, 1)
    assert group.reason == "outcome unknown (the answer was lost); reconciled by counting"
