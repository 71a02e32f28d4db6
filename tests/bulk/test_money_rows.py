"""Money in import files: Decimals with their digits; what is no number is a bad row (its line)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from nexudus_async import BasicAuth, NexudusClient
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk.gateway import _to_python
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.cli.input_files import read_rows
from nexudus_async.cli.main import main
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    ThrottleLimits,
    run_emulator,
)

BAD_CSV = """\
CoworkerId;BusinessId;TimePassId;Price
1;1;1;12,30
2;1;1;abc
3;1;1;NaN
4;1;1;12.30
5;1;1;0.30000000000000001
"""

BAD_JSONL = """\
{"CoworkerId": 1, "BusinessId": 1, "TimePassId": 1, "Price": "12,30"}
{"CoworkerId": 2, "BusinessId": 1, "TimePassId": 1, "Price": "abc"}
{"CoworkerId": 3, "BusinessId": 1, "TimePassId": 1, "Price": NaN}
{"CoworkerId": 4, "BusinessId": 1, "TimePassId": 1, "Price": 12.30}
{"CoworkerId": 5, "BusinessId": 1, "TimePassId": 1, "Price": 0.30000000000000001}
"""


@pytest.mark.parametrize(("name", "text"), [("bad.csv", BAD_CSV), ("bad.jsonl", BAD_JSONL)])
def test_a_price_that_is_no_number_is_a_bad_row_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert main(["import", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(str(path) + ":")]
    first = 2 if name.endswith(".csv") else 1  # the CSV header is line 1
    assert len(lines) == 3, err
    assert lines[0].startswith(f"{path}:line {first}: Price='12,30': must be a number")
    assert lines[1].startswith(f"{path}:line {first + 1}: Price='abc': must be a number")
    assert lines[2].startswith(f"{path}:line {first + 2}: Price=")
    assert "finite" in lines[2]
    assert "3 bad line(s)" in err and "nothing was sent" in err


@pytest.mark.parametrize(("name", "text"), [("ok.csv", BAD_CSV), ("ok.jsonl", BAD_JSONL)])
def test_good_prices_keep_their_digits_up_to_the_request(
    tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    valid, errors = validate_rows(COWORKER_TIME_PASS, read_rows(path, COWORKER_TIME_PASS).rows)
    assert len(errors) == 3
    prices = [row.values["Price"] for row in valid]
    assert prices == [Decimal("12.30"), Decimal("0.30000000000000001")]
    assert [str(p) for p in prices] == ["12.30", "0.30000000000000001"]  # never via a float
    field = COWORKER_TIME_PASS.field("Price")
    assert field is not None
    assert [str(_to_python(field, p)) for p in prices] == ["12.30", "0.30000000000000001"]


async def test_bulk_create_sends_each_price_with_its_digits(tmp_path: Path) -> None:
    rows = [
        {"CoworkerId": "1", "BusinessId": "1", "TimePassId": "1", "Price": "0.30000000000000001"},
        {"CoworkerId": "1", "BusinessId": "1", "TimePassId": "1", "Price": "0.30000000000000001"},
        {"CoworkerId": "2", "BusinessId": "1", "TimePassId": "1", "Price": 12.5},
        {"CoworkerId": "3", "BusinessId": "1", "TimePassId": "1", "Price": Decimal("12.30")},
    ]
    config = EmulatorConfig(limits=ThrottleLimits.off(), seed=1)
    async with run_emulator(config) as emu:
        auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
        async with NexudusClient(emu.base_url, auth, rate_limits=None) as client:
            with Journal(tmp_path / "job.sqlite") as journal:
                report = await client.coworker_time_passes.bulk_create(rows, journal=journal)
        assert report.ok and report.records_created == 4
        stored = sorted((r["CoworkerId"], r["Price"]) for r in emu.store.all("coworkertimepasses"))
    assert stored == [
        (1, Decimal("0.30000000000000001")),
        (1, Decimal("0.30000000000000001")),
        (2, Decimal("12.5")),
        (3, Decimal("12.30")),
    ]
    assert [str(p) for _, p in stored] == ["0.30000000000000001"] * 2 + ["12.5", "12.30"]
