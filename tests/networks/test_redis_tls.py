"""The shared limiter over ``rediss://``: a redis-server serving TLS with a certificate of
the tests' authority, trusted through the same CA bundle setting as the API."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
import redis.asyncio

from nexudus_async import LimiterFallbackEvent, RateLimits, RedisRateLimiter
from nexudus_async._core.events import Event
from nexudus_async.testing.tls import ServerCertificate

from ..limiter.redis_server import redis_server_binary

START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers_tls(port: int, ca_file: str) -> bool:
    context = ssl.create_default_context(cafile=ca_file)
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as s,
        ):
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def tls_redis(local_certificate: ServerCertificate, ca_file: str) -> Iterator[int]:
    """A redis-server on 127.0.0.1 speaking only TLS; yields its port."""
    binary = redis_server_binary()
    port = _free_port()
    folder = tempfile.mkdtemp(prefix="nexudus-redis-tls-")
    argv = [binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"]
    argv += ["--tls-cert-file", local_certificate.cert_file]
    argv += ["--tls-key-file", local_certificate.key_file]
    argv += ["--tls-ca-cert-file", ca_file, "--tls-auth-clients", "no"]
    argv += ["--save", "", "--appendonly", "no", "--dir", folder]
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers_tls(port, ca_file):
            if proc.poll() is not None:
                pytest.fail(f"redis-server with TLS exited with {proc.returncode}")
            if time.monotonic() > deadline:
                pytest.fail(f"redis-server with TLS did not answer within {START_TIMEOUT}s")
            time.sleep(0.02)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)


async def test_rediss_with_the_ca_bundle_keeps_the_windows_in_redis(
    tls_redis: int, ca_file: str
) -> None:
    url = f"rediss://127.0.0.1:{tls_redis}/0"
    events: list[Event] = []
    limits = RateLimits.published()
    async with RedisRateLimiter(
        url, limits, account="acct", ca_bundle=ca_file, on_event=events.append
    ) as limiter:
        await limiter.acquire(write=True)
        assert not limiter.using_fallback
    assert events == []
    check = redis.asyncio.Redis.from_url(url, ssl_ca_certs=ca_file)
    try:
        keys = sorted(k.decode() for k in await check.keys("nexudus-async:*"))
    finally:
        await check.aclose()
    assert keys == [
        "nexudus-async:{acct}:all",
        "nexudus-async:{acct}:state",
        "nexudus-async:{acct}:writes",
    ]


async def test_rediss_without_trusting_the_authority_falls_back_in_memory(
    tls_redis: int,
) -> None:
    events: list[Event] = []
    async with RedisRateLimiter(
        f"rediss://127.0.0.1:{tls_redis}/0", account="acct", on_event=events.append
    ) as limiter:
        await limiter.acquire()
        assert limiter.using_fallback
    assert [type(e) for e in events] == [LimiterFallbackEvent]
    assert "certificate verify failed" in str(events[0])


def test_a_ca_bundle_for_a_plain_redis_url_is_refused(ca_file: str) -> None:
    with pytest.raises(ValueError, match=r"ca_bundle applies to a rediss:// \(TLS\) URL"):
        RedisRateLimiter("redis://127.0.0.1:6379/0", ca_bundle=ca_file)
