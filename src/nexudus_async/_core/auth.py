"""How the client proves who it is: HTTP Basic, a fixed bearer token, or the password grant.

The password grant (:class:`PasswordGrant`) gets a token from ``POST
/api/token`` (form-encoded), renews it with the refresh token shortly before
it expires, and again when the API answers 401. However many requests wait
for a new token, only one token request is in flight; the others wait for it
and reuse its answer.

Credentials never appear in ``repr()``, in logs or in error messages: each
auth object knows its secrets and :meth:`Auth.redact` scrubs them from any
text the client is about to show.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from .errors import (
    AuthenticationError,
    MalformedResponseError,
    ValidationError,
)
from .transport import HttpRequest, HttpResponse, loads

__all__ = ["TOKEN_PATH", "Auth", "BasicAuth", "BearerToken", "PasswordGrant", "cached_reader"]

TOKEN_PATH = "/api/token"
"""The token endpoint (it needs no authentication itself)."""

SendUnauthenticated = Callable[[HttpRequest], Awaitable[HttpResponse]]
"""Sends a request through the client's limiter and retries, without auth."""

_REDACTED = "***"


def _encodings(secret: str) -> set[str]:
    """``secret`` as it may appear in a message, a log line or an echoed body."""
    forms = {secret, json.dumps(secret, ensure_ascii=False)[1:-1], json.dumps(secret)[1:-1]}
    for encoded in (
        urllib.parse.quote_plus(secret, safe=""),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret),
    ):
        forms.add(encoded)
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded))
    return forms


class Auth:
    """Base class of the client's authentication schemes.

    Subclasses implement :meth:`authorization`; schemes that can renew their
    credentials also implement :meth:`renew_after_unauthorized`.
    """

    __slots__ = ()

    async def authorization(self, send: SendUnauthenticated) -> tuple[str, object]:
        """The ``Authorization`` header value to send, and a marker of the credentials used.

        ``send`` sends a request without credentials (for token requests).
        """
        raise NotImplementedError

    def cached_authorization(self) -> tuple[str, object] | None:
        """What :meth:`authorization` would answer, if it can say so without a request.

        The pipeline reads the credentials again after the limiter wait, so a
        long queue never sends an expired token; None means they must be
        renewed first. A subclass that does not override it keeps the value
        :meth:`authorization` gave before the wait.
        """
        return None

    async def renew_after_unauthorized(self, marker: object, send: SendUnauthenticated) -> bool:
        """The API answered 401 to credentials ``marker``: renew them if possible.

        Returns True when resending the request is worthwhile.
        """
        return False

    def user(self) -> str | None:
        """Who the credentials belong to (an email; never a secret), if known.

        Names the account whose limits a shared rate limiter keeps.
        """
        return None

    def secrets(self) -> tuple[str, ...]:
        """Every secret this object holds (to be scrubbed from shown text)."""
        return ()

    def redact(self, text: str) -> str:
        """``text`` with every secret of this object replaced by ``***``.

        In every form a secret travels in: as is, URL-encoded (a token
        endpoint may echo the form body: ``password=Pw%21x``, either case of
        hex digits, ``+`` or ``%20`` for a space) and JSON-escaped.
        """
        forms = {f for secret in self.secrets() if secret for f in _encodings(secret)}
        for form in sorted(forms, key=len, reverse=True):
            if len(form) >= 3:
                text = text.replace(form, _REDACTED)
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<credentials hidden>)"


def cached_reader(auth: Auth | None) -> Callable[[], tuple[str, object] | None] | None:
    """``auth.cached_authorization``, or None for an Auth that cannot tell without awaiting
    (one that does not override it): its callers then await :meth:`Auth.authorization`."""
    if auth is None or type(auth).cached_authorization is Auth.cached_authorization:
        return None
    return auth.cached_authorization


class BasicAuth(Auth):
    """HTTP Basic with the user's email and password (each request carries them).

    Prefer :class:`PasswordGrant` (bearer tokens), which the vendor recommends.
    """

    __slots__ = ("__email", "__header", "__password")

    def __init__(self, email: str, password: str) -> None:
        if not email or not password:
            raise ValueError("BasicAuth needs a non-empty email and password")
        self.__email = email
        self.__password = password
        token = base64.b64encode(f"{email}:{password}".encode()).decode("ascii")
        self.__header = f"Basic {token}"

    async def authorization(self, send: SendUnauthenticated) -> tuple[str, object]:
        return self.__header, None

    def cached_authorization(self) -> tuple[str, object] | None:
        return self.__header, None

    def user(self) -> str:
        return self.__email

    def secrets(self) -> tuple[str, ...]:
        return (self.__password, self.__header, self.__header.split(" ", 1)[1])


class BearerToken(Auth):
    """A fixed access token (from ``POST /api/token`` or elsewhere); never renewed."""

    __slots__ = ("__token",)

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("BearerToken needs a non-empty token")
        self.__token = token

    async def authorization(self, send: SendUnauthenticated) -> tuple[str, object]:
        return f"Bearer {self.__token}", None

    def cached_authorization(self) -> tuple[str, object] | None:
        return f"Bearer {self.__token}", None

    def secrets(self) -> tuple[str, ...]:
        return (self.__token,)


class PasswordGrant(Auth):
    """Bearer tokens from the user's email and password (OAuth2 password grant).

    The first request gets a token; it is renewed with the refresh token once
    less than ``refresh_margin`` seconds (at most a tenth of its lifetime) are
    left, and when the API answers 401 (the request is then resent once). If
    the refresh token is refused, the password grant runs again.

    Args:
        email: The user's email.
        password: The user's password.
        totp: The six-digit code, for users with two-factor authentication: a
            string, or a function returning the current code (a code is only
            valid for a short time, and renewals may need a fresh one).
        refresh_margin: Renew this many seconds before the token expires.
        clock: Monotonic clock in seconds (injectable for tests).
    """

    __slots__ = (
        "__access",
        "__email",
        "__old",
        "__password",
        "__refresh",
        "__totp",
        "_clock",
        "_expires_at",
        "_generation",
        "_margin",
        "_renewal",
        "token_requests",
    )

    def __init__(
        self,
        email: str,
        password: str,
        totp: str | Callable[[], str] | None = None,
        *,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not email or not password:
            raise ValueError("PasswordGrant needs a non-empty email and password")
        self.__email = email
        self.__password = password
        self.__totp = totp
        self.__access: str | None = None
        self.__refresh: str | None = None
        self.__old: tuple[str, ...] = ()
        self._margin = refresh_margin
        self._clock = clock
        self._expires_at = -1.0
        self._generation = 0
        self._renewal: asyncio.Task[None] | None = None
        self.token_requests = 0
        """How many token requests were sent (for tests and diagnostics)."""

    def secrets(self) -> tuple[str, ...]:
        out = [self.__password, *self.__old]
        if isinstance(self.__totp, str):
            out.append(self.__totp)
        if self.__access:
            out.append(self.__access)
        if self.__refresh:
            out.append(self.__refresh)
        return tuple(out)

    def _fresh(self) -> bool:
        return self.__access is not None and self._clock() < self._expires_at

    async def authorization(self, send: SendUnauthenticated) -> tuple[str, object]:
        if not self._fresh():
            await self._renew(self._generation, send)
        token = self.__access
        assert token is not None
        return f"Bearer {token}", self._generation

    def cached_authorization(self) -> tuple[str, object] | None:
        if not self._fresh():
            return None
        return f"Bearer {self.__access}", self._generation

    def user(self) -> str:
        return self.__email

    async def renew_after_unauthorized(self, marker: object, send: SendUnauthenticated) -> bool:
        if not isinstance(marker, int):
            return False
        await self._renew(marker, send)
        return True

    async def _renew(self, stale_generation: int, send: SendUnauthenticated) -> None:
        # Somebody else renewed since this caller's token was issued: use theirs.
        if self._generation != stale_generation and self._fresh():
            return
        renewal = self._renewal
        if renewal is None or renewal.done():
            renewal = asyncio.get_running_loop().create_task(self._fetch_token(send))
            renewal.add_done_callback(_retrieve)
            self._renewal = renewal
        # One token request for everybody waiting, and it is not theirs to cancel:
        # a caller whose timeout runs out leaves, the request goes on for the others
        # (cancelling it with each leaving caller, under short timeouts nobody would
        # ever get a token).
        await asyncio.shield(renewal)

    async def _fetch_token(self, send: SendUnauthenticated) -> None:
        answer: dict[str, Any] | None = None
        if self.__refresh is not None:
            try:
                answer = await self._token_request(
                    {"grant_type": "refresh_token", "refresh_token": self.__refresh}, send
                )
            except (AuthenticationError, ValidationError):
                answer = None  # the refresh token was refused: log in again
        if answer is None:
            fields = {
                "grant_type": "password",
                "username": self.__email,
                "password": self.__password,
            }
            if self.__totp is not None:
                fields["totp"] = self.__totp() if callable(self.__totp) else self.__totp
            answer = await self._token_request(fields, send)
        self._store(answer)

    def _store(self, answer: dict[str, Any]) -> None:
        access = answer.get("access_token")
        if not isinstance(access, str) or not access:
            raise MalformedResponseError(
                "the token answer has no access_token", method="POST", path=TOKEN_PATH, status=200
            )
        lifetime = answer.get("expires_in")
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
            lifetime = 3600.0
        refresh = answer.get("refresh_token")
        old = [t for t in (self.__access, self.__refresh) if t]
        self.__old = (*self.__old[-8:], *old)
        self.__access = access
        if isinstance(refresh, str) and refresh:
            self.__refresh = refresh
        margin = min(self._margin, float(lifetime) * 0.1)
        self._expires_at = self._clock() + float(lifetime) - margin
        self._generation += 1

    async def _token_request(
        self, fields: dict[str, str], send: SendUnauthenticated
    ) -> dict[str, Any]:
        request = HttpRequest(
            method="POST",
            path=TOKEN_PATH,
            body=urllib.parse.urlencode(fields).encode("ascii"),
            content_type="application/x-www-form-urlencoded",
            headers={"Accept": "application/json"},
        )
        self.token_requests += 1
        try:
            response = await send(request)
        except ValidationError as exc:
            # The token endpoint answers 400 for a refused grant: that is an auth failure.
            raise AuthenticationError(
                exc.message.replace("the API rejected the request", "authentication failed"),
                method=exc.method,
                path=exc.path,
                status=exc.status,
                api_message=exc.api_message,
                body=exc.body,
                headers=exc.headers,
            ) from None
        try:
            data = loads(response.content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise MalformedResponseError(
                "the token answer is not a JSON object",
                method="POST",
                path=TOKEN_PATH,
                status=response.status_code,
            )
        return data


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a renewal's failure as seen: the callers who awaited it may all have left."""
    if not task.cancelled():
        task.exception()
