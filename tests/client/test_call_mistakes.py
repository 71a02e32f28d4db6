"""Call mistakes read like the call, and one date rule holds for every way a date goes in.

A wrong signature is a ``TypeError`` naming the public method and argument
(with a "did you mean" for a misspelt name); a wrong value is an
``InputError`` naming the argument and the value. Nothing is sent for either.
"""

from __future__ import annotations

import datetime
import pydoc
from collections.abc import AsyncIterator
from typing import Any

import pytest

from nexudus_async import BasicAuth, InputError, NexudusClient
from nexudus_async._core import values
from nexudus_async._generated.api import COWORKER_TIME_PASS

from .conftest import BASE, FakeClock, Wire

CTP = "/api/billing/coworkertimepasses"
OK_CREATED = {"Status": 200, "WasSuccessful": True, "Message": "created", "Value": {"Id": 501}}
PAGE = {"Records": [], "CurrentPage": 1, "CurrentPageSize": 25, "TotalItems": 0, "TotalPages": 0}
REQUIRED = {"coworker_id": 101, "business_id": 1, "time_pass_id": 7}


@pytest.fixture
async def client(mocked: Any, clock: FakeClock) -> AsyncIterator[NexudusClient]:
    async with NexudusClient(
        BASE, BasicAuth("admin@example.com", "s3cret!"), rate_limits=None, sleep=clock.sleep
    ) as c:
        yield c


# ------------------------------------------------------------------ wrong signatures


async def test_a_missing_required_argument_names_the_method_and_the_argument(
    client: NexudusClient, wire: Wire
) -> None:
    ctp = client.coworker_time_passes
    with pytest.raises(TypeError) as one:
        await ctp.create(coworker_id=101, business_id=1)  # type: ignore[call-arg]
    assert str(one.value) == "coworker_time_passes.create() missing required argument: time_pass_id"
    with pytest.raises(TypeError) as two:
        await ctp.create(coworker_id=101)  # type: ignore[call-arg]
    assert str(two.value) == (
        "coworker_time_passes.create() missing required arguments: business_id, time_pass_id"
    )
    assert wire.log == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c: c.coworker_time_passes.list(coworker_id=1),
            "coworker_time_passes.list() got an unknown filter coworker_id; did you mean coworker?",
        ),
        (
            lambda c: c.coworker_time_passes.iter(time_pas=7).collect(),
            "coworker_time_passes.iter/pages() got an unknown filter time_pas; "
            "did you mean time_pass?",
        ),
        (
            lambda c: c.coworker_time_passes.create(**REQUIRED, expire_dat="2027-01-31"),
            "coworker_time_passes.create() got an unexpected argument expire_dat; "
            "did you mean expire_date?",
        ),
        (
            lambda c: c.product_time_passes.update(3, pases_included=2),
            "product_time_passes.update() got an unexpected argument pases_included; "
            "did you mean passes_included?",
        ),
    ],
)
async def test_a_misspelt_name_suggests_the_closest_valid_one(
    client: NexudusClient, wire: Wire, call: Any, message: str
) -> None:
    with pytest.raises(TypeError) as info:
        await call(client)
    assert str(info.value) == message
    assert wire.log == []


async def test_a_name_like_no_other_lists_the_valid_ones(client: NexudusClient) -> None:
    with pytest.raises(TypeError, match=r"unknown filter zzz; known: business, checked_in, "):
        await client.coworker_time_passes.list(zzz=1)  # type: ignore[call-arg]


# ------------------------------------------------------------------ wrong values


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c: c.coworker_time_passes.list(coworker="x"),
            "invalid coworker='x': must be a whole number",
        ),
        (
            lambda c: c.coworker_time_passes.list(used="yes"),
            "invalid used='yes': must be true or false",
        ),
        (
            lambda c: c.coworker_time_passes.create(**{**REQUIRED, "coworker_id": "101"}),
            "invalid coworker_id='101': must be a whole number",
        ),
        (
            lambda c: c.coworker_time_passes.list(expire_date="31/01/2027"),
            "invalid expire_date='31/01/2027': must be " + values.DATE_FORMS,
        ),
        (
            lambda c: c.coworker_time_passes.create(**REQUIRED, expire_date="31/01/2027"),
            "invalid expire_date='31/01/2027': must be " + values.DATE_FORMS,
        ),
    ],
)
async def test_a_wrong_value_is_an_input_error_naming_argument_and_value(
    client: NexudusClient, wire: Wire, call: Any, message: str
) -> None:
    with pytest.raises(InputError) as info:
        await call(client)
    assert str(info.value) == message
    assert wire.log == []


# ------------------------------------------------------------------ one date rule

DAY = datetime.date(2027, 1, 31)
MIDNIGHT = datetime.datetime(2027, 1, 31)


@pytest.mark.parametrize(
    "given", [DAY, MIDNIGHT, "2027-01-31", "2027-01-31T00:00", "2027-01-31 00:00:00Z"]
)
async def test_a_date_is_that_day_at_midnight_in_create_update_and_filters(
    client: NexudusClient, wire: Wire, given: Any
) -> None:
    wire.add("POST", CTP, payload=OK_CREATED)
    wire.add("GET", CTP, payload=PAGE)
    wire.add("GET", CTP, payload=PAGE)
    await client.coworker_time_passes.create(**REQUIRED, expire_date=given)
    await client.coworker_time_passes.list(expire_date=given)
    await client.coworker_time_passes.list(expire_date=(given, None))
    create, equal, since = wire.log
    assert create.json()["ExpireDate"] == "2027-01-31T00:00:00Z"
    assert ("CoworkerTimePass_ExpireDate", "2027-01-31T00:00") in equal.params
    assert ("From_CoworkerTimePass_ExpireDate", "2027-01-31T00:00") in since.params


def test_bulk_rows_and_the_client_read_a_date_alike() -> None:
    field = COWORKER_TIME_PASS.field("ExpireDate")
    assert field is not None
    for given in (DAY, MIDNIGHT, "2027-01-31", " 2027-01-31T00:00 "):
        assert values.check(field, given, source="text") == MIDNIGHT  # a spreadsheet cell
        assert values.check(field, given) == MIDNIGHT  # a create argument
        assert values.check_filter("datetime", given) == MIDNIGHT  # a filter
    # Refused alike too; a cell is told only the text forms, since text is all it holds.
    with pytest.raises(values.Invalid) as info:
        values.check(field, "2027-31-01", source="text")
    assert str(info.value) == "must be a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS])"
    with pytest.raises(values.Invalid) as info:
        values.check(field, "2027-31-01")
    assert str(info.value) == "must be " + values.DATE_FORMS


# ------------------------------------------------------------------ help()


def test_help_of_create_shows_the_field_names_and_types(client: NexudusClient) -> None:
    text = pydoc.render_doc(client.coworker_time_passes.create, renderer=pydoc.plaintext)
    assert "coworker_id: int (required)" in text
    assert "expire_date: datetime.datetime | datetime.date | str" in text
    assert "create_multiple: int (default 1)" in text
    update = pydoc.render_doc(client.coworker_time_passes.update, renderer=pydoc.plaintext)
    assert "notes: str | None" in update
    listing = pydoc.render_doc(client.coworker_time_passes.list, renderer=pydoc.plaintext)
    assert "coworker: int" in listing and "created_on: DateRange" in listing


def test_help_of_a_range_alias_shows_its_own_docstring() -> None:
    from nexudus_async._core.resource import DateRange, IntRange, NumberRange

    text = pydoc.render_doc(DateRange, renderer=pydoc.plaintext)
    assert "A date range filter: ``(start, end)``" in text
    assert "that day at 00:00 wall-clock" in text
    assert "whole-number range" in pydoc.render_doc(IntRange, renderer=pydoc.plaintext)
    assert "money range" in pydoc.render_doc(NumberRange, renderer=pydoc.plaintext)
