"""Every documented (or observed) answer of the API is tolerated (issue 10, client side).

Over aioresponses, so each answer is exactly the one the reference pages
(shared/api-docs) or NOTES.md describe, whether or not the emulator says it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from nexudus_async import (
    BasicAuth,
    CoworkerTimePassListItem,
    MalformedResponseError,
    NexudusClient,
    NotFoundError,
    OutcomeUnknownError,
    ProductTimePassListItem,
    RetryPolicy,
    ServerError,
    TariffTimePassListItem,
    TimePassListItem,
)

from .conftest import BASE, FakeClock, Wire

BILLING = "/api/billing"
CTP = f"{BILLING}/coworkertimepasses"
PTP = f"{BILLING}/producttimepasses"
TTP = f"{BILLING}/tarifftimepasses"

# (namespace, collection path, ids parameter, list item class)
ENTITIES = [
    ("coworker_time_passes", CTP, "CoworkerTimePass_Id", CoworkerTimePassListItem),
    ("product_time_passes", PTP, "ProductTimePass_Id", ProductTimePassListItem),
    (
        "tariff_time_passes",
        f"{BILLING}/tarifftimepasses",
        "TariffTimePass_Id",
        TariffTimePassListItem,
    ),
    ("time_passes", f"{BILLING}/timepasses", "TimePass_Id", TimePassListItem),
]


@pytest.fixture
async def client(mocked: Any, clock: FakeClock) -> AsyncIterator[NexudusClient]:
    async with NexudusClient(
        BASE,
        BasicAuth("admin@example.com", "s3cret!"),
        rate_limits=None,
        clock=clock,
        sleep=clock.sleep,
    ) as c:
        yield c


def envelope(records: list[dict[str, Any]], *, total_pages: int = 1) -> dict[str, Any]:
    return {
        "Records": records,
        "CurrentPageSize": len(records),
        "CurrentPage": 1,
        "TotalItems": len(records),
        "TotalPages": total_pages,
        "HasNextPage": total_pages > 1,
    }


# --------------------------------------------------------------------------- get by ids


@pytest.mark.parametrize(("namespace", "path", "param", "item"), ENTITIES)
async def test_get_many_accepts_a_bare_array_as_one_page(
    client: NexudusClient, wire: Wire, namespace: str, path: str, param: str, item: type
) -> None:
    # Newer reference pages: `?id=[1,2]` answers the records as a bare JSON array.
    wire.add("GET", path, payload=[{"Id": 3, "UpdatedBy": "x"}, {"Id": 1}])
    got = await getattr(client, namespace).get_many([1, 2, 3])
    assert [type(i) for i in got] == [item, item]
    assert [i.id for i in got] == [1, 3]  # in the order asked; 2 does not exist
    assert got[1].updated_by == "x"
    # One request: a bare array says nothing of further pages.
    assert wire.lines() == [f"GET {path}?page=1&size=3&{param}=[1,2,3]"]


@pytest.mark.parametrize(("namespace", "path", "param", "item"), ENTITIES)
async def test_get_many_still_accepts_the_envelope(
    client: NexudusClient, wire: Wire, namespace: str, path: str, param: str, item: type
) -> None:
    # 003: `?CoworkerTimePass_Id=[1,2]` answers the list envelope.
    wire.add("GET", path, payload=envelope([{"Id": 2}, {"Id": 1}]))
    got = await getattr(client, namespace).get_many([1, 2])
    assert [(type(i), i.id) for i in got] == [(item, 1), (item, 2)]
    assert wire.lines() == [f"GET {path}?page=1&size=2&{param}=[1,2]"]


async def test_a_bare_array_list_answer_is_the_last_page(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", CTP, payload=[{"Id": 5}, {"Id": 6}])
    page = await client.coworker_time_passes.list(page=2, size=2)
    assert [i.id for i in page] == [5, 6]
    assert (page.page_number, page.total_pages, page.total_items, page.has_next) == (2, 2, 4, False)
    assert page.raw == list(page.items)
    wire.add("GET", CTP, payload=[{"Id": 1}])
    assert [i.id async for i in client.coworker_time_passes.iter(size=1)] == [1]
    assert len(wire.log) == 2


async def test_a_bare_array_of_non_records_is_malformed(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", CTP, payload=[1, 2])
    with pytest.raises(MalformedResponseError, match="documented shape") as info:
        await client.coworker_time_passes.get_many([1, 2])
    assert (info.value.method, info.value.path, info.value.status) == ("GET", CTP, 200)


# --------------------------------------------------------------------------- 404 and 500 bodies

NOT_FOUND = b'"Not found"'  # the older pages' 404 body: a JSON string
SERVER_ERROR = {"Message": "An error has occurred."}  # the older pages' 500 body


def full_record(**changes: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "Id": 9,
        "CoworkerId": 42,
        "BusinessId": 1,
        "TimePassId": 7,
        "CreateMultiple": 1,
        "Notes": "n",
        "PurchaseOrder": None,
        "Used": False,
        "Free": False,
        "Price": None,
        "ExpireDate": None,
        "TariffTimePassUniqueId": None,
        "CoworkerProductUniqueId": None,
        "CoworkerContractUniqueId": None,
        "SystemId": None,
    }
    rec.update(changes)
    return rec


async def _call(client: NexudusClient, operation: str) -> Any:
    ns = client.coworker_time_passes
    if operation == "get":
        return await ns.get(9)
    if operation == "update":
        return await ns.update(9, notes="x")
    if operation == "delete":
        return await ns.delete(9)
    return await ns.list()


# (operation, method and path of the request that fails, answers before it)
FAILING = [
    ("get", "GET", f"{CTP}/9", []),
    ("update", "PUT", CTP, [("GET", f"{CTP}/9", full_record())]),
    ("delete", "DELETE", f"{CTP}/9", []),
    ("list", "GET", CTP, []),
]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
@pytest.mark.parametrize(("operation", "method", "path", "before"), FAILING)
async def test_a_404_with_the_json_string_not_found_is_not_found_error(
    client: NexudusClient,
    wire: Wire,
    operation: str,
    method: str,
    path: str,
    before: list[tuple[str, str, Any]],
    content_type: str,
) -> None:
    for m, p, payload in before:
        wire.add(m, p, payload=payload)
    wire.add(method, path, status=404, body=NOT_FOUND, content_type=content_type)
    with pytest.raises(NotFoundError) as info:
        await _call(client, operation)
    error = info.value
    assert type(error) is NotFoundError
    assert (error.status, error.method, error.path) == (404, method, path)
    assert error.api_message == "Not found"
    assert str(error) == f"not found: Not found [{method} {path} -> 404]"
    assert error.body == NOT_FOUND
    assert wire.lines()[-1].split("?")[0] == f"{method} {path}"
    assert len(wire.log) == len(before) + 1  # a 404 is not retried


@pytest.mark.parametrize(("operation", "method", "path", "before"), FAILING)
async def test_a_500_with_the_documented_message_is_server_error_carrying_it(
    client: NexudusClient,
    wire: Wire,
    clock: FakeClock,
    operation: str,
    method: str,
    path: str,
    before: list[tuple[str, str, Any]],
) -> None:
    for m, p, payload in before:
        wire.add(m, p, payload=payload)
    wire.add(method, path, status=500, payload=SERVER_ERROR, repeat=True)
    with pytest.raises(ServerError) as info:
        await _call(client, operation)
    error = info.value
    assert type(error) is ServerError
    assert (error.status, error.method, error.path) == (500, method, path)
    assert error.api_message == "An error has occurred."
    assert str(error) == f"server error: An error has occurred. [{method} {path} -> 500]"
    assert error.errors == ()
    # GET, PUT and DELETE are idempotent: resent after the default policy's backoffs.
    assert len(wire.log) == len(before) + 1 + RetryPolicy().max_retries
    assert len(clock.sleeps) == RetryPolicy().max_retries


async def test_a_create_answered_the_documented_500_is_outcome_unknown_with_its_message(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("POST", CTP, status=500, payload=SERVER_ERROR)
    with pytest.raises(OutcomeUnknownError) as info:
        await client.coworker_time_passes.create(coworker_id=42, business_id=1, time_pass_id=7)
    assert info.value.api_message == "An error has occurred."
    assert isinstance(info.value.cause, ServerError)
    assert wire.lines() == [f"POST {CTP}"]
