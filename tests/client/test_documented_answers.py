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
    ProductTimePassListItem,
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
