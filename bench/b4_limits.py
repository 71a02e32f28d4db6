"""Benchmark 4: a 10,000-pass import at the API's limits.

10,000 rows of one pass each, 20 identical rows per (customer, time pass):
500 groups, so 500 ``CreateMultiple`` requests at best. The emulator runs
in its own process with the published limits on a clock ``TIME_SCALE``
times as long (0.08: "60 writes per minute" becomes 60 per 4.8 s), and the
client uses the same limits scaled the same way (its default safety margin
left as shipped). Measured: requests the emulator received (by route),
throttled answers, and wall time against the floor.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import statistics
import time
from typing import Any

import aiohttp
import common
import facade_compat
from common import PY, child_server

TIME_SCALE = 0.08
GROUPS = 500
PER_GROUP = 20
WRITES_PER_MINUTE = 60
READS_PER_MINUTE = 120  # "all methods"
MIN_INTERVAL = 0.1


def rows(groups: int = GROUPS, per_group: int = PER_GROUP) -> list[dict[str, Any]]:
    out = []
    for g in range(groups):
        for _ in range(per_group):
            out.append(
                {
                    "CoworkerId": 1_000 + g,
                    "BusinessId": 1,
                    "TimePassId": 1 + g % 5,
                    "Notes": f"bench import group {g}",
                    "Price": "12.50",
                }
            )
    return out


def floors(requests: int, writes: int, scale: float) -> dict[str, float]:
    """The fastest the emulator's limits allow.

    ``simple``: requests divided by the allowed rate, the issue's definition.
    ``window``: with sliding windows the first ``limit`` requests may go at
    once, so the last one may go at ``((n - 1) // limit) * period`` at best.
    """
    minute = 60.0 * scale
    simple = max(
        writes / (WRITES_PER_MINUTE / minute),
        requests / (READS_PER_MINUTE / minute),
        (requests - 1) * MIN_INTERVAL * scale,
    )
    window = max(
        ((writes - 1) // WRITES_PER_MINUTE) * minute,
        ((requests - 1) // READS_PER_MINUTE) * minute,
        (requests - 1) * MIN_INTERVAL * scale,
    )
    return {"simple": simple, "window": window, "writes_only": writes / (60 / minute)}


async def _import(url: str, scale: float, data: list[dict[str, Any]]) -> dict[str, Any]:
    from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

    limits = facade_compat.scaled_limits(scale)
    # when each request left the client (aiohttp's request start), to tell client-side
    # spacing from what the server saw
    starts: list[float] = []
    trace = aiohttp.TraceConfig()

    async def on_start(*_: Any) -> None:
        starts.append(time.monotonic())

    trace.on_request_start.append(on_start)
    async with facade_compat.client(
        url,
        limits=limits,
        email=DEFAULT_ADMIN_EMAIL,
        password=DEFAULT_ADMIN_PASSWORD,
        trace_configs=[trace],
    ) as client:
        t0 = time.perf_counter()
        report = await client.coworker_time_passes.bulk_create(data)
        wall = time.perf_counter() - t0
    interval = MIN_INTERVAL * scale
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    return {
        "client_sends": len(starts),
        "client_gaps_under_interval": sum(1 for g in gaps if g < interval),
        "client_min_gap_ms": min(gaps) * 1000 if gaps else float("nan"),
        "wall": wall,
        "ok": bool(getattr(report, "ok", False)),
        "create_requests": getattr(report, "create_requests", None),
        "count_requests": getattr(report, "count_requests", None),
        "records_created": getattr(report, "records_created", None),
        "groups": len(getattr(report, "groups", ())),
    }


async def _time_count_reads(url: str, n: int = 30) -> float:
    """Median ms the emulator takes to answer one bulk count read over its stored passes."""
    from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

    pair = f"{DEFAULT_ADMIN_EMAIL}:{DEFAULT_ADMIN_PASSWORD}".encode()
    auth = "Basic " + base64.b64encode(pair).decode()
    query = {
        "page": "1",
        "size": "1",
        "CoworkerTimePass_Coworker": "1007",
        "CoworkerTimePass_TimePass": "3",
        "From_CoworkerTimePass_CreatedOn": "2020-01-01T00:00",
    }
    times = []
    async with aiohttp.ClientSession(headers={"Authorization": auth}) as s:
        for _ in range(n):
            t0 = time.perf_counter()
            async with s.get(f"{url}/api/billing/coworkertimepasses", params=query) as r:
                await r.read()
                r.raise_for_status()
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def run() -> dict[str, Any]:
    scale = TIME_SCALE
    groups = GROUPS
    if common.QUICK:
        groups = 100  # same shape, a fifth of the size
    data = rows(groups)
    facade_compat.load()  # fail early, before starting anything, if it has not landed
    spec = {"time_scale": scale, "limits": "published"}
    with child_server([PY, f"{common.BENCH}/emulator_child.py", json.dumps(spec)]) as emu:
        res = asyncio.run(_import(emu.url, scale, data))
        stats = json.loads(emu.ask("stats"))
        stored = json.loads(emu.ask("count coworkertimepasses"))
    # how long one count read keeps the (single-threaded) emulator busy with this
    # many passes stored: a second emulator, limits off, same number of passes
    spec_off = {"time_scale": scale, "limits": "off"}
    with child_server([PY, f"{common.BENCH}/emulator_child.py", json.dumps(spec_off)]) as emu2:
        emu2.ask(f"seed {len(data)}")
        count_ms = asyncio.run(_time_count_reads(emu2.url))
    by_route = stats.get("by_route", {})
    writes = sum(v for k, v in by_route.items() if k.split()[0] in ("POST", "PUT", "DELETE"))
    reads = sum(v for k, v in by_route.items() if k.split()[0] == "GET")
    f = floors(groups, groups, scale)  # the target: one request per group
    f_actual = floors(stats["requests"], writes, scale)
    return {
        "time_scale": scale,
        "rows": len(data),
        "groups": groups,
        "per_group": PER_GROUP,
        "client": res,
        "emulator": stats,
        "stored": stored,
        "count_read_ms": count_ms,
        "writes": writes,
        "reads": reads,
        "floor": f,
        "floor_for_requests_sent": f_actual,
    }


def render(res: dict[str, Any]) -> str:
    from report import _n, table

    st, cl, fl = res["emulator"], res["client"], res["floor"]
    groups, requests = res["groups"], st["requests"]
    throttled = st["throttled"]
    executed_writes = st.get("writes", res["writes"])
    ratio = cl["wall"] / fl["simple"]
    ratio_w = cl["wall"] / fl["window"] if fl["window"] else float("nan")
    f_sent = res["floor_for_requests_sent"]["simple"]
    minute = 60 * res["time_scale"]
    interval_ms = MIN_INTERVAL * res["time_scale"] * 1000
    margin_ms = max(0.01 * res["time_scale"], 0.002) * 1000
    rows = [
        ["rows (passes) / groups", f"{res['rows']:,} / {groups:,}", "", ""],
        [
            "requests received by the emulator",
            f"**{requests:,}**",
            f"exactly {groups:,} (the groups)",
            common.verdict(requests == groups),
        ],
        [
            "of which: creates executed (CreateMultiple)",
            f"{executed_writes:,}",
            f"{groups:,}",
            common.verdict(executed_writes == groups),
        ],
        [
            "of which: count reads (the bulk layer's reconciliation baseline)",
            f"{cl['count_requests']:,} sent by the bulk layer",
            "",
            "",
        ],
        [
            "of which: throttled (409/429, not executed, resent after the wait)",
            f"**{throttled}**",
            "0",
            common.verdict(throttled == 0),
        ],
        [
            "client-side: consecutive request starts closer than the minimum interval",
            f"{cl['client_gaps_under_interval']} of {cl['client_sends']:,} "
            f"(closest {_n(cl['client_min_gap_ms'], 1)} ms)",
            "",
            "",
        ],
        [
            "emulator: time to answer one count read with all passes stored",
            f"{_n(res['count_read_ms'], 1)} ms",
            "",
            "",
        ],
        ["wall time", f"**{_n(cl['wall'], 1)} s**", "", ""],
        [f"floor: {groups:,} requests / allowed write rate", f"{_n(fl['simple'], 1)} s", "", ""],
        ["wall time / floor", f"**{ratio:.3f}x**", "≤ 1.05x", common.verdict(ratio <= 1.05)],
        [
            "wall time / sliding-window floor (first window's burst allowed)",
            f"{ratio_w:.3f}x ({_n(fl['window'], 1)} s)",
            "",
            "",
        ],
        [
            "passes stored / import report ok",
            f"{res['stored']:,} / {cl['ok']}",
            f"{res['rows']:,} / True",
            common.verdict(res["stored"] == res["rows"] and cl["ok"]),
        ],
    ]
    out = [
        f"`await client.coworker_time_passes.bulk_create(rows)` with {res['rows']:,} rows "
        f"of one pass each, {res['per_group']} identical rows per customer and time pass "
        f"({groups} groups), default options. The emulator (own process) enforces the "
        f"published limits with `time_scale={res['time_scale']}` (one minute lasts "
        f"{_n(minute, 1)} s: 60 writes and 120 requests per {_n(minute, 1)} s, "
        f"{_n(interval_ms, 0)} ms between requests); the client's limiter is "
        f"`RateLimits.published().scaled({res['time_scale']})`, as shipped (2 % reserve, "
        f"{_n(margin_ms, 0)} ms jitter margin). One run: the limits, not the machine, "
        "set the pace. Which limit a throttled request hit is read from the emulator "
        "(bench/emulator_child.py); request start times on the client from an aiohttp "
        "trace.\n",
        table(["", "measured", "target", "verdict"], rows),
        "### Reading\n",
    ]
    lines = []
    if requests != groups:
        lines.append(
            f"- **Requests target missed**: {requests:,} requests for {groups:,} groups. "
            f"The creates executed are exactly one per group ({executed_writes:,}), but the "
            f"bulk layer also sends {cl['count_requests']:,} count reads: before a group's "
            "first send it reads the matching records' `TotalItems` as a baseline, so that "
            "a create whose outcome is unknown (dropped connection, timeout, 5xx) can be "
            "reconciled by counting instead of being resent blindly. That is a correctness "
            "choice of the bulk layer, not noise"
            + (f"; the remaining {throttled} were throttled and resent" if throttled else "")
            + ". The reads share the 120-per-minute all-methods limit, which is exactly as "
            "tight as 60 writes per minute when there are 2 requests per group, so they cost "
            f"little time: the floor for the requests actually sent is {_n(f_sent, 1)} s "
            f"against {_n(fl['simple'], 1)} s."
        )
    else:
        lines.append(f"- One request per group: {requests:,} requests for {groups:,} groups.")
    if ratio <= 1.05:
        lines.append(
            f"- Wall time is {ratio:.3f}x the floor: within the 1.05x target (a sliding "
            "window lets the first window's requests go at once, so under 1x is possible)."
        )
    else:
        lines.append(
            f"- **Wall-time target missed**: {ratio:.3f}x the floor. The client keeps a 2 % "
            "reserve on every window and adds a margin to each period (so as never to be "
            "throttled), which alone costs about 1.02-1.04x; the rest is the time the client "
            "takes per group."
        )
    if throttled:
        why = ", ".join(f"{k}: {v}" for k, v in st.get("throttle_reasons", {}).items())
        if cl["client_gaps_under_interval"] == 0:
            side = (
                "The client did space them: none of its request starts were closer than that "
                f"(closest {_n(cl['client_min_gap_ms'], 1)} ms, aiohttp trace), so the time "
                "between a request leaving the client and the emulator processing it varied "
                "by more than the margin. "
                + (
                    "The emulator is single-threaded and one count read keeps it busy for "
                    f"{_n(res['count_read_ms'], 1)} ms with {res['rows']:,} passes stored: a "
                    "request queued behind one is processed right after it."
                    if res["count_read_ms"] > margin_ms
                    else f"The emulator's own work is short (a count read takes "
                    f"{_n(res['count_read_ms'], 1)} ms), so the delay is scheduling: the "
                    "client, the emulator and whatever else runs on the machine share two "
                    "cores."
                )
            )
        else:
            side = (
                f"The client itself started {cl['client_gaps_under_interval']} requests "
                "closer together than the interval (aiohttp trace): a request can leave "
                "later than its limiter slot and bunch up with the next."
            )
        lines.append(
            f"- **Throttling target missed: {throttled} throttled answer(s)** (limit hit, as "
            f"the emulator counted it: {why or 'not recorded'}). The emulator saw two "
            f"requests less than its {_n(interval_ms, 0)} ms minimum interval apart. "
            + side
            + f" The client's jitter margin at this time scale is {_n(margin_ms, 0)} ms "
            "(max(10 ms x scale, 2 ms)), smaller than that jitter; against the live API's "
            "unscaled 100 ms interval it is 10 ms. Every throttled request was waited out "
            "and resent (a throttled request was not executed): nothing was lost or doubled."
        )
    else:
        lines.append("- No request was throttled: the client-side limiter kept under the limits.")
    out.append("\n".join(lines) + "\n")
    return "\n".join(out)
