"""The record of one call as it goes through the request loop.

One :class:`Call` per ``Pipeline.send``: what is sent (method, path, the
request without credentials), its budget (timeout, deadline), and what the
call has spent so far (attempts, resends, throttled waits, token renewals),
so the loop and its helpers take the call instead of a dozen arguments.
"""

from __future__ import annotations

import time
from typing import Any

from . import decisions
from .auth import TOKEN_PATH, Auth
from .errors import NexudusError, RequestTimeoutError
from .retry import IDEMPOTENT_METHODS
from .transport import WRITE_METHODS, HttpRequest, WireHeaders

__all__ = ["Call", "Credentialed"]


class Credentialed:
    """A pipeline's headers with the credentials, built once per credentials value (one
    Basic header, or a token, serves many calls) as :class:`WireHeaders`, which the
    transport hands to aiohttp without another conversion."""

    __slots__ = ("_base", "_headers", "_value")

    def __init__(self, base: dict[str, str]) -> None:
        self._base = base
        self._value: str | None = None
        self._headers: WireHeaders | None = None

    def get(self, authorization: str) -> WireHeaders:
        headers = self._headers
        if headers is None or authorization != self._value:
            headers = self._headers = WireHeaders({**self._base, "Authorization": authorization})
            self._value = authorization
        return headers


class Call:
    """One call: the request, its deadline, and what its attempts have spent."""

    __slots__ = (
        "attempt",
        "auth",
        "credentialed",
        "deadline",
        "headers",
        "idempotent",
        "last_error",
        "may_have_run",
        "method",
        "path",
        "renewed_after_401",
        "request",
        "resends",
        "sent_at",
        "stale_renewals",
        "throttled_waits",
        "timeout",
        "token_marker",
        "write",
    )

    def __init__(
        self,
        request: HttpRequest,
        auth: Auth | None,
        default_headers: dict[str, str],
        default_timeout: float | None,
        credentialed: Credentialed | None = None,
    ) -> None:
        """``auth``: None for a request sent without credentials; the defaults: the pipeline's
        (the request's own headers and timeout win); ``credentialed``: the default headers
        with the credentials, for a request without headers of its own."""
        timeout = request.timeout if request.timeout is not None else default_timeout
        self.credentialed = None
        if auth is not None and not request.headers:
            headers = default_headers  # copied with the credentials into each attempt's request
            self.credentialed = credentialed
        elif default_headers:
            headers = {**default_headers, **request.headers}
        else:
            headers = dict(request.headers)
        if auth is None:
            request = HttpRequest(
                request.method,
                request.path,
                request.params,
                request.body,
                request.content_type,
                headers,
                timeout,
            )
        self.method = method = request.method.upper()
        self.path = path = request.path
        # The token request creates nothing, so it is safe to repeat.
        self.idempotent = method in IDEMPOTENT_METHODS or path == TOKEN_PATH
        self.write = request.method in WRITE_METHODS  # request.is_write, without a call
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.auth = auth
        self.headers = headers
        """Headers of every attempt; the credentials are added to a copy per attempt."""
        self.request = request
        """The request as resent, without credentials (its timeout: the last attempt's)."""
        self.attempt = 0
        self.resends = 0
        """Resends after a transient failure (connection, timeout, 5xx, unreadable answer)."""
        self.throttled_waits = 0
        self.stale_renewals = 0
        """Tokens renewed because they expired while the call queued."""
        self.renewed_after_401 = False
        self.may_have_run = False
        """An earlier attempt may have been executed (its answer was lost)."""
        self.last_error: NexudusError | None = None
        self.token_marker: object = None
        """Which token the attempt carries, for ``Auth.renew_after_unauthorized``."""
        self.sent_at = 0.0

    def extra(self, status: int | None, attempt: int, wait: float) -> dict[str, Any]:
        """The log record's fields (never headers or bodies)."""
        return {
            "nexudus_method": self.method,
            "nexudus_path": self.path,
            "nexudus_status": status,
            "nexudus_attempt": attempt,
            "nexudus_wait": wait,
        }

    def timed_out(self, cause: NexudusError | None) -> RequestTimeoutError:
        """The call's timeout ran out; ``cause``: the last failure, if any."""
        after = f" (last: {cause.message})" if cause is not None else ""
        timeout = self.timeout
        budget = "the call's timeout" if timeout is None else f"the call's timeout of {timeout:g}s"
        error = RequestTimeoutError(
            f"{budget} ran out{after}; nothing more was sent",
            method=self.method,
            path=self.path,
        )
        error.__cause__ = cause
        return error

    def token_outlived(self) -> RequestTimeoutError:
        return RequestTimeoutError(
            f"the access token expired {self.stale_renewals} times while the call waited in "
            "the rate limiter's queue (tokens live shorter than the queue); nothing was sent",
            method=self.method,
            path=self.path,
        )

    def with_credentials(self, authorization: str, timeout: float | None) -> HttpRequest:
        """This attempt's request: the call's, with the credentials and the attempt's timeout."""
        request, credentialed = self.request, self.credentialed
        return HttpRequest(
            request.method,
            request.path,
            request.params,
            request.body,
            request.content_type,
            {**self.headers, "Authorization": authorization}
            if credentialed is None
            else credentialed.get(authorization),
            timeout,
        )

    def count_stale_renewal(self, limit: int) -> None:
        """The token expired while the request queued: it is renewed and the request queued
        again, which is not another attempt. The deadline bounds this when there is one;
        without one, ``limit`` stops a queue that always outlasts the token's life."""
        self.attempt -= 1
        self.stale_renewals += 1
        if self.deadline is None and self.stale_renewals > limit:
            raise self.token_outlived() from None

    def check_wait_fits(self, wait: float, cause: NexudusError) -> None:
        """Raise if waiting ``wait`` more seconds would outlast the call's timeout."""
        deadline = self.deadline
        if deadline is not None and decisions.outlasts(deadline, time.monotonic(), wait):
            raise self.timed_out(cause)
