"""Every documented answer, produced by the emulator's fault modes and met by the client.

The wire-level tests (aioresponses) are in ``test_documented_answers.py``;
these run the client against the emulator over loopback, so the answer the
emulator gives and the one the client expects cannot drift apart.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from nexudus_async import (
    ExpirationType,
    InputError,
    NexudusClient,
    NotFoundError,
    PassRenewalTime,
    ServerError,
    ValidationError,
)
from nexudus_async.testing import FaultRule
from nexudus_async.testing.server import EmulatorServer

from .conftest import FAST_RETRY

CTP = "coworkertimepasses"
PTP = "producttimepasses"
TTP = "tarifftimepasses"
BILLING = "/api/billing"


@pytest.fixture
def client(emulator_client: NexudusClient) -> NexudusClient:
    return emulator_client


def seed_passes(emu: EmulatorServer, n: int) -> list[int]:
    return [
        emu.store.insert(CTP, {"CoworkerId": 42, "BusinessId": 1, "TimePassId": 1})["Id"]
        for _ in range(n)
    ]


async def test_get_many_reads_the_bare_array_answer(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    ids = seed_passes(nexudus_emulator, 3)
    nexudus_emulator.set_faults(
        [FaultRule(method="GET", path=f"{BILLING}/{CTP}", kind="ids_array")]
    )
    found = await client.coworker_time_passes.get_many([ids[2], ids[0], 999])
    assert [p.id for p in found] == [ids[2], ids[0]]
    assert all(p.coworker == 42 for p in found)
    assert nexudus_emulator.stats.faults["ids_array"] == 1  # one request, the array answer
    assert nexudus_emulator.stats.by_route[f"GET {BILLING}/{CTP}"] == 1


async def test_a_not_found_string_is_not_found_error_and_nothing_changes(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    (rid,) = seed_passes(nexudus_emulator, 1)
    nexudus_emulator.set_faults([FaultRule(method="GET", kind="not_found_string", times=1)])
    with pytest.raises(NotFoundError) as info:
        await client.coworker_time_passes.get(rid)
    assert info.value.status == 404
    assert info.value.api_message == "Not found"
    assert nexudus_emulator.store.get(CTP, rid) is not None


async def test_the_message_500_is_a_server_error_carrying_the_message(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    (rid,) = seed_passes(nexudus_emulator, 1)
    nexudus_emulator.set_faults([FaultRule(method="GET", kind="server_message500")])
    with pytest.raises(ServerError) as info:
        await client.coworker_time_passes.get(rid)
    assert info.value.status == 500
    assert info.value.api_message == "An error has occurred."
    # a GET is retried under the policy: every attempt got the same answer
    attempts = FAST_RETRY.max_retries + 1
    assert nexudus_emulator.stats.faults["server_message500"] == attempts


async def test_the_500_shaped_validation_answer_is_a_validation_error_not_retried(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    nexudus_emulator.set_faults([FaultRule(method="POST", kind="validation500")])
    with pytest.raises(ValidationError) as info:
        await client.coworker_time_passes.create(coworker_id=42, business_id=1, time_pass_id=1)
    assert info.value.status == 500
    assert [e.property_name for e in info.value.errors] == ["CoworkerId"]
    assert nexudus_emulator.stats.faults["validation500"] == 1
    assert nexudus_emulator.store.count(CTP) == 0


async def test_a_put_answered_500_after_it_was_applied_is_resent_and_meets_its_effect(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    (rid,) = seed_passes(nexudus_emulator, 1)
    nexudus_emulator.set_faults(
        [FaultRule(method="PUT", path=f"{BILLING}/{CTP}", kind="error500_after", times=1)]
    )
    result = await client.coworker_time_passes.update(rid, notes="moved", price=Decimal("9.50"))
    assert result.id == rid
    stored = nexudus_emulator.store.get(CTP, rid)
    assert stored is not None and (stored["Notes"], stored["Price"]) == ("moved", Decimal("9.50"))
    assert nexudus_emulator.stats.by_route[f"PUT {BILLING}/{CTP}"] == 2
    assert nexudus_emulator.store.count(CTP) == 1


async def test_a_delete_answered_500_after_it_was_applied_has_deleted(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    (rid,) = seed_passes(nexudus_emulator, 1)
    nexudus_emulator.set_faults([FaultRule(method="DELETE", kind="error500_after", times=1)])
    result = await client.coworker_time_passes.delete(rid)
    assert result.message is not None and "earlier attempt" in result.message
    assert nexudus_emulator.store.get(CTP, rid) is None


@pytest.mark.parametrize(
    ("entity", "record", "attribute", "enum"),
    [
        pytest.param(
            PTP,
            {"ProductId": 1, "TimePassId": 1, "PassesIncluded": 1, "ExpirationType": 0},
            "expiration_type",
            ExpirationType,
            id="product",
        ),
        pytest.param(
            TTP,
            {"TariffId": 1, "TimePassId": 1, "PassesIncluded": 1, "PassRenewalTime": 0},
            "pass_renewal_time",
            PassRenewalTime,
            id="tariff",
        ),
    ],
)
async def test_an_undocumented_enum_value_survives_read_update_put(
    nexudus_emulator: EmulatorServer,
    client: NexudusClient,
    entity: str,
    record: dict[str, int],
    attribute: str,
    enum: type[ExpirationType] | type[PassRenewalTime],
) -> None:
    # The live service stores ExpirationType 0 (NOTES.md); the emulator may hold it too.
    rid = nexudus_emulator.store.insert(entity, record)["Id"]
    namespace = client.product_time_passes if entity == PTP else client.tariff_time_passes
    read = await namespace.get(rid)
    value = getattr(read, attribute)
    assert isinstance(value, enum) and int(value) == 0
    # no FieldsClearedWarning either (warnings are errors): the record read back is complete
    result = await namespace.update(rid, passes_included=6)
    assert result.id == rid
    stored = nexudus_emulator.store.get(entity, rid)
    field = "ExpirationType" if entity == PTP else "PassRenewalTime"
    assert stored is not None and (stored["PassesIncluded"], stored[field]) == (6, 0)
    # choosing an undocumented value is refused before sending, unless opted in
    with pytest.raises(InputError, match=attribute):
        await namespace.update(rid, **{attribute: 7})
    assert nexudus_emulator.stats.by_route[f"PUT {BILLING}/{entity}"] == 1


async def test_records_answered_with_an_unknown_enum_value_parse(
    nexudus_emulator: EmulatorServer, client: NexudusClient
) -> None:
    rid = nexudus_emulator.store.insert(
        PTP, {"ProductId": 1, "TimePassId": 1, "PassesIncluded": 1, "ExpirationType": 1}
    )["Id"]
    nexudus_emulator.set_faults([FaultRule(method="GET", kind="unknown_enum")])
    record = await client.product_time_passes.get(rid)
    assert record.expiration_type is not None and int(record.expiration_type) == 0
    listed = [p async for p in client.product_time_passes.iter()]
    assert [int(p.expiration_type) for p in listed if p.expiration_type is not None] == [0]
