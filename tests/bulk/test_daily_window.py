"""The API's hourly and daily windows in every plan (issue 10).

A job of more than a day's writes is told so by ``--dry-run``; the limiter
holds the writes past the daily window (the job waits, it does not fail) at
exactly the times the estimate replays; the progress ETA counts what the
journal says was already sent.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nexudus_async._core.throttle import RateLimiter, RateLimits
from nexudus_async.bulk import BulkProgress
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.schedule import schedule
from nexudus_async.cli.import_cmd import _schedule_eta
from nexudus_async.cli.progress import ProgressPrinter, format_duration

from ..client.conftest import FakeClock

DAY = 86_400.0


def write_groups(path: Path, n: int) -> None:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["CoworkerId", "BusinessId", "TimePassId", "CreateMultiple"])
        out.writerows([i, 1, 1, 2] for i in range(1, n + 1))


def dry_run(path: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "nexudus_async.cli", "import", str(path), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_dry_run_of_6000_groups_says_it_needs_more_than_a_day(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    write_groups(path, 6000)
    out = dry_run(path)
    assert "create requests:  6000" in out
    # Not the 1:40:00 that 60 writes a minute alone would give.
    assert "estimated time:   1 day 0:47:22 at the published limits" in out
    assert (
        "  more than a day:  the API allows 5,000 writes in a day (the client sends 4,900, "
        "keeping a reserve);\n"
        "                    the other 1,100 writes wait for the window to free, "
        "1 day 0:28:48 after the start.\n"
        "                    The job waits: the limiter holds them and the import carries on "
        "by itself.\n"
    ) in out
    assert "run the same command again later" in out


def test_a_job_within_the_day_says_nothing_about_windows(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    write_groups(path, 100)
    out = dry_run(path)
    assert "more than" not in out
    # 58 writes in the first minute (the reserve kept; half of them at doubled spacing),
    # the other 42 as the window frees.
    assert "estimated time:   1:11 at the published limits" in out


async def test_the_limiter_holds_writes_past_the_daily_window_as_estimated() -> None:
    clock = FakeClock(start=0.0)
    limits = RateLimits.published()
    limiter = RateLimiter(limits, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(4902):
        await limiter.acquire(write=True)
        times.append(clock.now)
    plan = schedule(limits, reads=0, writes=4902)
    # 4,900 writes (the daily window with its reserve) go at 58 a minute ...
    assert times[4899] < 5200
    # ... the next one waits until the first is a day (and the 2% reserve) old ...
    assert times[4900] == pytest.approx(DAY * 1.02 + 0.01, abs=0.001)
    assert times[4900] - times[4899] > 80_000
    # ... exactly when the estimate said it would.
    assert plan.seconds == pytest.approx(times[-1], abs=0.001)
    (held,) = plan.held_by
    assert (held.window.period, held.kept, held.over) == (DAY, 4900, 2)
    assert held.first_held_at == pytest.approx(times[4900], abs=0.001)


def progress(requests_left: int) -> BulkProgress:
    return BulkProgress(
        records_total=1000,
        records_done=1000 - requests_left,
        records_failed=0,
        groups_total=1000,
        groups_done=1000 - requests_left,
        requests_total=1000,
        requests_sent=1000 - requests_left,
        elapsed=10.0,
    )


def test_the_eta_knows_what_the_journal_says_was_sent(tmp_path: Path) -> None:
    limits = RateLimits.published()
    with Journal(tmp_path / "j.sqlite") as journal:
        fresh = ProgressPrinter(io.StringIO(), "none", eta_seconds=_schedule_eta(limits, journal))
        assert fresh.eta(progress(10)) == "0:01"  # ten writes fit in the minute window
        # 4,900 writes went out over the last 23 hours: the day's budget is spent.
        now = time.time()
        for i in range(4900):
            journal.record_send("earlier", write=True, at=now - 23 * 3600 + i * 10)
        asked = time.time()  # 4,900 inserts take a while on a loaded machine
        spent = ProgressPrinter(io.StringIO(), "none", eta_seconds=_schedule_eta(limits, journal))
        eta = spent.eta(progress(10))
    # The oldest of them leaves the (reserve-stretched) daily window in about 1:28:48, and
    # each of the other nine writes waits for the next one, sent 10 s later.
    expected = DAY * 1.02 + 0.01 - 23 * 3600 + 9 * 10 - (asked - now)
    assert eta in {format_duration(expected + d) for d in (-1, 0, 1, 2)}
