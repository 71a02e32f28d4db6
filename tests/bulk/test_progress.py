"""The progress display: a redrawn bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import io

from nexudus_async.bulk import BulkProgress
from nexudus_async.cli.progress import ProgressPrinter, format_duration


def snap(done: int, groups_done: int, elapsed: float = 2.0) -> BulkProgress:
    return BulkProgress(
        records_total=100,
        records_done=done,
        records_failed=0,
        groups_total=10,
        groups_done=groups_done,
        requests_total=10,
        requests_sent=groups_done,
        elapsed=elapsed,
    )


def test_format_duration() -> None:
    assert format_duration(5) == "0:05"
    assert format_duration(125) == "2:05"
    assert format_duration(3725) == "1:02:05"


async def test_log_mode_prints_plain_lines_with_rate_and_eta() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, "log", log_interval=0.0)
    await printer(snap(40, 4))
    await printer(snap(100, 10, elapsed=5.0))
    printer.close()
    lines = out.getvalue().splitlines()
    assert lines == [
        "progress: 40/100 passes  4/10 requests  20.0 passes/s  ETA 0:03",
        "progress: 100/100 passes  10/10 requests  20.0 passes/s  ETA 0:00",
    ]
    assert "\r" not in out.getvalue()


async def test_log_mode_is_rate_limited_but_always_prints_the_end() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, "log", log_interval=3600)
    for i in range(1, 10):
        await printer(snap(i * 10, i))
    await printer(snap(100, 10))
    assert len(out.getvalue().splitlines()) == 2  # the first and the last


async def test_bar_mode_redraws_one_line_and_ends_it() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, "bar", bar_interval=0.0, width=10)
    await printer(snap(50, 5))
    await printer(snap(100, 10))
    printer.close()
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert "\r" in text
    assert "[#####.....]  50% 50/100 passes" in text
    assert "[##########] 100% 100/100 passes" in text


async def test_none_mode_prints_nothing() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, "none")
    await printer(snap(100, 10))
    printer.close()
    assert out.getvalue() == ""
