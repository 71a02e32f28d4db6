"""A small HTTP proxy on 127.0.0.1 for the tests: CONNECT tunnels and plain forwarding.

It records what it was asked (method, target, the Proxy-Authorization it got),
can require credentials (407 otherwise), and maps host names to 127.0.0.1
(``hosts={"nexudus.test": "127.0.0.1"}``), so a client can name a host only
the proxy can resolve: a request that reaches it went through the proxy. It
never connects beyond loopback.

:class:`TcpRelay` forwards bytes to one port and counts connections: how many
attempts a client made, whatever they carried (a TLS handshake that failed).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import urllib.parse
from collections.abc import Mapping

import attrs

_TIMEOUT = 10.0
_LOOPBACK = "127.0.0.1"


@attrs.frozen
class Seen:
    method: str
    target: str
    proxy_authorization: str | None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()


async def _join(
    client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    """Copy both ways until either side closes, then close both."""
    tasks = [
        asyncio.ensure_future(_pipe(client[0], upstream[1])),
        asyncio.ensure_future(_pipe(upstream[0], client[1])),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for _, writer in (client, upstream):
            writer.close()  # the other pipe then reads its end too
        await asyncio.gather(*tasks, return_exceptions=True)


class _Server:
    """A loopback server whose :meth:`stop` closes every connection it holds, then waits
    for its handlers to end (closing, not cancelling: each handler closes what it opened)."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._track, _LOOPBACK, 0)

    def held(self, writer: asyncio.StreamWriter) -> asyncio.StreamWriter:
        """Remember ``writer`` so that :meth:`stop` closes it."""
        self._writers.add(writer)
        return writer

    async def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.held(writer)
        try:
            await self.handle(reader, writer)
        finally:
            self._handlers.discard(task)
            writer.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def open(
        self, address: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), _TIMEOUT)
        return reader, self.held(writer)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for _ in range(3):  # let connections accepted just now start their handlers
            await asyncio.sleep(0)
        for writer in self._writers:
            writer.close()
        await asyncio.wait_for(asyncio.gather(*self._handlers), _TIMEOUT)
        for writer in self._writers:
            with contextlib.suppress(OSError):
                await asyncio.wait_for(writer.wait_closed(), _TIMEOUT)
        await server.wait_closed()


class LoopbackProxy(_Server):
    """``url`` is ``http://127.0.0.1:PORT``; ``seen`` what it was asked, in order."""

    def __init__(
        self,
        *,
        hosts: Mapping[str, str] | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.hosts = dict(hosts or {})
        self.credentials = credentials
        self.seen: list[Seen] = []

    @property
    def url(self) -> str:
        return f"http://{_LOOPBACK}:{self.port}"

    def _expected_auth(self) -> str | None:
        if self.credentials is None:
            return None
        user, password = self.credentials
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def _resolve(self, host: str) -> str | None:
        host = self.hosts.get(host, host)
        return host if host in (_LOOPBACK, "localhost") else None  # never beyond loopback

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _TIMEOUT)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            return
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
        headers = [tuple(h.split(":", 1)) for h in lines if ":" in h]
        auth = next((v.strip() for k, v in headers if k.lower() == "proxy-authorization"), None)
        self.seen.append(Seen(method, target, auth))
        if self.credentials is not None and auth != self._expected_auth():
            writer.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n'
                b"Connection: close\r\n\r\n"
            )
            await writer.drain()
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            await self._tunnel(reader, writer, host, int(port))
        else:
            await self._forward(reader, writer, method, target, version, headers)

    async def _open(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        address = self._resolve(host)
        if address is None:
            raise OSError(f"{host} is not a host this proxy reaches")
        return await self.open(address, port)

    async def _tunnel(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
    ) -> None:
        try:
            upstream = await self._open(host, port)
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await _join((reader, writer), upstream)

    async def _forward(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        method: str,
        target: str,
        version: str,
        headers: list[tuple[str, ...]],
    ) -> None:
        """A plain-http request in absolute form: sent on as one request, then closed."""
        url = urllib.parse.urlsplit(target)
        try:
            upstream = await self._open(url.hostname or "", url.port or 80)
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        kept = [
            f"{k}:{v}"
            for k, v in headers
            if not k.lower().startswith("proxy-") and k.lower() != "connection"
        ]
        head = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""])
        upstream[1].write(head.encode("latin-1"))
        await _join((reader, writer), upstream)


class TcpRelay(_Server):
    """Forwards every connection to ``127.0.0.1:target_port``; counts them."""

    def __init__(self, target_port: int) -> None:
        super().__init__()
        self.target_port = target_port
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await _join((reader, writer), await self.open(_LOOPBACK, self.target_port))
