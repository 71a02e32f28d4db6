"""The probe's own HTTP: raw answers (status, headers, body) paced under the published limits.

The client proper raises on a 404 and hides the shape of an answer; the probe
must see both. It shares the client's pieces: the transport, the limiter
(one for the probe and the client it also drives), the auth schemes, and the
``Retry-After`` reading. Every exchange is logged for the report, without
credentials.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import attrs

from .._core.auth import Auth
from .._core.errors import AuthenticationError
from .._core.retry import parse_retry_after
from .._core.throttle import RateLimiter
from .._core.transport import AiohttpTransport, HttpRequest, HttpResponse, loads

__all__ = ["Answer", "ProbeHttp", "request_log"]

THROTTLED = frozenset({409, 429})
MAX_THROTTLE_RESENDS = 5
#: The longest throttle wait the probe sits out (a daily window is not worth it).
MAX_WAIT = 120.0


@attrs.frozen
class Answer:
    """One answer, read in full."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The decoded body, or None when it is not JSON."""
        try:
            return loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @classmethod
    def of(cls, response: HttpResponse) -> Answer:
        return cls(response.status_code, dict(response.headers), response.content)


def request_log(exchanges: list[dict[str, Any]]) -> aiohttp.TraceConfig:
    """Appends ``{"method", "path", "status"}`` of every request the session sends (the
    probe's and the client's); queries hold no secret, bodies and headers are left out."""

    async def ended(_session: Any, _context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        url = params.url
        path = url.raw_path + ("?" + url.raw_query_string if url.raw_query_string else "")
        exchanges.append({"method": params.method, "path": path, "status": params.response.status})

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(ended)
    return trace


class ProbeHttp:
    """Sends the probe's requests one at a time through ``limiter``, authenticated by ``auth``."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, auth: Auth, limiter: RateLimiter
    ) -> None:
        self._transport = AiohttpTransport(session, base_url, timeout=60.0)
        self._auth = auth
        self.limiter = limiter
        self.throttled_answers = 0

    async def _send_once(self, request: HttpRequest, *, paced: bool = True) -> Answer:
        if paced:
            await self.limiter.acquire(write=request.is_write)
        return Answer.of(await self._transport.send(request))

    async def send_unauthenticated(self, request: HttpRequest) -> HttpResponse:
        """For the auth scheme's token requests (``Auth.authorization``); throttled ones are
        sat out like any other."""
        for _ in range(MAX_THROTTLE_RESENDS):
            await self.limiter.acquire(write=False)
            response = await self._transport.send(request)
            if response.status_code not in THROTTLED:
                break
            self.throttled_answers += 1
            self.sit_out(Answer.of(response))
        if response.status_code in (400, 401):  # a refused grant: the login failed
            body = Answer.of(response).json()
            said = (
                body.get("error_description") or body.get("error")
                if isinstance(body, dict)
                else None
            )
            raise AuthenticationError(
                f"the token endpoint refused the login ({response.status_code})",
                method=request.method,
                path=request.path,
                status=response.status_code,
                api_message=str(said) if said else None,
            )
        return response

    async def _authorized(self, request: HttpRequest) -> HttpRequest:
        header, _marker = await self._auth.authorization(self.send_unauthenticated)
        return request.evolve(headers={**request.headers, "Authorization": header})

    async def request(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        body: Any = None,
        *,
        authenticated: bool = True,
        form: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send, sitting out throttled answers (bounded); any other answer is returned."""
        request = self.build(method, path, params, body, form=form)
        if authenticated:
            request = await self._authorized(request)
        for _ in range(MAX_THROTTLE_RESENDS):
            answer = await self._send_once(request)
            if answer.status == 401 and authenticated:
                raise AuthenticationError(
                    "the API refused the credentials (401)", method=method, path=path, status=401
                )
            if answer.status not in THROTTLED:
                return answer
            self.throttled_answers += 1
            self.sit_out(answer)
        return answer

    @staticmethod
    def build(
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        body: Any = None,
        *,
        form: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        headers = {"Accept": "application/json"}
        if form is not None:
            data = urllib.parse.urlencode(form).encode("ascii")
            return HttpRequest(method, path, tuple(params), data, _FORM, headers)
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            return HttpRequest(method, path, tuple(params), data, "application/json", headers)
        return HttpRequest(method, path, tuple(params), None, None, headers)

    def sit_out(self, answer: Answer) -> None:
        """Pause every later request (the client's too) for the wait a throttled answer asks:
        the limiter holds them."""
        wait = parse_retry_after(answer.headers, answer.body)
        self.limiter.throttled(min(MAX_WAIT, 1.0 if wait is None else wait))

    async def burst(
        self, method: str, path: str, params: Sequence[tuple[str, str]]
    ) -> list[Answer]:
        """The one deliberate burst: three requests at once, past the limiter."""
        request = await self._authorized(self.build(method, path, params))
        await self.limiter.acquire(write=False)  # the first goes when a paced one would
        sends = [self._send_once(request, paced=False) for _ in range(3)]
        answers = list(await asyncio.gather(*sends))
        for answer in answers:
            if answer.status in THROTTLED:
                self.throttled_answers += 1
                self.sit_out(answer)  # leave the account calm for what follows
                break
        return answers


_FORM = "application/x-www-form-urlencoded"
