"""A refused login or an unreachable host stops the whole job (import and export).

Subprocesses against an emulator in a thread of the test (its counters show
how many token requests were made) or against a closed port on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, EmulatorConfig

from .helpers import sample_rows, write_csv
from .threaded_emulator import threaded_emulator

SCALE = "0.01"
WRONG = "Wr0ng!Pw&x=1"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "nexudus_async.cli", *args]


def _env(base_url: str, password: str = WRONG) -> dict[str, str]:
    return {
        **os.environ,
        "NEXUDUS_BASE_URL": base_url,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": password,
    }


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def many_groups(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "passes.csv", sample_rows(customers=60, passes=150, seed=3))


@pytest.mark.parametrize("command", ["import", "export"])
def test_a_wrong_password_is_one_token_request_and_exit_3(many_groups: Path, command: str) -> None:
    args = [command, str(many_groups)] if command == "import" else [command]
    with threaded_emulator(EmulatorConfig(time_scale=float(SCALE))) as emu:
        proc = subprocess.run(
            _cli(*args, "--time-scale", SCALE),
            env=_env(emu.base_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
        token_requests = emu.route_count("POST /api/token")
        assert emu.creates() == 0
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert token_requests == 1
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: authentication failed for {DEFAULT_ADMIN_EMAIL} at ")
    for form in (WRONG, "Wr0ng%21Pw%26x%3D1", "Wr0ng!Pw&x=1"):
        assert form not in proc.stdout + proc.stderr


@pytest.mark.parametrize("command", ["import", "export"])
def test_an_unreachable_host_stops_after_the_first_requests_retries(
    many_groups: Path, command: str
) -> None:
    args = [command, str(many_groups)] if command == "import" else [command]
    port = _closed_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.run(_cli(*args), env=_env(url), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    # One line, no aiohttp repr; the retries are told only with -v (test_quiet_failures.py).
    assert proc.stderr.splitlines() == [
        f"error: cannot reach 127.0.0.1:{port} (connection refused); "
        "stopped after the retries of the first request"
    ]


def test_a_user_without_the_roles_stops_the_job_after_the_first_refusal(
    many_groups: Path,
) -> None:
    with threaded_emulator(EmulatorConfig(time_scale=float(SCALE))) as emu:
        emu.call(lambda: emu.server.add_user("reader@example.com", "Pw-reader-1", roles=()))
        env = {**_env(emu.base_url, "Pw-reader-1"), "NEXUDUS_EMAIL": "reader@example.com"}
        proc = subprocess.run(
            _cli("import", str(many_groups), "--time-scale", SCALE),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        # The first read (the time passes check): its token, one renewal after the 401,
        # and nothing more.
        assert emu.route_count("POST /api/token") == 2
        assert emu.route_count("GET /api/billing/timepasses") == 2
        assert emu.route_count("GET /api/billing/coworkertimepasses") == 0
        assert emu.creates() == 0
    assert proc.returncode == 3, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert lines == [lines[0]] and "for reader@example.com at " in lines[0]
    assert "Pw-reader-1" not in proc.stdout + proc.stderr
