"""One job, one runner, as an operator meets it: several ``nexudus-async import`` at once.

The imports are real processes (started together, killed with SIGKILL); the
emulator serves them over loopback from a thread of the test process, so the
test reads what it received and what it holds. The shipped demo file: 2,905
passes in 233 groups.
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from nexudus_async.demo import sample_path
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    FaultRule,
    ThrottleLimits,
)

from .threaded_emulator import threaded_emulator

SCALE = "0.01"
LOCKED = 75


def _demo_counts() -> Counter[tuple[int, int]]:
    want: Counter[tuple[int, int]] = Counter()
    with sample_path().open(newline="") as fh:
        for row in csv.DictReader(fh):
            want[(int(row["CoworkerId"]), int(row["TimePassId"]))] += int(
                row["CreateMultiple"] or 1
            )
    return want


def _import(base_url: str, journal: Path, *extra: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
    }
    cmd = [
        sys.executable, "-m", "nexudus_async.cli", "import", str(sample_path()),
        "--base-url", base_url, "--time-scale", SCALE, "--insecure-http",
        "--progress", "none", "--journal", str(journal), *extra,
    ]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    done = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert "Traceback" not in err, err
        assert DEFAULT_ADMIN_PASSWORD not in out + err
        done.append((p.returncode, out, err))
    return done


def _check_refused(err: str, journal: Path) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("error: job ") and "(passes.csv) is already running: pid " in line
    assert " since 20" in line and f"(journal {journal})" in line
    assert line.endswith(
        "nothing was sent. Run the same command again once it has finished, "
        "or with --wait to wait for it and then finish whatever it left"
    )


def test_three_imports_of_the_demo_at_once_create_it_exactly_once(tmp_path: Path) -> None:
    """The issue's reproduction: whatever the interleaving, one imports, the others send nothing."""
    journal = tmp_path / "j.sqlite"
    with threaded_emulator(EmulatorConfig(time_scale=float(SCALE))) as emu:
        results = _finish([_import(emu.base_url, journal) for _ in range(3)])
        assert emu.store_counts() == _demo_counts()
        assert sum(emu.store_counts().values()) == 2905
    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0 and set(codes) <= {0, LOCKED}, results
    for code, out, err in results:
        if code == LOCKED:
            _check_refused(err, journal)
            assert out == ""  # ended before printing a plan: nothing read, nothing sent


def test_imports_started_while_one_runs_end_at_once_and_with_wait_send_nothing(
    tmp_path: Path,
) -> None:
    """Held creates keep the first import running: the next two surely find it running."""
    journal = tmp_path / "j.sqlite"
    hold = FaultRule(method="POST", path="/api/billing/coworkertimepasses", kind="latency",
                     latency=0.1)  # fmt: skip
    # Throttling off: a 409 would add a (harmless) resend to the create count.
    config = EmulatorConfig(time_scale=float(SCALE), faults=[hold], limits=ThrottleLimits.off())
    with threaded_emulator(config) as emu:
        first = _import(emu.base_url, journal, "--concurrency", "2")
        deadline = time.monotonic() + 60
        while emu.creates() == 0:
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        refused = _finish([_import(emu.base_url, journal) for _ in range(2)])
        assert first.poll() is None  # still running: they were refused, not late
        waiting = [_import(emu.base_url, journal, "--wait") for _ in range(2)]
        (code, out, _), *waited = _finish([first, *waiting])
        creates = emu.creates()
        assert emu.store_counts() == _demo_counts()
    assert code == 0, out
    assert [c for c, _, _ in refused] == [LOCKED, LOCKED]
    for _, _, err in refused:
        _check_refused(err, journal)
    for c, out, _ in waited:
        assert c == 0, out
        assert "waiting: job " in out
        assert "resuming the complete job" in out
        assert "summary: 0 passes created, 2905 already done (skipped), 0 missing; 0 create" in out
    assert creates == 233  # the first import's creates: no other process sent one


def _done_groups(journal: Path) -> int:
    try:
        with contextlib.closing(sqlite3.connect(journal, timeout=1)) as db:
            (n,) = db.execute("SELECT COUNT(*) FROM groups WHERE state = 'done'").fetchone()
            return int(n)
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_kill_9_then_two_reruns_at_once_give_exactly_the_requested_passes(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    with threaded_emulator(EmulatorConfig(time_scale=float(SCALE))) as emu:
        first = _import(emu.base_url, journal)
        deadline = time.monotonic() + 60
        while _done_groups(journal) < 20:
            assert first.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        assert first.returncode == -signal.SIGKILL
        assert sum(emu.store_counts().values()) < 2905  # killed mid-job
        reruns = _finish([_import(emu.base_url, journal) for _ in range(2)])
        assert emu.store_counts() == _demo_counts()
    codes = sorted(code for code, _, _ in reruns)
    assert codes[0] == 0 and codes[1] in (0, LOCKED), reruns
    completing = [out for code, out, _ in reruns if code == 0 and "summary: 0 passes" not in out]
    assert len(completing) == 1  # one of them completed the job, the other sent nothing
    assert "resuming the unfinished job" in completing[0]
    assert ", 0 missing;" in completing[0]


@pytest.mark.parametrize(
    ("journal", "why"),
    [
        ("/proc/nope/j.sqlite", "no such directory '/proc/nope'"),
        ("/dev/full", "not a regular file"),
        ("{tmp}", "not a regular file"),
        ("{tmp}/not-a-journal.txt", "not a usable journal (file is not a database)"),
    ],
    ids=["no-directory", "dev-full", "a-directory", "not-sqlite"],
)
def test_a_journal_that_cannot_be_used_is_bad_input_before_anything_is_sent(
    tmp_path: Path, journal: str, why: str
) -> None:
    path = journal.format(tmp=tmp_path)
    (tmp_path / "not-a-journal.txt").write_text("hello, this is not SQLite\n" * 100)
    with threaded_emulator(EmulatorConfig(time_scale=float(SCALE))) as emu:
        ((code, out, err),) = _finish([_import(emu.base_url, Path(path))])
        requests = emu.call(lambda: sum(emu.server.stats.by_route.values()))
    assert code == 2, out + err
    assert err.splitlines() == [f"error: journal {path}: {why}; nothing was sent"]
    assert requests == 0
    assert not Path("/dev/full.lock").exists()
