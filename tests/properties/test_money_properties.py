"""Money and the wire as properties: any decimal the API holds survives model -> bytes -> model.

The API's ``decimal`` is .NET's (28 significant digits, up to 28 places). Every
such value, sent in a create body and read back from an answer, is the same
value, with either decoder; the body carries exactly the value's digits, so no
float was on the way out, and values a double cannot hold come back exact, so
none was on the way in either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from hypothesis import example, given

from nexudus_async._core import decimals, transport
from nexudus_async._core.wire import structure, unstructure
from nexudus_async._generated.models import CoworkerTimePass, CoworkerTimePassCreate

from .money import api_decimals

DECODERS = pytest.mark.parametrize("decoder", ["orjson", "stdlib"])


@contextmanager
def using(decoder: str) -> Iterator[None]:
    """orjson (the fast path, when installed) or the standard decoder and encoder."""
    saved = transport._orjson
    assert saved is not None
    transport._orjson = saved if decoder == "orjson" else None
    try:
        yield
    finally:
        transport._orjson = saved


def price_bytes(body: bytes) -> bytes:
    start = body.index(b'"Price":') + len(b'"Price":')
    end = min(i for i in (body.find(b",", start), body.find(b"}", start)) if i != -1)
    return body[start:end]


@given(price=api_decimals)
@example(price=Decimal("12.30"))
@example(price=Decimal("0.30000000000000001"))  # more digits than a double holds
@example(price=Decimal("-79228162514264337593543950335"))
@example(price=Decimal("0.0000000000000000000000000001"))
@example(price=Decimal("-0.00"))
@DECODERS
def test_a_price_goes_out_with_its_digits_and_comes_back_the_same(
    decoder: str, price: Decimal
) -> None:
    with using(decoder):
        round_trip(price)


def round_trip(price: Decimal) -> None:
    model = CoworkerTimePassCreate(coworker_id=1, business_id=2, time_pass_id=3, price=price)
    body = transport.dumps(unstructure(model))
    assert price_bytes(body) == decimals.wire_text(price).encode()
    assert b"e" not in price_bytes(body).lower()  # plain digits, no exponent
    back = structure(transport.loads(body), CoworkerTimePassCreate)
    assert type(back.price) is Decimal
    assert back.price == price


@given(price=api_decimals)
@example(price=Decimal("1234567890123456789012345678"))
@example(price=Decimal("-0"))
@DECODERS
def test_a_price_the_api_wrote_is_read_as_written(decoder: str, price: Decimal) -> None:
    with using(decoder):
        read_back(price, exact_digits=decoder == "stdlib")


def read_back(price: Decimal, *, exact_digits: bool) -> None:
    answer = b'{"Id":7,"CoworkerId":1,"BusinessId":2,"TimePassId":3,"Price":%s}' % (
        decimals.wire_text(price).encode()
    )
    record = structure(transport.loads(answer), CoworkerTimePass)
    assert type(record.price) is Decimal
    assert record.price == price
    written = Decimal(decimals.wire_text(price))
    if exact_digits and not (written.is_zero() and written.as_tuple().exponent == 0):
        # the exact decoder keeps every digit, trailing zeros too (a JSON integer -0 is an
        # integer: 0, the same amount)
        assert record.price.as_tuple() == written.as_tuple()
