"""The README's web-backend example, as written: uvicorn, the emulator, a real Redis."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    EmulatorServer,
    FaultRule,
    run_emulator,
)

from .limiter.redis_server import RedisServer

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

README = Path(__file__).resolve().parent.parent / "README.md"
CTP = "/api/billing/coworkertimepasses"


def web_backend_example() -> str:
    text = README.read_text()
    section = text[text.index("### A web backend") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "README has no python block under '### A web backend'"
    return match.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_until_listening(port: int, proc: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(60):
        for _ in range(1200):  # bounded
            assert proc.returncode is None, "uvicorn exited"
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorServer]:
    async with run_emulator(EmulatorConfig(time_scale=1.0, seed=5)) as emu:
        yield emu


async def test_the_web_backend_example_answers_and_turns_errors_into_statuses(
    tmp_path: Path, emulator: EmulatorServer, redis_server: RedisServer
) -> None:
    for _ in range(3):
        emulator.store.insert(
            "coworkertimepasses", {"CoworkerId": 42, "BusinessId": 1, "TimePassId": 7}
        )
    (tmp_path / "app.py").write_text(web_backend_example())
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NEXUDUS_")},
        "NEXUDUS_BASE_URL": emulator.base_url,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
        "REDIS_URL": redis_server.url,
    }
    argv = ["-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await _wait_until_listening(port, proc)
        url = f"http://127.0.0.1:{port}/passes/42"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            async with http.get(url) as r:
                assert (r.status, await r.json()) == (200, {"coworker": 42, "passes": 3})
            # The account cannot answer within the page view's 5 s: 503, come back later.
            emulator.set_faults([FaultRule(method="GET", path=CTP, kind="latency", latency=6.0)])
            async with http.get(url) as r:
                assert r.status == 503 and r.headers["Retry-After"] == "5"
                assert await r.json() == {"error": "busy"}
            # Any other NexudusError: a 502 with its message, not a 500 with a traceback.
            emulator.set_faults([FaultRule(method="GET", path=CTP, kind="unsuccessful")])
            async with http.get(url) as r:
                assert r.status == 502
                body = await r.json()
            failure = "the API reported failure (WasSuccessful: false)"
            assert body == {"error": f"{failure}: The action could not be completed."}
    finally:
        if proc.returncode is None:
            proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    log = err.decode()
    assert "Traceback" not in log, log[-3000:]
    assert DEFAULT_ADMIN_PASSWORD not in log
    assert emulator.stats.by_route["POST /api/token"] == 1  # a password grant from the environment
