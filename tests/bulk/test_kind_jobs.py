"""Update, delete, apply and undo through the library, in-process, against the emulator.

What each job did is read from the store, the requests the emulator received
and the report; a stopped run followed by a rerun of the same call finishes
the job without writing anything twice.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.retry import RetryPolicy
from nexudus_async.bulk import BulkInputError, BulkProgress, UnfinishedJobError
from nexudus_async.bulk.jobs import bulk_undo, plan_apply_for, plan_undo
from nexudus_async.bulk.journal import Journal
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    EmulatorServer,
    ThrottleLimits,
    run_emulator,
)

from .helpers import CTP

BILLING = f"/api/billing/{CTP}"
LIST = f"GET {BILLING}"
GET_ONE = f"GET {BILLING}/{{Id}}"
PUT = f"PUT {BILLING}"
POST = f"POST {BILLING}"
DELETE = f"DELETE {BILLING}/{{Id}}"
PTP = "producttimepasses"
NEW_DATE = "2027-06-30T00:00:00Z"
FAST = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)


@pytest.fixture
async def emu() -> AsyncIterator[EmulatorServer]:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as server:
        yield server


@pytest.fixture
async def client(emu: EmulatorServer) -> AsyncIterator[NexudusClient]:
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    async with NexudusClient(emu.base_url, auth, rate_limits=None, retry=FAST) as c:
        yield c


def seed(emu: EmulatorServer, n: int, **fields: Any) -> list[int]:
    base = {"CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "Notes": "keep me"}
    base["Used"] = False
    return [emu.store.insert(CTP, {**base, **fields})["Id"] for _ in range(n)]


def requests(emu: EmulatorServer) -> dict[str, int]:
    return {
        k: v for k, v in emu.stats.by_route.items() if v and not k.startswith("POST /api/token")
    }


def stop_after(writes: int) -> tuple[asyncio.Event, Any]:
    """A stop set once ``writes`` units were done (the progress callback)."""
    stop = asyncio.Event()

    async def progress(p: BulkProgress) -> None:
        if p.records_done >= writes:
            stop.set()

    return stop, progress


# ---------------------------------------------------------------- update


async def test_update_by_query_changes_what_differs_and_a_rerun_writes_nothing(
    emu: EmulatorServer, client: NexudusClient
) -> None:
    wrong = seed(emu, 6, ExpireDate="2027-01-31T00:00:00Z")
    right = seed(emu, 3, ExpireDate=NEW_DATE)
    other = seed(emu, 2, TimePassId=2, ExpireDate="2027-01-31T00:00:00Z")
    ctp = client.coworker_time_passes
    report = await ctp.bulk_update(where={"time_pass": 1}, set={"ExpireDate": "2027-06-30"})
    assert report.ok
    assert sorted(o.record_id for o in report.ops if o.status == "updated") == wrong
    assert requests(emu) == {LIST: 1, GET_ONE: 6, PUT: 6}
    for rid in wrong + right:
        record = emu.store.get(CTP, rid)
        assert record is not None
        assert (record["ExpireDate"], record["Notes"]) == (NEW_DATE, "keep me")
    assert all(emu.store.get(CTP, rid)["ExpireDate"] != NEW_DATE for rid in other)  # type: ignore[index]
    emu.stats.reset()
    again = await ctp.bulk_update(where={"time_pass": 1}, set={"ExpireDate": "2027-06-30"})
    assert again.ok and requests(emu) == {LIST: 1}


async def test_update_rows_by_id_with_bad_input_sends_nothing(
    emu: EmulatorServer, client: NexudusClient
) -> None:
    (a, b) = seed(emu, 2)
    rows = [
        {"Id": a, "Notes": "new"},
        {"Id": b, "UsedDate": "2027-01-01"},
        {"Id": 404, "Notes": "x"},
    ]
    with pytest.raises(BulkInputError) as caught:
        await client.coworker_time_passes.bulk_update(rows)
    assert [str(e) for e in caught.value.row_errors] == [
        "line 2: UsedDate='2027-01-01': cannot be set: it is read-only",
        "line 3: Id=404: no CoworkerTimePass has this Id",
    ]
    assert requests(emu) == {LIST: 1}  # the ids were read, nothing written
    report = await client.coworker_time_passes.bulk_update([{"id": a, "notes": "new"}])
    assert report.ok and emu.store.get(CTP, a)["Notes"] == "new"  # type: ignore[index]


async def test_a_stopped_update_is_finished_by_its_rerun(
    tmp_path: Path, emu: EmulatorServer, client: NexudusClient
) -> None:
    ids = seed(emu, 8)
    stop, progress = stop_after(3)
    where, changes = {"coworker": 101}, {"ExpireDate": NEW_DATE}
    with Journal(tmp_path / "job.sqlite") as journal:
        first = await client.coworker_time_passes.bulk_update(
            where=where, set=changes, journal=journal, stop=stop, progress=progress, concurrency=1
        )
        assert first.interrupted and not first.ok
        done = emu.stats.by_route[PUT]
        assert 3 <= done < 8
        rerun = await client.coworker_time_passes.bulk_update(
            where=where, set=changes, journal=journal
        )
        assert rerun.ok
        assert [o.status for o in rerun.ops].count("updated") == 8 - done
    assert emu.stats.by_route[PUT] == 8  # nothing written twice
    assert all(emu.store.get(CTP, i)["ExpireDate"] == NEW_DATE for i in ids)  # type: ignore[index]


# ---------------------------------------------------------------- delete


async def test_delete_rows_and_an_id_already_gone(
    emu: EmulatorServer, client: NexudusClient
) -> None:
    ids = seed(emu, 3)
    report = await client.coworker_time_passes.bulk_delete([{"Id": i} for i in [*ids, 404]])
    assert report.ok
    assert emu.store.all(CTP) == []
    assert requests(emu) == {LIST: 1, GET_ONE: 3, DELETE: 3}
    by_line = {r.line: r.status for r in report.rows}
    assert by_line == {1: "deleted", 2: "deleted", 3: "deleted", 4: "deleted"}


async def test_a_stopped_delete_by_query_is_finished_by_its_rerun(
    tmp_path: Path, emu: EmulatorServer, client: NexudusClient
) -> None:
    seed(emu, 6)
    keep = seed(emu, 2, TimePassId=2)
    stop, progress = stop_after(2)
    with Journal(tmp_path / "job.sqlite") as journal:
        first = await client.coworker_time_passes.bulk_delete(
            where={"time_pass": 1}, journal=journal, stop=stop, progress=progress, concurrency=1
        )
        assert first.interrupted
        rerun = await client.coworker_time_passes.bulk_delete(
            where={"time_pass": 1}, journal=journal
        )
        assert rerun.ok
    assert [r["Id"] for r in emu.store.all(CTP)] == keep
    assert emu.stats.by_route[DELETE] == 6


# ---------------------------------------------------------------- apply


async def test_apply_links_by_natural_key_twice(emu: EmulatorServer, client: NexudusClient) -> None:
    stale = emu.store.insert(PTP, {"ProductId": 5, "TimePassId": 1, "PassesIncluded": 1})["Id"]
    gone = emu.store.insert(PTP, {"ProductId": 5, "TimePassId": 2, "PassesIncluded": 1})["Id"]
    other = emu.store.insert(PTP, {"ProductId": 6, "TimePassId": 2, "PassesIncluded": 1})["Id"]
    rows = [
        {"ProductId": 5, "TimePassId": 1, "PassesIncluded": 3},
        {"ProductId": 5, "TimePassId": 3, "PassesIncluded": 2},
    ]
    ptp = client.product_time_passes
    args: dict[str, Any] = {"key": "ProductId+TimePassId", "prune": True, "where": {"product": 5}}
    report = await ptp.bulk_apply(rows, **args)
    assert report.ok
    held = {(r["ProductId"], r["TimePassId"]): r for r in emu.store.all(PTP)}
    assert {k: r["PassesIncluded"] for k, r in held.items()} == {(5, 1): 3, (5, 3): 2, (6, 2): 1}
    assert held[(5, 1)]["Id"] == stale and held[(6, 2)]["Id"] == other
    assert emu.store.get(PTP, gone) is None
    emu.stats.reset()
    again = await ptp.bulk_apply(rows, **args)
    assert again.ok
    assert requests(emu) == {f"GET /api/billing/{PTP}": 1}  # reads what it needs, writes nothing


async def test_apply_coworker_passes_by_count_twice(
    emu: EmulatorServer, client: NexudusClient
) -> None:
    seed(emu, 1, CoworkerId=101)
    seed(emu, 1, CoworkerId=101, Used=True)
    surplus = seed(emu, 3, CoworkerId=102)
    rows = [
        {"CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "Count": 4},
        {"CoworkerId": 102, "BusinessId": 1, "TimePassId": 1, "Count": 1},
    ]
    ctp = client.coworker_time_passes
    report = await ctp.bulk_apply(rows, prune=True, where={"time_pass": 1})
    assert report.ok
    assert emu.stats.by_route[POST] == 1  # the shortfall of 3 in one CreateMultiple
    assert emu.store.count(CTP, CoworkerId=101, Used=False) == 4
    assert [r["Id"] for r in emu.store.all(CTP) if r["CoworkerId"] == 102] == surplus[:1]
    emu.stats.reset()
    again = await ctp.bulk_apply(rows, prune=True, where={"time_pass": 1})
    assert again.ok and set(requests(emu)) == {LIST}


# ---------------------------------------------------------------- undo


async def test_undo_takes_back_an_import_and_keeps_a_used_pass(
    tmp_path: Path, emu: EmulatorServer, client: NexudusClient
) -> None:
    before = seed(emu, 2)  # the customer's own passes, older than the import
    rows = [
        {"CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 3},
        {"CoworkerId": 102, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 2},
    ]
    with Journal(tmp_path / "import.sqlite") as journal:
        imported = await client.coworker_time_passes.bulk_create(rows, journal=journal)
        assert imported.ok
        newest = max(r["Id"] for r in emu.store.all(CTP))
        used = emu.store.get(CTP, newest)
        assert used is not None
        emu.store.insert(CTP, {**used, "Used": True})
        planned = await plan_undo(client, journal, rows=rows)
        assert [k.record_id for k in planned.kept] == [newest]
        assert planned.estimate.deletes == 4
        report = await bulk_undo(client, journal, rows=rows)
        assert report.ok
    left = emu.store.all(CTP)
    assert sorted(r["Id"] for r in left) == sorted([*before, newest])


async def test_a_stopped_undo_is_finished_by_its_rerun_without_touching_older_passes(
    tmp_path: Path, emu: EmulatorServer, client: NexudusClient
) -> None:
    before = seed(emu, 3)
    rows = [{"CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 6}]
    with Journal(tmp_path / "import.sqlite") as journal:
        assert (await client.coworker_time_passes.bulk_create(rows, journal=journal)).ok
        stop, progress = stop_after(2)
        first = await bulk_undo(
            client, journal, rows=rows, stop=stop, progress=progress, concurrency=1
        )
        assert first.interrupted
        assert 2 <= emu.stats.by_route[DELETE] < 6
        rerun = await bulk_undo(client, journal, rows=rows)
        assert rerun.ok
        assert emu.stats.by_route[DELETE] == 6
        emu.stats.reset()
        third = await bulk_undo(client, journal, rows=rows)  # done: reads, deletes nothing
        assert third.ok and third.job_id == rerun.job_id
        assert requests(emu) == {LIST: 1}
    assert sorted(r["Id"] for r in emu.store.all(CTP)) == before


async def test_undo_plans_from_the_journal_alone_and_an_older_journal_needs_the_rows(
    tmp_path: Path, emu: EmulatorServer, client: NexudusClient
) -> None:
    rows = [{"CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 2}]
    path = tmp_path / "import.sqlite"
    with Journal(path) as journal:
        assert (await client.coworker_time_passes.bulk_create(rows, journal=journal)).ok
        planned = await plan_undo(client, journal)
        assert [op.action for op in planned.plan.ops] == ["delete", "delete"]
    db = sqlite3.connect(path)  # as a schema 3 journal holds it: no fields kept
    try:
        with db:
            db.execute("UPDATE groups SET fields = NULL")
    finally:
        db.close()
    with Journal(path) as journal:
        with pytest.raises(ValueError, match="pass the import's rows"):
            await plan_undo(client, journal)
        planned = await plan_undo(client, journal, rows=rows)
        assert [op.action for op in planned.plan.ops] == ["delete", "delete"]


async def test_the_dry_run_estimate_is_what_the_job_sends(
    emu: EmulatorServer, client: NexudusClient
) -> None:
    seed(emu, 5, CoworkerId=101)
    seed(emu, 2, CoworkerId=102, Notes="done")
    rows = [
        {"CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "Count": 7},
        {"CoworkerId": 102, "BusinessId": 1, "TimePassId": 1, "Notes": "done", "Count": 1},
    ]
    ctp = client.coworker_time_passes
    planned = await plan_apply_for(ctp, rows, prune=True, where={"time_pass": 1})
    est = planned.estimate
    assert (est.creates, est.deletes, est.puts) == (1, 1, 0)
    emu.stats.reset()
    report = await ctp.bulk_apply(rows, prune=True, where={"time_pass": 1})
    assert report.ok
    assert sum(requests(emu).values()) == est.total
    assert requests(emu) == {
        LIST: est.planning_reads + est.baseline_reads,
        POST: 1,
        GET_ONE: 1,
        DELETE: 1,
    }


async def test_update_rows_read_with_the_spreadsheet_options(
    emu: EmulatorServer, client: NexudusClient
) -> None:
    (rid,) = seed(emu, 1, Price=10)
    rows = [{"Id": str(rid), "Price": "12,50", "ExpireDate": "30/06/2027"}]
    report = await client.coworker_time_passes.bulk_update(
        rows, decimal=",", date_format="%d/%m/%Y"
    )
    assert report.ok
    record = emu.store.get(CTP, rid)
    assert record is not None
    assert (str(record["Price"]), record["ExpireDate"], record["Notes"]) == (
        "12.50", NEW_DATE, "keep me"
    )  # fmt: skip


async def test_a_stopped_apply_is_finished_by_its_rerun(
    tmp_path: Path, emu: EmulatorServer, client: NexudusClient
) -> None:
    stale = [
        emu.store.insert(PTP, {"ProductId": 5, "TimePassId": t, "PassesIncluded": 1})["Id"]
        for t in (1, 2, 3)
    ]
    extra = emu.store.insert(PTP, {"ProductId": 5, "TimePassId": 9, "PassesIncluded": 1})["Id"]
    rows = [{"ProductId": 5, "TimePassId": t, "PassesIncluded": 2} for t in (1, 2, 3, 4, 5)]
    args: dict[str, Any] = {"key": "ProductId+TimePassId", "prune": True, "where": {"product": 5}}
    ptp = client.product_time_passes
    with Journal(tmp_path / "job.sqlite") as journal:
        stop, progress = stop_after(3)
        first = await ptp.bulk_apply(
            rows, journal=journal, stop=stop, progress=progress, concurrency=1, **args
        )
        assert first.interrupted
        rerun = await ptp.bulk_apply(rows, journal=journal, **args)
        assert rerun.ok
    held = {r["TimePassId"]: r for r in emu.store.all(PTP)}
    assert {t: r["PassesIncluded"] for t, r in held.items()} == {t: 2 for t in (1, 2, 3, 4, 5)}
    assert [held[t]["Id"] for t in (1, 2, 3)] == stale and extra not in {
        r["Id"] for r in held.values()
    }
    route = f"/api/billing/{PTP}"
    assert emu.stats.by_route[f"POST {route}"] == 2  # each missing link created once
    assert emu.stats.by_route[f"PUT {route}"] == 3
    assert emu.stats.by_route[f"DELETE {route}/{{Id}}"] == 1


async def test_a_stopped_apply_by_count_is_finished_by_its_rerun(
    tmp_path: Path, emu: EmulatorServer, client: NexudusClient
) -> None:
    for c in (101, 102, 103):
        seed(emu, 4, CoworkerId=c)
    rows = [
        {"CoworkerId": c, "BusinessId": 1, "TimePassId": 1, "Count": n}
        for c, n in ((101, 1), (102, 2), (103, 6), (104, 2))
    ]
    ctp = client.coworker_time_passes
    with Journal(tmp_path / "job.sqlite") as journal:
        stop, progress = stop_after(3)
        first = await ctp.bulk_apply(
            rows, prune=True, where={"time_pass": 1}, journal=journal, stop=stop,
            progress=progress, concurrency=1,
        )  # fmt: skip
        assert first.interrupted
        rerun = await ctp.bulk_apply(rows, prune=True, where={"time_pass": 1}, journal=journal)
        assert rerun.ok
    held = {c: emu.store.count(CTP, CoworkerId=c) for c in (101, 102, 103, 104)}
    assert held == {101: 1, 102: 2, 103: 6, 104: 2}
    assert emu.stats.by_route[DELETE] == 5  # 3 of 101's and 2 of 102's, once each
    assert emu.stats.by_route[POST] == 2


async def test_a_second_job_over_an_unfinished_one_is_refused(
    tmp_path: Path, emu: EmulatorServer, client: NexudusClient
) -> None:
    seed(emu, 4)
    ctp = client.coworker_time_passes
    with Journal(tmp_path / "job.sqlite") as journal:
        stop, progress = stop_after(1)
        first = await ctp.bulk_update(
            where={"coworker": 101}, set={"Notes": "a"}, journal=journal, stop=stop,
            progress=progress, concurrency=1,
        )  # fmt: skip
        assert first.interrupted
        puts = emu.stats.by_route[PUT]
        with pytest.raises(UnfinishedJobError, match="new_job=True"):
            await ctp.bulk_update(where={"coworker": 101}, set={"Notes": "b"}, journal=journal)
        assert emu.stats.by_route[PUT] == puts
        other = await ctp.bulk_update(
            where={"coworker": 101}, set={"Notes": "b"}, journal=journal, new_job=True
        )
        assert other.ok
    assert {r["Notes"] for r in emu.store.all(CTP)} == {"b"}


async def test_apply_time_passes_by_business_and_name(
    emu: EmulatorServer, client: NexudusClient
) -> None:
    existing = {r["Name"]: r for r in emu.store.all("timepasses")}
    name, record = next(iter(existing.items()))
    rows = [
        {"BusinessId": record["BusinessId"], "Name": name, "Price": "99.5"},
        {"BusinessId": record["BusinessId"], "Name": "Brand new pass", "Price": "5",
         "CurrencyId": record["CurrencyId"]},
    ]  # fmt: skip
    report = await client.time_passes.bulk_apply(rows, key="BusinessId+Name")
    assert report.ok
    after = {r["Name"]: r for r in emu.store.all("timepasses")}
    assert str(after[name]["Price"]) in ("99.5", "99.50")
    assert after[name]["Id"] == record["Id"] and "Brand new pass" in after
    assert len(after) == len(existing) + 1


async def test_an_update_whose_changes_leave_its_scope_is_finished_by_its_rerun(
    tmp_path: Path, emu: EmulatorServer, client: NexudusClient
) -> None:
    """Records a stopped run updated no longer match ``where``: the rerun still plans them
    (from the journal), so its plan is the first run's and the job is the same job."""
    ids = seed(emu, 6)
    where, changes = {"notes": "keep me"}, {"Notes": "done"}
    ctp = client.coworker_time_passes
    with Journal(tmp_path / "job.sqlite") as journal:
        stop, progress = stop_after(2)
        first = await ctp.bulk_update(
            where=where, set=changes, journal=journal, stop=stop, progress=progress, concurrency=1
        )
        assert first.interrupted
        rerun = await ctp.bulk_update(where=where, set=changes, journal=journal)
        assert rerun.ok and rerun.job_id == first.job_id
    assert emu.stats.by_route[PUT] == len(ids)
    assert {r["Notes"] for r in emu.store.all(CTP)} == {"done"}


async def _cancel_after(done: int, job: Any) -> None:
    """Run ``job(progress)``, cancelled from inside once ``done`` units are done."""
    task = asyncio.current_task()
    assert task is not None

    async def progress(p: BulkProgress) -> None:
        if p.records_done >= done:
            task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await job(progress)
    task.uncancel()


@pytest.mark.parametrize("done", [1, 3])
async def test_every_kind_cancelled_mid_run_is_finished_by_its_rerun_writing_nothing_twice(
    tmp_path: Path, emu: EmulatorServer, client: NexudusClient, done: int
) -> None:
    ctp = client.coworker_time_passes
    seed(emu, 5, CoworkerId=201)
    seed(emu, 5, CoworkerId=202)
    counts = [{"CoworkerId": 203, "BusinessId": 1, "TimePassId": 1, "Count": 1}]
    imported = [{"CoworkerId": 204, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 5}]
    with Journal(tmp_path / "update.sqlite") as j:
        update = {"where": {"coworker": 201}, "set": {"Notes": "u"}, "journal": j}
        await _cancel_after(done, lambda p: ctp.bulk_update(**update, progress=p, concurrency=1))
        assert (await ctp.bulk_update(**update)).ok
    with Journal(tmp_path / "delete.sqlite") as j:
        delete = {"where": {"coworker": 202}, "journal": j}
        await _cancel_after(done, lambda p: ctp.bulk_delete(**delete, progress=p, concurrency=1))
        assert (await ctp.bulk_delete(**delete)).ok
    seed(emu, 5, CoworkerId=203)
    with Journal(tmp_path / "apply.sqlite") as j:
        apply = {"prune": True, "where": {"coworker": 203}, "journal": j}
        await _cancel_after(
            done, lambda p: ctp.bulk_apply(counts, **apply, progress=p, concurrency=1)
        )
        assert (await ctp.bulk_apply(counts, **apply)).ok
    with Journal(tmp_path / "import.sqlite") as j:
        assert (await ctp.bulk_create(imported, journal=j)).ok
        undo = {"rows": imported}
        await _cancel_after(done, lambda p: bulk_undo(client, j, **undo, progress=p, concurrency=1))
        assert (await bulk_undo(client, j, **undo)).ok
    assert emu.stats.by_route[PUT] == 5
    assert emu.stats.by_route[DELETE] == 5 + 4 + 5
    assert {r["Notes"] for r in emu.store.all(CTP) if r["CoworkerId"] == 201} == {"u"}
    assert {c: emu.store.count(CTP, CoworkerId=c) for c in (201, 202, 203, 204)} == {
        201: 5, 202: 0, 203: 1, 204: 0
    }  # fmt: skip


async def test_undo_leaves_passes_created_before_and_after_the_import(
    tmp_path: Path, emu: EmulatorServer, client: NexudusClient
) -> None:
    before = seed(emu, 2)
    rows = [{"CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 3}]
    with Journal(tmp_path / "import.sqlite") as journal:
        assert (await client.coworker_time_passes.bulk_create(rows, journal=journal)).ok
        after = seed(emu, 2)  # a later import of the same customer and time pass
        report = await bulk_undo(client, journal, rows=rows)
        assert report.ok
    assert sorted(r["Id"] for r in emu.store.all(CTP)) == sorted(before + after)


async def test_apply_coworker_passes_by_system_id(
    emu: EmulatorServer, client: NexudusClient
) -> None:
    (known,) = seed(emu, 1, SystemId="m-1", Price=5)
    rows = [
        {"SystemId": "m-1", "CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "Price": "7"},
        {"SystemId": "m-2", "CoworkerId": 102, "BusinessId": 1, "TimePassId": 1, "Price": "7"},
    ]
    ctp = client.coworker_time_passes
    report = await ctp.bulk_apply(rows, key="SystemId")
    assert report.ok
    held = {r["SystemId"]: r for r in emu.store.all(CTP)}
    assert held["m-1"]["Id"] == known and str(held["m-1"]["Price"]) in ("7", "7.00")
    assert held["m-2"]["CoworkerId"] == 102
    emu.stats.reset()
    assert (await ctp.bulk_apply(rows, key="SystemId")).ok
    assert set(requests(emu)) == {LIST}
    with pytest.raises(BulkInputError, match="stands for one record"):
        await ctp.bulk_apply([{**rows[0], "SystemId": "m-3", "CreateMultiple": 2}], key="SystemId")
