"""The resource's calls for code that holds its arguments as data, and the one call path."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any

import pytest

from nexudus_async import (
    BasicAuth,
    InputError,
    MalformedResponseError,
    NexudusClient,
    OutcomeUnknownError,
    WriteResult,
)

from .conftest import BASE, FakeClock, Wire

CTP = "/api/billing/coworkertimepasses"
OK_CREATED = {"Status": 200, "WasSuccessful": True, "Message": "created", "Value": {"Id": 501}}


@pytest.fixture
async def client(mocked: Any, clock: FakeClock) -> AsyncIterator[NexudusClient]:
    async with NexudusClient(
        BASE, BasicAuth("admin@example.com", "s3cret!"), rate_limits=None, sleep=clock.sleep
    ) as c:
        yield c


async def test_create_from_sends_what_create_sends(client: NexudusClient, wire: Wire) -> None:
    wire.add("POST", CTP, payload=OK_CREATED)
    wire.add("POST", CTP, payload=OK_CREATED)
    ctp = client.coworker_time_passes
    fields = {"coworker_id": 42, "business_id": 1, "time_pass_id": 7, "price": 12.5}
    assert await ctp.create_from(fields) == WriteResult(id=501, message="created")
    await ctp.create(coworker_id=42, business_id=1, time_pass_id=7, price=12.5)
    first, second = wire.log
    assert (
        first.body
        == second.body
        == (b'{"CoworkerId":42,"BusinessId":1,"TimePassId":7,"CreateMultiple":1,"Price":12.5}')
    )
    with pytest.raises(TypeError, match=r"create\(\) got an unexpected argument coworker;"):
        await ctp.create_from({"coworker": 42})
    with pytest.raises(InputError, match="coworker_id"):
        await ctp.create_from({"coworker_id": "x", "business_id": 1, "time_pass_id": 7})
    assert len(wire.log) == 2


async def test_count_is_one_request_for_a_one_record_page(
    client: NexudusClient, wire: Wire
) -> None:
    answer = {"Records": [{"Id": 9}], "CurrentPageSize": 1, "CurrentPage": 1}
    wire.add("GET", CTP, payload={**answer, "TotalItems": 37, "TotalPages": 37})
    since = datetime.datetime(2027, 1, 2, 3, 4)
    count = await client.coworker_time_passes.count({"coworker": 42, "created_on": (since, None)})
    assert count == 37
    assert wire.lines() == [
        f"GET {CTP}?page=1&size=1&CoworkerTimePass_Coworker=42"
        "&From_CoworkerTimePass_CreatedOn=2027-01-02T03:04"
    ]


async def test_list_page_takes_the_filters_as_a_mapping(client: NexudusClient, wire: Wire) -> None:
    answer = {"Records": [], "CurrentPageSize": 0, "CurrentPage": 2}
    wire.add("GET", CTP, payload={**answer, "TotalItems": 0, "TotalPages": 0})
    page = await client.coworker_time_passes.list_page(
        {"time_pass": 7}, page=2, size=10, order_by="Id", direction="ascending"
    )
    assert list(page) == []
    assert wire.lines() == [
        f"GET {CTP}?page=2&size=10&orderby=Id&dir=ascending&CoworkerTimePass_TimePass=7"
    ]


async def test_numeric_dir_is_set_where_the_request_is_built(
    mocked: Any, wire: Wire, clock: FakeClock
) -> None:
    answer = {"Records": [], "CurrentPageSize": 0, "CurrentPage": 1}
    wire.add("GET", CTP, payload={**answer, "TotalItems": 0, "TotalPages": 0})
    async with NexudusClient(
        BASE, None, rate_limits=None, sort_direction_format="numeric", sleep=clock.sleep
    ) as client:
        assert client.sort_direction_format == "numeric"
        assert client.transport is client._pipeline  # no wrapper between
        await client.coworker_time_passes.list(direction="descending", used=True)
    assert wire.lines() == [f"GET {CTP}?page=1&size=25&dir=2&CoworkerTimePass_Used=true"]


async def test_a_bad_answer_names_the_request_it_answered(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("GET", f"{CTP}/5", payload={"CoworkerId": 1})
    with pytest.raises(MalformedResponseError) as read:
        await client.coworker_time_passes.get(5)
    assert (read.value.method, read.value.path, read.value.status) == ("GET", f"{CTP}/5", 200)
    assert "required field 'Id' is missing" in str(read.value)
    wire.add("POST", CTP, payload=[1])
    with pytest.raises(OutcomeUnknownError) as unknown:
        await client.coworker_time_passes.create(coworker_id=1, business_id=1, time_pass_id=1)
    assert (unknown.value.method, unknown.value.path) == ("POST", CTP)


async def test_bad_input_is_raised_before_anything_is_sent(
    client: NexudusClient, wire: Wire
) -> None:
    with pytest.raises(InputError):
        await client.coworker_time_passes.get("seven")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unknown filter"):
        await client.coworker_time_passes.count({"colour": "red"})
    assert wire.log == []


def test_the_namespace_reaches_its_client_publicly(client: NexudusClient) -> None:
    ctp = client.coworker_time_passes
    assert ctp.client is client
    assert ctp.client.allow_unknown_enum_values is False
    assert ctp.client.limiter is client.limiter
