"""Every CoworkerTimePass operation over loopback HTTP: status, body, and the store afterwards."""

from __future__ import annotations

import re

from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, EmulatorServer

from .conftest import CTP, Api, coworker_pass

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# ------------------------------------------------------------------ create
async def test_create_answers_the_documented_envelope(api: Api, emu: EmulatorServer) -> None:
    reply = await api.post(CTP, coworker_pass(Notes="hello", Price=12.5, Free=False))
    assert reply.status == 200
    body = reply.json
    assert body["Status"] == 200
    assert body["WasSuccessful"] is True
    assert body["Errors"] is None
    assert body["Value"] == {"Id": 1}
    assert body["Message"] == "CoworkerTimePass was successfully created."
    assert body["UpdatedBy"] == DEFAULT_ADMIN_EMAIL
    assert STAMP.match(body["UpdatedOn"])
    for key in ("OpenInDialog", "OpenInWindow"):
        assert body[key] is False
    assert body["RedirectURL"] is None and body["JavaScript"] is None

    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None
    assert record["CoworkerId"] == 42 and record["BusinessId"] == 7 and record["TimePassId"] == 1
    assert record["Notes"] == "hello" and record["Price"] == 12.5
    assert GUID.match(record["UniqueId"])
    assert STAMP.match(record["CreatedOn"]) and record["CreatedOn"] == record["UpdatedOn"]
    assert record["UpdatedBy"] == DEFAULT_ADMIN_EMAIL
    assert record["Used"] is False and record["UsedDate"] is None
    assert record["CreateMultiple"] is None  # transient, shown empty like the docs


async def test_create_multiple_makes_n_consecutive_records(api: Api, emu: EmulatorServer) -> None:
    await api.post(CTP, coworker_pass(CoworkerId=1))
    reply = await api.post(CTP, coworker_pass(CoworkerId=42, CreateMultiple=5))
    assert reply.status == 200
    # Value.Id is the FIRST of the new records; the others follow it.
    assert reply.json["Value"] == {"Id": 2}
    assert emu.store.count("coworkertimepasses", CoworkerId=42) == 5
    assert [r["Id"] for r in emu.store.all("coworkertimepasses")] == [1, 2, 3, 4, 5, 6]
    uniques = {r["UniqueId"] for r in emu.store.all("coworkertimepasses")}
    assert len(uniques) == 6


async def test_create_validates_every_field_and_reports_each(api: Api, emu: EmulatorServer) -> None:
    reply = await api.post(
        CTP,
        {
            "BusinessId": "seven",
            "TimePassId": 1.5,
            "CreateMultiple": 0,
            "ExpireDate": "next tuesday",
            "CoworkerProductUniqueId": "not-a-guid",
            "Free": "yes",
        },
    )
    assert reply.status == 400
    body = reply.json
    assert body["Status"] == 400
    assert body["WasSuccessful"] is False
    assert body["Value"] is None
    assert body["Message"] == "CoworkerId: is required"
    errors = {e["PropertyName"]: e for e in body["Errors"]}
    assert set(errors) == {
        "CoworkerId",
        "BusinessId",
        "TimePassId",
        "CreateMultiple",
        "ExpireDate",
        "CoworkerProductUniqueId",
        "Free",
    }
    assert errors["CoworkerId"] == {
        "AttemptedValue": None,
        "Message": "is required",
        "PropertyName": "CoworkerId",
    }
    assert errors["BusinessId"]["AttemptedValue"] == "seven"
    assert errors["CreateMultiple"]["Message"] == "must be at least 1"
    assert errors["ExpireDate"]["Message"] == "must be a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS])"
    assert errors["CoworkerProductUniqueId"]["Message"] == "must be a UUID"
    assert emu.store.count("coworkertimepasses") == 0


async def test_an_empty_date_or_guid_is_null_as_the_live_service_reads_it(
    api: Api, emu: EmulatorServer
) -> None:
    blanks = {
        "ExpireDate": "",
        "TariffTimePassUniqueId": "",
        "CoworkerProductUniqueId": "",
        "CoworkerContractUniqueId": "",
    }
    assert (await api.post(CTP, coworker_pass(**blanks))).status == 200
    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None
    assert {name: record[name] for name in blanks} == dict.fromkeys(blanks)
    # a PUT with blanks clears what the record held
    guid = "0b6d6c8e-1f0a-4c8e-9a55-3c1b7c4f2a10"
    full = coworker_pass(Id=1, ExpireDate="2025-01-15T10:30:00Z", CoworkerProductUniqueId=guid)
    assert (await api.put(CTP, full)).status == 200
    assert (await api.put(CTP, coworker_pass(Id=1, **blanks))).status == 200
    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None and record["ExpireDate"] is None
    assert record["CoworkerProductUniqueId"] is None
    # only the empty string: whitespace is still not a date
    reply = await api.post(CTP, coworker_pass(ExpireDate=" "))
    assert reply.status == 400 and reply.json["Errors"][0]["PropertyName"] == "ExpireDate"


async def test_create_rejects_a_missing_create_multiple(api: Api, emu: EmulatorServer) -> None:
    body = coworker_pass()
    del body["CreateMultiple"]
    reply = await api.post(CTP, body)
    assert reply.status == 400
    assert reply.json["Message"] == "CreateMultiple: is required"
    assert emu.store.count("coworkertimepasses") == 0


async def test_create_rejects_bodies_that_are_not_json_objects(api: Api) -> None:
    reply = await api.request(
        "POST", CTP, data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400
    assert reply.json["Errors"][0]["PropertyName"] == "Body"
    reply = await api.post(CTP, [1, 2])
    assert reply.status == 400


async def test_create_ignores_read_only_and_unknown_fields(api: Api, emu: EmulatorServer) -> None:
    reply = await api.post(
        CTP,
        coworker_pass(Id=999, Invoiced=True, UniqueId="x", CheckedIn=True, Whatever=1),
    )
    assert reply.status == 200
    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None
    assert record["Invoiced"] is False and record["CheckedIn"] is False
    assert emu.store.get("coworkertimepasses", 999) is None


async def test_dates_are_stored_as_wall_clock_with_z(api: Api, emu: EmulatorServer) -> None:
    await api.post(CTP, coworker_pass(ExpireDate="2025-01-15T10:30"))
    await api.post(CTP, coworker_pass(ExpireDate="2025-01-15T10:30:00Z"))
    # An offset shifts the stored time, as observed on the live API.
    await api.post(CTP, coworker_pass(ExpireDate="2025-01-15T12:30:00+02:00"))
    dates = [r["ExpireDate"] for r in emu.store.all("coworkertimepasses")]
    assert dates == ["2025-01-15T10:30:00Z"] * 3


# --------------------------------------------------------------------- get
async def test_get_answers_the_single_record_shape(api: Api, emu: EmulatorServer) -> None:
    await api.post(CTP, coworker_pass(PurchaseOrder="PO-1"))
    reply = await api.get(f"{CTP}/1")
    assert reply.status == 200
    assert reply.json == emu.store.get("coworkertimepasses", 1)
    assert reply.json["PurchaseOrder"] == "PO-1"
    assert "Coworker" not in reply.json and "CoworkerTimePassTimePassName" not in reply.json


async def test_get_unknown_or_malformed_id_is_404(api: Api) -> None:
    for path in (f"{CTP}/12345", f"{CTP}/abc", f"{CTP}/-1"):
        reply = await api.get(path)
        assert reply.status == 404
        assert reply.json["WasSuccessful"] is False
        assert reply.json["Value"] is None


# --------------------------------------------------------------------- put
async def test_put_replaces_the_whole_record(api: Api, emu: EmulatorServer) -> None:
    await api.post(
        CTP,
        coworker_pass(
            Notes="n", Price=10, Free=True, PurchaseOrder="PO", ExpireDate="2025-02-01T00:00"
        ),
    )
    before = emu.store.get("coworkertimepasses", 1)
    assert before is not None
    reply = await api.put(
        CTP,
        {
            "Id": 1,
            "CoworkerId": 43,
            "BusinessId": 7,
            "TimePassId": 2,
            "CreateMultiple": 1,
            "Notes": "changed",
            # read-only: ignored
            "Invoiced": True,
            "UniqueId": "00000000-0000-0000-0000-000000000000",
            "CreatedOn": "2000-01-01T00:00:00Z",
        },
    )
    assert reply.status == 200
    assert reply.json["Value"] == {"Id": 1}
    assert reply.json["Message"] == "CoworkerTimePass was successfully updated."
    after = emu.store.get("coworkertimepasses", 1)
    assert after is not None
    assert after["CoworkerId"] == 43 and after["TimePassId"] == 2 and after["Notes"] == "changed"
    # what the body lacked is cleared
    assert after["Price"] is None
    assert after["Free"] is False
    assert after["PurchaseOrder"] is None
    assert after["ExpireDate"] is None
    # read-only fields kept
    assert after["Invoiced"] is False
    assert after["UniqueId"] == before["UniqueId"]
    assert after["CreatedOn"] == before["CreatedOn"]


async def test_put_unknown_id_is_404_and_creates_nothing(api: Api, emu: EmulatorServer) -> None:
    reply = await api.put(CTP, coworker_pass(Id=77))
    assert reply.status == 404
    assert reply.json["Message"] == "CoworkerTimePass with Id 77 was not found."
    assert emu.store.count("coworkertimepasses") == 0


async def test_put_validates_like_create(api: Api, emu: EmulatorServer) -> None:
    await api.post(CTP, coworker_pass())
    reply = await api.put(CTP, {"CoworkerId": 1, "BusinessId": 1, "TimePassId": 1})
    assert reply.status == 400
    names = [e["PropertyName"] for e in reply.json["Errors"]]
    assert names == ["Id", "CreateMultiple"]
    assert reply.json["Message"] == "Id: is required"
    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None and record["CoworkerId"] == 42


# ------------------------------------------------------------------ delete
async def test_delete_removes_the_record(api: Api, emu: EmulatorServer) -> None:
    await api.post(CTP, coworker_pass(CreateMultiple=2))
    reply = await api.delete(f"{CTP}/1")
    assert reply.status == 200
    body = reply.json
    assert body["WasSuccessful"] is True
    assert body["Message"] == "The record was deleted successfully."
    assert body["Value"] is None
    assert emu.store.get("coworkertimepasses", 1) is None
    assert emu.store.count("coworkertimepasses") == 1


async def test_delete_unknown_is_404(api: Api) -> None:
    reply = await api.delete(f"{CTP}/5")
    assert reply.status == 404
    assert reply.json["WasSuccessful"] is False


# ---------------------------------------------------------------- commands
async def test_commands_list_is_realistic(api: Api) -> None:
    reply = await api.get(f"{CTP}/commands")
    assert reply.status == 200
    by_key = {c["Key"]: c for c in reply.json}
    assert {"MARK_AS_USED", "MARK_AS_UNUSED", "SET_EXPIRY_DATE"} <= set(by_key)
    assert by_key["MARK_AS_USED"]["RequiresParameters"] == []
    assert by_key["SET_EXPIRY_DATE"]["RequiresParameters"] == [
        {"Name": "Expiry date", "Type": "DateTime"}
    ]
    assert all(c["NeedsEntitiesToRun"] for c in reply.json)


async def test_runcommand_marks_passes_used(api: Api, emu: EmulatorServer) -> None:
    await api.post(CTP, coworker_pass(CreateMultiple=3))
    reply = await api.post(f"{CTP}/runcommand", {"Key": "MARK_AS_USED", "Ids": [1, 3]})
    assert reply.status == 200
    assert reply.json["WasSuccessful"] is True
    assert reply.json["Value"] == {"Id": 1}
    used = {r["Id"]: r for r in emu.store.all("coworkertimepasses")}
    assert used[1]["Used"] and used[3]["Used"] and not used[2]["Used"]
    assert STAMP.match(used[1]["UsedDate"]) and used[2]["UsedDate"] is None

    reply = await api.post(f"{CTP}/runcommand", {"Key": "MARK_AS_UNUSED", "Ids": [1]})
    assert reply.status == 200
    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None and record["Used"] is False and record["UsedDate"] is None


async def test_runcommand_with_a_parameter(api: Api, emu: EmulatorServer) -> None:
    await api.post(CTP, coworker_pass())
    reply = await api.post(
        f"{CTP}/runcommand",
        {
            "Key": "SET_EXPIRY_DATE",
            "Ids": [1],
            "Parameters": [{"Type": "DateTime", "Value": "2030-06-01T09:00"}],
        },
    )
    assert reply.status == 200
    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None and record["ExpireDate"] == "2030-06-01T09:00:00Z"

    reply = await api.post(f"{CTP}/runcommand", {"Key": "SET_EXPIRY_DATE", "Ids": [1]})
    assert reply.status == 400
    assert reply.json["Errors"][0]["PropertyName"] == "Parameters"


async def test_runcommand_validates_key_and_ids(api: Api, emu: EmulatorServer) -> None:
    await api.post(CTP, coworker_pass())
    reply = await api.post(f"{CTP}/runcommand", {"Key": "NO_SUCH", "Ids": [1]})
    assert reply.status == 400
    assert reply.json["Message"].startswith("Key: ")
    reply = await api.post(f"{CTP}/runcommand", {"Key": "MARK_AS_USED", "Ids": [1, 99]})
    assert reply.status == 400
    assert reply.json["Errors"] == [
        {"AttemptedValue": [99], "Message": "no record with Id 99", "PropertyName": "Ids"}
    ]
    reply = await api.post(f"{CTP}/runcommand", {"Key": "MARK_AS_USED", "Ids": ["x"]})
    assert reply.status == 400
    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None and record["Used"] is False  # nothing ran


async def test_integers_beyond_32_bits_are_a_400_not_a_crash(api: Api, emu: EmulatorServer) -> None:
    # The API's integers are Int32: a bigger one is a validation error, as live.
    for value in (2**31, 10**30, -(2**31) - 1):
        for name in ("CoworkerId", "CreateMultiple"):
            reply = await api.post(CTP, coworker_pass(**{name: value}), validate=False)
            assert reply.status == 400
            message = "must be at most 2147483647" if value > 0 else "must be at least 1"
            assert reply.json["Errors"] == [
                {"AttemptedValue": value, "Message": message, "PropertyName": name}
            ]
    assert emu.store.count("coworkertimepasses") == 0
    await api.post(CTP, coworker_pass())
    reply = await api.post(
        f"{CTP}/runcommand", {"Key": "MARK_AS_USED", "Ids": [1, 10**30]}, validate=False
    )
    assert reply.status == 400
    assert reply.json["Errors"] == [
        {"AttemptedValue": [1, 10**30], "Message": "is out of range", "PropertyName": "Ids"}
    ]
    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None and record["Used"] is False  # nothing ran
    for query in (
        f"Id={2**31}",
        f"CoworkerTimePass_Id=[1,{10**30}]",
        f"CoworkerTimePass_Coworker={-(2**31) - 1}",
    ):
        reply = await api.get(CTP, query, validate=False)
        assert reply.status == 400, query
        assert reply.json["Errors"][0]["Message"] == "is out of range", query


async def test_absurdly_nested_json_is_a_400_not_a_crash(api: Api) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    reply = await api.request("POST", CTP, data=body, headers={"Content-Type": "application/json"})
    assert reply.status == 400
