"""``--where`` and ``--set``: read by the filter's kind, refused with the whole problem."""

from __future__ import annotations

import datetime
import decimal

import pytest

from nexudus_async.cli.entities import ENTITY_CHOICES
from nexudus_async.cli.query_options import OptionError, parse_set, parse_where, where_words

COWORKER = ENTITY_CHOICES["coworker"]
PRODUCT = ENTITY_CHOICES["product"]


def test_where_values_are_read_by_the_filters_kind() -> None:
    where = parse_where(
        COWORKER,
        ["time_pass=7", "used=false", "notes=  two words ", "price=12.30", "free=YES"],
    )
    assert where == {
        "time_pass": 7,
        "used": False,
        "notes": "two words",
        "price": decimal.Decimal("12.30"),
        "free": True,
    }
    assert parse_where(PRODUCT, ["product=5"]) == {"product": 5}


def test_a_range_takes_either_end_and_says_which_filters_have_none() -> None:
    where = parse_where(COWORKER, ["created_on=2027-01-01..2027-02-01", "expire_date=..2027-06-30"])
    assert where == {
        "created_on": (datetime.datetime(2027, 1, 1), datetime.datetime(2027, 2, 1)),
        "expire_date": (None, datetime.datetime(2027, 6, 30)),
    }
    assert where_words(where) == [
        "--where",
        "created_on=2027-01-01T00:00:00..2027-02-01T00:00:00",
        "--where",
        "expire_date=..2027-06-30T00:00:00",
    ]
    assert parse_where(COWORKER, where_words(where)[1::2]) == where


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("time_pass", "--where time_pass: expected NAME=VALUE"),
        ("=7", "--where =7: expected NAME=VALUE"),
        ("time_pass=seven", "--where time_pass=seven: time_pass must be a whole number"),
        ("used=maybe", "--where used=maybe: used must be true or false"),
        ("created_on=2027-01-01", "--where created_on=2027-01-01: created_on is a range filter: "
         "give FROM..TO (either may be left out)"),
        ("used=true..false", "--where used=true..false: used is not a range filter"),
        ("created_on=..", "--where created_on=..: a range needs a start or an end"),
        ("created_on=2027-02-01..2027-01-01",
         "--where created_on=2027-02-01..2027-01-01: the start is after the end"),
        ("expire_date=soon..", "--where expire_date=soon..: expire_date must be a date "
         "(YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS])"),
    ],
)  # fmt: skip
def test_a_bad_where_is_one_line_naming_the_option_and_the_problem(item: str, message: str) -> None:
    with pytest.raises(OptionError) as caught:
        parse_where(COWORKER, [item])
    assert str(caught.value) == message


def test_an_unknown_filter_lists_the_entitys_filters() -> None:
    with pytest.raises(OptionError) as caught:
        parse_where(PRODUCT, ["coworker=5"])
    assert str(caught.value).startswith(
        "--where coworker=5: ProductTimePass has no filter 'coworker' (filters: created_on, "
        "expiration_type, expires_in, id, "
    )


def test_a_filter_given_twice_is_refused() -> None:
    with pytest.raises(OptionError, match=r"^--where used=true: used is given twice$"):
        parse_where(COWORKER, ["used=false", "used=true"])


def test_set_keeps_the_text_for_planning_to_check() -> None:
    assert parse_set(["ExpireDate=2027-06-30", "Notes=a=b", "Price="]) == {
        "ExpireDate": "2027-06-30",
        "Notes": "a=b",
        "Price": "",
    }
    with pytest.raises(OptionError, match=r"^--set Notes=y: Notes is given twice$"):
        parse_set(["Notes=x", "Notes=y"])
    with pytest.raises(OptionError, match=r"^--set ExpireDate: expected NAME=VALUE$"):
        parse_set(["ExpireDate"])
