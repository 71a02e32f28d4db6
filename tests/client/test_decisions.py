"""The request loop's decisions, called directly: no aiohttp, no server, no clock."""

from __future__ import annotations

import pytest

from nexudus_async import RetryPolicy
from nexudus_async._core.decisions import (
    Action,
    Decision,
    Outcome,
    after_throttle,
    after_transient,
    attempt_budget,
    classify_status,
    outlasts,
)

POLICY = RetryPolicy(max_retries=2, backoff_initial=0.5, backoff_max=8.0, jitter=False)
RETRY = POLICY.retry_statuses


def never_called() -> float:
    raise AssertionError("rand is called only for a resend")


@pytest.mark.parametrize(
    ("status", "renewable", "outcome"),
    [
        (409, True, Outcome.THROTTLED),
        (429, False, Outcome.THROTTLED),
        (401, True, Outcome.UNAUTHORIZED),
        (401, False, Outcome.FAILED),
        (500, True, Outcome.TRANSIENT),
        (503, False, Outcome.TRANSIENT),
        (501, False, Outcome.FAILED),
        (400, False, Outcome.FAILED),
        (404, False, Outcome.FAILED),
        (199, False, Outcome.FAILED),
        (200, False, Outcome.SUCCESS),
        (204, True, Outcome.SUCCESS),
        (302, False, Outcome.SUCCESS),
    ],
)
def test_classify_status(status: int, renewable: bool, outcome: Outcome) -> None:
    assert classify_status(status, RETRY, renewable=renewable) is outcome


def test_a_401_no_longer_renewable_follows_the_retry_statuses() -> None:
    assert classify_status(401, frozenset({401}), renewable=False) is Outcome.TRANSIENT
    assert classify_status(409, frozenset({409}), renewable=False) is Outcome.THROTTLED


def test_transient_backoff_doubles_then_raises_when_the_retries_run_out() -> None:
    waits = [after_transient(POLICY, n, idempotent=True) for n in range(3)]
    assert waits == [
        Decision(Action.RESEND, 0.5),
        Decision(Action.RESEND, 1.0),
        Decision(Action.RAISE),
    ]


def test_transient_backoff_uses_full_jitter_from_rand() -> None:
    jittered = RetryPolicy(backoff_initial=0.5)
    assert after_transient(jittered, 1, idempotent=True, rand=lambda: 0.25) == Decision(
        Action.RESEND, 0.25
    )  # cap 1.0 for the second retry, times 0.25


def test_a_post_that_may_have_been_sent_is_unknown_one_that_never_left_is_resent() -> None:
    assert after_transient(POLICY, 0, idempotent=False, rand=never_called) == Decision(
        Action.UNKNOWN
    )
    assert after_transient(POLICY, 0, idempotent=False, maybe_sent=False).action is Action.RESEND
    # unknown before exhausted: a POST is never resent, whatever the count
    assert after_transient(POLICY, 5, idempotent=False).action is Action.UNKNOWN
    assert after_transient(POLICY, 2, idempotent=True, rand=never_called).action is Action.RAISE


def test_a_longer_retry_after_on_a_transient_status_is_honoured_within_the_bound() -> None:
    assert after_transient(POLICY, 0, idempotent=True, asked=3.0).wait == 3.0
    assert after_transient(POLICY, 0, idempotent=True, asked=0.1).wait == 0.5
    too_long = POLICY.max_throttle_wait + 1
    assert after_transient(POLICY, 0, idempotent=True, asked=too_long).wait == 0.5


def test_throttle_waits_what_was_asked_or_the_default_and_is_bounded() -> None:
    assert after_throttle(POLICY, 0, 2.5) == Decision(Action.RESEND, 2.5)
    assert after_throttle(POLICY, 0, None) == Decision(Action.RESEND, POLICY.default_throttle_wait)
    assert after_throttle(POLICY, 0, POLICY.max_throttle_wait) == Decision(
        Action.RESEND, POLICY.max_throttle_wait
    )
    assert after_throttle(POLICY, 0, POLICY.max_throttle_wait + 0.1).action is Action.RAISE
    assert after_throttle(POLICY, POLICY.max_throttle_retries, 0.1).action is Action.RAISE
    assert after_throttle(RetryPolicy.never(), 0, 0.1).action is Action.RAISE


def test_attempt_budget_keeps_a_full_timeout_and_shrinks_to_what_is_left() -> None:
    assert attempt_budget(None, None, 100.0) is None
    assert attempt_budget(2.0, 102.0, 100.0) == 2.0
    assert attempt_budget(2.0, 102.0, 100.0005) == 2.0  # nearly full: the same value
    assert attempt_budget(2.0, 102.0, 101.5) == pytest.approx(0.5)
    assert attempt_budget(2.0, 102.0, 102.0) == 0.0  # ran out
    assert attempt_budget(2.0, 102.0, 103.0) == pytest.approx(-1.0)


def test_outlasts() -> None:
    assert not outlasts(None, 100.0, 1e9)
    assert not outlasts(102.0, 100.0, 1.9)
    assert outlasts(102.0, 100.0, 2.0)
    assert outlasts(102.0, 101.0, 1.5)


def test_the_emulators_precise_wait_is_read_before_its_whole_second_retry_after() -> None:
    from nexudus_async._core.retry import parse_retry_after

    # The time-scaled emulator says Retry-After: 1 (HTTP wants whole seconds) and the
    # real, scaled wait in X-Retry-After-Ms; the live API sends only Retry-After.
    assert parse_retry_after({"Retry-After": "1", "X-Retry-After-Ms": "37"}) == 0.037
    assert parse_retry_after({"Retry-After": "2", "X-Retry-After-Ms": "x"}) == 2.0
    assert parse_retry_after({"Retry-After": "2"}) == 2.0
    assert parse_retry_after({}, b"Wait 3 seconds") == 3.0
