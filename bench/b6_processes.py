"""Benchmark 6: four worker processes on one account, (a) in-memory and (b) Redis limiters.

What ``uvicorn --workers 4`` gives an async web backend: four processes,
each with its own ``NexudusClient`` and a few concurrent tasks, doing a
bounded mix of reads (``list``) and writes (``create``) against ONE
emulator process at the published limits, time-scaled. (a) every client
has the default in-memory limiter (each keeps the whole account's limits
to itself); (b) they share a :class:`~nexudus_async.RedisRateLimiter` on a
``redis-server`` started on 127.0.0.1 and a free port. Measured: requests
the emulator received, throttled answers, calls failed, and the aggregate
wall time (first worker's start to last worker's end, all released at
once) against the floor set by the account's limits.

The worker runs this file with ``--worker SPEC``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import common
from common import PY, num, table

TIME_SCALE = 0.1
WORKERS = 4
CALLS_PER_WORKER = 150
WRITE_EVERY = 3  # one call in three is a create
TASKS_PER_WORKER = 4  # concurrent callers inside one worker, like a web app's requests
READS_PER_MINUTE = 120  # "all methods"
WRITES_PER_MINUTE = 60
MIN_INTERVAL = 0.1
WORKER_TIMEOUT = 300.0


def floor(calls: int, writes: int, scale: float) -> float:
    """The fastest the account's limits allow for ``calls`` requests, ``writes`` of them writes:
    the calls divided by the allowed rates (benchmark 4's definition)."""
    minute = 60.0 * scale
    return max(
        calls / (READS_PER_MINUTE / minute),
        writes / (WRITES_PER_MINUTE / minute),
        (calls - 1) * MIN_INTERVAL * scale,
    )


def window_floor(calls: int, writes: int, scale: float) -> float:
    """With sliding windows a first window's requests may go at once: the last call may
    go at ``((n - 1) // limit) * period`` at best."""
    minute = 60.0 * scale
    return max(
        ((calls - 1) // READS_PER_MINUTE) * minute,
        ((writes - 1) // WRITES_PER_MINUTE) * minute,
        (calls - 1) * MIN_INTERVAL * scale,
    )


# ---------------------------------------------------------------- the worker


async def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    from nexudus_async import NexudusClient, PasswordGrant, RateLimits, RedisRateLimiter
    from nexudus_async._core.events import Event, RetryEvent, ThrottleEvent
    from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

    limits = RateLimits.published().scaled(spec["scale"])
    seen: Counter[str] = Counter()

    def on_event(event: Event) -> None:
        if isinstance(event, ThrottleEvent | RetryEvent):
            seen[type(event).__name__] += 1

    limiter = RedisRateLimiter(spec["redis"], limits) if spec.get("redis") else None
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    kwargs: dict[str, Any] = {"rate_limiter": limiter} if limiter else {"rate_limits": limits}
    failures: Counter[str] = Counter()
    ok = 0
    calls = list(range(spec["calls"]))
    async with NexudusClient(spec["url"], auth, on_event=on_event, **kwargs) as client:
        ctp = client.coworker_time_passes
        print("ready", flush=True)
        sys.stdin.readline()  # released together with the other workers
        started = time.time()

        async def caller() -> None:
            nonlocal ok
            while calls:
                n = calls.pop()
                try:
                    if n % WRITE_EVERY == 0:
                        await ctp.create(coworker_id=1_000 + n, business_id=1, time_pass_id=1)
                    else:
                        await ctp.list(size=10)
                    ok += 1
                except Exception as exc:  # counted: a lost call is what this measures
                    failures[type(exc).__name__] += 1

        await asyncio.gather(*(caller() for _ in range(spec["tasks"])))
        ended = time.time()
    if limiter is not None:
        await limiter.aclose()
    return {
        "started": started,
        "ended": ended,
        "ok": ok,
        "failed": dict(failures),
        "events": dict(seen),
        "fallbacks": getattr(limiter, "fallbacks", 0),
    }


def _worker_main(spec_json: str) -> int:
    result = asyncio.run(_worker(json.loads(spec_json)))
    print("result " + json.dumps(result), flush=True)
    return 0


# ---------------------------------------------------------------- the parent


def _redis_server() -> Any:
    if shutil.which("redis-server") is None:
        raise common.Missing("redis-server is not installed (apt-get install -y redis-server)")
    sys.path.insert(0, common.ROOT)
    from tests.limiter.redis_server import RedisServer

    return RedisServer()


def _variant(scale: float, calls: int, redis_url: str | None) -> dict[str, Any]:
    from nexudus_async.testing.process import EmulatorProcess

    with EmulatorProcess("--time-scale", str(scale)) as emu:
        spec = {
            "url": emu.url,
            "scale": scale,
            "calls": calls,
            "tasks": TASKS_PER_WORKER,
            "redis": redis_url,
        }
        procs = [
            subprocess.Popen(
                [PY, os.path.abspath(__file__), "--worker", json.dumps(spec)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=common.ROOT,
            )
            for _ in range(WORKERS)
        ]
        try:
            for p in procs:
                assert p.stdout is not None
                line = p.stdout.readline()
                if line.strip() != "ready":
                    raise RuntimeError(f"a worker did not start: {line!r}")
            for p in procs:  # release them together
                assert p.stdin is not None
                p.stdin.write("go\n")
                p.stdin.flush()
            outs = [p.communicate(timeout=WORKER_TIMEOUT)[0] for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait(timeout=10)
        results = []
        for out in outs:
            line = next((x for x in out.splitlines() if x.startswith("result ")), None)
            if line is None:
                raise RuntimeError(f"a worker gave no result: {out[-500:]!r}")
            results.append(json.loads(line[len("result ") :]))
        stats = emu.admin.stats()
    route = "/api/billing/coworkertimepasses"
    by_route = stats.get("by_route", {})
    failed: Counter[str] = Counter()
    for r in results:
        failed.update(r["failed"])
    total_calls = calls * WORKERS
    writes = sum(1 for n in range(calls) if n % WRITE_EVERY == 0) * WORKERS
    wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    f = floor(total_calls, writes, scale)
    return {
        "calls": total_calls,
        "writes": writes,
        "requests": sum(v for k, v in by_route.items() if k.endswith(route)),
        "throttled": stats["throttled"],
        "throttled_by": stats.get("throttled_by", {}),
        "calls_ok": sum(r["ok"] for r in results),
        "calls_failed": sum(failed.values()),
        "failed_by": dict(failed),
        "created": stats.get("executed", {}).get(f"POST {route}", 0),
        "wall": wall,
        "floor": f,
        "ratio": wall / f,
        "window_floor": window_floor(total_calls, writes, scale),
        "fallbacks": sum(r["fallbacks"] for r in results),
    }


def run() -> dict[str, Any]:
    calls = CALLS_PER_WORKER // 3 if common.QUICK else CALLS_PER_WORKER
    res: dict[str, Any] = {
        "time_scale": TIME_SCALE,
        "workers": WORKERS,
        "calls_per_worker": calls,
        "tasks_per_worker": TASKS_PER_WORKER,
        "write_every": WRITE_EVERY,
    }
    server = _redis_server()
    res["in_memory"] = _variant(TIME_SCALE, calls, None)
    try:
        server.start()
        res["redis"] = _variant(TIME_SCALE, calls, server.url)
    finally:
        server.close()
    return res


def render(res: dict[str, Any]) -> str:

    a, b = res["in_memory"], res["redis"]
    minute = 60 * res["time_scale"]
    rows = [
        [
            "calls (creates)",
            f"{a['calls']:,} ({a['writes']:,})",
            f"{b['calls']:,} ({b['writes']:,})",
            "",
        ],
        ["requests received", f"{a['requests']:,}", f"**{b['requests']:,}**", f"{b['calls']:,}"],
        ["throttled answers (409)", f"{a['throttled']:,}", f"**{b['throttled']:,}**", "0"],
        ["calls failed", f"{a['calls_failed']:,}", f"**{b['calls_failed']:,}**", "0"],
        ["creates executed", f"{a['created']:,}", f"{b['created']:,}", f"{b['writes']:,}"],
        ["aggregate wall time", f"{num(a['wall'], 1)} s", f"{num(b['wall'], 1)} s", ""],
        ["floor (the account's limits)", f"{num(a['floor'], 1)} s", f"{num(b['floor'], 1)} s", ""],
        ["wall time / floor", f"{a['ratio']:.3f}x", f"**{b['ratio']:.3f}x**", "≤ 1.05x"],
        [
            "sliding-window floor (a first window's burst allowed)",
            f"{num(a['window_floor'], 1)} s",
            f"{num(b['window_floor'], 1)} s",
            "",
        ],
    ]
    met = b["throttled"] == 0 and b["calls_failed"] == 0 and b["ratio"] <= 1.05
    out = [
        f"{res['workers']} worker processes, each with its own `NexudusClient` and "
        f"{res['tasks_per_worker']} concurrent tasks, make {res['calls_per_worker']} calls "
        f"each (one in {res['write_every']} a `create`, the others `list(size=10)`), all "
        "released at once, against one emulator process at the published limits with "
        f"`time_scale={res['time_scale']}` (one minute lasts {num(minute, 1)} s). (a) the "
        "default in-memory limiter in every worker; (b) one `RedisRateLimiter` per worker "
        "on a shared local `redis-server`. Floor: the calls at 120 requests and 60 writes "
        "per (scaled) minute, 100 ms apart; a sliding window lets the first window's "
        "requests go at once, so under 1x is possible. One run of each.\n",
        table(["", "(a) in-memory", "(b) Redis", "target (b)"], rows),
        "### Reading\n",
        f"- (a) Each worker keeps the whole account's limits to itself, so together they "
        f"send up to {res['workers']}x too fast: {a['throttled']:,} throttled answers"
        + (f", {a['calls_failed']:,} calls lost ({a['failed_by']})" if a["calls_failed"] else "")
        + ".",
        f"- (b) Target {common.verdict(met)}: {b['throttled']} throttled, "
        f"{b['calls_failed']} failed, {b['ratio']:.3f}x the floor"
        + (f"; Redis fallbacks: {b['fallbacks']}" if b["fallbacks"] else "")
        + ".",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        raise SystemExit(_worker_main(sys.argv[2]))
    print(json.dumps(run(), indent=2))
