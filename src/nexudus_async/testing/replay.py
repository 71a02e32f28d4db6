"""Replay: ``nexudus-async emulator --replay DIR`` answers recorded requests as recorded.

A request matches an exchange of the cassette by method, path, query (any order)
and body (JSON compared by value), after the redaction the recording applied (so
a token request matches whatever the password). The same request recorded several
times is answered in recorded order, then the last answer again. A request with no
recording gets a 501 naming what was asked, or, with ``fallthrough``, goes on to
the stateful emulator.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from .admin import is_admin_path
from .app import build_app
from .appserver import AppServer
from .cassette import HOP_BY_HOP, REDACTED, Exchange, Redactor, load_cassette, request_key
from .config import EmulatorConfig
from .documents import api_document, served
from .state import EmulatorState

__all__ = ["ReplayServer", "Replayer", "build_replay_app", "run_replay"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Replayer:
    """The recorded answers of one cassette, found by request."""

    def __init__(self, exchanges: Sequence[Exchange], source: str = "the cassette") -> None:
        self.source = source
        self.count = len(exchanges)
        self._answers: dict[tuple[Any, ...], list[Exchange]] = defaultdict(list)
        self._next: dict[tuple[Any, ...], int] = defaultdict(int)
        for exchange in exchanges:
            content_type = exchange.header("Content-Type")
            key = request_key(
                exchange.method, exchange.path, exchange.query, exchange.request_body, content_type
            )
            self._answers[key].append(exchange)

    @classmethod
    def from_folder(cls, folder: str | Path) -> Replayer:
        return cls(load_cassette(folder), str(folder))

    def find(self, request: web.Request, body: bytes) -> Exchange | None:
        """The recorded exchange for this request (redacted as the recording was)."""
        redactor = Redactor()  # structural redaction only: what was recorded
        content_type = request.headers.get("Content-Type")
        key = request_key(
            request.method,
            request.path,
            redactor.query(request.query.items()),
            redactor.body(body, content_type),
            content_type,
        )
        answers = self._answers.get(key)
        if not answers:
            return None
        index = self._next[key]
        self._next[key] = min(index + 1, len(answers) - 1)
        return answers[index]

    def not_recorded(self, request: web.Request, body: bytes) -> web.Response:
        """501 naming the request (its query redacted; the body only by size)."""
        query = "&".join(f"{k}={v}" for k, v in Redactor().query(request.query.items()))
        asked = f"{request.method} {request.path}" + (f"?{query}" if query else "")
        size = f" with a {len(body)}-byte body" if body else ""
        message = (
            f"No recorded answer to {asked}{size} in {self.source} "
            f"({self.count} recorded exchange{'' if self.count == 1 else 's'}): "
            "record it (--proxy URL --record DIR) or let the emulator answer "
            "(--replay-fallthrough)."
        )
        return web.json_response({"error": "not_recorded", "message": message}, status=501)


def answer(exchange: Exchange) -> web.Response:
    """The recorded answer: status, reason, headers (not the redacted ones), the same bytes."""
    response = web.Response(
        status=exchange.status, reason=exchange.reason, body=exchange.response_body
    )
    for name, value in exchange.response_headers:
        if name.lower() not in HOP_BY_HOP and value != REDACTED:
            response.headers.add(name, value)
    return response


def _replay_middleware(replayer: Replayer) -> Any:
    @web.middleware
    async def replay_first(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_admin_path(request.path):
            return await handler(request)
        body = await request.read()  # cached: the emulator's handlers read it again
        exchange = replayer.find(request, body)
        if exchange is not None:
            return answer(exchange)
        return await handler(request)

    return replay_first


def build_replay_app(
    replayer: Replayer, fallthrough: EmulatorState | None = None
) -> web.Application:
    """Replay first; then the stateful emulator (``fallthrough``) or a 501."""
    if fallthrough is not None:
        app = build_app(fallthrough)
        app.middlewares.insert(0, _replay_middleware(replayer))
        return app

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "mode": "replay", "exchanges": replayer.count})

    async def document(request: web.Request) -> web.Response:
        return served(api_document(), request)

    async def unrecorded(request: web.Request) -> web.Response:
        return replayer.not_recorded(request, await request.read())

    app = web.Application(middlewares=[_replay_middleware(replayer)])
    app.router.add_get("/_emulator/health", health)
    app.router.add_get("/_emulator/api-openapi.json", document)
    app.router.add_route("*", "/{tail:.*}", unrecorded)
    return app


class ReplayServer(AppServer):
    """A replaying server; ``state`` is the stateful emulator behind it (fallthrough) or None."""

    def __init__(
        self,
        folder: str | Path,
        *,
        fallthrough: bool = False,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.replayer = Replayer.from_folder(folder)
        self.state = EmulatorState(config or EmulatorConfig()) if fallthrough else None
        super().__init__(build_replay_app(self.replayer, self.state), host, port)


@contextlib.asynccontextmanager
async def run_replay(
    folder: str | Path, *, fallthrough: bool = False, config: EmulatorConfig | None = None
) -> AsyncIterator[ReplayServer]:
    """Replay a cassette on 127.0.0.1 and a free port for the block."""
    server = ReplayServer(folder, fallthrough=fallthrough, config=config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
