"""`bulk_create`'s own work before and after the engine (`bulk/executor.py`).

The rows a user hands over (mappings, models, numbered rows), the error that
refuses invalid ones word for word, and what ``on_invalid="skip"``, the request
cap, duplicates and the engine's options change in what the emulator receives
and the report says.
"""

from __future__ import annotations

import asyncio
from typing import Any

import attrs
import pytest

from nexudus_async._core.auth import BasicAuth
from nexudus_async._generated.api import PRODUCT_TIME_PASS
from nexudus_async.bulk import BulkInputError
from nexudus_async.bulk.executor import bulk_create, rows_from_mappings
from nexudus_async.bulk.gateway import ResourceGateway
from nexudus_async.bulk.rows import RowError, SourceRow
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    EmulatorServer,
    ThrottleLimits,
    run_emulator,
)

from .helpers import CTP, store_counts

CREATE = "POST /api/billing/coworkertimepasses"
GOOD = {"CoworkerId": 11, "BusinessId": 1, "TimePassId": 1}


def client_for(emu: EmulatorServer) -> NexudusClient:
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    return NexudusClient(emu.base_url, auth, rate_limits=None)


def errors(*lines: int) -> list[RowError]:
    return [RowError(line, "CreateMultiple", -line, "must be at least 1") for line in lines]


def test_invalid_rows_are_refused_naming_the_first_five_problems_and_how_many_more() -> None:
    error = BulkInputError(errors(1, 2, 2, 3, 4, 5, 6))
    shown = (
        "line 1: CreateMultiple=-1: must be at least 1; line 2: CreateMultiple=-2: must be at "
        "least 1; line 2: CreateMultiple=-2: must be at least 1; line 3: CreateMultiple=-3: "
        "must be at least 1; line 4: CreateMultiple=-4: must be at least 1"
    )
    assert str(error) == f"6 invalid row(s), nothing was sent: {shown} (and 2 more)"
    assert error.message == str(error)
    assert (error.field, error.value) == ("rows", "6 invalid row(s)")
    assert error.args == (f"invalid rows='6 invalid row(s)': {shown} (and 2 more)",)
    assert [e.line for e in error.row_errors] == [1, 2, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(("count", "more"), [(5, ""), (6, " (and 1 more)")])
def test_more_is_said_only_past_five_problems(count: int, more: str) -> None:
    error = BulkInputError(errors(*range(1, count + 1)))
    assert str(error).startswith(f"{count} invalid row(s), nothing was sent: line 1: ")
    assert str(error).endswith(f"line 5: CreateMultiple=-5: must be at least 1{more}")


@attrs.define
class AttrsRow:
    CoworkerId: int
    TimePassId: int


class ModelRow:
    def to_dict(self) -> dict[str, Any]:
        return {"CoworkerId": 7}


def test_rows_are_numbered_from_one_whatever_shape_they_come_in() -> None:
    given = SourceRow(40, {"CoworkerId": 1})
    out = rows_from_mappings([{"CoworkerId": 5}, ModelRow(), AttrsRow(8, 2), given])
    assert out[:3] == [
        SourceRow(1, {"CoworkerId": 5}),
        SourceRow(2, {"CoworkerId": 7}),
        SourceRow(3, {"CoworkerId": 8, "TimePassId": 2}),
    ]
    assert out[3] is given


def test_a_row_of_another_type_is_refused_by_its_number() -> None:
    with pytest.raises(TypeError) as info:
        rows_from_mappings([{"CoworkerId": 5}, {"CoworkerId": 6}, 42])
    assert str(info.value) == "row 3: expected a mapping, got int"


async def test_skipped_invalid_rows_are_failed_in_line_order_and_the_valid_ones_sent() -> None:
    rows = [GOOD, {**GOOD, "CreateMultiple": -1}, {**GOOD, "CoworkerId": 12}]
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        async with client_for(emu) as client:
            report = await client.coworker_time_passes.bulk_create(rows, on_invalid="skip")
        assert sorted(store_counts(emu.store.all(CTP)).items()) == [((11, 1), 1), ((12, 1), 1)]
    assert [(e.line, e.field) for e in report.invalid] == [(2, "CreateMultiple")]
    assert [(r.line, r.status) for r in report.rows] == [
        (1, "created"),
        (2, "failed"),
        (3, "created"),
    ]
    assert report.rows[1].reason == str(report.invalid[0])
    assert report.rows[1].reason.startswith("line 2: CreateMultiple=-1: ")


async def test_the_engines_options_and_the_request_cap_reach_the_job() -> None:
    stop = asyncio.Event()
    stop.set()
    rows = [{**GOOD, "CreateMultiple": 3}]
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        async with client_for(emu) as client:
            stopped = await client.coworker_time_passes.bulk_create(rows, stop=stop)
            assert stopped.interrupted and emu.stats.by_route[CREATE] == 0
            report = await client.coworker_time_passes.bulk_create(rows, max_per_request=1)
        assert emu.stats.by_route[CREATE] == 3
        assert store_counts(emu.store.all(CTP)) == {(11, 1): 3}
    assert (report.create_requests, report.records_created) == (3, 3)


async def test_identical_link_rows_are_sent_once_unless_asked_and_unknown_enums_refused() -> None:
    link = {"ProductId": 1, "TimePassId": 2, "PassesIncluded": 10}
    route = "POST /api/billing/producttimepasses"
    config = EmulatorConfig(limits=ThrottleLimits.off())
    async with run_emulator(config) as emu, client_for(emu) as client:
        once = await client.product_time_passes.bulk_create([link, link])
        assert emu.stats.by_route[route] == 1
        both = await client.product_time_passes.bulk_create([link, link], send_duplicates=True)
        assert emu.stats.by_route[route] == 3
        gateway = ResourceGateway(client.product_time_passes)
        with pytest.raises(BulkInputError) as info:
            await bulk_create(gateway, [{**link, "ExpirationType": "0"}], entity=PRODUCT_TIME_PASS)
        assert emu.stats.by_route[route] == 3
    assert [r.status for r in once.rows] == ["created", "duplicate"]
    assert [r.status for r in both.rows] == ["created", "created"]
    assert [(e.line, e.field) for e in info.value.row_errors] == [(1, "ExpirationType")]
