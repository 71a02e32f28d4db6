"""The seam between the generated endpoint functions and the facade.

Generated functions build an :class:`HttpRequest` (query already wire-encoded,
body already serialized, so a retry resends identical bytes) and hand it to
``client.transport.send``. They get back an :class:`HttpResponse` whose body
has been read, so the generator's synchronous parse code (``response.json()``,
``response.content``) works over aiohttp. The facade wraps the plain
:class:`AiohttpTransport` with auth, throttling, retries and logging.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from . import decimals

_orjson: Any
try:  # optional speedup: decoding ~2.4x faster (docs/benchmarks.md, benchmark 2)
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised when orjson is absent
    _orjson = None

__all__ = [
    "AiohttpTransport",
    "HttpRequest",
    "HttpResponse",
    "Transport",
    "dumps",
    "loads",
]

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


def _fragment(value: Any) -> Any:
    # orjson calls this only for types it does not know: a Decimal becomes its digits, raw.
    if isinstance(value, Decimal):
        return _orjson.Fragment(decimals.wire_text(value))
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


@attrs.frozen(slots=True)
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

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    def evolve(self, **changes: Any) -> HttpRequest:
        return attrs.evolve(self, **changes)


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
    followed (an API redirect would drop the Authorization header).
    """

    __slots__ = ("_base_url", "_client_timeout", "_session", "_timeout")

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout: float | None = None,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
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
        if request.content_type is not None:
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
        )
        async with context as resp:
            content = await resp.read()
            return HttpResponse(resp.status, resp.headers, content, request)
