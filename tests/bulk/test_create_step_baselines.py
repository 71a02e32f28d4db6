"""Where a create group's baseline comes from, and what a stop or an error leaves behind.

Each test runs jobs in-process through ``run_job`` against the emulator and
asserts what it can see: the report (baseline source and note, counts, each
group's status, counts and reason), the journal's records, the log lines,
and what the emulator's store holds.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.errors import OutcomeUnknownError, ThrottledError
from nexudus_async._core.throttle import RateLimits, Window
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk import BulkProgress, JobPlan, ResourceGateway, run_job
from nexudus_async.bulk.executor import rows_from_mappings
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.bulk.snapshot import KeyedPage
from nexudus_async.bulk.stopping import stop_trace_config
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorServer,
    run_emulator,
)

from .helpers import CTP
from .test_bulk_api_in_process import CREATE, client_for
from .test_create_step_mutants import OFF, refused

LOST = "lost"
"""A create script step: the create reaches the store, then its answer is lost."""

UNSENT = "unsent"
"""A create script step: the answer is lost and the create never reached the store."""


def plan_of(*rows: dict[str, Any], cap: int | None = None) -> JobPlan:
    base = {"BusinessId": 1, "TimePassId": 1, "CreateMultiple": 2}
    valid, errors = validate_rows(COWORKER_TIME_PASS, rows_from_mappings([base | r for r in rows]))
    assert not errors
    return JobPlan.from_plan(make_plan(COWORKER_TIME_PASS, valid, cap=cap))


class Script(ResourceGateway):
    """Creates, counts and list pages answered from a script first, then for real.

    A script step is None (the real call), an exception (raised, nothing sent),
    or for a create :data:`LOST` / :data:`UNSENT`. ``on_create`` runs before each
    create (with the group's fields).
    """

    def __init__(self, resource: Any, **script: list[Any]) -> None:
        super().__init__(resource)
        self.script = script
        self.on_create: Any = None
        self.created_fields: list[dict[str, Any]] = []

    def _step(self, name: str) -> Any:
        queue = self.script.get(name, [])
        step = queue.pop(0) if queue else None
        if isinstance(step, BaseException):
            raise step
        return step

    async def create(self, fields: Any, count: int) -> Any:
        if self.on_create is not None:
            self.on_create(fields)
        step = self._step("create")
        if step == UNSENT:
            raise OutcomeUnknownError("the answer was lost")
        answer = await super().create(fields, count)
        self.created_fields.append(dict(fields))
        if step == LOST:
            raise OutcomeUnknownError("the answer was lost")
        return answer

    async def count(self, match: Any, since: str) -> int:
        self._step("count")
        return await super().count(match, since)

    async def snapshot_page(self, match: Any, since: str, page: int, size: int) -> KeyedPage:
        self._step("page")
        return await super().snapshot_page(match, since, page, size)


class NoPages(Script):
    """A gateway without list pages: the job counts each group's key instead."""

    snapshot_page = None  # type: ignore[assignment]


def existing(emu: EmulatorServer, customer: int, n: int = 1) -> None:
    """``n`` passes of ``customer`` and time pass 1 that some earlier import created."""
    for _ in range(n):
        emu.store.insert(CTP, {"CoworkerId": customer, "BusinessId": 1, "TimePassId": 1})


def passes_of(emu: EmulatorServer, customer: int) -> int:
    return sum(r["CoworkerId"] == customer for r in emu.store.all(CTP))


def table(report: Any) -> list[tuple[Any, ...]]:
    return [(g.status, g.created, g.requests, g.reason) for g in report.groups]


# ---------------------------------------------------------------- the snapshot


async def test_a_fresh_job_of_one_key_counts_it_once_as_its_snapshot(tmp_path: Path) -> None:
    seen: list[tuple[int, int, int]] = []

    async def progress(p: BulkProgress) -> None:
        seen.append((p.requests_sent, p.groups_done, p.reads_sent))

    plan = plan_of({"CoworkerId": 7})
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        existing(emu, 7, 3)
        with Journal(tmp_path / "j.sqlite") as journal:
            report = await run_job(
                plan, ResourceGateway(client.coworker_time_passes), journal=journal,
                progress=progress,
            )  # fmt: skip
            assert report.job_id is not None
            snap = journal.snapshot(report.job_id)
            fields = journal.group_fields(report.job_id)
    assert (report.baseline, report.baseline_note) == ("snapshot", None)
    assert (report.snapshot_requests, report.count_requests, report.op_reads) == (1, 0, 0)
    assert snap is not None and (snap.reads, snap.records) == (1, 3)
    assert list(snap.counts.values()) == [3]
    # the journal keeps the group's body, for an undo from the journal alone
    assert fields == {plan.groups[0].key: dict(plan.groups[0].fields)}
    # start, after the snapshot, after the group (one create, no progress mid-group), end
    assert seen == [(0, 0, 0), (0, 0, 1), (1, 1, 1), (1, 1, 1)]
    assert passes_of(emu, 7) == 5


async def test_a_refused_snapshot_count_says_why_in_the_report_and_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nexudus_async.bulk")
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = Script(client.coworker_time_passes, count=[refused("no")])
        report = await run_job(plan_of({"CoworkerId": 7}), gateway)
    note = "no snapshot (could not read the existing records: no): one count before each group"
    assert (report.baseline, report.baseline_note) == ("per_group", note)
    assert report.job_id is not None
    assert f"bulk job {report.job_id[:12]}: {note}" in caplog.messages
    # the group then counts its own key, and is sent
    assert (report.snapshot_requests, report.count_requests) == (1, 1)
    assert table(report) == [("created", 2, 1, None)]
    assert passes_of(emu, 7) == 2


async def test_a_refused_snapshot_page_says_why_in_the_report() -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = Script(client.coworker_time_passes, page=[refused("no")])
        report = await run_job(plan_of({"CoworkerId": 7}, {"CoworkerId": 8}), gateway)
    assert (report.baseline, report.baseline_note) == (
        "per_group",
        "no snapshot (could not read the existing records: no): one count before each group",
    )
    assert (report.snapshot_requests, report.count_requests) == (1, 2)
    assert [g.status for g in report.groups] == ["created", "created"]
    assert (passes_of(emu, 7), passes_of(emu, 8)) == (2, 2)


async def test_a_snapshot_of_two_pages_reads_the_second_page() -> None:
    plan = plan_of({"CoworkerId": 7}, {"CoworkerId": 8})
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        existing(emu, 9, 1001)  # another customer's passes of the job's time pass
        existing(emu, 8, 2)
        gateway = Script(client.coworker_time_passes, create=[None, LOST])
        report = await run_job(plan, gateway, concurrency=1)
    assert (report.baseline, report.snapshot_requests, report.count_requests) == ("snapshot", 2, 1)
    # the snapshot's count of customer 8 (read on the second page) reconciles exactly
    assert table(report) == [
        ("created", 2, 1, None),
        ("created", 2, 1, "outcome unknown (the answer was lost); reconciled by counting"),
    ]
    assert (passes_of(emu, 7), passes_of(emu, 8)) == (2, 4)


async def test_without_list_pages_each_group_counts_its_key_and_a_stop_there_sends_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="nexudus_async.bulk")
    stop = asyncio.Event()

    class StopOnCount(NoPages):
        async def count(self, match: Any, since: str) -> int:
            stop.set()  # while the throttled count waits for its next attempt
            raise ThrottledError("You must wait", status=409)

    plan = plan_of({"CoworkerId": 7}, {"CoworkerId": 8})
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = StopOnCount(client.coworker_time_passes)
        report = await run_job(plan, gateway, stop=stop, concurrency=1, throttle_backoff=0.001)
    note = "no snapshot (the gateway cannot read list pages): one count before each group"
    assert (report.baseline, report.baseline_note) == ("per_group", note)
    assert f"bulk job {plan.job_hash()[:12]}: {note}" in caplog.messages
    why = "interrupted before it was sent; re-run to resume"
    assert table(report) == [("not_sent", 0, 0, why), ("not_sent", 0, 0, why)]
    assert (report.snapshot_requests, report.count_requests, report.create_requests) == (0, 1, 0)
    assert emu.store.all(CTP) == []


async def test_a_rerun_after_groups_were_sent_without_a_snapshot_counts_per_group(
    tmp_path: Path,
) -> None:
    plan = plan_of({"CoworkerId": 7}, {"CoworkerId": 8})
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        resource = client.coworker_time_passes
        with Journal(tmp_path / "j.sqlite") as journal:
            first = await run_job(
                plan, NoPages(resource, create=[refused("bad")]), journal=journal, concurrency=1
            )
            again = await run_job(plan, ResourceGateway(resource), journal=journal)
    assert [g.status for g in first.groups] == ["failed", "created"]
    assert (again.baseline, again.baseline_note) == (
        "per_group",
        "an earlier run sent groups without a snapshot: one count before each group",
    )
    assert (again.snapshot_requests, again.count_requests) == (0, 1)
    assert [g.status for g in again.groups] == ["created", "skipped"]
    assert (passes_of(emu, 7), passes_of(emu, 8)) == (2, 2)


async def test_a_rerun_with_nothing_left_to_send_takes_no_baseline(tmp_path: Path) -> None:
    plan = plan_of({"CoworkerId": 7})
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = ResourceGateway(client.coworker_time_passes)
        with Journal(tmp_path / "j.sqlite") as journal:
            await run_job(plan, gateway, journal=journal)
            again = await run_job(plan, gateway, journal=journal)
    assert (again.baseline, again.baseline_note) == ("none", None)
    assert (again.snapshot_requests, again.count_requests, again.create_requests) == (0, 0, 0)
    assert passes_of(emu, 7) == 2


# ---------------------------------------------------------------- baselines of a key's groups


async def test_a_key_s_other_groups_count_in_the_baseline_whatever_their_order(
    tmp_path: Path,
) -> None:
    """The later group of a key is done by an earlier run of the job; the earlier one's
    lost create is reconciled against the snapshot plus what that group created."""
    plan = plan_of({"CoworkerId": 7, "Price": 1}, {"CoworkerId": 7, "Price": 2})
    later = plan_of({"CoworkerId": 7, "Price": plan.groups[1].fields["Price"]})
    assert later.groups[0].key == plan.groups[1].key
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        existing(emu, 7)
        resource = client.coworker_time_passes
        with Journal(tmp_path / "j.sqlite") as journal:
            first = await run_job(later, ResourceGateway(resource), journal=journal, job_id="J")
            again = await run_job(
                plan, Script(resource, create=[LOST]), journal=journal, job_id="J"
            )
            states = {k: (g.state, g.created) for k, g in journal.groups("J").items()}
    assert table(first) == [("created", 2, 1, None)]
    assert again.baseline == "journal"
    assert table(again) == [
        ("created", 2, 1, "outcome unknown (the answer was lost); reconciled by counting"),
        ("skipped", 2, 0, "already created by an earlier run"),
    ]
    assert states == {g.key: ("done", 2) for g in plan.groups}
    assert passes_of(emu, 7) == 5


async def test_groups_given_as_a_tuple_share_their_key_s_baseline() -> None:
    made = plan_of({"CoworkerId": 7, "Price": 1}, {"CoworkerId": 7, "Price": 2})
    plan = JobPlan("import", made.entity, tuple(made.groups), rows=made.rows)
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        existing(emu, 7)
        gateway = Script(client.coworker_time_passes, create=[None, LOST])
        report = await run_job(plan, gateway, concurrency=1)
    assert table(report) == [
        ("created", 2, 1, None),
        ("created", 2, 1, "outcome unknown (the answer was lost); reconciled by counting"),
    ]
    assert passes_of(emu, 7) == 5


async def test_a_group_that_failed_takes_a_fresh_baseline_and_is_marked_sending_again(
    tmp_path: Path,
) -> None:
    """The key's other group created passes after the failed one's first baseline."""
    plan = plan_of({"CoworkerId": 7, "Price": 1}, {"CoworkerId": 7, "Price": 2})
    first_key = plan.groups[0].key
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        existing(emu, 7)
        resource = client.coworker_time_passes
        with Journal(tmp_path / "j.sqlite") as journal:
            first = await run_job(
                plan, Script(resource, create=[refused("bad")]), journal=journal, concurrency=1
            )
            assert first.job_id is not None
            before = journal.group(first.job_id, first_key)
            # the create's answer lost, the count that would settle it refused
            second = await run_job(
                plan, Script(resource, create=[UNSENT], count=[None, refused("no")]),
                journal=journal,
            )  # fmt: skip
            kept = journal.group(first.job_id, first_key)
            third = await run_job(plan, ResourceGateway(resource), journal=journal)
    assert [g.status for g in first.groups] == ["failed", "created"]
    assert before is not None and (before.state, before.baseline) == ("failed", 1)
    assert second.baseline == "journal"
    assert [g.status for g in second.groups] == ["failed", "skipped"]
    # marked again with the baseline counted now: the other group's 2 passes are in it
    assert kept is not None and (kept.state, kept.baseline, kept.created) == ("sending", 3, 0)
    assert [(g.status, g.created, g.requests) for g in third.groups] == [
        ("created", 2, 1), ("skipped", 2, 0),
    ]  # fmt: skip
    assert passes_of(emu, 7) == 5


async def test_a_failed_group_with_passes_created_reconciles_against_a_fresh_baseline(
    tmp_path: Path,
) -> None:
    plan = plan_of({"CoworkerId": 7}, cap=1)
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        existing(emu, 7)
        resource = client.coworker_time_passes
        with Journal(tmp_path / "j.sqlite") as journal:
            first = await run_job(plan, Script(resource, create=[None, refused("bad")]),
                                  journal=journal)  # fmt: skip
            again = await run_job(plan, Script(resource, create=[LOST]), journal=journal)
    assert [(g.status, g.created, g.requests) for g in first.groups] == [("failed", 1, 2)]
    [group] = again.groups
    assert (group.status, group.created, group.created_before, group.requests) == (
        "created", 2, 1, 1,
    )  # fmt: skip
    assert group.reason == "outcome unknown (the answer was lost); reconciled by counting"
    assert passes_of(emu, 7) == 3


async def test_a_group_left_sending_is_reconciled_against_its_journaled_baseline(
    tmp_path: Path,
) -> None:
    plan = plan_of({"CoworkerId": 7})
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        existing(emu, 7)
        resource = client.coworker_time_passes
        with Journal(tmp_path / "j.sqlite") as journal:
            first = await run_job(
                plan, Script(resource, create=[UNSENT], count=[None, refused("no")]),
                journal=journal,
            )  # fmt: skip
            assert first.job_id is not None
            [left] = journal.groups(first.job_id).values()
            # the rerun counts nothing created, sends, and its answer is lost too
            again = await run_job(plan, Script(resource, create=[LOST]), journal=journal)
    assert (left.state, left.baseline) == ("sending", 1)
    [group] = again.groups
    assert (group.status, group.created, group.created_before, group.requests) == (
        "created", 2, 0, 1,
    )  # fmt: skip
    assert group.reason == "outcome unknown (the answer was lost); reconciled by counting"
    assert passes_of(emu, 7) == 3


# ---------------------------------------------------------------- stops and errors


async def test_a_stop_before_a_reconciling_count_keeps_the_group_sending(tmp_path: Path) -> None:
    stop = asyncio.Event()
    plan = plan_of({"CoworkerId": 7})
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = Script(client.coworker_time_passes, create=[UNSENT])
        gateway.on_create = lambda fields: stop.set()
        with Journal(tmp_path / "j.sqlite") as journal:
            report = await run_job(plan, gateway, journal=journal, stop=stop)
            assert report.job_id is not None
            [record] = journal.groups(report.job_id).values()
    assert report.interrupted
    assert table(report) == [(
        "not_sent", 0, 1,
        "interrupted while reconciling; the journal keeps the group as 'sending', "
        "re-run to reconcile",
    )]  # fmt: skip
    assert (record.state, record.created) == ("sending", 0)
    assert report.count_requests == 0
    assert emu.store.all(CTP) == []


async def test_a_group_waiting_for_its_key_when_the_job_stops_keeps_what_it_created(
    tmp_path: Path,
) -> None:
    """Both groups of a key failed after one of their two creates; the rerun stops during
    the first one's send, so the second, waiting for the key, is not sent."""
    stop = asyncio.Event()
    plan = plan_of({"CoworkerId": 7, "Price": 1}, {"CoworkerId": 7, "Price": 2}, cap=1)
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        resource = client.coworker_time_passes
        with Journal(tmp_path / "j.sqlite") as journal:
            script = [None, refused("bad"), None, refused("bad")]
            first = await run_job(plan, Script(resource, create=script), journal=journal,
                                  concurrency=1)  # fmt: skip
            gateway = Script(resource)
            gateway.on_create = lambda fields: stop.set()
            again = await run_job(plan, gateway, journal=journal, concurrency=1, stop=stop)
    assert [(g.status, g.created) for g in first.groups] == [("failed", 1), ("failed", 1)]
    why = "interrupted before it was sent; re-run to resume"
    assert [(g.status, g.created, g.requests, g.reason) for g in again.groups] == [
        ("created", 2, 1, None), ("not_sent", 1, 0, why),
    ]  # fmt: skip
    assert passes_of(emu, 7) == 3


async def test_a_refused_create_fails_its_group_and_the_job_goes_on() -> None:
    plan = plan_of({"CoworkerId": 7}, {"CoworkerId": 8})
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = Script(client.coworker_time_passes, create=[refused("bad Notes")])
        report = await run_job(plan, gateway, concurrency=1)
    assert table(report) == [("failed", 0, 1, "bad Notes"), ("created", 2, 1, None)]
    assert (passes_of(emu, 7), passes_of(emu, 8)) == (0, 2)


async def test_a_create_answered_without_an_id_reports_none() -> None:
    class NoAnswer(Script):
        async def create(self, fields: Any, count: int) -> Any:
            await super().create(fields, count)
            return None

    async with run_emulator(OFF) as emu, client_for(emu) as client:
        report = await run_job(plan_of({"CoworkerId": 7}), NoAnswer(client.coworker_time_passes))
    [group] = report.groups
    assert (group.status, group.created, group.ids) == ("created", 2, ())
    assert passes_of(emu, 7) == 2


async def test_groups_of_different_keys_are_sent_at_the_same_time() -> None:
    """Only a key's own groups wait for each other: two keys' creates overlap."""
    started: list[int] = []
    overlapped: list[bool] = []

    class Overlap(Script):
        async def create(self, fields: Any, count: int) -> Any:
            started.append(fields["CoworkerId"])
            if len(started) == 1:
                for _ in range(20):  # the other key's group starts meanwhile
                    await asyncio.sleep(0)
                overlapped.append(len(started) == 2)
            return await super().create(fields, count)

    async with run_emulator(OFF) as emu, client_for(emu) as client:
        plan = plan_of({"CoworkerId": 7}, {"CoworkerId": 8})
        report = await run_job(plan, Overlap(client.coworker_time_passes), concurrency=2)
    assert overlapped == [True]
    assert [g.status for g in report.groups] == ["created", "created"]
    assert (passes_of(emu, 7), passes_of(emu, 8)) == (2, 2)


async def test_the_log_names_the_group_reconciled_and_the_one_counted_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="nexudus_async.bulk")
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = Script(client.coworker_time_passes, create=[LOST])

        def other_writer(fields: Any) -> None:
            emu.store.insert(CTP, {**fields, "Notes": "someone else's"})

        gateway.on_create = other_writer
        plan = plan_of({"CoworkerId": 7})
        report = await run_job(plan, gateway)
    key = plan.groups[0].key
    over = (
        "counted 1 more record(s) than requested: another writer created passes "
        "for the same customer and time pass?"
    )
    assert table(report) == [("created", 3, 1, over)]
    assert caplog.messages[-2:] == [
        f"group {key}: outcome unknown (the answer was lost); reconciled by counting",
        f"group {key}: {over}",
    ]


ONE_WRITE_A_DAY = RateLimits(
    min_interval=0.001, windows=(Window(1, 86_400.0, writes_only=True),), safety=0.0, margin=0.0
)


async def test_a_create_held_by_the_limiter_is_not_sent_once_the_job_stops(
    tmp_path: Path,
) -> None:
    """Cancelled at once: not waited for until the call's timeout ends it as a sent create."""
    stop = asyncio.Event()
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    plan = plan_of({"CoworkerId": 7}, {"CoworkerId": 8})
    async with run_emulator(OFF) as emu:
        client = NexudusClient(
            emu.base_url, auth, rate_limits=ONE_WRITE_A_DAY, timeout=3.0,
            trace_configs=[stop_trace_config(stop)],
        )  # fmt: skip
        async with client:
            gateway = Script(client.coworker_time_passes)
            calls: list[int] = []

            def second_stops(fields: Any) -> None:
                calls.append(fields["CoworkerId"])
                if len(calls) == 2:  # held by the limiter for a day: stopped meanwhile
                    asyncio.get_running_loop().call_later(0.05, stop.set)

            gateway.on_create = second_stops
            with Journal(tmp_path / "j.sqlite") as journal:
                report = await run_job(plan, gateway, journal=journal, stop=stop, concurrency=1)
                assert report.job_id is not None
                second = journal.group(report.job_id, plan.groups[1].key)
    why = "interrupted before it was sent; re-run to resume"
    assert table(report) == [("created", 2, 1, None), ("not_sent", 0, 0, why)]
    assert second is not None
    assert (second.state, second.last_error) == (
        "failed", "interrupted before the next create was sent",
    )  # fmt: skip
    assert emu.stats.by_route[CREATE] == 1 == report.create_requests


async def test_three_groups_of_one_key_are_sent_one_after_the_other() -> None:
    """The second group's turn ends while the third waits for the key: all three are sent."""
    plan = plan_of(*({"CoworkerId": 7, "Price": p} for p in (1, 2, 3)))
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        existing(emu, 7)
        gateway = Script(client.coworker_time_passes, create=[None, None, LOST])
        report = await run_job(plan, gateway, concurrency=1)
    assert table(report) == [
        ("created", 2, 1, None),
        ("created", 2, 1, None),
        ("created", 2, 1, "outcome unknown (the answer was lost); reconciled by counting"),
    ]
    assert passes_of(emu, 7) == 7
