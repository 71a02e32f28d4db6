"""Users, roles and tokens: HTTP Basic, bearer tokens from the password grant, refresh grant.

Access tokens live ``token_ttl * time_scale`` seconds. Refresh tokens rotate:
using one issues a new pair and invalidates the old refresh token (the old
access token keeps working until it expires, as with the live OAuth server).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Callable, Iterable

import attrs

from .config import FULL_ADMIN_ROLE, UserSpec

__all__ = ["Auth", "Grant", "TokenError"]


@attrs.frozen
class Grant:
    access_token: str
    refresh_token: str
    expires_in: int

    def to_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
        }


class TokenError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def to_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class Auth:
    def __init__(
        self,
        users: Iterable[UserSpec],
        token_ttl: int,
        time_scale: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users: dict[str, UserSpec] = {}
        self._access: dict[str, tuple[str, float]] = {}
        self._refresh: dict[str, str] = {}
        self._ttl = token_ttl
        self._scale = time_scale
        self._clock = clock
        for user in users:
            self.add_user(user)

    # ---------------------------------------------------------------- users
    def add_user(self, user: UserSpec) -> None:
        self._users[user.email.lower()] = user

    def users(self) -> list[UserSpec]:
        return list(self._users.values())

    def user(self, email: str) -> UserSpec | None:
        return self._users.get(email.lower())

    @staticmethod
    def allowed(user: UserSpec, role: str | None) -> bool:
        return role is None or FULL_ADMIN_ROLE in user.roles or role in user.roles

    # --------------------------------------------------------------- tokens
    @property
    def lifetime(self) -> float:
        """Real seconds an access token lives."""
        return self._ttl * self._scale

    def set_time_scale(self, time_scale: float) -> None:
        """Tokens issued from now on live ``token_ttl * time_scale``."""
        self._scale = time_scale

    def _issue(self, user: UserSpec) -> Grant:
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32)
        self._access[access] = (user.email, self._clock() + self.lifetime)
        self._refresh[refresh] = user.email
        return Grant(access, refresh, max(1, round(self.lifetime)))

    def password_grant(self, username: str, password: str, totp: str | None) -> Grant:
        if not username or not password:
            raise TokenError(400, "invalid_request", "username and password are required.")
        user = self.user(username)
        if user is None or not secrets.compare_digest(user.password.encode(), password.encode()):
            raise TokenError(401, "invalid_grant", "The user name or password is incorrect.")
        if user.totp is not None and (totp or "") != user.totp:
            raise TokenError(401, "invalid_grant", "A valid two-factor code (totp) is required.")
        return self._issue(user)

    def refresh_grant(self, refresh_token: str) -> Grant:
        if not refresh_token:
            raise TokenError(400, "invalid_request", "refresh_token is required.")
        email = self._refresh.pop(refresh_token, None)
        user = self.user(email) if email is not None else None
        if user is None:
            raise TokenError(401, "invalid_grant", "The refresh token is invalid.")
        return self._issue(user)

    def expire_tokens(self) -> None:
        """Make every access token expired now (refresh tokens stay valid)."""
        now = self._clock()
        self._access = {k: (email, now) for k, (email, _) in self._access.items()}

    def reset(self, users: Iterable[UserSpec]) -> None:
        self._users.clear()
        self._access.clear()
        self._refresh.clear()
        for user in users:
            self.add_user(user)

    # -------------------------------------------------------- authenticate
    def authenticate(self, header: str | None) -> UserSpec | None:
        """The user an ``Authorization`` header proves, or None."""
        if not header:
            return None
        scheme, _, credentials = header.strip().partition(" ")
        scheme = scheme.lower()
        credentials = credentials.strip()
        if scheme == "bearer":
            entry = self._access.get(credentials)
            if entry is None:
                return None
            email, expires_at = entry
            if self._clock() >= expires_at:
                self._access.pop(credentials, None)
                return None
            return self.user(email)
        if scheme == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return None
            email, sep, password = decoded.partition(":")
            user = self.user(email) if sep else None
            if user is None or not secrets.compare_digest(
                user.password.encode(), password.encode()
            ):
                return None
            return user
        return None
