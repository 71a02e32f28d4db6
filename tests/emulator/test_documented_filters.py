"""The emulator answers the documented filters as the live service would.

UniqueId and ``<Entity>_SystemId`` on every entity; the chained names of
ProductTimePass and TariffTimePass, resolved through the related record (so
renaming the TimePass changes what the filter finds).
"""

from __future__ import annotations

from nexudus_async.testing import EmulatorServer
from nexudus_async.testing.entities import entity

from .conftest import CTP, PTP, TTP, Api

TP = "/api/billing/timepasses"


async def ids_of(api: Api, path: str, query: str) -> list[int]:
    reply = await api.get(path, query)
    assert reply.status == 200, reply.body
    return [r["Id"] for r in reply.json["Records"]]


def seed(emu: EmulatorServer) -> None:
    for i in range(1, 5):
        emu.store.insert(
            "producttimepasses",
            {"ProductId": i % 2 + 1, "TimePassId": i, "PassesIncluded": i, "SystemId": f"p{i}"},
        )
        emu.store.insert(
            "tarifftimepasses",
            {"TariffId": i % 2 + 1, "TimePassId": i, "PassesIncluded": i, "PassRenewalTime": 1},
        )
        emu.store.insert(
            "coworkertimepasses",
            {"CoworkerId": 9, "BusinessId": 1, "TimePassId": 1, "SystemId": f"crm-{i}"},
        )


async def test_chained_names_resolve_through_the_related_record(
    api: Api, emu: EmulatorServer
) -> None:
    seed(emu)
    # Products 1 "10 day passes bundle", 2 "Hot desk week"; TimePasses 1..4 from the store.
    assert await ids_of(api, PTP, "ProductTimePass_Product_Name=bundle") == [2, 4]
    assert await ids_of(api, PTP, "ProductTimePass_TimePass_Name=half day") == [2]
    assert await ids_of(api, TTP, "TariffTimePass_Tariff_Name=part-time") == [1, 3]
    assert await ids_of(api, TTP, "TariffTimePass_TimePass_Name=10 hour") == [3]
    emu.store.update_fields(entity("timepasses"), 3, {"Name": "Night pass"}, "t")
    assert await ids_of(api, TTP, "TariffTimePass_TimePass_Name=10 hour") == []
    assert await ids_of(api, TTP, "TariffTimePass_TimePass_Name=night") == [3]
    assert await ids_of(api, PTP, "ProductTimePass_TimePass_Name=night") == [3]


async def test_unique_id_and_system_id_on_every_entity(api: Api, emu: EmulatorServer) -> None:
    seed(emu)
    for path in (CTP, PTP, TTP, TP):
        records = (await api.get(path, "size=100")).json["Records"]
        wanted = records[2]
        assert await ids_of(api, path, f"UniqueId={wanted['UniqueId']}") == [wanted["Id"]]
        assert await ids_of(api, path, f"UniqueId={wanted['UniqueId'].upper()}") == [wanted["Id"]]
        reply = await api.get(path, "UniqueId=not-a-guid", validate=False)
        assert reply.status == 400, reply.body
    assert await ids_of(api, CTP, "CoworkerTimePass_SystemId=crm-3") == [3]
    assert await ids_of(api, PTP, "ProductTimePass_SystemId=p2") == [2]
    emu.store.update_fields(entity("timepasses"), 4, {"SystemId": "legacy"}, "t")
    assert await ids_of(api, TP, "TimePass_SystemId=legacy") == [4]


async def test_time_pass_businesses_holds_the_business(api: Api, emu: EmulatorServer) -> None:
    # The five default definitions belong to business 1; the filter also reads a list.
    emu.store.update_fields(entity("timepasses"), 2, {"BusinessId": 2}, "t")
    emu.store.update_fields(entity("timepasses"), 4, {"Businesses": [1, 3]}, "t")
    emu.store.insert("timepasses", {"BusinessId": 3, "Name": "Roaming", "Businesses": [2, 3]})
    assert await ids_of(api, TP, "TimePass_Businesses=1") == [1, 3, 4, 5]
    assert await ids_of(api, TP, "TimePass_Businesses=2") == [2, 6]
    assert await ids_of(api, TP, "TimePass_Businesses=3") == [4, 6]
    assert await ids_of(api, TP, "TimePass_Businesses=9") == []
    assert await ids_of(api, TP, "TimePass_Businesses=3&TimePass_Business=3") == [6]
    reply = await api.get(TP, "TimePass_Businesses=x", validate=False)
    assert reply.status == 400, reply.body
    assert b"TimePass_Businesses: must be a whole number" in reply.body


async def test_documented_ranges(api: Api, emu: EmulatorServer) -> None:
    seed(emu)
    emu.store.update_fields(entity("producttimepasses"), 2, {"ExpiresIn": 5}, "t")
    query = "From_ProductTimePass_ExpiresIn=3&To_ProductTimePass_ExpiresIn=6"
    assert await ids_of(api, PTP, query) == [2]
    assert await ids_of(api, TTP, "from_TariffTimePass_PassesIncluded=3") == [3, 4]
    assert await ids_of(api, TP, "from_TimePass_MinutesIncluded=200&to_TimePass_Price=20") == [2]


async def test_size_has_the_documented_maximum(api: Api, emu: EmulatorServer) -> None:
    seed(emu)
    for path in (CTP, PTP, TTP, TP):
        assert (await api.get(path, "size=1000")).json["PageSize"] == 1000
        reply = await api.get(path, "size=1001", validate=False)
        assert reply.status == 400, reply.body
        assert b"size: must be less than or equal to 1000" in reply.body
