"""Fault injection: each mode shown happening, plus matching, probability and seeding."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from nexudus_async.testing import EmulatorServer, FaultRule, ThrottleLimits, run_emulator
from nexudus_async.testing.config import FAULT_KINDS
from nexudus_async.testing.faults import FAULTS

from .conftest import CTP, PTP, TTP, Api, coworker_pass


async def test_latency(api: Api, emu: EmulatorServer) -> None:
    emu.set_faults([FaultRule(method="GET", path=CTP, kind="latency", latency=0.2)])
    started = time.monotonic()
    assert (await api.get(CTP)).status == 200
    assert time.monotonic() - started >= 0.2  # a lower bound only: a loaded machine is slower
    assert emu.stats.faults["latency"] == 1
    assert (await api.get(PTP)).status == 200  # other route: the rule does not fire
    assert emu.stats.faults["latency"] == 1


async def test_error500_is_transient_and_not_applied(api: Api, emu: EmulatorServer) -> None:
    emu.set_faults([FaultRule(method="POST", path=CTP, kind="error500", times=1)])
    reply = await api.post(CTP, coworker_pass())  # the document's 500 envelope
    assert reply.status == 500
    assert reply.json == {
        "Status": 500,
        "Message": "Ooops! There was a problem while running this action",
        "Value": None,
        "WasSuccessful": False,
        "Errors": None,
    }
    assert emu.store.count("coworkertimepasses") == 0
    # times=1: the retry goes through
    assert (await api.post(CTP, coworker_pass())).status == 200
    assert emu.store.count("coworkertimepasses") == 1
    assert emu.stats.faults["error500"] == 1


async def test_drop_before_does_not_apply_the_write(api: Api, emu: EmulatorServer) -> None:
    emu.set_faults([FaultRule(method="POST", path=CTP, kind="drop_before")])
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post(CTP, coworker_pass(), validate=False)
    assert emu.store.count("coworkertimepasses") == 0
    assert emu.stats.by_status["dropped"] == 1
    assert emu.stats.writes == 0


async def test_drop_after_applies_the_write_but_never_answers(
    api: Api, emu: EmulatorServer
) -> None:
    emu.set_faults([FaultRule(method="POST", path=CTP, kind="drop_after")])
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post(CTP, coworker_pass(CoworkerId=5, CreateMultiple=3), validate=False)
    # The client got a connection error, yet the records exist.
    assert emu.store.count("coworkertimepasses", CoworkerId=5) == 3
    assert emu.stats.writes == 1
    # reads still work (the rule is POST only), through a fresh connection
    assert (await api.get(CTP)).json["TotalItems"] == 3


async def test_unsuccessful_answers_200_with_was_successful_false(
    api: Api, emu: EmulatorServer
) -> None:
    emu.set_faults([FaultRule(method="PUT", path=CTP, kind="unsuccessful")])
    await api.post(CTP, coworker_pass(Notes="keep"))
    reply = await api.put(CTP, coworker_pass(Id=1, Notes="lost"))
    assert reply.status == 200
    assert reply.json["WasSuccessful"] is False
    assert reply.json["Value"] is None
    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None and record["Notes"] == "keep"


async def test_malformed_answers_invalid_json(api: Api, emu: EmulatorServer) -> None:
    emu.set_faults([FaultRule(method="*", path="/api/billing/*", kind="malformed")])
    reply = await api.post(CTP, coworker_pass(), validate=False)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(reply.body)
    assert emu.store.count("coworkertimepasses") == 1  # the write happened
    reply = await api.get(CTP, validate=False)
    with pytest.raises(ValueError):
        json.loads(reply.body)


@pytest.mark.parametrize(
    ("kind", "content_type", "body"),
    [
        ("empty", "application/json", b""),
        ("not_json", "text/html", b"<html><body>OK</body></html>"),
    ],
)
async def test_unreadable_answers_follow_an_executed_write(
    api: Api, emu: EmulatorServer, kind: str, content_type: str, body: bytes
) -> None:
    emu.set_faults([FaultRule(method="POST", path=CTP, kind=kind, times=1)])
    reply = await api.post(CTP, coworker_pass(), validate=False)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith(content_type)
    assert reply.body == body
    assert emu.store.count("coworkertimepasses") == 1  # the write happened
    assert emu.stats.faults[kind] == 1


async def test_glob_paths_and_method_wildcards(api: Api, emu: EmulatorServer) -> None:
    emu.set_faults([FaultRule(method="*", path=f"{CTP}/*", kind="error500")])
    await api.post(CTP, coworker_pass())
    assert (await api.get(f"{CTP}/1", validate=False)).status == 500
    assert (await api.delete(f"{CTP}/1", validate=False)).status == 500
    assert (await api.get(CTP)).status == 200
    assert emu.store.count("coworkertimepasses") == 1


async def test_probability_is_seeded_and_reproducible(session: aiohttp.ClientSession) -> None:
    async def run(seed: int) -> list[int]:
        rule = FaultRule(method="GET", path=CTP, kind="error500", probability=0.5)
        async with run_emulator(limits=ThrottleLimits.off(), seed=seed, faults=[rule]) as server:
            api = Api(session, server)
            return [(await api.get(CTP, validate=False)).status for _ in range(30)]

    first, again, other = await run(7), await run(7), await run(8)
    assert first == again
    assert first != other
    assert 5 < first.count(500) < 25


@pytest.mark.parametrize(("probability", "low", "high"), [(0.1, 8, 35), (0.9, 165, 192)])
async def test_a_rule_fires_with_its_probability_not_its_complement(
    session: aiohttp.ClientSession, probability: float, low: int, high: int
) -> None:
    # 200 draws: the count of a p = 0.1 rule is ~20 (binomial sd ~4.2); 1 - p would give ~180.
    rule = FaultRule(method="GET", path=CTP, kind="error500", probability=probability)
    async with run_emulator(limits=ThrottleLimits.off(), seed=3, faults=[rule]) as server:
        api = Api(session, server)
        statuses = [(await api.get(CTP, validate=False)).status for _ in range(200)]
        assert server.stats.faults["error500"] == statuses.count(500)
    assert low <= statuses.count(500) <= high
    assert statuses.count(500) + statuses.count(200) == 200


@pytest.mark.parametrize(("probability", "fired"), [(0.0, 0), (1.0, 20)])
async def test_probability_zero_never_fires_and_one_always_does(
    session: aiohttp.ClientSession, probability: float, fired: int
) -> None:
    rule = FaultRule(method="GET", path=CTP, kind="error500", probability=probability)
    async with run_emulator(limits=ThrottleLimits.off(), seed=3, faults=[rule]) as server:
        api = Api(session, server)
        statuses = [(await api.get(CTP, validate=False)).status for _ in range(20)]
    assert statuses.count(500) == fired


async def test_throttled_and_unauthenticated_requests_skip_faults(
    api: Api, emu: EmulatorServer
) -> None:
    emu.set_faults([FaultRule(kind="error500")])
    assert (await api.get(CTP, authorization=None)).status == 401
    assert emu.stats.faults["error500"] == 0


def test_every_kind_says_what_it_does_and_none_does_both() -> None:
    assert list(FAULTS) == list(FAULT_KINDS)
    for kind, fault in FAULTS.items():
        assert fault.instead is None or fault.after is None, kind
    # Neither: the plan's wait, or the handler plays the kind.
    assert [k for k, f in FAULTS.items() if f.instead is f.after is None] == [
        "latency",
        "ids_array",
    ]


def test_fault_rules_are_checked() -> None:
    with pytest.raises(ValueError):
        FaultRule(kind="explode")
    with pytest.raises(ValueError):
        FaultRule(probability=1.5)


async def test_validation500_is_the_003_invalid_response_and_not_applied(
    api: Api, emu: EmulatorServer
) -> None:
    emu.set_faults([FaultRule(method="*", path="/api/billing/*", kind="validation500")])
    reply = await api.post(CTP, coworker_pass())  # 500 + the envelope: the document's 500
    assert reply.status == 500
    assert reply.json == {
        "Status": 500,
        "Message": "CoworkerId: may not be null or empty",
        "Value": None,
        "WasSuccessful": False,
        "Errors": [
            {
                "AttemptedValue": None,
                "Message": "may not be null or empty",
                "PropertyName": "CoworkerId",
            }
        ],
    }
    assert emu.store.count("coworkertimepasses") == 0
    reply = await api.post(PTP, {"ProductId": 1, "TimePassId": 1, "PassesIncluded": 1})
    assert reply.json["Errors"][0]["PropertyName"] == "ProductId"  # the entity's own field
    assert emu.store.count("producttimepasses") == 0
    assert emu.stats.writes == 0 and emu.stats.faults["validation500"] == 2


async def test_server_message500_is_the_older_pages_answer_and_not_applied(
    api: Api, emu: EmulatorServer
) -> None:
    await api.post(CTP, coworker_pass(Notes="keep"))
    emu.set_faults([FaultRule(method="PUT", path=CTP, kind="server_message500")])
    reply = await api.put(CTP, coworker_pass(Id=1, Notes="lost"), validate=False)
    assert reply.status == 500
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.body == b'{"Message":"An error has occurred."}'
    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None and record["Notes"] == "keep"


async def test_error500_after_applies_the_write_then_answers_500(
    api: Api, emu: EmulatorServer
) -> None:
    await api.post(CTP, coworker_pass(Notes="before", CreateMultiple=2))
    emu.set_faults([FaultRule(method="*", path=f"{CTP}*", kind="error500_after", times=2)])
    oops = {
        "Status": 500,
        "Message": "Ooops! There was a problem while running this action",
        "Value": None,
        "WasSuccessful": False,
        "Errors": None,
    }
    reply = await api.put(CTP, coworker_pass(Id=1, Notes="after"))
    assert (reply.status, reply.json) == (500, oops)
    record = emu.store.get("coworkertimepasses", 1)
    assert record is not None and record["Notes"] == "after"  # the write happened
    reply = await api.delete(f"{CTP}/2")
    assert (reply.status, reply.json) == (500, oops)
    assert emu.store.get("coworkertimepasses", 2) is None
    assert emu.stats.writes == 3  # the create, the PUT and the DELETE were all executed
    # times=2 spent: the retries meet their own effect
    assert (await api.put(CTP, coworker_pass(Id=1, Notes="after"))).status == 200
    assert (await api.delete(f"{CTP}/2")).status == 404


async def test_not_found_string_answers_a_json_string_and_is_not_applied(
    api: Api, emu: EmulatorServer
) -> None:
    await api.post(CTP, coworker_pass())
    emu.set_faults([FaultRule(method="*", path=f"{CTP}/*", kind="not_found_string")])
    for reply in (
        await api.get(f"{CTP}/1", validate=False),
        await api.delete(f"{CTP}/1", validate=False),
    ):
        assert reply.status == 404
        assert reply.headers["Content-Type"].startswith("application/json")
        assert reply.body == b'"Not found"'
        assert reply.json == "Not found"
    assert emu.store.count("coworkertimepasses") == 1  # the DELETE did not happen


async def test_ids_array_answers_a_get_by_ids_list_as_a_bare_array(
    api: Api, emu: EmulatorServer
) -> None:
    for coworker in (5, 6, 7):
        await api.post(CTP, coworker_pass(CoworkerId=coworker))
    envelope = (await api.get(CTP, "CoworkerTimePass_Id=[3,1]")).json
    emu.set_faults([FaultRule(method="GET", path=CTP, kind="ids_array", times=1)])
    plain = await api.get(CTP)  # not a lookup by ids: the rule does not apply
    assert plain.json["TotalItems"] == 3
    reply = await api.get(CTP, "CoworkerTimePass_Id=[3,1]", validate=False)
    assert reply.status == 200
    assert isinstance(reply.json, list)
    assert reply.json == envelope["Records"]
    assert [r["Id"] for r in reply.json] == [1, 3]
    assert [r["Coworker"] for r in reply.json] == [5, 7]  # list-shaped records
    assert emu.stats.faults["ids_array"] == 1
    # times=1 spent by the lookup, not by the plain list
    assert isinstance((await api.get(CTP, "CoworkerTimePass_Id=[1]")).json, dict)


async def test_unknown_enum_answers_value_0_and_leaves_the_store_alone(
    api: Api, emu: EmulatorServer
) -> None:
    emu.store.insert(
        "producttimepasses",
        {"ProductId": 1, "TimePassId": 1, "PassesIncluded": 1, "ExpirationType": 2},
    )
    emu.store.insert(
        "tarifftimepasses",
        {"TariffId": 1, "TimePassId": 1, "PassesIncluded": 1, "PassRenewalTime": 3},
    )
    await api.post(CTP, coworker_pass())
    emu.set_faults([FaultRule(method="GET", path="/api/billing/*", kind="unknown_enum")])
    single = await api.get(f"{PTP}/1", validate=False)
    assert single.status == 200 and single.json["ExpirationType"] == 0
    listed = await api.get(PTP, validate=False)
    assert [r["ExpirationType"] for r in listed.json["Records"]] == [0]
    tariff = await api.get(f"{TTP}/1", validate=False)
    assert tariff.json["PassRenewalTime"] == 0
    # CoworkerTimePass has no enum field: answered as it is, the rule does not fire
    assert (await api.get(f"{CTP}/1")).status == 200
    assert emu.stats.faults["unknown_enum"] == 3
    product = emu.store.get("producttimepasses", 1)
    tariff_row = emu.store.get("tarifftimepasses", 1)
    assert product is not None and product["ExpirationType"] == 2
    assert tariff_row is not None and tariff_row["PassRenewalTime"] == 3
    assert {**product, "ExpirationType": 0} == single.json  # nothing else changed
