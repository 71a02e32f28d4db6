"""The emulator in its own process, with a line protocol on stdin for the benchmarks.

    python bench/emulator_child.py '{"time_scale": 0.1, "limits": "published",
                                     "faults": [{"method": "GET", "kind": "latency", ...}]}'

Prints its base URL, then answers one line per command read on stdin:
``stats`` (JSON snapshot of ``emu.stats``), ``reset_stats``, ``reset`` (everything,
throttle history included), ``count ENTITY``,
``seed N`` (insert N CoworkerTimePasses). Closing stdin stops it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from typing import Any

from nexudus_async.testing import EmulatorConfig, FaultRule, ThrottleLimits, run_emulator


def config_from(spec: dict[str, Any]) -> EmulatorConfig:
    limits = spec.get("limits", "published")
    if limits == "off":
        lim = ThrottleLimits.off()
    elif limits == "published":
        lim = ThrottleLimits()
    else:
        lim = ThrottleLimits(**limits)
    faults = tuple(FaultRule(**f) for f in spec.get("faults", ()))
    return EmulatorConfig(
        limits=lim,
        time_scale=float(spec.get("time_scale", 1.0)),
        faults=faults,
        seed=spec.get("seed", 1),
    )


def explain_throttling(emu: Any, reasons: Counter[str]) -> None:
    """Count which limit each throttled request hit (reads the emulator's private state).

    Diagnosis only, for the report; if the emulator's internals change it
    quietly does nothing.
    """
    try:
        throttle = emu._state.throttle
        original = throttle.check
    except AttributeError:
        return

    def check(client_key: str, is_write: bool) -> float | None:
        wait: float | None = original(client_key, is_write)
        if wait is None:
            return None
        try:
            now = throttle._clock()
            client = throttle._clients[client_key]
            scale = throttle._scale
            interval = throttle._limits.min_interval
            if interval and client.last is not None and client.last + interval * scale > now:
                reasons["min interval"] += 1
            for w in client.windows:
                if (is_write or not w.writes_only) and w.wait(now, scale) > 0:
                    kind = "writes" if w.writes_only else "all"
                    reasons[f"{w.limit} {kind} per {w.seconds:g} s"] += 1
        except Exception:  # diagnosis must never break the emulator
            reasons["unknown"] += 1
        return wait

    throttle.check = check


async def main(spec: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    reasons: Counter[str] = Counter()
    async with run_emulator(config_from(spec)) as emu:
        explain_throttling(emu, reasons)
        print(emu.base_url, flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            cmd, *args = line.split()
            if cmd == "stats":
                answer: Any = {**emu.stats.snapshot(), "throttle_reasons": dict(reasons)}
            elif cmd == "reset_stats":
                emu.stats.reset()
                answer = "ok"
            elif cmd == "reset":  # store, stats and throttle history back to the start
                emu.reset()  # builds a new throttle: wrap it again
                reasons.clear()
                explain_throttling(emu, reasons)
                answer = "ok"
            elif cmd == "count":
                answer = emu.store.count(args[0])
            elif cmd == "seed":
                for i in range(int(args[0])):
                    emu.store.insert(
                        "coworkertimepasses",
                        {"CoworkerId": 1 + i % 50, "BusinessId": 1, "TimePassId": 1 + i % 5},
                    )
                answer = emu.store.count("coworkertimepasses")
            else:
                answer = f"unknown command {cmd!r}"
            print(json.dumps(answer, default=str), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}))
