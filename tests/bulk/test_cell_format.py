"""Decimal commas and date formats: read and written the same way, never guessed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from nexudus_async._core.auth import BasicAuth
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk import BulkInputError, formatted_rows
from nexudus_async.bulk.rows import CellError, CellFormat, SourceRow, validate_rows
from nexudus_async.cli.cell_hints import option_hints
from nexudus_async.cli.input_files import read_rows
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    ThrottleLimits,
    run_emulator,
)

E = COWORKER_TIME_PASS
PRICE = E.field("Price")
EXPIRE = E.field("ExpireDate")
NOTES = E.field("Notes")
BASE = {"CoworkerId": "7", "BusinessId": "1", "TimePassId": "2"}
EUROPE = CellFormat(decimal=",", date_format="%d/%m/%Y")


def _check(cells: CellFormat, **values: str) -> dict[str, object] | list[str]:
    valid, errors = validate_rows(E, [SourceRow(2, {**BASE, **values}, cells)])
    if errors:
        return [str(e) for e in errors]
    return dict(valid[0].values)


def test_a_decimal_comma_and_a_day_first_date_are_read_as_told() -> None:
    assert _check(EUROPE, Price="12,30", ExpireDate="31/01/2027") == {
        "CoworkerId": 7,
        "BusinessId": 1,
        "TimePassId": 2,
        "Price": Decimal("12.30"),
        "ExpireDate": "2027-01-31T00:00:00Z",
    }
    assert _check(EUROPE, Price="-5")["Price"] == Decimal("-5")  # type: ignore[index]
    assert _check(EUROPE, Price=",5")["Price"] == Decimal("0.5")  # type: ignore[index]
    with_time = CellFormat(date_format="%d/%m/%Y %H:%M")
    assert _check(with_time, ExpireDate="01/02/2027 09:30") == {
        **{k: int(v) for k, v in BASE.items()},
        "ExpireDate": "2027-02-01T09:30:00Z",
    }


COMMA = "must be a number with a decimal comma, like 12,30"


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"Price": "12.30"}, f"Price='12.30': {COMMA}"),
        ({"Price": "1.234,50"}, f"Price='1.234,50': {COMMA}"),
        (
            {"ExpireDate": "2027-01-31"},
            "ExpireDate='2027-01-31': must be a date like 31/01/2027 (date format %d/%m/%Y)",
        ),
        ({"ExpireDate": "31/09/2027"}, "ExpireDate='31/09/2027': is not a date: no such day"),
    ],
)
def test_a_cell_the_format_does_not_read_is_refused_not_guessed(
    values: dict[str, str], error: str
) -> None:
    assert _check(EUROPE, **values) == [f"line 2: {error}"]


def test_a_required_field_whose_cell_is_refused_gets_one_error_not_two() -> None:
    fmt = CellFormat(decimal=",")
    valid, errors = validate_rows(
        E, [SourceRow(3, {**BASE, "Price": "x"}, fmt), SourceRow(4, {**BASE, "Price": ""}, fmt)]
    )
    assert [str(e) for e in errors] == [
        "line 3: Price='x': must be a number with a decimal comma, like 12,30"
    ]
    assert [v.line for v in valid] == [4]  # an empty cell is not given


def test_the_default_format_leaves_text_as_it_was() -> None:
    assert _check(CellFormat(), Price="12,30") == [
        "line 2: Price='12,30': must be a number (digits and a decimal point, like 12.30)"
    ]
    # Notes are text whatever the format: a comma stays a comma.
    assert NOTES is not None and EUROPE.read(NOTES, "a,b 01/02/2027") == "a,b 01/02/2027"


def test_what_write_writes_read_reads_back() -> None:
    assert PRICE is not None and EXPIRE is not None
    for value in (
        Decimal("12.30"),
        Decimal("-0.5"),
        Decimal("1E+3"),
        Decimal("0.30000000000000001"),
    ):
        text = EUROPE.write(PRICE, value)
        assert "." not in text and "E" not in text
        assert Decimal(EUROPE.read(PRICE, text)) == value
    day = dt.datetime(2027, 1, 31)
    assert EUROPE.write(EXPIRE, day) == "31/01/2027"
    assert EUROPE.read(EXPIRE, "31/01/2027") == day.isoformat()
    assert CellFormat().write(EXPIRE, dt.datetime(2027, 1, 31, 9, 30)) == "2027-01-31T09:30:00"


def test_writing_a_date_whose_time_the_format_drops_is_an_error() -> None:
    assert EXPIRE is not None
    with pytest.raises(CellError) as caught:
        EUROPE.write(EXPIRE, dt.datetime(2027, 1, 31, 9, 30))
    assert str(caught.value) == (
        "2027-01-31T09:30:00 does not fit the date format %d/%m/%Y "
        "(it would be read back as 31/01/2027)"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"decimal": ";"}, "'decimal' must be in ('.', ',')"),
        ({"date_format": "dd/mm/yyyy"}, "date format 'dd/mm/yyyy' has no strptime directive"),
    ],
)
def test_a_format_that_cannot_be_is_refused(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CellFormat(**kwargs)


def _hints(*values: str, field: str = "ExpireDate", cells: CellFormat | None = None) -> list[str]:
    rows = [SourceRow(n, {**BASE, field: v}) for n, v in enumerate(values, start=2)]
    _, errors = validate_rows(E, rows)
    return option_hints(errors, E, cells or CellFormat())


def test_the_hint_names_the_day_first_or_the_month_first_format_only_when_the_dates_tell() -> None:
    assert _hints("01/02/2027", "31/01/2027") == [
        "ExpireDate: 2 rows look like day-first dates ('01/02/2027'): pass --date-format %d/%m/%Y"
    ]
    assert _hints("12/31/27 10:00") == [
        "ExpireDate: 1 row looks like month-first dates ('12/31/27 10:00'): "
        "pass --date-format '%m/%d/%y %H:%M'"
    ]
    assert _hints("01.02.2027", "03.04.2027") == [
        "ExpireDate: 2 rows look like dates ('01.02.2027') but do not say whether the day or "
        "the month comes first: pass --date-format %d.%m.%Y (day first) or %m.%d.%Y (month first)"
    ]
    assert _hints("13/01/2027", "01/13/2027") == [
        "ExpireDate: 2 rows look like dates, some day first and some month first ('13/01/2027')"
    ]
    assert _hints("soon") == []
    assert _hints("31/01/2027", cells=CellFormat(date_format="%Y")) == []  # a format was given
    assert _hints("12,30", "abc", field="Price") == [
        "Price: 1 row looks like decimal commas ('12,30'): pass --decimal ,"
    ]


def test_json_lines_keys_are_ignored_and_their_text_cells_read_the_same_way(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"CoworkerId": 7, "BusinessId": 1, "TimePassId": 2, "Price": "12,30", '
        '"ExpireDate": "31/01/2027", "Customer": "Zoë", "comment": "x"}\n'
        '{"CoworkerId": 8, "BusinessId": 1, "TimePassId": 2, "Price": 4.5}\n'
    )
    source = read_rows(path, E, cells=EUROPE, ignore=["Comment"], ignore_unknown=True)
    assert source.ignored == ["Customer"] and source.not_found == []
    valid, errors = validate_rows(E, source.rows)
    assert errors == []
    assert [(v.values["Price"], v.values.get("ExpireDate")) for v in valid] == [
        (Decimal("12.30"), "2027-01-31T00:00:00Z"),
        (Decimal("4.5"), None),  # a JSON number is a number whatever the format
    ]


async def test_bulk_create_reads_decimal_commas_and_a_date_format() -> None:
    rows = [
        {**BASE, "Price": "12,30", "ExpireDate": "31/01/2027"},
        {"coworker_id": "8", "business_id": "1", "time_pass_id": "1", "price": "0,5"},
    ]
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
        async with NexudusClient(emu.base_url, auth, rate_limits=None) as client:
            with pytest.raises(BulkInputError) as refused:
                await client.coworker_time_passes.bulk_create(rows)
            assert emu.store.all("coworkertimepasses") == []
            report = await client.coworker_time_passes.bulk_create(
                rows, decimal=",", date_format="%d/%m/%Y"
            )
        records = emu.store.all("coworkertimepasses")
        stored = sorted((r["CoworkerId"], r["Price"], r["ExpireDate"]) for r in records)
    assert "Price='12,30'" in str(refused.value)
    assert report.ok and report.records_created == 2
    assert [(c, p) for c, p, _ in stored] == [(7, Decimal("12.30")), (8, Decimal("0.5"))]
    assert stored[0][2].startswith("2027-01-31T00:00:00")
    assert stored[1][2] is None


def test_formatted_rows_number_rows_as_bulk_create_does() -> None:
    rows = formatted_rows([{"Price": "1,5"}, {"Price": "2,5"}], decimal=",")
    assert [(r.line, r.cells) for r in rows] == [(1, CellFormat(",")), (2, CellFormat(","))]
