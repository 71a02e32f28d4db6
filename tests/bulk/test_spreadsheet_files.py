"""A European spreadsheet's export imports as it is, and export writes it back that way.

The file is what Excel writes in much of Europe: ``;``-delimited, cp1252,
CRLF, headers in mixed case, empty cells, an extra ``Customer name`` column,
prices ``12,30`` and dates ``31/01/2027``. Every test runs the real command
line as a subprocess on the real file.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, EmulatorConfig

from .threaded_emulator import ThreadedEmulator, threaded_emulator

SCALE = "0.01"
CTP = "coworkertimepasses"
ROWS = 300
HEADER = ["coworkerID", "BusinessId", "TIMEPASSID", "Customer name", "Price", "expiredate", "Notes"]
READ = ["--encoding", "cp1252", "--decimal", ",", "--date-format", "%d/%m/%Y"]
"""The options that read the file (the delimiter is detected)."""
WRITE = ["--encoding", "cp1252", "--delimiter", ";", "--decimal", ",", "--date-format", "%d/%m/%Y"]
"""The options that write it back the same way."""
KEPT = ("CoworkerId", "BusinessId", "TimePassId", "Notes", "Price", "ExpireDate")


def _price(i: int) -> str:
    return "" if i % 7 == 0 else f"{i % 40 + 1},{(i * 37) % 100:02d}"


def _date(i: int) -> str:
    day = datetime.date(2027, 1, 1) + datetime.timedelta(days=i * 5)
    return "" if i % 5 == 0 else day.strftime("%d/%m/%Y")


def _rows() -> list[list[str]]:
    rows = []
    for i in range(ROWS):
        notes = "café au lait, Zoë's" if i % 3 == 0 else ""
        rows.append(
            [str(3000 + i), "1", str(1 + i % 2), f"Müller Nº{i}", _price(i), _date(i), notes]
        )
    return rows


def _write_spreadsheet(path: Path) -> Path:
    lines = [HEADER, *_rows()]
    text = "\r\n".join(";".join(cells) for cells in lines) + "\r\n"
    path.write_bytes(text.encode("cp1252"))
    return path


def _expected() -> Counter[tuple[Any, ...]]:
    """The records the file asks for, as the emulator's store holds them."""
    out: Counter[tuple[Any, ...]] = Counter()
    for coworker, business, tp, _, price, date, notes in _rows():
        day = f"{date[6:]}-{date[3:5]}-{date[:2]}T00:00:00" if date else None
        out[
            (
                int(coworker),
                int(business),
                int(tp),
                notes or None,
                Decimal(price.replace(",", ".")) if price else None,
                day,
            )
        ] += 1
    return out


@pytest.fixture
def spreadsheet(tmp_path: Path) -> Path:
    return _write_spreadsheet(tmp_path / "passes.csv")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "nexudus_async.cli", *args]


def _run(*args: str, base_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUDUS_")}
    if base_url is not None:
        env.update(
            NEXUDUS_BASE_URL=base_url,
            NEXUDUS_EMAIL=DEFAULT_ADMIN_EMAIL,
            NEXUDUS_PASSWORD=DEFAULT_ADMIN_PASSWORD,
        )
    return subprocess.run(_cli(*args), env=env, capture_output=True, text=True, timeout=120)


def _store(emu: ThreadedEmulator) -> Counter[tuple[Any, ...]]:
    def read() -> Counter[tuple[Any, ...]]:
        records: Any = emu.server.store.all(CTP)
        return Counter(tuple(_plain(r.get(k)) for k in KEPT) for r in records)

    return emu.call(read)


def _plain(value: Any) -> Any:
    # ExpireDate as the store keeps it, without a zone suffix, to compare with the file
    return value.rstrip("Z") if isinstance(value, str) and value[:2] == "20" else value


def test_without_the_options_the_errors_name_them_and_nothing_is_sent(spreadsheet: Path) -> None:
    proc = _run("import", str(spreadsheet), "--dry-run", "--encoding", "cp1252")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    prices = sum(1 for i in range(ROWS) if _price(i))
    dates = sum(1 for i in range(ROWS) if _date(i))
    bad = sum(1 for i in range(ROWS) if _price(i) or _date(i))
    assert lines[0] == f"{spreadsheet}: errors by column and kind:"
    assert lines[1] == (
        "  line 1: Customer name: unknown column for CoworkerTimePass (known: CoworkerId, "
        "BusinessId, TimePassId, CreateMultiple, Notes, PurchaseOrder, Used, Free, Price, "
        "ExpireDate, TariffTimePassUniqueId, CoworkerProductUniqueId, CoworkerContractUniqueId, "
        'SystemId, or snake_case); to leave it out pass --ignore-columns "Customer name" '
        "(or --ignore-unknown-columns)"
    )
    assert lines[2] == (
        "  Price: must be a number (digits and a decimal point, like 12.30): "
        f"{prices} rows (lines 3, 4, 5, 6, 7, ...), e.g. '2,37'"
    )
    assert lines[3] == (
        "  ExpireDate: must be a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]): "
        f"{dates} rows (lines 3, 4, 5, 6, 8, ...), e.g. '06/01/2027'"
    )
    assert lines[4:] == [
        f"Price: {prices} rows look like decimal commas ('2,37'): pass --decimal ,",
        f"ExpireDate: {dates} rows look like day-first dates ('06/01/2027'): "
        "pass --date-format %d/%m/%Y",
        f"{bad + 1} bad line(s), {prices + dates + 1} error(s) in {spreadsheet}; nothing was sent",
    ]


def test_with_the_options_the_dry_run_prints_the_plan(spreadsheet: Path) -> None:
    proc = _run("import", str(spreadsheet), "--dry-run", *READ, "--ignore-columns", "customer NAME")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    out = proc.stdout.splitlines()
    assert out[0] == f"plan for {spreadsheet} (CoworkerTimePass):"
    assert out[1:3] == [f"  rows:             {ROWS}", f"  passes:           {ROWS}"]
    assert out[-2:] == [
        "  time passes:      not checked (offline: no credentials for a dry run)",
        "dry run: nothing was sent",
    ]


def test_ignore_unknown_columns_warns_once_listing_them(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text(
        "CoworkerId;Customer name;BusinessId;Comment;TimePassId;Comment\n7;Zoë;1;hi;2;again\n"
    )
    proc = _run("import", str(path), "--dry-run", "--ignore-unknown-columns")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        f"warning: {path}: ignoring the unknown column(s) 'Customer name', 'Comment'"
    ]
    assert "  passes:           1" in proc.stdout.splitlines()


def test_an_ignore_columns_name_the_file_lacks_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("CoworkerId,BusinessId,TimePassId,Notes\n7,1,2,x\n")
    proc = _run("import", str(path), "--dry-run", "--ignore-columns", "Notes,Comment")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        f"warning: --ignore-columns: {path} has no column 'Comment'"
    ]


def test_import_export_and_import_again_with_the_same_options_round_trips(
    spreadsheet: Path, tmp_path: Path
) -> None:
    exported = tmp_path / "exported.csv"
    config = EmulatorConfig(time_scale=float(SCALE))
    with threaded_emulator(config) as first, threaded_emulator(config) as second:
        common = ("--time-scale", SCALE, "--progress", "none")
        imported = _run(
            "import",
            str(spreadsheet),
            *READ,
            "--ignore-columns",
            "Customer name",
            *common,
            base_url=first.base_url,
        )
        assert imported.returncode == 0, imported.stdout + imported.stderr
        assert _store(first) == _expected()

        proc = _run(
            "export", *WRITE, "-o", str(exported), "--time-scale", SCALE, base_url=first.base_url
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == f"exported {ROWS} records\n"
        text = exported.read_bytes().decode("cp1252")
        header, first_row = text.splitlines()[:2]
        assert header.split(";")[:4] == ["CoworkerId", "BusinessId", "TimePassId", "Notes"]
        assert ";2,37;" in text and ";06/01/2027" in text and "café au lait, Zoë's" in text
        assert "." not in first_row.split(";")[header.split(";").index("Price")]

        again = _run("import", str(exported), *READ, *common, base_url=second.base_url)
        assert again.returncode == 0, again.stdout + again.stderr
        assert _store(second) == _store(first) == _expected()


BAD_CELLS = {
    "CoworkerId": "x",
    "BusinessId": "x",
    "TimePassId": "x",
    "CreateMultiple": "0",
    "Used": "maybe",
    "Free": "maybe",
    "Price": "abc",
    "ExpireDate": "soon",
    "TariffTimePassUniqueId": "nope",
    "CoworkerProductUniqueId": "nope",
    "CoworkerContractUniqueId": "nope",
}


def test_many_kinds_of_error_fit_a_terminal_and_the_report_has_every_one(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    names = [*BAD_CELLS, "Extra one", "Extra two"]
    rows = [",".join(BAD_CELLS.values()) + ",a,b" for _ in range(12)]
    path.write_text(",".join(names) + "\n" + "\n".join(rows) + "\n")
    report = tmp_path / "report.json"
    shown = _on_a_terminal(
        _cli("import", str(path), "--dry-run", "--report", str(report)), rows=12, columns=100
    )
    lines = shown.splitlines()
    assert sum(-(-len(line) // 100) for line in lines) <= 11, shown  # one row for the prompt
    assert lines[0] == f"{path}: errors by column and kind:"
    assert lines[1].startswith(
        "  line 1: 2 unknown columns for CoworkerTimePass: 'Extra one', 'Extra two' (known: "
    )
    assert lines[1].endswith(
        'pass --ignore-columns "Extra one,Extra two" (or --ignore-unknown-columns)'
    )
    assert lines[2] == (
        "  CoworkerId: must be a whole number: 12 rows (lines 2, 3, 4, 5, 6, ...), e.g. 'x'"
    )
    # What fits depends on the path's length; together, every kind is counted once.
    more = re.fullmatch(
        r"  \.\.\. and (\d+) more kinds of error, (\d+) errors "
        rf"\(every one in {re.escape(str(report))}\)",
        lines[-3],
    )
    assert more is not None, lines
    kinds_shown = len(lines) - 4
    assert kinds_shown >= 2 and kinds_shown + int(more[1]) == 1 + len(BAD_CELLS)
    assert int(more[2]) == 12 * int(more[1])
    assert lines[-2:] == [
        f"every error: {report}",
        f"13 bad line(s), 133 error(s) in {path}; nothing was sent",
    ]
    data = json.loads(report.read_text())
    assert data["sent"] == 0 and data["bad_lines"] == 13 and len(data["errors"]) == 133
    assert {(e["field"], e["value"]) for e in data["errors"] if e["line"] == 2} == {
        (name, value) for name, value in BAD_CELLS.items()
    }


def _on_a_terminal(command: list[str], *, rows: int, columns: int) -> str:
    """What ``command`` writes to stderr when stderr is a terminal of this size."""
    import pty

    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUDUS_")}
    env.update(LINES=str(rows), COLUMNS=str(columns))
    try:
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=terminal, timeout=60)
        os.close(terminal)
        shown = b""
        while chunk := _read_some(controller):
            shown += chunk
    finally:
        os.close(controller)
    return shown.decode().replace("\r\n", "\n")


def _read_some(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal's other end is closed: everything was read
        return b""


def test_the_resume_command_repeats_the_options_that_read_the_file() -> None:
    from nexudus_async.cli.import_cmd import _resume_hint
    from nexudus_async.cli.main import build_parser

    argv = ["import", "passes.csv", *READ, "--ignore-columns", "Customer name,Comment"]
    args = build_parser().parse_args([*argv, "--ignore-unknown-columns"])
    assert _resume_hint(args) == (
        "nexudus-async import passes.csv --encoding cp1252 --decimal , --date-format %d/%m/%Y "
        "--ignore-columns 'Customer name,Comment' --ignore-unknown-columns"
    )


def test_a_date_format_without_a_directive_is_a_usage_error(spreadsheet: Path) -> None:
    proc = _run("import", str(spreadsheet), "--dry-run", "--date-format", "dd/mm/yyyy")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        "nexudus-async import: error: argument --date-format: date format 'dd/mm/yyyy' has no "
        "strptime directive (like %d/%m/%Y or %d/%m/%Y %H:%M)"
    )
