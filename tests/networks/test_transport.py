"""The plain transport on its own: what goes to aiohttp, and what each failure means.

A session that records its calls stands in for aiohttp's, so each case says exactly
which arguments a request carries and which error (type, text, attributes) a
certificate, a cut handshake or a refusing proxy becomes: whether anything may have
reached the server decides whether the pipeline may retry.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from multidict import CIMultiDict

from nexudus_async import ProxyError, TLSError
from nexudus_async._core import transport as transport_module
from nexudus_async._core.network import Proxy
from nexudus_async._core.transport import (
    TRUST_HINT,
    AiohttpTransport,
    HttpRequest,
    HttpResponse,
    SendError,
    dumps,
    loads,
    tls_error,
)


def _key(host: str = "api.example.test", port: int | None = 443) -> ConnectionKey:
    return ConnectionKey(host, port, True, True, None, None, None, None)


def _verification(code: int, message: str | None) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_code = code
    error.verify_message = message  # type: ignore[assignment]
    return error


def _certificate_failure(
    code: int, message: str | None = "some reason.", port: int | None = 443
) -> TLSError | None:
    exc = aiohttp.ClientConnectorCertificateError(_key(port=port), _verification(code, message))
    return tls_error(exc, "POST", "/api/x")


# ---------------------------------------------------------------- certificates


@pytest.mark.parametrize(
    ("code", "problem", "summary"),
    [
        (
            10,
            "expired",
            "cannot trust api.example.test: its certificate has expired (the server "
            "must renew it, or this machine's clock is wrong)",
        ),
        (
            9,
            "not_yet_valid",
            "cannot trust api.example.test: its certificate is not valid yet (check "
            "this machine's clock)",
        ),
        (
            62,
            "wrong_name",
            "cannot trust api.example.test: its certificate is for another host name "
            "(some reason); check the host in the base URL",
        ),
        (
            64,
            "wrong_name",
            "cannot trust api.example.test: its certificate is for another host name "
            "(some reason); check the host in the base URL",
        ),
        (
            7,
            "rejected",
            "cannot trust api.example.test: its certificate was rejected (some reason)",
        ),
        (
            63,
            "rejected",
            "cannot trust api.example.test: its certificate was rejected (some reason)",
        ),
    ],
)
def test_each_certificate_verdict_is_one_problem_with_its_own_words(
    code: int, problem: str, summary: str
) -> None:
    error = _certificate_failure(code)
    assert type(error) is TLSError
    assert error.problem == problem
    assert error.summary == summary
    assert error.message == summary  # no advice about authorities: they are not the problem
    assert (error.host, error.port, error.method, error.path) == (
        "api.example.test",
        443,
        "POST",
        "/api/x",
    )


@pytest.mark.parametrize("code", [2, 18, 19, 20, 21])
def test_an_untrusted_authority_says_how_to_trust_one(code: int) -> None:
    error = _certificate_failure(code, "self-signed certificate in certificate chain.")
    assert error is not None
    assert error.problem == "unknown_authority"
    summary = (
        "cannot trust api.example.test: its certificate is signed by an authority this "
        "machine does not trust (self-signed certificate in certificate chain)"
    )
    assert error.summary == summary
    assert error.message == f"{summary}; {TRUST_HINT}"
    assert TRUST_HINT == (
        "to trust your network's authority, pass its certificate file (PEM) as "
        "ca_bundle=, or set SSL_CERT_FILE"
    )


def test_a_verification_without_a_message_says_there_is_no_detail() -> None:
    error = _certificate_failure(7, None)
    assert error is not None
    assert error.summary == (
        "cannot trust api.example.test: its certificate was rejected (no detail)"
    )


def test_only_a_trailing_full_stop_of_openssl_is_dropped() -> None:
    error = _certificate_failure(7, "a.b. c.X..")
    assert error is not None
    assert error.summary.endswith("rejected (a.b. c.X)")


@pytest.mark.parametrize(
    ("port", "where"),
    [(443, "api.example.test"), (None, "api.example.test"), (8443, "api.example.test:8443")],
)
def test_the_port_is_named_unless_it_is_https_own(port: int | None, where: str) -> None:
    error = _certificate_failure(10, port=port)
    assert error is not None
    assert error.summary.startswith(f"cannot trust {where}: its certificate has expired")
    assert error.port == port


# ---------------------------------------------------------------- handshakes


def _handshake_failure(cause: OSError) -> TLSError | None:
    return tls_error(aiohttp.ClientConnectorSSLError(_key(port=8443), cause), "GET", "/api/y")


@pytest.mark.parametrize(
    "cause",
    [
        ssl.SSLEOFError(8, "EOF occurred in violation of protocol"),
        ssl.SSLZeroReturnError(6, "TLS/SSL connection has been closed"),
        ssl.SSLSyscallError(5, "Some I/O error occurred"),
        ConnectionResetError(104, "Connection reset by peer"),
        OSError(113, "No route to host"),
    ],
    ids=["eof", "zero-return", "syscall", "reset", "not-tls"],
)
def test_a_handshake_cut_short_is_no_tls_verdict(cause: OSError) -> None:
    # None: the caller re-raises the connection error, retried like any dropped connection
    assert _handshake_failure(cause) is None


def test_a_handshake_that_fails_for_tls_reasons_is_a_handshake_problem() -> None:
    cause = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    cause.reason = "WRONG_VERSION_NUMBER"  # type: ignore[misc]
    error = _handshake_failure(cause)
    assert error is not None
    assert error.problem == "handshake"
    assert (
        error.message
        == error.summary
        == (
            "no TLS connection to api.example.test:8443 could be made (wrong version number); "
            "is it an https:// server?"
        )
    )
    assert (error.method, error.path, error.port) == ("GET", "/api/y", 8443)


def test_a_handshake_failure_without_a_reason_uses_the_error_text() -> None:
    cause = ssl.SSLError(1, "Some_Odd FAILURE")
    cause.reason = None  # type: ignore[misc]  # as OpenSSL leaves it when it names none
    error = _handshake_failure(cause)
    assert error is not None
    assert "could be made (some odd failure);" in error.summary


def test_a_handshake_failure_with_no_words_at_all_says_no_detail() -> None:
    cause = ssl.SSLError()
    cause.reason = None  # type: ignore[misc]
    error = _handshake_failure(cause)
    assert error is not None
    assert "could be made (no detail);" in error.summary


# ---------------------------------------------------------------- the session seam


class _Answer:
    status = 201
    headers = CIMultiDict({"Content-Type": "application/json"})

    async def read(self) -> bytes:
        return b'{"Id": 5}'


class _Exchange:
    def __init__(self, failure: BaseException | None) -> None:
        self.failure = failure

    async def __aenter__(self) -> _Answer:
        if self.failure is not None:
            raise self.failure
        return _Answer()

    async def __aexit__(self, *exc: object) -> None:
        return None


class RecordingSession:
    """Stands in for ``aiohttp.ClientSession``: records each request, answers or fails."""

    timeout = aiohttp.ClientTimeout(total=300)

    def __init__(self, failure: BaseException | None = None) -> None:
        self.failure = failure
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> _Exchange:
        self.calls.append((method, url, kwargs))
        return _Exchange(self.failure)


def _transport(session: RecordingSession, **kwargs: Any) -> AiohttpTransport:
    return AiohttpTransport(
        cast(aiohttp.ClientSession, session), "https://api.example.test/", **kwargs
    )


async def test_a_request_goes_out_exactly_as_built_and_comes_back_read() -> None:
    session = RecordingSession()
    transport = _transport(session, timeout=30.0)
    assert transport.base_url == "https://api.example.test"
    assert transport.session is session
    request = HttpRequest(
        "POST",
        "/api/billing/x",
        params=(("a", "1"),),
        body=b'{"b":2}',
        content_type="application/json",
        headers={"Authorization": "Bearer t"},
    )
    response = await transport.send(request)
    [(method, url, kwargs)] = session.calls
    assert (method, url) == ("POST", "https://api.example.test/api/billing/x")
    assert kwargs == {
        "params": (("a", "1"),),
        "data": b'{"b":2}',
        "headers": {"Authorization": "Bearer t", "Content-Type": "application/json"},
        "allow_redirects": False,
        "timeout": aiohttp.ClientTimeout(total=30.0),
    }
    assert request.headers == {"Authorization": "Bearer t"}  # the request's own: untouched
    assert (response.status_code, response.content, response.request) == (
        201,
        b'{"Id": 5}',
        request,
    )
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"Id": 5}


def test_only_trailing_slashes_leave_the_base_url() -> None:
    session = cast(aiohttp.ClientSession, RecordingSession())
    transport = AiohttpTransport(session, "https://EXAMPLE.TEST/NEXUDUSX//")
    assert transport.base_url == "https://EXAMPLE.TEST/NEXUDUSX"


async def test_no_query_is_none_and_headers_of_another_mapping_become_a_dict() -> None:
    session = RecordingSession()
    headers: Mapping[str, str] = CIMultiDict({"Accept": "application/json"})
    await _transport(session).send(HttpRequest("GET", "/p", headers=headers))
    [(_, _, kwargs)] = session.calls
    assert kwargs["params"] is None
    assert kwargs["data"] is None
    assert type(kwargs["headers"]) is dict
    assert kwargs["headers"] == {"Accept": "application/json"}
    assert kwargs["timeout"] is session.timeout  # no timeout of ours: the session's applies


async def test_a_request_timeout_overrides_the_transport_one_and_is_reused() -> None:
    session = RecordingSession()
    transport = _transport(session, timeout=30.0)
    await transport.send(HttpRequest("GET", "/a", timeout=5.0))
    await transport.send(HttpRequest("GET", "/b", timeout=5.0))
    await transport.send(HttpRequest("GET", "/c"))
    first, second, third = (kwargs["timeout"] for _, _, kwargs in session.calls)
    assert first == aiohttp.ClientTimeout(total=5.0)
    assert second is first
    assert third == aiohttp.ClientTimeout(total=30.0)


async def test_a_certificate_and_proxy_of_the_client_go_with_every_request() -> None:
    session = RecordingSession()
    context = ssl.create_default_context()
    proxy = Proxy(url="http://proxy.test:3128", headers={"X-Who": "me"})
    await _transport(session, ssl_context=context, proxy=proxy).send(HttpRequest("GET", "/p"))
    [(_, _, kwargs)] = session.calls
    assert kwargs["ssl"] is context
    assert kwargs["proxy"] == "http://proxy.test:3128"
    assert kwargs["proxy_headers"] == {"X-Who": "me"}


async def test_a_proxy_without_headers_sends_none() -> None:
    session = RecordingSession()
    proxy = Proxy(url="http://proxy.test:3128")
    await _transport(session, proxy=proxy).send(HttpRequest("GET", "/p"))
    [(_, _, kwargs)] = session.calls
    assert kwargs["proxy"] == "http://proxy.test:3128"
    assert "proxy_headers" not in kwargs
    assert "ssl" not in kwargs


async def test_an_untrusted_certificate_raises_its_tls_error_from_aiohttp_own() -> None:
    failure = aiohttp.ClientConnectorCertificateError(_key(), _verification(10, "expired."))
    with pytest.raises(TLSError) as caught:
        await _transport(RecordingSession(failure)).send(HttpRequest("POST", "/api/z"))
    assert caught.value.problem == "expired"
    assert (caught.value.method, caught.value.path) == ("POST", "/api/z")
    assert caught.value.__cause__ is failure
    assert (caught.value.connected, caught.value.may_have_reached_server) == (False, False)


async def test_a_cut_handshake_is_raised_as_the_connection_error_it_is() -> None:
    failure = aiohttp.ClientConnectorSSLError(_key(), ssl.SSLEOFError(8, "EOF"))
    with pytest.raises(SendError) as caught:
        await _transport(RecordingSession(failure)).send(HttpRequest("POST", "/api/z"))
    assert caught.value.__cause__ is failure
    assert (caught.value.connected, caught.value.may_have_reached_server) == (False, False)
    assert not caught.value.timed_out
    assert caught.value.kind == "ClientConnectorSSLError"


def _proxy_answer(status: int, message: str) -> aiohttp.ClientHttpProxyError:
    info = cast(Any, SimpleNamespace(real_url="https://api.example.test/api/z"))
    return aiohttp.ClientHttpProxyError(info, (), status=status, message=message)


@pytest.mark.parametrize(
    ("status", "message", "reason", "why"),
    [
        (
            407,
            "Proxy Authentication Required",
            "407 Proxy Authentication Required",
            "it asks for credentials the proxy URL does not carry, or they are wrong "
            "(give them in the URL: http://user:password@host:port)",
        ),
        (403, "", "403", "its policy forbids this destination"),
    ],
)
async def test_a_proxy_refusing_the_tunnel_is_a_proxy_error_naming_it(
    status: int, message: str, reason: str, why: str
) -> None:
    failure = _proxy_answer(status, message)
    proxy = Proxy(url="http://proxy.test:3128")
    transport = _transport(RecordingSession(failure), proxy=proxy)
    with pytest.raises(ProxyError) as caught:
        await transport.send(HttpRequest("POST", "/api/z"))
    error = caught.value
    assert error.message == f"the proxy http://proxy.test:3128 refused the tunnel ({reason}): {why}"
    assert (error.proxy, error.status, error.method, error.path) == (
        "http://proxy.test:3128",
        status,
        "POST",
        "/api/z",
    )
    assert error.__cause__ is failure
    # The proxy answered (a connection was made); nothing went past it.
    assert (error.connected, error.may_have_reached_server) == (True, False)


async def test_a_proxy_from_the_environment_is_named_as_such() -> None:
    transport = _transport(RecordingSession(_proxy_answer(407, "Auth")))
    with pytest.raises(ProxyError) as caught:
        await transport.send(HttpRequest("GET", "/api/z"))
    assert caught.value.proxy == "(from the session's environment)"
    assert caught.value.message.startswith(
        "the proxy (from the session's environment) refused the tunnel (407 Auth): "
    )


@pytest.mark.parametrize("status", [502, 503, 400])
async def test_a_proxy_that_could_not_reach_the_api_is_left_for_the_retry_policy(
    status: int,
) -> None:
    failure = _proxy_answer(status, "Bad Gateway")
    with pytest.raises(SendError) as caught:
        await _transport(RecordingSession(failure)).send(HttpRequest("POST", "/api/z"))
    assert caught.value.__cause__ is failure
    # The proxy answered (a connection), but the request never went past it.
    assert (caught.value.connected, caught.value.may_have_reached_server) == (True, False)
    assert str(caught.value) == str(failure)


@pytest.mark.parametrize(
    ("failure", "kind", "timed_out", "connected", "may_have_reached_server"),
    [
        (
            aiohttp.ClientConnectorError(_key(), ConnectionRefusedError(111, "refused")),
            "ClientConnectorError",
            False,
            False,
            False,
        ),
        (aiohttp.ConnectionTimeoutError(), "ConnectionTimeoutError", True, False, False),
        (aiohttp.SocketTimeoutError(), "SocketTimeoutError", True, True, True),
        (TimeoutError(), "TimeoutError", True, True, True),
        (aiohttp.ServerDisconnectedError(), "ServerDisconnectedError", False, True, True),
        (aiohttp.ClientPayloadError("truncated"), "ClientPayloadError", False, True, True),
        (ConnectionResetError(104, "reset"), "ConnectionResetError", False, True, True),
    ],
)
async def test_every_other_failure_is_one_send_error_saying_what_it_means(
    failure: BaseException,
    kind: str,
    timed_out: bool,
    connected: bool,
    may_have_reached_server: bool,
) -> None:
    with pytest.raises(SendError) as caught:
        await _transport(RecordingSession(failure)).send(HttpRequest("POST", "/api/z"))
    error = caught.value
    assert error.__cause__ is failure
    assert (error.kind, error.detail) == (kind, str(failure))
    assert (error.timed_out, error.connected, error.may_have_reached_server) == (
        timed_out,
        connected,
        may_have_reached_server,
    )
    assert str(error) == (str(failure) or kind)


async def test_an_invalid_url_is_not_a_network_failure() -> None:
    failure = aiohttp.InvalidURL("https://api.example.test/bad path")
    with pytest.raises(aiohttp.InvalidURL) as caught:
        await _transport(RecordingSession(failure)).send(HttpRequest("GET", "/bad path"))
    assert caught.value is failure


# ---------------------------------------------------------------- requests, responses


@pytest.mark.parametrize(
    ("method", "write"),
    [("POST", True), ("PUT", True), ("DELETE", True), ("PATCH", True), ("GET", False)],
)
def test_which_methods_are_writes(method: str, write: bool) -> None:
    assert HttpRequest(method, "/p").is_write is write


def test_evolve_changes_only_what_it_names() -> None:
    request = HttpRequest("GET", "/p", params=(("a", "1"),), timeout=3.0)
    assert request.evolve(path="/q") == HttpRequest("GET", "/q", params=(("a", "1"),), timeout=3.0)


def test_a_response_decodes_once_and_reads_bad_bytes_as_replacements() -> None:
    response = HttpResponse(200, CIMultiDict(), b'{"a": [1]}')
    first = response.json()
    assert first == {"a": [1]}
    assert response.json() is first
    assert HttpResponse(200, CIMultiDict(), b"caf\xc3\xa9 \xff").text == "café \ufffd"


# ---------------------------------------------------------------- JSON bodies


def test_a_run_of_fifteen_digits_and_points_is_decoded_fast_sixteen_exactly() -> None:
    # fast (orjson): a float the converter reads back exactly; exact: a Decimal already
    assert loads(b"[0.1234567890123]") == [0.1234567890123]
    assert type(loads(b"[0.1234567890123]")[0]) is float
    assert loads(b"[0.12345678901234]") == [Decimal("0.12345678901234")]
    assert loads(b"[123456789012345.5]") == [Decimal("123456789012345.5")]


def test_letters_never_count_as_digits() -> None:
    body = b'{"Notes": "XXXXXXXXXXXXXXXXXXXXXXXX", "Price": 1.5}'
    assert loads(body) == {"Notes": "XXXXXXXXXXXXXXXXXXXXXXXX", "Price": 1.5}
    assert type(loads(body)["Price"]) is float


def test_text_is_decoded_like_bytes() -> None:
    assert loads('{"a": 1.5, "b": "é"}') == {"a": 1.5, "b": "é"}
    assert loads('{"a": 0.12345678901234}') == {"a": Decimal("0.12345678901234")}


def test_a_number_beyond_a_double_is_read_by_the_exact_decoder() -> None:
    assert loads(b"[1e400]") == [Decimal("1E+400")]


def test_a_body_that_is_not_json_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        loads(b"<html>")


def test_a_decimal_goes_out_with_exactly_its_digits() -> None:
    assert dumps({"a": Decimal("1.10"), "b": "é", "c": [1, None]}) == (
        b'{"a":1.10,"b":"\xc3\xa9","c":[1,null]}'
    )


def test_a_value_json_cannot_hold_is_a_type_error_naming_its_type() -> None:
    with pytest.raises(TypeError, match=r"^Type is not JSON serializable: object$") as caught:
        dumps({"a": object()})
    # orjson words its own error; ours, as its cause, names the type too
    assert str(caught.value.__cause__) == "Type is not JSON serializable: object"


def test_a_body_nested_beyond_any_decoder_is_a_value_error_saying_so() -> None:
    # deeper than orjson's 1,024 levels and than any recursion limit a process sets
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ValueError, match=r"^JSON nested too deeply$"):
        loads(deep)


def test_without_orjson_the_standard_codec_writes_the_same_bytes_and_reads_decimals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport_module, "_orjson", None)
    assert dumps({"a": Decimal("1.10"), "b": "é", "c": [1, None]}) == (
        b'{"a":1.10,"b":"\xc3\xa9","c":[1,null]}'
    )
    assert loads(b'[1.5, 2, "\xc3\xa9"]') == [Decimal("1.5"), 2, "é"]
    assert type(loads(b"[1.5]")[0]) is Decimal


# ---------------------------------------------------------------- the debug log


async def test_a_refused_certificate_and_tunnel_are_logged_for_debugging(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="nexudus_async")
    certificate = aiohttp.ClientConnectorCertificateError(_key(), _verification(10, "expired."))
    with pytest.raises(TLSError):
        await _transport(RecordingSession(certificate)).send(HttpRequest("POST", "/api/z"))
    tunnel = _proxy_answer(407, "Auth")
    with pytest.raises(ProxyError):
        await _transport(RecordingSession(tunnel)).send(HttpRequest("GET", "/api/w"))
    records = [r for r in caplog.records if r.name == "nexudus_async"]
    assert [r.levelno for r in records] == [logging.DEBUG, logging.DEBUG]
    assert records[0].getMessage() == (
        "POST /api/z: cannot trust api.example.test: its certificate has expired (the server "
        f"must renew it, or this machine's clock is wrong) ({certificate!r})"
    )
    assert records[1].getMessage() == f"GET /api/w: proxy refused the tunnel ({tunnel!r})"
