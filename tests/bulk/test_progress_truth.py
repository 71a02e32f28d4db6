"""Progress and reports that are true: counts that never go down, an ETA from the schedule,
bar and log lines that agree, "stopping" instead of a rate, and "not sent", never "failed"."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nexudus_async._core.throttle import RateLimits
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk import BulkProgress
from nexudus_async.bulk.executor import rows_from_mappings, run_bulk
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.bulk.schedule import schedule
from nexudus_async.bulk.stopping import SendingStopped
from nexudus_async.cli.import_cmd import ImportOptions, _print_summary, _schedule_eta
from nexudus_async.cli.progress import ProgressPrinter, format_duration


def _plan(n: int) -> Any:
    rows = [{"CoworkerId": c, "BusinessId": 1, "TimePassId": 1} for c in range(1, n + 1)]
    return make_plan(
        COWORKER_TIME_PASS, validate_rows(COWORKER_TIME_PASS, rows_from_mappings(rows))[0]
    )


class _HeldThenRefused:
    """The first create waits (as in the limiter) and is refused at the wire once the job
    stops; the others are answered at once. Counts a request when it leaves."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.calls = 0

    async def create(self, fields: Mapping[str, Any], count: int) -> Any:
        self.calls += 1
        if self.calls == 1:
            await asyncio.sleep(0.05)  # held while the other group is sent and answered
            raise SendingStopped("stopping: POST not sent")
        self.stop.set()
        return None

    async def count(self, match: Mapping[str, Any], since: str) -> int:
        return 0


async def test_request_counts_never_go_down_when_a_held_request_is_refused() -> None:
    stop = asyncio.Event()
    seen: list[BulkProgress] = []

    async def progress(p: BulkProgress) -> None:
        seen.append(p)

    report = await run_bulk(
        _plan(6), _HeldThenRefused(stop), concurrency=2, stop=stop, progress=progress
    )
    assert report.interrupted and report.create_requests == 1
    sent = [p.requests_sent for p in seen]
    assert sent == sorted(sent), sent  # was 0, 1, 2, 1: the refused one was taken back
    assert sent[-1] == 1
    assert seen[-1].stopping and seen[-1].records_not_sent == 5
    assert seen[-1].records_failed == 0
    assert [g.status for g in report.groups].count("not_sent") == 5
    assert report.failed_rows == [] and len(report.not_sent_rows) == 5
    assert report.to_json()["failed"] == []
    assert len(report.to_json()["not_sent"]) == 5


def _snap(**kw: Any) -> BulkProgress:
    base: dict[str, Any] = dict(
        records_total=500, records_done=100, records_failed=0, groups_total=50,
        groups_done=10, requests_total=50, requests_sent=10, elapsed=0.0,
    )  # fmt: skip
    return BulkProgress(**{**base, **kw})


async def test_the_eta_is_the_schedules_from_the_first_line_and_bar_and_log_agree() -> None:
    log, bar = io.StringIO(), io.StringIO()
    left: list[int] = []

    def seconds(n: int) -> float:
        left.append(n)
        return 3600.0 + n

    for out, mode in ((log, "log"), (bar, "bar")):
        printer = ProgressPrinter(out, mode, eta_seconds=seconds, columns=lambda: 200, width=10)
        await printer(_snap(records_done=0, groups_done=0, requests_sent=0))  # no rate yet
    assert left == [50, 50]  # every request still to send, as the dry run counts them
    text = "0/500 passes  0/50 requests  0.0 passes/s  ETA 1:00:50"
    assert log.getvalue() == f"progress: {text}\n"
    assert bar.getvalue() == f"\r\x1b[2K[..........]   0% {text}"


async def test_while_stopping_the_line_says_so_instead_of_a_rate_and_an_eta() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, "log", log_interval=0.0, eta_seconds=float)
    await printer(_snap(records_done=120, groups_done=12, requests_sent=12, elapsed=3.0))
    await printer(_snap(records_done=130, groups_done=50, requests_sent=13, elapsed=3.5,
                        records_not_sent=370, stopping=True))  # fmt: skip
    assert out.getvalue().splitlines()[-1] == (
        "progress: 130/500 passes  13/50 requests  370 not sent  stopping"
    )


def test_the_schedule_eta_is_the_dry_runs_replay_read_off_as_requests_go(
    tmp_path: Path,
) -> None:
    limits = RateLimits.published()
    with Journal(tmp_path / "j.sqlite") as journal:
        now = time.time()
        for i in range(4800):  # most of a day's writes, sent over the last 20 hours
            journal.record_send("earlier", write=True, at=now - 20 * 3600 + i * 15)
        eta = _schedule_eta(limits, journal)
        first = eta(300)
        spent = [t - time.time() for t in journal.send_times(since=now - 2 * 86_400, write=True)]
        planned = schedule(limits, reads=0, writes=300, spent_writes=spent, keep_times=True)
        assert abs(first - planned.seconds) < 1.0  # the dry run's figure: hours, not seconds
        assert first > 3600
        # 100 sent: the rest's ETA is read off the same replay (no new one).
        journal.record_send("earlier", write=True, at=now + 10_000)  # a replay would see it
        later = eta(200)  # its replay began a moment before the one above: within a second
        assert abs(later - (planned.times[-1] - planned.times[99])) < 1.0
        assert later < first - 60  # the first 100 went in a burst of more than a minute


def test_the_summary_names_unsent_rows_in_one_line_not_as_failures() -> None:
    from nexudus_async.bulk.report import BulkReport, RowResult

    reason = "interrupted before it was sent; re-run to resume"
    rows = [RowResult(i, "not_sent", 2, f"g{i}", reason) for i in range(1, 5001)]
    report = BulkReport(entity="coworker_time_passes", rows=rows, interrupted=True)
    out = io.StringIO()
    _print_summary(report, ImportOptions(Path("p.csv")), out)
    lines = out.getvalue().splitlines()
    assert (
        "  not sent (interrupted): 10000 passes in 5000 rows: run the same command again" in lines
    )
    assert not any("failed" in line for line in lines)
    assert format_duration(0) == "0:00"
