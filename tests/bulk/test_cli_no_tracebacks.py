"""Every failure of the command line is one clear line and a documented exit code.

Each case runs the real console entry point in a subprocess and checks that
no traceback reaches stderr. Nothing here leaves the machine: ``.invalid``
names never resolve, and the closed port is on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

HEADER = "CoworkerId,BusinessId,TimePassId,Notes\n"


def _run(*args: str, password: str = "Sekr3t!pw") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NEXUDUS_EMAIL": "ops@example.com",
        "NEXUDUS_PASSWORD": password,
    }
    env.pop("NEXUDUS_BASE_URL", None)
    if "--dry-run" in args:  # a dry run with credentials would check the live time passes
        del env["NEXUDUS_EMAIL"], env["NEXUDUS_PASSWORD"]
    proc = subprocess.run(
        [sys.executable, "-m", "nexudus_async.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert password not in proc.stdout + proc.stderr
    return proc


def _error_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_windows_1252_file_names_the_line_and_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes((HEADER + "1,1,1,plain\n2,1,1,café au lait\n").encode("cp1252"))
    proc = _run("import", str(path), "--dry-run")
    assert proc.returncode == 2
    assert _error_lines(proc) == [
        f"error: {path}:line 3: not valid UTF-8 (byte 0xe9 at column 10); save it as UTF-8, "
        "or pass its encoding (--encoding cp1252 for Excel's CSV); nothing was sent"
    ]
    ok = _run("import", str(path), "--dry-run", "--encoding", "cp1252")
    assert ok.returncode == 0, ok.stderr
    assert "rows:             2" in ok.stdout


def test_an_unknown_encoding_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "1,1,1,x\n")
    proc = _run("import", str(path), "--dry-run", "--encoding", "klingon")
    assert proc.returncode == 2
    assert _error_lines(proc) == [
        "error: unknown encoding 'klingon' (try utf-8 or cp1252); nothing was sent"
    ]


def test_invalid_utf8_in_json_lines_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(
        b'{"CoworkerId": 1, "BusinessId": 1, "TimePassId": 1}\n'
        b'{"CoworkerId": 2, "BusinessId": 1, "TimePassId": 1, "Notes": "\xff"}\n'
    )
    proc = _run("import", str(path), "--dry-run")
    assert proc.returncode == 2
    (line,) = _error_lines(proc)
    assert line.startswith(f"error: {path}:line 2: not valid UTF-8 (byte 0xff at column 63)")


def test_a_10_mb_field_is_one_line_not_a_csv_traceback(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "1,1,1,x\n" + "2,1,1," + "y" * 10_000_000 + "\n")
    proc = _run("import", str(path), "--dry-run")
    assert proc.returncode == 2
    assert _error_lines(proc) == [
        f"error: {path}:line 3: not readable as CSV: column 'Notes' holds a value of "
        "10,000,000 characters, over the CSV field limit of 131,072; nothing was sent"
    ]


def test_an_unclosed_quote_names_the_column_and_line_where_it_opened(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    rows = "".join(f"{n},1,1,fine\n" for n in range(3, 20_003))
    path.write_text('CoworkerId,Notes,BusinessId,TimePassId\n1,1,1,x\n2,"oops,1,1\n' + rows)
    proc = _run("import", str(path), "--dry-run")
    assert proc.returncode == 2
    assert _error_lines(proc) == [
        f"error: {path}:line 3: not readable as CSV: column 'Notes' holds a value of "
        "288,911 characters, over the CSV field limit of 131,072; it runs over 20,002 lines: "
        "a quote opened and never closed?; nothing was sent"
    ]


@pytest.mark.parametrize("command", ["import", "export"])
def test_plain_http_to_an_unresolvable_host_is_refused_without_a_traceback(
    tmp_path: Path, command: str
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "1,1,1,x\n")
    args = [command, str(path)] if command == "import" else [command]
    proc = _run(*args, "--base-url", "http://nexudus.invalid")
    assert proc.returncode == 2, proc.stderr
    (line,) = _error_lines(proc)
    assert line.startswith(
        "error: invalid base_url='http://nexudus.invalid': refusing to send credentials "
        "over plain http:// to nexudus.invalid; use https://"
    )


def test_an_unresolvable_host_is_unreachable_exit_4(tmp_path: Path) -> None:
    # export against an unreachable host: test_fail_fast.py (a closed port).
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "1,1,1,x\n2,1,1,y\n")
    proc = _run("import", str(path), "--base-url", "https://nexudus.invalid")
    assert proc.returncode == 4, proc.stderr
    (line,) = _error_lines(proc)
    assert line == (
        "error: cannot reach nexudus.invalid:443 (the host name does not resolve); "
        "stopped after the retries of the first request"
    )


def test_export_with_the_insecure_opt_in_warns_then_fails_to_resolve() -> None:
    warned = _run("export", "--insecure-http", "--base-url", "http://nexudus.invalid")
    assert warned.returncode == 4
    assert "sending credentials over plain http:// to nexudus.invalid" in warned.stderr


def test_export_refuses_a_time_scale_that_is_not_positive_before_connecting() -> None:
    proc = _run("export", "--time-scale", "0", "--base-url", f"http://127.0.0.1:{_closed_port()}")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines()[-1].endswith(
        "argument --time-scale: '0' is not a positive number"
    )


def test_an_unexpected_error_is_one_line_and_v_shows_the_traceback(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "1,1,1,x\n")
    # A report in a directory that does not exist: not a case the import handles itself.
    report = tmp_path / "no" / "such" / "r.json"
    args = ["import", str(path), "--report", str(report), "--emulator"]
    proc = _run(*args)
    assert proc.returncode == 70
    assert _error_lines(proc) == [
        f"error: unexpected FileNotFoundError: [Errno 2] No such file or directory: '{report}' "
        "(run with -v for the traceback)"
    ]
    env = {**os.environ, "NEXUDUS_EMAIL": "ops@example.com", "NEXUDUS_PASSWORD": "pw-x"}
    verbose = subprocess.run(
        [sys.executable, "-m", "nexudus_async.cli", "-v", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verbose.returncode == 70
    assert "Traceback" in verbose.stderr
