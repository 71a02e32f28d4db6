"""Benchmark 8: two and three different import jobs at once on one account.

Each job is a real ``nexudus-async import`` of its own file (different
customers, one create request per row), in its own process, all released at
once against ONE emulator process at the published limits, time-scaled.
(a) ``--limits private``: every job keeps the whole account's limits to
itself (the command line before issue 28); (b) the default: the jobs of the
machine share one budget through the local store; (c) ``--redis-url``: they
share it through a ``redis-server`` on 127.0.0.1 and a free port. Measured:
requests the emulator received, throttled answers (goal 0), passes created
against those asked for, and the aggregate wall time (release to the last
job's end) against the floor set by the account's limits for the requests the
jobs made together (goal at most 1.05x).

The job runs this file with ``--job SPEC``: the command line's ``main()``,
imported before the release so that Python's start-up is not timed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import common
from b6_processes import floor, window_floor
from common import PY, num, table

TIME_SCALE = 0.05
GROUPS_PER_JOB = 150
JOBS = (2, 3)
VARIANTS = ("private", "local", "redis")
JOB_TIMEOUT = 600.0
BILLING = "/api/billing/"


# ---------------------------------------------------------------- one job


def _job_main(spec_json: str) -> int:
    spec = json.loads(spec_json)
    os.environ.update(spec["env"])
    from nexudus_async.cli.main import main

    print("ready", flush=True)
    sys.stdin.readline()  # released together with the other jobs
    started = time.time()
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = main(spec["argv"])
    ended = time.time()
    result = {"started": started, "ended": ended, "code": code, "tail": output.getvalue()[-600:]}
    print("result " + json.dumps(result), flush=True)
    return 0


# ---------------------------------------------------------------- the parent


def _write_job(path: str, job: int, groups: int) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["CoworkerId", "BusinessId", "TimePassId"])
        for i in range(groups):
            w.writerow([100_000 * (job + 1) + i, 1, 1 + i % 2])


def _run_jobs(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    procs = [
        subprocess.Popen(
            [PY, os.path.abspath(__file__), "--job", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=common.ROOT,
        )
        for spec in specs
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"a job did not start: {line!r}")
        for p in procs:  # release them together
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outs = [p.communicate(timeout=JOB_TIMEOUT)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    results = []
    for out in outs:
        line = next((x for x in out.splitlines() if x.startswith("result ")), None)
        if line is None:
            raise RuntimeError(f"a job gave no result: {out[-500:]!r}")
        results.append(json.loads(line[len("result ") :]))
    return results


def _variant(jobs: int, groups: int, variant: str, redis_url: str | None) -> dict[str, Any]:
    from nexudus_async._core.limiter import account_key
    from nexudus_async._core.local_limiter import shared_spending
    from nexudus_async.bulk.schedule import finish_seconds
    from nexudus_async.cli.connect import published_limits
    from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD
    from nexudus_async.testing.process import EmulatorProcess

    limits = published_limits(TIME_SCALE)
    with (
        tempfile.TemporaryDirectory(prefix="nexudus-b8-") as tmp,
        EmulatorProcess("--time-scale", str(TIME_SCALE)) as emu,
    ):
        state = os.path.join(tmp, "state")
        env = {
            "NEXUDUS_BASE_URL": emu.url,
            "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
            "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
            "NEXUDUS_STATE_DIR": state,
        }
        extra = {"private": ["--limits", "private"], "local": [], "redis": []}[variant]
        if variant == "redis":
            extra = ["--redis-url", str(redis_url)]
        specs = []
        for k in range(jobs):
            path = os.path.join(tmp, f"job{k}.csv")
            _write_job(path, k, groups)
            argv = ["import", path, "--time-scale", str(TIME_SCALE), "--progress", "none"]
            specs.append({"env": env, "argv": [*argv, *extra]})
        results = _run_jobs(specs)
        stats = emu.admin.stats()
        created = len(emu.admin.records("coworkertimepasses"))
        account = account_key(emu.url, DEFAULT_ADMIN_EMAIL)
        reads, writes = shared_spending(limits, account, directory=state, now=0.0)
    released = min(r["started"] for r in results)
    by_route = stats.get("by_route", {})
    billing = sum(n for route, n in by_route.items() if BILLING in route)
    executed_writes = sum(n for route, n in stats.get("executed", {}).items() if BILLING in route)
    calls = billing - stats["throttled"]  # what the jobs needed, throttled answers aside
    wall = max(r["ended"] for r in results) - released
    f = floor(calls, executed_writes, TIME_SCALE)
    # What the limiter's own windows (its 2% reserve and jitter margin kept) allow one
    # process alone for the same requests: the cost of sharing, the jobs' start-up aside.
    own = finish_seconds(limits, reads=calls - executed_writes, writes=executed_writes)
    sends = sorted([*reads, *writes])
    return {
        "codes": [r["code"] for r in results],
        "tails": [r["tail"] for r in results if r["code"] != 0],
        "requests": stats["requests"],
        "billing_requests": billing,
        "throttled": stats["throttled"],
        "throttled_by": stats.get("throttled_by", {}),
        "calls": calls,
        "writes": executed_writes,
        "created": created,
        "wanted": jobs * groups,
        "wall": wall,
        "floor": f,
        "ratio": wall / f,
        "window_floor": window_floor(calls, executed_writes, TIME_SCALE),
        "limiter_floor": own,
        "limiter_ratio": wall / own,
        # the local store's first request: the jobs' start-up (parse, check, log in)
        "first_request": sends[0] - released if sends else None,
    }


def run() -> dict[str, Any]:
    import b6_processes

    groups = GROUPS_PER_JOB // 3 if common.QUICK else GROUPS_PER_JOB
    res: dict[str, Any] = {"time_scale": TIME_SCALE, "groups_per_job": groups, "runs": {}}
    server = b6_processes._redis_server()
    try:
        server.start()
        for jobs in JOBS:
            for variant in VARIANTS:
                url = server.url if variant == "redis" else None
                res["runs"][f"{jobs}-{variant}"] = _variant(jobs, groups, variant, url)
    finally:
        server.close()
    return res


def render(res: dict[str, Any]) -> str:
    minute = 60 * res["time_scale"]
    out = [
        "Different import jobs (`nexudus-async import`, one file each, "
        f"{res['groups_per_job']} create requests per job), each in its own process, "
        "released at once against one emulator process at the published limits with "
        f"`time_scale={res['time_scale']}` (one minute lasts {num(minute, 1)} s). "
        "(a) `--limits private`: each job keeps the account's limits to itself; "
        "(b) the default: one budget through the machine-local store; (c) `--redis-url`: "
        "one budget through a local `redis-server`. Floor: the requests the jobs made "
        "together (throttled answers aside) at 120 requests and 60 writes per (scaled) "
        "minute, 100 ms apart. One run of each.\n",
    ]
    ok = True
    for jobs in JOBS:
        runs = [res["runs"][f"{jobs}-{v}"] for v in VARIANTS]
        rows = [
            ["exit codes", *(" ".join(map(str, r["codes"])) for r in runs), "0"],
            ["passes created / asked", *(f"{r['created']:,} / {r['wanted']:,}" for r in runs), ""],
            ["requests received", *(f"{r['requests']:,}" for r in runs), ""],
            ["throttled answers (409)", *(f"**{r['throttled']:,}**" for r in runs), "0"],
            ["aggregate wall time", *(f"{num(r['wall'], 1)} s" for r in runs), ""],
            ["floor (their combined requests)", *(f"{num(r['floor'], 1)} s" for r in runs), ""],
            ["wall time / floor", *(f"**{r['ratio']:.3f}x**" for r in runs), "≤ 1.05x"],
            [
                "one limiter alone, same requests",
                *(f"{num(r['limiter_floor'], 1)} s" for r in runs),
                "",
            ],
            ["wall time / that", *(f"{r['limiter_ratio']:.3f}x" for r in runs), ""],
        ]
        if runs[1]["first_request"] is not None:
            rows.append(
                ["first request after release", "", f"{runs[1]['first_request']:.2f} s", "", ""]
            )
        out.append(f"### {jobs} jobs at once\n")
        out.append(table(["", "(a) private", "(b) local store", "(c) Redis", "target"], rows))
        for r in runs[1:]:
            ok = ok and r["throttled"] == 0 and r["ratio"] <= 1.05 and r["created"] == r["wanted"]
    out.append("### Reading\n")
    out.append(
        "- The floor counts 120 requests and 60 writes a (scaled) minute; the limiter keeps "
        "a 2% reserve and a jitter margin (118 and 58 per 61.2 s scaled), 5.6% slower on "
        "the writes window by design, and each job spends its start-up (reading the file, "
        "checking the time passes, logging in twice) before its first create. "
        "\"One limiter alone\" replays the limiter's own windows for the jobs' combined "
        "requests: the wall time against it is what sharing costs."
    )
    out.append(
        f"- Shared budget (b and c), target {common.verdict(ok)}: "
        + "; ".join(
            f"{jobs} jobs {v}: {res['runs'][f'{jobs}-{v}']['throttled']} throttled, "
            f"{res['runs'][f'{jobs}-{v}']['ratio']:.3f}x"
            for jobs in JOBS
            for v in VARIANTS[1:]
        )
        + "."
    )
    out.append(
        "- (a) each job sends as if alone: "
        + "; ".join(
            f"{jobs} jobs, {res['runs'][f'{jobs}-private']['throttled']} throttled "
            f"({res['runs'][f'{jobs}-private']['throttled_by']})"
            for jobs in JOBS
        )
        + "."
    )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--job":
        raise SystemExit(_job_main(sys.argv[2]))
    print(json.dumps(run(), indent=2))
