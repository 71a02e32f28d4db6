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


async def main(spec: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    async with run_emulator(config_from(spec)) as emu:
        print(emu.base_url, flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            cmd, *args = line.split()
            if cmd == "stats":
                answer: Any = emu.stats.snapshot()
            elif cmd == "reset_stats":
                emu.stats.reset()
                answer = "ok"
            elif cmd == "reset":  # store, stats and throttle history back to the start
                emu.reset()
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
