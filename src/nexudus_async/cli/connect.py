"""Where the command line connects: base URL, credentials, network, rate limits.

Options win over environment variables (``NEXUDUS_BASE_URL``,
``NEXUDUS_EMAIL``, ``NEXUDUS_PASSWORD``, ``NEXUDUS_TOKEN``,
``NEXUDUS_CA_BUNDLE``; without ``--proxy``, ``HTTPS_PROXY`` / ``HTTP_PROXY`` /
``NO_PROXY``). Secrets are never printed: :func:`describe` names the scheme,
the user and the proxy's address only.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import aiohttp
import attrs

from .._core.auth import Auth, BasicAuth, BearerToken, PasswordGrant
from .._core.errors import InputError
from .._core.network import Proxy, parse_proxy, proxy_from_env, ssl_context_from_bundle
from .._core.throttle import RateLimits

if TYPE_CHECKING:
    from ..client import NexudusClient

__all__ = [
    "Connection",
    "CredentialsError",
    "add_connection_options",
    "connection_from",
    "published_limits",
]

ENV_BASE_URL = "NEXUDUS_BASE_URL"
ENV_EMAIL = "NEXUDUS_EMAIL"
ENV_PASSWORD = "NEXUDUS_PASSWORD"
ENV_TOKEN = "NEXUDUS_TOKEN"
ENV_CA_BUNDLE = "NEXUDUS_CA_BUNDLE"
DEFAULT_BASE_URL = "https://spaces.nexudus.com"


class CredentialsError(Exception):
    """The options do not say where or as whom to connect."""


@attrs.frozen(repr=False)
class Connection:
    base_url: str
    auth: Auth
    user: str
    insecure_http: bool = False
    """``--insecure-http``: credentials may go over plain http to any host."""
    ca_bundle: str | None = None
    """``--ca-bundle``: the authorities to trust instead of the system's."""
    proxy: Proxy | None = None
    """``--proxy``, or the environment's for the base URL (resolved here, once)."""

    def describe(self) -> str:
        via = f" via proxy {self.proxy.describe()}" if self.proxy is not None else ""
        return f"{self.base_url} as {self.user}{via}"

    def __repr__(self) -> str:  # never show the auth's secrets
        return f"Connection({self.describe()!r})"

    def client(
        self, limits: RateLimits, trace_configs: Sequence[aiohttp.TraceConfig] = ()
    ) -> NexudusClient:
        """A client for this connection under ``limits`` (use it with ``async with``)."""
        from ..client import NexudusClient  # the facade only when a command connects

        return NexudusClient(
            base_url=self.base_url,
            auth=self.auth,
            allow_insecure_http=self.insecure_http,
            rate_limits=limits,
            trace_configs=list(trace_configs) or None,
            ca_bundle=self.ca_bundle,
            proxy=self.proxy,
            trust_env=False,  # connection_from read the environment's proxy already
        )


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


def connection_from(
    args: argparse.Namespace,
    env: Mapping[str, str] | None = None,
    *,
    default_base_url: str | None = None,
    default_email: str | None = None,
    default_password: str | None = None,
) -> Connection:
    """Resolve the connection; raise :class:`CredentialsError` naming what is missing."""
    env = os.environ if env is None else env
    base_url = (
        args.base_url or env.get(ENV_BASE_URL) or default_base_url or DEFAULT_BASE_URL
    ).rstrip("/")
    # The API lives under /api; accept a base URL given with or without it.
    if base_url.endswith("/api"):
        base_url = base_url[: -len("/api")]
    token = args.token or env.get(ENV_TOKEN)
    email = args.email or env.get(ENV_EMAIL) or default_email
    password = args.password or env.get(ENV_PASSWORD) or default_password
    insecure = bool(getattr(args, "insecure_http", False))
    network = _network(args, env, base_url)
    if args.token or (token and not (args.email or args.password)):
        assert token is not None
        return Connection(base_url, BearerToken(token), "a bearer token", insecure, *network)
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
    return Connection(base_url, auth, email, insecure, *network)


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
