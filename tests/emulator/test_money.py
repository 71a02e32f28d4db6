"""The emulator stores money as Decimal, filters it exactly and writes exactly its digits."""

from __future__ import annotations

from decimal import Decimal

from nexudus_async import BasicAuth, NexudusClient
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, EmulatorServer

from .conftest import CTP, Api

TIME_PASSES = "/api/billing/timepasses"


def _client(emu: EmulatorServer) -> NexudusClient:
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    return NexudusClient(emu.base_url, auth, rate_limits=None)


async def test_a_created_price_is_stored_and_answered_with_its_digits(
    api: Api, emu: EmulatorServer
) -> None:
    body = (
        b'{"CoworkerId":42,"BusinessId":7,"TimePassId":1,"CreateMultiple":1,'
        b'"Price":0.30000000000000001}'
    )
    reply = await api.request("POST", CTP, data=body, headers={"Content-Type": "application/json"})
    assert reply.status == 200, reply.body
    (stored,) = emu.store.all("coworkertimepasses")
    assert stored["Price"] == Decimal("0.30000000000000001")
    assert type(stored["Price"]) is Decimal
    got = await api.get(f"{CTP}/{stored['Id']}")
    assert b'"Price":0.30000000000000001,' in got.body
    listed = await api.get(CTP)
    assert b'"Price":0.30000000000000001,' in listed.body


async def test_seeded_floats_are_stored_as_decimals(emu: EmulatorServer) -> None:
    row = emu.store.insert("coworkertimepasses", {"CoworkerId": 1, "Price": 0.3})
    assert row["Price"] == Decimal("0.3") and type(row["Price"]) is Decimal


async def test_filters_match_a_stored_price_exactly(emu: EmulatorServer) -> None:
    async with _client(emu) as client:
        await client.coworker_time_passes.create(
            coworker_id=1, business_id=7, time_pass_id=1, price=0.3
        )
        await client.coworker_time_passes.create(
            coworker_id=2, business_id=7, time_pass_id=1, price=Decimal("12.30")
        )
        await client.coworker_time_passes.create(
            coworker_id=3, business_id=7, time_pass_id=1, price=0.1 + 0.2
        )
        hits = await client.coworker_time_passes.list(price=Decimal("0.3"))
        assert [r.coworker for r in hits.items] == [1]
        hits = await client.coworker_time_passes.list(price=0.3)
        assert [r.coworker for r in hits.items] == [1]
        hits = await client.coworker_time_passes.list(price=Decimal("12.3"))  # equal value
        assert [r.coworker for r in hits.items] == [2]
        hits = await client.coworker_time_passes.list(price=(Decimal("0.3"), Decimal("0.3")))
        assert [r.coworker for r in hits.items] == [1]
        hits = await client.coworker_time_passes.list(price=(Decimal("0.30000000000000001"), None))
        assert sorted(r.coworker for r in hits.items) == [2, 3]
        full = await client.coworker_time_passes.get(hits.items[0].id)
        assert type(full.price) is Decimal


async def test_a_price_filter_that_is_no_number_is_refused(api: Api) -> None:
    reply = await api.get(CTP, "CoworkerTimePass_Price=12,30")
    assert reply.status == 400


async def test_time_pass_definitions_keep_their_price(emu: EmulatorServer) -> None:
    async with _client(emu) as client:
        created = await client.time_passes.create(
            business_id=1, name="Evening", price=Decimal("7.10"), currency_id=1
        )
        assert created.id is not None
        record = await client.time_passes.get(created.id)
        assert record.price == Decimal("7.10")
        page = await client.time_passes.list(price=Decimal("7.1"))
        assert [tp.id for tp in page.items] == [created.id]
    assert emu.store.get("timepasses", created.id)["Price"] == Decimal("7.10")  # type: ignore[index]
