"""Serve one aiohttp application on a host and port (the emulator, the recording proxy
and replay)."""

from __future__ import annotations

import ssl

from aiohttp import web

__all__ = ["AppServer", "base_url"]

_MAX_LINE = 1 << 20  # long query strings (id lookups) get an answer, not a protocol error


def base_url(host: str, port: int, *, tls: bool = False) -> str:
    """``http://HOST:PORT`` (``https://`` with TLS), an IPv6 address in brackets."""
    host = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{host}:{port}"


class AppServer:
    """``await start()`` / ``await stop()`` (or ``async with``); ``base_url`` once listening."""

    def __init__(
        self,
        app: web.Application,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self._port = port
        self._ssl_context = ssl_context
        self._runner: web.AppRunner | None = None

    async def start(self) -> AppServer:
        if self._runner is not None:
            return self
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            max_line_size=_MAX_LINE,
            max_field_size=_MAX_LINE,
        )
        await runner.setup()
        try:
            site = web.TCPSite(
                runner, self.host, self._port, reuse_address=True, ssl_context=self._ssl_context
            )
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = int(runner.addresses[0][1])
        self._runner = runner
        return self

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> AppServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._runner is None:
            raise RuntimeError("not running")
        return self._port

    @property
    def base_url(self) -> str:
        return base_url(self.host, self.port, tls=self._ssl_context is not None)
