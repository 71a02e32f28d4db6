"""Planning update, delete and apply against the emulator: the reads it makes, what it finds.

Planning reads only: the scope in pages of 1,000, records by id 100 a request;
nothing is written, whatever the input.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from nexudus_async._core.auth import BasicAuth
from nexudus_async.bulk.jobs import plan_apply_for, plan_delete_for, plan_update_for
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

LIST_CTP = "GET /api/billing/coworkertimepasses"
PTP = "producttimepasses"
LIST_PTP = "GET /api/billing/producttimepasses"


@pytest.fixture
async def emu() -> AsyncIterator[EmulatorServer]:
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as server:
        yield server


@pytest.fixture
async def client(emu: EmulatorServer) -> AsyncIterator[NexudusClient]:
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    async with NexudusClient(emu.base_url, auth, rate_limits=None) as c:
        yield c


def seed(emu: EmulatorServer, n: int, **fields: Any) -> list[int]:
    base = {"CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "Used": False}
    return [emu.store.insert(CTP, {**base, **fields})["Id"] for _ in range(n)]


def writes(emu: EmulatorServer) -> int:
    return sum(n for route, n in emu.stats.by_route.items() if not route.startswith("GET"))


async def test_a_query_is_read_in_pages_of_1000(emu: EmulatorServer, client: NexudusClient) -> None:
    seed(emu, 2100, ExpireDate="2027-01-31T00:00:00Z")
    same = seed(emu, 400, ExpireDate="2027-06-30T00:00:00Z")
    seed(emu, 50, TimePassId=2)
    planned = await plan_update_for(
        client.coworker_time_passes,
        where={"time_pass": 1, "used": False},
        set={"ExpireDate": "2027-06-30"},
    )
    assert planned.errors == ()
    assert emu.stats.by_route[LIST_CTP] == 3  # 2,500 records
    assert len(planned.plan.ops) == 2100 and planned.unchanged == tuple(same)
    est = planned.estimate
    assert (est.planning_reads, est.full_reads, est.puts) == (3, 2100, 2100)
    assert est.total == 3 + 2 * 2100
    assert writes(emu) == 0


async def test_rows_are_read_by_id_100_a_request(
    emu: EmulatorServer, client: NexudusClient
) -> None:
    ids = seed(emu, 250)
    rows = [{"Id": i, "Notes": "checked"} for i in ids] + [{"Id": 99_999, "Notes": "x"}]
    planned = await plan_update_for(client.coworker_time_passes, rows)
    assert emu.stats.by_route[LIST_CTP] == 3  # 251 ids
    assert [str(e) for e in planned.errors] == [
        "line 251: Id=99999: no CoworkerTimePass has this Id"
    ]
    assert writes(emu) == 0


async def test_bad_update_input_reads_nothing(emu: EmulatorServer, client: NexudusClient) -> None:
    (rid,) = seed(emu, 1)
    planned = await plan_update_for(
        client.coworker_time_passes, [{"Id": rid, "CheckedIn": True, "Price": "ten"}]
    )
    assert [str(e) for e in planned.errors] == [
        "line 1: CheckedIn=True: cannot be set: it is read-only",
        "line 1: Price='ten': must be a number (digits and a decimal point, like 12.30)",
    ]
    assert emu.stats.requests == 0
    set_ro = await plan_update_for(
        client.coworker_time_passes, where={"used": False}, set={"UsedDate": "2027-01-01"}
    )
    assert [e.field for e in set_ro.errors] == ["UsedDate"]
    assert emu.stats.requests == 0


async def test_delete_plans_existing_ids_only(emu: EmulatorServer, client: NexudusClient) -> None:
    ids = seed(emu, 3)
    planned = await plan_delete_for(client.coworker_time_passes, [{"Id": i} for i in [*ids, 404]])
    assert [o.record_id for o in planned.plan.ops] == ids
    assert planned.gone == (404,)
    assert emu.stats.by_route[LIST_CTP] == 1
    scope = await plan_delete_for(client.coworker_time_passes, where={"coworker": 101})
    assert [o.record_id for o in scope.plan.ops] == ids


async def test_apply_reads_the_scope_once_and_narrows_it(
    emu: EmulatorServer, client: NexudusClient
) -> None:
    base = {"TimePassId": 1, "PassesIncluded": 1}
    kept = emu.store.insert(PTP, {"ProductId": 5, **base})["Id"]
    extra = emu.store.insert(PTP, {"ProductId": 5, "TimePassId": 2, "PassesIncluded": 1})["Id"]
    emu.store.insert(PTP, {"ProductId": 6, **base})
    rows = [{"ProductId": 5, **base}, {"ProductId": 5, "TimePassId": 3, "PassesIncluded": 2}]
    planned = await plan_apply_for(
        client.product_time_passes, rows, key="ProductId+TimePassId", prune=True,
        where={"product": 5},
    )  # fmt: skip
    assert planned.errors == ()
    assert emu.stats.by_route[LIST_PTP] == 1  # where and the rows' narrowing are one query
    assert planned.unchanged == (kept,)
    assert [(o.action, o.record_id) for o in planned.plan.ops] == [("delete", extra)]
    assert [g.fields["TimePassId"] for g in planned.plan.groups] == [3]
    with pytest.raises(TypeError, match="needs where="):
        await plan_apply_for(
            client.product_time_passes, rows, key="ProductId+TimePassId", prune=True
        )
