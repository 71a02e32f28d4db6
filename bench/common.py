"""Shared helpers: server subprocesses, CPU accounting, medians, the machine."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
PY = sys.executable
_TICK = os.sysconf("SC_CLK_TCK")
#: Set by ``run.py --quick``: fewer rounds, for checking the harness only.
QUICK = False


class Missing(Exception):
    """A piece this benchmark needs has not landed (or does not work) yet."""


@dataclass
class ChildServer:
    """A server process; its first stdout line is its base URL."""

    proc: subprocess.Popen[str]
    url: str
    extra: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return proc_cpu(self.proc.pid)

    def ask(self, command: str) -> str:
        """Send one command line on the child's stdin; return its one-line answer."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()


@contextlib.contextmanager
def child_server(argv: Sequence[str], *, timeout: float = 60.0) -> Iterator[ChildServer]:
    """Start ``argv``; wait for a line starting with http://; stop it by closing stdin."""
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        url = ""
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line.rstrip())
            for word in line.split():
                if word.startswith("http://"):
                    url = word.rstrip("/.,")
                    break
            if url:
                break
        if not url:
            raise Missing(f"server {argv!r} printed no URL: {seen[-5:]!r}")
        yield ChildServer(proc, url, seen)
    finally:
        with contextlib.suppress(Exception):
            if proc.stdin:
                proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def static_server(*args: str) -> contextlib.AbstractContextManager[ChildServer]:
    return child_server([PY, os.path.join(BENCH, "static_server.py"), *args])


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def self_cpu() -> float:
    return time.process_time()


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("aiohttp", "attrs", "cattrs", "orjson", "httpx", "openapi-python-client"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MiB"
                break
    load = ""
    with contextlib.suppress(OSError):
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": platform.platform(),
        "load_at_start": load,
        "commit": git_commit(),
    }


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (src has uncommitted changes)" if dirty else "")


def fmt_ratio(x: float) -> str:
    return "n/a" if x != x else f"{x:.2f}x"


def verdict(ok: bool | None) -> str:
    if ok is None:
        return "not measured"
    return "met" if ok else "**missed**"


def table(head: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def num(x: float, digits: int = 0) -> str:
    """A figure with thousands separators; NaN (not measured) as n/a."""
    if x != x:
        return "n/a"
    return f"{x:,.{digits}f}"
