"""Run every benchmark and write docs/benchmarks.md (``make bench``).

    .venv/bin/python bench/run.py                 # everything, about 4-6 minutes
    .venv/bin/python bench/run.py --only b1,b2    # a subset, reported in bench/.results/
    .venv/bin/python bench/run.py --quick         # harness check only, same
    .venv/bin/python bench/run.py --no-write      # print JSON, write no report

Each benchmark runs in turn; one that cannot run (a piece not landed, or
broken) is reported as not measured with the reason, never with a made-up
number. Raw results also go to bench/.results/latest.json (not committed).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common
import report

BENCHMARKS: dict[str, tuple[str, str]] = {
    "b1": ("b1_overhead", "Per-call overhead"),
    "b2": ("b2_parsing", "Parsing"),
    "b3": ("b3_streaming", "Streaming memory"),
    "b4": ("b4_limits", "Requests and time at the API's limits"),
    "b5": ("b5_pagination", "Concurrent pagination"),
    "b4l": ("b4_loaded", "Requests and time at the API's limits, on a loaded machine"),
    "b6": ("b6_processes", "Four processes on one account: in-memory and Redis limiters"),
    "b7": ("b7_validation", "Validation speed"),
    "b8": ("b8_jobs", "Two and three import jobs at once on one account: one budget"),
    "b9": ("b9_scale", "Big jobs: cost per group at 1,000 to 100,000 groups, and a stop"),
    "b10": ("b10_jobs", "Update, apply twice, undo: requests against the minimum, and time"),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", default="", help="comma-separated subset, e.g. b1,b2")
    ap.add_argument("--quick", action="store_true", help="fewer rounds (harness check only)")
    ap.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    args = ap.parse_args()
    common.QUICK = args.quick
    chosen = [k for k in BENCHMARKS if not args.only or k in args.only.split(",")]

    started = time.perf_counter()
    results: dict[str, Any] = {
        "started_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([os.path.relpath(sys.executable, common.ROOT), *sys.argv]),
        "machine": common.machine(),
        "versions": common.versions(),
        "quick": args.quick,
        "benchmarks": {},
    }
    for key in chosen:
        module_name, title = BENCHMARKS[key]
        print(f"[bench] {key} {title} ...", flush=True)
        t0 = time.perf_counter()
        load_before = os.getloadavg()[0]
        try:
            module = __import__(module_name)
            runner: Callable[[], dict[str, Any]] = module.run
            res = runner()
            res["status"] = "ok"
        except common.Missing as e:
            res = {"status": "not measured", "reason": str(e)}
        except Exception as e:
            res = {
                "status": "failed",
                "reason": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(limit=6)[-2000:],
            }
        res["seconds"] = time.perf_counter() - t0
        res["load"] = (load_before, os.getloadavg()[0])
        results["benchmarks"][key] = res
        print(f"[bench] {key} {res['status']} in {res['seconds']:.1f} s", flush=True)
        if res["status"] != "ok":
            print(f"        {res.get('reason', '')}", flush=True)
    results["total_seconds"] = time.perf_counter() - started

    out_dir = os.path.join(common.BENCH, ".results")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "latest.json"), "w") as f:
        json.dump(results, f, indent=2, default=str)
    if args.no_write:
        print(json.dumps(results, indent=2, default=str))
    else:
        partial = bool(args.only) or args.quick  # never overwrite the full report with less
        path = (
            os.path.join(out_dir, "benchmarks.partial.md")
            if partial
            else os.path.join(common.ROOT, "docs", "benchmarks.md")
        )
        with open(path, "w") as f:
            f.write(report.render(results, BENCHMARKS))
        print(f"[bench] wrote {os.path.relpath(path, common.ROOT)}")
    print(f"[bench] total {results['total_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
