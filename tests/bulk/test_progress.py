"""The progress display: a redrawn bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import io

import pytest

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


def big(done: int, sent: int, elapsed: float, *, failed: int = 0) -> BulkProgress:
    return BulkProgress(
        records_total=123_456,
        records_done=done,
        records_failed=failed,
        groups_total=45_678,
        groups_done=sent,
        requests_total=45_678,
        requests_sent=sent,
        elapsed=elapsed,
    )


@pytest.mark.parametrize("columns", [80, 200, 40])
async def test_the_bar_fits_the_terminal_and_never_wraps(columns: int) -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, "bar", bar_interval=0.0, columns=lambda: columns)
    await printer(big(61_728, 22_839, 600.0, failed=12_345))
    line = printer.line(big(61_728, 22_839, 600.0, failed=12_345))
    assert len(line) == min(columns - 1, len(line)) and len(line) <= columns - 1
    assert " 60% 61728/123456 passes" in line  # the bar may go, these stay
    if columns >= 80:
        assert line.startswith("[") and "ETA " in line
    if columns == 200:
        assert line == (
            "[#######################.................]  60% 61728/123456 passes  "
            "12345 failed  22839/45678 requests  102.9 passes/s  ETA 8:00"
        )
    if columns == 80:
        assert line == (
            "[#######.....]  60% 61728/123456 passes  12345 failed  102.9 passes/s  ETA 8:00"
        )


async def test_the_width_is_measured_again_at_each_redraw() -> None:
    out = io.StringIO()
    width = [200]
    printer = ProgressPrinter(out, "bar", bar_interval=0.0, columns=lambda: width[0])
    await printer(big(1000, 10, 10.0))
    width[0] = 80
    await printer(big(2000, 20, 20.0))
    last = out.getvalue().split("\r\x1b[2K")[-1]
    assert len(last) <= 79


async def test_the_rate_is_smoothed_and_the_eta_respects_the_rate_limit() -> None:
    printer = ProgressPrinter(io.StringIO(), "log", log_interval=0.0, eta_seconds=float)
    # A burst the limiter lets through, then one request (10 passes) a second.
    await printer(snap(30, 3, elapsed=0.3))
    assert printer.eta(snap(30, 3, elapsed=0.3)) == "0:07"  # 7 requests left at 1/s
    rates = []
    for i in range(4, 10):
        await printer(snap(10 * i, i, elapsed=0.3 + (i - 3)))
        rates.append(printer.rate)
    assert rates == sorted(rates, reverse=True)  # from the burst's 100/s ...
    assert 10.0 < rates[-1] < 40.0  # ... towards the sustained 10/s
    assert printer.eta(snap(90, 9, elapsed=6.3)) == "0:01"
