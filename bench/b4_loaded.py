"""Benchmark 4, loaded: the same import while two busy-loop processes keep both cores busy.

On a loaded machine a request can leave later than its limiter slot and
bunch up with the next; this variant shows whether the limiter absorbs that.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import b4_limits
from common import PY

BUSY_PROCESSES = 2


@contextlib.contextmanager
def busy(n: int = BUSY_PROCESSES) -> Iterator[list[int]]:
    """``n`` processes spinning on a CPU each for the duration; always stopped."""
    procs = [
        subprocess.Popen([PY, "-c", "while True: pass"], stdin=subprocess.DEVNULL) for _ in range(n)
    ]
    try:
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(timeout=10)


def run() -> dict[str, Any]:
    with busy() as pids:
        res = b4_limits.run()
    res["busy_processes"] = len(pids)
    res["cores"] = os.cpu_count()
    return res


def render(res: dict[str, Any]) -> str:
    head = (
        f"Benchmark 4 again, while {res['busy_processes']} busy-loop processes keep "
        f"the machine's {res['cores']} cores busy for its whole duration.\n\n"
    )
    return head + b4_limits.render(res)
