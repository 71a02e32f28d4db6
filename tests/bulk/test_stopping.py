"""The first SIGINT or SIGTERM starts no new request; the rerun is exact.

The emulator runs in a thread of the test process (so the test reads its
request counters); the import is a subprocess that really gets the signal.
Every create is held 1 s by the emulator: once it has received as many
creates as the import has slots (``--concurrency``), nothing else is in
flight, so every create it receives after the signal is a request started
after the signal.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from nexudus_async._core.errors import OutcomeUnknownError
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk.executor import rows_from_mappings, run_bulk
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    FaultRule,
)

from .helpers import expected_counts, sample_rows, write_csv
from .threaded_emulator import ThreadedEmulator, threaded_emulator

SCALE = "0.01"
SLOTS = 4
HOLD = FaultRule(method="POST", path="/api/billing/coworkertimepasses", kind="latency", latency=1.0)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "nexudus_async.cli", *args]


def _env(base_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "NEXUDUS_BASE_URL": base_url,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
    }


def _wait_for_creates(emu: ThreadedEmulator, proc: subprocess.Popen[str], n: int) -> None:
    deadline = time.monotonic() + 30
    while emu.creates() < n:
        assert proc.poll() is None, "the import ended before it could be signalled"
        assert time.monotonic() < deadline, "the import never had its creates in flight"
        time.sleep(0.005)


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_first_signal_starts_no_new_request_and_the_rerun_is_exact(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    rows = sample_rows(customers=30, passes=90, seed=17)
    path = write_csv(tmp_path / "passes.csv", rows)
    cmd = _cli(
        "import", str(path), "--time-scale", SCALE, "--progress", "log",
        "--concurrency", str(SLOTS),
    )  # fmt: skip
    with threaded_emulator(EmulatorConfig(time_scale=float(SCALE), faults=[HOLD])) as emu:
        env = _env(emu.base_url)
        first = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            _wait_for_creates(emu, first, SLOTS)
            in_flight = emu.creates()
            first.send_signal(sig)
            out, err = first.communicate(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
                first.communicate()
        assert first.returncode == code, out + err
        assert "finishing the requests in flight" in err
        if sig == signal.SIGTERM:  # nobody pressed Ctrl-C
            assert "\nstopping (signal again to abort): finishing the requests in flight" in err
            assert "Ctrl-C" not in err
        # The rows never sent are one line, and not failures.
        assert "  not sent (interrupted): " in out and ": run the same command again" in out
        assert "failed" not in out
        assert emu.creates() - in_flight == 0  # no create started after the signal
        assert "To resume, run the same command again" in out
        assert f"nexudus-async import {path} --time-scale {SCALE}" in out
        assert DEFAULT_ADMIN_PASSWORD not in out + err
        assert sum(emu.store_counts().values()) < sum(expected_counts(rows).values())

        emu.call(lambda: emu.server.set_faults([]))
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stdout + second.stderr
        assert emu.store_counts() == expected_counts(rows)


def test_sigterm_then_sigkill_after_a_grace_period_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    rows = sample_rows(customers=30, passes=90, seed=19)
    path = write_csv(tmp_path / "passes.csv", rows)
    cmd = _cli("import", str(path), "--time-scale", SCALE, "--progress", "log")
    with threaded_emulator(EmulatorConfig(time_scale=float(SCALE), faults=[HOLD])) as emu:
        env = _env(emu.base_url)
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for_creates(emu, first, SLOTS)
            in_flight = emu.creates()
            first.send_signal(signal.SIGTERM)
            time.sleep(0.3)  # the grace period ends while the creates are still held
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
        assert first.returncode == -signal.SIGKILL
        assert emu.creates() == in_flight

        emu.call(lambda: emu.server.set_faults([]))
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "resuming the unfinished job" in second.stdout
        assert emu.store_counts() == expected_counts(rows)


class _StopOnFirstCreate:
    """A gateway that sets the stop flag as its first create arrives, and counts calls."""

    def __init__(self, stop: asyncio.Event, *, outcome_unknown: bool = False) -> None:
        self.stop = stop
        self.outcome_unknown = outcome_unknown
        self.creates = 0
        self.counts = 0

    async def create(self, fields: Mapping[str, Any], count: int) -> Any:
        self.creates += 1
        self.stop.set()
        await asyncio.sleep(0.01)
        if self.outcome_unknown:
            raise OutcomeUnknownError("dropped")
        return None

    async def count(self, match: Mapping[str, Any], since: str) -> int:
        self.counts += 1
        return 0


@pytest.mark.parametrize("outcome_unknown", [False, True])
async def test_stop_flag_is_checked_after_the_semaphore_and_before_each_send(
    tmp_path: Path, outcome_unknown: bool
) -> None:
    stop = asyncio.Event()
    api = _StopOnFirstCreate(stop, outcome_unknown=outcome_unknown)
    rows = [{"CoworkerId": c, "BusinessId": 1, "TimePassId": 1} for c in range(1, 41)]
    plan = make_plan(
        COWORKER_TIME_PASS, validate_rows(COWORKER_TIME_PASS, rows_from_mappings(rows))[0]
    )
    with Journal(tmp_path / "j.sqlite") as journal:
        report = await run_bulk(plan, api, journal=journal, concurrency=SLOTS, stop=stop)
        states = {g.state for g in journal.groups(report.job_id).values()}
    assert report.interrupted
    assert api.creates == 1  # groups already waiting for a slot did not send
    # The snapshot count only; no reconciling read after the stop: the group
    # whose answer was lost stays 'sending' for the next run to reconcile.
    assert api.counts == 1
    assert states == ({"sending"} if outcome_unknown else {"done"})


def test_the_resume_command_repeats_every_option_that_names_the_job_but_no_secret() -> None:
    from nexudus_async.cli.import_cmd import _resume_hint
    from nexudus_async.cli.main import build_parser

    argv = ["import", "my passes.csv", "--delimiter", ";", "--encoding", "cp1252"]
    argv += ["--auth", "basic", "--email", "a@b.c", "--password", "S3cret!x"]
    argv += ["--send-duplicates", "--max-per-request", "50", "--insecure-http"]
    args = build_parser().parse_args(argv)
    assert _resume_hint(args) == (
        "nexudus-async import 'my passes.csv' --email a@b.c --insecure-http --auth basic "
        "--delimiter ';' --encoding cp1252 --max-per-request 50 --send-duplicates"
    )
