"""``python -m nexudus_async.demo`` (``make demo``): a bulk import, end to end, locally.

1. starts the embedded emulator with the published rate limits on a clock
   running 20 times faster (``--time-scale 0.05``), so the demo takes seconds;
2. imports the shipped sample (``demo_data/passes.csv``: 2,905 passes for 125
   customers in 1,426 rows) with the same code path as ``nexudus-async import``,
   progress bar included, journaled in a temporary directory;
3. reads every pass back with the pagination iterator and checks the count
   of every customer and time pass against the file;
4. prints requests sent against passes created, the time taken and the
   throttled answers seen.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.resources
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from ._core.auth import PasswordGrant
from ._core.throttle import RateLimits
from .cli.connect import Connection
from .cli.import_cmd import ImportOptions, run_import
from .testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, EmulatorConfig, run_emulator

__all__ = ["main", "run_demo", "sample_path"]

DEFAULT_TIME_SCALE = 0.05


def sample_path() -> Path:
    """The shipped sample file (inside the installed package)."""
    return Path(str(importlib.resources.files("nexudus_async") / "demo_data" / "passes.csv"))


class ClientCounters:
    """What the client saw on the wire, from aiohttp's request tracing."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.connection_errors = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + self.connection_errors

    @property
    def throttled(self) -> int:
        return self.statuses[409] + self.statuses[429]

    def trace_config(self) -> aiohttp.TraceConfig:
        tc = aiohttp.TraceConfig()

        async def on_end(
            _session: aiohttp.ClientSession, _ctx: Any, params: aiohttp.TraceRequestEndParams
        ) -> None:
            self.statuses[params.response.status] += 1

        async def on_error(
            _session: aiohttp.ClientSession,
            _ctx: Any,
            _params: aiohttp.TraceRequestExceptionParams,
        ) -> None:
            self.connection_errors += 1

        tc.on_request_end.append(on_end)
        tc.on_request_exception.append(on_error)
        return tc


async def run_demo(
    *, time_scale: float = DEFAULT_TIME_SCALE, progress: str = "auto", path: Path | None = None
) -> int:
    from .client import NexudusClient

    path = path or sample_path()
    config = EmulatorConfig(time_scale=time_scale, seed=1)
    print(
        f"Starting the Nexudus emulator (published limits: 1 request/100 ms, 120/min, "
        f"60 writes/min; clock x{1 / time_scale:g})"
    )
    async with run_emulator(config) as emu:
        print(f"  listening on {emu.base_url}\n")
        auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
        conn = Connection(emu.base_url, auth, DEFAULT_ADMIN_EMAIL)
        with tempfile.TemporaryDirectory(prefix="nexudus-demo-") as tmp:
            opts = ImportOptions(
                path=path,
                journal=Path(tmp) / "demo.journal.sqlite",
                progress=progress,
                time_scale=time_scale,
                resume_hint=None,
            )
            print(f"$ nexudus-async import {path.name} --emulator --time-scale {time_scale:g}")
            t0 = time.monotonic()
            counters = ClientCounters()
            outcome = await run_import(opts, conn, trace_configs=[counters.trace_config()])
            import_seconds = time.monotonic() - t0
        if outcome.report is None or outcome.plan is None:
            print("the import did not run", file=sys.stderr)
            return outcome.exit_code or 1
        report, plan = outcome.report, outcome.plan
        stats_after_import = emu.stats.snapshot()

        print("\nReading the passes back with the pagination iterator ...")
        t1 = time.monotonic()
        found: Counter[tuple[object, object]] = Counter()
        limits = RateLimits.published().scaled(time_scale)
        async with NexudusClient(base_url=emu.base_url, auth=auth, rate_limits=limits) as client:
            passes = client.coworker_time_passes.iter(size=500)
            async for tp in passes:
                found[(tp.coworker, tp.time_pass)] += 1
            pages = passes.pages_fetched
        read_seconds = time.monotonic() - t1

        wanted: Counter[tuple[object, object]] = Counter()
        for g in plan.groups:
            wanted[(g.fields["CoworkerId"], g.fields["TimePassId"])] += g.count
        customers = len({c for c, _ in wanted})
        mismatched = sorted(k for k in wanted.keys() | found.keys() if wanted[k] != found[k])
        by_route: Any = stats_after_import.get("by_route", {})
        posts = by_route.get("POST /api/billing/coworkertimepasses", 0)
        stored = len(emu.store.all("coworkertimepasses"))
        verdict = "all match" if not mismatched else f"{len(mismatched)} DO NOT MATCH"

        print("\nSummary")
        print(
            f"  file        {plan.rows:,} rows: {plan.records:,} passes for {customers} customers"
        )
        counts = f" + {report.count_requests:,} counts" if report.count_requests else ""
        print(
            f"  requests    {report.create_requests:,} creates (CreateMultiple) for "
            f"{len(plan.groups):,} groups + {report.snapshot_requests:,} snapshot "
            f"read{'s' if report.snapshot_requests != 1 else ''}{counts}; "
            f"one create per row would be {plan.rows:,}, per pass {plan.records:,}"
        )
        print(
            f"  emulator    {posts:,} POSTs, {stored:,} passes stored; read back "
            f"{sum(found.values()):,} in {pages} pages, per customer and time pass: {verdict}"
        )
        print(
            f"  time        import {import_seconds:.1f} s, read-back {read_seconds:.1f} s; "
            f"at the real limits about {report.elapsed / time_scale / 60:.0f} min "
            f"(one request per pass: {plan.records / 60:.0f} min)"
        )
        print(
            f"  throttling  {counters.throttled} throttled answers seen by the client "
            f"({counters.requests:,} requests, token included); "
            f"emulator: {stats_after_import.get('throttled', 0)}"
        )
        ok = outcome.exit_code == 0 and not mismatched
        print("\nDemo " + ("succeeded." if ok else "FAILED."))
        return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nexudus_async.demo", description=__doc__)
    p.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE)
    p.add_argument("--progress", choices=("auto", "bar", "log", "none"), default="auto")
    p.add_argument("--file", type=Path, help="import this file instead of the sample")
    args = p.parse_args(argv)
    return asyncio.run(run_demo(time_scale=args.time_scale, progress=args.progress, path=args.file))


if __name__ == "__main__":
    sys.exit(main())
