"""A record op's ends the other tests leave one line short of: each reason word for word,
the writes and reads counted, the journal's state, a resumed op said so.

In-process through ``run_job`` against the emulator, with gateways that answer
a request the way the API or the limiter would.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nexudus_async._core.errors import (
    NotFoundError,
    OutcomeUnknownError,
    ThrottledError,
    ValidationError,
)
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk import ResourceGateway, run_job
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.record_step import same_value
from nexudus_async.bulk.report import OpResult
from nexudus_async.bulk.stopping import SendingStopped
from nexudus_async.testing import EmulatorConfig, ThrottleLimits, run_emulator

from .helpers import CTP
from .test_bulk_api_in_process import client_for
from .test_record_ops import delete, plan_of, seed, update

OFF = EmulatorConfig(limits=ThrottleLimits.off())


class _Scripted(ResourceGateway):
    """Reads, PUTs and DELETEs answered from a script first (an exception to raise, or None:
    the real call), then for real."""

    def __init__(self, resource: Any, **script: list[BaseException | None]) -> None:
        super().__init__(resource)
        self.script = script
        self.calls: list[str] = []

    async def _next(self, name: str) -> None:
        self.calls.append(name)
        queue = self.script.get(name, [])
        error = queue.pop(0) if queue else None
        if error is not None:
            raise error

    async def read(self, record_id: int) -> Any:
        await self._next("read")
        return await super().read(record_id)

    async def replace(self, record_id: int, record: Any) -> Any:
        await self._next("replace")
        return await super().replace(record_id, record)

    async def delete(self, record_id: int) -> Any:
        await self._next("delete")
        return await super().delete(record_id)


def refused(text: str) -> ValidationError:
    return ValidationError(text, status=400)


async def test_a_read_refused_before_any_write_says_nothing_was_written(tmp_path: Path) -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        [a] = seed(emu, 1)
        gateway = _Scripted(client.coworker_time_passes, read=[refused("no such field")])
        with Journal(tmp_path / "j.sqlite") as journal:
            report = await run_job(plan_of(update(a, Notes="n")), gateway, journal=journal)
            assert report.job_id is not None
            record = journal.group(report.job_id, f"update:{a}")
    [op] = report.ops
    assert (op.status, op.writes, op.reads, op.resumed) == ("failed", 0, 1, False)
    assert op.reason == (
        f"could not read CoworkerTimePass {a}: no such field; nothing was written, re-run to do it"
    )
    assert record is None  # never marked: nothing to settle


async def test_a_write_left_unknown_then_unreadable_is_kept_sending_and_resumed(
    tmp_path: Path,
) -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        [a] = seed(emu, 1)
        gateway = _Scripted(
            client.coworker_time_passes,
            replace=[OutcomeUnknownError("the answer was lost")],
            read=[None, refused("try later")],
        )
        plan = plan_of(update(a, Notes="n"))
        with Journal(tmp_path / "j.sqlite") as journal:
            first = await run_job(plan, gateway, journal=journal)
            assert first.job_id is not None
            state = journal.group(first.job_id, f"update:{a}")
            again = await run_job(
                plan, ResourceGateway(client.coworker_time_passes), journal=journal
            )
    [op] = first.ops
    assert (op.status, op.writes, op.reads, op.resumed) == ("failed", 1, 2, False)
    assert op.reason == (
        f"could not read CoworkerTimePass {a}: try later; "
        "the journal keeps the op as 'sending', re-run to settle it"
    )
    assert state is not None and state.state == "sending"
    [op] = again.ops
    # the lost PUT never reached the store: the rerun reads, then writes it once
    assert (op.status, op.writes, op.reads, op.resumed) == ("updated", 1, 1, True)


async def test_a_delete_answered_404_is_done_as_already_gone() -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        [a] = seed(emu, 1)
        gateway = _Scripted(client.coworker_time_passes, delete=[NotFoundError("gone", status=404)])
        report = await run_job(plan_of(delete(a), kind="delete"), gateway)
    [op] = report.ops
    assert (op.status, op.writes, op.reads, op.reason) == ("deleted", 1, 1, "already gone")
    assert report.ok and report.op_writes == 1


async def test_a_write_throttled_on_every_attempt_gives_up_saying_why() -> None:
    throttled = [ThrottledError("You must wait", status=409) for _ in range(3)]
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        [a] = seed(emu, 1)
        gateway = _Scripted(client.coworker_time_passes, replace=throttled)
        report = await run_job(
            plan_of(update(a, Notes="n")), gateway, max_attempts=3, throttle_backoff=0.001
        )
    [op] = report.ops
    assert (op.status, op.writes, op.reads) == ("failed", 0, 1)
    assert op.reason == "gave up after 3 attempts: throttled (You must wait)"
    assert gateway.calls == ["read", "replace", "replace", "replace"]
    assert report.op_writes == 3


async def test_a_write_the_stop_held_back_is_not_sent_and_not_counted() -> None:
    stop = asyncio.Event()

    class Held(_Scripted):
        async def replace(self, record_id: int, record: Any) -> Any:
            stop.set()
            raise SendingStopped("stopping: held by the rate limiter, not sent")

    async with run_emulator(OFF) as emu, client_for(emu) as client:
        a, b = seed(emu, 2)
        gateway = Held(client.coworker_time_passes)
        report = await run_job(
            plan_of(update(a, Notes="n"), update(b, Notes="n")), gateway, stop=stop, concurrency=1
        )
    assert [(o.status, o.writes) for o in report.ops] == [("not_sent", 0), ("not_sent", 0)]
    reason = "interrupted before it was sent; re-run to resume"
    assert report.ops[0].reason == (
        f"{reason}; the journal keeps the op as 'sending', re-run to settle it"
    )
    assert (report.op_writes, report.create_requests, report.op_reads) == (0, 0, 1)


def test_same_value_reads_a_float_as_its_shortest_decimal_and_an_unknown_field_as_itself() -> None:
    assert same_value(COWORKER_TIME_PASS, "Price", 0.1, "0.10")
    assert not same_value(COWORKER_TIME_PASS, "Price", 0.1, "0.11")
    assert same_value(COWORKER_TIME_PASS, "NoSuchField", 0.1, 0.1)
    assert not same_value(COWORKER_TIME_PASS, "NoSuchField", "0.1", 0.1)


async def test_the_journal_keeps_each_ops_outcome_and_error(tmp_path: Path) -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        a, b, c = seed(emu, 3, Price=10.5)
        ops = (
            update(a, 3, Notes="n"),
            update(b, 4, Price="10.50"),  # already holds it
            delete(c, Used=True, Notes="other"),  # two fields moved
            update(999_999, 6, Notes="n"),
        )
        gateway = ResourceGateway(client.coworker_time_passes)
        with Journal(tmp_path / "j.sqlite") as journal:
            report = await run_job(plan_of(*ops), gateway, journal=journal, concurrency=1)
            assert report.job_id is not None
            records = [journal.group(report.job_id, op.key) for op in ops]
            writes = journal.send_times(since=0, write=True)
            reads = journal.send_times(since=0, write=False)
    moved = "changed meanwhile: Used is False, expected True; Notes is 'keep me', expected 'other'"
    missing = "CoworkerTimePass 999999 does not exist"
    assert [(r.state, r.expected, r.baseline, r.created, r.requests, r.last_error)
            for r in records if r is not None] == [
        ("done", 1, 0, 1, 1, None),  # the intent (expected 1, no baseline), then the outcome
        ("done", 1, 0, 0, 0, None),
        ("failed", 1, 0, 0, 0, moved),
        ("failed", 1, 0, 0, 0, missing),
    ]  # fmt: skip
    assert [(o.key, o.action, o.record_id, o.status, o.reason, o.lines) for o in report.ops] == [
        (f"update:{a}", "update", a, "updated", None, (3,)),
        (f"update:{b}", "update", b, "skipped", "already holds the values", (4,)),
        (f"delete:{c}", "delete", c, "changed", moved, ()),
        ("update:999999", "update", 999_999, "failed", missing, (6,)),
    ]
    assert (len(writes), len(reads)) == (1, 4)


async def test_a_delete_whose_expectation_holds_in_another_spelling_is_sent() -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        [a] = seed(emu, 1, Price=10.5)
        gateway = ResourceGateway(client.coworker_time_passes)
        report = await run_job(plan_of(delete(a, Price="10.50"), kind="delete"), gateway)
    assert [(o.status, o.reason) for o in report.ops] == [("deleted", None)]
    assert emu.store.all(CTP) == []


async def test_writes_left_unknown_are_read_again_and_sent_again_each_counted() -> None:
    lost = [OutcomeUnknownError("the answer was lost") for _ in range(2)]
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        [a] = seed(emu, 1)
        gateway = _Scripted(client.coworker_time_passes, replace=lost)
        report = await run_job(plan_of(update(a, Notes="n")), gateway)
    [op] = report.ops
    assert (op.status, op.writes, op.reads, op.reason) == ("updated", 3, 3, None)
    assert gateway.calls == ["read", "replace", "read", "replace", "read", "replace"]


async def test_a_write_left_unknown_every_time_gives_up_saying_why() -> None:
    lost = [OutcomeUnknownError("the answer was lost") for _ in range(2)]
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        [a] = seed(emu, 1)
        gateway = _Scripted(client.coworker_time_passes, replace=lost)
        report = await run_job(plan_of(update(a, Notes="n")), gateway, max_attempts=2)
    [op] = report.ops
    assert (op.status, op.writes) == ("failed", 2)
    assert op.reason == "gave up after 2 attempts: outcome unknown (the answer was lost)"


async def test_a_delete_left_unknown_then_answered_404_counts_both_writes() -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        [a] = seed(emu, 1)
        script = [OutcomeUnknownError("lost"), NotFoundError("gone", status=404)]
        gateway = _Scripted(client.coworker_time_passes, delete=script)
        report = await run_job(plan_of(delete(a), kind="delete"), gateway)
    [op] = report.ops
    assert (op.status, op.writes, op.reads, op.reason) == ("deleted", 2, 2, "already gone")


async def test_a_write_answered_with_a_definite_refusal_fails_that_op_only() -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        a, b = seed(emu, 2)
        gateway = _Scripted(client.coworker_time_passes, replace=[refused("Notes is too long")])
        plan = plan_of(update(a, Notes="n"), update(b, Notes="n"))
        report = await run_job(plan, gateway, concurrency=1)
    assert [(o.status, o.reason) for o in report.ops] == [
        ("failed", "Notes is too long"), ("updated", None),
    ]  # fmt: skip


async def test_a_delete_whose_answer_was_lost_and_is_gone_has_no_reason() -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        [a] = seed(emu, 1)

        class Lost(_Scripted):
            async def delete(self, record_id: int) -> Any:
                await ResourceGateway.delete(self, record_id)
                raise OutcomeUnknownError("the answer was lost")

            async def replace(self, record_id: int, record: Any) -> Any:
                await ResourceGateway.replace(self, record_id, record)
                raise OutcomeUnknownError("the answer was lost")

        [b] = seed(emu, 1)
        gateway = Lost(client.coworker_time_passes)
        deleted = await run_job(plan_of(delete(a), kind="delete"), gateway)
        updated = await run_job(plan_of(update(b, Notes="n")), gateway)
    assert [(o.status, o.writes, o.reason) for o in deleted.ops] == [("deleted", 1, None)]
    assert [(o.status, o.writes, o.reason) for o in updated.ops] == [("updated", 1, None)]


async def test_a_rerun_and_a_stop_report_each_op_in_full(tmp_path: Path) -> None:
    stop = asyncio.Event()
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        a, b = seed(emu, 2)
        gateway = ResourceGateway(client.coworker_time_passes)
        with Journal(tmp_path / "j.sqlite") as journal:
            plan = plan_of(update(a, 3, Notes="n"))
            await run_job(plan, gateway, journal=journal)
            again = await run_job(plan, gateway, journal=journal)
            stop.set()
            stopped = await run_job(plan_of(update(b, 5, Notes="n")), gateway, stop=stop)
    assert again.ops == [
        OpResult(f"update:{a}", "update", a, "skipped", 0, 0, "done by an earlier run", (3,))
    ]
    reason = "interrupted before it was sent; re-run to resume"
    assert stopped.ops == [OpResult(f"update:{b}", "update", b, "not_sent", 0, 0, reason, (5,))]


async def test_a_stop_during_an_ops_read_or_unknown_write_says_what_the_journal_keeps() -> None:
    stop = asyncio.Event()

    class Stopping(_Scripted):
        read_stops = 0
        """The record whose read sets the stop (0: none; the PUT sets it)."""

        async def read(self, record_id: int) -> Any:
            if record_id == self.read_stops:
                stop.set()
            return await super().read(record_id)

        async def replace(self, record_id: int, record: Any) -> Any:
            stop.set()
            raise OutcomeUnknownError("the answer was lost")

    interrupted = "interrupted before it was sent; re-run to resume"
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        a, b = seed(emu, 2)
        gateway = Stopping(client.coworker_time_passes)
        gateway.read_stops = a
        read = await run_job(plan_of(update(a, 3, Notes="n")), gateway, stop=stop)
        stop.clear()
        gateway.read_stops = 0
        written = await run_job(plan_of(update(b, 4, Notes="n")), gateway, stop=stop)
    assert read.ops == [
        OpResult(f"update:{a}", "update", a, "not_sent", 0, 1,
                 f"{interrupted}; nothing was written, re-run to do it", (3,)),
    ]  # fmt: skip
    [op] = written.ops
    # one read: the one after the lost PUT was refused by the stop, so never made
    assert (op.key, op.status, op.writes, op.reads, op.lines) == (
        f"update:{b}",
        "not_sent",
        1,
        1,
        (4,),
    )
    assert op.reason == (
        f"{interrupted}; the journal keeps the op as 'sending', re-run to settle it"
    )
