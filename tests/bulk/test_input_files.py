"""Files as people have them: delimiters, encodings, header spelling, numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.cli.input_files import read_rows
from nexudus_async.cli.main import main


def _values(path: Path, **kw: str) -> list[dict[str, object]]:
    source = read_rows(path, COWORKER_TIME_PASS, **kw)  # type: ignore[arg-type]
    assert source.errors == []
    valid, errors = validate_rows(COWORKER_TIME_PASS, source.rows)
    assert errors == []
    return [dict(v.values, count=v.count) for v in valid]


@pytest.mark.parametrize("sep", [";", "\t", "|", ","])
def test_the_delimiter_is_detected_from_the_header_line(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        sep.join(["CoworkerId", "BusinessId", "TimePassId", "Notes"]) + "\n"
        + sep.join(["7", "1", "2", '"a, b; c"']) + "\n",
        encoding="utf-8-sig",
    )  # fmt: skip
    assert _values(path) == [
        {"CoworkerId": 7, "BusinessId": 1, "TimePassId": 2, "Notes": "a, b; c", "count": 1}
    ]


def test_an_explicit_delimiter_wins(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("CoworkerId;BusinessId;TimePassId\n7;1;2\n")
    assert _values(path, delimiter=";")[0]["CoworkerId"] == 7
    source = read_rows(path, COWORKER_TIME_PASS, delimiter=",")
    assert next(e.field for e in source.errors) == "CoworkerId;BusinessId;TimePassId"


def test_headers_match_case_insensitively(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("COWORKERID,businessid,TimePassID,CREATE_MULTIPLE\n7,1,2,3\n")
    assert _values(path) == [{"CoworkerId": 7, "BusinessId": 1, "TimePassId": 2, "count": 3}]


def test_a_near_miss_gets_a_suggestion_and_a_missing_column_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.csv"
    path.write_text("CoworkerId,BusinesId,TimePassId\n" + "7,1,2\n" * 500)
    assert main(["import", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{path}:line 1: BusinesId: unknown column for CoworkerTimePass; did you mean "
        "BusinessId?; BusinessId: required column is missing from the header",
        f"1 bad line(s), 2 error(s) in {path}; nothing was sent",
    ]


def test_two_spellings_of_one_column_differing_in_case_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("CoworkerId,BusinessId,TimePassId,COWORKERID\n7,1,2,9\n")
    source = read_rows(path, COWORKER_TIME_PASS)
    assert [str(e) for e in source.errors] == [
        "line 1: COWORKERID: names the same field as column 'CoworkerId'"
    ]


def test_numbers_parse_the_same_in_csv_and_json_lines(tmp_path: Path) -> None:
    csv_path = tmp_path / "p.csv"
    csv_path.write_text("CoworkerId,BusinessId,TimePassId,CreateMultiple\n7.0,1,2,2.0\n")
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text(
        '{"CoworkerId": 7.0, "BusinessId": 1, "TimePassId": 2, "CreateMultiple": 2.0}\n'
    )
    assert (
        _values(csv_path)
        == _values(jsonl)
        == [{"CoworkerId": 7, "BusinessId": 1, "TimePassId": 2, "count": 2}]
    )
    for path, text in (
        (csv_path, "CoworkerId,BusinessId,TimePassId,CreateMultiple\n7,1,2,2.5\n"),
        (jsonl, '{"CoworkerId": 7, "BusinessId": 1, "TimePassId": 2, "CreateMultiple": 2.5}\n'),
    ):
        path.write_text(text)
        _valid, errors = validate_rows(COWORKER_TIME_PASS, read_rows(path, COWORKER_TIME_PASS).rows)
        assert [e.problem for e in errors] == [
            f"CreateMultiple={'2.5' if path is csv_path else 2.5!r}: must be a whole number"
        ]
