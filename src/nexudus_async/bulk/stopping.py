"""Stopping a bulk job: after the stop flag is set, no new request goes out.

The executor checks the flag after a group gets its concurrency slot and
before each create and read. :func:`stop_trace_config` adds the last check,
at the wire: a request that waited in the client's rate limiter (or a
throttled one about to be resent) when the flag was set is not sent at all.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

__all__ = ["SendingStopped", "stop_trace_config"]


class SendingStopped(Exception):
    """The job was told to stop before this request went out: it was not sent."""


def stop_trace_config(stop: asyncio.Event) -> aiohttp.TraceConfig:
    """A trace config whose request-start hook refuses every request once ``stop`` is set.

    aiohttp calls the hook before it connects, and re-raises what it raises, so
    the refused request never reaches the network.
    """

    async def on_request_start(session: Any, ctx: Any, params: Any) -> None:
        if stop.is_set():
            raise SendingStopped(f"stopping: {params.method} {params.url.path} not sent")

    config = aiohttp.TraceConfig()
    config.on_request_start.append(on_request_start)
    return config
