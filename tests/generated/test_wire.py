"""nexudus_async._core.wire: the date policy, query encoding and the one converter."""

from __future__ import annotations

import datetime
import decimal
import re
import uuid

import pytest

from nexudus_async._core.transport import dumps
from nexudus_async._core.wire import (
    UNSET,
    converter,
    encode_form,
    encode_path_value,
    encode_query,
    encode_query_value,
    format_datetime,
    parse_datetime,
    structure,
    unstructure,
)
from nexudus_async._generated.models import (
    CoworkerTimePass,
    CoworkerTimePassUpdate,
    ExpirationType,
    PassRenewalTime,
    ProductTimePass,
    SortDirection,
)

UTC = datetime.UTC
PLUS_TWO = datetime.timezone(datetime.timedelta(hours=2))

# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("2025-01-15T10:30:00Z", datetime.datetime(2025, 1, 15, 10, 30)),
        ("2025-01-15T10:30:00.957Z", datetime.datetime(2025, 1, 15, 10, 30, 0, 957000)),
        ("2025-01-15T10:30:00.000001Z", datetime.datetime(2025, 1, 15, 10, 30, 0, 1)),
        ("2025-01-15T10:30:00+00:00", datetime.datetime(2025, 1, 15, 10, 30)),
        ("2025-01-15T10:30:00", datetime.datetime(2025, 1, 15, 10, 30)),
        (
            "2025-01-15T10:30:00+02:00",
            datetime.datetime(2025, 1, 15, 10, 30, tzinfo=PLUS_TWO),
        ),
    ],
)
def test_parse_keeps_the_wall_clock(text: str, parsed: datetime.datetime) -> None:
    value = parse_datetime(text)
    assert value == parsed
    assert value.tzinfo == parsed.tzinfo
    assert (value.hour, value.minute) == (10, 30)


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-15T10:30:00Z",
        "2018-07-03T06:23:01Z",
        "2025-01-15T10:30:00.957Z",
        "2025-01-15T10:30:00.95Z",
        "2025-01-15T10:30:00.123456Z",
        "0001-01-01T00:00:00Z",
    ],
)
def test_api_dates_round_trip_byte_identical(text: str) -> None:
    assert format_datetime(parse_datetime(text)) == text


def test_format_naive_and_zero_offset_alike() -> None:
    naive = datetime.datetime(2025, 3, 1, 9, 5, 7, 250000)
    assert format_datetime(naive) == "2025-03-01T09:05:07.25Z"
    assert format_datetime(naive.replace(tzinfo=UTC)) == "2025-03-01T09:05:07.25Z"
    assert format_datetime(datetime.datetime(2025, 3, 1)) == "2025-03-01T00:00:00Z"


def test_non_zero_offset_is_refused_naming_the_value() -> None:
    value = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=PLUS_TWO)
    with pytest.raises(ValueError, match=r"2025-03-01T09:00:00\+02:00"):
        format_datetime(value)
    with pytest.raises(ValueError, match=r"2025-03-01T09:00:00\+02:00"):
        encode_query_value(value)
    body = CoworkerTimePassUpdate(
        id=1, coworker_id=1, business_id=1, time_pass_id=1, create_multiple=1, expire_date=value
    )
    with pytest.raises(ValueError, match=r"\+02:00"):
        unstructure(body)


def test_aware_value_parsed_from_the_api_is_sent_back_only_if_converted() -> None:
    tp = structure(
        {
            "Id": 1,
            "CoworkerId": 1,
            "BusinessId": 1,
            "TimePassId": 1,
            "ExpireDate": "2025-01-15T10:30:00+02:00",
        },
        CoworkerTimePass,
    )
    assert tp.expire_date == datetime.datetime(2025, 1, 15, 10, 30, tzinfo=PLUS_TWO)
    with pytest.raises(ValueError):
        unstructure(tp)


# ----------------------------------------------------------------------------- query


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (42, "42"),
        (12.5, "12.5"),
        (10.0, "10.0"),
        (1e-7, "0.0000001"),
        (1.5e20, "150000000000000000000"),
        (decimal.Decimal("1E+3"), "1000"),
        ("a b&c", "a b&c"),
        (datetime.datetime(2010, 1, 1, 20, 32), "2010-01-01T20:32"),
        (datetime.datetime(2010, 1, 1, 20, 32, 5), "2010-01-01T20:32:05"),
        (datetime.datetime(2010, 1, 1, 20, 32, 0, 250000), "2010-01-01T20:32:00.25"),
        (datetime.datetime(2010, 1, 1, 20, 32, tzinfo=UTC), "2010-01-01T20:32"),
        (datetime.date(2010, 1, 1), "2010-01-01"),
        (uuid.UUID("db54a929-6dd1-4907-a9db-2538d7e522b0"), "db54a929-6dd1-4907-a9db-2538d7e522b0"),
        (ExpirationType.DAY, "2"),
        (PassRenewalTime.YEAR, "4"),
        (SortDirection.DESCENDING, "descending"),
        (ExpirationType(0), "0"),
        ([1, 2], "[1,2]"),
        ([], "[]"),
        ((7,), "[7]"),
    ],
)
def test_query_values(value: object, wire: str) -> None:
    assert encode_query_value(value) == wire


def test_query_leaves_out_unset_and_none() -> None:
    assert encode_query([("a", UNSET), ("b", None), ("c", 0), ("d", False), ("e", "")]) == (
        ("c", "0"),
        ("d", "false"),
        ("e", ""),
    )


def test_query_refuses_what_it_cannot_encode() -> None:
    with pytest.raises(TypeError):
        encode_query_value(object())
    with pytest.raises(ValueError):
        encode_query_value(float("nan"))


def test_form_encoding() -> None:
    assert encode_form({"grant_type": "password", "username": "a@b.c", "totp": None}) == (
        b"grant_type=password&username=a%40b.c"
    )


# ----------------------------------------------------------------------------- converter


def test_unset_is_omitted_and_none_is_null() -> None:
    body = CoworkerTimePassUpdate(
        id=1, coworker_id=2, business_id=3, time_pass_id=4, create_multiple=1, notes=None
    )
    assert unstructure(body) == {
        "Id": 1,
        "CoworkerId": 2,
        "BusinessId": 3,
        "TimePassId": 4,
        "CreateMultiple": 1,
        "Notes": None,
    }
    assert body.to_dict() == unstructure(body)


def test_from_dict_and_to_dict_delegate_to_the_converter() -> None:
    data = {"Id": 1, "ProductId": 2, "TimePassId": 3, "PassesIncluded": 4, "Extra": {"a": 1}}
    tp = ProductTimePass.from_dict(data)
    assert tp == structure(data, ProductTimePass)
    assert tp.additional_properties == {"Extra": {"a": 1}}
    assert tp.to_dict() == data


def test_money_keeps_the_apis_digits() -> None:
    tp = structure(
        {"Id": 1, "CoworkerId": 1, "BusinessId": 1, "TimePassId": 1, "Price": 10}, CoworkerTimePass
    )
    assert tp.price == 10 and type(tp.price) is decimal.Decimal
    price = unstructure(tp)["Price"]
    assert price == decimal.Decimal("10")
    assert dumps({"Price": price}) == b'{"Price":10}'  # not 10.0: the API's own text comes back


def test_null_where_the_spec_says_never_null_does_not_fail() -> None:
    tp = structure(
        {"Id": 1, "CoworkerId": 1, "BusinessId": 1, "TimePassId": 1, "CreatedOn": None},
        CoworkerTimePass,
    )
    assert tp.created_on is None


def test_hooks_are_built_once_per_model() -> None:
    hook = converter.get_structure_hook(CoworkerTimePass)
    assert converter.get_structure_hook(CoworkerTimePass) is hook
    unhook = converter.get_unstructure_hook(CoworkerTimePass)
    assert converter.get_unstructure_hook(CoworkerTimePass) is unhook


def test_unknown_integer_enum_values_are_stable_pseudo_members() -> None:
    assert ExpirationType(0) is ExpirationType(0)
    assert ExpirationType(0).name == "UNKNOWN_0"
    assert PassRenewalTime(9).value == 9
    assert list(ExpirationType) == [
        ExpirationType.PRICE_PLAN,
        ExpirationType.DAY,
        ExpirationType.WEEK,
        ExpirationType.MONTH,
        ExpirationType.YEAR,
        ExpirationType.LAST_DAY_OF_MONTH,
    ]
    with pytest.raises(ValueError):
        ExpirationType("1")


def test_a_missing_required_field_names_model_and_field() -> None:
    with pytest.raises(
        ValueError, match="CoworkerTimePass: required field 'CoworkerId' is missing"
    ):
        structure({"Id": 1, "BusinessId": 1, "TimePassId": 1}, CoworkerTimePass)


@pytest.mark.parametrize(
    "text",
    [
        "db54a929-6dd1-4907-a9db-2538d7e522b0",
        "DB54A929-6DD1-4907-A9DB-2538D7E522B0",
        "db54a9296dd14907a9db2538d7e522b0",
        "{db54a929-6dd1-4907-a9db-2538d7e522b0}",
        "urn:uuid:db54a929-6dd1-4907-a9db-2538d7e522b0",
        "+b54a929-6dd1-4907-a9db-2538d7e522b0",
        "db54_929-6dd1-4907-a9db-2538d7e522b0",
        "db54a929-6dd1-4907-a9db-2538d7e522bg",
        "db54a929",
        "",
    ],
)
def test_uuids_parse_exactly_as_uuid_does(text: str) -> None:
    data = {"Id": 1, "CoworkerId": 1, "BusinessId": 1, "TimePassId": 1, "UniqueId": text}
    try:
        expected = uuid.UUID(text)
    except ValueError as exc:
        with pytest.raises(ValueError, match=re.escape(str(exc))):
            structure(data, CoworkerTimePass)
        return
    parsed = structure(data, CoworkerTimePass).unique_id
    assert type(parsed) is uuid.UUID
    assert parsed == expected and hash(parsed) == hash(expected)
    assert parsed.is_safe is expected.is_safe
    assert parsed.__getstate__() == expected.__getstate__()
    assert str(parsed) == str(expected)


def test_scalars_nulls_and_absent_fields_structure_as_sent() -> None:
    notes = "a note"
    data = {
        "Id": 7,
        "CoworkerId": 1,
        "BusinessId": 1,
        "TimePassId": 1,
        "Notes": notes,
        "Free": True,
        "Price": None,
        "UniqueId": None,
        "ExpireDate": None,
        "UsedDate": "2025-01-15T10:30:00Z",
    }
    tp = structure(data, CoworkerTimePass)
    assert tp.notes is notes and tp.free is True and tp.id == 7
    assert tp.price is None and tp.unique_id is None and tp.expire_date is None
    assert tp.used_date == datetime.datetime(2025, 1, 15, 10, 30)
    assert tp.purchase_order is UNSET and tp.created_on is UNSET
    assert unstructure(tp) == data


def test_enum_fields_keep_null_and_unknown_values() -> None:
    base = {"Id": 1, "ProductId": 2, "TimePassId": 3, "PassesIncluded": 4}
    assert structure({**base, "ExpirationType": None}, ProductTimePass).expiration_type is None
    parsed = structure({**base, "ExpirationType": 42}, ProductTimePass).expiration_type
    assert isinstance(parsed, ExpirationType) and parsed.value == 42
    assert structure({**base, "ExpirationType": 2}, ProductTimePass).expiration_type is (
        ExpirationType.DAY
    )


@pytest.mark.parametrize(
    "value", [12, -3, 10**30, 0, True, ExpirationType.DAY, "a b/c", "12", 1.5, uuid.UUID(int=7)]
)
def test_path_values_are_encoded_as_quote_would(value: object) -> None:
    import urllib.parse

    assert encode_path_value(value) == urllib.parse.quote(str(value), safe="")


def test_query_keeps_the_order_and_encodes_each_kind() -> None:
    assert encode_query(
        [
            ("a", UNSET),
            ("page", 2),
            ("b", None),
            ("q", "x y"),
            ("used", False),
            ("dir", SortDirection.DESCENDING),
            ("ids", [1, 2]),
        ]
    ) == (("page", "2"), ("q", "x y"), ("used", "false"), ("dir", "descending"), ("ids", "[1,2]"))


# ----------------------------------------------------------------------------- fast path

_GOOD_ITEM = {
    "Id": 7,
    "Coworker": 42,
    "Notes": None,
    "Used": False,
    "UsedDate": None,
    "Price": 12.5,
    "ExpireDate": "2025-03-01T10:00:00+02:00",
    "CreatedOn": "2025-02-02T06:01:00Z",
    "UniqueId": "25831797-83ca-5397-a7fb-e602bd478c4b",
    "CoworkerProductUniqueId": None,
    "Unknown": {"kept": True},
}


def _every_key(record: dict[str, object]) -> dict[str, object]:
    """The record with every documented key (None where it has none): the usual answer."""
    from nexudus_async._core import wire
    from nexudus_async._generated.models import CoworkerTimePassListItem

    names = wire._resolve(CoworkerTimePassListItem).renames.values()
    return {**{name: record.get(name) for name in names}, **record}


_FULL_ITEM = _every_key(_GOOD_ITEM)


def _page(*records: object) -> dict[str, object]:
    return {
        "CurrentPageSize": 25,
        "CurrentPage": 1,
        "TotalItems": len(records),
        "TotalPages": 1,
        "Records": list(records),
        "HasNextPage": False,
    }


def _explaining(cls: type) -> object:
    from nexudus_async._core import wire

    return wire._explaining_structure(cls, wire._resolve(cls))


def test_the_fast_hook_builds_what_cattrs_builds() -> None:
    from nexudus_async._generated.models import CoworkerTimePassListItem, CoworkerTimePassPage

    explain = _explaining(CoworkerTimePassPage)
    without_extra = {k: v for k, v in _FULL_ITEM.items() if k != "Unknown"}
    for data in (
        _page(_GOOD_ITEM, {"Id": 8}),
        _page(),
        {**_page(), "Extra": 1},
        _page(_FULL_ITEM, without_extra, {**without_extra, "Notes": "n", "CreatedOn": None}),
    ):
        fast = structure(data, CoworkerTimePassPage)
        slow = explain(data, CoworkerTimePassPage)  # type: ignore[operator]
        assert fast == slow
        assert fast.additional_properties == slow.additional_properties
        assert [r.additional_properties for r in fast.records] == [
            r.additional_properties for r in slow.records
        ]
    item = structure(_GOOD_ITEM, CoworkerTimePassListItem)
    assert item.additional_properties == {"Unknown": {"kept": True}}
    assert item.expire_date == datetime.datetime(2025, 3, 1, 10, tzinfo=PLUS_TWO)
    assert item.created_on == datetime.datetime(2025, 2, 2, 6, 1)
    assert item.unique_id == uuid.UUID("25831797-83ca-5397-a7fb-e602bd478c4b")
    assert item.price == decimal.Decimal("12.5")
    assert item.business is UNSET and item.coworker_product_unique_id is None


@pytest.mark.parametrize(
    "bad",
    [
        {"Coworker": 1},  # no Id
        {**_GOOD_ITEM, "CreatedOn": "yesterday"},
        {**_GOOD_ITEM, "UniqueId": "not-a-uuid"},
        {**_GOOD_ITEM, "Price": "twelve"},
        {**_GOOD_ITEM, "CreatedOn": 5},
        {**_FULL_ITEM, "CreatedOn": "yesterday"},
        {**_FULL_ITEM, "Id": None, "UniqueId": 5},
        {k: v for k, v in _FULL_ITEM.items() if k != "Id"},
        [1, 2],
        "text",
    ],
)
def test_a_bad_answer_raises_the_explaining_hooks_error(bad: object) -> None:
    from nexudus_async._generated.models import CoworkerTimePassPage

    explain = _explaining(CoworkerTimePassPage)
    for data in (_page(_GOOD_ITEM, bad), {**_page(), "Records": bad}):
        with pytest.raises(Exception) as slow:
            explain(data, CoworkerTimePassPage)  # type: ignore[operator]
        with pytest.raises(type(slow.value)) as fast:
            structure(data, CoworkerTimePassPage)
        assert str(fast.value) == str(slow.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("CreatedOn", "2025-01-15T10:30:00Z"),
        ("CreatedOn", "2025-01-15T10:30:00.1234567Z"),
        ("CreatedOn", "2025-01-15T10:30:00+00:00"),
        ("CreatedOn", "2025-01-15T10:30:00+02:00"),
        ("CreatedOn", "2025-01-15T10:30:00"),
        ("CreatedOn", "Z"),
        ("CreatedOn", ""),
        ("CreatedOn", ["Z"]),
        ("UniqueId", "{db54a929-6dd1-4907-a9db-2538d7e522b0}"),
        ("UniqueId", "urn:uuid:db54a929-6dd1-4907-a9db-2538d7e522b0"),
        ("UniqueId", "+b54a929-6dd1-4907-a9db-2538d7e522b0"),
        ("UniqueId", " b54a929-6dd1-4907-a9db-2538d7e522b0"),
        ("UniqueId", "db54a929-6dd1-4907-a9db-2538d7e522"),
        ("UniqueId", 7),
        ("Price", 12),
        ("Price", 0.0),
        ("Price", -0.0),
        ("Price", decimal.Decimal("12.50")),
        ("Price", True),
        ("Price", "12.5"),
    ],
)
def test_every_key_records_in_a_page_structure_as_the_explaining_hook_does(
    key: str, value: object
) -> None:
    # records with every documented key take the one-loop path; the edge values
    # there must give what cattrs' hook for the record gives, value or error
    from nexudus_async._generated.models import CoworkerTimePassListItem, CoworkerTimePassPage

    explain = _explaining(CoworkerTimePassListItem)
    record = {**_FULL_ITEM, key: value}
    data = _page(_FULL_ITEM, record, _FULL_ITEM)
    try:
        want = explain(record, CoworkerTimePassListItem)  # type: ignore[operator]
    except Exception as exc:
        with pytest.raises(type(exc)) as fast:
            structure(data, CoworkerTimePassPage)
        assert str(fast.value) == str(exc)
        return
    got = structure(data, CoworkerTimePassPage).records[1]
    assert got == want and got.additional_properties == want.additional_properties
    for name in ("created_on", "unique_id", "price"):
        a, b = getattr(got, name), getattr(want, name)
        assert type(a) is type(b) and str(a) == str(b)
        assert getattr(a, "tzinfo", None) == getattr(b, "tzinfo", None)


def test_enums_in_every_key_records_keep_null_and_unknown_values() -> None:
    from nexudus_async._core import wire
    from nexudus_async._generated.models import ProductTimePassListItem, ProductTimePassPage

    names = wire._resolve(ProductTimePassListItem).renames.values()
    record = {name: None for name in names} | {"Id": 1}
    records = [record | {"ExpirationType": v} for v in (None, 42, 2)]
    page = structure(_page(*records), ProductTimePassPage)
    kinds = [r.expiration_type for r in page.records]
    assert kinds[0] is None and kinds[2] is ExpirationType.DAY
    assert isinstance(kinds[1], ExpirationType) and kinds[1].value == 42


def test_a_list_of_records_structures_as_its_records_do() -> None:
    from nexudus_async._generated.models import CoworkerTimePassListItem

    explain = _explaining(CoworkerTimePassListItem)
    records = [_FULL_ITEM, _GOOD_ITEM, {**_FULL_ITEM, "Notes": "n"}]
    got = structure(records, list[CoworkerTimePassListItem])
    assert got == [explain(r, CoworkerTimePassListItem) for r in records]  # type: ignore[operator]
    assert [r.additional_properties for r in got] == [{"Unknown": {"kept": True}}] * 3
    bad = {**_FULL_ITEM, "CreatedOn": "yesterday"}
    with pytest.raises(ValueError) as slow:
        explain(bad, CoworkerTimePassListItem)  # type: ignore[operator]
    with pytest.raises(ValueError) as fast:
        structure([_FULL_ITEM, bad], list[CoworkerTimePassListItem])
    assert str(fast.value) == str(slow.value)
    with pytest.raises(TypeError, match="not iterable"):
        structure(None, list[CoworkerTimePassListItem])
