"""A failure to connect in a few words: ``cannot reach 127.0.0.1:9 (connection refused)``.

The command line says what happened in the user's words (refused, no such
host, timed out), never aiohttp's repr of the exception.
"""

from __future__ import annotations

import errno
import socket

import aiohttp

__all__ = ["reach_problem"]

_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "no route to host",
    errno.ETIMEDOUT: "timed out",
    errno.ECONNRESET: "connection reset",
}


def reach_problem(exc: BaseException) -> str | None:
    """``cannot reach HOST:PORT (why)`` when ``exc`` (or its cause) is a failure to connect."""
    seen: BaseException | None = exc
    for _ in range(8):  # the cause chain is short; bound it anyway
        if seen is None:
            return None
        if isinstance(seen, aiohttp.ClientConnectorError):
            return f"cannot reach {seen.host}:{seen.port} ({_why(seen.os_error)})"
        if isinstance(seen, aiohttp.ConnectionTimeoutError):
            return "cannot reach the API (connecting timed out)"
        seen = seen.__cause__
    return None


def _why(error: OSError) -> str:
    if isinstance(error, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(error, TimeoutError):
        return "timed out"
    if error.errno in _ERRNO_WORDS:
        return _ERRNO_WORDS[error.errno]
    # asyncio's "Multiple exceptions: [Errno 111] ..., [Errno 111] ..." (IPv4 and IPv6)
    # keeps only their text.
    text = str(error)
    for number, words in _ERRNO_WORDS.items():
        if f"[Errno {number}]" in text:
            return words
    return error.strerror or type(error).__name__
