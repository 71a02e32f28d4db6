"""Money is Decimal end to end: exact bytes in bodies and queries, exact reads (both decoders)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest

from nexudus_async import BasicAuth, InputError, NexudusClient
from nexudus_async._core import transport
from nexudus_async._core.wire import structure
from nexudus_async._generated.models import CoworkerTimePass, CoworkerTimePassPage

from .conftest import BASE, FakeClock, Wire
from .test_client import CTP, OK_CREATED, page, record

PUT_OK = {"WasSuccessful": True, "Message": "updated", "Value": {"Id": 123}}


@pytest.fixture
async def client(mocked: Any, clock: FakeClock) -> AsyncIterator[NexudusClient]:
    auth = BasicAuth("admin@example.com", "s3cret!")
    async with NexudusClient(BASE, auth, rate_limits=None, clock=clock, sleep=clock.sleep) as c:
        yield c


def _price_bytes(body: bytes | None) -> bytes:
    assert body is not None
    start = body.index(b'"Price":') + len(b'"Price":')
    end = min(i for i in (body.find(b",", start), body.find(b"}", start)) if i != -1)
    return body[start:end]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (Decimal("12.30"), b"12.30"),  # the Decimal's own digits, trailing zero kept
        (Decimal("0.3"), b"0.3"),
        (Decimal("1E+3"), b"1000"),  # no exponent on the wire
        (Decimal("0.30000000000000001"), b"0.30000000000000001"),  # more than a float holds
        (Decimal("-0.05"), b"-0.05"),
        (12.3, b"12.3"),  # a float: its shortest repr
        (0.3, b"0.3"),
        (0.1 + 0.2, b"0.30000000000000004"),  # that float's shortest repr is exactly this
        (12, b"12"),
    ],
)
async def test_create_sends_the_exact_digits(
    client: NexudusClient, wire: Wire, given: Any, sent: bytes
) -> None:
    wire.add("POST", CTP, payload=OK_CREATED)
    await client.coworker_time_passes.create(
        coworker_id=42, business_id=1, time_pass_id=7, price=given
    )
    body = wire.log[0].body
    assert _price_bytes(body) == sent
    assert body == (
        b'{"CoworkerId":42,"BusinessId":1,"TimePassId":7,"CreateMultiple":1,"Price":' + sent + b"}"
    )


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (Decimal("NaN"), "finite"),
        (Decimal("-Infinity"), "finite"),
        ("12,30", "must be a number"),
        ("abc", "must be a number"),
        (True, "must be a number"),
    ],
)
async def test_what_cannot_be_money_is_refused_before_sending(
    client: NexudusClient, wire: Wire, given: Any, problem: str
) -> None:
    wire.add("POST", CTP, payload=OK_CREATED)
    with pytest.raises(InputError) as caught:
        await client.coworker_time_passes.create(
            coworker_id=42, business_id=1, time_pass_id=7, price=given
        )
    assert caught.value.field == "price"
    assert caught.value.value is given
    assert problem in str(caught.value)
    assert repr(given) in str(caught.value)
    assert wire.log == []


async def test_filters_send_exact_digits_in_the_query(client: NexudusClient, wire: Wire) -> None:
    empty = page([])
    wire.add("GET", CTP, payload=empty, repeat=True)
    await client.coworker_time_passes.list(price=Decimal("12.30"))
    await client.coworker_time_passes.list(price=0.1 + 0.2)
    await client.coworker_time_passes.list(price=(Decimal("0.10"), 0.3))
    await client.coworker_time_passes.list(price=(None, Decimal("5E+1")))
    prices = [[p for p in s.params if "Price" in p[0]] for s in wire.log]
    assert prices == [
        [("CoworkerTimePass_Price", "12.30")],
        [("CoworkerTimePass_Price", "0.30000000000000004")],
        [("From_CoworkerTimePass_Price", "0.10"), ("To_CoworkerTimePass_Price", "0.3")],
        [("To_CoworkerTimePass_Price", "50")],
    ]


@pytest.mark.parametrize("bad", [float("nan"), Decimal("Infinity"), "abc", (Decimal("NaN"), None)])
async def test_a_filter_that_cannot_be_money_is_refused(
    client: NexudusClient, wire: Wire, bad: Any
) -> None:
    with pytest.raises(InputError) as caught:
        await client.coworker_time_passes.list(price=bad)
    assert caught.value.field == "price"
    assert wire.log == []


async def test_update_sends_back_the_digits_it_read(client: NexudusClient, wire: Wire) -> None:
    # More digits than a float holds: the read is exact, so the PUT leaves the price as it was.
    text = json.dumps(record(Price=0)).replace('"Price": 0', '"Price": 0.30000000000000001')
    wire.add("GET", f"{CTP}/123", body=text, content_type="application/json")
    wire.add("PUT", CTP, payload=PUT_OK)
    await client.coworker_time_passes.update(123, notes="moved")
    assert _price_bytes(wire.log[1].body) == b"0.30000000000000001"


async def test_update_with_a_decimal_price(client: NexudusClient, wire: Wire) -> None:
    wire.add("GET", f"{CTP}/123", payload=record())
    wire.add("PUT", CTP, payload=PUT_OK)
    await client.coworker_time_passes.update(123, price=Decimal("99.90"))
    assert _price_bytes(wire.log[1].body) == b"99.90"


# ------------------------------------------------------------------ reading, both decoders


@pytest.fixture(params=["orjson", "json"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "json":
        monkeypatch.setattr(transport, "_orjson", None)
    else:
        assert transport._orjson is not None
    yield request.param


RECORD = b'{"Id":1,"CoworkerId":1,"BusinessId":1,"TimePassId":1,"Price":%s}'


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b"12.30", Decimal("12.30")),
        (b"0.3", Decimal("0.3")),
        (b"10", Decimal("10")),
        (b"0.30000000000000001", Decimal("0.30000000000000001")),
        (b"12345678901234567890.12", Decimal("12345678901234567890.12")),
        (b"1e400", Decimal("1E+400")),  # beyond a double: the exact decoder reads it
        (b"null", None),
    ],
)
def test_reads_keep_what_the_api_wrote(decoder: str, text: bytes, value: Decimal | None) -> None:
    tp = structure(transport.loads(RECORD % text), CoworkerTimePass)
    assert tp.price == value
    if value is not None:
        assert type(tp.price) is Decimal
        # equal, and the same digits up to trailing zeros (orjson reads 12.30 as 12.3)
        assert tp.price.normalize() == value.normalize()


def test_the_fast_path_is_taken_only_when_floats_are_provably_exact() -> None:
    assert transport._floats_are_exact(RECORD % b"12.30")
    assert transport._floats_are_exact(RECORD % b"1234567890123.5")  # 14 digits
    # 15 digits and a point: exact as a float, but the scan errs on the safe side
    assert not transport._floats_are_exact(RECORD % b"123456789012.345")
    assert not transport._floats_are_exact(RECORD % b"1234567890123.456")  # 16 digits
    assert not transport._floats_are_exact(RECORD % b"0.30000000000000001")
    # A long run of digits in a string is a false alarm: still read right, by the exact decoder.
    body = b'{"Notes":"1234567890123456789","Price":12.5}'
    assert not transport._floats_are_exact(body)
    assert transport.loads(body) == {"Notes": "1234567890123456789", "Price": Decimal("12.5")}


def test_a_page_reads_decimals_with_either_decoder(decoder: str) -> None:
    body = (
        b'{"Records":[{"Id":1,"Coworker":1,"Business":1,"TimePass":1,"Price":12.30},'
        b'{"Id":2,"Coworker":1,"Business":1,"TimePass":1,"Price":0.1}],'
        b'"CurrentPageSize":2,"CurrentPage":1,"TotalItems":2,"TotalPages":1}'
    )
    parsed = structure(transport.loads(body), CoworkerTimePassPage)
    assert [r.price for r in parsed.records] == [Decimal("12.30"), Decimal("0.1")]
    assert all(type(r.price) is Decimal for r in parsed.records)


def test_dumps_writes_exact_digits_with_either_encoder(decoder: str) -> None:
    obj = {"Price": Decimal("12.30"), "Other": [Decimal("-0.5"), 1, "x"], "Name": "é"}
    assert transport.dumps(obj) == '{"Price":12.30,"Other":[-0.5,1,"x"],"Name":"é"}'.encode()
    with pytest.raises((ValueError, TypeError)):
        transport.dumps({"Price": Decimal("NaN")})


async def test_a_float_price_sends_the_same_digits_every_time(
    client: NexudusClient, wire: Wire
) -> None:
    # A float is taken through a memo of its Decimal: the second time, a zero of the other
    # sign and a float written with an exponent send what the check alone would.
    wire.add("POST", CTP, payload=OK_CREATED, repeat=True)
    for given in (12.5, 12.5, 0.0, -0.0, -0.0, 1e16, 1e16):
        await client.coworker_time_passes.create(
            coworker_id=42, business_id=1, time_pass_id=7, price=given
        )
    assert [_price_bytes(sent.body) for sent in wire.log] == [
        b"12.5",
        b"12.5",
        b"0.0",
        b"-0.0",
        b"-0.0",
        b"10000000000000000",
        b"10000000000000000",
    ]
    with pytest.raises(InputError, match="finite"):  # refused after finite floats were taken
        await client.coworker_time_passes.create(
            coworker_id=42, business_id=1, time_pass_id=7, price=float("nan")
        )
    assert len(wire.log) == 7
