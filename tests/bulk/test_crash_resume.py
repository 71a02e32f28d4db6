"""kill -9 in the middle of an import, then the same command again: exact result.

Both the emulator and the import run as subprocesses (the emulator on an
ephemeral port that it prints), so the import really dies mid-flight.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

from .helpers import expected_counts, sample_rows, write_csv

SCALE = "0.05"  # 120 requests per 3 s: an import of ~100 groups takes ~5 s


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "nexudus_async.cli", *args]


@pytest.fixture
def emulator_url() -> Iterator[str]:
    proc = subprocess.Popen(
        _cli("emulator", "--port", "0", "--time-scale", SCALE),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 20
        url = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                url = m.group(1)
                break
        assert url, "the emulator did not print its URL"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _store_counts(base_url: str) -> Counter[tuple[int, int]]:
    auth = base64.b64encode(f"{DEFAULT_ADMIN_EMAIL}:{DEFAULT_ADMIN_PASSWORD}".encode()).decode()
    counts: Counter[tuple[int, int]] = Counter()
    pages = 1
    number = 1
    while number <= pages and number <= 100:  # pages of the documented maximum, 1000
        req = urllib.request.Request(
            f"{base_url}/api/billing/coworkertimepasses?size=1000&page={number}",
            headers={"Authorization": f"Basic {auth}"},
        )
        for _ in range(50):  # the emulator may throttle: wait as it says
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    data = json.load(resp)
                break
            except urllib.error.HTTPError as exc:
                if exc.code not in (409, 429):
                    raise
                time.sleep(0.2)
        else:
            raise AssertionError("still throttled")
        pages = data["TotalPages"]
        counts.update((r["Coworker"], r["TimePass"]) for r in data["Records"])
        number += 1
    assert number > pages, "more than 100 pages"
    return counts


def _done_groups(journal: Path) -> int:
    if not journal.exists():
        return 0
    try:
        with closing(sqlite3.connect(journal, timeout=1)) as db, db:
            (n,) = db.execute("SELECT COUNT(*) FROM groups WHERE state = 'done'").fetchone()
            return int(n)
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_sigkill_mid_import_then_rerun_gives_exactly_the_requested_passes(
    tmp_path: Path, emulator_url: str
) -> None:
    rows = sample_rows(customers=60, passes=1000, seed=21)
    path = write_csv(tmp_path / "passes.csv", rows)
    journal = tmp_path / "passes.csv.journal.sqlite"
    env = {
        **os.environ,
        "NEXUDUS_BASE_URL": emulator_url,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
    }
    cmd = _cli("import", str(path), "--time-scale", SCALE, "--progress", "log")
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while _done_groups(journal) < 10 and time.monotonic() < deadline:
            assert first.poll() is None, "the import ended before it could be killed"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    with closing(sqlite3.connect(journal)) as db, db:
        states = dict(db.execute("SELECT state, COUNT(*) FROM groups GROUP BY state").fetchall())
        (total_groups,) = db.execute("SELECT groups FROM jobs").fetchone()
    assert states.get("done", 0) >= 10
    assert states.get("done", 0) < total_groups  # killed mid-run
    partial = _store_counts(emulator_url)
    assert sum(partial.values()) < 1000

    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "resuming the unfinished job" in second.stdout
    assert "+ 0 snapshot +" in second.stdout  # the first run's snapshot, from the journal
    assert _store_counts(emulator_url) == expected_counts(rows)
    assert DEFAULT_ADMIN_PASSWORD not in second.stdout + second.stderr


def test_ctrl_c_stops_cleanly_says_how_to_resume_and_resumes(
    tmp_path: Path, emulator_url: str
) -> None:
    rows = sample_rows(customers=60, passes=800, seed=5)
    path = write_csv(tmp_path / "passes.csv", rows)
    journal = tmp_path / "passes.csv.journal.sqlite"
    env = {
        **os.environ,
        "NEXUDUS_BASE_URL": emulator_url,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
    }
    cmd = _cli("import", str(path), "--time-scale", SCALE, "--progress", "log")
    first = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while _done_groups(journal) < 5 and time.monotonic() < deadline:
        assert first.poll() is None, "the import ended before it could be interrupted"
        time.sleep(0.02)
    first.send_signal(signal.SIGINT)
    out, err = first.communicate(timeout=30)
    assert first.returncode == 130, out + err
    assert "interrupted" in err
    assert "To resume, run the same command again" in out
    assert f"nexudus-async import {path}" in out
    assert DEFAULT_ADMIN_PASSWORD not in out + err
    with closing(sqlite3.connect(journal)) as db, db:
        (sending,) = db.execute("SELECT COUNT(*) FROM groups WHERE state = 'sending'").fetchone()
    assert sending == 0  # the requests in flight were allowed to finish

    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _store_counts(emulator_url) == expected_counts(rows)
