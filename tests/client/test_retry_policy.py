"""The retry policy and the throttled answer's wait, called directly: each bound at its edge."""

from __future__ import annotations

import datetime as dt
import email.utils
import math

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
)
from nexudus_async._core.retry import IDEMPOTENT_METHODS, parse_retry_after

NOW = 1_700_000_000.0


def http_date(epoch: float) -> str:
    return email.utils.format_datetime(dt.datetime.fromtimestamp(epoch, dt.UTC), usegmt=True)


def test_the_defaults_are_the_documented_ones() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.backoff_initial, policy.backoff_max) == (3, 0.5, 8.0)
    assert policy.jitter is True
    assert policy.retry_statuses == frozenset({500, 502, 503, 504})
    assert (policy.max_throttle_retries, policy.max_throttle_wait) == (10, 120.0)
    assert policy.default_throttle_wait == 1.0
    assert frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}) == IDEMPOTENT_METHODS


def test_never_disables_both_kinds_of_resend_and_keeps_the_rest() -> None:
    never = RetryPolicy.never()
    assert (never.max_retries, never.max_throttle_retries) == (0, 0)
    assert never == RetryPolicy(max_retries=0, max_throttle_retries=0)


@pytest.mark.parametrize(
    "field", ["max_retries", "max_throttle_retries", "backoff_initial", "max_throttle_wait"]
)
def test_a_negative_setting_is_refused_by_name_and_zero_is_allowed(field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field} must not be negative, got -1$"):
        RetryPolicy(**{field: -1})
    assert getattr(RetryPolicy(**{field: 0}), field) == 0


@pytest.mark.parametrize("field", ["backoff_max", "default_throttle_wait"])
def test_a_float_setting_refuses_nan(field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field} must not be negative, got nan$"):
        RetryPolicy(**{field: math.nan})


def test_backoff_starts_at_the_initial_cap_doubles_and_stops_at_the_largest() -> None:
    policy = RetryPolicy(backoff_initial=0.5, backoff_max=3.0, jitter=False)
    assert [policy.backoff(n) for n in range(6)] == [0.5, 0.5, 1.0, 2.0, 3.0, 3.0]
    jittered = RetryPolicy(backoff_initial=0.5, backoff_max=3.0)
    assert jittered.backoff(3, lambda: 0.25) == 0.5  # cap 2.0 times the random draw


def test_backoff_of_a_huge_retry_count_neither_overflows_nor_exceeds_2_to_the_62() -> None:
    unbounded = RetryPolicy(backoff_initial=1.0, backoff_max=math.inf, jitter=False)
    assert unbounded.backoff(10_000) == 2.0**62
    assert unbounded.backoff(63) == 2.0**62 and unbounded.backoff(62) == 2.0**61


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), (" 2.5 ", 2.5), ("0", 0.0), ("0.0", 0.0), ("120", 120.0)],
)
def test_retry_after_in_seconds(header: str, seconds: float) -> None:
    asked = parse_retry_after({"Retry-After": header})
    assert asked == seconds and isinstance(asked, float)


def test_a_zero_retry_after_is_zero_not_the_default() -> None:
    # "0" means resend now; None would make the pipeline wait the 1 s default.
    assert parse_retry_after({"Retry-After": "0"}, b"wait 7 seconds") == 0.0


@pytest.mark.parametrize("header", ["-1", "-0.5", "nan", "inf", "-inf", "soon", ""])
def test_a_retry_after_that_is_not_a_wait_falls_back_to_the_body(header: str) -> None:
    assert parse_retry_after({"Retry-After": header}) is None
    assert parse_retry_after({"Retry-After": header}, b"Please wait 4 seconds") == 4.0


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    headers = {"Retry-After": http_date(NOW + 30)}
    assert parse_retry_after(headers, now=lambda: NOW) == 30.0
    assert parse_retry_after({"Retry-After": f"  {http_date(NOW + 5)} "}, now=lambda: NOW) == 5.0


def test_a_date_in_the_past_is_no_wait_at_all() -> None:
    assert parse_retry_after({"Retry-After": http_date(NOW - 30)}, now=lambda: NOW) == 0.0


@pytest.mark.parametrize(
    ("body", "seconds"),
    [
        (b"Wait 5 seconds", 5.0),
        (b"too many requests, wait 2.5 sec", 2.5),
        (b"WAIT\t3s", 3.0),
        (b"wait 12 second", 12.0),
        (b"\xff\xfe not utf-8, wait 2 seconds", 2.0),
    ],
)
def test_the_wait_in_a_429_body(body: bytes, seconds: float) -> None:
    assert parse_retry_after({}, body) == seconds


@pytest.mark.parametrize("body", [b"", b"wait a moment", b"wait 5 minutes", b"waits 5"])
def test_a_body_without_a_wait_in_seconds_says_nothing(body: bytes) -> None:
    assert parse_retry_after({}, body) is None


def test_only_the_first_1000_bytes_of_a_body_are_searched() -> None:
    phrase = b"wait 5 s"
    assert parse_retry_after({}, b"x" * (1000 - len(phrase)) + phrase) == 5.0
    assert parse_retry_after({}, b"x" * (1001 - len(phrase)) + phrase) is None


def test_the_header_wins_over_the_body() -> None:
    assert parse_retry_after({"Retry-After": "1"}, b"wait 9 seconds") == 1.0


def test_classify_status_edges() -> None:
    retry = RetryPolicy().retry_statuses
    assert classify_status(399, retry, renewable=False) is Outcome.SUCCESS
    assert classify_status(499, retry, renewable=True) is Outcome.FAILED
    assert classify_status(100, retry, renewable=False) is Outcome.FAILED


POLICY = RetryPolicy(max_retries=2, backoff_initial=0.5, backoff_max=8.0, jitter=False)


def test_transient_resends_exactly_max_retries_times() -> None:
    one = RetryPolicy(max_retries=1, jitter=False)
    assert after_transient(one, 0, idempotent=True) == Decision(Action.RESEND, 0.5)
    assert after_transient(one, 1, idempotent=True) == Decision(Action.RAISE)
    assert after_transient(RetryPolicy.never(), 0, idempotent=True) == Decision(Action.RAISE)


def test_a_post_that_never_left_is_resent_only_within_the_budget() -> None:
    assert after_transient(POLICY, 1, idempotent=False, maybe_sent=False) == Decision(
        Action.RESEND, 1.0
    )
    assert after_transient(POLICY, 2, idempotent=False, maybe_sent=False) == Decision(Action.RAISE)
    assert after_transient(POLICY, 0, idempotent=True, maybe_sent=False).action is Action.RESEND


def test_a_transient_retry_after_exactly_at_the_bound_is_honoured() -> None:
    limit = POLICY.max_throttle_wait
    assert after_transient(POLICY, 0, idempotent=True, asked=limit).wait == limit
    assert after_transient(POLICY, 0, idempotent=True, asked=0.0).wait == 0.5


def test_throttling_resends_exactly_max_throttle_retries_times() -> None:
    two = RetryPolicy(max_throttle_retries=2)
    assert after_throttle(two, 1, 0.5) == Decision(Action.RESEND, 0.5)
    assert after_throttle(two, 2, 0.5) == Decision(Action.RAISE)
    assert after_throttle(two, 0, 0.0) == Decision(Action.RESEND, 0.0)  # "now" is not "default"


def test_attempt_budget_with_only_one_of_timeout_and_deadline() -> None:
    assert attempt_budget(2.0, None, 100.0) == 2.0
    assert attempt_budget(None, 102.0, 100.0) is None


def test_attempt_budget_keeps_the_timeout_within_a_millisecond_of_it() -> None:
    # 0.001 s short of the full timeout is still "full"; more than that is what is left.
    assert attempt_budget(2.0, 101.9995, 100.0) == 2.0
    assert 2.0 - 0.001 == 1.999  # exactly, in binary too: the edge itself is "full"
    assert attempt_budget(2.0, 1.999, 0.0) == 2.0
    assert attempt_budget(2.0, 101.998, 100.0) == pytest.approx(1.998)


def test_attempt_budget_out_of_time_is_what_is_left_even_for_a_tiny_timeout() -> None:
    # A timeout under a millisecond never "shrinks": only running out reports <= 0.
    assert attempt_budget(0.0005, 100.0, 100.0) == 0.0
    assert attempt_budget(0.0005, 100.0002, 100.0) == 0.0005
