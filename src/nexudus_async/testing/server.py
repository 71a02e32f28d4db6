"""Starting and controlling an emulator: in-process (tests) or standalone (``serve``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import attrs

from .admin import is_loopback
from .app import build_app
from .appserver import AppServer, base_url
from .config import FULL_ADMIN_ROLE, EmulatorConfig, FaultRule, ThrottleLimits, UserSpec
from .state import EmulatorState
from .stats import Stats
from .store import Store
from .tls import ServerCertificate

__all__ = ["EmulatorServer", "run_emulator", "serve"]


class EmulatorServer:
    """A running (or startable) emulator and its control API.

    The control API goes straight to the emulator's state, without HTTP or
    auth: ``store`` (count, all, get, insert), ``stats``, ``reset()``,
    ``set_faults()``, ``set_limits()``, ``set_time_scale()``, ``add_user()``,
    ``expire_tokens()``. Over HTTP the same is under ``/_emulator/`` (admin.py).

    With ``tls=`` (a :class:`~nexudus_async.testing.tls.ServerCertificate`) it
    serves ``https://``; ``ca_bundle`` is then the authority clients must trust.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        tls: ServerCertificate | None = None,
        **overrides: Any,
    ) -> None:
        config = config or EmulatorConfig()
        if overrides:
            config = attrs.evolve(config, **overrides)
        self.config = config
        self.tls = tls
        self._state = EmulatorState(config)
        self._server: AppServer | None = None
        self._port: int | None = None  # kept after stop(): base_url still names it

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> EmulatorServer:
        if self._server is not None:
            return self
        if not self.config.admin_token and not is_loopback(self.config.host):
            raise ValueError(
                f"refusing to listen on {self.config.host!r} without an admin token: "
                "anyone who can reach it could control the emulator (admin_token=...)"
            )
        context = self.tls.server_context() if self.tls is not None else None
        server = AppServer(
            build_app(self._state), self.config.host, self.config.port, ssl_context=context
        )
        self._port = (await server.start()).port
        self._server = server
        return self

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop()

    async def __aenter__(self) -> EmulatorServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not running")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` with TLS); API paths are ``/api/token``
        and ``/api/billing/...``."""
        return base_url(self.config.host, self.port, tls=self.tls is not None)

    @property
    def ca_bundle(self) -> str | None:
        """With TLS, the file of the authority that signed the certificate (if known)."""
        return self.tls.ca_file if self.tls is not None else None

    @property
    def token_url(self) -> str:
        return self.base_url + "/api/token"

    # ------------------------------------------------------ control and look
    @property
    def store(self) -> Store:
        return self._state.store

    @property
    def stats(self) -> Stats:
        return self._state.stats

    @property
    def limits(self) -> ThrottleLimits:
        return self._state.throttle.limits

    @property
    def faults(self) -> tuple[FaultRule, ...]:
        return self._state.faults.rules

    def reset(self) -> None:
        """Back to the configuration: empty store, default users, no tokens, fresh stats,
        throttle history and configured faults (RNG reseeded)."""
        self._state.reset()

    def set_faults(self, rules: Iterable[FaultRule]) -> None:
        """Replace the fault rules (``[]`` removes them all)."""
        self._state.faults.set_rules(rules)

    def set_limits(self, limits: ThrottleLimits) -> None:
        self._state.throttle.set_limits(limits)

    def set_settings(self, **settings: Any) -> None:
        """Change account settings from now on (``dir_encoding``, ``range_precision``,
        and the rest of :data:`~nexudus_async.testing.profile.SETTINGS`); ``reset()``
        restores the configured ones."""
        self._state.set_settings(**settings)

    def set_time_scale(self, time_scale: float) -> None:
        """Scale throttle windows and new tokens' lifetime from now on (reset() restores it)."""
        if not time_scale > 0:
            raise ValueError("time_scale must be positive")
        self._state.set_time_scale(time_scale)

    def add_user(
        self,
        email: str,
        password: str,
        roles: Iterable[str] = (FULL_ADMIN_ROLE,),
        *,
        totp: str | None = None,
    ) -> None:
        """Add (or replace) a user. Roles are ``CoworkerTimePass-List`` and so on;
        ``"Administrator"`` (the default) is a full unrestricted administrator."""
        self._state.auth.add_user(UserSpec(email, password, tuple(roles), totp))

    def expire_tokens(self) -> None:
        """Expire every access token now (refresh tokens keep working)."""
        self._state.auth.expire_tokens()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "not running"
        return f"<EmulatorServer {where}>"


@contextlib.asynccontextmanager
async def run_emulator(
    config: EmulatorConfig | None = None,
    *,
    tls: ServerCertificate | None = None,
    **overrides: Any,
) -> AsyncIterator[EmulatorServer]:
    """Run an emulator on 127.0.0.1 (ephemeral port unless configured) for the block."""
    server = EmulatorServer(config, tls=tls, **overrides)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def serve(
    config: EmulatorConfig | None = None,
    *,
    ready: Any = None,
    stop: asyncio.Event | None = None,
    tls: ServerCertificate | None = None,
) -> None:
    """Run an emulator until ``stop`` is set (or the task is cancelled).

    ``ready(server)`` is called once it listens: the CLI prints the URL there.
    """
    async with run_emulator(config, tls=tls) as server:
        if ready is not None:
            ready(server)
        if stop is None:
            stop = asyncio.Event()
        await stop.wait()
