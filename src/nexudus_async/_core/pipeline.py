"""The request pipeline: auth, rate limiting, retries, error mapping and logging.

:class:`Pipeline` is a :class:`~nexudus_async._core.transport.Transport` wrapped
around the plain aiohttp transport, so every generated endpoint call goes
through it. For each request it:

1. gets or renews a token when needed;
2. waits for the client's limiter (:class:`~nexudus_async._core.limiter.Limiter`),
   then adds the credentials (so a long queue never sends an expired token);
3. sends, and classifies what happened (the decisions are the pure
   functions of :mod:`nexudus_async._core.decisions`; this loop only asks them):

   * 409/429: throttled, not executed. Everybody on the limiter pauses for
     the wait the API asked for, then the request is resent (any method).
   * 401: the credentials are renewed once (if the scheme can) and resent.
   * connection error, timeout, 500/502/503/504: resent after a backoff if
     the method is idempotent, or if the request certainly never left. A
     POST that may have reached the server raises OutcomeUnknownError.
   * a success answer that cannot be read (invalid JSON; for PUT and DELETE,
     which the API answers with the action-result envelope, also an empty or
     non-JSON body) is treated like a transient failure: resent if idempotent.
   * any other failure raises the matching error of :mod:`nexudus_async._core.errors`;
     a success answer whose body says ``WasSuccessful: false`` raises too.

A call's ``timeout`` bounds the whole call (queueing for the limiter,
every attempt and every wait between them): when it runs out the call raises
:class:`RequestTimeoutError` and sends nothing more.

Logs (logger ``nexudus_async``) name the method, path (never the query
string), status, attempt and wait, and never headers or bodies. Retries,
throttle waits and limiter waits also go to the ``on_event`` hook
(:mod:`nexudus_async._core.events`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import aiohttp

from . import decisions, events
from .auth import TOKEN_PATH, Auth
from .decisions import Action, Outcome
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
from .gate import Gate, Warmup
from .limiter import Limiter
from .raw import record_response
from .retry import IDEMPOTENT_METHODS, RetryPolicy, parse_retry_after
from .throttle import Sleep
from .transport import HttpRequest, HttpResponse, Transport, loads

__all__ = ["NOT_GIVEN", "NotGiven", "Pipeline", "logger"]

logger = logging.getLogger("nexudus_async")

_URL_QUERY = re.compile(r"(https?://[^\s?#]+)\?[^\s#]*")

_ANSWERED_WITH_THE_ENVELOPE = frozenset({"PUT", "DELETE"})
"""Idempotent writes, which the API answers with the action-result envelope.

A success status with an empty or non-JSON body to one of them (a proxy, a
cut answer) says nothing about what happened; resending is safe, so it is
resent like any other unreadable answer. A POST's such answer is left to the
caller (OutcomeUnknownError: never resent).
"""


def _is_json(response: HttpResponse) -> bool:
    # The body's first byte first: it settles the usual JSON answer without a header lookup
    # (a JSON string too: the older pages' 404 answers "Not found", quotes included).
    if response.content[:1] in (b"{", b"[", b'"'):
        return True
    return "json" in response.headers.get("Content-Type", "").lower()


class _Sent(Exception):
    """Internal: a transport failure, and whether the request may have reached the server."""

    def __init__(self, error: NexudusError, maybe_sent: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.maybe_sent = maybe_sent


class NotGiven:
    """The type of :data:`NOT_GIVEN`: an option left as it is (``None`` switches it off)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


#: Without a deadline, how often a call renews a token that expired while it queued.
MAX_STALE_RENEWALS = 10


class _Stale(Exception):
    """Internal: the credentials went stale while the request queued; renew and queue again."""


class Pipeline:
    """Auth, throttling, retries, error mapping and logging around a transport.

    Cheap to copy with :meth:`with_options`: copies share the inner
    transport, the limiter and the auth (and so its token).
    """

    __slots__ = (
        "_auth",
        "_cached_authorization",
        "_gate",
        "_headers",
        "_inner",
        "_limiter",
        "_on_event",
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
        limiter: Limiter,
        auth: Auth | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        wall_clock: Callable[[], float] = time.time,
        max_in_flight: int | Gate | None = None,
        on_event: events.EventHook | None = None,
        _warmup: Warmup | None = None,
    ) -> None:
        self._inner = inner
        self._warmup = _warmup if _warmup is not None else Warmup()
        # Requests waiting for a pooled connection after the limiter let them
        # go would reach the server bunched up: only as many requests as the
        # pool has connections may pass the limiter at a time.
        self._gate: Gate | None = (
            max_in_flight
            if isinstance(max_in_flight, Gate) or max_in_flight is None
            else Gate(max_in_flight)
        )
        self._limiter = limiter
        self._auth = auth
        # Credentials are read again after the limiter wait; an Auth that cannot
        # tell without awaiting keeps what it gave before the wait.
        self._cached_authorization = (
            auth.cached_authorization
            if auth is not None and type(auth).cached_authorization is not Auth.cached_authorization
            else None
        )
        self._retry = retry if retry is not None else RetryPolicy()
        self._timeout = timeout
        self._headers = dict(headers or {})
        self._sleep = sleep
        self._rand = rand
        self._wall_clock = wall_clock
        self._on_event = on_event

    @property
    def retry(self) -> RetryPolicy:
        return self._retry

    @property
    def timeout(self) -> float | None:
        return self._timeout

    @property
    def limiter(self) -> Limiter:
        return self._limiter

    @property
    def auth(self) -> Auth | None:
        return self._auth

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    def with_options(
        self,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
        headers: Mapping[str, str] | None = None,
    ) -> Pipeline:
        """A copy with another retry policy, timeout (None: none) and/or extra headers."""
        return Pipeline(
            self._inner,
            limiter=self._limiter,
            auth=self._auth,
            retry=retry if retry is not None else self._retry,
            timeout=self._timeout if isinstance(timeout, NotGiven) else timeout,
            headers={**self._headers, **headers} if headers else self._headers,
            sleep=self._sleep,
            rand=self._rand,
            wall_clock=self._wall_clock,
            max_in_flight=self._gate,
            on_event=self._on_event,
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
        deadline = None if timeout is None else time.monotonic() + timeout
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
        stale = 0
        attempt = 0
        last_error: NexudusError | None = None
        while True:
            attempt += 1
            outgoing, marker = request, None
            attempt_timeout = timeout
            if deadline is not None:
                attempt_timeout = decisions.attempt_budget(timeout, deadline, time.monotonic())
                if attempt_timeout is not None and attempt_timeout <= 0:
                    raise self._timed_out(timeout, method, path, last_error)
                if attempt_timeout != timeout:
                    outgoing = request = request.evolve(timeout=attempt_timeout)
            if auth is not None:
                # Before the queue: a token request (if one is due) is not held up behind us.
                value, marker = await auth.authorization(self.send_unauthenticated)
                outgoing = HttpRequest(
                    request.method,
                    path,
                    request.params,
                    request.body,
                    request.content_type,
                    {**headers, "Authorization": value},
                    attempt_timeout,
                )
            started = time.perf_counter()
            box = None if auth is None else [marker]
            try:
                if self._warmup.done:
                    response = await self._gated_send(outgoing, method, path, write, deadline, box)
                else:
                    response = await self._limited_send(
                        outgoing, method, path, write, deadline, box
                    )
                if box is not None:
                    marker = box[0]
            except _Stale:
                # Expired while queued: renew and queue again. The deadline bounds this
                # when there is one; without one, a bound stops a queue that always
                # outlasts the token's life from looping for ever.
                attempt -= 1
                stale += 1
                if deadline is None and stale > MAX_STALE_RENEWALS:
                    raise self._token_outlived(stale, method, path) from None
                continue
            except TimeoutError:
                raise self._timed_out(timeout, method, path, last_error) from None
            except _Sent as failure:
                error = failure.error
                decision = decisions.after_transient(
                    policy,
                    transient,
                    idempotent=idempotent,
                    maybe_sent=failure.maybe_sent,
                    rand=self._rand,
                )
                if decision.action is Action.UNKNOWN:
                    raise self._unknown_after_failure(error, method, path, attempt) from error
                if decision.action is Action.RAISE:
                    raise error from error.__cause__
                transient += 1
                uncertain = uncertain or failure.maybe_sent
                last_error = error
                reason = "timeout" if isinstance(error, RequestTimeoutError) else "connection"
                detail = f": {error.message}"
                await self._retry_later(
                    decision.wait,
                    deadline,
                    timeout,
                    error,
                    reason,
                    None,
                    detail,
                    method,
                    path,
                    attempt + 1,
                )
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

            renewable = not reauthenticated and auth is not None
            outcome = decisions.classify_status(status, policy.retry_statuses, renewable=renewable)

            if outcome is Outcome.THROTTLED:
                asked = parse_retry_after(response.headers, response.content, now=self._wall_clock)
                decision = decisions.after_throttle(policy, throttled, asked)
                if decision.action is not Action.RESEND:
                    raise self._throttled_error(response, method, path, asked)
                throttled += 1
                last_error = self._throttled_error(response, method, path, asked)
                await self._pause_throttled(
                    decision.wait, deadline, timeout, last_error, method, path, attempt + 1
                )
                continue

            if outcome is Outcome.UNAUTHORIZED:
                assert auth is not None
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
                outcome = decisions.classify_status(status, policy.retry_statuses, renewable=False)

            if outcome is Outcome.FAILED:
                error = self._error(response, method, path, self._json_or_none(response))
                error.after_uncertain_attempt = uncertain
                raise error

            if outcome is Outcome.TRANSIENT:
                error = self._error(response, method, path, self._json_or_none(response))
                if not isinstance(error, ServerError):
                    raise error  # for example a validation failure sent as 500
                detail = f" -> {status}"
                asked = parse_retry_after(response.headers, now=self._wall_clock)
            else:
                malformed = self._check_success_body(response, method, path)
                if malformed is None:
                    record_response(response)
                    return response
                error = malformed
                detail = f" -> {status} with an unreadable body"
                asked = None

            # A transient status, or a success answer that cannot be read: the
            # request may have been executed.
            decision = decisions.after_transient(
                policy, transient, idempotent=idempotent, asked=asked, rand=self._rand
            )
            if decision.action is Action.UNKNOWN:
                raise self._outcome_unknown(error, method, path, status) from error
            if decision.action is Action.RAISE:
                raise error
            transient += 1
            uncertain = True
            last_error = error
            reason = "status" if outcome is Outcome.TRANSIENT else "malformed"
            await self._retry_later(
                decision.wait,
                deadline,
                timeout,
                error,
                reason,
                status,
                detail,
                method,
                path,
                attempt + 1,
            )

    async def _retry_later(
        self,
        wait: float,
        deadline: float | None,
        call_timeout: float | None,
        cause: NexudusError,
        reason: str,
        status: int | None,
        detail: str,
        method: str,
        path: str,
        attempt: int,
    ) -> None:
        """The one backoff branch: check the deadline, report, log, sleep ``wait``."""
        self._before_wait(deadline, wait, call_timeout, method, path, cause)
        events.emit(self._on_event, events.RetryEvent(method, path, reason, status, wait, attempt))
        logger.warning(
            "%s %s%s; retrying in %.3fs (attempt %d)",
            method,
            path,
            detail,
            wait,
            attempt,
            # The error and the attempts allowed, for a handler that words them in one line.
            extra={
                **_extra(method, path, status, attempt, wait),
                "nexudus_error": cause,
                "nexudus_attempts": self._retry.max_retries + 1,
            },
        )
        await self._sleep(wait)

    async def _pause_throttled(
        self,
        wait: float,
        deadline: float | None,
        call_timeout: float | None,
        cause: ThrottledError,
        method: str,
        path: str,
        attempt: int,
    ) -> None:
        """After a 409/429: no sleep here; the whole client (every process, with a
        shared limiter) pauses, and the resend queues for the limiter."""
        self._before_wait(deadline, wait, call_timeout, method, path, cause)
        await self._limiter.report_throttled(wait)
        status = cause.status or 0
        events.emit(self._on_event, events.ThrottleEvent(method, path, status, wait, attempt))
        logger.info(
            "%s %s throttled (%d); waiting %.3fs (attempt %d)",
            method,
            path,
            status,
            wait,
            attempt,
            extra=_extra(method, path, status, attempt, wait),
        )

    @staticmethod
    def _unknown_after_failure(
        error: NexudusError, method: str, path: str, attempt: int
    ) -> OutcomeUnknownError:
        """A transport failure of a request that may have been executed and is not resent."""
        logger.warning(
            "%s %s: %s; not resent, the outcome is unknown (attempt %d)",
            method,
            path,
            error.message,
            attempt,
            extra=_extra(method, path, None, attempt, 0.0),
        )
        return OutcomeUnknownError(
            f"the outcome is unknown: {error.message}; the request may "
            "have been executed and was not resent",
            method=method,
            path=path,
            cause=error,
        )

    @staticmethod
    def _outcome_unknown(
        error: NexudusError, method: str, path: str, status: int
    ) -> OutcomeUnknownError:
        """A transient status or an unreadable answer to a request that is not resent."""
        if isinstance(error, MalformedResponseError):
            text = "the API's answer could not be read"
        else:
            text = f"the API answered {status}"
            text += f" ({error.api_message})" if error.api_message else ""
        return OutcomeUnknownError(
            f"the outcome is unknown: {text}; the request may have been executed and was "
            "not resent",
            method=method,
            path=path,
            status=status,
            api_message=error.api_message,
            cause=error,
        )

    async def _limited_send(
        self,
        request: HttpRequest,
        method: str,
        path: str,
        write: bool,
        deadline: float | None,
        marker: list[object] | None = None,
    ) -> HttpResponse:
        warmup = self._warmup
        if not warmup.done:
            if warmup.leading:
                if deadline is None:
                    await warmup.event.wait()
                else:
                    async with asyncio.timeout(deadline - time.monotonic()):
                        await warmup.event.wait()
            else:
                warmup.leading = True
                try:
                    return await self._gated_send(request, method, path, write, deadline, marker)
                finally:
                    warmup.done = True
                    warmup.event.set()
        return await self._gated_send(request, method, path, write, deadline, marker)

    async def _gated_send(
        self,
        request: HttpRequest,
        method: str,
        path: str,
        write: bool,
        deadline: float | None,
        marker: list[object] | None = None,
    ) -> HttpResponse:
        # The usual case (a free place, the limiter lets the request go now)
        # suspends nowhere but in the transport: entering a gate that is not
        # full returns at once, and try_acquire is synchronous.
        gate = self._gate
        limiter = self._limiter
        entered = gate is None or not gate.full()
        if entered and gate is not None:
            await gate.enter()
        acquired = entered and limiter.try_acquire(write=write)
        if not acquired:
            # Queueing counts against the call's timeout (a TimeoutError out of here).
            started = time.perf_counter()
            if deadline is None:
                await self._queue(gate, entered, write)
            else:
                async with asyncio.timeout(deadline - time.monotonic()):
                    await self._queue(gate, entered, write)
            waited = time.perf_counter() - started
            if waited >= 0.001:
                events.emit(self._on_event, events.LimiterWaitEvent(method, path, waited, write))
        try:
            if self._cached_authorization is not None and "Authorization" in request.headers:
                current = self._cached_authorization()
                if current is None:
                    raise _Stale  # expired while queued: renew before sending anything
                if current[0] != request.headers["Authorization"]:
                    # renewed by another call while this one queued: send the new token
                    request = request.evolve(
                        headers={**request.headers, "Authorization": current[0]}
                    )
                    if marker is not None:
                        marker[0] = current[1]
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

    async def _queue(self, gate: Gate | None, entered: bool, write: bool) -> None:
        if not entered:
            assert gate is not None
            await gate.enter()
        try:
            await self._limiter.acquire(write=write)
        except BaseException:
            if gate is not None:
                gate.leave()
            raise

    def _before_wait(
        self,
        deadline: float | None,
        wait: float,
        timeout: float | None,
        method: str,
        path: str,
        cause: NexudusError,
    ) -> None:
        """Raise if waiting ``wait`` more seconds would outlast the call's timeout."""
        if deadline is not None and decisions.outlasts(deadline, time.monotonic(), wait):
            raise self._timed_out(timeout, method, path, cause)

    @staticmethod
    def _token_outlived(renewals: int, method: str, path: str) -> RequestTimeoutError:
        return RequestTimeoutError(
            f"the access token expired {renewals} times while the call waited in the rate "
            "limiter's queue (tokens live shorter than the queue); nothing was sent",
            method=method,
            path=path,
        )

    @staticmethod
    def _timed_out(
        timeout: float | None, method: str, path: str, cause: NexudusError | None
    ) -> RequestTimeoutError:
        after = f" (last: {cause.message})" if cause is not None else ""
        budget = "the call's timeout" if timeout is None else f"the call's timeout of {timeout:g}s"
        error = RequestTimeoutError(
            f"{budget} ran out{after}; nothing more was sent",
            method=method,
            path=path,
        )
        error.__cause__ = cause
        return error

    def _sent(self, exc: BaseException, method: str, path: str) -> _Sent:
        """The failure of an attempt, and whether the request may have reached the server."""
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            # Connecting timed out: nothing was sent.
            return _Sent(self._transport_error(RequestTimeoutError, exc, method, path), False)
        if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientHttpProxyError):
            # Connecting (or the proxy's tunnel) failed: nothing was sent.
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
        if response.status_code == 204:
            return None
        if not response.content or not _is_json(response):
            if method not in _ANSWERED_WITH_THE_ENVELOPE:
                return None  # the caller judges it (a POST's: OutcomeUnknownError)
            kind = response.headers.get("Content-Type", "").split(";")[0].strip()
            return MalformedResponseError(
                "the API answered an empty body"
                if not response.content
                else f"the API answered a body that is not JSON ({kind or 'no Content-Type'})",
                method=method,
                path=path,
                status=response.status_code,
                body=response.content,
                headers=response.headers,
            )
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
