"""The request pipeline: auth, rate limiting, retries, error mapping and logging.

:class:`Pipeline` is a :class:`~nexudus_async._core.transport.Transport` wrapped
around the plain aiohttp transport, so every generated endpoint call goes
through it. For each request it:

1. adds the credentials (getting or renewing a token when needed);
2. waits for the client's :class:`~nexudus_async._core.throttle.RateLimiter`;
3. sends, and classifies what happened:

   * 409/429: throttled, not executed. Everybody on the limiter pauses for
     the wait the API asked for, then the request is resent (any method).
   * 401: the credentials are renewed once (if the scheme can) and resent.
   * connection error, timeout, 500/502/503/504: resent after a backoff if
     the method is idempotent, or if the request certainly never left. A
     POST that may have reached the server raises OutcomeUnknownError.
   * any other failure raises the matching error of :mod:`nexudus_async._core.errors`;
     a success answer whose body says ``WasSuccessful: false`` raises too.

Logs (logger ``nexudus_async``) name the method, path (never the query
string), status, attempt and wait, and never headers or bodies.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import aiohttp

from .auth import TOKEN_PATH, Auth
from .errors import (
    APIError,
    MalformedResponseError,
    NexudusError,
    OutcomeUnknownError,
    RequestTimeoutError,
    ServerError,
    ThrottledError,
    TransportError,
    UnsuccessfulResponseError,
    api_message_from_body,
    error_for_status,
    field_errors_from_body,
)
from .retry import IDEMPOTENT_METHODS, RetryPolicy, parse_retry_after
from .throttle import RateLimiter, Sleep
from .transport import HttpRequest, HttpResponse, Transport, loads

__all__ = ["Pipeline", "logger"]

logger = logging.getLogger("nexudus_async")

_THROTTLE_STATUSES = frozenset({409, 429})
_URL_QUERY = re.compile(r"(https?://[^\s?#]+)\?[^\s#]*")


def _is_json(response: HttpResponse) -> bool:
    # The body's first byte first: it settles the usual JSON answer without a header lookup.
    if response.content[:1] in (b"{", b"["):
        return True
    return "json" in response.headers.get("Content-Type", "").lower()


class _Sent(Exception):
    """Internal: a transport failure, and whether the request may have reached the server."""

    def __init__(self, error: NexudusError, maybe_sent: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.maybe_sent = maybe_sent


class _Warmup:
    """Until a client's first answer arrives, its requests go one at a time.

    The first request pays for the first connection (and TLS handshake), so a
    request released right after it could overtake it and reach the server
    too soon after it; and with wrong credentials one 401 is enough.
    """

    __slots__ = ("done", "event", "leading")

    def __init__(self) -> None:
        self.done = False
        self.leading = False
        self.event = asyncio.Event()


class _Gate:
    """At most ``size`` requests past this point at once; the others wait, first come first served.

    What ``asyncio.Semaphore`` does (a released place goes straight to the
    first waiter, and nobody overtakes a waiter), with a synchronous
    :meth:`try_enter` so that the usual case, a free place, costs no awaiting.
    While anybody waits, no place is free: so a newcomer never waits while a
    place is free, and never overtakes a waiter.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {size!r}")
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_enter(self) -> bool:
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    async def enter(self) -> None:
        if self.try_enter():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # a place was handed over just before the cancellation: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def leave(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the place goes to the first waiter
                return
        self._free += 1


class Pipeline:
    """Auth, throttling, retries, error mapping and logging around a transport.

    Cheap to copy with :meth:`with_options`: copies share the inner
    transport, the limiter and the auth (and so its token).
    """

    __slots__ = (
        "_auth",
        "_gate",
        "_headers",
        "_inner",
        "_limiter",
        "_rand",
        "_retry",
        "_sleep",
        "_timeout",
        "_wall_clock",
        "_warmup",
    )

    def __init__(
        self,
        inner: Transport,
        *,
        limiter: RateLimiter,
        auth: Auth | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        wall_clock: Callable[[], float] = time.time,
        max_in_flight: int | _Gate | None = None,
        _warmup: _Warmup | None = None,
    ) -> None:
        self._inner = inner
        self._warmup = _warmup if _warmup is not None else _Warmup()
        # Requests waiting for a pooled connection after the limiter let them
        # go would reach the server bunched up: only as many requests as the
        # pool has connections may pass the limiter at a time.
        self._gate: _Gate | None = (
            max_in_flight
            if isinstance(max_in_flight, _Gate) or max_in_flight is None
            else _Gate(max_in_flight)
        )
        self._limiter = limiter
        self._auth = auth
        self._retry = retry if retry is not None else RetryPolicy()
        self._timeout = timeout
        self._headers = dict(headers or {})
        self._sleep = sleep
        self._rand = rand
        self._wall_clock = wall_clock

    @property
    def retry(self) -> RetryPolicy:
        return self._retry

    @property
    def timeout(self) -> float | None:
        return self._timeout

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    @property
    def auth(self) -> Auth | None:
        return self._auth

    def with_options(
        self, *, retry: RetryPolicy | None = None, timeout: float | None = None
    ) -> Pipeline:
        """A copy with another retry policy and/or per-attempt timeout."""
        return Pipeline(
            self._inner,
            limiter=self._limiter,
            auth=self._auth,
            retry=retry if retry is not None else self._retry,
            timeout=timeout if timeout is not None else self._timeout,
            headers=self._headers,
            sleep=self._sleep,
            rand=self._rand,
            wall_clock=self._wall_clock,
            max_in_flight=self._gate,
            _warmup=self._warmup,
        )

    def redact(self, text: str) -> str:
        return self._auth.redact(text) if self._auth is not None else text

    # send and send_unauthenticated return the coroutine of _send rather than
    # awaiting it in a frame of their own: every request's result and every
    # suspension would pass through that extra frame.

    def send(self, request: HttpRequest) -> Coroutine[Any, Any, HttpResponse]:
        """Send ``request`` through the whole pipeline; raise a typed error on failure."""
        return self._send(request, authenticate=request.path != TOKEN_PATH)

    def send_unauthenticated(self, request: HttpRequest) -> Coroutine[Any, Any, HttpResponse]:
        """Send without credentials (the token request), still limited and retried."""
        return self._send(request, authenticate=False)

    # ------------------------------------------------------------------ core

    async def _send(self, request: HttpRequest, *, authenticate: bool) -> HttpResponse:
        policy = self._retry
        method = request.method.upper()
        path = request.path
        # The token request creates nothing, so it is safe to repeat.
        idempotent = method in IDEMPOTENT_METHODS or path == TOKEN_PATH
        write = request.is_write
        timeout = request.timeout if request.timeout is not None else self._timeout
        auth = self._auth if authenticate else None
        if auth is not None and not request.headers:
            headers = self._headers  # copied with the credentials into each attempt's request
        elif self._headers:
            headers = {**self._headers, **request.headers}
        else:
            headers = dict(request.headers)
        if auth is None:
            request = HttpRequest(
                request.method,
                path,
                request.params,
                request.body,
                request.content_type,
                headers,
                timeout,
            )

        transient = 0
        uncertain = False  # an earlier attempt may have been executed
        throttled = 0
        reauthenticated = False
        attempt = 0
        while True:
            attempt += 1
            outgoing, marker = request, None
            if auth is not None:
                value, marker = await auth.authorization(self.send_unauthenticated)
                outgoing = HttpRequest(
                    request.method,
                    path,
                    request.params,
                    request.body,
                    request.content_type,
                    {**headers, "Authorization": value},
                    timeout,
                )
            started = time.perf_counter()
            try:
                if self._warmup.done:
                    response = await self._gated_send(outgoing, method, path, write)
                else:
                    response = await self._limited_send(outgoing, method, path, write)
            except _Sent as failure:
                can_retry = idempotent or not failure.maybe_sent
                if not can_retry:
                    logger.warning(
                        "%s %s: %s; not resent, the outcome is unknown (attempt %d)",
                        method,
                        path,
                        failure.error.message,
                        attempt,
                        extra=_extra(method, path, None, attempt, 0.0),
                    )
                    raise OutcomeUnknownError(
                        f"the outcome is unknown: {failure.error.message}; the request may "
                        "have been executed and was not resent",
                        method=method,
                        path=path,
                        cause=failure.error,
                    ) from failure.error
                if transient >= policy.max_retries:
                    raise failure.error from failure.error.__cause__
                transient += 1
                uncertain = uncertain or failure.maybe_sent
                wait = policy.backoff(transient, self._rand)
                logger.warning(
                    "%s %s: %s; retrying in %.3fs (attempt %d)",
                    method,
                    path,
                    failure.error.message,
                    wait,
                    attempt + 1,
                    extra=_extra(method, path, None, attempt + 1, wait),
                )
                await self._sleep(wait)
                continue

            status = response.status_code
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s -> %d (attempt %d, %.3fs)",
                    method,
                    path,
                    status,
                    attempt,
                    time.perf_counter() - started,
                    extra=_extra(method, path, status, attempt, 0.0),
                )

            if status in _THROTTLE_STATUSES:
                asked = parse_retry_after(response.headers, response.content, now=self._wall_clock)
                wait = policy.default_throttle_wait if asked is None else asked
                if throttled >= policy.max_throttle_retries or wait > policy.max_throttle_wait:
                    raise self._throttled_error(response, method, path, asked)
                throttled += 1
                # The whole client slows down, not just this request.
                self._limiter.throttled(wait)
                logger.info(
                    "%s %s throttled (%d); waiting %.3fs (attempt %d)",
                    method,
                    path,
                    status,
                    wait,
                    attempt + 1,
                    extra=_extra(method, path, status, attempt + 1, wait),
                )
                continue

            if status == 401 and not reauthenticated and auth is not None:
                reauthenticated = True
                if await auth.renew_after_unauthorized(marker, self.send_unauthenticated):
                    logger.info(
                        "%s %s -> 401; credentials renewed, resending (attempt %d)",
                        method,
                        path,
                        attempt + 1,
                        extra=_extra(method, path, status, attempt + 1, 0.0),
                    )
                    continue

            if status in policy.retry_statuses:
                data = self._json_or_none(response)
                error = self._error(response, method, path, data)
                if not isinstance(error, ServerError):
                    raise error  # for example a validation failure sent as 500
                if not idempotent:
                    raise OutcomeUnknownError(
                        f"the outcome is unknown: the API answered {status}"
                        + (f" ({error.api_message})" if error.api_message else "")
                        + "; the request may have been executed and was not resent",
                        method=method,
                        path=path,
                        status=status,
                        api_message=error.api_message,
                        cause=error,
                    ) from error
                if transient >= policy.max_retries:
                    raise error
                transient += 1
                uncertain = True
                wait = policy.backoff(transient, self._rand)
                asked = parse_retry_after(response.headers, now=self._wall_clock)
                if asked is not None and asked <= policy.max_throttle_wait:
                    wait = max(wait, asked)
                logger.warning(
                    "%s %s -> %d; retrying in %.3fs (attempt %d)",
                    method,
                    path,
                    status,
                    wait,
                    attempt + 1,
                    extra=_extra(method, path, status, attempt + 1, wait),
                )
                await self._sleep(wait)
                continue

            if status >= 400 or status < 200:
                error = self._error(response, method, path, self._json_or_none(response))
                error.after_uncertain_attempt = uncertain
                raise error

            malformed = self._check_success_body(response, method, path)
            if malformed is None:
                return response
            if not idempotent:
                raise OutcomeUnknownError(
                    "the outcome is unknown: the API's answer could not be read; the request "
                    "may have been executed and was not resent",
                    method=method,
                    path=path,
                    status=status,
                    cause=malformed,
                ) from malformed
            if transient >= policy.max_retries:
                raise malformed
            transient += 1
            uncertain = True
            wait = policy.backoff(transient, self._rand)
            logger.warning(
                "%s %s -> %d with an unreadable body; retrying in %.3fs (attempt %d)",
                method,
                path,
                status,
                wait,
                attempt + 1,
                extra=_extra(method, path, status, attempt + 1, wait),
            )
            await self._sleep(wait)

    async def _limited_send(
        self, request: HttpRequest, method: str, path: str, write: bool
    ) -> HttpResponse:
        warmup = self._warmup
        if not warmup.done:
            if warmup.leading:
                await warmup.event.wait()
            else:
                warmup.leading = True
                try:
                    return await self._gated_send(request, method, path, write)
                finally:
                    warmup.done = True
                    warmup.event.set()
        return await self._gated_send(request, method, path, write)

    async def _gated_send(
        self, request: HttpRequest, method: str, path: str, write: bool
    ) -> HttpResponse:
        # The usual case (a free place, the limiter lets the request go now)
        # awaits nothing but the transport: try_enter and try_acquire are
        # synchronous, and the transport is awaited from this frame.
        gate = self._gate
        if gate is not None and not gate.try_enter():
            await gate.enter()
        try:
            limiter = self._limiter
            if not limiter.try_acquire(write=write):
                await limiter.acquire(write=write)
            try:
                return await self._inner.send(request)
            except asyncio.CancelledError:
                raise
            except aiohttp.InvalidURL:
                raise
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise self._sent(exc, method, path) from exc
        finally:
            if gate is not None:
                gate.leave()

    def _sent(self, exc: BaseException, method: str, path: str) -> _Sent:
        """The failure of an attempt, and whether the request may have reached the server."""
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            # Connecting timed out: nothing was sent.
            return _Sent(self._transport_error(RequestTimeoutError, exc, method, path), False)
        if isinstance(exc, aiohttp.ClientConnectorError):
            # Connecting failed: nothing was sent.
            return _Sent(self._transport_error(TransportError, exc, method, path), False)
        if isinstance(exc, TimeoutError):
            return _Sent(self._transport_error(RequestTimeoutError, exc, method, path), True)
        return _Sent(self._transport_error(TransportError, exc, method, path), True)

    def _transport_error(
        self, cls: type[TransportError], exc: BaseException, method: str, path: str
    ) -> TransportError:
        kind = type(exc).__name__
        # aiohttp's messages may hold the URL: keep its path, drop the query string.
        detail = _URL_QUERY.sub(r"\1", self.redact(str(exc))) if str(exc) else ""
        if cls is RequestTimeoutError:
            text = "the request timed out" + (f" ({kind})" if kind != "TimeoutError" else "")
        else:
            text = f"connection failed ({kind}{': ' + detail if detail else ''})"
        error = cls(text, method=method, path=path)
        error.__cause__ = exc
        return error

    @staticmethod
    def _json_or_none(response: HttpResponse) -> Any:
        if not response.content or not _is_json(response):
            return None
        try:
            return loads(response.content)
        except ValueError:
            return None

    def _error(self, response: HttpResponse, method: str, path: str, data: Any) -> APIError:
        return error_for_status(
            response.status_code,
            method=method,
            path=path,
            data=data,
            body=response.content,
            headers=response.headers,
            redact=self.redact,
        )

    def _throttled_error(
        self, response: HttpResponse, method: str, path: str, asked: float | None
    ) -> ThrottledError:
        wait = f"; the API asks to wait {asked:g}s" if asked is not None else ""
        return ThrottledError(
            f"still throttled ({response.status_code}) after the allowed waits{wait}",
            retry_after=asked,
            method=method,
            path=path,
            status=response.status_code,
            body=response.content,
            headers=response.headers,
        )

    def _check_success_body(
        self, response: HttpResponse, method: str, path: str
    ) -> MalformedResponseError | None:
        """Raise for ``WasSuccessful: false``; return the error for an unreadable body."""
        if not response.content or response.status_code == 204:
            return None
        if not _is_json(response):
            return None
        try:
            data = response.json()
        except ValueError as exc:
            error = MalformedResponseError(
                "the API answered a body that is not valid JSON",
                method=method,
                path=path,
                status=response.status_code,
                body=response.content,
                headers=response.headers,
            )
            error.__cause__ = exc
            return error
        if isinstance(data, dict) and data.get("WasSuccessful") is False:
            errors = field_errors_from_body(data)
            api_message = api_message_from_body(data)
            if api_message is not None:
                api_message = self.redact(api_message)
            raise UnsuccessfulResponseError(
                "the API reported failure (WasSuccessful: false)"
                + (f": {api_message}" if api_message else ""),
                method=method,
                path=path,
                status=response.status_code,
                api_message=api_message,
                errors=errors,
                body=response.content,
                headers=response.headers,
            )
        return None


def _extra(method: str, path: str, status: int | None, attempt: int, wait: float) -> dict[str, Any]:
    return {
        "nexudus_method": method,
        "nexudus_path": path,
        "nexudus_status": status,
        "nexudus_attempt": attempt,
        "nexudus_wait": wait,
    }
