"""A standalone emulator subprocess for the probe's command-line tests, driven by its admin API."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .conftest import SEED


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "nexudus_async.cli", *args]


class Standalone:
    def __init__(self, url: str) -> None:
        self.url = url

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + "/_emulator" + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            text = answer.read()
        return json.loads(text) if text else None

    def passes(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.admin("GET", "/records/coworkertimepasses")
        return records

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.admin("GET", "/records")
        return {k: v for k, v in counts.items() if k in SEED}


@contextmanager
def standalone(*options: str, seed_file: Path) -> Iterator[Standalone]:
    """The emulator as a process, unthrottled (timing is not what these tests are about), seeded."""
    seed_file.write_text(json.dumps(SEED), encoding="utf-8")
    proc = subprocess.Popen(
        cli("emulator", "--port", "0", "--no-throttle", "--seed-file", str(seed_file), *options),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = None
        for _ in range(50):  # the banner's first lines; bounded
            line = proc.stdout.readline()
            found = re.search(r"listening on (http://\S+)", line)
            if found or not line:
                url = found.group(1) if found else None
                break
        assert url, "the emulator did not print its URL"
        yield Standalone(url)
    finally:
        proc.kill()  # pending (latency-held) requests do not matter any more
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def wait_for(condition: Any, what: str, seconds: float = 60.0) -> None:
    """Poll ``condition()`` (bounded in time and count) until it holds."""
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def run_probe(
    url: str, *args: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli("probe", "--base-url", url, "--time-scale", "0.001", *args),
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def popen_probe(
    url: str, args: Sequence[str], env: dict[str, str], cwd: Path
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli("probe", "--base-url", url, "--time-scale", "0.001", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )
