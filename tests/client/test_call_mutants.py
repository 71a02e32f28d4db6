"""One call's record on its own: the request each attempt sends, its budget, its errors' texts.

The pipeline builds a :class:`Call` per ``send``; what it puts on the wire (headers,
timeout, method), whether it may resend, and the words of a timeout come from here.
"""

from __future__ import annotations

import time

import pytest

from nexudus_async._core.auth import TOKEN_PATH, BearerToken
from nexudus_async._core.call import Call, Credentialed
from nexudus_async._core.errors import RequestTimeoutError, ServerError
from nexudus_async._core.transport import HttpRequest, WireHeaders

AUTH = BearerToken("t0ken")


def test_a_request_without_headers_takes_the_defaults_and_the_credentials_per_attempt() -> None:
    defaults = {"Accept": "application/json", "User-Agent": "ua"}
    call = Call(HttpRequest("get", "/api/x", timeout=None), AUTH, defaults, 12.0)
    assert (call.method, call.path, call.timeout) == ("GET", "/api/x", 12.0)
    sent = call.with_credentials("Bearer t0ken", 3.0)
    assert sent.headers == {**defaults, "Authorization": "Bearer t0ken"}
    assert (sent.method, sent.path, sent.timeout) == ("get", "/api/x", 3.0)
    assert defaults == {"Accept": "application/json", "User-Agent": "ua"}  # not written to
    assert "Authorization" not in call.headers


def test_the_requests_own_headers_and_timeout_win_over_the_defaults() -> None:
    request = HttpRequest(
        "POST",
        "/api/y",
        params=(("a", "1"),),
        body=b"{}",
        content_type="application/json",
        headers={"Accept": "text/plain", "X-Own": "1"},
        timeout=2.5,
    )
    call = Call(request, AUTH, {"Accept": "application/json", "User-Agent": "ua"}, 30.0)
    assert call.timeout == 2.5
    assert call.headers == {"Accept": "text/plain", "User-Agent": "ua", "X-Own": "1"}
    sent = call.with_credentials("Basic x", None)
    assert (sent.params, sent.body, sent.content_type, sent.timeout) == (
        (("a", "1"),),
        b"{}",
        "application/json",
        None,
    )
    assert sent.headers == {
        "Accept": "text/plain",
        "User-Agent": "ua",
        "X-Own": "1",
        "Authorization": "Basic x",
    }


def test_without_defaults_the_requests_headers_are_copied() -> None:
    own = {"X-Own": "1"}
    call = Call(HttpRequest("GET", "/api/z", headers=own), AUTH, {}, None)
    assert call.headers == own and call.headers is not own
    assert (call.timeout, call.deadline) == (None, None)


def test_a_request_without_credentials_is_resent_with_the_headers_and_timeout_it_was_given() -> (
    None
):
    request = HttpRequest("POST", TOKEN_PATH, body=b"grant", content_type="x", headers={"B": "2"})
    call = Call(request, None, {"A": "1"}, 7.0)
    assert call.request == HttpRequest(
        "POST", TOKEN_PATH, (), b"grant", "x", {"A": "1", "B": "2"}, 7.0
    )
    plain = HttpRequest("GET", "/api/x")
    with_auth = Call(plain, AUTH, {"A": "1"}, 7.0)
    assert with_auth.request is plain  # credentials and timeout are added per attempt


@pytest.mark.parametrize(
    ("method", "path", "idempotent", "write"),
    [
        ("GET", "/api/x", True, False),
        ("get", "/api/x", True, False),
        ("PUT", "/api/x", True, True),
        ("DELETE", "/api/x", True, True),
        ("POST", "/api/x", False, True),
        ("PATCH", "/api/x", False, True),
        ("POST", TOKEN_PATH, True, True),  # the token request creates nothing
        ("POST", TOKEN_PATH + "/other", False, True),
    ],
)
def test_which_calls_may_be_resent_and_which_are_writes(
    method: str, path: str, idempotent: bool, write: bool
) -> None:
    call = Call(HttpRequest(method, path), AUTH, {}, None)
    assert (call.idempotent, call.write) == (idempotent, write)


def test_a_call_starts_with_nothing_spent() -> None:
    call = Call(HttpRequest("GET", "/api/x"), AUTH, {}, None)
    assert (call.attempt, call.resends, call.throttled_waits, call.stale_renewals) == (0, 0, 0, 0)
    assert (call.renewed_after_401, call.may_have_run) == (False, False)
    assert (call.last_error, call.token_marker, call.sent_at, call.auth) == (None, None, 0.0, AUTH)


def test_the_deadline_is_the_timeout_from_when_the_call_was_made() -> None:
    before = time.monotonic()
    call = Call(HttpRequest("GET", "/api/x", timeout=30.0), AUTH, {}, None)
    after = time.monotonic()
    assert call.deadline is not None and before + 30.0 <= call.deadline <= after + 30.0


def test_a_wait_that_would_reach_the_deadline_raises_the_timeout_with_its_cause() -> None:
    call = Call(HttpRequest("PUT", "/api/x/1", timeout=60.0), AUTH, {}, None)
    cause = ServerError("the server failed", method="PUT", path="/api/x/1", status=503)
    call.check_wait_fits(1.0, cause)  # well within
    with pytest.raises(RequestTimeoutError) as caught:
        call.check_wait_fits(61.0, cause)
    error = caught.value
    assert error.message == (
        "the call's timeout of 60s ran out (last: the server failed); nothing more was sent"
    )
    assert (error.method, error.path, error.__cause__) == ("PUT", "/api/x/1", cause)
    unbounded = Call(HttpRequest("PUT", "/api/x/1"), AUTH, {}, None)
    unbounded.check_wait_fits(10_000.0, cause)  # no deadline: any wait fits


def test_a_timeout_without_a_cause_or_a_budget_says_so() -> None:
    call = Call(HttpRequest("GET", "/api/x"), AUTH, {}, None)
    error = call.timed_out(None)
    assert error.message == "the call's timeout ran out; nothing more was sent"
    assert (error.method, error.path, error.__cause__) == ("GET", "/api/x", None)
    short = Call(HttpRequest("GET", "/api/x", timeout=0.25), AUTH, {}, None)
    assert short.timed_out(None).message == (
        "the call's timeout of 0.25s ran out; nothing more was sent"
    )


def test_a_token_that_keeps_expiring_in_the_queue_stops_the_call_after_the_limit() -> None:
    call = Call(HttpRequest("GET", "/api/x"), AUTH, {}, None)
    call.attempt = 5
    call.count_stale_renewal(2)
    call.count_stale_renewal(2)
    assert (call.attempt, call.stale_renewals) == (3, 2)  # not attempts: queued again
    with pytest.raises(RequestTimeoutError) as caught:
        call.count_stale_renewal(2)
    assert caught.value.message == (
        "the access token expired 3 times while the call waited in the rate limiter's "
        "queue (tokens live shorter than the queue); nothing was sent"
    )
    assert (caught.value.method, caught.value.path, caught.value.__cause__) == (
        "GET",
        "/api/x",
        None,
    )
    bounded = Call(HttpRequest("GET", "/api/x", timeout=60.0), AUTH, {}, None)
    for _ in range(5):  # the deadline bounds it instead
        bounded.count_stale_renewal(2)
    assert bounded.stale_renewals == 5


def test_a_log_records_fields_name_the_call_never_its_headers() -> None:
    call = Call(HttpRequest("delete", "/api/x/9", headers={"Secret": "s"}), AUTH, {}, None)
    assert call.extra(404, 2, 0.5) == {
        "nexudus_method": "DELETE",
        "nexudus_path": "/api/x/9",
        "nexudus_status": 404,
        "nexudus_attempt": 2,
        "nexudus_wait": 0.5,
    }


def test_credentialed_headers_are_built_once_per_credentials_value() -> None:
    base = {"Accept": "application/json", "User-Agent": "ua"}
    shared = Credentialed(base)
    first = shared.get("Bearer one")
    assert type(first) is WireHeaders
    # The header names as the wire carries them, credentials last, the base unchanged.
    assert list(first.items()) == [
        ("Accept", "application/json"),
        ("User-Agent", "ua"),
        ("Authorization", "Bearer one"),
    ]
    assert base == {"Accept": "application/json", "User-Agent": "ua"}
    assert shared.get("Bearer one") is first  # the same value: the same headers, not rebuilt
    renewed = shared.get("Bearer two")
    assert renewed["Authorization"] == "Bearer two" and first["Authorization"] == "Bearer one"
    assert shared.get("Bearer two") is renewed
    assert shared.get("Bearer one") is not first  # one value kept: the latest
    assert shared.get("Bearer one")["Authorization"] == "Bearer one"


def test_a_credentialed_call_without_headers_of_its_own_sends_the_shared_headers() -> None:
    defaults = {"Accept": "application/json"}
    shared = Credentialed(defaults)
    call = Call(HttpRequest("GET", "/api/x"), AUTH, defaults, None, shared)
    sent = call.with_credentials("Bearer t0ken", 5.0)
    assert sent.headers is shared.get("Bearer t0ken")
    assert list(sent.headers.items()) == [
        ("Accept", "application/json"),
        ("Authorization", "Bearer t0ken"),
    ]
    # a second attempt, and another call, share them too
    assert call.with_credentials("Bearer t0ken", 4.0).headers is sent.headers
    other = Call(HttpRequest("POST", "/api/y", body=b"{}"), AUTH, defaults, None, shared)
    assert other.with_credentials("Bearer t0ken", None).headers is sent.headers


def test_a_call_with_headers_of_its_own_or_without_credentials_does_not_share_them() -> None:
    defaults = {"Accept": "application/json"}
    shared = Credentialed(defaults)
    own = Call(HttpRequest("GET", "/api/x", headers={"X-Own": "1"}), AUTH, defaults, None, shared)
    sent = own.with_credentials("Bearer t0ken", None)
    assert type(sent.headers) is dict
    assert sent.headers == {
        "Accept": "application/json",
        "X-Own": "1",
        "Authorization": "Bearer t0ken",
    }
    anonymous = Call(HttpRequest("POST", TOKEN_PATH), None, defaults, None, shared)
    assert anonymous.credentialed is None
