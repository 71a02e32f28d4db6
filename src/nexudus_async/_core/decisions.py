"""The request loop's decisions, as pure functions: no I/O, no aiohttp, no clock of their own.

:class:`~nexudus_async._core.pipeline.Pipeline` sends, then asks these what
the answer means (:func:`classify_status`) and what to do next
(:func:`after_transient`, :func:`after_throttle`: resend after how long, or
raise), and whether a wait still fits in the call's timeout
(:func:`attempt_budget`, :func:`outlasts`). Everything they need comes in
as arguments (counts so far, the policy, the clock's reading, the random
source), so tests call them directly, in the spirit of a sans-I/O core.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable

import attrs

from .retry import RetryPolicy

__all__ = [
    "THROTTLE_STATUSES",
    "Action",
    "Decision",
    "Outcome",
    "after_throttle",
    "after_transient",
    "attempt_budget",
    "classify_status",
    "outlasts",
]

THROTTLE_STATUSES = frozenset({409, 429})
"""Throttled, not executed: resent after the wait, whatever the method."""


class Outcome(enum.Enum):
    """What an answer's status means to the request loop."""

    THROTTLED = "throttled"
    """409/429: the API did not execute the request."""
    UNAUTHORIZED = "unauthorized"
    """401 while the credentials may still be renewed once."""
    TRANSIENT = "transient"
    """A status of ``RetryPolicy.retry_statuses``: the request may have been executed."""
    FAILED = "failed"
    """Any other status below 200 or from 400 on: raised as the matching error."""
    SUCCESS = "success"
    """The body still has to be read (``WasSuccessful: false``, unreadable JSON)."""


def classify_status(status: int, retry_statuses: frozenset[int], *, renewable: bool) -> Outcome:
    """What ``status`` means; ``renewable``: a 401 may be answered by renewing the credentials.

    A 401 that cannot (or no longer) be renewed is classified like any other status.
    """
    if status in THROTTLE_STATUSES:
        return Outcome.THROTTLED
    if status == 401 and renewable:
        return Outcome.UNAUTHORIZED
    if status in retry_statuses:
        return Outcome.TRANSIENT
    if status >= 400 or status < 200:
        return Outcome.FAILED
    return Outcome.SUCCESS


class Action(enum.Enum):
    """What the request loop does after a failed attempt."""

    RESEND = "resend"
    """Wait :attr:`Decision.wait` seconds (or have the limiter pause), then send again."""
    UNKNOWN = "unknown"
    """Raise OutcomeUnknownError: the request may have been executed and is not resent."""
    RAISE = "raise"
    """Raise the attempt's own error: the allowed resends ran out, or the wait is too long."""


@attrs.frozen(slots=True)
class Decision:
    action: Action
    wait: float = 0.0


_UNKNOWN = Decision(Action.UNKNOWN)
_RAISE = Decision(Action.RAISE)


def after_transient(
    policy: RetryPolicy,
    retries: int,
    *,
    idempotent: bool,
    maybe_sent: bool = True,
    asked: float | None = None,
    rand: Callable[[], float] = random.random,
) -> Decision:
    """After a connection error, a timeout, a transient status or an unreadable success body.

    ``retries``: transient resends of this call so far. A request that may
    have reached the server is resent only if it is idempotent. The wait is
    the policy's backoff, or the ``Retry-After`` the answer ``asked`` for if
    longer (and not over ``max_throttle_wait``). ``rand`` is called only for
    a resend.
    """
    if not (idempotent or not maybe_sent):
        return _UNKNOWN
    if retries >= policy.max_retries:
        return _RAISE
    wait = policy.backoff(retries + 1, rand)
    if asked is not None and asked <= policy.max_throttle_wait:
        wait = max(wait, asked)
    return Decision(Action.RESEND, wait)


def after_throttle(policy: RetryPolicy, throttles: int, asked: float | None) -> Decision:
    """After a 409/429: wait what the API ``asked`` (or the default), unless that is too much.

    ``throttles``: throttled answers to this call so far.
    """
    wait = policy.default_throttle_wait if asked is None else asked
    if throttles >= policy.max_throttle_retries or wait > policy.max_throttle_wait:
        return _RAISE
    return Decision(Action.RESEND, wait)


def attempt_budget(timeout: float | None, deadline: float | None, now: float) -> float | None:
    """Seconds the next attempt may take: None (no timeout), ``timeout`` itself while
    (nearly) all of it is left, else what is left of the call's; ``<= 0``: it ran out."""
    if deadline is None or timeout is None:
        return timeout
    left = deadline - now
    # a (nearly) full budget keeps the same value: the transport reuses its ClientTimeout
    return left if left <= 0 or left < timeout - 0.001 else timeout


def outlasts(deadline: float | None, now: float, wait: float) -> bool:
    """Whether waiting ``wait`` more seconds would reach the call's deadline."""
    return deadline is not None and now + wait >= deadline
