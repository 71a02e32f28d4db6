"""The inspection and control API (no HTTP), concurrency, stats and the standalone CLI options."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from nexudus_async.testing import (
    EmulatorConfig,
    EmulatorServer,
    FaultRule,
    ThrottleLimits,
    run_emulator,
)
from nexudus_async.testing.__main__ import build_config, parser

from .conftest import CTP, PTP, Api, coworker_pass


async def test_store_inspection_and_seeding(emu: EmulatorServer) -> None:
    store = emu.store
    seeded = store.insert("CoworkerTimePass", {"CoworkerId": 42, "BusinessId": 1, "TimePassId": 3})
    assert seeded["Id"] == 1 and seeded["Used"] is False and seeded["UpdatedBy"] == "System"
    store.insert(
        "coworkertimepasses", {"Id": 50, "CoworkerId": 42, "BusinessId": 1, "TimePassId": 3}
    )
    store.insert("coworkertimepasses", {"CoworkerId": 7, "BusinessId": 1, "TimePassId": 3})
    assert [r["Id"] for r in store.all("coworkertimepasses")] == [1, 50, 51]
    assert store.count("coworkertimepasses") == 3
    assert store.count("coworkertimepasses", CoworkerId=42) == 2
    assert store.count("coworkertimepasses", CoworkerId=42, TimePassId=4) == 0
    assert store.get("coworkertimepasses", 99) is None
    # reads are copies
    record = store.get("coworkertimepasses", 1)
    assert record is not None
    record["Notes"] = "changed"
    assert store.all("coworkertimepasses")[0]["Notes"] is None
    with pytest.raises(KeyError):
        store.count("invoices")


async def test_reset_returns_to_the_configuration(api: Api, emu: EmulatorServer) -> None:
    emu.add_user("x@example.com", "pw")
    emu.set_faults([FaultRule(method="GET", path=PTP, kind="error500")])
    await api.post(CTP, coworker_pass())
    emu.reset()
    assert emu.store.count("coworkertimepasses") == 0
    assert emu.stats.requests == 0
    assert emu.faults == ()
    assert (await api.get(PTP)).status == 200  # fault gone
    assert (await api.get(CTP, authorization="Basic eEBleGFtcGxlLmNvbTpwdw==")).status == 401
    assert (await api.post(CTP, coworker_pass())).json["Value"] == {"Id": 1}  # ids restart


async def test_stats_count_requests_statuses_routes_and_writes(
    api: Api, emu: EmulatorServer
) -> None:
    await api.post(CTP, coworker_pass())
    await api.post(CTP, {"bad": 1})
    await api.get(f"{CTP}/1")
    await api.get(CTP, authorization=None)
    stats = emu.stats
    assert stats.requests == 4
    assert stats.by_status == {200: 2, 400: 1, 401: 1}
    assert stats.writes == 1
    assert stats.by_route[f"POST {CTP}"] == 2
    assert stats.by_route[f"GET {CTP}/{{Id}}"] == 1
    assert stats.snapshot()["throttled"] == 0


async def test_concurrent_creates_are_atomic(session: aiohttp.ClientSession) -> None:
    async with run_emulator(limits=ThrottleLimits.off()) as emu:
        api = Api(session, emu)
        replies = await asyncio.gather(
            *(api.post(CTP, coworker_pass(CoworkerId=i, CreateMultiple=4)) for i in range(1, 41))
        )
        assert all(r.status == 200 for r in replies)
        assert emu.store.count("coworkertimepasses") == 160
        for reply in replies:
            first = reply.json["Value"]["Id"]
            records = [emu.store.get("coworkertimepasses", first + k) for k in range(4)]
            owners = {r["CoworkerId"] for r in records if r is not None}
            assert len(owners) == 1  # a CreateMultiple's records are consecutive
        ids = [r["Id"] for r in emu.store.all("coworkertimepasses")]
        assert ids == list(range(1, 161))


async def test_create_multiple_cap_is_configurable(session: aiohttp.ClientSession) -> None:
    async with run_emulator(limits=ThrottleLimits.off(), max_create_multiple=3) as emu:
        api = Api(session, emu)
        reply = await api.post(CTP, coworker_pass(CreateMultiple=4))
        assert reply.status == 400
        assert reply.json["Message"] == "CreateMultiple: must be less than or equal to 3"
        assert (await api.post(CTP, coworker_pass(CreateMultiple=3))).status == 200


async def test_undocumented_paths_and_methods(api: Api) -> None:
    reply = await api.request("PATCH", CTP, json={}, validate=False)
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, POST, PUT"
    reply = await api.request("DELETE", f"{CTP}/commands", validate=False)
    assert reply.status == 405 and reply.headers["Allow"] == "GET"
    reply = await api.request("GET", "/api/billing/invoices", validate=False)
    assert reply.status == 404


def test_cli_options_build_the_config() -> None:
    args = parser().parse_args(
        [
            "--port",
            "0",
            "--time-scale",
            "0.1",
            "--no-throttle",
            "--throttle-status",
            "429",
            "--seed",
            "5",
        ]
    )
    config = build_config(args)
    assert config.port == 0 and config.time_scale == 0.1 and config.seed == 5
    assert config.limits.enabled is False and config.throttle_status == 429
    default = build_config(parser().parse_args([]))
    assert (
        default.port == 8080 and default.limits == ThrottleLimits() and default.host == "127.0.0.1"
    )


def test_cli_fault_options() -> None:
    args = parser().parse_args(
        ["--fault", "error500,POST,/api/billing/*,0.25", "--fault", "latency,,,,0.2"]
    )
    assert build_config(args).faults == (
        FaultRule(method="POST", path="/api/billing/*", kind="error500", probability=0.25),
        FaultRule(kind="latency", latency=0.2),
    )
    with pytest.raises(SystemExit):
        parser().parse_args(["--fault", "explode"])


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        EmulatorConfig(time_scale=0)
    with pytest.raises(ValueError):
        EmulatorConfig(throttle_status=503)  # type: ignore[arg-type]
