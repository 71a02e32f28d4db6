"""Fixtures for the generated layer: a real aiohttp session behind aioresponses."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

from nexudus_async._core.transport import AiohttpTransport
from nexudus_async._generated import Client

from ..aioresponses_compat import CompatAioresponses

BASE = "http://nexudus.test"
ANY_URL = re.compile(r"^http://nexudus\.test/.*$")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with CompatAioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    session = aiohttp.ClientSession()
    try:
        yield Client(transport=AiohttpTransport(session, BASE))
    finally:
        await session.close()


def answer(
    m: aioresponses,
    method: str,
    fixture: str | None = None,
    *,
    status: int = 200,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer the next ``method`` request to any URL with a fixture file (or ``body``)."""
    m.add(
        ANY_URL,
        method,
        status=status,
        body=fixture_bytes(fixture) if fixture is not None else (body or b""),
        content_type="application/json",
        headers=headers,
    )


class Sent:
    """The one request aioresponses saw, as aiohttp was asked to send it."""

    def __init__(self, m: aioresponses) -> None:
        ((key, calls),) = m.requests.items()
        (call,) = calls
        self.method: str = key[0]
        self.kwargs: dict[str, Any] = call.kwargs
        self.params: tuple[tuple[str, str], ...] = tuple(self.kwargs.get("params") or ())
        self.headers: dict[str, str] = dict(self.kwargs.get("headers") or {})
        self.data: bytes | None = self.kwargs.get("data")
        self.path: str = key[1].path

    @property
    def url(self) -> str:
        """The URL aiohttp puts on the wire (it extends the URL with ``params``)."""
        return str(URL(BASE + self.path).extend_query(self.params))

    def json(self) -> Any:
        assert self.data is not None
        return json.loads(self.data)


@pytest.fixture
def sent(mocked: aioresponses) -> Any:
    return lambda: Sent(mocked)
