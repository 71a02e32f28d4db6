"""Every ProductTimePass and TariffTimePass operation over loopback HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from nexudus_async.testing import EmulatorServer

from .conftest import PTP, TTP, Api

CASES = [
    pytest.param(
        PTP,
        "ProductTimePass",
        {
            "ProductId": 1,
            "TimePassId": 3,
            "PassesIncluded": 10,
            "ExpirationType": 4,
            "ExpiresIn": 2,
        },
        id="product",
    ),
    pytest.param(
        TTP,
        "TariffTimePass",
        {"TariffId": 2, "TimePassId": 1, "PassesIncluded": 5, "PassRenewalTime": 2},
        id="tariff",
    ),
]


@pytest.mark.parametrize(("path", "name", "body"), CASES)
async def test_crud_round_trip(
    api: Api, emu: EmulatorServer, path: str, name: str, body: dict[str, Any]
) -> None:
    entity = path.rsplit("/", 1)[1]
    reply = await api.post(path, body)
    assert reply.status == 200
    assert reply.json["Value"] == {"Id": 1}
    assert reply.json["Message"] == f"{name} was successfully created."

    reply = await api.get(f"{path}/1")
    assert reply.status == 200
    record = reply.json
    assert {k: record[k] for k in body} == body
    assert record == emu.store.get(entity, 1)

    # PUT with only the required fields: the optional ones are cleared.
    required = {k: v for k, v in body.items() if k not in ("ExpirationType", "ExpiresIn")}
    reply = await api.put(path, {"Id": 1, **required, "PassesIncluded": 6})
    assert reply.status == 200
    after = emu.store.get(entity, 1)
    assert after is not None and after["PassesIncluded"] == 6
    if name == "ProductTimePass":
        assert after["ExpirationType"] is None and after["ExpiresIn"] is None

    assert (await api.put(path, {"Id": 9, **required})).status == 404
    assert (await api.delete(f"{path}/1")).status == 200
    assert emu.store.count(entity) == 0
    assert (await api.delete(f"{path}/1")).status == 404
    assert (await api.get(f"{path}/1")).status == 404


async def test_product_rejects_unknown_expiration_type(api: Api, emu: EmulatorServer) -> None:
    reply = await api.post(
        PTP, {"ProductId": 1, "TimePassId": 1, "PassesIncluded": -1, "ExpirationType": 9}
    )
    assert reply.status == 400
    errors = {e["PropertyName"]: e for e in reply.json["Errors"]}
    assert set(errors) == {"PassesIncluded", "ExpirationType"}
    assert errors["ExpirationType"]["AttemptedValue"] == 9
    assert reply.json["Message"] == "PassesIncluded: must be at least 0"
    assert emu.store.count("producttimepasses") == 0


async def test_product_tolerates_unknown_enum_values_already_stored(
    api: Api, emu: EmulatorServer
) -> None:
    # The live API answers ExpirationType 0 (observed): seeded records may carry it.
    emu.store.insert(
        "producttimepasses",
        {"ProductId": 1, "TimePassId": 1, "PassesIncluded": 1, "ExpirationType": 0},
    )
    reply = await api.get(f"{PTP}/1", validate=False)
    assert reply.json["ExpirationType"] == 0


@pytest.mark.parametrize(
    ("path", "record", "field"),
    [
        pytest.param(
            PTP,
            {"ProductId": 1, "TimePassId": 1, "PassesIncluded": 1, "ExpirationType": 0},
            "ExpirationType",
            id="product",
        ),
        pytest.param(
            TTP,
            {"TariffId": 1, "TimePassId": 1, "PassesIncluded": 1, "PassRenewalTime": 0},
            "PassRenewalTime",
            id="tariff",
        ),
    ],
)
async def test_a_put_echoing_the_undocumented_enum_value_it_read_is_stored(
    api: Api, emu: EmulatorServer, path: str, record: dict[str, Any], field: str
) -> None:
    entity = path.rsplit("/", 1)[1]
    emu.store.insert(entity, record)
    read = (await api.get(f"{path}/1", validate=False)).json
    assert read[field] == 0
    # read -> change one field -> PUT it all back, as the docs prescribe
    reply = await api.put(path, {**read, "PassesIncluded": 6})
    assert (reply.status, reply.json["WasSuccessful"]) == (200, True)
    after = emu.store.get(entity, 1)
    assert after is not None and (after["PassesIncluded"], after[field]) == (6, 0)
    # a different undocumented value is a change, and refused like on create
    reply = await api.put(path, {**read, field: 7})
    assert reply.status == 400
    assert reply.json["Errors"][0]["PropertyName"] == field
    assert reply.json["Errors"][0]["AttemptedValue"] == 7
    after = emu.store.get(entity, 1)
    assert after is not None and after[field] == 0
    # so is putting 0 on a record that holds a documented value
    emu.store.insert(entity, {**record, "Id": 2, field: 1})
    reply = await api.put(path, {**read, "Id": 2})
    assert reply.status == 400 and reply.json["Errors"][0]["AttemptedValue"] == 0
    second = emu.store.get(entity, 2)
    assert second is not None and second[field] == 1


async def test_creating_with_an_undocumented_enum_value_is_refused(
    api: Api, emu: EmulatorServer
) -> None:
    reply = await api.post(
        PTP, {"ProductId": 1, "TimePassId": 1, "PassesIncluded": 1, "ExpirationType": 0}
    )
    assert reply.status == 400
    assert reply.json["Errors"] == [
        {
            "AttemptedValue": 0,
            "Message": "must be one of 1, 2, 3, 4, 5, 6",
            "PropertyName": "ExpirationType",
        }
    ]
    assert emu.store.count("producttimepasses") == 0


async def test_tariff_requires_a_known_renewal_time(api: Api, emu: EmulatorServer) -> None:
    base = {"TariffId": 1, "TimePassId": 1, "PassesIncluded": 1}
    reply = await api.post(TTP, base)
    assert reply.status == 400
    assert reply.json["Message"] == "PassRenewalTime: is required"
    reply = await api.post(TTP, {**base, "PassRenewalTime": 0})
    assert reply.status == 400
    assert reply.json["Errors"][0]["Message"] == "must be one of 1, 2, 3, 4, 5"
    assert emu.store.count("tarifftimepasses") == 0


@pytest.mark.parametrize(("path", "name", "body"), CASES)
async def test_commands_run(
    api: Api, emu: EmulatorServer, path: str, name: str, body: dict[str, Any]
) -> None:
    entity = path.rsplit("/", 1)[1]
    await api.post(path, body)
    await api.post(path, body)
    keys = [c["Key"] for c in (await api.get(f"{path}/commands")).json]
    assert "SET_PASSES_INCLUDED" in keys
    reply = await api.post(
        f"{path}/runcommand",
        {
            "Key": "SET_PASSES_INCLUDED",
            "Ids": [1, 2],
            "Parameters": [{"Name": "Passes included", "Value": 33}],
        },
    )
    assert reply.status == 200, reply.json
    assert [r["PassesIncluded"] for r in emu.store.all(entity)] == [33, 33]
    reply = await api.post(
        f"{path}/runcommand",
        {"Key": "SET_PASSES_INCLUDED", "Ids": [1], "Parameters": [{"Type": "Int32", "Value": "x"}]},
    )
    assert reply.status == 400


async def test_tariff_renewal_command_validates_the_enum(api: Api, emu: EmulatorServer) -> None:
    await api.post(TTP, {"TariffId": 1, "TimePassId": 1, "PassesIncluded": 1, "PassRenewalTime": 1})
    run = {"Key": "SET_RENEWAL_TIME", "Ids": [1]}
    assert (
        await api.post(f"{TTP}/runcommand", {**run, "Parameters": [{"Value": 7}]})
    ).status == 400
    assert (
        await api.post(f"{TTP}/runcommand", {**run, "Parameters": [{"Value": 5}]})
    ).status == 200
    record = emu.store.get("tarifftimepasses", 1)
    assert record is not None and record["PassRenewalTime"] == 5


async def test_clear_expiration_command(api: Api, emu: EmulatorServer) -> None:
    await api.post(PTP, {"ProductId": 1, "TimePassId": 1, "PassesIncluded": 1, "ExpiresIn": 3})
    reply = await api.post(f"{PTP}/runcommand", {"Key": "CLEAR_EXPIRATION", "Ids": [1]})
    assert reply.status == 200
    record = emu.store.get("producttimepasses", 1)
    assert record is not None and record["ExpiresIn"] is None
