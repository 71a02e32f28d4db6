"""The recording proxy: ``nexudus-async emulator --proxy https://spaces.nexudus.com --record DIR``.

Every request is forwarded to the real service as it came (method, path and query
byte for byte, body, end-to-end headers; not the hop-by-hop ones, and no
``Accept-Encoding``, so the answer comes back uncompressed), and the client gets
the real answer. Each exchange is then redacted in memory (:mod:`.cassette`),
checked against the API document (:mod:`.contract`), written to the cassette
folder, and every mismatch is a line on stderr and an entry of ``DIR/drift.json``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import attrs
from aiohttp import web
from yarl import URL

from .appserver import AppServer
from .cassette import HOP_BY_HOP, Cassette, Exchange, Redactor
from .contract import Contract, Mismatch
from .documents import api_document, served

__all__ = ["RecordingProxy", "build_proxy_app", "run_proxy"]

_NOT_FORWARDED = HOP_BY_HOP | {"accept-encoding"}
_SKIP_AUTO = ("User-Agent", "Content-Type", "Accept", "Accept-Encoding")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class RecordingProxy:
    """Forwards, answers, then redacts, checks and records each exchange."""

    def __init__(
        self,
        upstream: str,
        cassette: Cassette | None,
        *,
        timeout: float = 120.0,
        report: Callable[[str], None] = _stderr,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.cassette = cassette
        self.contract = Contract(api_document())
        self.redactor = Redactor()
        self.report = report
        self.drift_count = 0
        self._seq = 0
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED]
        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=True)
        url = URL(self.upstream + request.raw_path, encoded=True)
        try:
            async with self._session.request(
                request.method,
                url,
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=self._timeout,
                skip_auto_headers=_SKIP_AUTO,
            ) as upstream:
                answer_body = await upstream.read()
                status, reason = upstream.status, upstream.reason or ""
                answer_headers = list(upstream.headers.items())
        except (TimeoutError, aiohttp.ClientError) as exc:
            message = f"{self.upstream}: {exc.__class__.__name__}: {exc}"
            self.report(f"proxy: {request.method} {request.path}: upstream failed: {message}")
            return web.json_response({"error": "upstream_failed", "message": message}, status=502)
        self._record(request, body, status, reason, answer_headers, answer_body)
        response = web.Response(status=status, reason=reason, body=answer_body)
        for name, value in answer_headers:
            if name.lower() not in HOP_BY_HOP:
                response.headers.add(name, value)
        return response

    def _record(
        self,
        request: web.Request,
        body: bytes,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        answer: bytes,
    ) -> None:
        """Redact first (in memory), then check, then write: no secret reaches the disk."""
        r = self.redactor
        response_type = next((v for k, v in headers if k.lower() == "content-type"), None)
        exchange = Exchange(
            seq=self.cassette.next_seq() if self.cassette is not None else self._next(),
            method=request.method,
            path=request.path,
            query=r.query(request.query.items()),
            request_headers=r.headers(request.headers.items()),
            request_body=r.body(body, request.headers.get("Content-Type")),
            status=status,
            reason=reason,
            response_headers=r.headers(headers),
            response_body=r.body(answer, response_type),
        )
        exchange = r.scrub_exchange(exchange)
        mismatches = self._check(exchange, request.headers.get("Content-Type"), response_type)
        drift = tuple({"where": m.where, "problem": r.scrub(m.problem)} for m in mismatches)
        exchange = attrs.evolve(exchange, drift=drift)
        for entry in drift:
            self.drift_count += 1
            self.report(
                f"drift: {exchange.method} {exchange.path} -> {status}: "
                f"{entry['where']}: {entry['problem']}"
            )
        if self.cassette is not None:
            self.cassette.write(exchange)

    def _check(
        self, exchange: Exchange, request_type: str | None, response_type: str | None
    ) -> list[Mismatch]:
        found: list[Mismatch] = []
        found += self.contract.check_request(
            exchange.method, exchange.path, exchange.query, request_type, exchange.request_body
        )
        headers = dict(exchange.response_headers)
        if response_type is not None:
            headers.setdefault("Content-Type", response_type)
        found += self.contract.check_response(
            exchange.method, exchange.path, exchange.status, headers, exchange.response_body
        )
        return found

    def _next(self) -> int:
        self._seq += 1
        return self._seq


def build_proxy_app(proxy: RecordingProxy) -> web.Application:
    """Everything is forwarded but ``/_emulator/health`` and ``/_emulator/api-openapi.json``."""

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "mode": "proxy", "upstream": proxy.upstream})

    async def document(request: web.Request) -> web.Response:
        return served(api_document(), request)

    async def closing(app: web.Application) -> None:
        await proxy.close()

    app = web.Application(client_max_size=64 * 1024**2)
    app.router.add_get("/_emulator/health", health)
    app.router.add_get("/_emulator/api-openapi.json", document)
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    app.on_cleanup.append(closing)
    return app


def run_proxy(
    upstream: str,
    record: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 120.0,
    report: Callable[[str], None] = _stderr,
) -> AppServer:
    """A proxy server to start (``async with run_proxy(url, "cassettes/x") as server:``)."""
    cassette = Cassette(record) if record is not None else None
    proxy = RecordingProxy(upstream, cassette, timeout=timeout, report=report)
    return AppServer(build_proxy_app(proxy), host, port)
