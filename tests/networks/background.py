"""Servers on an event loop in a background thread, for command-line subprocess tests:
the https emulator, a relay counting connections, a proxy; the test reads their state."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

_T = TypeVar("_T")
_WAIT = 30.0


class Background:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._stops: list[Callable[[], Awaitable[Any]]] = []

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(_WAIT)

    def call(self, fn: Callable[[], _T]) -> _T:
        """Read state on the servers' loop (it is not shared between threads)."""

        async def read() -> _T:
            return fn()

        return self.run(read())

    def started(self, server: Any) -> Any:
        """``server.start()`` on the loop; ``server.stop()`` when the block ends."""
        self.run(server.start())
        self._stops.append(server.stop)
        return server

    async def _stop_all(self) -> None:
        while self._stops:
            await self._stops.pop()()


@contextmanager
def background() -> Iterator[Background]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = Background(loop)
    try:
        yield runner
    finally:
        try:
            runner.run(runner._stop_all())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_WAIT)
            loop.close()
