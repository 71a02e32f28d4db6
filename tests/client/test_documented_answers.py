"""Every documented (or observed) answer of the API is tolerated (issue 10, client side).

Over aioresponses, so each answer is exactly the one the reference pages
(shared/api-docs) or NOTES.md describe, whether or not the emulator says it.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any

import pytest

from nexudus_async import (
    BasicAuth,
    CommandParameter,
    CoworkerTimePassListItem,
    ExpirationType,
    FieldsClearedWarning,
    InputError,
    MalformedResponseError,
    NexudusClient,
    NexudusError,
    NotFoundError,
    OutcomeUnknownError,
    PassRenewalTime,
    ProductTimePassListItem,
    RetryPolicy,
    ServerError,
    TariffTimePassListItem,
    TimePassListItem,
    WriteResult,
)
from nexudus_async._core.wire import UNSET

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


# --------------------------------------------------------------------------- 404 and 500 bodies

NOT_FOUND = b'"Not found"'  # the older pages' 404 body: a JSON string
SERVER_ERROR = {"Message": "An error has occurred."}  # the older pages' 500 body


def full_record(**changes: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "Id": 9,
        "CoworkerId": 42,
        "BusinessId": 1,
        "TimePassId": 7,
        "CreateMultiple": 1,
        "Notes": "n",
        "PurchaseOrder": None,
        "Used": False,
        "Free": False,
        "Price": None,
        "ExpireDate": None,
        "TariffTimePassUniqueId": None,
        "CoworkerProductUniqueId": None,
        "CoworkerContractUniqueId": None,
        "SystemId": None,
    }
    rec.update(changes)
    return rec


async def _call(client: NexudusClient, operation: str) -> Any:
    ns = client.coworker_time_passes
    if operation == "get":
        return await ns.get(9)
    if operation == "update":
        return await ns.update(9, notes="x")
    if operation == "delete":
        return await ns.delete(9)
    return await ns.list()


# (operation, method and path of the request that fails, answers before it)
FAILING = [
    ("get", "GET", f"{CTP}/9", []),
    ("update", "PUT", CTP, [("GET", f"{CTP}/9", full_record())]),
    ("delete", "DELETE", f"{CTP}/9", []),
    ("list", "GET", CTP, []),
]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
@pytest.mark.parametrize(("operation", "method", "path", "before"), FAILING)
async def test_a_404_with_the_json_string_not_found_is_not_found_error(
    client: NexudusClient,
    wire: Wire,
    operation: str,
    method: str,
    path: str,
    before: list[tuple[str, str, Any]],
    content_type: str,
) -> None:
    for m, p, payload in before:
        wire.add(m, p, payload=payload)
    wire.add(method, path, status=404, body=NOT_FOUND, content_type=content_type)
    with pytest.raises(NotFoundError) as info:
        await _call(client, operation)
    error = info.value
    assert type(error) is NotFoundError
    assert (error.status, error.method, error.path) == (404, method, path)
    assert error.api_message == "Not found"
    assert str(error) == f"not found: Not found [{method} {path} -> 404]"
    assert error.body == NOT_FOUND
    assert wire.lines()[-1].split("?")[0] == f"{method} {path}"
    assert len(wire.log) == len(before) + 1  # a 404 is not retried


@pytest.mark.parametrize(("operation", "method", "path", "before"), FAILING)
async def test_a_500_with_the_documented_message_is_server_error_carrying_it(
    client: NexudusClient,
    wire: Wire,
    clock: FakeClock,
    operation: str,
    method: str,
    path: str,
    before: list[tuple[str, str, Any]],
) -> None:
    for m, p, payload in before:
        wire.add(m, p, payload=payload)
    wire.add(method, path, status=500, payload=SERVER_ERROR, repeat=True)
    with pytest.raises(ServerError) as info:
        await _call(client, operation)
    error = info.value
    assert type(error) is ServerError
    assert (error.status, error.method, error.path) == (500, method, path)
    assert error.api_message == "An error has occurred."
    assert str(error) == f"server error: An error has occurred. [{method} {path} -> 500]"
    assert error.errors == ()
    # GET, PUT and DELETE are idempotent: resent after the default policy's backoffs.
    assert len(wire.log) == len(before) + 1 + RetryPolicy().max_retries
    assert len(clock.sleeps) == RetryPolicy().max_retries


async def test_a_create_answered_the_documented_500_is_outcome_unknown_with_its_message(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("POST", CTP, status=500, payload=SERVER_ERROR)
    with pytest.raises(OutcomeUnknownError) as info:
        await client.coworker_time_passes.create(coworker_id=42, business_id=1, time_pass_id=7)
    assert info.value.api_message == "An error has occurred."
    assert isinstance(info.value.cause, ServerError)
    assert wire.lines() == [f"POST {CTP}"]


# --------------------------------------------------------------------------- unknown enum values

OK_UPDATED = {"WasSuccessful": True, "Message": "updated", "Value": {"Id": 1}}
OBSERVED_PTP = {  # tests/fixtures/product_time_pass_observed.json, trimmed
    "Id": 7654321,
    "ProductId": 12345678,
    "TimePassId": 12345678,
    "PassesIncluded": 5,
    "ExpireTimeInMonths": None,
    "ExpireTimeInWeeks": None,
    "ExpirationType": 0,
    "ExpiresIn": None,
    "SystemId": None,
    "IsArchived": False,
}
TARIFF_PASS = {
    "Id": 8,
    "TariffId": 1,
    "TimePassId": 2,
    "PassesIncluded": 3,
    "PassRenewalTime": 0,
    "SystemId": None,
}


async def test_an_unknown_expiration_type_read_survives_update(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("GET", f"{PTP}/7654321", payload=OBSERVED_PTP, repeat=True)
    wire.add("PUT", PTP, payload=OK_UPDATED)
    tp = await client.product_time_passes.get(7654321)
    assert type(tp.expiration_type) is ExpirationType
    assert (tp.expiration_type.value, tp.expiration_type.name) == (0, "UNKNOWN_0")
    await client.product_time_passes.update(7654321, passes_included=6)
    assert wire.log[-1].json() == {
        "Id": 7654321,
        "ProductId": 12345678,
        "TimePassId": 12345678,
        "PassesIncluded": 6,
        "ExpireTimeInMonths": None,
        "ExpireTimeInWeeks": None,
        "ExpirationType": 0,  # echoed as read
        "ExpiresIn": None,
        "SystemId": None,
        "IsArchived": False,
    }


async def test_an_unknown_pass_renewal_time_read_survives_update(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("GET", f"{TTP}/8", payload=TARIFF_PASS)
    wire.add("PUT", TTP, payload=OK_UPDATED)
    await client.tariff_time_passes.update(8, passes_included=4)
    assert wire.log[-1].json() == {**TARIFF_PASS, "PassesIncluded": 4}


async def test_unknown_enum_values_in_list_records_parse(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", PTP, payload=envelope([{"Id": 1, "ExpirationType": 0}, {"Id": 2}]))
    page = await client.product_time_passes.list()
    assert [type(i.expiration_type) for i in page] == [ExpirationType, type(UNSET)]
    assert page.items[0].expiration_type == 0


CREATE_PTP = {"product_id": 1, "time_pass_id": 2, "passes_included": 1}
ENUM_HINT = (
    " (the documented values; to send another, create the client with "
    "allow_unknown_enum_values=True)"
)


async def test_sending_an_undocumented_enum_value_is_an_input_error_by_default(
    client: NexudusClient, wire: Wire
) -> None:
    assert client.allow_unknown_enum_values is False
    with pytest.raises(InputError) as info:
        await client.product_time_passes.create(**CREATE_PTP, expiration_type=0)
    assert (info.value.field, info.value.value) == ("expiration_type", 0)
    assert (
        str(info.value) == "invalid expiration_type=0: must be one of 1, 2, 3, 4, 5, 6" + ENUM_HINT
    )
    with pytest.raises(InputError) as info:
        await client.product_time_passes.update(1, expiration_type=ExpirationType(0))
    assert (info.value.field, info.value.value) == ("expiration_type", ExpirationType(0))
    with pytest.raises(InputError, match=r"^invalid pass_renewal_time=9: must be one of 1, 2"):
        await client.tariff_time_passes.create(
            tariff_id=1, time_pass_id=2, passes_included=1, pass_renewal_time=9
        )
    assert wire.log == []  # nothing was sent, not even the update's read


async def test_allow_unknown_enum_values_sends_them(
    mocked: Any, clock: FakeClock, wire: Wire
) -> None:
    wire.add("POST", PTP, payload=OK_UPDATED)
    wire.add("GET", f"{TTP}/8", payload={**TARIFF_PASS, "PassRenewalTime": 1})
    wire.add("PUT", TTP, payload=OK_UPDATED)
    async with NexudusClient(
        BASE,
        None,
        rate_limits=None,
        clock=clock,
        sleep=clock.sleep,
        allow_unknown_enum_values=True,
    ) as client:
        assert client.allow_unknown_enum_values is True
        await client.product_time_passes.create(**CREATE_PTP, expiration_type=0)
        await client.tariff_time_passes.update(8, pass_renewal_time=PassRenewalTime(9))
        # still a whole number within the API's 32 bits
        with pytest.raises(InputError, match="must be a whole number"):
            await client.product_time_passes.create(**CREATE_PTP, expiration_type="0")
        strict = client.with_options(allow_unknown_enum_values=False)
        assert strict.allow_unknown_enum_values is False
        with pytest.raises(InputError, match="must be one of"):
            await strict.product_time_passes.create(**CREATE_PTP, expiration_type=0)
        assert client.with_options(timeout=5).allow_unknown_enum_values is True
    assert wire.log[0].json() == {
        "ProductId": 1,
        "TimePassId": 2,
        "PassesIncluded": 1,
        "ExpirationType": 0,
    }
    assert wire.log[2].json() == {**TARIFF_PASS, "PassRenewalTime": 9}
    assert len(wire.log) == 3


async def test_a_view_may_opt_in_to_unknown_enum_values(client: NexudusClient, wire: Wire) -> None:
    wire.add("POST", PTP, payload=OK_UPDATED, repeat=True)
    lenient = client.with_options(allow_unknown_enum_values=True)
    await lenient.product_time_passes.create(**CREATE_PTP, expiration_type=0)
    assert wire.log[0].json()["ExpirationType"] == 0
    namespace = client.product_time_passes.with_options(allow_unknown_enum_values=True)
    await namespace.create(**CREATE_PTP, expiration_type=0)
    assert wire.log[1].json()["ExpirationType"] == 0
    with pytest.raises(InputError, match="must be one of"):
        await lenient.product_time_passes.with_options(allow_unknown_enum_values=False).create(
            **CREATE_PTP, expiration_type=0
        )
    assert len(wire.log) == 2
    assert client.allow_unknown_enum_values is False
    with pytest.raises(TypeError, match="allow_unknown_enum_values"):
        client.with_options(allow_unknown_enum_values="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="allow_unknown_enum_values"):
        NexudusClient(BASE, None, allow_unknown_enum_values=1)  # type: ignore[arg-type]


# ------------------------------------------------------------- update clears nothing silently

# 003's "Get single CoworkerTimePass by Id": no PurchaseOrder, TariffTimePassUniqueId,
# CoworkerContractUniqueId, although a PUT clears what it does not receive.
LIVE_GET_003 = {
    "Id": 1234567,
    "BusinessId": 12345678,
    "CheckedIn": False,
    "CoworkerId": 12345678,
    "CoworkerProductUniqueId": None,
    "CreateMultiple": None,
    "ExpireDate": None,
    "Free": False,
    "Invoiced": False,
    "InvoiceDate": None,
    "IsFromTariff": False,
    "Notes": "Notes",
    "Price": None,
    "RemainingUses": None,
    "TimePassId": 12345678,
    "TotalUses": None,
    "Used": False,
    "UsedDate": None,
    "CreatedOn": "2018-07-03T06:23:01Z",
    "UpdatedOn": "2020-01-01T21:57:21Z",
    "UpdatedBy": "System",
    "UniqueId": "4bf6f8b5-9763-4f32-8408-52872c134b11",
    "SystemId": "{ metadata: { id: 887766, processed: true } }",
}
LIVE_GET_PUT = {
    "Id": 1234567,
    "CoworkerId": 12345678,
    "BusinessId": 12345678,
    "TimePassId": 12345678,
    "CreateMultiple": 1,
    "Notes": "moved",
    "Used": False,
    "Free": False,
    "Price": None,
    "ExpireDate": None,
    "CoworkerProductUniqueId": None,
    "SystemId": "{ metadata: { id: 887766, processed: true } }",
}


async def test_update_warns_about_the_fields_the_put_will_clear(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("GET", f"{CTP}/1234567", payload=LIVE_GET_003)
    wire.add("PUT", CTP, payload=OK_UPDATED)
    with pytest.warns(FieldsClearedWarning) as caught:
        await client.coworker_time_passes.update(1234567, notes="moved")
    (warning,) = caught
    assert warning.filename == __file__  # points at the caller's line
    cleared = warning.message
    assert isinstance(cleared, FieldsClearedWarning)
    assert (cleared.entity, cleared.id) == ("CoworkerTimePass", 1234567)
    assert cleared.fields == (
        "purchase_order",
        "tariff_time_pass_unique_id",
        "coworker_contract_unique_id",
    )
    assert str(cleared) == (
        "CoworkerTimePass 1234567 was read back without PurchaseOrder, "
        "TariffTimePassUniqueId, CoworkerContractUniqueId: the PUT replaces the whole "
        "record and will clear them; to keep them, pass them to update() "
        "(purchase_order=..., tariff_time_pass_unique_id=..., coworker_contract_unique_id=...)"
    )
    # The update still goes ahead, with what the record had.
    assert wire.log[-1].json() == LIVE_GET_PUT


async def test_update_does_not_warn_about_fields_the_caller_passes(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("GET", f"{CTP}/1234567", payload=LIVE_GET_003, repeat=True)
    wire.add("PUT", CTP, payload=OK_UPDATED, repeat=True)
    with pytest.warns(FieldsClearedWarning) as caught:
        await client.coworker_time_passes.update(
            1234567, purchase_order="PO-7", coworker_contract_unique_id=None
        )
    (warning,) = caught
    assert isinstance(warning.message, FieldsClearedWarning)
    assert warning.message.fields == ("tariff_time_pass_unique_id",)
    assert str(warning.message) == (
        "CoworkerTimePass 1234567 was read back without TariffTimePassUniqueId: the PUT "
        "replaces the whole record and will clear it; to keep it, pass it to update() "
        "(tariff_time_pass_unique_id=...)"
    )
    assert wire.log[-1].json() == {
        **LIVE_GET_PUT,
        "Notes": "Notes",
        "PurchaseOrder": "PO-7",
        "CoworkerContractUniqueId": None,
    }
    # Every writable field the record lacks given: nothing to warn about (-W error).
    await client.coworker_time_passes.update(
        1234567,
        purchase_order=None,
        tariff_time_pass_unique_id=None,
        coworker_contract_unique_id=None,
    )
    assert wire.log[-1].json()["TariffTimePassUniqueId"] is None


async def test_update_of_a_complete_record_does_not_warn(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", f"{PTP}/7654321", payload=OBSERVED_PTP)
    wire.add("PUT", PTP, payload=OK_UPDATED)
    await client.product_time_passes.update(7654321, passes_included=1)  # -W error: no warning
    assert len(wire.log) == 2


def test_fields_cleared_warning_is_exported_as_a_user_warning() -> None:
    import nexudus_async

    assert nexudus_async.FieldsClearedWarning is FieldsClearedWarning
    assert issubclass(FieldsClearedWarning, UserWarning)
    assert "FieldsClearedWarning" in nexudus_async.__all__


# --------------------------------------------------------------------------- offset dates read back

OFFSET = "2025-01-01T10:00:00+02:00"
PLUS_TWO = datetime.timezone(datetime.timedelta(hours=2))


def complete_record(**changes: Any) -> dict[str, Any]:
    """A CoworkerTimePass with every writable field (so update() has nothing to warn about)."""
    return {
        **LIVE_GET_003,
        "PurchaseOrder": None,
        "TariffTimePassUniqueId": None,
        "CoworkerContractUniqueId": None,
        **changes,
    }


async def test_an_offset_read_only_date_does_not_stop_an_update(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("GET", f"{CTP}/1234567", payload=complete_record(UsedDate=OFFSET), repeat=True)
    wire.add("PUT", CTP, payload=OK_UPDATED)
    tp = await client.coworker_time_passes.get(1234567)
    assert tp.used_date == datetime.datetime(2025, 1, 1, 10, 0, tzinfo=PLUS_TWO)  # as written
    result = await client.coworker_time_passes.update(1234567, notes="moved")
    assert result.id == 1
    put = wire.log[-1].json()
    assert "UsedDate" not in put  # read-only: never sent
    assert put["Notes"] == "moved"


async def test_an_offset_writable_date_read_back_is_an_input_error_naming_it(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("GET", f"{CTP}/1234567", payload=complete_record(ExpireDate=OFFSET), repeat=True)
    wire.add("PUT", CTP, payload=OK_UPDATED)
    with pytest.raises(InputError) as info:
        await client.coworker_time_passes.update(1234567, notes="moved")
    error = info.value
    assert isinstance(error, NexudusError)
    assert (error.field, error.value) == (
        "expire_date",
        datetime.datetime(2025, 1, 1, 10, 0, tzinfo=PLUS_TWO),
    )
    assert str(error) == (
        f"invalid expire_date={error.value!r}: CoworkerTimePass 1234567 was read back with "
        "ExpireDate at a non-zero UTC offset; the Nexudus API stores the space's local "
        "wall-clock time and would shift it if sent so, and the client will not guess the "
        "local time: pass expire_date= (a naive datetime in the space's local time, or None) "
        "to update()"
    )
    assert wire.lines() == [f"GET {CTP}/1234567"]  # no PUT
    # Passing the field, as the message says, sends the update.
    await client.coworker_time_passes.update(
        1234567, notes="moved", expire_date=datetime.datetime(2025, 1, 1, 10, 0)
    )
    assert wire.log[-1].json()["ExpireDate"] == "2025-01-01T10:00:00Z"


async def test_an_offset_date_with_zero_offset_read_back_is_sent_as_wall_clock(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add(
        "GET", f"{CTP}/1234567", payload=complete_record(ExpireDate="2025-01-01T10:00:00+00:00")
    )
    wire.add("PUT", CTP, payload=OK_UPDATED)
    await client.coworker_time_passes.update(1234567, notes="moved")
    assert wire.log[-1].json()["ExpireDate"] == "2025-01-01T10:00:00Z"


# ------------------------------------------------------- unreadable answers to PUT and DELETE

# A 200 whose body is empty or not JSON (a proxy, a cut answer): it says nothing of
# what happened. PUT and DELETE are idempotent, so they are safely resent.
UNREADABLE = [
    pytest.param({"body": b""}, "the API answered an empty body", id="empty"),
    pytest.param(
        {"body": b"", "content_type": "application/json"},
        "the API answered an empty body",
        id="empty-json",
    ),
    pytest.param(
        {"body": b"<html>OK</html>", "content_type": "text/html"},
        "the API answered a body that is not JSON (text/html)",
        id="html",
    ),
    pytest.param(
        {"body": b"{not json", "content_type": "application/json"},
        "the API answered a body that is not valid JSON",
        id="invalid-json",
    ),
]


@pytest.mark.parametrize(("answer", "message"), UNREADABLE)
async def test_a_put_answered_unreadably_is_resent(
    client: NexudusClient, wire: Wire, clock: FakeClock, answer: dict[str, Any], message: str
) -> None:
    wire.add("GET", f"{CTP}/1234567", payload=complete_record())
    wire.add("PUT", CTP, status=200, **answer)
    wire.add("PUT", CTP, payload={**OK_UPDATED, "Value": {"Id": 1234567}})
    result = await client.coworker_time_passes.update(1234567, notes="moved")
    assert result.id == 1234567
    assert wire.lines() == [f"GET {CTP}/1234567", f"PUT {CTP}", f"PUT {CTP}"]
    assert wire.log[1].body == wire.log[2].body  # the same PUT again
    assert len(clock.sleeps) == 1  # after the policy's backoff


@pytest.mark.parametrize(("answer", "message"), UNREADABLE)
async def test_a_put_answered_unreadably_every_time_is_malformed(
    client: NexudusClient, wire: Wire, answer: dict[str, Any], message: str
) -> None:
    wire.add("GET", f"{CTP}/1234567", payload=complete_record())
    wire.add("PUT", CTP, status=200, repeat=True, **answer)
    with pytest.raises(MalformedResponseError) as info:
        await client.with_options(retry=RetryPolicy(max_retries=1)).coworker_time_passes.update(
            1234567, notes="moved"
        )
    assert type(info.value) is MalformedResponseError  # not OutcomeUnknownError: resent safely
    assert str(info.value) == f"{message} [PUT {CTP} -> 200]"
    assert wire.lines() == [f"GET {CTP}/1234567", f"PUT {CTP}", f"PUT {CTP}"]


@pytest.mark.parametrize(("answer", "message"), UNREADABLE)
async def test_a_delete_answered_unreadably_then_404_has_deleted(
    client: NexudusClient, wire: Wire, answer: dict[str, Any], message: str
) -> None:
    # The first attempt deleted the record, its answer was unreadable: the resend's 404
    # is that attempt's work, not an error.
    wire.add("DELETE", f"{CTP}/9", status=200, **answer)
    wire.add("DELETE", f"{CTP}/9", status=404, body=NOT_FOUND, content_type="application/json")
    result = await client.coworker_time_passes.delete(9)
    assert result == WriteResult(
        id=None,
        message="CoworkerTimePass 9 is gone: an earlier attempt, whose answer was lost, deleted it",
    )
    assert wire.lines() == [f"DELETE {CTP}/9", f"DELETE {CTP}/9"]


@pytest.mark.parametrize(("answer", "message"), UNREADABLE)
async def test_a_delete_answered_unreadably_then_ok_succeeds(
    client: NexudusClient, wire: Wire, answer: dict[str, Any], message: str
) -> None:
    wire.add("DELETE", f"{CTP}/9", status=200, **answer)
    wire.add("DELETE", f"{CTP}/9", payload={"WasSuccessful": True, "Message": "deleted"})
    result = await client.coworker_time_passes.delete(9)
    assert (result.id, result.message) == (None, "deleted")
    assert wire.lines() == [f"DELETE {CTP}/9", f"DELETE {CTP}/9"]


@pytest.mark.parametrize(("answer", "message"), UNREADABLE)
async def test_a_create_answered_unreadably_is_still_never_resent(
    client: NexudusClient, wire: Wire, answer: dict[str, Any], message: str
) -> None:
    wire.add("POST", CTP, status=200, **answer)
    with pytest.raises(OutcomeUnknownError, match=r"^the outcome is unknown") as info:
        await client.coworker_time_passes.create(coworker_id=42, business_id=1, time_pass_id=7)
    assert isinstance(info.value.cause, MalformedResponseError)
    assert wire.lines() == [f"POST {CTP}"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param(
            datetime.datetime(2025, 1, 1, 10, 0, tzinfo=PLUS_TWO),
            "has a non-zero UTC offset; the Nexudus API stores the space's local wall-clock "
            "time and would shift it. Pass a naive datetime in the space's local time",
            id="offset",
        ),
        pytest.param(float("nan"), "must be a finite number (JSON has no NaN)", id="nan"),
        pytest.param(float("inf"), "must be a finite number (JSON has no NaN)", id="inf"),
    ],
)
async def test_a_command_parameter_the_wire_cannot_carry_is_an_input_error(
    client: NexudusClient, wire: Wire, value: Any, reason: str
) -> None:
    with pytest.raises(InputError) as info:
        await client.coworker_time_passes.run_command(
            "KEY", ids=[1], parameters=[CommandParameter(value=value, name="When")]
        )
    assert (info.value.field, str(info.value)) == (
        "parameters",
        f"invalid parameters={value!r}: {reason}",
    )
    assert wire.log == []


async def test_a_command_parameter_with_a_naive_or_utc_datetime_is_sent_as_wall_clock(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("POST", f"{CTP}/runcommand", payload=OK_UPDATED, repeat=True)
    for value in (
        datetime.datetime(2025, 1, 1, 10, 0),
        datetime.datetime(2025, 1, 1, 10, 0, tzinfo=datetime.UTC),
    ):
        await client.coworker_time_passes.run_command(
            "KEY", ids=[1], parameters=[CommandParameter(value=value, name="When")]
        )
        assert wire.log[-1].json()["Parameters"] == [
            {"Value": "2025-01-01T10:00:00Z", "Name": "When"}
        ]


async def test_bulk_create_follows_the_clients_allow_unknown_enum_values(
    mocked: Any, clock: FakeClock, wire: Wire
) -> None:
    from nexudus_async.bulk import BulkInputError

    rows = [{"ProductId": "1", "TimePassId": "2", "PassesIncluded": "1", "ExpirationType": "0"}]
    wire.add("GET", PTP, payload=envelope([]), repeat=True)
    wire.add("POST", PTP, payload={**OK_UPDATED, "Value": {"Id": 77}}, repeat=True)
    async with NexudusClient(
        BASE, None, rate_limits=None, clock=clock, sleep=clock.sleep
    ) as client:
        with pytest.raises(BulkInputError) as info:
            await client.product_time_passes.bulk_create(rows)
        assert [(e.line, e.field, e.value) for e in info.value.row_errors] == [
            (1, "ExpirationType", "0")
        ]
        assert wire.log == []
        lenient = client.with_options(allow_unknown_enum_values=True)
        report = await lenient.product_time_passes.bulk_create(rows)
        assert (report.records_created, report.create_requests) == (1, 1)
        # The lenient check left nothing behind for the strict one (a shared memo).
        with pytest.raises(BulkInputError):
            await client.product_time_passes.bulk_create(rows)
    (post,) = [s for s in wire.log if s.method == "POST"]
    assert post.json() == {
        "ProductId": 1,
        "TimePassId": 2,
        "PassesIncluded": 1,
        "ExpirationType": 0,
    }


def test_the_documented_500_body_is_an_error_envelope_in_the_generated_layer() -> None:
    from nexudus_async._core.wire import structure
    from nexudus_async._generated.models import ErrorEnvelope

    envelope = structure(SERVER_ERROR, ErrorEnvelope)
    assert (envelope.message, envelope.was_successful, envelope.errors) == (
        "An error has occurred.",
        UNSET,
        UNSET,
    )
