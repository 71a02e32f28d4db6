"""Configuration from environment variables: where to connect, as whom, and what to log.

The same variables the command line reads. ``NexudusClient()`` reads them for
whatever it is not given; an argument always wins over a variable.
"""

from __future__ import annotations

import logging
import sys
import urllib.parse
from collections.abc import Mapping

from .auth import Auth, BearerToken, PasswordGrant
from .errors import InputError

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_BASE_URL",
    "ENV_EMAIL",
    "ENV_LOG",
    "ENV_PASSWORD",
    "ENV_TOKEN",
    "auth_from_environment",
    "logging_from_environment",
]

DEFAULT_BASE_URL = "https://spaces.nexudus.com"
"""The live API (paths start with ``/api``): where a client or command connects unless told."""
ENV_BASE_URL = "NEXUDUS_BASE_URL"
ENV_EMAIL = "NEXUDUS_EMAIL"
ENV_PASSWORD = "NEXUDUS_PASSWORD"
ENV_TOKEN = "NEXUDUS_TOKEN"
ENV_LOG = "NEXUDUS_LOG"

_LEVELS = {"info": logging.INFO, "debug": logging.DEBUG}


def auth_from_environment(env: Mapping[str, str]) -> Auth:
    """``NEXUDUS_TOKEN`` (a bearer token), else ``NEXUDUS_EMAIL`` + ``NEXUDUS_PASSWORD``
    (a password grant); :class:`InputError` naming the variables when neither is set."""
    token = env.get(ENV_TOKEN, "").strip()
    if token:
        return BearerToken(token)
    email = env.get(ENV_EMAIL, "").strip()
    password = env.get(ENV_PASSWORD, "")
    if email and password:
        return PasswordGrant(email, password)
    missing = " and ".join(
        name for name, v in ((ENV_EMAIL, email), (ENV_PASSWORD, password)) if not v
    )
    raise InputError(
        "auth",
        None,
        f"no credentials: pass auth=PasswordGrant(email, password), or set {missing}"
        f" (a password grant) or {ENV_TOKEN} (a bearer token)",
    )


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``NEXUDUS_LOG`` adds (one, however many clients are made)."""


def logging_from_environment(env: Mapping[str, str]) -> None:
    """``NEXUDUS_LOG=info|debug``: the ``nexudus_async`` logger's records go to stderr.

    Like ``OPENAI_LOG``: no code needed. Unset or empty changes nothing. The
    records never hold credentials (the pipeline redacts them), so neither does
    the output.
    """
    value = env.get(ENV_LOG, "").strip().lower()
    if not value:
        return
    level = _LEVELS.get(value)
    if level is None:
        raise InputError(ENV_LOG, env[ENV_LOG], "must be info or debug (or unset)")
    logger = logging.getLogger("nexudus_async")
    logger.setLevel(level)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


def normalize_base_url(base_url: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing ``/`` or ``/api``."""
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a string, not {type(base_url).__name__}")
    try:
        parts = urllib.parse.urlsplit(base_url.strip())
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:  # "Invalid IPv6 URL", "Port could not be cast ..."
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in base_url.strip())
    ):
        raise ValueError(f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}")
    if parts.username or parts.password:
        raise ValueError("base_url must not contain credentials; pass auth= instead")
    if parts.query or parts.fragment:
        raise ValueError("base_url must not have a query string or fragment")
    path = parts.path.rstrip("/")
    if path.lower().endswith("/api"):
        path = path[: -len("/api")]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))
