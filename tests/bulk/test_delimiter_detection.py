"""The delimiter is the header line's, whatever the data lines hold in their cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.cli.input_files import read_rows

HEADER = ["CoworkerId", "BusinessId", "TimePassId", "Notes"]


@pytest.mark.parametrize(
    ("sep", "notes"),
    [
        (";", ["a,b,c,d,e,f", "g,h,i,j,k,l"]),  # commas outnumber the semicolons below
        ("\t", ["x;y;z;w;v", "p;q;r;s;t"]),
        (",", ["one|two|three|four|five", "six|seven|eight|nine|ten"]),
    ],
)
def test_cells_full_of_another_delimiter_do_not_change_the_detected_one(
    tmp_path: Path, sep: str, notes: list[str]
) -> None:
    path = tmp_path / "p.csv"
    lines = [sep.join(HEADER)] + [sep.join(["7", "1", "2", n]) for n in notes]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = read_rows(path, COWORKER_TIME_PASS)
    assert source.errors == []
    assert [(r.line, dict(r.data)) for r in source.rows] == [
        (2, {"CoworkerId": "7", "BusinessId": "1", "TimePassId": "2", "Notes": notes[0]}),
        (3, {"CoworkerId": "7", "BusinessId": "1", "TimePassId": "2", "Notes": notes[1]}),
    ]
