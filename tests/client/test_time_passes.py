"""The fourth entity, TimePass definitions, generated from the spec alone: the client
namespace against the emulator, and the emulator serving them as real records that the
time passes' flattened names come from."""

from __future__ import annotations

import datetime

import pytest

from nexudus_async import NexudusClient, NotFoundError
from nexudus_async._generated.api.time_passes import TimePasses
from nexudus_async._generated.models import TimePass, TimePassListItem
from nexudus_async.testing.server import EmulatorServer


@pytest.fixture
def client(emulator_client: NexudusClient) -> NexudusClient:
    return emulator_client


async def test_the_namespace_is_generated_and_lists_the_seeded_definitions(
    client: NexudusClient,
) -> None:
    assert isinstance(client.time_passes, TimePasses)
    page = await client.time_passes.list(size=10)
    assert page.total_items == 5
    assert all(isinstance(item, TimePassListItem) for item in page.items)
    names = [
        (item.id, item.name, item.currency, item.time_pass_currency_code) for item in page.items
    ]
    assert names[:2] == [(1, "Day pass", 1, "EUR"), (2, "Half day pass", 1, "EUR")]
    assert names[3] == (4, "Meeting room hour", 2, "GBP")


async def test_create_get_update_delete_and_filters(
    client: NexudusClient, nexudus_emulator: EmulatorServer
) -> None:
    created = await client.time_passes.create(
        business_id=1, name="Night owl", price=12.5, currency_id=3, minutes_included=120
    )
    assert created.id is not None
    stored = nexudus_emulator.store.get("timepasses", created.id)
    assert stored is not None
    assert (stored["Name"], stored["Price"], stored["CurrencyId"]) == ("Night owl", 12.5, 3)
    assert stored["MinutesIncluded"] == 120 and stored["Archived"] is False

    record = await client.time_passes.get(created.id)
    assert isinstance(record, TimePass)
    assert (record.name, record.price, record.minutes_included) == ("Night owl", 12.5, 120)

    await client.time_passes.update(created.id, archived=True)
    after = nexudus_emulator.store.get("timepasses", created.id)
    assert after is not None and after["Archived"] is True and after["Name"] == "Night owl"

    archived = await client.time_passes.list(archived=True)
    assert [i.id for i in archived.items] == [created.id]
    usd = await client.time_passes.list(currency_code="USD")
    assert sorted(i.id for i in usd.items) == [5, created.id]
    cheap = await client.time_passes.list(price=(None, 12.5), minutes_included=(100, None))
    assert sorted(i.id for i in cheap.items) == [5, created.id]
    recent = await client.time_passes.list(
        created_on=(datetime.datetime(2000, 1, 1), None), name="night"
    )
    assert [i.id for i in recent.items] == [created.id]
    assert [i.id for i in await client.time_passes.get_many([created.id, 1])] == [created.id, 1]
    assert await client.time_passes.commands() == []

    await client.time_passes.delete(created.id)
    with pytest.raises(NotFoundError):
        await client.time_passes.get(created.id)


async def test_the_passes_flattened_names_come_from_the_time_pass_records(
    client: NexudusClient,
) -> None:
    await client.coworker_time_passes.create(coworker_id=9, business_id=1, time_pass_id=4)
    (item,) = (await client.coworker_time_passes.list(coworker=9)).items
    assert item.coworker_time_pass_time_pass_name == "Meeting room hour"
    assert item.coworker_time_pass_time_pass_currency_code == "GBP"
    await client.time_passes.update(4, name="Board room hour", currency_id=3)
    (item,) = (await client.coworker_time_passes.list(coworker=9)).items
    assert item.coworker_time_pass_time_pass_name == "Board room hour"
    assert item.coworker_time_pass_time_pass_currency_code == "USD"
    found = await client.coworker_time_passes.list(time_pass_name="board room")
    assert [i.coworker for i in found.items] == [9]


async def test_bad_definitions_are_refused_before_sending(client: NexudusClient) -> None:
    from nexudus_async import InputError

    with pytest.raises(InputError, match="currency_id=0: must be at least 1"):
        await client.time_passes.create(business_id=1, name="x", price=1, currency_id=0)
    with pytest.raises(TypeError, match="name"):
        await client.time_passes.create(business_id=1, price=1, currency_id=1)  # type: ignore[call-arg]
