"""Bad input files: one clear error per bad row, with its line number; nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexudus_async.cli.main import main

BAD_CSV = """\
CoworkerId,BusinessId,TimePassId,CreateMultiple,ExpireDate
1,1,1,2,2027-01-01
,1,1,1,
abc,1,1,1,
2,1,1,-3,
3,1,1,1,2027-13-45
4,1,1,1,
"""


def test_each_bad_row_gets_one_error_with_its_line_and_dry_run_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV)
    code = main(["import", str(path), "--dry-run"])
    assert code != 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(str(path) + ":")]
    assert len(lines) == 4, err
    assert lines[0] == f"{path}:line 3: CoworkerId: is required"
    assert lines[1].startswith(f"{path}:line 4: CoworkerId='abc': must be a whole number")
    assert lines[2].startswith(f"{path}:line 5: CreateMultiple='-3': must be at least 1")
    assert lines[3].startswith(f"{path}:line 6: ExpireDate='2027-13-45': must be a date")
    assert "4 bad line(s)" in err and "nothing was sent" in err


def test_unknown_column_is_reported_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("CoworkerId,BusinessId,TimePassId,Colour\n1,1,1,red\n")
    assert main(["import", str(path), "--dry-run"]) != 0
    err = capsys.readouterr().err
    assert f"{path}:line 1: Colour: unknown column" in err


def test_jsonl_rows_each_error_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"coworker_id": 1, "business_id": 1, "time_pass_id": 1}\n'
        '{"coworker_id": 1, "business_id": 1, "time_pass_id": 1, "colour": "red"}\n'
        "\n"
        '{"coworker_id": "x", "business_id": 1, "time_pass_id": 1}\n'
        '{"coworker_id": 2, "business_id": 1, "time_pass_id": 1, "create_multiple": 0}\n'
        "not json\n"
        '{"coworker_id": 3, "business_id": 1, "time_pass_id": 1, "expire_date": "soon"}\n'
    )
    assert main(["import", str(path), "--dry-run"]) != 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(str(path) + ":")]
    assert [line.split(":")[1] for line in lines] == [
        "line 2",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
    ]
    assert "colour='red': unknown column" in lines[0]


def test_dry_run_of_a_good_file_prints_the_plan_and_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "good.csv"
    path.write_text(
        "coworker_id,business_id,time_pass_id,create_multiple\n1,1,1,2\n1,1,1,3\n2,1,1,\n2,1,2,1\n"
    )
    assert main(["import", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "rows:             4" in out
    assert "passes:           7" in out
    assert "groups:           3" in out
    assert "create requests:  3" in out
    assert "snapshot reads:   1 per 1,000 passes" in out
    assert "(at most 3, else one count per group)" in out
    assert "estimated time:" in out
    assert "nothing was sent" in out
    assert not (tmp_path / "good.csv.journal.sqlite").exists()


def test_missing_credentials_are_named_without_echoing_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("NEXUDUS_BASE_URL", "NEXUDUS_EMAIL", "NEXUDUS_PASSWORD", "NEXUDUS_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NEXUDUS_PASSWORD", "s3cret-value")
    path = tmp_path / "good.csv"
    path.write_text("CoworkerId,BusinessId,TimePassId\n1,1,1\n")
    assert main(["import", str(path)]) == 2
    captured = capsys.readouterr()
    assert "NEXUDUS_EMAIL" in captured.err
    assert "s3cret-value" not in captured.out + captured.err


def test_a_row_with_several_problems_is_one_line_naming_them_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "two.csv"
    path.write_text("CoworkerId,BusinessId,TimePassId,CreateMultiple\nx,1,1,0\n")
    assert main(["import", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert (
        f"{path}:line 2: CoworkerId='x': must be a whole number; "
        "CreateMultiple='0': must be at least 1"
    ) in err
