"""NexudusClient and its resources over aioresponses.

The exact wire format, input checks before sending, and the lifecycle.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from nexudus_async import (
    BasicAuth,
    BearerToken,
    CommandParameter,
    CoworkerTimePass,
    InputError,
    MalformedResponseError,
    NexudusClient,
    NotFoundError,
    OutcomeUnknownError,
    PasswordGrant,
    RateLimits,
    RetryPolicy,
    SortDirection,
    UnsuccessfulResponseError,
    WriteResult,
)

from .conftest import BASE, FakeClock, Wire

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CTP = "/api/billing/coworkertimepasses"
OK_CREATED = {"Status": 200, "WasSuccessful": True, "Message": "created", "Value": {"Id": 501}}
BASIC = "Basic YWRtaW5AZXhhbXBsZS5jb206czNjcmV0IQ=="  # admin@example.com:s3cret!


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def record(**changes: Any) -> dict[str, Any]:
    rec = {
        "Id": 123,
        "CoworkerId": 42,
        "BusinessId": 1,
        "TimePassId": 7,
        "CreateMultiple": None,
        "Notes": "old",
        "PurchaseOrder": "PO-1",
        "Used": True,
        "Free": False,
        "Price": 12.5,
        "ExpireDate": "2025-03-01T18:00:00Z",
        "TariffTimePassUniqueId": None,
        "CoworkerProductUniqueId": "4bf6f8b5-9763-4f32-8408-52872c134b11",
        "CoworkerContractUniqueId": None,
        "CheckedIn": False,
        "Invoiced": True,
        "InvoiceDate": "2025-02-01T00:00:00Z",
        "IsFromTariff": False,
        "RemainingUses": 2,
        "TotalUses": 3,
        "UsedDate": None,
        "UniqueId": "db54a929-6dd1-4907-a9db-2538d7e522b0",
        "SystemId": "ext-9",
        "CreatedOn": "2018-07-03T06:23:01Z",
        "UpdatedOn": "2020-01-01T21:57:21Z",
        "UpdatedBy": "System",
        "FutureField": {"kept": True},
    }
    rec.update(changes)
    return rec


def page(records: list[dict[str, Any]], *, number: int = 1, total_pages: int = 1) -> dict[str, Any]:
    return {
        "Records": records,
        "CurrentPageSize": len(records),
        "CurrentPage": number,
        "TotalItems": len(records),
        "TotalPages": total_pages,
        "HasNextPage": False,
    }


@pytest.fixture
async def client(mocked: Any, clock: FakeClock) -> AsyncIterator[NexudusClient]:
    async with NexudusClient(
        BASE + "/api/",
        BasicAuth("admin@example.com", "s3cret!"),
        rate_limits=None,
        clock=clock,
        sleep=clock.sleep,
    ) as c:
        yield c


# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    "given",
    [
        "https://x.test",
        "https://x.test/",
        "https://x.test/api",
        "https://x.test/api/",
        " https://x.test/API ",
    ],
)
def test_base_url_accepts_trailing_slash_and_api(given: str) -> None:
    assert NexudusClient(given, None).base_url == "https://x.test"


def test_base_url_default_and_prefix() -> None:
    assert NexudusClient(auth=None).base_url == "https://spaces.nexudus.com"
    assert (
        NexudusClient("https://proxy.test/nexudus/api", None).base_url
        == "https://proxy.test/nexudus"
    )


@pytest.mark.parametrize(
    "bad", ["spaces.nexudus.com", "ftp://x.test", "https://u:p@x.test", "https://x.test/?a=1"]
)
def test_bad_base_urls_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        NexudusClient(bad)


@pytest.mark.parametrize(
    "auth", [BasicAuth("a@b.c", "pw!"), BearerToken("tok"), PasswordGrant("a@b.c", "pw!")]
)
def test_plain_http_with_credentials_is_refused_except_to_loopback(auth: Any) -> None:
    with pytest.raises(ValueError, match=r"plain http:// to spaces\.example\.com") as info:
        NexudusClient("http://spaces.example.com", auth)
    assert "pw!" not in str(info.value) and "tok" not in str(info.value)
    for host in ("127.0.0.1:8080", "localhost", "[::1]:9000", "127.0.0.2"):
        NexudusClient(f"http://{host}", auth)
    NexudusClient("http://spaces.example.com", None)  # no credentials: allowed


def test_repr_hides_credentials() -> None:
    for auth in (
        BasicAuth("admin@example.com", "s3cret!"),
        BearerToken("tok-123456"),
        PasswordGrant("admin@example.com", "s3cret!", totp="123456"),
    ):
        client = NexudusClient(auth=auth)
        text = repr(client) + repr(auth) + str(auth)
        for secret in ("s3cret!", "tok-123456", "123456", "admin@example.com"):
            assert secret not in text


# --------------------------------------------------------------------------- reads


async def test_get_sends_exactly_and_parses_wall_clock_dates(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("GET", f"{CTP}/123", payload=record())
    tp = await client.coworker_time_passes.get(123)
    assert isinstance(tp, CoworkerTimePass)
    assert wire.lines() == [f"GET {CTP}/123"]
    headers = wire.log[0].headers
    assert headers["Authorization"] == BASIC
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("nexudus-async/")
    # The API's literal Z is wall-clock time: naive, unshifted.
    assert tp.expire_date == datetime.datetime(2025, 3, 1, 18, 0)
    assert tp.coworker_product_unique_id == uuid.UUID("4bf6f8b5-9763-4f32-8408-52872c134b11")
    assert tp.additional_properties == {"FutureField": {"kept": True}}


async def test_get_404_raises_not_found(client: NexudusClient, wire: Wire) -> None:
    wire.add(
        "GET", f"{CTP}/9", status=404, payload={"Message": "No such record", "WasSuccessful": False}
    )
    with pytest.raises(NotFoundError, match="No such record") as info:
        await client.coworker_time_passes.get(9)
    assert (info.value.status, info.value.method, info.value.path) == (404, "GET", f"{CTP}/9")


async def test_list_maps_filters_ranges_and_order(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", CTP, payload=fixture("coworker_time_pass_page.json"))
    result = await client.coworker_time_passes.list(
        coworker=42,
        used=False,
        time_pass=7,
        created_on=(datetime.datetime(2025, 1, 1), None),
        price=(1.5, 10),
        expire_date=(None, datetime.datetime(2025, 6, 30, 23, 59, 30)),
        notes=None,  # None: no filter
        order_by="created_on",
        direction=SortDirection.DESCENDING,
        size=100,
        page=2,
    )
    assert wire.log[0].params == (
        ("page", "2"),
        ("size", "100"),
        ("orderby", "CreatedOn"),
        ("dir", "descending"),
        ("CoworkerTimePass_Coworker", "42"),
        ("CoworkerTimePass_TimePass", "7"),
        ("CoworkerTimePass_Used", "false"),
        ("From_CoworkerTimePass_CreatedOn", "2025-01-01T00:00"),
        ("From_CoworkerTimePass_Price", "1.5"),
        ("To_CoworkerTimePass_Price", "10"),
        ("To_CoworkerTimePass_ExpireDate", "2025-06-30T23:59:30"),
    )
    assert result.page_number == 2 and result.page_size == 100
    assert (result.total_items, result.total_pages) == (60, 3)
    assert result.has_next and result.next_page_number == 3
    assert [item.id for item in result] == [1234567]


@pytest.mark.parametrize(
    ("direction", "numeric", "sent"),
    [
        (SortDirection.ASCENDING, False, "ascending"),
        (2, False, "descending"),
        ("Desc", False, "descending"),
        (SortDirection.DESCENDING, True, "2"),
        ("ascending", True, "1"),
    ],
)
async def test_sort_direction_forms(
    mocked: Any, wire: Wire, direction: Any, numeric: bool, sent: str
) -> None:
    wire.add("GET", "/api/billing/producttimepasses", payload=page([]))
    async with NexudusClient(
        BASE, None, rate_limits=None, sort_direction_format="numeric" if numeric else "string"
    ) as client:
        await client.product_time_passes.list(direction=direction)
    assert ("dir", sent) in wire.log[0].params
    assert wire.log[0].path == "/api/billing/producttimepasses"


async def test_get_many_chunks_ids_and_keeps_their_order(client: NexudusClient, wire: Wire) -> None:
    ids = list(range(150, 0, -1))
    first = [{"Id": i} for i in range(51, 151)]
    second = [{"Id": i} for i in range(1, 51) if i != 7]  # 7 does not exist
    wire.add("GET", CTP, payload=page(first))
    wire.add("GET", CTP, payload=page(second))
    items = await client.coworker_time_passes.get_many([*ids, 150])
    assert [i.id for i in items] == [i for i in ids if i != 7]
    (p1, p2) = wire.log
    assert p1.params == (
        ("page", "1"),
        ("size", "100"),
        ("CoworkerTimePass_Id", "[" + ",".join(map(str, range(150, 50, -1))) + "]"),
    )
    assert p2.params[1] == ("size", "50")
    assert await client.coworker_time_passes.get_many([]) == []


async def test_commands(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", "/api/billing/tarifftimepasses/commands", payload=fixture("commands.json"))
    commands = await client.tariff_time_passes.commands()
    assert [c.key for c in commands] == ["COMMAND_KEY_1", "COMMAND_KEY_2"]
    assert commands[1].requires_parameters[1].type_ == "Boolean"  # type: ignore[index]


# --------------------------------------------------------------------------- writes


async def test_create_sends_exact_body_and_returns_the_new_id(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("POST", CTP, payload=OK_CREATED)
    created = await client.coworker_time_passes.create(
        coworker_id=42,
        business_id=1,
        time_pass_id=7,
        create_multiple=5,
        notes="imported",
        price=None,
        expire_date=datetime.datetime(2025, 3, 1, 9, 30),
        coworker_product_unique_id=uuid.UUID("4bf6f8b5-9763-4f32-8408-52872c134b11"),
    )
    assert created == WriteResult(id=501, message="created")
    sent = wire.log[0]
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.json() == {
        "CoworkerId": 42,
        "BusinessId": 1,
        "TimePassId": 7,
        "CreateMultiple": 5,
        "Notes": "imported",
        "Price": None,
        "ExpireDate": "2025-03-01T09:30:00Z",
        "CoworkerProductUniqueId": "4bf6f8b5-9763-4f32-8408-52872c134b11",
    }


async def test_create_multiple_defaults_to_one(client: NexudusClient, wire: Wire) -> None:
    wire.add("POST", CTP, payload=OK_CREATED)
    await client.coworker_time_passes.create(coworker_id=42, business_id=1, time_pass_id=7)
    assert wire.log[0].json()["CreateMultiple"] == 1


async def test_create_for_products_and_tariffs(client: NexudusClient, wire: Wire) -> None:
    wire.add("POST", "/api/billing/producttimepasses", payload=OK_CREATED)
    wire.add("POST", "/api/billing/tarifftimepasses", payload=OK_CREATED)
    await client.product_time_passes.create(
        product_id=3, time_pass_id=7, passes_included=10, expiration_type=4
    )
    await client.tariff_time_passes.create(
        tariff_id=5, time_pass_id=7, passes_included=2, pass_renewal_time=2
    )
    assert wire.log[0].json() == {
        "ProductId": 3,
        "TimePassId": 7,
        "PassesIncluded": 10,
        "ExpirationType": 4,
    }
    assert wire.log[1].json() == {
        "TariffId": 5,
        "TimePassId": 7,
        "PassesIncluded": 2,
        "PassRenewalTime": 2,
    }


async def test_update_reads_the_full_record_and_puts_everything_back(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add("GET", f"{CTP}/123", payload=record())
    wire.add(
        "PUT", CTP, payload={"WasSuccessful": True, "Message": "updated", "Value": {"Id": 123}}
    )
    result = await client.coworker_time_passes.update(123, notes="moved", price=None)
    assert result.id == 123
    assert wire.lines() == [f"GET {CTP}/123", f"PUT {CTP}"]
    assert wire.log[1].json() == {
        "Id": 123,
        "CoworkerId": 42,
        "BusinessId": 1,
        "TimePassId": 7,
        "CreateMultiple": 1,  # null in the record; a PUT must send it
        "Notes": "moved",
        "PurchaseOrder": "PO-1",
        "Used": True,
        "Free": False,
        "Price": None,  # None clears explicitly
        "ExpireDate": "2025-03-01T18:00:00Z",  # unshifted
        "TariffTimePassUniqueId": None,
        "CoworkerProductUniqueId": "4bf6f8b5-9763-4f32-8408-52872c134b11",
        "CoworkerContractUniqueId": None,
        "SystemId": "ext-9",
        "FutureField": {"kept": True},  # unknown to the spec, kept
    }


async def test_update_of_a_missing_record_sends_no_put(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", f"{CTP}/5", status=404, payload={"Message": "not found"})
    with pytest.raises(NotFoundError):
        await client.coworker_time_passes.update(5, notes="x")
    assert wire.lines() == [f"GET {CTP}/5"]


async def test_update_needs_values_the_record_lacks(client: NexudusClient, wire: Wire) -> None:
    wire.add(
        "GET",
        "/api/billing/tarifftimepasses/8",
        payload={
            "Id": 8,
            "TariffId": 1,
            "TimePassId": 2,
            "PassesIncluded": 3,
            "PassRenewalTime": None,
        },
    )
    with pytest.raises(InputError, match="pass_renewal_time"):
        await client.tariff_time_passes.update(8, passes_included=4)
    assert wire.lines() == ["GET /api/billing/tarifftimepasses/8"]


async def test_delete_and_run_command(client: NexudusClient, wire: Wire) -> None:
    wire.add("DELETE", f"{CTP}/12", payload=fixture("action_result_deleted.json"))
    wire.add("POST", f"{CTP}/runcommand", payload=fixture("run_command_result.json"))
    deleted = await client.coworker_time_passes.delete(12)
    assert deleted.id is None and deleted.message == "The record was deleted successfully."
    ran = await client.coworker_time_passes.run_command(
        "COMMAND_KEY_2",
        ids=[1329961649],
        parameters=[
            CommandParameter(value=987654321, type_="string"),
            CommandParameter(value=True, name="Notify"),
        ],
    )
    assert ran.id == 12345678
    assert wire.log[1].json() == {
        "Key": "COMMAND_KEY_2",
        "Ids": [1329961649],
        "Parameters": [{"Value": 987654321, "Type": "string"}, {"Value": True, "Name": "Notify"}],
    }


async def test_was_successful_false_raises_through_the_client(
    client: NexudusClient, wire: Wire
) -> None:
    wire.add(
        "POST",
        CTP,
        payload={"Status": 200, "WasSuccessful": False, "Message": "Customer is archived"},
    )
    with pytest.raises(UnsuccessfulResponseError, match="Customer is archived"):
        await client.coworker_time_passes.create(coworker_id=42, business_id=1, time_pass_id=7)


async def test_an_answer_of_the_wrong_shape_is_malformed(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", f"{CTP}/1", payload={"Notes": "no Id"})
    with pytest.raises(MalformedResponseError, match="documented shape") as info:
        await client.coworker_time_passes.get(1)
    assert info.value.path == f"{CTP}/1"


# A POST answered 200 with a body that cannot be read as its answer: the API
# may well have executed it, so it must not look like a definite failure.
UNREADABLE_200: list[dict[str, Any]] = [
    {"body": b""},
    {"body": b"", "content_type": "application/json"},
    {"body": b"<html>OK</html>", "content_type": "text/html"},
    {"payload": ["not", "an", "envelope"]},
    {"payload": {"Status": 200, "Message": "no WasSuccessful"}},
    {"payload": "created"},
]


@pytest.mark.parametrize("answer", UNREADABLE_200)
async def test_a_create_answered_200_unreadably_is_outcome_unknown(
    client: NexudusClient, wire: Wire, answer: dict[str, Any]
) -> None:
    wire.add("POST", CTP, status=200, **answer)
    with pytest.raises(OutcomeUnknownError, match="outcome is unknown") as info:
        await client.coworker_time_passes.create(coworker_id=42, business_id=1, time_pass_id=7)
    assert (info.value.method, info.value.path, info.value.status) == ("POST", CTP, 200)
    assert isinstance(info.value.cause, MalformedResponseError)
    assert wire.lines() == [f"POST {CTP}"]  # never resent


@pytest.mark.parametrize("answer", UNREADABLE_200)
async def test_a_command_answered_200_unreadably_is_outcome_unknown(
    client: NexudusClient, wire: Wire, answer: dict[str, Any]
) -> None:
    wire.add("POST", f"{CTP}/runcommand", status=200, **answer)
    with pytest.raises(OutcomeUnknownError, match="outcome is unknown"):
        await client.coworker_time_passes.run_command("CTP_USE", ids=[1])
    assert wire.lines() == [f"POST {CTP}/runcommand"]


@pytest.mark.parametrize("answer", UNREADABLE_200)
async def test_a_read_answered_200_unreadably_stays_malformed(
    client: NexudusClient, wire: Wire, answer: dict[str, Any]
) -> None:
    # A read executed nothing: an unreadable answer is just a bad answer.
    wire.add("GET", f"{CTP}/1", status=200, **answer)
    with pytest.raises(MalformedResponseError) as info:
        await client.coworker_time_passes.get(1)
    assert not isinstance(info.value, OutcomeUnknownError)
    assert (info.value.method, info.value.path) == ("GET", f"{CTP}/1")


# --------------------------------------------------------------------------- bad input


BAD_CALLS: list[tuple[str, Any, str, str]] = [
    (
        "create_multiple",
        lambda r: r.create(coworker_id=1, business_id=1, time_pass_id=1, create_multiple=0),
        "create_multiple=0",
        "at least 1",
    ),
    (
        "coworker_id",
        lambda r: r.create(coworker_id=-3, business_id=1, time_pass_id=1),
        "coworker_id=-3",
        "at least 1",
    ),
    (
        "expire_date",
        lambda r: r.create(
            coworker_id=1,
            business_id=1,
            time_pass_id=1,
            expire_date=datetime.datetime(
                2025, 1, 1, 9, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
            ),
        ),
        "expire_date=",
        "non-zero UTC offset",
    ),
    (
        "price",
        lambda r: r.create(coworker_id=1, business_id=1, time_pass_id=1, price=float("nan")),
        "price=nan",
        "finite",
    ),
    (
        "coworker_product_unique_id",
        lambda r: r.create(
            coworker_id=1, business_id=1, time_pass_id=1, coworker_product_unique_id="nope"
        ),
        "coworker_product_unique_id='nope'",
        "UUID",
    ),
    (
        "created_on",
        lambda r: r.list(
            created_on=(
                datetime.datetime(
                    2025, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))
                ),
                None,
            )
        ),
        "created_on=",
        "non-zero UTC offset",
    ),
    (
        "created_on",
        lambda r: r.list(created_on=(datetime.datetime(2025, 2, 1), datetime.datetime(2025, 1, 1))),
        "created_on=",
        "start is after the end",
    ),
    ("coworker", lambda r: r.list(coworker=(1, 2)), "coworker=(1, 2)", "no range filter"),
    (
        "created_on",
        lambda r: r.list(created_on=datetime.datetime(2025, 1, 1)),
        "created_on=",
        "range filter",
    ),
    ("size", lambda r: r.list(size=0), "size=0", "at least 1"),
    ("page", lambda r: r.list(page=0), "page=0", "at least 1"),
    ("direction", lambda r: r.list(direction="sideways"), "direction='sideways'", "ASCENDING"),
    ("id", lambda r: r.get(0), "id=0", "at least 1"),
    ("id", lambda r: r.update(True, notes="x"), "id=True", "whole number"),
    (
        "create_multiple",
        lambda r: r.update(1, create_multiple=0),
        "create_multiple=0",
        "at least 1",
    ),
    ("ids", lambda r: r.get_many([1, "2"]), "ids='2'", "whole number"),
    ("key", lambda r: r.run_command("", ids=[1]), "key=''", "command key"),
]


@pytest.mark.parametrize(
    ("field", "call", "shown", "reason"),
    BAD_CALLS,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)],
)
async def test_bad_input_is_refused_before_sending(
    client: NexudusClient, wire: Wire, field: str, call: Any, shown: str, reason: str
) -> None:
    with pytest.raises(InputError) as info:
        await call(client.coworker_time_passes)
    assert info.value.field == field
    assert shown in str(info.value) and reason in str(info.value)
    assert isinstance(info.value, ValueError)
    assert wire.log == []


BIG = 10**30  # orjson cannot even encode it
OVER = 2**31  # encodes, and the API answers 400: one more than its 32-bit integers hold

OUT_OF_RANGE: list[tuple[str, str, Any, str]] = [
    (
        "coworker",
        "coworker_id",
        lambda r: r.create(coworker_id=BIG, business_id=1, time_pass_id=1),
        f"coworker_id={BIG}",
    ),
    (
        "coworker",
        "business_id",
        lambda r: r.create(coworker_id=1, business_id=OVER, time_pass_id=1),
        f"business_id={OVER}",
    ),
    (
        "coworker",
        "create_multiple",
        lambda r: r.create(coworker_id=1, business_id=1, time_pass_id=1, create_multiple=BIG),
        f"create_multiple={BIG}",
    ),
    (
        "coworker",
        "create_multiple",
        lambda r: r.create(coworker_id=1, business_id=1, time_pass_id=1, create_multiple=OVER),
        f"create_multiple={OVER}",
    ),
    ("coworker", "id", lambda r: r.get(BIG), f"id={BIG}"),
    ("coworker", "id", lambda r: r.delete(OVER), f"id={OVER}"),
    ("coworker", "id", lambda r: r.update(OVER, notes="x"), f"id={OVER}"),
    ("coworker", "time_pass_id", lambda r: r.update(1, time_pass_id=BIG), f"time_pass_id={BIG}"),
    ("coworker", "ids", lambda r: r.get_many([1, OVER]), f"ids={OVER}"),
    ("coworker", "ids", lambda r: r.run_command("MARK_AS_USED", ids=[1, BIG]), f"ids={BIG}"),
    (
        "product",
        "passes_included",
        lambda r: r.create(product_id=1, time_pass_id=1, passes_included=OVER),
        f"passes_included={OVER}",
    ),
    (
        "product",
        "expire_time_in_months",
        lambda r: r.create(
            product_id=1, time_pass_id=1, passes_included=1, expire_time_in_months=BIG
        ),
        f"expire_time_in_months={BIG}",
    ),
    (
        "product",
        "expiration_type",
        lambda r: r.create(product_id=1, time_pass_id=1, passes_included=1, expiration_type=BIG),
        f"expiration_type={BIG}",
    ),
    (
        "tariff",
        "pass_renewal_time",
        lambda r: r.create(tariff_id=1, time_pass_id=1, passes_included=1, pass_renewal_time=OVER),
        f"pass_renewal_time={OVER}",
    ),
    (
        "tariff",
        "tariff_id",
        lambda r: r.create(tariff_id=OVER, time_pass_id=1, passes_included=1, pass_renewal_time=1),
        f"tariff_id={OVER}",
    ),
]


@pytest.mark.parametrize(
    ("entity", "field", "call", "shown"),
    OUT_OF_RANGE,
    ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(OUT_OF_RANGE)],
)
async def test_integers_beyond_32_bits_are_refused_before_sending(
    client: NexudusClient, wire: Wire, entity: str, field: str, call: Any, shown: str
) -> None:
    # Never a raw TypeError/OverflowError from the encoder, never a 400 after sending.
    resource = getattr(client, f"{entity}_time_passes")
    with pytest.raises(InputError) as info:
        await call(resource)
    assert info.value.field == field
    assert str(info.value).startswith(f"invalid {shown}: ")
    # An enum names its values; any other integer its 32-bit bound.
    enum = field in ("expiration_type", "pass_renewal_time")
    assert ("must be one of" if enum else "2147483647") in str(info.value)
    assert wire.log == []


async def test_unknown_names_are_type_errors(client: NexudusClient, wire: Wire) -> None:
    with pytest.raises(
        TypeError, match=r"coworker_time_passes\.list\(\) got an unknown filter customer"
    ):
        await client.coworker_time_passes.list(customer=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="colour"):
        await client.coworker_time_passes.update(1, colour="red")  # type: ignore[call-arg]
    with pytest.raises(InputError, match="cannot change"):
        await client.coworker_time_passes.update(1, id=2)  # type: ignore[call-arg]
    with pytest.raises(InputError, match="max_items"):
        client.coworker_time_passes.iter(max_items=-1)
    with pytest.raises(InputError, match="prefetch"):
        client.coworker_time_passes.pages(prefetch=0)
    assert wire.log == []


# --------------------------------------------------------------------------- lifecycle and options


async def test_with_options_is_a_view_sharing_session_limiter_and_auth(
    client: NexudusClient, wire: Wire, mocked: Any
) -> None:
    patient = client.with_options(timeout=5, retry=RetryPolicy(max_retries=0))
    assert patient.limiter is client.limiter and patient.auth is client.auth
    assert (patient.timeout, client.timeout) == (5, 60.0)
    assert patient.retry.max_retries == 0 and client.retry.max_retries == 3
    wire.add("GET", f"{CTP}/1", payload=record(Id=1))
    await patient.coworker_time_passes.get(1)
    ((_, calls),) = mocked.requests.items()
    assert calls[0].kwargs["timeout"].total == 5
    await patient.close()  # a view's close does nothing
    assert not client.closed
    wire.add("GET", f"{CTP}/2", payload=record(Id=2))
    await client.coworker_time_passes.with_options(timeout=7).get(2)


async def test_client_closes_its_own_session_only(mocked: Any, wire: Wire) -> None:
    async with NexudusClient(BASE, None, rate_limits=None) as client:
        session = client._state.transport().session
    assert session.closed and client.closed
    with pytest.raises(RuntimeError, match="closed"):
        await client.coworker_time_passes.get(1)

    async with aiohttp.ClientSession() as mine:
        async with NexudusClient(BASE, None, session=mine, rate_limits=None) as client:
            wire.add("GET", f"{CTP}/1", payload=record(Id=1))
            await client.coworker_time_passes.get(1)
        assert not mine.closed


async def test_trace_configs_reach_the_session_the_client_creates() -> None:
    trace = aiohttp.TraceConfig()
    async with NexudusClient(BASE, None, trace_configs=[trace]) as client:
        assert trace in client._state.transport().session.trace_configs
    with pytest.raises(ValueError, match="trace_configs"):
        async with aiohttp.ClientSession() as s:
            NexudusClient(BASE, None, session=s, trace_configs=[trace])


async def test_a_client_never_used_opens_no_session() -> None:
    client = NexudusClient(BASE, None)
    await client.close()
    assert client.closed


async def test_cancellation_propagates_and_the_client_still_closes(mocked: Any, wire: Wire) -> None:
    started = asyncio.Event()

    async def hang(url: Any, **kwargs: Any) -> None:
        started.set()
        await asyncio.Event().wait()

    mocked.get(f"{BASE}{CTP}/1", callback=hang)
    async with NexudusClient(BASE, None, rate_limits=None) as client:
        task = asyncio.create_task(client.coworker_time_passes.get(1))
        async with asyncio.timeout(5):
            await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert client.closed


async def test_the_limiter_is_shared_by_every_call_and_view(
    mocked: Any, wire: Wire, clock: FakeClock
) -> None:
    for i in range(4):
        wire.add("GET", f"{CTP}/{i + 1}", payload=record(Id=i + 1))
    limits = RateLimits(min_interval=1.0).without_safety()
    async with NexudusClient(
        BASE, None, rate_limits=limits, clock=clock, sleep=clock.sleep
    ) as client:
        view = client.with_options(timeout=3)
        async with asyncio.timeout(5):
            await asyncio.gather(
                client.coworker_time_passes.get(1),
                view.coworker_time_passes.get(2),
                client.product_time_passes.with_options(timeout=4).get(3)
                if False
                else client.coworker_time_passes.get(3),
                view.coworker_time_passes.get(4),
            )
        assert client.limiter.acquired == 4
    assert clock.sleeps == [1.0, 1.0, 1.0]


async def test_a_delete_whose_lost_attempt_succeeded_is_not_an_error(
    client: NexudusClient, wire: Wire, mocked: Any
) -> None:
    mocked.delete(f"{BASE}{CTP}/12", exception=aiohttp.ServerDisconnectedError())
    wire.add("DELETE", f"{CTP}/12", status=404, payload={"Message": "not found"})
    result = await client.coworker_time_passes.delete(12)
    assert result.message is not None and "earlier attempt" in result.message
    wire.add("DELETE", f"{CTP}/13", status=404, payload={"Message": "not found"})
    with pytest.raises(NotFoundError) as info:
        await client.coworker_time_passes.delete(13)
    assert not info.value.after_uncertain_attempt
