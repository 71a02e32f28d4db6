"""The seam between the generated endpoint functions and the facade.

Generated functions build an :class:`HttpRequest` (query already wire-encoded,
body already serialized, so a retry resends identical bytes) and hand it to
``client.transport.send``. They get back an :class:`HttpResponse` whose body
has been read, so the generator's synchronous parse code (``response.json()``,
``response.content``) works over aiohttp. The facade wraps the plain
:class:`AiohttpTransport` with auth, throttling, retries and logging.

This module alone knows aiohttp's exceptions: a failure of the network comes
out as one :class:`SendError` that says whether a connection was made and
whether the request may have reached the server (the pipeline decides from
that, and the errors it raises carry the same two facts).
"""

from __future__ import annotations

import errno
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from . import decimals
from .errors import ProxyError, TLSError
from .network import Proxy

_orjson: Any
try:  # optional speedup: decoding ~2.4x faster (docs/benchmarks.md, benchmark 2)
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised when orjson is absent
    _orjson = None

__all__ = [
    "AiohttpTransport",
    "HttpRequest",
    "HttpResponse",
    "SendError",
    "TraceConfig",
    "Transport",
    "WireHeaders",
    "before_send_hook",
    "dumps",
    "loads",
    "reach_problem",
    "tls_error",
]

logger = logging.getLogger("nexudus_async")

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
"""The methods that change something: they take the limiter's write budget."""


# The last Decimal sent and its fragment: create arguments share one Decimal per float
# (wire.decimal_from_float), so the same price is formatted once. Kept by identity, never
# by value: 12.5 and 12.50 are equal but not the same digits.
_last_fragment: tuple[Any, Any] = (None, None)


def _fragment(value: Any) -> Any:
    # orjson calls this only for types it does not know: a Decimal becomes its digits, raw.
    global _last_fragment
    last, fragment = _last_fragment
    if value is last:
        return fragment
    if isinstance(value, Decimal):
        fragment = _orjson.Fragment(decimals.wire_text(value))
        _last_fragment = (value, fragment)
        return fragment
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def dumps(obj: Any) -> bytes:
    """Serialize a JSON body compactly; a ``Decimal`` is a number with exactly its digits."""
    if _orjson is not None:
        out: bytes = _orjson.dumps(obj, default=_fragment)
        return out
    return decimals.json_dumps(obj, ensure_ascii=False).encode()


# Bytes that can be part of a number's digits map to "0", all others to " ".
_DIGITS = bytes(ord("0") if chr(b) in "0123456789." else ord(" ") for b in range(256))
_LONG_RUN = b"0" * 16


def _floats_are_exact(data: bytes) -> bool:
    """True when no number in ``data`` has more than 15 significant digits.

    Such a number survives text -> double -> shortest repr (DBL_DIG is 15, and
    with at most 15 digits and no 3-digit exponent it is in the normal range),
    so ``Decimal(repr(f))`` of orjson's float equals what the API wrote. A
    longer run of digits and points anywhere (a string included: a false alarm
    only costs the slower decoder) sends the body to the exact decoder. One
    C-speed pass: about a third of orjson's own time on a 100-record page.
    Numbers below 1e-307 (exponent notation) are not checked: a ``decimal``
    of the API (.NET's, at most 28 places) is never that small.
    """
    return _LONG_RUN not in data.translate(_DIGITS)


def loads(data: bytes | str) -> Any:
    """Decode a JSON body; money keeps the digits the API wrote.

    orjson (the fast path) when every float in the body is provably exact
    (:func:`_floats_are_exact`), the converter then reading each as
    ``Decimal(repr(f))``; otherwise, and without orjson, the standard
    decoder with ``parse_float=Decimal``.
    """
    if _orjson is not None:
        raw = data.encode() if isinstance(data, str) else data
        if _floats_are_exact(raw):
            try:
                return _orjson.loads(raw)
            except _orjson.JSONDecodeError:
                pass  # a number out of a double's range, or not JSON: the exact decoder says
    try:
        return decimals.json_loads(data)
    except RecursionError:
        # As orjson does: callers treat a ValueError as an unreadable body.
        raise ValueError("JSON nested too deeply") from None


@attrs.frozen(slots=True, init=False)
class HttpRequest:
    """One request as it will go on the wire, relative to the client's base URL."""

    method: str
    path: str
    """Absolute path, for example ``/api/billing/coworkertimepasses/12``."""
    params: tuple[tuple[str, str], ...] = ()
    """Query parameters, already encoded the way the API expects."""
    body: bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    timeout: float | None = None
    """Per-request total timeout in seconds; None uses the transport's."""

    def __init__(
        self,
        method: str,
        path: str,
        params: tuple[tuple[str, str], ...] = (),
        body: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        # attrs' frozen __init__, through the slots' own setters: a request is built for
        # every call and again for every attempt, and this takes about half the time.
        _set_method(self, method)
        _set_path(self, path)
        _set_params(self, params)
        _set_body(self, body)
        _set_content_type(self, content_type)
        _set_headers(self, {} if headers is None else headers)
        _set_timeout(self, timeout)

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    def evolve(self, **changes: Any) -> HttpRequest:
        return attrs.evolve(self, **changes)


class WireHeaders(CIMultiDict[str]):
    """Headers already in the form aiohttp converts a plain dict to, for a header set many
    requests share (the client's headers with one token): the transport hands it over as
    it is, and aiohttp does not convert it again for every request. Never changed once
    built; its repr names the headers without their values (the credentials)."""

    __slots__ = ("_typed",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__(headers)
        self._typed: tuple[str, WireHeaders] | None = None

    def with_content_type(self, content_type: str) -> WireHeaders:
        """These headers and a Content-Type, built once per content type."""
        typed = self._typed
        if typed is None or typed[0] != content_type:
            headers = WireHeaders({**self, "Content-Type": content_type})
            typed = self._typed = (content_type, headers)
        return typed[1]

    def __repr__(self) -> str:
        return f"<WireHeaders {list(self.keys())}>"


_set_method, _set_path, _set_params, _set_body, _set_content_type, _set_headers, _set_timeout = (
    vars(HttpRequest)[f.name].__set__ for f in attrs.fields(HttpRequest)
)

_NOT_DECODED: Any = object()


@attrs.define(slots=True)
class HttpResponse:
    """A response whose body has been read in full."""

    status_code: int
    headers: CIMultiDictProxy[str] | CIMultiDict[str]
    content: bytes
    request: HttpRequest | None = None
    _decoded: Any = attrs.field(default=_NOT_DECODED, init=False, repr=False, eq=False)

    def json(self) -> Any:
        """The decoded JSON body, decoded once (callers must not mutate it)."""
        if self._decoded is _NOT_DECODED:
            self._decoded = loads(self.content)
        return self._decoded

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class Transport(Protocol):
    """Anything that can send an :class:`HttpRequest`."""

    async def send(self, request: HttpRequest) -> HttpResponse: ...


class AiohttpTransport:
    """Sends requests over one shared ``aiohttp.ClientSession``.

    It does no retries, auth or throttling: those wrap it. Redirects are not
    followed (an API redirect would drop the Authorization header). A
    certificate that cannot be trusted raises :class:`TLSError` (permanent:
    the pipeline does not retry it); a proxy that refuses the tunnel for
    good (407, 403) raises :class:`ProxyError`; any other failure of the
    network raises :class:`SendError`, which says what it means.
    """

    __slots__ = ("_base_url", "_client_timeout", "_network", "_session", "_timeout")

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        proxy: Proxy | None = None,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        # Only what is set: the session's own settings apply otherwise.
        network: dict[str, Any] = {}
        if ssl_context is not None:
            network["ssl"] = ssl_context
        if proxy is not None:
            network["proxy"] = proxy.url
            if proxy.headers:
                network["proxy_headers"] = dict(proxy.headers)
        self._network = network
        # The last ClientTimeout built, reused while requests ask for the same
        # total (they nearly always do: the client's timeout).
        self._client_timeout = aiohttp.ClientTimeout()

    @property
    def session(self) -> aiohttp.ClientSession:
        return self._session

    @property
    def base_url(self) -> str:
        return self._base_url

    async def send(self, request: HttpRequest) -> HttpResponse:
        # aiohttp copies the headers into its own CIMultiDict: a plain dict of
        # ours is not copied first, unless a Content-Type is added.
        headers = request.headers
        if type(headers) is WireHeaders:  # what aiohttp would make of it, made once
            if request.content_type is not None:
                headers = headers.with_content_type(request.content_type)
        elif request.content_type is not None:
            headers = {**headers, "Content-Type": request.content_type}
        elif type(headers) is not dict:
            headers = dict(headers)  # one value per name, as always
        total = request.timeout if request.timeout is not None else self._timeout
        timeout = self._session.timeout  # no timeout of ours: the session's own applies
        if total is not None:
            timeout = self._client_timeout
            if timeout.total != total:
                timeout = self._client_timeout = aiohttp.ClientTimeout(total=total)
        context = self._session.request(
            request.method,
            self._base_url + request.path,
            params=request.params or None,
            data=request.body,
            headers=headers,
            allow_redirects=False,
            timeout=timeout,
            **self._network,
        )
        try:
            async with context as resp:
                content = await resp.read()
                return HttpResponse(resp.status, resp.headers, content, request)
        except aiohttp.ClientSSLError as exc:
            error = tls_error(exc, request.method, request.path)
            if error is None:
                # the handshake was cut: a dropped connection, retried as one
                raise SendError(exc) from exc
            logger.debug("%s %s: %s (%r)", request.method, request.path, error.message, exc)
            raise error from exc
        except aiohttp.ClientHttpProxyError as exc:
            if exc.status not in _PROXY_REFUSALS:
                # a proxy's 502/503: nothing was sent, retried like a failed connect
                raise SendError(exc) from exc
            logger.debug("%s %s: proxy refused the tunnel (%r)", request.method, request.path, exc)
            raise _proxy_refused(exc, self._network.get("proxy"), request) from exc
        except aiohttp.InvalidURL:
            raise  # a mistake in the request, not a failure of the network
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SendError(exc) from exc


# Connecting failed (refused, no such host, the TLS handshake) or timed out: no connection.
_NOT_CONNECTED = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
# ... nor did the request leave when the proxy would not open the tunnel.
_NEVER_SENT = (*_NOT_CONNECTED, aiohttp.ClientHttpProxyError)


class SendError(Exception):
    """An attempt got no answer: the one error :class:`AiohttpTransport` raises for a failure
    of the network (besides the permanent :class:`TLSError` and :class:`ProxyError`).

    It says what the request loop needs to know, so that nothing above the
    transport inspects aiohttp's exceptions; that exception stays the
    ``__cause__``, for a debug log.

    Attributes:
        kind: The name of the underlying exception's type.
        detail: Its text (may hold the URL; unredacted: the caller redacts).
        timed_out: The attempt (or connecting) timed out.
        connected: A usable connection was made (False: refused, no such
            host, unreachable, the TLS handshake failed, connecting timed out).
        may_have_reached_server: The request may have reached the server, and
            so may have been executed (False: it certainly never left).
    """

    def __init__(self, exc: BaseException) -> None:
        detail = str(exc)
        # The text a caller printing it shows: the underlying one (or its type's name).
        super().__init__(detail or type(exc).__name__)
        self.kind = type(exc).__name__
        self.detail = detail
        self.timed_out = isinstance(exc, TimeoutError)
        self.connected = not isinstance(exc, _NOT_CONNECTED)
        self.may_have_reached_server = not isinstance(exc, _NEVER_SENT)


_PROXY_REFUSALS = {
    407: "it asks for credentials the proxy URL does not carry, or they are wrong "
    "(give them in the URL: http://user:password@host:port)",
    403: "its policy forbids this destination",
}


def _proxy_refused(
    exc: aiohttp.ClientHttpProxyError, proxy: str | None, request: HttpRequest
) -> ProxyError:
    reason = f"{exc.status} {exc.message}".strip()
    where = proxy or "(from the session's environment)"
    return ProxyError(
        f"the proxy {where} refused the tunnel ({reason}): {_PROXY_REFUSALS[exc.status]}",
        proxy=where,
        status=exc.status,
        method=request.method,
        path=request.path,
    )


# OpenSSL's X509_V_ERR_* codes, by what a user can do about them.
_EXPIRED = {10: "expired", 9: "not_yet_valid"}
_WRONG_NAME = frozenset({62, 64})  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
_UNKNOWN_AUTHORITY = frozenset({2, 18, 19, 20, 21})  # no issuer, self-signed, untrusted chain
# A handshake cut short says nothing about the certificate: retried like a dropped connection.
_INTERRUPTED = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError, ConnectionError)

_TLS_TEXT = {
    "expired": "cannot trust {where}: its certificate has expired (the server must renew "
    "it, or this machine's clock is wrong)",
    "not_yet_valid": "cannot trust {where}: its certificate is not valid yet (check this "
    "machine's clock)",
    "wrong_name": "cannot trust {where}: its certificate is for another host name "
    "({detail}); check the host in the base URL",
    "unknown_authority": "cannot trust {where}: its certificate is signed by an authority "
    "this machine does not trust ({detail})",
    "rejected": "cannot trust {where}: its certificate was rejected ({detail})",
    "handshake": "no TLS connection to {where} could be made ({detail}); is it an https:// server?",
}

TRUST_HINT = (
    "to trust your network's authority, pass its certificate file (PEM) as ca_bundle=, "
    "or set SSL_CERT_FILE"
)


def tls_error(exc: aiohttp.ClientSSLError, method: str, path: str) -> TLSError | None:
    """What a TLS failure means, as a :class:`TLSError`; None for a handshake that was cut
    (the server or the network closed it), which is retried like a dropped connection."""
    host, port = exc.host, exc.port
    cause: BaseException | None
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cause = exc.certificate_error
    else:
        cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else None
    problem, detail = "handshake", ""
    if isinstance(cause, ssl.SSLCertVerificationError):
        code = cause.verify_code
        detail = (cause.verify_message or "").rstrip(".")
        if code in _EXPIRED:
            problem = _EXPIRED[code]
        elif code in _WRONG_NAME:
            problem = "wrong_name"
        elif code in _UNKNOWN_AUTHORITY:
            problem = "unknown_authority"
        else:
            problem = "rejected"
    elif isinstance(cause, ssl.CertificateError):  # a name check outside OpenSSL
        problem, detail = "wrong_name", str(cause)
    elif isinstance(cause, _INTERRUPTED) or not isinstance(cause, ssl.SSLError):
        return None
    else:
        detail = (cause.reason or cause.strerror or "").replace("_", " ").lower()
    where = host if port in (None, 443) else f"{host}:{port}"
    summary = _TLS_TEXT[problem].format(where=where, detail=detail or "no detail")
    text = f"{summary}; {TRUST_HINT}" if problem == "unknown_authority" else summary
    return TLSError(
        text, host=host, port=port, problem=problem, summary=summary, method=method, path=path
    )


# A failure to connect in the user's words (``cannot reach 127.0.0.1:9 (connection
# refused)``), read here because only the transport reads aiohttp's exceptions.
_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "no route to host",
    errno.ETIMEDOUT: "timed out",
    errno.ECONNRESET: "connection reset",
}


def reach_problem(exc: BaseException) -> str | None:
    """``cannot reach HOST:PORT (why)`` when ``exc`` (or its cause) is a failure to connect."""
    seen: BaseException | None = exc
    for _ in range(8):  # the cause chain is short; bound it anyway
        if seen is None:
            return None
        if isinstance(seen, aiohttp.ClientConnectorError):
            return f"cannot reach {seen.host}:{seen.port} ({_why(seen.os_error)})"
        if isinstance(seen, aiohttp.ConnectionTimeoutError):
            return "cannot reach the API (connecting timed out)"
        seen = seen.__cause__
    return None


def _why(error: OSError) -> str:
    if isinstance(error, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(error, TimeoutError):
        return "timed out"
    if error.errno in _ERRNO_WORDS:
        return _ERRNO_WORDS[error.errno]
    # asyncio's "Multiple exceptions: [Errno 111] ..., [Errno 111] ..." (IPv4 and IPv6)
    # keeps only their text.
    text = str(error)
    for number, words in _ERRNO_WORDS.items():
        if f"[Errno {number}]" in text:
            return words
    return error.strerror or type(error).__name__


TraceConfig = aiohttp.TraceConfig
"""Request hooks as the session takes them (``NexudusClient(trace_configs=...)``)."""


def before_send_hook(hook: Callable[[str, str], Awaitable[None]]) -> TraceConfig:
    """Hooks that await ``hook(method, path)`` as each request starts, before it connects.

    What ``hook`` raises, aiohttp re-raises from the send, so a refused request
    never reaches the network.
    """

    async def on_request_start(_session: Any, _ctx: Any, params: Any) -> None:
        await hook(params.method, params.url.path)

    config = aiohttp.TraceConfig()
    config.on_request_start.append(on_request_start)
    return config
