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
from common import PY, Missing, child_server, median, num, table

PAGES = 20
PAGE_SIZE = 25
LATENCY = 0.05
SCALES = (1.0, 0.1)
REPEATS = 3
MIN_INTERVAL = 0.1
DEFAULT_READ = 10_000
"""Records read with ``iter()``'s default page size, to count the list requests."""


MODES: dict[str, dict[str, Any]] = {
    "sequential": {"prefetch": 1},
    "prefetch=4": {"prefetch": 4},
    "prefetch=8": {"prefetch": 8},
}


def _check_api(iter_method: Any) -> None:
    if "prefetch" not in inspect.signature(iter_method).parameters:
        raise Missing("iter() has no prefetch argument")


async def _read(url: str, scale: float, mode: str) -> dict[str, Any]:
    from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

    limits = facade_compat.scaled_limits(scale)
    async with facade_compat.client(
        url, limits=limits, email=DEFAULT_ADMIN_EMAIL, password=DEFAULT_ADMIN_PASSWORD
    ) as client:
        ctp = client.coworker_time_passes
        _check_api(ctp.iter)
        kw = MODES[mode]
        n = 0
        t0 = time.perf_counter()
        async for _ in ctp.iter(size=PAGE_SIZE, **kw):
            n += 1
        wall = time.perf_counter() - t0
    if n != PAGES * PAGE_SIZE:
        raise RuntimeError(f"{mode}: read {n} records, expected {PAGES * PAGE_SIZE}")
    return {"wall": wall, "kwargs": kw}


async def _read_default(url: str, scale: float) -> int:
    """Read every record with ``iter()`` as a user would (no size); return how many."""
    from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

    limits = facade_compat.scaled_limits(scale)
    async with facade_compat.client(
        url, limits=limits, email=DEFAULT_ADMIN_EMAIL, password=DEFAULT_ADMIN_PASSWORD
    ) as client:
        return sum([1 async for _ in client.coworker_time_passes.iter()])


def requests_per_default_read(emu: Any, scale: float) -> dict[str, Any]:
    """List requests the emulator answered for a default ``iter()`` over DEFAULT_READ records."""
    emu.ask("reset")
    emu.ask(f"seed {DEFAULT_READ}")
    n = asyncio.run(_read_default(emu.url, scale))
    stats = json.loads(emu.ask("stats"))
    lists = stats["by_route"].get("GET /api/billing/coworkertimepasses", 0)
    if n != DEFAULT_READ:
        raise RuntimeError(f"default read: {n} records, expected {DEFAULT_READ}")
    return {"records": n, "list_requests": lists, "throttled": stats["throttled"]}


def floor(scale: float) -> float:
    """The read limit's floor: 20 requests spaced by the minimum interval, plus one latency."""
    return (PAGES - 1) * MIN_INTERVAL * scale + LATENCY


def floor_page_one_first(scale: float) -> float:
    """The floor for a reader that learns TotalPages from page 1 before asking for more."""
    interval = MIN_INTERVAL * scale
    return max(LATENCY, interval) + (PAGES - 2) * interval + LATENCY


def limiter_floor(scale: float) -> float:
    """The same, with the client limiter's own spacing (its reserve and margin included)."""
    lim = facade_compat.scaled_limits(scale)
    spacing = lim.min_interval * (1 + lim.safety) + lim.margin
    return max(LATENCY, spacing) + (PAGES - 2) * spacing + LATENCY


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
        samples: dict[str, list[float]] = {m: [] for m in MODES}
        throttled = 0
        reasons: dict[str, int] = {}
        with child_server([PY, f"{common.BENCH}/emulator_child.py", json.dumps(spec)]) as emu:
            for r in range(repeats):
                modes = list(MODES)
                order = modes[r % len(modes) :] + modes[: r % len(modes)]
                for mode in order:
                    emu.ask("reset")
                    emu.ask(f"seed {PAGES * PAGE_SIZE}")
                    res = asyncio.run(_read(emu.url, scale, mode))
                    samples[mode].append(res["wall"])
                    stats = json.loads(emu.ask("stats"))
                    throttled += stats["throttled"]
                    for k, v in stats.get("throttle_reasons", {}).items():
                        reasons[k] = reasons.get(k, 0) + v
            if scale == min(SCALES):
                out["default_read"] = requests_per_default_read(emu, scale)
        med = {m: median(v) for m, v in samples.items()}
        best = min((m for m in MODES if m != "sequential"), key=lambda m: med[m])
        out["by_scale"][scale] = {
            "median": med,
            "all": samples,
            "best_prefetch": best,
            "floor": floor(scale),
            "floor_page_one_first": floor_page_one_first(scale),
            "limiter_floor": limiter_floor(scale),
            "speedup": med["sequential"] / med[best],
            "best_over_floor": med[best] / floor(scale),
            "throttled": throttled,
            "throttle_reasons": reasons,
        }
    return out


def render(res: dict[str, Any]) -> str:

    rows = []
    for scale, d in res["by_scale"].items():
        interval_ms = MIN_INTERVAL * float(scale) * 1000
        med = d["median"]
        rows.append(
            [
                f"{float(scale):g} ({num(interval_ms)} ms between requests)",
                *(f"**{num(med[m], 3)}**" for m in MODES),
                f"{d['speedup']:.2f}x ({d['best_prefetch']})",
                f"{num(d['floor'], 3)}",
                f"{num(d['floor_page_one_first'], 3)}",
                f"{num(d['limiter_floor'], 3)}",
                f"{d['best_over_floor']:.2f}x",
                str(d["throttled"]),
            ]
        )
    out = [
        f"`iter(size={PAGE_SIZE}, prefetch=N)` over {PAGES} pages ({PAGES * PAGE_SIZE} "
        f"records) with {num(LATENCY * 1000)} ms added to every list answer (the emulator's "
        "latency fault), the emulator in its own process enforcing the published limits "
        "and the client's limiter scaled the same way. `prefetch=1` is sequential. "
        f"Median of {res['repeats']} runs each, order rotated. The read-limit floor is "
        f"{PAGES - 1} minimum intervals plus one latency (the earliest the last page can "
        "arrive). A reader that learns the number of pages from page 1 must wait for it "
        "first; the client's limiter also spaces requests by the interval plus its reserve "
        "and jitter margin, on purpose. A sequential reader cannot beat "
        f"{PAGES} x {num(LATENCY * 1000)} ms = {num(PAGES * LATENCY, 1)} s either.\n",
        table(
            [
                "time scale",
                *(f"{m}, s" for m in MODES),
                "best prefetch speed-up",
                "read-limit floor, s",
                "floor if page 1 comes first, s",
                "floor at the client limiter's spacing, s",
                "best prefetch / read-limit floor",
                "throttled",
            ],
            rows,
        ),
        "### Reading\n",
    ]
    lines = []
    for scale, d in res["by_scale"].items():
        s = float(scale)
        med, best = d["median"], d["best_prefetch"]
        if MIN_INTERVAL * s >= LATENCY:
            lines.append(
                f"- At time scale {s:g} the limit's {num(MIN_INTERVAL * s * 1000)} ms between "
                f"requests is longer than the {num(LATENCY * 1000)} ms latency, so the limit, "
                f"not the latency, sets the pace: sequential {num(med['sequential'], 2)} s, "
                f"{best} {num(med[best], 2)} s ({d['speedup']:.2f}x), "
                f"{d['best_over_floor']:.2f}x the read-limit floor and "
                f"{med[best] / d['limiter_floor']:.2f}x the floor at the limiter's own "
                "spacing: the gap to the read-limit floor is the limiter's deliberate reserve "
                "and margin. Against the published limits prefetching has nothing to win "
                "with this latency."
            )
        else:
            lines.append(
                f"- At time scale {s:g} ({num(MIN_INTERVAL * s * 1000)} ms between requests) "
                f"latency dominates a sequential reader ({num(med['sequential'], 2)} s); "
                f"{best} reads the same pages in {num(med[best], 2)} s, "
                f"{d['speedup']:.2f}x faster: {d['best_over_floor']:.2f}x the read-limit "
                f"floor, {med[best] / d['floor_page_one_first']:.2f}x the floor of a reader "
                "that must see page 1 first (one more latency) and "
                f"{med[best] / d['limiter_floor']:.2f}x the floor at the limiter's spacing."
            )
        if d["throttled"]:
            why = ", ".join(f"{k}: {v}" for k, v in d.get("throttle_reasons", {}).items())
            n_runs = res["repeats"] * len(MODES)
            lines.append(
                f"  **{d['throttled']} request(s) throttled** over the {n_runs} runs at this "
                f"scale (limit hit: {why or 'not recorded'}): concurrent requests reached the "
                f"emulator closer together than its {num(MIN_INTERVAL * s * 1000)} ms interval; "
                f"the client's jitter margin at this scale is "
                f"{num(facade_compat.scaled_limits(s).margin * 1000)} ms (see benchmark 4). "
                "Each was "
                "waited out and resent."
            )
    out.append("\n".join(lines) + "\n")
    d = res.get("default_read")
    if d:
        out.append(
            f"**Requests per {d['records']:,} records at the default page size** (`iter()` "
            f"with no `size`: the API's documented maximum, 1000): "
            f"**{d['list_requests']}** list requests ({d['throttled']} throttled); "
            f"at the old default of 100 it was {d['records'] // 100}.\n"
        )
    return "\n".join(out)
