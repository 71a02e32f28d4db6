"""The one validation of field values (`_core/values.py`), rule by rule.

Each test pins what a value comes back as (value and type) or the exact words
of its problem, at the edges a one-line change would move: bounds, the source a
rule applies to, the memo's size, the names a body may use.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

import pytest

from nexudus_async._core import values
from nexudus_async._core.entity import Entity, Field
from nexudus_async._core.values import MISSING, Invalid, Problem, check, check_body, to_json

COUNT = Field("Count", "count", "int", minimum=1, maximum=10)
LEVEL = Field("Level", "level", "enum", enum=(1, 2, 3))
NAME = Field("Name", "name", "string")
FLAG = Field("Flag", "flag", "bool")
PRICE = Field("Price", "price", "decimal")
WHEN = Field("When", "when", "datetime")
ID = Field("Id", "id", "uuid")
UID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def problem(field: Field, value: Any, source: values.Source = "python") -> str:
    with pytest.raises(Invalid) as caught:
        check(field, value, source=source)
    return str(caught.value)


def test_missing_reads_as_its_name() -> None:
    assert repr(MISSING) == "MISSING"


# whole numbers


@pytest.mark.parametrize("source", ["python", "text", "json"])
def test_a_whole_number_is_taken_at_both_bounds_and_refused_one_past(source: Any) -> None:
    assert check(COUNT, 1, source=source) == 1
    assert check(COUNT, 10, source=source) == 10
    assert problem(COUNT, 0, source) == "must be at least 1"
    assert problem(COUNT, 11, source) == "must be at most 10"


def test_a_bool_is_not_a_whole_number_from_any_source() -> None:
    for source in ("python", "text", "json"):
        assert problem(COUNT, True, source) == "must be a whole number"  # type: ignore[arg-type]


def test_a_float_or_decimal_with_no_fraction_is_whole_only_from_json_or_text() -> None:
    assert problem(COUNT, 2.0) == "must be a whole number"
    assert problem(COUNT, decimal.Decimal("2")) == "must be a whole number"
    for source in ("json", "text"):
        taken = check(COUNT, 2.0, source=source)  # type: ignore[arg-type]
        assert (taken, type(taken)) == (2, int)
        taken = check(COUNT, decimal.Decimal("3.00"), source=source)  # type: ignore[arg-type]
        assert (taken, type(taken)) == (3, int)
        assert problem(COUNT, 2.5, source) == "must be a whole number"  # type: ignore[arg-type]
        assert problem(COUNT, decimal.Decimal("2.5"), source) == "must be a whole number"  # type: ignore[arg-type]
        assert problem(COUNT, decimal.Decimal("Infinity"), source) == "must be a whole number"  # type: ignore[arg-type]


def test_text_is_a_whole_number_only_from_a_file() -> None:
    assert check(COUNT, " +4 ", source="text") == 4
    assert check(COUNT, "4", source="text") == 4
    assert check(COUNT, "4.00", source="text") == 4
    assert check(COUNT, "5.", source="text") == 5
    assert check(Field("N", "n", "int"), " -7.0\t", source="text") == -7
    assert problem(COUNT, "4.5", "text") == "must be a whole number"
    assert problem(COUNT, "4 5", "text") == "must be a whole number"
    assert problem(COUNT, "four", "text") == "must be a whole number"
    assert problem(COUNT, "4", "json") == "must be a whole number"
    assert problem(COUNT, "4", "python") == "must be a whole number"
    assert problem(COUNT, None) == "must be a whole number"


def test_a_text_number_is_checked_against_the_bounds_too() -> None:
    assert problem(COUNT, "0", "text") == "must be at least 1"
    assert problem(COUNT, "11.0", "text") == "must be at most 10"


def test_an_enum_takes_its_documented_values_only_unless_told() -> None:
    assert check(LEVEL, 2) == 2
    assert problem(LEVEL, 4) == "must be one of 1, 2, 3"
    assert problem(LEVEL, "4", "text") == "must be one of 1, 2, 3"
    assert check(LEVEL, 4, allow_unknown_enum_values=True) == 4
    assert check(LEVEL, 0, source="json", allow_unknown_enum_values=True) == 0


def test_a_number_field_without_bounds_takes_any_whole_number() -> None:
    field = Field("N", "n", "int")
    assert check(field, -(10**12)) == -(10**12)
    assert check(field, 10**12) == 10**12


# text, flags, decimals, UUIDs


def test_a_string_field_takes_text_only() -> None:
    assert check(NAME, "a b ") == "a b "
    assert problem(NAME, 3) == "must be text"
    assert problem(NAME, None, "text") == "must be text"


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("true", True),
        ("yes", True),
        ("y", True),
        ("1", True),
        ("false", False),
        ("no", False),
        ("n", False),
        ("0", False),
        (" TRUE ", True),
        ("No", False),
    ],
)
def test_a_flag_in_a_file_is_one_of_the_words(text: str, meant: bool) -> None:
    assert check(FLAG, text, source="text") is meant


def test_a_flag_is_a_bool_and_words_only_from_a_file() -> None:
    assert check(FLAG, True) is True
    assert check(FLAG, False, source="json") is False
    assert problem(FLAG, "yes") == "must be true or false"
    assert problem(FLAG, "true", "json") == "must be true or false"
    assert problem(FLAG, "maybe", "text") == "must be true or false"
    assert problem(FLAG, 1) == "must be true or false"


def test_a_decimal_is_a_number_or_text_from_a_file() -> None:
    assert check(PRICE, 12.3) == decimal.Decimal("12.3")
    assert check(PRICE, 5) == decimal.Decimal(5)
    assert check(PRICE, " 12.30 ", source="text") == decimal.Decimal("12.30")
    assert problem(PRICE, "12.30") == "must be a number"
    assert problem(PRICE, "12.30", "json") == "must be a number"
    assert problem(PRICE, "12,30", "text") == (
        "must be a number (digits and a decimal point, like 12.30)"
    )
    assert problem(PRICE, "NaN", "text") == "must be a finite number"
    assert problem(PRICE, float("inf")) == "must be a finite number"
    assert problem(PRICE, True) == "must be a number"


def test_a_uuid_is_a_uuid_or_its_text() -> None:
    assert check(ID, UID) is UID
    assert check(ID, f" {UID} ") == UID
    assert type(check(ID, str(UID), source="json")) is uuid.UUID
    assert problem(ID, "not-a-uuid") == "must be a UUID"
    assert problem(ID, UID.int) == "must be a UUID"


# dates


def test_a_date_is_midnight_and_text_is_read_the_one_way() -> None:
    at = datetime.datetime(2026, 3, 1, 9, 30)
    assert check(WHEN, at) is at
    taken = check(WHEN, datetime.date(2026, 3, 1))
    assert (taken, type(taken)) == (datetime.datetime(2026, 3, 1), datetime.datetime)
    for source in ("python", "text", "json"):
        assert check(WHEN, "2026-03-01T09:30", source=source) == at  # type: ignore[arg-type]
        assert check(WHEN, "2026-03-01T09:30Z", source=source) == at  # type: ignore[arg-type]


def test_a_value_that_is_no_date_names_the_forms_its_source_can_hold() -> None:
    forms = "must be a datetime, a date, or text YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]"
    text_forms = "must be a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS])"
    assert problem(WHEN, "1 March") == forms
    assert problem(WHEN, 20260301, "text") == text_forms  # a cell holds text only
    assert problem(WHEN, "1 March", "json") == text_forms
    # a filter is a Python argument: it is told every form it may take
    with pytest.raises(Invalid) as caught:
        values.check_filter("datetime", "1 March")
    assert str(caught.value) == forms


def test_an_offset_is_refused_from_python_and_files_and_kept_from_json() -> None:
    refusal = (
        "has a non-zero UTC offset; the Nexudus API stores the space's local "
        "wall-clock time and would shift it: give the local time without an offset"
    )
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    aware = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=plus_two)
    assert problem(WHEN, aware) == refusal
    assert problem(WHEN, "2026-03-01T09:30+02:00", "text") == refusal
    assert check(WHEN, "2026-03-01T09:30+02:00", source="json") == aware
    assert check(WHEN, "2026-03-01T09:30+02:00", source="json").utcoffset() == (
        datetime.timedelta(hours=2)
    )
    utc = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)
    taken = check(WHEN, utc)
    assert (taken, taken.tzinfo) == (datetime.datetime(2026, 3, 1, 9, 30), None)


# filters and JSON


def test_a_filter_value_follows_the_rules_without_bounds() -> None:
    check_filter = values.check_filter
    assert check_filter("int", 0) == 0
    assert check_filter("enum", 99) == 99
    for kind in ("int", "enum"):
        for wrong in (True, 2.0, "2"):
            with pytest.raises(Invalid, match=r"^must be a whole number$"):
                check_filter(kind, wrong)
    assert check_filter("string", "x") == "x"
    with pytest.raises(Invalid, match=r"^must be text$"):
        check_filter("string", 1)
    assert check_filter("bool", False) is False
    with pytest.raises(Invalid, match=r"^must be true or false$"):
        check_filter("bool", "yes")
    assert check_filter("decimal", 1.5) == decimal.Decimal("1.5")
    with pytest.raises(Invalid, match=r"^must be a number$"):
        check_filter("decimal", "1.5")
    assert check_filter("datetime", datetime.date(2026, 1, 2)) == datetime.datetime(2026, 1, 2)
    with pytest.raises(Invalid, match=r"^must be a datetime, a date, or text"):
        check_filter("datetime", 1)
    assert check_filter("uuid", str(UID)) == UID
    with pytest.raises(Invalid, match=r"^must be a UUID$"):
        check_filter("uuid", 1)


def test_to_json_writes_dates_and_uuids_as_the_api_does() -> None:
    assert to_json(datetime.datetime(2026, 3, 1, 9, 30)) == "2026-03-01T09:30:00Z"
    assert to_json(UID) == "12345678-1234-5678-1234-567812345678"
    price = decimal.Decimal("1.50")
    assert to_json(price) is price
    assert to_json(None) is None


# bodies


def entity(*fields: Field) -> Entity:
    return Entity("Thing", "thing", "api/things", fields, (), (), "ids", "ids")


REQUIRED = Field("Count", "count", "int", create="required", update="optional", minimum=1)
OPTIONAL = Field("Note", "note", "string", nullable=True, create="optional", update="required")
STRICT = Field("Level", "level", "enum", enum=(1, 2), create="optional", default=2)
FIXED = Field("Size", "size", "int", create="absent", update="optional")


def test_a_body_carries_what_it_gives_by_json_or_python_name() -> None:
    things = entity(REQUIRED, OPTIONAL, STRICT, FIXED)
    body = {"Count": 3, "note": "hi", "Size": 9}
    assert check_body(things, body, update=False, source="python") == (
        {"Count": 3, "Note": "hi"},
        [],
    )
    # on the wire only the API's names count
    assert check_body(things, body, update=False, source="json") == (
        {"Count": 3},
        [],
    )


def test_a_required_field_missing_or_null_is_required() -> None:
    things = entity(REQUIRED, OPTIONAL, STRICT, FIXED)
    for body in ({}, {"Count": None}, {"count": None}):
        assert check_body(things, body, update=False, source="python") == (
            {},
            [Problem("Count", None, "is required")],
        )
    # an update needs Note instead, and takes Size; Count is optional there
    clean, problems = check_body(things, {"Size": 4}, update=True, source="python")
    assert (clean, problems) == ({"Size": 4}, [Problem("Note", None, "is required")])


def test_null_is_kept_for_a_nullable_field_and_refused_for_another() -> None:
    things = entity(REQUIRED, OPTIONAL, STRICT, FIXED)
    body = {"Count": 1, "Note": None, "Level": None}
    assert check_body(things, body, update=False, source="json") == (
        {"Count": 1, "Note": None},
        [Problem("Level", None, "must not be null")],
    )


def test_defaults_fill_only_absent_fields_and_only_when_asked() -> None:
    things = entity(REQUIRED, STRICT)
    assert check_body(things, {"Count": 1}, update=False, source="python")[0] == {"Count": 1}
    assert check_body(things, {"Count": 1}, update=False, source="python", defaults=True)[0] == {
        "Count": 1,
        "Level": 2,
    }
    given = check_body(things, {"Count": 1, "Level": 1}, update=False, source="json", defaults=True)
    assert given[0] == {"Count": 1, "Level": 1}


def test_each_failing_field_is_one_problem_with_its_value_and_words() -> None:
    things = entity(REQUIRED, OPTIONAL, STRICT)
    body = {"Count": "0", "Note": 5, "Level": "7"}
    clean, problems = check_body(things, body, update=False, source="text")
    assert clean == {}
    assert problems == [
        Problem("Count", "0", "must be at least 1"),
        Problem("Note", 5, "must be text"),
        Problem("Level", "7", "must be one of 1, 2"),
    ]
    clean, problems = check_body(
        things,
        {"Count": 1, "Level": 7},
        update=False,
        source="json",
        allow_unknown_enum_values=True,
    )
    assert (clean, problems) == ({"Count": 1, "Level": 7}, [])


def test_text_cells_are_remembered_per_entity_only_for_the_default_rules() -> None:
    things = entity(REQUIRED, OPTIONAL, STRICT)
    body = {"Count": "3", "Note": "n", "Level": "1"}
    assert check_body(things, body, update=False, source="text") == (
        {"Count": 3, "Note": "n", "Level": 1},
        [],
    )
    # strings of a string field need no parsing and are not remembered
    assert things.memo == {("Count", "3"): 3, ("Level", "1"): 1}
    # a remembered cell is not checked again: what the memo holds is the answer
    things.memo[("Count", "3")] = 33
    clean, _ = check_body(things, body, update=False, source="text")
    assert clean["Count"] == 33
    # the json and python rules and the unknown-enum rule neither read nor fill it
    assert check_body(things, body, update=False, source="json")[1] == [
        Problem("Count", "3", "must be a whole number"),
        Problem("Level", "1", "must be a whole number"),
    ]
    check_body(things, {"Count": "5"}, update=False, source="text", allow_unknown_enum_values=True)
    clean, _ = check_body(things, body, update=False, source="text", allow_unknown_enum_values=True)
    assert clean["Count"] == 3
    assert ("Count", "5") not in things.memo
    # a number from a file is checked but not remembered (only text cells are)
    check_body(things, {"Count": 4}, update=False, source="text")
    assert ("Count", 4) not in things.memo


def test_a_remembered_failure_is_not_remembered() -> None:
    things = entity(REQUIRED)
    for _ in range(2):
        assert check_body(things, {"Count": "x"}, update=False, source="text")[1] == [
            Problem("Count", "x", "must be a whole number")
        ]
    assert things.memo == {}


@pytest.mark.parametrize(
    ("held", "after"), [(values._MEMO_SIZE - 1, values._MEMO_SIZE), (values._MEMO_SIZE, 1)]
)
def test_the_memo_is_emptied_when_it_holds_its_size(held: int, after: int) -> None:
    assert values._MEMO_SIZE == 50_000
    things = entity(REQUIRED)
    things.memo.update({("Count", str(n)): n for n in range(10_000_000, 10_000_000 + held)})
    check_body(things, {"Count": "3"}, update=False, source="text")
    assert len(things.memo) == after
    assert things.memo[("Count", "3")] == 3


def test_check_reads_python_values_unless_told_otherwise() -> None:
    with pytest.raises(Invalid, match=r"^must be a whole number$"):
        check(COUNT, 2.0)  # a float is whole only from JSON or a file
    assert check(COUNT, 2.0, source="json") == 2
