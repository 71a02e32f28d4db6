"""When a failed request is sent again, and how long to wait first.

Two different things are retried, with different rules:

* **Throttling** (409, or the observed 429): the API did not execute the
  request, so it is resent for every method, after the wait the API asked
  for (``Retry-After`` in seconds, possibly fractional, or an HTTP date; or
  "Wait N seconds" in a 429 body). Bounded by ``max_throttle_retries`` and
  ``max_throttle_wait``.
* **Transient failures** (connection errors, timeouts, 500/502/503/504): the
  request may have been executed. GET, PUT and DELETE are idempotent and
  are retried with capped exponential backoff and full jitter. A POST is
  retried only when it certainly never left (the connection could not be
  opened); otherwise the client raises
  :class:`~nexudus_async._core.errors.OutcomeUnknownError`.

  The token request (``POST /api/token``) is retried like an idempotent
  one: it creates nothing, so one whose connection dropped is sent again
  with the same bytes (a token lost with it is never used). A refresh token
  the lost request may have used up is then refused, and the password grant
  runs again.
"""

from __future__ import annotations

import email.utils
import math
import random
import re
import time
from collections.abc import Callable, Mapping

import attrs

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "parse_retry_after"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods that may be sent again after a transient failure."""


def _non_negative_int(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value!r}")


def _non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value!r}")


@attrs.frozen(slots=True)
class RetryPolicy:
    """How a client retries (frozen; per client, and per call through ``with_options``).

    Attributes:
        max_retries: Resends after a transient failure (connection error,
            timeout, a status in ``retry_statuses``) of an idempotent request,
            or a POST that certainly was not sent. 0 disables them.
        backoff_initial: The cap of the first backoff, in seconds.
        backoff_max: The largest cap; the cap doubles per retry up to it.
        jitter: Full jitter (wait a random time between 0 and the cap) when
            true; exactly the cap when false.
        retry_statuses: The HTTP statuses treated as transient.
        max_throttle_retries: Resends after 409/429 answers, per request.
        max_throttle_wait: The longest single throttling wait honoured; a
            longer ``Retry-After`` raises ``ThrottledError`` at once.
        default_throttle_wait: The wait when a throttled answer does not say.
    """

    max_retries: int = attrs.field(default=3, validator=_non_negative_int)
    backoff_initial: float = attrs.field(default=0.5, validator=_non_negative)
    backoff_max: float = attrs.field(default=8.0, validator=_non_negative)
    jitter: bool = True
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504})
    max_throttle_retries: int = attrs.field(default=10, validator=_non_negative_int)
    max_throttle_wait: float = attrs.field(default=120.0, validator=_non_negative)
    default_throttle_wait: float = attrs.field(default=1.0, validator=_non_negative)

    @classmethod
    def never(cls) -> RetryPolicy:
        """No resends at all: every failure is raised at once."""
        return cls(max_retries=0, max_throttle_retries=0)

    def backoff(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before the ``retry``-th resend (1-based)."""
        exponent = min(max(retry - 1, 0), 62)
        cap = min(self.backoff_max, self.backoff_initial * math.pow(2.0, exponent))
        return cap * rand() if self.jitter else cap


_WAIT_IN_BODY = re.compile(r"wait\s+(\d+(?:\.\d+)?)\s*(?:s\b|sec|second)", re.IGNORECASE)


def parse_retry_after(
    headers: Mapping[str, str],
    body: bytes = b"",
    *,
    now: Callable[[], float] = time.time,
) -> float | None:
    """The wait a throttled answer asks for, in seconds, or None if it does not say.

    Reads ``X-Retry-After-Ms`` (the emulator's precise wait: its ``Retry-After``
    is whole seconds, as HTTP wants, even when its time is scaled), then
    ``Retry-After`` as seconds (fractions allowed) or as an HTTP date, then a
    "Wait N seconds" body.
    """
    precise = headers.get("X-Retry-After-Ms", "").strip()
    if precise.isascii() and precise.isdigit():
        return int(precise) / 1000
    value = headers.get("Retry-After")
    if value is not None:
        value = value.strip()
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None:
                seconds = max(0.0, when.timestamp() - now())
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    if body:
        match = _WAIT_IN_BODY.search(body[:1000].decode("utf-8", errors="replace"))
        if match:
            return float(match.group(1))
    return None
