"""Where the command line connects: base URL, credentials, network, rate limits.

Options win over environment variables (``NEXUDUS_BASE_URL``,
``NEXUDUS_EMAIL``, ``NEXUDUS_PASSWORD``, ``NEXUDUS_TOKEN``,
``NEXUDUS_REDIS_URL``, ``NEXUDUS_CA_BUNDLE``; without ``--proxy``,
``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY``). Secrets are never printed:
:func:`describe` names the scheme, the user and the proxy's address only, and
a Redis URL (which may hold a password) is never echoed.

The account's limits are shared: by default every process of this machine
on one account keeps one budget in a local store
(:class:`~nexudus_async._core.local_limiter.LocalRateLimiter`);
``--redis-url`` shares it across machines
(:class:`~nexudus_async._core.redis_limiter.RedisRateLimiter`);
``--limits private`` keeps it to this process.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs

from .._core.auth import Auth, BasicAuth, BearerToken, PasswordGrant
from .._core.environment import (
    DEFAULT_BASE_URL,
    ENV_BASE_URL,
    ENV_EMAIL,
    ENV_PASSWORD,
    ENV_TOKEN,
    normalize_base_url,
)
from .._core.errors import InputError
from .._core.limiter import account_key
from .._core.local_limiter import (
    ENV_STATE_DIR,
    LimiterStoreError,
    LocalRateLimiter,
    shared_spending,
    state_directory,
)
from .._core.network import Proxy, parse_proxy, proxy_from_env, ssl_context_from_bundle
from .._core.throttle import RateLimits
from .._core.transport import TraceConfig

if TYPE_CHECKING:
    from .._core.redis_limiter import RedisRateLimiter
    from ..client import NexudusClient

__all__ = [
    "Connection",
    "CredentialsError",
    "add_connection_options",
    "connection_from",
    "published_limits",
]

ENV_REDIS_URL = "NEXUDUS_REDIS_URL"
ENV_CA_BUNDLE = "NEXUDUS_CA_BUNDLE"


class CredentialsError(Exception):
    """The options do not say where or as whom to connect, or how to share the limits."""


Sharing = Literal["local", "redis", "private"]


@attrs.frozen(repr=False)
class Connection:
    base_url: str
    auth: Auth
    user: str
    insecure_http: bool = False
    """``--insecure-http``: credentials may go over plain http to any host."""
    sharing: Sharing = "private"
    """How the account's limits are shared: ``local`` (every process of this
    machine, the command line's default), ``redis`` (every host), ``private``."""
    redis_url: str | None = None
    """With ``sharing="redis"`` (may hold a password: never printed)."""
    state_dir: str | None = None
    """With ``sharing="local"``: where the store lives (None: :func:`state_directory`)."""
    ca_bundle: str | None = None
    """``--ca-bundle``: the authorities to trust instead of the system's."""
    proxy: Proxy | None = None
    """``--proxy``, or the environment's for the base URL (resolved here, once)."""

    def describe(self) -> str:
        via = f" via proxy {self.proxy.describe()}" if self.proxy is not None else ""
        return f"{self.base_url} as {self.user}{via}"

    def __repr__(self) -> str:  # never show the auth's secrets
        return f"Connection({self.describe()!r})"

    @contextlib.asynccontextmanager
    async def client(
        self, limits: RateLimits, trace_configs: Sequence[TraceConfig] = ()
    ) -> AsyncIterator[NexudusClient]:
        """A client for this connection under ``limits``, shared as :attr:`sharing` says
        (``async with conn.client(limits) as client``)."""
        from ..client import NexudusClient  # the facade only when a command connects

        limiter = self._limiter(limits)
        try:
            async with NexudusClient(
                base_url=self.base_url,
                auth=self.auth,
                allow_insecure_http=self.insecure_http,
                ca_bundle=self.ca_bundle,
                proxy=self.proxy,
                trust_env=False,  # connection_from read the environment's proxy already
                **({"rate_limits": limits} if limiter is None else {"rate_limiter": limiter}),
                trace_configs=list(trace_configs) or None,
            ) as client:
                yield client
        finally:
            if limiter is not None:
                await limiter.aclose()

    def _limiter(self, limits: RateLimits) -> LocalRateLimiter | RedisRateLimiter | None:
        if self.sharing == "redis":
            from .._core.redis_limiter import RedisRateLimiter

            assert self.redis_url is not None
            return RedisRateLimiter(self.redis_url, limits, ca_bundle=self.ca_bundle)
        if self.sharing == "local":
            return LocalRateLimiter(limits, directory=self.state_dir)
        return None

    @property
    def account(self) -> str:
        """The non-secret key of the account (what a shared limiter's state is named by)."""
        return account_key(self.base_url, self.auth.user())

    def spent(self, limits: RateLimits) -> tuple[list[float], list[float]]:
        """What jobs of this machine spent of the account's windows (reads, writes; seconds
        before now), read from the local store without recording; nothing otherwise."""
        if self.sharing != "local":
            return [], []
        where = None if self.state_dir is None else Path(self.state_dir)
        try:
            return shared_spending(limits, self.account, directory=where)
        except LimiterStoreError:
            return [], []  # an estimate only: the import itself reports an unusable store


def published_limits(time_scale: float = 1.0) -> RateLimits:
    """The published rate limits, on the emulator's clock when ``time_scale`` is not 1."""
    limits = RateLimits.published()
    return limits if time_scale == 1.0 else limits.scaled(time_scale)


def add_connection_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection (options override environment variables)")
    g.add_argument(
        "--base-url",
        metavar="URL",
        help=f"API base URL (env {ENV_BASE_URL}; default {DEFAULT_BASE_URL})",
    )
    g.add_argument("--email", metavar="EMAIL", help=f"user email (env {ENV_EMAIL})")
    g.add_argument(
        "--password",
        metavar="PASSWORD",
        help=f"password (env {ENV_PASSWORD}; prefer the variable: options show in `ps`)",
    )
    g.add_argument(
        "--token",
        metavar="TOKEN",
        help=f"bearer access token instead of email and password (env {ENV_TOKEN})",
    )
    g.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow plain http:// to a host other than this machine (a docker-compose "
        "emulator); credentials then cross the network unencrypted",
    )
    g.add_argument(
        "--auth",
        choices=("token", "basic"),
        default="token",
        help="with email and password: get a bearer token (default) or use HTTP Basic",
    )
    g.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help="PEM file of the certificate authorities to trust instead of the system's "
        f"(a company network's own; env {ENV_CA_BUNDLE})",
    )
    g.add_argument(
        "--proxy",
        metavar="URL",
        help="send requests through this proxy: http://[user:password@]host:port "
        "(default: HTTPS_PROXY / HTTP_PROXY, except the hosts in NO_PROXY; prefer the "
        "variables for a password: options show in `ps`)",
    )
    _add_limit_options(p)


def _add_limit_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rate limits (the account's, shared)")
    g.add_argument(
        "--limits",
        choices=("shared", "private"),
        default=None,
        help="shared (default): every nexudus-async process of this machine on the account "
        f"keeps one budget, in a file under the state directory (env {ENV_STATE_DIR}; "
        "default $XDG_STATE_HOME/nexudus-async); private: this process keeps the limits "
        "to itself",
    )
    g.add_argument(
        "--redis-url",
        metavar="URL",
        help=f"share the budget through Redis with every host (env {ENV_REDIS_URL}; "
        "needs pip install 'nexudus-async[redis]')",
    )


def _check_base_url(url: str, source: str) -> None:
    """One line naming where a base URL that is not one came from; its credentials unshown."""
    try:
        normalize_base_url(url)
    except ValueError as exc:
        shown = "(not shown: it holds credentials)" if "@" in url else repr(url)
        raise CredentialsError(f"{source} {shown}: {exc}") from None


def connection_from(
    args: argparse.Namespace,
    env: Mapping[str, str] | None = None,
    *,
    default_base_url: str | None = None,
    default_email: str | None = None,
    default_password: str | None = None,
    default_limits: Literal["shared", "private"] = "shared",
) -> Connection:
    """Resolve the connection; raise :class:`CredentialsError` naming what is missing.

    ``default_limits``: without ``--limits`` or a Redis URL, share the limits
    through the local store or keep them private (an in-process emulator).
    """
    env = os.environ if env is None else env
    base_url = (
        args.base_url or env.get(ENV_BASE_URL) or default_base_url or DEFAULT_BASE_URL
    ).rstrip("/")
    # The API lives under /api; accept a base URL given with or without it.
    if base_url.endswith("/api"):
        base_url = base_url[: -len("/api")]
    _check_base_url(base_url, "--base-url" if args.base_url else ENV_BASE_URL)
    token = args.token or env.get(ENV_TOKEN)
    email = args.email or env.get(ENV_EMAIL) or default_email
    password = args.password or env.get(ENV_PASSWORD) or default_password
    insecure = bool(getattr(args, "insecure_http", False))
    sharing = _sharing_from(args, env, default_limits)
    network = _network(args, env, base_url)
    if args.token or (token and not (args.email or args.password)):
        assert token is not None
        return Connection(
            base_url, BearerToken(token), "a bearer token", insecure, *sharing, *network
        )
    if not email or not password:
        missing = [
            name for name, value in ((ENV_EMAIL, email), (ENV_PASSWORD, password)) if not value
        ]
        raise CredentialsError(
            "no credentials: set "
            + " and ".join(missing)
            + f" (or --email/--password), or {ENV_TOKEN} (or --token)"
        )
    auth: Auth = (
        BasicAuth(email, password) if args.auth == "basic" else PasswordGrant(email, password)
    )
    return Connection(base_url, auth, email, insecure, *sharing, *network)


def _sharing_from(
    args: argparse.Namespace, env: Mapping[str, str], default: str
) -> tuple[Sharing, str | None, str | None]:
    """``--limits`` / ``--redis-url`` / ``NEXUDUS_REDIS_URL``, checked before anything is sent."""
    choice = getattr(args, "limits", None) or default
    option_url = getattr(args, "redis_url", None)
    if choice == "private":
        if option_url:
            raise CredentialsError("--limits private and --redis-url contradict each other")
        return "private", None, None
    url = option_url or env.get(ENV_REDIS_URL)
    if url:
        where = "--redis-url" if option_url else ENV_REDIS_URL
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme not in ("redis", "rediss", "unix"):
            # the URL itself may hold a password: name the scheme only
            raise CredentialsError(
                f"{where} must be a redis://, rediss:// or unix:// URL (got "
                + (f"scheme {scheme!r})" if scheme else "no scheme)")
            )
        try:
            import redis.asyncio  # noqa: F401 - only whether the extra is installed
        except ImportError:
            raise CredentialsError(
                f"{where} needs the redis extra: pip install 'nexudus-async[redis]'"
            ) from None
        return "redis", url, None
    state_dir = state_directory(env)
    try:
        LocalRateLimiter.check_directory(state_dir)
    except LimiterStoreError as exc:
        raise CredentialsError(
            f"{exc}; set {ENV_STATE_DIR} to a writable directory, or pass --limits private"
        ) from None
    return "local", None, str(state_dir)


def _network(
    args: argparse.Namespace, env: Mapping[str, str], base_url: str
) -> tuple[str | None, Proxy | None]:
    """The CA bundle (checked now: a bad file is one line before anything is sent) and the
    proxy; CredentialsError names the option or variable that is wrong."""
    option = getattr(args, "ca_bundle", None)
    ca_bundle = option or env.get(ENV_CA_BUNDLE) or None
    proxy_option = getattr(args, "proxy", None)
    try:
        if ca_bundle is not None:
            ssl_context_from_bundle(ca_bundle, field="--ca-bundle" if option else ENV_CA_BUNDLE)
        proxy = (
            parse_proxy(proxy_option, field="--proxy")
            if proxy_option
            else proxy_from_env(base_url, env)
        )
    except InputError as exc:
        raise CredentialsError(exc.message) from None
    return ca_bundle, proxy
