"""A failure to connect in the user's words (``reach_problem``), checked in-process.

The command line prints these texts (its tests run it in a subprocess); here each
reason, the walk along the causes and its bound are pinned to exact text.
"""

from __future__ import annotations

import errno
import socket

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from nexudus_async._core.transport import SendError, reach_problem


def _connector(error: OSError, host: str = "api.example.test", port: int = 8443) -> Exception:
    key = ConnectionKey(host, port, True, True, None, None, None, None)
    return aiohttp.ClientConnectorError(key, error)


def _chained(exc: BaseException, depth: int) -> BaseException:
    """``exc`` as the cause of a chain of ``depth`` errors above it."""
    top = exc
    for n in range(depth):
        above = RuntimeError(f"wrapper {n}")
        above.__cause__ = top
        top = above
    return top


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (OSError(errno.ECONNREFUSED, "Connect call failed"), "connection refused"),
        (OSError(errno.ENETUNREACH, "x"), "network unreachable"),
        (OSError(errno.EHOSTUNREACH, "x"), "no route to host"),
        (OSError(errno.ETIMEDOUT, "x"), "timed out"),
        (OSError(errno.ECONNRESET, "x"), "connection reset"),
        (socket.gaierror(-2, "Name or service not known"), "the host name does not resolve"),
        (TimeoutError(), "timed out"),
        (
            OSError(
                "Multiple exceptions: [Errno 111] Connect call failed ('::1', 9), "
                "[Errno 111] Connect call failed ('127.0.0.1', 9)"
            ),
            "connection refused",
        ),
        (OSError("Multiple exceptions: [Errno 113] a, [Errno 113] b"), "no route to host"),
        (OSError(errno.EACCES, "Permission denied"), "Permission denied"),
        (OSError("no number in it"), "OSError"),
        (ConnectionAbortedError(), "ConnectionAbortedError"),
    ],
)
def test_each_reason_to_be_unreachable_in_words(error: OSError, why: str) -> None:
    assert reach_problem(_connector(error)) == f"cannot reach api.example.test:8443 ({why})"


def test_a_connect_timeout_names_no_host() -> None:
    exc = aiohttp.ConnectionTimeoutError("Connection timeout to host https://h/")
    assert reach_problem(exc) == "cannot reach the API (connecting timed out)"


def test_the_failure_is_found_among_the_causes_of_what_the_caller_caught() -> None:
    refused = _connector(OSError(errno.ECONNREFUSED, "x"), host="127.0.0.1", port=9)
    sent = SendError(refused)
    sent.__cause__ = refused
    assert reach_problem(sent) == "cannot reach 127.0.0.1:9 (connection refused)"
    assert reach_problem(_chained(refused, 3)) == "cannot reach 127.0.0.1:9 (connection refused)"


def test_errors_that_are_no_failure_to_connect_have_no_reach_problem() -> None:
    assert reach_problem(RuntimeError("boom")) is None
    assert reach_problem(_chained(ValueError("deep"), 2)) is None
    assert reach_problem(aiohttp.ServerDisconnectedError()) is None


def test_the_walk_along_the_causes_stops_after_eight() -> None:
    timeout = aiohttp.ConnectionTimeoutError("t")
    assert reach_problem(_chained(timeout, 7)) == "cannot reach the API (connecting timed out)"
    assert reach_problem(_chained(timeout, 8)) is None
