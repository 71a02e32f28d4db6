"""Shared helpers for the facade's tests: a fake clock, and a pipeline on aioresponses."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from yarl import URL

from nexudus_async import BasicAuth, NexudusClient
from nexudus_async._core.auth import Auth
from nexudus_async._core.pipeline import Pipeline
from nexudus_async._core.retry import RetryPolicy
from nexudus_async._core.throttle import RateLimiter, RateLimits
from nexudus_async._core.transport import AiohttpTransport, HttpRequest, HttpResponse
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD
from nexudus_async.testing.server import EmulatorServer

from ..aioresponses_compat import CompatAioresponses

BASE = "https://nexudus.test"
#: Fast backoff, so that retry sequences against the emulator take milliseconds.
FAST_RETRY = RetryPolicy(backoff_initial=0.005, backoff_max=0.02)


class FakeClock:
    """A monotonic clock that only moves when somebody sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mocked() -> Any:
    with CompatAioresponses() as m:
        yield m


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


PipelineFactory = Callable[..., Pipeline]


@pytest.fixture
def recorder(session: aiohttp.ClientSession) -> Recorder:
    return Recorder(AiohttpTransport(session, BASE))


@pytest.fixture
def make_pipeline(recorder: Recorder, clock: FakeClock) -> PipelineFactory:
    def make(
        *,
        auth: Auth | None = None,
        retry: RetryPolicy | None = None,
        limits: RateLimits | None = None,
        rand: Callable[[], float] = lambda: 1.0,
    ) -> Pipeline:
        limiter = RateLimiter(limits, clock=clock, sleep=clock.sleep)
        return Pipeline(
            recorder,
            limiter=limiter,
            auth=auth,
            retry=retry or RetryPolicy(),
            sleep=clock.sleep,
            rand=rand,
            wall_clock=lambda: 1_700_000_000.0,
        )

    return make


class Recorder:
    """Wraps the aiohttp transport and remembers every request as it went out."""

    def __init__(self, inner: AiohttpTransport) -> None:
        self.inner = inner
        self.requests: list[HttpRequest] = []

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        return await self.inner.send(request)

    def lines(self) -> list[str]:
        """``METHOD path?query`` per request, in order."""
        out = []
        for r in self.requests:
            query = "&".join(f"{k}={v}" for k, v in r.params)
            out.append(f"{r.method} {r.path}" + (f"?{query}" if query else ""))
        return out


class Sent:
    """One request as aiohttp was asked to send it."""

    def __init__(self, method: str, url: URL, kwargs: dict[str, Any]) -> None:
        self.method = method
        self.path = url.path
        self.params: tuple[tuple[str, str], ...] = tuple(kwargs.get("params") or ())
        self.headers: dict[str, str] = dict(kwargs.get("headers") or {})
        self.body: bytes | None = kwargs.get("data")

    def json(self) -> Any:
        assert self.body is not None
        return json.loads(self.body)

    def line(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.params)
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")


class Wire:
    """Registers mocked answers and logs every request in order."""

    def __init__(self, m: Any) -> None:
        self.m = m
        self.log: list[Sent] = []

    def add(self, method: str, path: str, **kw: Any) -> None:
        pattern = re.compile("^" + re.escape(BASE + path) + r"(\?.*)?$")

        def record(url: URL, **kwargs: Any) -> None:
            self.log.append(Sent(method, url, kwargs))

        self.m.add(pattern, method, callback=record, **kw)

    def lines(self) -> list[str]:
        return [s.line() for s in self.log]


@pytest.fixture
def wire(mocked: Any) -> Wire:
    return Wire(mocked)


@pytest.fixture
async def emulator_client(nexudus_emulator: EmulatorServer) -> AsyncIterator[NexudusClient]:
    """A client of the test's emulator as shipped (its limits scaled), with fast backoff."""
    async with NexudusClient(
        nexudus_emulator.base_url,
        BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD),
        rate_limits=RateLimits.published().scaled(nexudus_emulator.config.time_scale),
        retry=FAST_RETRY,
        timeout=10,
    ) as c:
        yield c
