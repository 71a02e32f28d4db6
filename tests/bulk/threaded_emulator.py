"""An emulator on its own event loop in a background thread, for CLI subprocess tests.

The import runs as a real subprocess (so it can be signalled or killed) while
the test reads the emulator's store and request counters directly.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from nexudus_async.testing import EmulatorConfig, EmulatorServer

CREATE_ROUTE = "POST /api/billing/coworkertimepasses"
_T = TypeVar("_T")


class ThreadedEmulator:
    def __init__(self, server: EmulatorServer, loop: asyncio.AbstractEventLoop) -> None:
        self.server = server
        self.loop = loop

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def call(self, fn: Callable[[], _T]) -> _T:
        """Run ``fn`` on the emulator's loop (its state is not shared between threads)."""

        async def run() -> _T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def creates(self) -> int:
        """Create requests received so far (whatever their outcome)."""
        return self.call(lambda: self.server.stats.by_route[CREATE_ROUTE])

    def route_count(self, route: str) -> int:
        return self.call(lambda: self.server.stats.by_route[route])

    def store_counts(self) -> Counter[tuple[int, int]]:
        def read() -> Counter[tuple[int, int]]:
            records: Any = self.server.store.all("coworkertimepasses")
            return Counter((int(r["CoworkerId"]), int(r["TimePassId"])) for r in records)

        return self.call(read)


@contextmanager
def threaded_emulator(config: EmulatorConfig) -> Iterator[ThreadedEmulator]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = EmulatorServer(config)
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
        yield ThreadedEmulator(server, loop)
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
