"""Failing fast and quietly: a retry is one short line with -v, a dry run needs no network,
and export refuses what the chosen encoding or date format cannot write."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, EmulatorConfig

from .threaded_emulator import ThreadedEmulator, threaded_emulator

HEADER = "CoworkerId,BusinessId,TimePassId,Notes\n"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NEXUDUS_BASE_URL": base_url,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
    }
    return subprocess.run(
        [sys.executable, "-m", "nexudus_async.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_with_v_each_retry_is_one_short_line_and_the_error_one_line(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "1,1,1,x\n")
    port = _closed_port()
    proc = _run("-v", "import", str(path), base_url=f"http://127.0.0.1:{port}")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    reach = rf"cannot reach 127\.0\.0\.1:{port} \(connection refused\)"
    assert len(lines) == 4, lines
    for attempt, line in enumerate(lines[:3], start=2):
        assert re.fullmatch(rf"{reach}; retrying in \d+\.\d+ s, {attempt} of 4", line), line
    assert lines[3] == (
        f"error: cannot reach 127.0.0.1:{port} (connection refused); "
        "stopped after the retries of the first request"
    )


def test_a_dry_run_that_cannot_reach_the_api_prints_the_plan_and_one_warning_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "1,1,1,x\n2,1,2,y\n")
    port = _closed_port()
    # -v: any retry would show; a dry run makes one attempt.
    proc = _run("-v", "import", str(path), "--dry-run", base_url=f"http://127.0.0.1:{port}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    out = proc.stdout.splitlines()
    assert out[0] == f"plan for {path} (CoworkerTimePass):"
    assert out[-2:] == [
        f"  time passes:      not checked: cannot reach 127.0.0.1:{port} (connection refused)",
        "dry run: nothing was sent",
    ]


def _seed(emu: ThreadedEmulator, **fields: object) -> None:
    record = {"CoworkerId": 11, "BusinessId": 1, "TimePassId": 1, **fields}
    emu.call(lambda: emu.server.store.insert("coworkertimepasses", record))


def test_export_refuses_a_character_the_encoding_lacks_naming_the_record_and_column(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.csv"
    with threaded_emulator(EmulatorConfig(time_scale=0.01)) as emu:
        _seed(emu, Notes="café")
        _seed(emu, Notes="snow ☃ man")
        proc = _run(
            "export", "--encoding", "cp1252", "-o", str(out), "--time-scale", "0.01",
            base_url=emu.base_url,
        )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "error: record 2, column Notes: '☃' cannot be written in cp1252; choose another "
        "--encoding; the output is incomplete\n"
    )


def test_export_refuses_a_date_whose_time_the_format_would_drop(tmp_path: Path) -> None:
    with threaded_emulator(EmulatorConfig(time_scale=0.01)) as emu:
        _seed(emu, ExpireDate="2027-01-31T00:00:00Z")
        _seed(emu, ExpireDate="2027-01-31T09:30:00Z")
        ok = _run(
            "export", "--date-format", "%d/%m/%Y %H:%M", "--delimiter", "tab",
            "--time-scale", "0.01", base_url=emu.base_url,
        )  # fmt: skip
        dropped = _run(
            "export", "--date-format", "%d/%m/%Y", "-o", str(tmp_path / "out.csv"),
            "--time-scale", "0.01", base_url=emu.base_url,
        )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[1:] == [
        "11\t1\t1\t\t\tfalse\tfalse\t\t31/01/2027 00:00\t\t\t\t",
        "11\t1\t1\t\t\tfalse\tfalse\t\t31/01/2027 09:30\t\t\t\t",
    ]
    assert dropped.returncode == 2
    assert dropped.stderr == (
        "error: record 2: 2027-01-31T09:30:00 does not fit the date format %d/%m/%Y "
        "(it would be read back as 31/01/2027); the output is incomplete\n"
    )
