"""Benchmark 5: reading 20 pages with 50 ms of server latency, prefetch vs sequential.

The emulator (own process) adds 50 ms (real seconds) to every list request
and enforces the published limits; the client's limiter uses the same
limits. Two clocks: the published limits as they are (``time_scale=1``:
100 ms between requests, longer than the latency) and a clock ten times
faster (``0.1``: 10 ms between requests, so latency dominates and
prefetching can pay). Before every run the emulator is reset (store and
throttle history), so no run inherits another's windows.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from typing import Any

import common
import facade_compat
from common import PY, Missing, child_server, median

PAGES = 20
PAGE_SIZE = 25
LATENCY = 0.05
SCALES = (1.0, 0.1)
REPEATS = 3
MIN_INTERVAL = 0.1


def _modes(iter_method: Any) -> dict[str, dict[str, Any]]:
    """The iter() keywords for prefetch on and off, adapted to its signature."""
    params = inspect.signature(iter_method).parameters
    for name in ("prefetch", "concurrency", "max_concurrency", "prefetch_pages"):
        if name in params:
            default = params[name].default
            on = default if isinstance(default, int) and default > 1 else 4
            if isinstance(default, bool):
                return {"sequential": {name: False}, "prefetch": {name: True}}
            return {
                "sequential": {name: 0 if name.startswith("prefetch") else 1},
                "prefetch": {name: on},
            }
    raise Missing(f"iter() has no prefetch/concurrency switch: {list(params)}")


async def _read(url: str, scale: float, mode: str) -> dict[str, Any]:
    from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

    limits = facade_compat.scaled_limits(scale)
    async with facade_compat.client(
        url, limits=limits, email=DEFAULT_ADMIN_EMAIL, password=DEFAULT_ADMIN_PASSWORD
    ) as client:
        ctp = client.coworker_time_passes
        kw = _modes(ctp.iter)[mode]
        n = 0
        t0 = time.perf_counter()
        async for _ in ctp.iter(size=PAGE_SIZE, **kw):
            n += 1
        wall = time.perf_counter() - t0
    if n != PAGES * PAGE_SIZE:
        raise RuntimeError(f"{mode}: read {n} records, expected {PAGES * PAGE_SIZE}")
    return {"wall": wall, "kwargs": kw}


def floor(scale: float) -> float:
    """The read limit's floor: 20 requests spaced by the minimum interval, plus one latency."""
    return (PAGES - 1) * MIN_INTERVAL * scale + LATENCY


def run() -> dict[str, Any]:
    facade_compat.load()
    repeats = 1 if common.QUICK else REPEATS
    out: dict[str, Any] = {"repeats": repeats, "by_scale": {}}
    for scale in SCALES:
        spec = {
            "time_scale": scale,
            "limits": "published",
            "faults": [
                {
                    "method": "GET",
                    "path": "/api/billing/coworkertimepasses",
                    "kind": "latency",
                    "latency": LATENCY,
                }
            ],
        }
        samples: dict[str, list[float]] = {"sequential": [], "prefetch": []}
        kwargs: dict[str, Any] = {}
        throttled = 0
        with child_server([PY, f"{common.BENCH}/emulator_child.py", json.dumps(spec)]) as emu:
            for r in range(repeats):
                order = ["sequential", "prefetch"] if r % 2 == 0 else ["prefetch", "sequential"]
                for mode in order:
                    emu.ask("reset")
                    emu.ask(f"seed {PAGES * PAGE_SIZE}")
                    res = asyncio.run(_read(emu.url, scale, mode))
                    samples[mode].append(res["wall"])
                    kwargs[mode] = res["kwargs"]
                    throttled += json.loads(emu.ask("stats"))["throttled"]
        seq, pre = median(samples["sequential"]), median(samples["prefetch"])
        out["by_scale"][scale] = {
            "sequential": seq,
            "prefetch": pre,
            "sequential_all": samples["sequential"],
            "prefetch_all": samples["prefetch"],
            "floor": floor(scale),
            "latency_floor_sequential": PAGES * LATENCY,
            "speedup": seq / pre,
            "prefetch_over_floor": pre / floor(scale),
            "throttled": throttled,
            "kwargs": kwargs,
        }
    return out


def render(res: dict[str, Any]) -> str:
    from report import _n, table

    rows = []
    for scale, d in res["by_scale"].items():
        interval_ms = MIN_INTERVAL * float(scale) * 1000
        rows.append(
            [
                f"{float(scale):g} ({_n(interval_ms)} ms between requests)",
                f"**{_n(d['sequential'], 3)}**",
                f"**{_n(d['prefetch'], 3)}**",
                f"{d['speedup']:.2f}x",
                f"{_n(d['floor'], 3)}",
                f"{d['prefetch_over_floor']:.2f}x",
                str(d["throttled"]),
            ]
        )
    first = next(iter(res["by_scale"].values()))
    kw = first["kwargs"]
    out = [
        f"`iter(size={PAGE_SIZE})` over {PAGES} pages ({PAGES * PAGE_SIZE} records) with "
        f"{_n(LATENCY * 1000)} ms added to every list answer (emulator latency fault), "
        f"sequential (`{kw.get('sequential')}`) and with prefetch (`{kw.get('prefetch')}`); "
        f"median of {res['repeats']} runs each, alternated. The read-limit floor is "
        f"{PAGES - 1} minimum intervals plus one latency (the earliest the last page can "
        "arrive); a sequential reader cannot beat "
        f"{PAGES} x {_n(LATENCY * 1000)} ms = {_n(PAGES * LATENCY, 1)} s either.\n",
        table(
            [
                "time scale",
                "sequential, s",
                "prefetch, s",
                "prefetch speed-up",
                "read-limit floor, s",
                "prefetch / floor",
                "throttled",
            ],
            rows,
        ),
        "### Reading\n",
    ]
    lines = []
    for scale, d in res["by_scale"].items():
        s = float(scale)
        if MIN_INTERVAL * s >= LATENCY:
            lines.append(
                f"- At time scale {s:g} the limit's {_n(MIN_INTERVAL * s * 1000)} ms between "
                f"requests is longer than the {_n(LATENCY * 1000)} ms latency, so the limit, "
                f"not the latency, sets the pace: sequential {_n(d['sequential'], 2)} s, "
                f"prefetch {_n(d['prefetch'], 2)} s ({d['speedup']:.2f}x), prefetch at "
                f"{d['prefetch_over_floor']:.2f}x the floor. Prefetching cannot gain much "
                "against the published limits with this latency, and it does not cost either."
            )
        else:
            lines.append(
                f"- At time scale {s:g} ({_n(MIN_INTERVAL * s * 1000)} ms between requests) "
                f"the latency dominates a sequential reader ({_n(d['sequential'], 2)} s); "
                f"prefetch reads the same pages in {_n(d['prefetch'], 2)} s, "
                f"{d['speedup']:.2f}x faster and {d['prefetch_over_floor']:.2f}x the read-limit "
                "floor (the first page must arrive before the others are known, which adds "
                "about one latency)."
            )
        if d["throttled"]:
            lines.append(f"  **{d['throttled']} requests were throttled.**")
    out.append("\n".join(lines) + "\n")
    return "\n".join(out)
