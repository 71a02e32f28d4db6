"""The filters the vendor's pages document, on the wire (issue 10, "Filters as documented")."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from nexudus_async import BasicAuth, NexudusClient

from .conftest import BASE, FakeClock, Wire

EMPTY = {"Records": [], "CurrentPageSize": 25, "CurrentPage": 1, "TotalItems": 0, "TotalPages": 0}
GUID = uuid.UUID("db54a929-6dd1-4907-a9db-2538d7e522b0")


@pytest.fixture
async def client(mocked: Any, clock: FakeClock) -> AsyncIterator[NexudusClient]:
    async with NexudusClient(
        BASE, BasicAuth("a@example.com", "pw"), rate_limits=None, clock=clock, sleep=clock.sleep
    ) as c:
        yield c


async def test_product_time_pass_chained_names(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", "/api/billing/producttimepasses", payload=EMPTY)
    await client.product_time_passes.list(
        product_name="Hot desk", time_pass_name="Day pass", system_id="crm-1", unique_id=GUID
    )
    assert wire.log[0].params == (
        ("page", "1"),
        ("size", "25"),
        ("UniqueId", str(GUID)),
        ("ProductTimePass_SystemId", "crm-1"),
        ("ProductTimePass_Product_Name", "Hot desk"),
        ("ProductTimePass_TimePass_Name", "Day pass"),
    )


async def test_tariff_time_pass_chained_names(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", "/api/billing/tarifftimepasses", payload=EMPTY)
    await client.tariff_time_passes.list(
        tariff_name="Flexible", time_pass_name="Day", system_id="x", unique_id=str(GUID)
    )
    assert wire.log[0].params == (
        ("page", "1"),
        ("size", "25"),
        ("UniqueId", str(GUID)),
        ("TariffTimePass_SystemId", "x"),
        ("TariffTimePass_Tariff_Name", "Flexible"),
        ("TariffTimePass_TimePass_Name", "Day"),
    )


async def test_unique_id_and_system_id_on_coworker_and_time_passes(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("GET", "/api/billing/coworkertimepasses", payload=EMPTY)
    wire.add("GET", "/api/billing/timepasses", payload=EMPTY)
    await client.coworker_time_passes.list(unique_id=GUID, system_id="s1")
    await client.time_passes.list(unique_id=GUID, system_id="s2")
    assert wire.log[0].params[2:] == (
        ("UniqueId", str(GUID)),
        ("CoworkerTimePass_SystemId", "s1"),
    )
    assert wire.log[1].params[2:] == (("UniqueId", str(GUID)), ("TimePass_SystemId", "s2"))


async def test_time_pass_businesses_filter(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", "/api/billing/timepasses", payload=EMPTY)
    await client.time_passes.list(businesses=7, business=3)
    assert wire.log[0].params[2:] == (("TimePass_Business", "3"), ("TimePass_Businesses", "7"))
    # Its own name, not a second spelling of `business` (TimePass_Business, BusinessId).
    found = client.time_passes.entity.filter("businesses")
    assert found is not None and found.contains == "BusinessId"


async def test_ranges_as_documented_per_entity(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", "/api/billing/producttimepasses", payload=EMPTY)
    await client.product_time_passes.list(expires_in=(1, 3), passes_included=(None, 10))
    assert wire.log[0].params[2:] == (
        ("To_ProductTimePass_PassesIncluded", "10"),
        ("From_ProductTimePass_ExpiresIn", "1"),
        ("To_ProductTimePass_ExpiresIn", "3"),
    )
    # The older pages document no ExpireTimeInMonths/Weeks filter for ProductTimePass.
    names = {f.name for f in client.product_time_passes.entity.filters}
    assert {"expire_time_in_months", "expire_time_in_weeks"}.isdisjoint(names)
    ranges = {f.name for f in client.product_time_passes.entity.filters if f.range}
    assert ranges == {"created_on", "updated_on", "passes_included", "expires_in"}
    ranges = {f.name for f in client.tariff_time_passes.entity.filters if f.range}
    assert ranges == {"created_on", "updated_on", "passes_included"}
    ranges = {f.name for f in client.time_passes.entity.filters if f.range}
    assert ranges == {"created_on", "updated_on", "price", "minutes_included"}


async def test_the_flattened_names_are_gone(client: NexudusClient, wire: Wire) -> None:
    with pytest.raises(TypeError, match="product_name"):
        await client.product_time_passes.list(product_time_pass_product_name="x")  # type: ignore[call-arg]
    assert wire.log == []
