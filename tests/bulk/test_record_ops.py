"""Record ops (update, delete) through ``run_job``, in-process, against the emulator.

Each op reads its record in full, compares, and PUTs it back with only its
changes (or DELETEs it); these tests say so by the store's contents, what
the emulator received, the journal's records and the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.errors import ThrottledError
from nexudus_async._core.retry import RetryPolicy
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk import (
    JobPlan,
    RecordOp,
    ResourceGateway,
    UnfinishedJobError,
    run_job,
)
from nexudus_async.bulk.executor import rows_from_mappings
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import validate_rows
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

from .helpers import CTP, stop_after

BILLING = f"/api/billing/{CTP}"
GET_ONE = f"GET {BILLING}/{{Id}}"
PUT = f"PUT {BILLING}"
DELETE = f"DELETE {BILLING}/{{Id}}"
FAST = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)
NEW_DATE = "2027-06-30T00:00:00Z"


def client_for(emu: EmulatorServer, retry: RetryPolicy = FAST) -> NexudusClient:
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    return NexudusClient(emu.base_url, auth, rate_limits=None, retry=retry)


def seed(emu: EmulatorServer, n: int, **fields: Any) -> list[int]:
    base = {"CoworkerId": 7, "BusinessId": 1, "TimePassId": 1, "Notes": "keep me", "Used": False}
    return [emu.store.insert(CTP, {**base, **fields})["Id"] for _ in range(n)]


def update(record_id: int, line: int = 0, **changes: Any) -> RecordOp:
    lines = (line,) if line else ()
    return RecordOp(f"update:{record_id}", "update", record_id, changes, lines=lines)


def delete(record_id: int, **expect: Any) -> RecordOp:
    return RecordOp(f"delete:{record_id}", "delete", record_id, expect=expect)


def plan_of(*ops: RecordOp, kind: Any = "update") -> JobPlan:
    return JobPlan(kind, COWORKER_TIME_PASS, ops=ops)


async def test_an_update_puts_the_full_record_back_with_only_its_changes() -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        a, b = seed(emu, 2, Price=12.5)
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            ops = (update(a, 3, ExpireDate=NEW_DATE), update(b, 4, ExpireDate=NEW_DATE))
            report = await run_job(plan_of(*ops), gateway)
        assert report.ok
        assert [o.status for o in report.ops] == ["updated", "updated"]
        assert [(r.line, r.status) for r in report.rows] == [(3, "updated"), (4, "updated")]
        assert (report.op_reads, report.op_writes, report.create_requests) == (2, 2, 0)
        for rid in (a, b):
            stored = emu.store.get(CTP, rid)
            assert stored is not None
            assert stored["ExpireDate"] == NEW_DATE
            # what the op did not name is sent back as read, not cleared
            assert (stored["Notes"], str(stored["Price"]), stored["CoworkerId"]) == (
                "keep me", "12.5", 7,
            )  # fmt: skip
        assert emu.stats.by_route[GET_ONE] == 2 and emu.stats.by_route[PUT] == 2


async def test_an_update_whose_record_already_holds_the_values_sends_no_put(
    tmp_path: Path,
) -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        [a] = seed(emu, 1, ExpireDate=NEW_DATE, Price=10.5)
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            with Journal(tmp_path / "j.sqlite") as journal:
                # the same values in other spellings: a date, a price with a trailing zero
                op = update(a, ExpireDate="2027-06-30T00:00:00Z", Price="10.50")
                report = await run_job(plan_of(op), gateway, journal=journal)
                assert report.job_id is not None
                record = journal.group(report.job_id, op.key)
                assert journal.durable_commits == 0  # no write, so no intent either
        [result] = report.ops
        assert (result.status, result.reason) == ("skipped", "already holds the values")
        assert report.ok and report.op_writes == 0
        assert emu.stats.by_route[PUT] == 0 and emu.stats.by_route[GET_ONE] == 1
        assert record is not None and (record.state, record.requests) == ("done", 0)


async def test_a_delete_of_a_record_already_gone_is_done_without_a_write() -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        a, b = seed(emu, 2)
        emu.store.delete(ctp_spec(), b)
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            report = await run_job(plan_of(delete(a), delete(b), kind="delete"), gateway)
        assert report.ok
        assert [(o.status, o.reason) for o in report.ops] == [
            ("deleted", None), ("deleted", "already gone"),
        ]  # fmt: skip
        assert emu.store.all(CTP) == []
        assert emu.stats.by_route[DELETE] == 1 and report.op_writes == 1


def ctp_spec() -> Any:
    from nexudus_async.testing.store import entity

    return entity(CTP)


async def test_a_delete_whose_record_moved_is_reported_not_written() -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        [a] = seed(emu, 1, Used=True)
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            report = await run_job(plan_of(delete(a, Used=False), kind="undo"), gateway)
        [result] = report.ops
        assert result.status == "changed"
        assert result.reason == "changed meanwhile: Used is True, expected False"
        assert emu.store.get(CTP, a) is not None and emu.stats.by_route[DELETE] == 0


async def test_a_moved_price_is_shown_as_written_not_as_a_python_repr() -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        [a] = seed(emu, 1, Price=10.5)
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            report = await run_job(plan_of(delete(a, Price="11"), kind="undo"), gateway)
        [result] = report.ops
        # was "Price is Decimal('10.5'), ...": the read's exact number, in Python's spelling
        assert (result.status, result.reason) == (
            "changed",
            "changed meanwhile: Price is 10.5, expected '11'",
        )
        assert emu.store.get(CTP, a) is not None and emu.stats.by_route[DELETE] == 0


async def test_an_update_of_an_id_that_does_not_exist_fails_with_the_id() -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            report = await run_job(plan_of(update(999_999, Notes="x")), gateway)
        [result] = report.ops
        assert (result.status, result.reason) == (
            "failed",
            "CoworkerTimePass 999999 does not exist",
        )
        assert not report.ok and emu.stats.by_route[PUT] == 0


@pytest.mark.parametrize("kind", ["drop_after", "error500_after", "not_json"])
async def test_a_write_whose_outcome_is_unknown_is_settled_by_reading_not_resent(
    kind: str,
) -> None:
    """The server executes the PUT and the answer is lost: a read finds it done."""
    faults = (FaultRule(method="PUT", path=BILLING, kind=kind, times=1),)
    config = EmulatorConfig(limits=ThrottleLimits.off(), faults=faults)
    async with run_emulator(config) as emu:
        [a] = seed(emu, 1)
        async with client_for(emu, RetryPolicy.never()) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            report = await run_job(plan_of(update(a, Notes="new")), gateway)
        [result] = report.ops
        assert (result.status, result.writes, result.reads) == ("updated", 1, 2)
        assert emu.stats.by_route[PUT] == 1 and emu.stats.executed[PUT] == 1
        stored = emu.store.get(CTP, a)
        assert stored is not None and stored["Notes"] == "new"


async def test_a_delete_whose_answer_was_lost_is_settled_by_reading() -> None:
    faults = (FaultRule(method="DELETE", path=f"{BILLING}/*", kind="drop_after", times=1),)
    config = EmulatorConfig(limits=ThrottleLimits.off(), faults=faults)
    async with run_emulator(config) as emu:
        [a] = seed(emu, 1)
        async with client_for(emu, RetryPolicy.never()) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            report = await run_job(plan_of(delete(a), kind="delete"), gateway)
        [result] = report.ops
        assert (result.status, result.reads) == ("deleted", 2)
        assert emu.stats.by_route[DELETE] == 1 and emu.store.all(CTP) == []


async def test_a_rerun_of_a_finished_job_sends_nothing(tmp_path: Path) -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        ids = seed(emu, 3)
        plan = plan_of(*(update(i, Notes="n") for i in ids))
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            with Journal(tmp_path / "j.sqlite") as journal:
                first = await run_job(plan, gateway, journal=journal)
                sent = sum(emu.stats.by_route.values())
                commits = journal.commits
                again = await run_job(plan, gateway, journal=journal)
                # two transactions per written op: the durable intent, the outcome
                assert (commits, journal.durable_commits) == (3 * 2, 3)
        assert first.ok and again.ok
        assert sum(emu.stats.by_route.values()) == sent  # not one request
        assert [o.status for o in again.ops] == ["skipped"] * 3
        assert (again.op_reads, again.op_writes) == (0, 0)


class _Killed(BaseException):
    """A kill at a journal step: nothing after it runs (BaseException: no handler eats it)."""


class _KillingJournal(Journal):
    """Dies right before (``after=False``) or right after the ``n``-th journal transaction."""

    def __init__(self, path: Path, n: int, *, after: bool) -> None:
        super().__init__(path)
        self.n, self.after, self.seen, self.killed = n, after, 0, False

    @contextlib.contextmanager
    def _transaction(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        self.seen += 1
        now = self.seen == self.n
        self.killed |= now
        if now and not self.after:
            raise _Killed
        with super()._transaction(durable=durable) as db:
            yield db
        if now:
            raise _Killed


@pytest.mark.parametrize("after", [False, True])
@pytest.mark.parametrize("step", range(1, 12))
async def test_a_kill_at_every_journal_step_then_a_rerun_finishes_exactly(
    tmp_path: Path, step: int, after: bool
) -> None:
    """Two create groups (the snapshot, then two transactions each), then ops: an update,
    a delete (two each), an update already holding its value (one): ten in all."""
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        a, b, c = seed(emu, 3)
        emu.store.replace(ctp_spec(), {**_stored(emu, c), "Notes": "n"}, "x")
        ops = (update(a, Notes="n"), delete(b), update(c, Notes="n"))
        plan = attrs.evolve(_creates(501, 502), kind="apply", ops=ops)
        path = tmp_path / "j.sqlite"
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            killing = _KillingJournal(path, step, after=after)
            with killing, contextlib.suppress(_Killed):
                await run_job(plan, gateway, journal=killing, concurrency=1)
            assert killing.killed == (step <= 10)  # ten steps, each one killed
            puts, deletes = emu.stats.by_route[PUT], emu.stats.by_route[DELETE]
            with Journal(path) as journal:
                again = await run_job(plan, gateway, journal=journal)
                assert again.job_id is not None and journal.unfinished_jobs() == []
                states = {k: g.state for k, g in journal.groups(again.job_id).items()}
        assert again.ok, [o.reason for o in again.ops]
        creates = Counter(r["CoworkerId"] for r in emu.store.all(CTP) if r["CoworkerId"] > 500)
        assert creates == {501: 2, 502: 2}  # created once, through any kill
        keys = [f"update:{a}", f"delete:{b}", f"update:{c}", *(g.key for g in plan.groups)]
        assert states == dict.fromkeys(keys, "done")
        assert _stored(emu, a)["Notes"] == "n" and emu.store.get(CTP, b) is None
        # the rerun wrote only what the killed run had not: nothing twice
        assert emu.stats.by_route[PUT] + emu.stats.by_route[DELETE] <= 2
        assert (emu.stats.by_route[PUT] - puts) + (emu.stats.by_route[DELETE] - deletes) == (
            again.op_writes
        )


def _creates(*customers: int) -> JobPlan:
    rows = [
        {"CoworkerId": c, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 2} for c in customers
    ]
    valid, errors = validate_rows(COWORKER_TIME_PASS, rows_from_mappings(rows))
    assert not errors
    return JobPlan.from_plan(make_plan(COWORKER_TIME_PASS, valid))


def _stored(emu: EmulatorServer, rid: int) -> dict[str, Any]:
    record = emu.store.get(CTP, rid)
    assert record is not None
    return record


async def test_a_stop_leaves_the_rest_not_sent_in_one_journal_transaction(
    tmp_path: Path,
) -> None:
    stop, progress = stop_after(2)

    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        ids = seed(emu, 6)
        plan = plan_of(*(update(i, Notes="n") for i in ids))
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            with Journal(tmp_path / "j.sqlite") as journal:
                report = await run_job(
                    plan, gateway, journal=journal, concurrency=1, progress=progress, stop=stop
                )
                # two ops of two transactions each, and the stop's one
                assert journal.commits == 2 * 2 + 1
                again = await run_job(plan, gateway, journal=journal)
        assert report.interrupted and not report.ok
        assert [o.status for o in report.ops] == ["updated"] * 2 + ["not_sent"] * 4
        assert again.ok and [o.status for o in again.ops] == ["skipped"] * 2 + ["updated"] * 4
        assert emu.stats.by_route[PUT] == 6


async def test_a_second_job_over_an_unfinished_one_is_refused_with_the_way_out(
    tmp_path: Path,
) -> None:
    stop = asyncio.Event()
    stop.set()
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        a, b = seed(emu, 2)
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            with Journal(tmp_path / "j.sqlite") as journal:
                first = await run_job(plan_of(update(a, Notes="n")), gateway, journal=journal,
                                      stop=stop, source="first.csv")  # fmt: skip
                assert first.interrupted
                with pytest.raises(UnfinishedJobError) as caught:
                    await run_job(plan_of(update(b, Notes="n")), gateway, journal=journal)
                assert emu.stats.by_route[GET_ONE] == 0
                other = await run_job(
                    plan_of(update(b, Notes="n")), gateway, journal=journal, new_job=True
                )
        assert first.job_id is not None
        message = str(caught.value)
        assert message.startswith("nothing was sent: the journal ")
        assert f"unfinished job {first.job_id[:12]} (coworker_time_passes from first.csv" in message
        assert "new_job=True (--new-job)" in message
        assert other.ok and _stored(emu, b)["Notes"] == "n" and _stored(emu, a)["Notes"] != "n"


class _ThrottledOnce(ResourceGateway):
    """The first PUT is answered 409 (not executed), as a throttle the client did not absorb."""

    def __init__(self, resource: Any) -> None:
        super().__init__(resource)
        self.refused = 0

    async def replace(self, record_id: int, record: Any) -> Any:
        if not self.refused:
            self.refused += 1
            raise ThrottledError("You must wait before accessing this url again.", status=409)
        return await super().replace(record_id, record)


async def test_a_throttled_write_is_sent_again_without_reading_again() -> None:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        [a] = seed(emu, 1)
        async with client_for(emu) as client:
            gateway = _ThrottledOnce(client.coworker_time_passes)
            report = await run_job(plan_of(update(a, Notes="n")), gateway, throttle_backoff=0.001)
        [result] = report.ops
        assert (result.status, result.reads, result.writes) == ("updated", 1, 1)
        assert gateway.refused == 1 and emu.stats.by_route[GET_ONE] == 1
        assert emu.stats.by_route[PUT] == 1 and _stored(emu, a)["Notes"] == "n"


async def test_a_job_of_its_own_id_resumes_and_only_other_content_is_refused(
    tmp_path: Path,
) -> None:
    stop = asyncio.Event()
    stop.set()
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        a, b = seed(emu, 2)
        async with client_for(emu) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            with Journal(tmp_path / "j.sqlite") as journal:
                plan = plan_of(update(a, Notes="n"))
                first = await run_job(plan, gateway, journal=journal, job_id="nightly", stop=stop)
                with pytest.raises(UnfinishedJobError, match="unfinished job nightly "):
                    await run_job(plan_of(update(b, Notes="n")), gateway, journal=journal)
                again = await run_job(plan, gateway, journal=journal, job_id="nightly")
                assert first.interrupted and again.ok
                assert [j.job_id for j in journal.jobs()] == ["nightly"]
                assert journal.unfinished_jobs() == []
