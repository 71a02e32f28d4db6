"""Files as properties: what our exporter writes reads back as the same rows.

Any table of passes, exported by ``export_records`` from an emulator, then saved
again as a spreadsheet might (``,`` ``;`` tab or ``|`` as the delimiter, ``\\r\\n``
or ``\\n`` line ends, a byte-order mark or not), is read back by ``read_rows``
and ``validate_rows`` as the same rows, notes with quotes, delimiters and line
breaks included. (The exporter itself writes ``,``; decimal-comma and
date-format dialects are not options on this branch, so they are not drawn.)
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings, strategies as st

from nexudus_async._core.auth import BasicAuth
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.cli.connect import Connection
from nexudus_async.cli.export_cmd import export_records
from nexudus_async.cli.input_files import read_rows
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    ThrottleLimits,
)

from ..bulk.threaded_emulator import ThreadedEmulator, threaded_emulator
from .money import api_decimals

CTP = "coworkertimepasses"
TRICKY = ",;\t|\"'\n\r\\ é€😀"
notes = st.text(
    alphabet=st.sampled_from(TRICKY) | st.characters(codec="utf-8", exclude_characters="\x00"),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() != "")
dates = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)
passes = st.fixed_dictionaries(
    {
        "CoworkerId": st.integers(1, 2**31 - 1),
        "BusinessId": st.integers(1, 2**31 - 1),
        "TimePassId": st.integers(1, 2**31 - 1),
    },
    optional={
        "Notes": notes,
        "SystemId": notes,
        "Used": st.booleans(),
        "Free": st.booleans(),
        "Price": api_decimals,
        "ExpireDate": dates,
    },
)
dialects = st.fixed_dictionaries(
    {
        "delimiter": st.sampled_from([",", ";", "\t", "|"]),
        "lineterminator": st.sampled_from(["\r\n", "\n"]),
        "bom": st.booleans(),
    }
)


@pytest.fixture(scope="module")
def emu() -> Iterator[ThreadedEmulator]:
    with threaded_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as server:
        yield server


def export(emu: ThreadedEmulator, records: list[dict[str, Any]]) -> str:
    def seed() -> None:
        emu.server.reset()
        for record in records:
            emu.server.store.insert(CTP, stored(record))

    emu.call(seed)
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    conn = Connection(emu.base_url, auth, DEFAULT_ADMIN_EMAIL)
    out = io.StringIO(newline="")
    count = asyncio.run(export_records(conn, "coworker_time_passes", out, {}))
    assert count == len(records)
    return out.getvalue()


def resave(exported: str, delimiter: str, lineterminator: str) -> str:
    """The exported table as a spreadsheet saves it with another delimiter and line end."""
    table = list(csv.reader(io.StringIO(exported, newline="")))
    out = io.StringIO(newline="")
    # Python's writer quotes only the line terminator's characters: with "\n" line ends a
    # lone "\r" in a cell would go out bare, which no reader takes for a cell's content.
    quoting = csv.QUOTE_MINIMAL if lineterminator == "\r\n" else csv.QUOTE_ALL
    writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator, quoting=quoting)
    writer.writerows(table)
    return out.getvalue()


def stored(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the API holds it: dates as the API writes them."""
    out = dict(record)
    if "ExpireDate" in out:
        out["ExpireDate"] = out["ExpireDate"].isoformat() + "Z"
    return out


def wanted(record: dict[str, Any]) -> dict[str, Any]:
    """The row import reads: the record as stored, Used and Free as the API defaults them."""
    return {"Used": False, "Free": False, **stored(record)}


# An emulator round trip per example: a third of the profile's examples.
@settings(max_examples=max(10, settings.default.max_examples // 3))
@given(records=st.lists(passes, min_size=1, max_size=6), dialect=dialects)
@example(
    records=[
        {"CoworkerId": 1, "BusinessId": 1, "TimePassId": 1, "Notes": 'a "quoted", note;\r\nz'},
        {"CoworkerId": 2, "BusinessId": 1, "TimePassId": 1, "Price": Decimal("12.30")},
    ],
    dialect={"delimiter": ";", "lineterminator": "\r\n", "bom": True},
)
@example(
    records=[{"CoworkerId": 1, "BusinessId": 1, "TimePassId": 1, "Notes": "a\rb\n\tc|"}],
    dialect={"delimiter": "\t", "lineterminator": "\n", "bom": False},
)
def test_an_exported_table_reads_back_as_the_same_rows(
    emu: ThreadedEmulator,
    tmp_path_factory: pytest.TempPathFactory,
    records: list[dict[str, Any]],
    dialect: dict[str, Any],
) -> None:
    text = resave(export(emu, records), dialect["delimiter"], dialect["lineterminator"])
    path = tmp_path_factory.mktemp("csv") / "passes.csv"
    path.write_bytes(("\ufeff" if dialect["bom"] else "").encode() + text.encode("utf-8"))
    source = read_rows(path, COWORKER_TIME_PASS)
    assert source.errors == []
    valid, errors = validate_rows(COWORKER_TIME_PASS, source.rows)
    assert errors == []
    assert [dict(v.values) for v in valid] == [wanted(r) for r in records]
    assert all(type(v.values["Price"]) is Decimal for v in valid if "Price" in v.values)
