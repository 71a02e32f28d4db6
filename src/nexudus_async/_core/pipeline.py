"""The request pipeline: auth, rate limiting, retries, error mapping and logging.

:class:`Pipeline` is a :class:`~nexudus_async._core.transport.Transport` wrapped
around the plain aiohttp transport, so every generated endpoint call goes
through it. For each request it:

1. gets or renews a token when needed;
2. passes admission (:mod:`~nexudus_async._core.admission`: warm-up, gate,
   limiter, a last look at the token, so a long queue never sends an expired one);
3. sends, and classifies what happened (the decisions are the pure
   functions of :mod:`~nexudus_async._core.decisions`, the errors are built by
   :mod:`~nexudus_async._core.answers`; this loop only asks them):

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

One :class:`~nexudus_async._core.call.Call` records each call: its deadline
(the call's ``timeout`` bounds queueing, every attempt and every wait: when it
runs out the call raises :class:`RequestTimeoutError`) and what it has spent.

Logs (logger ``nexudus_async``) name the method, path (never the query
string), status, attempt and wait, and never headers or bodies. Retries,
throttle waits and limiter waits also go to the ``on_event`` hook
(:mod:`nexudus_async._core.events`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from . import answers, decisions, events
from .admission import Admission, TokenExpiredWhileQueued
from .auth import TOKEN_PATH, Auth, cached_reader
from .call import Call, Credentialed
from .decisions import Action, Outcome
from .errors import MalformedResponseError, NexudusError, ServerError
from .gate import Gate, Warmup
from .limiter import Limiter
from .raw import record_response
from .retry import RetryPolicy, parse_retry_after
from .throttle import Sleep
from .transport import HttpRequest, HttpResponse, SendError, Transport

__all__ = ["NOT_GIVEN", "NotGiven", "Pipeline", "logger"]

logger = logging.getLogger("nexudus_async")


class NotGiven:
    """The type of :data:`NOT_GIVEN`: an option left as it is (``None`` switches it off)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


#: Without a deadline, how often a call renews a token that expired while it queued.
MAX_STALE_RENEWALS = 10


class Pipeline:
    """Auth, throttling, retries, error mapping and logging around a transport.

    Cheap to copy with :meth:`with_options`: copies share the inner
    transport, the limiter and the auth (and so its token).
    """

    __slots__ = (
        "_admission",
        "_auth",
        "_cached",
        "_credentialed",
        "_gate",
        "_headers",
        "_inner",
        "_limiter",
        "_on_event",
        "_rand",
        "_retry",
        "_sleep",
        "_success",
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
        self._cached = cached_reader(auth)
        self._retry = retry if retry is not None else RetryPolicy()
        self._success = _success_statuses(self._retry)
        self._timeout = timeout
        self._headers = dict(headers or {})
        self._credentialed = Credentialed(self._headers)
        self._sleep = sleep
        self._rand = rand
        self._wall_clock = wall_clock
        self._on_event = on_event
        self._admission = Admission(
            inner,
            limiter=limiter,
            auth=auth,
            gate=self._gate,
            warmup=self._warmup,
            on_event=on_event,
        )

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

    # send and send_unauthenticated return the coroutine of _send rather than awaiting
    # it in a frame of their own, which every result and suspension would pass through.

    def send(self, request: HttpRequest) -> Coroutine[Any, Any, HttpResponse]:
        """Send ``request`` through the whole pipeline; raise a typed error on failure."""
        return self._send(request, authenticate=request.path != TOKEN_PATH)

    def send_unauthenticated(self, request: HttpRequest) -> Coroutine[Any, Any, HttpResponse]:
        """Send without credentials (the token request), still limited and retried."""
        return self._send(request, authenticate=False)

    # ------------------------------------------------------------------ the loop

    async def _send(self, request: HttpRequest, *, authenticate: bool) -> HttpResponse:
        auth = self._auth if authenticate else None
        call = Call(request, auth, self._headers, self._timeout, self._credentialed)
        admission, success, cached = self._admission, self._success, self._cached
        inner = self._inner
        fresh = call.timeout is not None and call.timeout > 0  # the first attempt has all of it
        while True:
            call.attempt += 1
            budget = call.timeout if fresh or call.deadline is None else _attempt_budget(call)
            fresh = False
            outgoing = call.request
            if auth is not None:
                # Before the queue: a token request (if one is due) is not held up behind us.
                # Credentials at hand are read without awaiting (the usual case).
                current = cached() if cached is not None else None
                if current is None:
                    current = await auth.authorization(self.send_unauthenticated)
                value, call.token_marker = current
                outgoing = call.with_credentials(value, budget)
            call.sent_at = time.perf_counter()
            try:
                if not admission.warmup.done:
                    response = await admission.warming_up(outgoing, call)
                elif admission.admit_now(call.write):
                    # The usual case, sent from this frame: no coroutine of admission's.
                    try:
                        response = await inner.send(admission.current(outgoing, call))
                    finally:
                        admission.leave()
                else:
                    response = await admission.send(outgoing, call, refused=True)
            except TokenExpiredWhileQueued:
                call.count_stale_renewal(MAX_STALE_RENEWALS)
                continue
            except TimeoutError:  # the deadline passed while the request queued
                raise call.timed_out(call.last_error) from None
            except SendError as failure:
                await self._after_failure(call, failure)
                continue

            status = response.status_code
            if logger.isEnabledFor(logging.DEBUG):
                _log_answer(call, status)
            if status in success:
                unreadable = answers.unreadable_success(response, call, self.redact)
                if unreadable is None:
                    record_response(response)
                    return response
                await self._after_transient(call, unreadable, status, None)
                continue
            await self._after_status(call, response)

    async def _after_status(self, call: Call, response: HttpResponse) -> None:
        """Any status but a success: raise its error, or return to resend (after a wait,
        renewed credentials or a backoff)."""
        status, policy = response.status_code, self._retry
        renewable = call.auth is not None and not call.renewed_after_401
        outcome = decisions.classify_status(status, policy.retry_statuses, renewable=renewable)
        if outcome is Outcome.THROTTLED:
            await self._after_throttle(call, response)
            return
        if outcome is Outcome.UNAUTHORIZED:
            if await self._renewed(call, status):
                return
            outcome = decisions.classify_status(status, policy.retry_statuses, renewable=False)
        error = answers.status_error(response, call, self.redact)
        if outcome is Outcome.FAILED:
            error.after_uncertain_attempt = call.may_have_run
            raise error
        if not isinstance(error, ServerError):
            raise error  # a transient status, but for example a validation failure sent as 500
        asked = parse_retry_after(response.headers, now=self._wall_clock)
        await self._after_transient(call, error, status, asked)

    # ------------------------------------------------------------------ after an attempt

    async def _after_failure(self, call: Call, failure: SendError) -> None:
        """No answer (connection failed or dropped, timed out): resend after a backoff if it
        is idempotent or certainly never left; else raise."""
        error = answers.failure_error(failure, call, self.redact)
        decision = decisions.after_transient(
            self._retry,
            call.resends,
            idempotent=call.idempotent,
            maybe_sent=failure.may_have_reached_server,
            rand=self._rand,
        )
        if decision.action is Action.UNKNOWN:
            raise answers.unknown_after_failure(error, call) from error
        if decision.action is Action.RAISE:
            raise error from failure.__cause__
        call.may_have_run = call.may_have_run or failure.may_have_reached_server
        reason = "timeout" if failure.timed_out else "connection"
        await self._resend_later(call, decision.wait, error, reason, None, f": {error.message}")

    async def _after_transient(
        self, call: Call, error: NexudusError, status: int, asked: float | None
    ) -> None:
        """A transient status, or a success answer that cannot be read: the request may have
        been executed. Resend after a backoff if it is idempotent; else raise."""
        decision = decisions.after_transient(
            self._retry, call.resends, idempotent=call.idempotent, asked=asked, rand=self._rand
        )
        if decision.action is Action.UNKNOWN:
            raise answers.outcome_unknown(error, call, status) from error
        if decision.action is Action.RAISE:
            raise error
        call.may_have_run = True
        if isinstance(error, MalformedResponseError):
            reason, detail = "malformed", f" -> {status} with an unreadable body"
        else:
            reason, detail = "status", f" -> {status}"
        await self._resend_later(call, decision.wait, error, reason, status, detail)

    async def _resend_later(
        self,
        call: Call,
        wait: float,
        cause: NexudusError,
        reason: str,
        status: int | None,
        detail: str,
    ) -> None:
        """The one backoff branch: count, check the deadline, report, log, sleep ``wait``."""
        call.resends += 1
        call.last_error = cause
        call.check_wait_fits(wait, cause)
        attempt = call.attempt + 1
        events.emit(
            self._on_event, events.RetryEvent(call.method, call.path, reason, status, wait, attempt)
        )
        logger.warning(
            "%s %s%s; retrying in %.3fs (attempt %d)",
            call.method,
            call.path,
            detail,
            wait,
            attempt,
            # The error and the attempts allowed, for a handler that words them in one line.
            extra={
                **call.extra(status, attempt, wait),
                "nexudus_error": cause,
                "nexudus_attempts": self._retry.max_retries + 1,
            },
        )
        await self._sleep(wait)

    async def _after_throttle(self, call: Call, response: HttpResponse) -> None:
        """After a 409/429: no sleep here; the whole client (every process, with a shared
        limiter) pauses, and the resend queues for the limiter."""
        asked = parse_retry_after(response.headers, response.content, now=self._wall_clock)
        decision = decisions.after_throttle(self._retry, call.throttled_waits, asked)
        error = answers.throttled_error(response, call, asked)
        if decision.action is not Action.RESEND:
            raise error
        call.throttled_waits += 1
        call.last_error = error
        wait, status, attempt = decision.wait, response.status_code, call.attempt + 1
        call.check_wait_fits(wait, error)
        await self._limiter.report_throttled(wait)
        events.emit(
            self._on_event, events.ThrottleEvent(call.method, call.path, status, wait, attempt)
        )
        logger.info(
            "%s %s throttled (%d); waiting %.3fs (attempt %d)",
            call.method,
            call.path,
            status,
            wait,
            attempt,
            extra=call.extra(status, attempt, wait),
        )

    async def _renewed(self, call: Call, status: int) -> bool:
        """After a 401: whether the credentials were renewed (once per call) to resend."""
        assert call.auth is not None
        call.renewed_after_401 = True
        if not await call.auth.renew_after_unauthorized(
            call.token_marker, self.send_unauthenticated
        ):
            return False
        attempt = call.attempt + 1
        logger.info(
            "%s %s -> 401; credentials renewed, resending (attempt %d)",
            call.method,
            call.path,
            attempt,
            extra=call.extra(status, attempt, 0.0),
        )
        return True


def _success_statuses(policy: RetryPolicy) -> frozenset[int]:
    """The statuses :func:`decisions.classify_status` calls a success under ``policy``
    (whether or not credentials could be renewed), asked once instead of per answer."""
    return frozenset(
        status
        for status in range(100, 600)
        if all(
            decisions.classify_status(status, policy.retry_statuses, renewable=renewable)
            is Outcome.SUCCESS
            for renewable in (False, True)
        )
    )


def _attempt_budget(call: Call) -> float | None:
    """This attempt's share of the call's timeout (``call.request`` carries it); raise when
    none is left."""
    timeout = call.timeout
    budget = decisions.attempt_budget(timeout, call.deadline, time.monotonic())
    if budget is not None and budget <= 0:
        raise call.timed_out(call.last_error)
    if budget != timeout:
        call.request = call.request.evolve(timeout=budget)
    return budget


def _log_answer(call: Call, status: int) -> None:
    logger.debug(
        "%s %s -> %d (attempt %d, %.3fs)",
        call.method,
        call.path,
        status,
        call.attempt,
        time.perf_counter() - call.sent_at,
        extra=call.extra(status, call.attempt, 0.0),
    )
