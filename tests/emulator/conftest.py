"""Fixtures of the emulator's tests: a running emulator and a raw aiohttp client that
checks every answer against the OpenAPI document."""

from __future__ import annotations

import base64
import json as _json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import attrs
import pytest

from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    EmulatorServer,
    ThrottleLimits,
    run_emulator,
)

from .spec import check_response, load_spec

# Parse the document now, not inside the first (possibly timing-sensitive) test.
load_spec()

CTP = "/api/billing/coworkertimepasses"
PTP = "/api/billing/producttimepasses"
TTP = "/api/billing/tarifftimepasses"
TOKEN = "/api/token"

#: Throttling off: tests that are not about throttling must not depend on timing.
UNTHROTTLED = EmulatorConfig(limits=ThrottleLimits.off())


def basic(email: str = DEFAULT_ADMIN_EMAIL, password: str = DEFAULT_ADMIN_PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


@attrs.frozen
class Reply:
    status: int
    reason: str | None
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return _json.loads(self.body)


class Api:
    """Raw HTTP to one emulator; every answer is checked against the OpenAPI document."""

    def __init__(self, session: aiohttp.ClientSession, server: EmulatorServer) -> None:
        self.session = session
        self.server = server
        self.authorization: str | None = basic()
        self.checked = 0

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        query: str | None = None,
        authorization: str | bool | None = True,
        validate: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        if authorization is True:
            if self.authorization:
                all_headers["Authorization"] = self.authorization
        elif isinstance(authorization, str):
            all_headers["Authorization"] = authorization
        url = self.server.base_url + path + (f"?{query}" if query else "")
        async with self.session.request(
            method, url, json=json, data=data, headers=all_headers
        ) as response:
            body = await response.read()
            reply = Reply(response.status, response.reason, dict(response.headers), body)
        if validate:
            check_response(method, path, reply.status, reply.headers, reply.body)
            self.checked += 1
        return reply

    async def get(self, path: str, query: str | None = None, **kw: Any) -> Reply:
        return await self.request("GET", path, query=query, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return await self.request("POST", path, json=json, **kw)

    async def put(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return await self.request("PUT", path, json=json, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.request("DELETE", path, **kw)

    async def token(self, **form: str) -> Reply:
        return await self.request("POST", TOKEN, data=form, authorization=False)


@pytest.fixture
async def emu() -> AsyncIterator[EmulatorServer]:
    async with run_emulator(UNTHROTTLED) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
        yield s


@pytest.fixture
def api(session: aiohttp.ClientSession, emu: EmulatorServer) -> Api:
    return Api(session, emu)


def coworker_pass(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"CoworkerId": 42, "BusinessId": 7, "TimePassId": 1, "CreateMultiple": 1}
    body.update(over)
    return body
