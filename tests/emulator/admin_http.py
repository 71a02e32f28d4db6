"""Raw HTTP for the admin API tests: what a non-Python client sends, and what it gets."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import attrs

from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

CTP = "/api/billing/coworkertimepasses"
PTP = "/api/billing/producttimepasses"


def basic(email: str = DEFAULT_ADMIN_EMAIL, password: str = DEFAULT_ADMIN_PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def bearer(token: str) -> str:
    return f"Bearer {token}"


@attrs.frozen
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def call(
    base_url: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    authorization: str | None = None,
    form: dict[str, str] | None = None,
    host: str | None = None,
) -> Answer:
    """One request, 10 s at most; any status is an Answer (never an exception)."""
    data = None
    headers = {}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if authorization is not None:
        headers["Authorization"] = authorization
    if host is not None:
        headers["Host"] = host
    request = urllib.request.Request(base_url + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers), exc.read())


def coworker_pass(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"CoworkerId": 42, "BusinessId": 7, "TimePassId": 1, "CreateMultiple": 1}
    body.update(over)
    return body
