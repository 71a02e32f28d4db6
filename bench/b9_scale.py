"""9. Big jobs: the engine's cost per group at 1,000, 10,000 and 100,000 groups, and a stop.

``nexudus-async import`` of N distinct rows (N groups, one create each) into
the emulator in its own process, at a time scale where the API's limits are
not what bounds the job (the daily window of 5,000 writes lasts 0.43 s), with
``--progress log`` (what a job that is not on a terminal shows) and
``--concurrency 8``. The import runs in a child process that measures itself
(``--child``): CPU seconds from the start of the command (after Python's
imports) to its exit, bytes it made the kernel write to storage
(``/proc/self/io`` ``write_bytes``: the journal, its WAL and their fsyncs),
and peak RSS. A second run of each size is sent SIGTERM once a tenth of the
groups are done; the time from the signal to the process's exit is the stop.

CPU is also sampled at every twentieth of the groups sent, so the cost per
group between 10 and 90 % of one run leaves out the start-up, the planning and
the report, and the last tenth of a run compares with its second. The smallest
job and the plain calls run again after the biggest job; the ratios use the
mean of both runs, so the machine's drift during the long run is not growth.

Goals (issue 27): CPU per group at 100,000 within 1.2x of that at 1,000 (and
within one 100,000-group run, the last tenth within 1.2x of the second), and
under 1 ms beyond the HTTP call; at most two journal transactions per group;
a stop in under 2 s plus the requests in flight; a 100,000-row import in at
most 150 MB RSS.

    .venv/bin/python bench/run.py --only b9 --no-write
    .venv/bin/python bench/b9_scale.py 1000 10000     # some sizes, printed as Markdown
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common

SIZES = (1_000, 10_000, 100_000)
TIME_SCALE = 0.000005
CONCURRENCY = 8
STOP_AT = 0.1
SLICES = 20  # CPU sampled at every twentieth of the groups
CPU_RATIO_GOAL = 1.2
RSS_GOAL_MB = 150.0
STOP_GOAL_S = 2.0
BEYOND_GOAL_MS = 1.0


def _write_rows(path: Path, n: int) -> None:
    with path.open("w") as fh:
        fh.write("CoworkerId,BusinessId,TimePassId\n")
        for i in range(n):
            fh.write(f"{100_000 + i},1,{1 + i % 2}\n")


def _done_groups(journal: Path) -> int:
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1) as db:
            (n,) = db.execute("SELECT COUNT(*) FROM groups WHERE state = 'done'").fetchone()
            return int(n)
    except sqlite3.Error:
        return 0


def _import(url: str, path: Path, journal: Path, out: Path, groups: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NEXUDUS_EMAIL": "admin@example.com",
        "NEXUDUS_PASSWORD": "demo-password",
        "NEXUDUS_STATE_DIR": str(out.parent / "state"),
        "B9_GROUPS": str(groups),
    }
    cmd = [
        common.PY, os.path.abspath(__file__), "--child", str(out), "--",
        "import", str(path), "--base-url", url, "--time-scale", str(TIME_SCALE),
        "--progress", "log", "--concurrency", str(CONCURRENCY), "--journal", str(journal),
    ]  # fmt: skip
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=common.ROOT
    )


def _one(n: int, *, stop: bool, tmp: Path, run: str = "") -> dict[str, Any]:
    name = f"{n}{stop}{run}"  # a journal of its own: a second run must not resume the first
    path, journal, out = tmp / f"rows{n}.csv", tmp / f"j{name}.sqlite", tmp / f"o{name}.json"
    if not path.exists():
        _write_rows(path, n)
    spec = json.dumps({"time_scale": TIME_SCALE, "limits": "published"})
    with common.child_server(
        [common.PY, os.path.join(common.BENCH, "emulator_child.py"), spec]
    ) as emu:
        started = time.perf_counter()
        proc = _import(emu.url, path, journal, out, n)
        signalled = None
        if stop:
            while _done_groups(journal) < n * STOP_AT and proc.poll() is None:
                time.sleep(0.05)
            signalled = time.perf_counter()
            proc.send_signal(signal.SIGTERM)
        code = proc.wait()
        ended = time.perf_counter()
        stats = json.loads(emu.ask("stats"))
    res: dict[str, Any] = json.loads(out.read_text())
    res.update(groups=n, exit=code, wall=ended - started, done=_done_groups(journal))
    res["creates"] = stats.get("by_route", {}).get("POST /api/billing/coworkertimepasses", 0)
    res["journal_bytes"] = sum(
        p.stat().st_size for p in tmp.glob(f"j{name}.sqlite*") if p.is_file()
    )
    if signalled is not None:
        res["stop_s"] = ended - signalled
    return res


def _one_baseline(tmp: Path) -> dict[str, Any]:
    spec = json.dumps({"time_scale": TIME_SCALE, "limits": "published"})
    with common.child_server(
        [common.PY, os.path.join(common.BENCH, "emulator_child.py"), spec]
    ) as emu:
        res = _baseline(emu.url, tmp / "calls.json")
    res["per_call_ms"] = res["cpu"] / res["calls"] * 1000
    return res


def run() -> dict[str, Any]:
    sizes = SIZES[:2] if common.QUICK else SIZES
    res: dict[str, Any] = {"time_scale": TIME_SCALE, "concurrency": CONCURRENCY, "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="nexudus-b9-") as tmpdir:
        tmp = Path(tmpdir)
        res["calls"] = [_one_baseline(tmp)]
        print(f"[b9] a create as a client call: {res['calls'][0]['per_call_ms']:.2f} ms CPU")
        for n in sizes:
            full = _one(n, stop=False, tmp=tmp)
            stopped = _one(n, stop=True, tmp=tmp)
            res["sizes"][str(n)] = {"full": full, "stopped": stopped}
            print(f"[b9] {n}: {_summary(full, stopped)}", flush=True)
        # The smallest job and the plain calls once more after the biggest: what they are
        # compared with is the mean of before and after, so the machine's drift over the
        # long run is not read as the job's growth.
        res["small_again"] = _one(min(sizes), stop=False, tmp=tmp, run="again")
        res["calls"].append(_one_baseline(tmp))
        print(
            f"[b9] again: {min(sizes)}: {per_group_ms(res['small_again'], 0.1, 0.9):.2f} ms "
            f"CPU/group (10-90 %); a call {res['calls'][1]['per_call_ms']:.2f} ms",
            flush=True,
        )
    return res


def _summary(full: dict[str, Any], stopped: dict[str, Any]) -> str:
    n = full["groups"]
    return (
        f"exit {full['exit']}, {full['cpu_job'] / n * 1000:.2f} ms CPU/group "
        f"({per_group_ms(full, 0.1, 0.9):.2f} from 10 to 90 %), "
        f"{full['write_bytes'] / n / 1024:.1f} KiB written/group, "
        f"{full['transactions'] / n:.2f} transactions/group, "
        f"{full['maxrss_kb'] / 1024:.0f} MB peak RSS; stop: exit {stopped['exit']} "
        f"in {stopped.get('stop_s', float('nan')):.2f} s"
    )


def _rows(sizes: dict[str, Any], steady: dict[int, float], call_ms: float) -> list[list[str]]:
    """One table row per job size."""
    rows = []
    for r in sizes.values():
        full, stopped = r["full"], r["stopped"]
        n = full["groups"]
        growth = per_group_ms(full, 0.9, 1.0) / per_group_ms(full, 0.1, 0.2)
        rows.append([
            f"{n:,}", str(full["exit"]), f"{full['cpu_job'] / n * 1000:.2f} ms",
            f"{steady[n]:.2f} ms", f"{steady[n] - call_ms:.2f} ms", f"{growth:.2f}x",
            f"{full['write_bytes'] / n / 1024:.1f} KiB",
            f"{full['transactions'] / n:.2f} ({full['durable'] / n:.2f} fsync'd)",
            f"{full['maxrss_kb'] / 1024:.0f} MB",
            f"{stopped.get('stop_s', float('nan')):.2f} s (exit {stopped['exit']}, "
            f"{stopped['done']:,} done)",
        ])  # fmt: skip
    return rows


def _intro(
    res: dict[str, Any], calls: list[float], small: int, big: int, small_runs: tuple[float, float]
) -> str:
    """What the benchmark runs and how it measures."""
    return (
        f"`nexudus-async import` of N distinct rows (N groups), `--progress log`, "
        f"`--concurrency {res['concurrency']}`, against the emulator in its own process at "
        f"time scale {res['time_scale']:g} (the API's limits do not bound the job). The import "
        "measures itself: CPU from the command's start to its exit (the whole job: start-up, "
        "reading and planning the rows, the sends, the report), CPU at every twentieth of the "
        "groups sent (the cost per group between two points of one run: 10 to 90 %, and the "
        "last tenth against the second), bytes written to storage (`/proc/self/io`), journal "
        "transactions (SQLite's trace), peak RSS. The stop: SIGTERM "
        f"once {STOP_AT:.0%} of the groups are done, to the process's exit. The HTTP call: "
        f"{res['calls'][0]['calls']:,} creates as plain client calls (`client.coworker_time_"
        "passes.create`, the same limits, shared limiter store and concurrency, a child process "
        "of its own), run before the jobs and after them: "
        f"{' and '.join(f'{c:.2f}' for c in calls)}"
        f' ms of CPU each; "beyond the HTTP call" is the group\'s CPU (10 to 90 %) less their '
        f"mean. The {small:,}-group job runs again after the {big:,}-group one, and the ratio "
        f"compares with the mean of its two runs ({small_runs[0]:.2f} and "
        f"{small_runs[1]:.2f} ms), so the machine's drift over "
        "the long run is not read as growth."
    )


def render(res: dict[str, Any]) -> str:
    sizes = res["sizes"]
    calls = [c["per_call_ms"] for c in res["calls"]]
    call_ms = sum(calls) / len(calls)
    steady = {int(n): per_group_ms(r["full"], 0.1, 0.9) for n, r in sizes.items()}
    small, big = min(steady), max(steady)
    small_ms = (steady[small] + per_group_ms(res["small_again"], 0.1, 0.9)) / 2
    rows = _rows(sizes, steady, call_ms)
    ratio = steady[big] / small_ms
    big_full = sizes[str(big)]["full"]
    within = per_group_ms(big_full, 0.9, 1.0) / per_group_ms(big_full, 0.1, 0.2)
    big_rss = big_full["maxrss_kb"] / 1024
    beyond = steady[big] - call_ms
    stops = [r["stopped"].get("stop_s", float("nan")) for r in sizes.values()]
    small_runs = (steady[small], per_group_ms(res["small_again"], 0.1, 0.9))
    return (
        _intro(res, calls, small, big, small_runs)
        + "\n\n"
        + common.table(
            [
                "groups",
                "exit",
                "CPU per group, whole job",
                "CPU per group, 10 to 90 %",
                "beyond the HTTP call",
                "last tenth / second tenth",
                "written per group",
                "journal transactions per group",
                "peak RSS",
                "SIGTERM to exit",
            ],
            rows,
        )
        + "\n"
        + _goals(small, big, ratio=ratio, within=within, beyond=beyond, rss=big_rss, stops=stops)
    )


def _goals(
    small: int,
    big: int,
    *,
    ratio: float,
    within: float,
    beyond: float,
    rss: float,
    stops: list[float],
) -> str:
    """The goals' table."""
    return common.table(
        ["goal", "measured", "verdict"],
        [
            [
                f"CPU per group (10 to 90 %) at {big:,} within {CPU_RATIO_GOAL}x of {small:,}",
                f"{ratio:.2f}x",
                common.verdict(ratio <= CPU_RATIO_GOAL),
            ],
            [
                f"in the {big:,}-group job, its last tenth within {CPU_RATIO_GOAL}x of its second",
                f"{within:.2f}x",
                common.verdict(within <= CPU_RATIO_GOAL),
            ],
            [
                f"CPU per group beyond the HTTP call < {BEYOND_GOAL_MS:.0f} ms (at {big:,})",
                f"{beyond:.2f} ms",
                common.verdict(beyond < BEYOND_GOAL_MS),
            ],
            [
                f"peak RSS of the {big:,}-row import <= {RSS_GOAL_MB:.0f} MB",
                f"{rss:.0f} MB",
                common.verdict(rss <= RSS_GOAL_MB),
            ],
            [
                f"SIGTERM to exit < {STOP_GOAL_S:.0f} s (plus requests in flight)",
                f"{max(stops):.2f} s at most",
                common.verdict(max(stops) < STOP_GOAL_S),
            ],
        ],
    )


class _TransactionCount:
    """Journal transactions from SQLite's trace: a BEGIN ... COMMIT, or a write outside one."""

    def __init__(self) -> None:
        self.transactions = self.durable = 0
        self._open = self._full = False

    def __call__(self, sql: str) -> None:
        words = sql.split(None, 2)
        head = words[0].upper() if words else ""
        if head == "PRAGMA" and "synchronous" in sql.lower():
            self._full = "full" in sql.lower()
        elif head == "BEGIN":
            self._open = True
        elif head in ("COMMIT", "END"):
            self._open = False
            self.transactions += 1
            self.durable += self._full
        elif head in ("INSERT", "UPDATE", "DELETE", "REPLACE") and not self._open:
            self.transactions += 1
            self.durable += self._full


BASELINE_CALLS = 2_000


def _baseline(url: str, out: Path) -> dict[str, Any]:
    """CPU per create as a plain client call (the same client, limits, limiter and
    concurrency as the import's: the command line shares the account's limits through a
    store in the state directory), in a child like the import's: the HTTP call the engine
    adds to."""
    cmd = [common.PY, os.path.abspath(__file__), "--calls", str(out), url]
    subprocess.run(cmd, check=True, cwd=common.ROOT, timeout=600)
    res: dict[str, Any] = json.loads(out.read_text())
    return res


def _calls_child(out: str, url: str) -> int:
    import asyncio

    from nexudus_async import NexudusClient, PasswordGrant, RateLimits
    from nexudus_async._core.local_limiter import LocalRateLimiter

    async def calls() -> float:
        auth = PasswordGrant("admin@example.com", "demo-password")
        limits = RateLimits.published().scaled(TIME_SCALE)
        # The command line's limiter: shared through a store in the state directory.
        limiter = LocalRateLimiter(limits, directory=Path(out).parent / "calls-state")
        async with NexudusClient(url, auth, rate_limiter=limiter) as client:
            slots = asyncio.Semaphore(CONCURRENCY)

            async def one(i: int) -> None:
                async with slots:
                    await client.coworker_time_passes.create(
                        coworker_id=200_000 + i, business_id=1, time_pass_id=1 + i % 2
                    )

            await one(-1)  # log in and open the connection first, as the import has
            cpu0 = time.process_time()
            await asyncio.gather(*(one(i) for i in range(BASELINE_CALLS)))
            return time.process_time() - cpu0

    cpu = asyncio.run(calls())
    Path(out).write_text(json.dumps({"calls": BASELINE_CALLS, "cpu": cpu}))
    return 0


def _peak_rss_kib() -> int:
    """This process's own peak RSS (VmHWM). Not ``ru_maxrss``: Linux keeps that across
    exec, so a child of a big parent (``bench/run.py``) would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # without /proc


def _child(out: str, argv: list[str]) -> int:
    """Run the command line in this process, then write what it cost."""
    from nexudus_async.bulk import journal as journal_module
    from nexudus_async.cli.main import main

    count = _TransactionCount()
    original = journal_module.Journal.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._db.set_trace_callback(count)

    journal_module.Journal.__init__ = init  # type: ignore[method-assign]
    samples = _sample_intents(journal_module, int(os.environ.get("B9_GROUPS", "0")))
    cpu0 = time.process_time()
    code = main(argv)
    cpu = time.process_time() - cpu0
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    Path(out).write_text(json.dumps({
        "cpu_job": cpu,
        "maxrss_kb": _peak_rss_kib(),
        "write_bytes": int(io["write_bytes"]),
        "transactions": count.transactions,
        "durable": count.durable,
        "samples": samples,
    }))  # fmt: skip
    return code


def _sample_intents(journal_module: Any, groups: int) -> list[tuple[int, float]]:
    """(intents recorded, CPU seconds so far) at every twentieth of the job: the cost per
    group between two points of one run, without the start-up, the planning or the end."""
    samples: list[tuple[int, float]] = []
    if groups < SLICES:
        return samples
    marks = {groups * k // SLICES for k in range(1, SLICES + 1)}
    original = journal_module.Journal.mark_sending
    seen = 0

    def mark_sending(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal seen
        seen += 1
        if seen in marks:
            samples.append((seen, time.process_time()))
        return original(self, *args, **kwargs)

    journal_module.Journal.mark_sending = mark_sending
    return samples


def per_group_ms(run: dict[str, Any], start: float, end: float) -> float:
    """CPU per group (ms) between two fractions of a whole run, from its child's samples."""
    n = run["groups"]
    at = {count: cpu for count, cpu in run["samples"]}
    a, b = n * round(start * SLICES) // SLICES, n * round(end * SLICES) // SLICES
    return float((at[b] - at[a]) / (b - a) * 1000)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--calls"]:
        raise SystemExit(_calls_child(sys.argv[2], sys.argv[3]))
    if sys.argv[1:2] == ["--child"]:
        raise SystemExit(_child(sys.argv[2], sys.argv[4:]))
    sizes = tuple(int(a) for a in sys.argv[1:]) or SIZES
    SIZES = sizes
    print(render(run()))
