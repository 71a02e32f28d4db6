"""Auth schemes at their edges: the token request as sent, expiry to the second, bad answers,
renewal bookkeeping and redaction, with a scripted token endpoint and a fake clock."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from multidict import CIMultiDict

from nexudus_async import (
    AuthenticationError,
    BasicAuth,
    BearerToken,
    MalformedResponseError,
    PasswordGrant,
    TransportError,
    ValidationError,
)
from nexudus_async._core.auth import TOKEN_PATH, Auth
from nexudus_async._core.transport import HttpRequest, HttpResponse

from .conftest import FakeClock

FORM = "application/x-www-form-urlencoded"


class TokenEndpoint:
    """Answers token requests from a script (a dict is sent as JSON, bytes as is, an
    exception raised), recording each request."""

    def __init__(self, *answers: dict[str, Any] | bytes | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[HttpRequest] = []

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        return HttpResponse(202, CIMultiDict(), body, request)

    def bodies(self) -> list[bytes | None]:
        return [r.body for r in self.sent]


def token(n: int, expires_in: Any = 1000, refresh: bool = True) -> dict[str, Any]:
    answer = {"access_token": f"access-{n}-xxxx", "expires_in": expires_in}
    if refresh:
        answer["refresh_token"] = f"refresh-{n}-xxxx"
    return answer


def grant(clock: FakeClock, **kw: Any) -> PasswordGrant:
    return PasswordGrant("a@b.example", "p&w d!", clock=clock, **kw)


PASSWORD = b"grant_type=password&username=a%40b.example&password=p%26w+d%21"


async def test_the_first_token_request_is_the_password_grant_as_a_form() -> None:
    clock = FakeClock()
    endpoint = TokenEndpoint(token(1))
    auth = grant(clock)
    assert await auth.authorization(endpoint) == ("Bearer access-1-xxxx", 1)
    [request] = endpoint.sent
    assert (request.method, request.path, request.params) == ("POST", "/api/token", ())
    assert TOKEN_PATH == "/api/token"
    assert request.body == PASSWORD
    assert request.content_type == FORM
    assert dict(request.headers) == {"Accept": "application/json"}
    assert request.timeout is None
    assert auth.token_requests == 1
    assert auth.user() == "a@b.example"


async def test_a_totp_code_is_sent_as_given_or_fresh_from_the_function() -> None:
    endpoint = TokenEndpoint(token(1), token(2))
    await grant(FakeClock(), totp="123456").authorization(endpoint)
    codes = iter(["000001", "000002"])
    await grant(FakeClock(), totp=lambda: next(codes)).authorization(endpoint)
    assert endpoint.bodies() == [PASSWORD + b"&totp=123456", PASSWORD + b"&totp=000001"]


async def test_a_token_is_used_until_its_lifetime_less_the_margin_then_renewed() -> None:
    # expires_in 1000: the margin is min(300, a tenth of 1000) = 100 s, so fresh for 900 s
    clock = FakeClock(1000.0)
    endpoint = TokenEndpoint(token(1), token(2))
    auth = grant(clock)
    await auth.authorization(endpoint)
    clock.now = 1899.5
    assert auth.cached_authorization() == ("Bearer access-1-xxxx", 1)
    assert await auth.authorization(endpoint) == ("Bearer access-1-xxxx", 1)
    clock.now = 1900.0
    assert auth.cached_authorization() is None
    assert await auth.authorization(endpoint) == ("Bearer access-2-xxxx", 2)
    assert endpoint.bodies()[1] == b"grant_type=refresh_token&refresh_token=refresh-1-xxxx"
    assert auth.token_requests == 2


async def test_a_small_margin_is_used_as_given() -> None:
    clock = FakeClock(0.0)
    auth = grant(clock, refresh_margin=30.0)
    await auth.authorization(TokenEndpoint(token(1, expires_in=1000)))
    clock.now = 969.9
    assert auth.cached_authorization() == ("Bearer access-1-xxxx", 1)
    clock.now = 970.0
    assert auth.cached_authorization() is None


@pytest.mark.parametrize("lifetime", [None, 0, -5, True, "1000", [1]])
async def test_a_missing_or_nonsensical_lifetime_counts_as_an_hour(lifetime: Any) -> None:
    clock = FakeClock(0.0)
    auth = grant(clock)
    answer = token(1, expires_in=lifetime)
    if lifetime is None:
        del answer["expires_in"]
    await auth.authorization(TokenEndpoint(answer))
    clock.now = 3299.9  # 3600 s less the 300 s margin
    assert auth.cached_authorization() == ("Bearer access-1-xxxx", 1)
    clock.now = 3300.0
    assert auth.cached_authorization() is None


async def test_a_fractional_lifetime_is_kept() -> None:
    clock = FakeClock(0.0)
    auth = grant(clock)
    await auth.authorization(TokenEndpoint(token(1, expires_in=10.5)))
    clock.now = 9.449  # 10.5 less a tenth of it
    assert auth.cached_authorization() is not None
    clock.now = 9.451
    assert auth.cached_authorization() is None


async def test_a_lifetime_of_one_second_is_taken_as_given() -> None:
    clock = FakeClock(0.0)
    auth = grant(clock)
    await auth.authorization(TokenEndpoint(token(1, expires_in=1)))
    clock.now = 0.89  # 1 s less a tenth of it
    assert auth.cached_authorization() is not None
    clock.now = 0.9
    assert auth.cached_authorization() is None


def test_no_token_is_cached_before_the_first_request() -> None:
    auth = grant(FakeClock(-10.0))
    assert auth.cached_authorization() is None
    assert auth.token_requests == 0


@pytest.mark.parametrize(
    "answer",
    [{"expires_in": 10}, {"access_token": ""}, {"access_token": 12}, {"access_token": None}],
)
async def test_an_answer_without_an_access_token_is_malformed(answer: dict[str, Any]) -> None:
    auth = grant(FakeClock())
    with pytest.raises(MalformedResponseError) as caught:
        await auth.authorization(TokenEndpoint(answer))
    assert str(caught.value) == "the token answer has no access_token [POST /api/token -> 200]"
    assert (caught.value.method, caught.value.path, caught.value.status) == (
        "POST",
        "/api/token",
        200,
    )
    assert auth.cached_authorization() is None


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"token"', b"null"])
async def test_an_answer_that_is_not_a_json_object_is_malformed(body: bytes) -> None:
    auth = grant(FakeClock())
    with pytest.raises(MalformedResponseError) as caught:
        await auth.authorization(TokenEndpoint(body))
    assert str(caught.value) == "the token answer is not a JSON object [POST /api/token -> 202]"
    assert (caught.value.method, caught.value.path, caught.value.status) == (
        "POST",
        "/api/token",
        202,
    )


async def test_a_refused_grant_is_an_authentication_error_with_what_the_api_said() -> None:
    refused = ValidationError(
        "the API rejected the request: invalid_grant",
        method="POST",
        path="/api/token",
        status=400,
        api_message="invalid_grant",
        body=b'{"error": "invalid_grant"}',
        headers={"X-Trace": "7"},
    )
    auth = grant(FakeClock())
    with pytest.raises(AuthenticationError) as caught:
        await auth.authorization(TokenEndpoint(refused))
    error = caught.value
    assert type(error) is AuthenticationError
    assert str(error) == "authentication failed: invalid_grant [POST /api/token -> 400]"
    assert (error.method, error.path, error.status) == ("POST", "/api/token", 400)
    assert error.api_message == "invalid_grant"
    assert error.body == b'{"error": "invalid_grant"}'
    assert error.headers == {"X-Trace": "7"}
    assert error.__cause__ is None and error.__suppress_context__


@pytest.mark.parametrize(
    "refusal",
    [
        AuthenticationError("expired", status=401),
        ValidationError("the API rejected the request", status=400),
    ],
)
async def test_a_refused_refresh_token_falls_back_to_the_password(refusal: Exception) -> None:
    clock = FakeClock(0.0)
    endpoint = TokenEndpoint(token(1), refusal, token(3))
    auth = grant(clock)
    await auth.authorization(endpoint)
    clock.now = 5000.0
    assert await auth.authorization(endpoint) == ("Bearer access-3-xxxx", 2)
    assert endpoint.bodies() == [
        PASSWORD,
        b"grant_type=refresh_token&refresh_token=refresh-1-xxxx",
        PASSWORD,
    ]
    assert auth.token_requests == 3


async def test_a_refresh_that_fails_otherwise_is_raised() -> None:
    clock = FakeClock(0.0)
    endpoint = TokenEndpoint(token(1), TransportError("connection dropped"))
    auth = grant(clock)
    await auth.authorization(endpoint)
    clock.now = 5000.0
    with pytest.raises(TransportError, match=r"^connection dropped$"):
        await auth.authorization(endpoint)
    assert len(endpoint.sent) == 2


async def test_an_answer_without_a_refresh_token_keeps_the_one_before() -> None:
    clock = FakeClock(0.0)
    endpoint = TokenEndpoint(token(1), token(2, refresh=False), token(3))
    auth = grant(clock)
    for now in (0.0, 5000.0, 10000.0):
        clock.now = now
        await auth.authorization(endpoint)
    assert endpoint.bodies()[1:] == [
        b"grant_type=refresh_token&refresh_token=refresh-1-xxxx",
        b"grant_type=refresh_token&refresh_token=refresh-1-xxxx",
    ]


async def test_a_401_renews_unless_somebody_already_did() -> None:
    clock = FakeClock(0.0)
    endpoint = TokenEndpoint(token(1), token(2))
    auth = grant(clock)
    _, marker = await auth.authorization(endpoint)
    assert marker == 1
    assert await auth.renew_after_unauthorized(marker, endpoint) is True
    assert auth.cached_authorization() == ("Bearer access-2-xxxx", 2)
    # A second caller whose request carried token 1 gets token 2 without another request.
    assert await auth.renew_after_unauthorized(1, endpoint) is True
    assert auth.token_requests == 2
    # Credentials that were never this grant's cannot be renewed.
    assert await auth.renew_after_unauthorized(None, endpoint) is False
    assert await auth.renew_after_unauthorized("1", endpoint) is False
    assert auth.token_requests == 2


async def test_waiting_callers_share_one_token_request() -> None:
    release = asyncio.Event()
    endpoint = TokenEndpoint(token(1))

    async def slow(request: HttpRequest) -> HttpResponse:
        await release.wait()
        return await endpoint(request)

    auth = grant(FakeClock())
    async with asyncio.timeout(5):
        calls = [asyncio.ensure_future(auth.authorization(slow)) for _ in range(3)]
        await asyncio.sleep(0)
        release.set()
        assert await asyncio.gather(*calls) == [("Bearer access-1-xxxx", 1)] * 3
    assert auth.token_requests == 1


async def test_a_failed_renewal_is_not_reused_by_the_next_caller() -> None:
    endpoint = TokenEndpoint(TransportError("down"), token(1))
    auth = grant(FakeClock())
    with pytest.raises(TransportError):
        await auth.authorization(endpoint)
    assert await auth.authorization(endpoint) == ("Bearer access-1-xxxx", 1)


async def test_the_secrets_redacted_are_the_password_the_tokens_and_a_text_totp() -> None:
    clock = FakeClock(0.0)
    auth = grant(clock, totp="987654")
    assert auth.secrets() == ("p&w d!", "987654")
    await auth.authorization(TokenEndpoint(token(1)))
    assert auth.secrets() == ("p&w d!", "987654", "access-1-xxxx", "refresh-1-xxxx")
    with_function = grant(clock, totp=lambda: "111111")
    assert with_function.secrets() == ("p&w d!",)


async def test_the_five_tokens_before_the_current_ones_are_still_redacted() -> None:
    clock = FakeClock(0.0)
    endpoint = TokenEndpoint(*(token(n) for n in range(1, 9)))
    auth = grant(clock)
    for n in range(8):
        clock.now = 5000.0 * n
        await auth.authorization(endpoint)
    text = " ".join(f"access-{n}-xxxx refresh-{n}-xxxx" for n in range(1, 9))
    # tokens 3 to 7 are the five generations kept; 1 and 2 are forgotten
    assert auth.redact(text) == "access-1-xxxx refresh-1-xxxx access-2-xxxx refresh-2-xxxx" + (
        " *** ***" * 6
    )


def test_redaction_covers_every_encoding_of_a_secret() -> None:
    auth = BasicAuth("user@example.com", 'Pw! x/é"')
    forms = [
        'Pw! x/é"',
        'Pw! x/é\\"',  # JSON
        'Pw! x/\\u00e9\\"',  # JSON, ASCII-escaped
        "Pw%21+x%2F%C3%A9%22",  # form encoding
        "Pw%21%20x%2F%C3%A9%22",
        "Pw%21%20x/%C3%A9%22",  # a path
        "Pw%21+x%2f%c3%a9%22",  # lower-case hex digits
        "Pw%21%20x%2f%c3%a9%22",
        "Pw%21%20x/%c3%a9%22",
    ]
    assert [auth.redact(f"[{f}]") for f in forms] == ["[***]"] * len(forms)


def test_redaction_replaces_the_longest_form_first_and_skips_tiny_secrets() -> None:
    auth = BasicAuth("u@example.com", "ab")
    header = "Basic " + base64.b64encode(b"u@example.com:ab").decode()
    assert auth.redact(f"sent {header}; password ab") == "sent ***; password ab"
    assert auth.redact("the code abc") == "the code abc"
    assert BasicAuth("u@example.com", "abc").redact("the code abc") == "the code ***"


def test_basic_auth_sends_the_email_and_password_and_hides_them() -> None:
    auth = BasicAuth("u@example.com", "pw:1")
    encoded = base64.b64encode(b"u@example.com:pw:1").decode("ascii")
    assert auth.cached_authorization() == (f"Basic {encoded}", None)
    assert asyncio.run(auth.authorization(TokenEndpoint())) == (f"Basic {encoded}", None)
    assert auth.user() == "u@example.com"
    assert auth.secrets() == ("pw:1", f"Basic {encoded}", encoded)
    assert repr(auth) == "BasicAuth(<credentials hidden>)"
    assert asyncio.run(auth.renew_after_unauthorized(None, TokenEndpoint())) is False


def test_a_bearer_token_is_sent_as_is_and_never_renewed() -> None:
    auth = BearerToken("tok-123")
    assert auth.cached_authorization() == ("Bearer tok-123", None)
    assert asyncio.run(auth.authorization(TokenEndpoint())) == ("Bearer tok-123", None)
    assert auth.secrets() == ("tok-123",)
    assert auth.user() is None
    assert repr(auth) == "BearerToken(<credentials hidden>)"
    assert repr(grant(FakeClock())) == "PasswordGrant(<credentials hidden>)"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BasicAuth("", "x"), "BasicAuth needs a non-empty email and password"),
        (lambda: BasicAuth("u", ""), "BasicAuth needs a non-empty email and password"),
        (lambda: BearerToken(""), "BearerToken needs a non-empty token"),
        (lambda: PasswordGrant("", "x"), "PasswordGrant needs a non-empty email and password"),
        (lambda: PasswordGrant("u", ""), "PasswordGrant needs a non-empty email and password"),
    ],
)
def test_empty_credentials_are_refused_by_name(make: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        make()
    assert str(caught.value) == message


def test_the_base_scheme_has_no_credentials() -> None:
    auth = Auth()
    assert auth.cached_authorization() is None
    assert auth.user() is None
    assert auth.secrets() == ()
    assert auth.redact("text") == "text"
    with pytest.raises(NotImplementedError):
        asyncio.run(auth.authorization(TokenEndpoint()))
    assert asyncio.run(auth.renew_after_unauthorized(1, TokenEndpoint())) is False
