"""The errors a caller gets from an answer or a failed attempt, word for word (`_core/answers.py`).

Each test builds the answer (status, headers, body) or the transport's failure
and checks the error the request loop would raise: its class, its exact text,
and every fact it carries (method, path, status, API message, field errors,
body, headers, cause), since a caller reads them to decide what to do.
"""

from __future__ import annotations

import logging

import aiohttp
import pytest
from multidict import CIMultiDict

from nexudus_async._core.answers import (
    failure_error,
    outcome_unknown,
    status_error,
    throttled_error,
    unknown_after_failure,
    unreadable_success,
)
from nexudus_async._core.call import Call
from nexudus_async._core.errors import (
    APIError,
    MalformedResponseError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    UnsuccessfulResponseError,
)
from nexudus_async._core.transport import HttpRequest, HttpResponse, SendError

PATH = "/api/billing/coworkertimepasses"


def redact(text: str) -> str:
    return text.replace("s3cret", "***")


def call(method: str = "PUT") -> Call:
    made = Call(HttpRequest(method, PATH), None, {}, None)
    made.attempt = 3
    return made


def answer(status: int, body: bytes, content_type: str | None = None) -> HttpResponse:
    headers = CIMultiDict({"X-Request-Id": "r-1"})
    if content_type is not None:
        headers["Content-Type"] = content_type
    return HttpResponse(status, headers, body)


# status_error: the body read as JSON by its first byte or by its Content-Type


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=utf-8"])
def test_a_json_body_with_leading_space_is_read_by_its_content_type(content_type: str) -> None:
    body = b' {"Message": "bad s3cret"}'
    error = status_error(answer(503, body, content_type), call(), redact)
    assert isinstance(error, ServerError)
    assert error.api_message == "bad ***"
    assert (error.method, error.path, error.status) == ("PUT", PATH, 503)
    assert error.headers["X-Request-Id"] == "r-1"
    assert error.headers["Content-Type"] == content_type


def test_a_body_not_json_by_byte_nor_header_has_no_api_message() -> None:
    error = status_error(answer(503, b' {"Message": "bad"}'), call(), redact)
    assert error.api_message is None
    assert error.body == b' {"Message": "bad"}'
    error = status_error(answer(503, b"oops", "text/plain"), call(), redact)
    assert error.api_message is None


# throttled_error


def test_the_throttled_error_after_the_waits_says_what_the_api_asked() -> None:
    response = answer(429, b'{"Message": "slow down"}', "application/json")
    error = throttled_error(response, call("GET"), 2.5)
    assert (
        error.message == "still throttled (429) after the allowed waits; the API asks to wait 2.5s"
    )
    assert (error.retry_after, error.status, error.method, error.path) == (2.5, 429, "GET", PATH)
    assert error.body == b'{"Message": "slow down"}'
    assert error.headers["X-Request-Id"] == "r-1"
    plain = throttled_error(answer(409, b""), call("GET"), None)
    assert plain.message == "still throttled (409) after the allowed waits"
    assert plain.retry_after is None


# unreadable_success


def test_a_204_is_never_unreadable_but_a_205_with_no_body_to_a_put_is() -> None:
    assert unreadable_success(answer(204, b""), call(), redact) is None
    error = unreadable_success(answer(205, b""), call(), redact)
    assert isinstance(error, MalformedResponseError)
    assert error.message == "the API answered an empty body"
    assert (error.method, error.path, error.status, error.body) == ("PUT", PATH, 205, b"")
    assert error.headers["X-Request-Id"] == "r-1"


@pytest.mark.parametrize(
    ("content_type", "named"),
    [("text/html; charset=utf-8", "text/html"), (None, "no Content-Type")],
)
def test_a_put_answered_with_a_body_that_is_not_json_names_its_type(
    content_type: str | None, named: str
) -> None:
    error = unreadable_success(answer(200, b"<html>", content_type), call("DELETE"), redact)
    assert isinstance(error, MalformedResponseError)
    assert error.message == f"the API answered a body that is not JSON ({named})"
    assert error.body == b"<html>"
    assert error.headers["X-Request-Id"] == "r-1"
    # a POST's such answer is left to the caller (its outcome is unknown, not resent)
    assert unreadable_success(answer(200, b"<html>", content_type), call("POST"), redact) is None


def test_a_json_answer_is_read_by_its_first_byte_or_by_its_content_type() -> None:
    assert unreadable_success(answer(200, b'{"WasSuccessful": true}'), call(), redact) is None
    spaced = answer(200, b' {"WasSuccessful": true}', "application/json")
    assert unreadable_success(spaced, call(), redact) is None


def test_a_body_that_starts_as_json_but_is_not_is_malformed_with_its_cause() -> None:
    error = unreadable_success(answer(200, b"{oops", "application/json"), call(), redact)
    assert isinstance(error, MalformedResponseError)
    assert error.message == "the API answered a body that is not valid JSON"
    assert isinstance(error.__cause__, ValueError)


def test_was_successful_false_raises_with_the_apis_message_redacted_and_its_field_errors() -> None:
    body = (
        b'{"WasSuccessful": false, "Message": "no s3cret here",'
        b' "Errors": [{"PropertyName": "Notes", "Message": "too long"}]}'
    )
    with pytest.raises(UnsuccessfulResponseError) as info:
        unreadable_success(answer(200, body, "application/json"), call(), redact)
    error = info.value
    assert error.message == "the API reported failure (WasSuccessful: false): no *** here"
    assert (error.method, error.path, error.status) == ("PUT", PATH, 200)
    assert error.api_message == "no *** here"
    assert [(e.property_name, e.message) for e in error.errors] == [("Notes", "too long")]
    assert error.body == body
    assert error.headers["X-Request-Id"] == "r-1"


def test_was_successful_false_without_a_message_says_only_that() -> None:
    with pytest.raises(UnsuccessfulResponseError) as info:
        unreadable_success(answer(200, b'{"WasSuccessful": false}'), call(), redact)
    assert info.value.message == "the API reported failure (WasSuccessful: false)"
    assert info.value.api_message is None


# failure_error


def failure(exc: BaseException) -> SendError:
    error = SendError(exc)
    error.__cause__ = exc
    return error


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (TimeoutError(), "the request timed out"),
        (aiohttp.ServerTimeoutError("read"), "the request timed out (ServerTimeoutError)"),
    ],
)
def test_a_timed_out_attempt_is_a_request_timeout_error(exc: BaseException, text: str) -> None:
    sent = failure(exc)
    error = failure_error(sent, call("GET"), redact)
    assert isinstance(error, RequestTimeoutError)
    assert error.message == text
    assert (error.method, error.path) == ("GET", PATH)
    assert (error.connected, error.may_have_reached_server) == (True, True)
    assert error.__cause__ is exc


def test_a_connection_failure_keeps_the_urls_path_and_drops_its_query() -> None:
    exc = aiohttp.ServerDisconnectedError("lost https://host.test/api/x?token=s3cret#frag")
    error = failure_error(failure(exc), call("POST"), redact)
    assert type(error) is TransportError
    assert error.message == (
        "connection failed (ServerDisconnectedError: lost https://host.test/api/x#frag)"
    )
    assert (error.method, error.path) == ("POST", PATH)
    assert (error.connected, error.may_have_reached_server) == (True, True)
    assert error.__cause__ is exc


def test_a_connection_failure_without_a_text_names_only_its_kind() -> None:
    exc = ConnectionResetError()
    error = failure_error(failure(exc), call("GET"), redact)
    assert error.message == "connection failed (ConnectionResetError)"
    assert error.__cause__ is exc


# unknown_after_failure and outcome_unknown


def test_a_failure_not_resent_is_an_unknown_outcome_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cause = TransportError("connection failed (ServerDisconnectedError)")
    with caplog.at_level(logging.WARNING, logger="nexudus_async"):
        error = unknown_after_failure(cause, call("POST"))
    assert error.message == (
        "the outcome is unknown: connection failed (ServerDisconnectedError); the request may "
        "have been executed and was not resent"
    )
    assert (error.method, error.path, error.cause) == ("POST", PATH, cause)
    [record] = caplog.records
    assert record.getMessage() == (
        f"POST {PATH}: connection failed (ServerDisconnectedError); "
        "not resent, the outcome is unknown (attempt 3)"
    )
    fields = ("nexudus_method", "nexudus_path", "nexudus_status", "nexudus_attempt")
    assert [getattr(record, f) for f in fields] == ["POST", PATH, None, 3]
    assert record.__dict__["nexudus_wait"] == 0.0


def test_an_unreadable_answer_not_resent_is_an_unknown_outcome() -> None:
    cause = MalformedResponseError("the API answered an empty body", status=200)
    error = outcome_unknown(cause, call("POST"), 200)
    assert error.message == (
        "the outcome is unknown: the API's answer could not be read; "
        "the request may have been executed and was not resent"
    )
    assert (error.method, error.path, error.status, error.cause) == ("POST", PATH, 200, cause)
    assert error.api_message is None


@pytest.mark.parametrize(
    ("api_message", "said"),
    [("busy", "the API answered 503 (busy)"), (None, "the API answered 503")],
)
def test_a_transient_status_not_resent_is_an_unknown_outcome(
    api_message: str | None, said: str
) -> None:
    cause = APIError("server error", status=503, api_message=api_message)
    error = outcome_unknown(cause, call("POST"), 503)
    assert error.message == (
        f"the outcome is unknown: {said}; the request may have been executed and was not resent"
    )
    assert (error.method, error.path, error.status) == ("POST", PATH, 503)
    assert (error.api_message, error.cause) == (api_message, cause)
