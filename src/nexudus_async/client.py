"""The public client: :class:`NexudusClient`, its lifecycle and its per-call views."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import ssl as _ssl
import time
import urllib.parse
from collections.abc import Callable, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

import aiohttp

from ._core.auth import Auth
from ._core.environment import (
    ENV_BASE_URL,
    auth_from_environment,
    logging_from_environment,
    normalize_base_url,
)
from ._core.errors import InputError
from ._core.events import EventHook
from ._core.limiter import Limiter, account_key
from ._core.network import Proxy, is_loopback, parse_proxy, proxy_from_env, ssl_context_from_bundle
from ._core.pipeline import NOT_GIVEN, NotGiven, Pipeline
from ._core.raw import RawResponse, capture_responses, raw_result
from ._core.retry import RetryPolicy
from ._core.throttle import Clock, RateLimiter, RateLimits, Sleep
from ._core.transport import AiohttpTransport, HttpRequest, HttpResponse, Transport
from ._generated import Client as GeneratedClient
from ._generated.namespaces import Namespaces
from ._version import __version__

__all__ = ["DEFAULT_BASE_URL", "FROM_ENVIRONMENT", "NexudusClient"]

DEFAULT_BASE_URL = "https://spaces.nexudus.com"
"""The live API (paths start with ``/api``)."""


_DEFAULT_HEADERS = {"Accept": "application/json", "User-Agent": f"nexudus-async/{__version__}"}


class _FromEnvironment:
    __slots__ = ()

    def __repr__(self) -> str:
        return "FROM_ENVIRONMENT"


FROM_ENVIRONMENT: Any = _FromEnvironment()
"""The default of ``base_url`` and ``auth``: read from the environment variables."""


def _network(
    url: str,
    ssl: _ssl.SSLContext | None,
    ca_bundle: str | os.PathLike[str] | None,
    proxy: str | Proxy | None,
    trust_env: bool,
) -> tuple[_ssl.SSLContext | None, Proxy | None]:
    """The TLS context and the proxy the arguments (and the environment) choose."""
    if ssl is not None and ca_bundle is not None:
        raise ValueError("pass either ssl= (a context) or ca_bundle= (a file), not both")
    if ssl is not None and not isinstance(ssl, _ssl.SSLContext):
        raise TypeError(f"ssl must be an ssl.SSLContext, not {type(ssl).__name__}")
    context = ssl_context_from_bundle(ca_bundle) if ca_bundle is not None else ssl
    if proxy is not None:
        return context, proxy if isinstance(proxy, Proxy) else parse_proxy(proxy)
    return context, proxy_from_env(url) if trust_env else None


def _refuse_plain_http(url: str, auth: Auth | None, proxy: Proxy | None, allowed: bool) -> None:
    """Credentials over plain http:// only to this machine, directly or through a proxy on it."""
    if auth is None or not url.startswith("http://"):
        return
    host = urllib.parse.urlsplit(url).hostname or ""
    if not is_loopback(host):
        where = host
    elif proxy is not None and not is_loopback(proxy.host):
        where = f"{host} through the proxy {proxy.url}"
    else:
        return
    if not allowed:
        raise InputError(
            "base_url",
            url,
            f"refusing to send credentials over plain http:// to {where}; use "
            "https:// (plain http is only allowed to a loopback address, or "
            "with allow_insecure_http=True / --insecure-http)",
        )
    logging.getLogger("nexudus_async").warning(
        "sending credentials over plain http:// to %s (allow_insecure_http): "
        "anyone on the network path can read them",
        where,
    )


def _pool_size(session: aiohttp.ClientSession | None, connection_limit: int) -> int | None:
    """How many requests the session can have on the wire at once (None: unbounded)."""
    if session is None:
        return connection_limit or None
    connector = session.connector
    limit = getattr(connector, "limit", 0) if connector is not None else 0
    return limit or None


def _address_and_auth(base_url: str, auth: Auth | None) -> tuple[str, Auth | None]:
    """The base URL and credentials given, or read from the environment when not."""
    if base_url is FROM_ENVIRONMENT:
        base_url = os.environ.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL
    url = normalize_base_url(base_url)
    if auth is FROM_ENVIRONMENT:
        auth = auth_from_environment(os.environ)
    if auth is not None and not isinstance(auth, Auth):
        raise TypeError("auth must be BasicAuth, BearerToken, PasswordGrant or another Auth")
    return url, auth


def _check_options(
    timeout: float | None,
    session: aiohttp.ClientSession | None,
    trace_configs: Sequence[aiohttp.TraceConfig] | None,
    connection_limit: int,
    sort_direction_format: str,
    rate_limits: RateLimits | None,
    allow_unknown_enum_values: bool,
) -> None:
    """The constructor's plain option checks, each with the message naming the option."""
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be positive or None, got {timeout!r}")
    if session is not None and trace_configs:
        raise ValueError(
            "trace_configs apply to the session the client creates; "
            "add them to your own session instead"
        )
    if not isinstance(connection_limit, int) or connection_limit < 1:
        raise ValueError(f"connection_limit must be at least 1, got {connection_limit!r}")
    if sort_direction_format not in ("string", "numeric"):
        raise ValueError("sort_direction_format must be 'string' or 'numeric'")
    if rate_limits is not None and not isinstance(rate_limits, RateLimits):
        raise TypeError("rate_limits must be a RateLimits or None")
    if not isinstance(allow_unknown_enum_values, bool):
        raise TypeError("allow_unknown_enum_values must be True or False")


def _limiter(
    rate_limiter: Limiter | None,
    rate_limits: RateLimits | None,
    url: str,
    auth: Auth | None,
    clock: Clock | None,
    sleep: Sleep,
) -> Limiter:
    """The caller's limiter bound to this account, or an in-process one of ``rate_limits``."""
    if rate_limiter is None:
        return RateLimiter(
            rate_limits, clock=clock if clock is not None else time.monotonic, sleep=sleep
        )
    if not isinstance(rate_limiter, Limiter):
        raise TypeError("rate_limiter must implement the Limiter protocol")
    if rate_limits != RateLimits.published():
        raise ValueError("pass either rate_limits or rate_limiter (it has its own limits)")
    rate_limiter.bind_account(account_key(url, auth.user() if auth is not None else None))
    return rate_limiter


class _SharedState:
    """What a client and all its views share: the session and whether it is open."""

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession | None,
        trace_configs: Sequence[aiohttp.TraceConfig],
        connection_limit: int,
        ssl_context: _ssl.SSLContext | None = None,
        proxy: Proxy | None = None,
    ) -> None:
        self.base_url = base_url
        self.owns_session = session is None
        self.trace_configs = list(trace_configs)
        self.connection_limit = connection_limit
        self.ssl_context = ssl_context
        self.proxy = proxy
        self.closed = False
        self._transport: AiohttpTransport | None = (
            self._new_transport(session) if session is not None else None
        )

    def _new_transport(self, session: aiohttp.ClientSession) -> AiohttpTransport:
        return AiohttpTransport(
            session, self.base_url, ssl_context=self.ssl_context, proxy=self.proxy
        )

    def transport(self) -> AiohttpTransport:
        if self.closed:
            raise RuntimeError("this NexudusClient is closed")
        if self._transport is None:
            # Created on first use, inside the running loop, as aiohttp requires.
            # trust_env off: the client read the proxy variables once, when it was made.
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connection_limit),
                timeout=aiohttp.ClientTimeout(total=None),
                trace_configs=self.trace_configs or None,
                trust_env=False,
            )
            # aiohttp silently resends an idempotent request once when a kept-alive
            # connection turns out closed; the pipeline's own retries must see that
            # failure (to back off, log it, and know an attempt may have run).
            if hasattr(session, "_retry_connection"):
                session._retry_connection = False
            self._transport = self._new_transport(session)
        return self._transport

    async def close(self) -> None:
        self.closed = True
        transport, self._transport = self._transport, None
        if transport is not None and self.owns_session:
            await transport.session.close()


class _SessionTransport:
    """The innermost transport: the shared session, opened on first use."""

    __slots__ = ("_state",)

    def __init__(self, state: _SharedState) -> None:
        self._state = state

    def send(self, request: HttpRequest) -> Coroutine[Any, Any, HttpResponse]:
        # The session's transport does the awaiting: no frame of our own. Not open yet,
        # or closed (close() drops it): transport() opens it, or raises.
        transport = self._state._transport
        if transport is None:
            transport = self._state.transport()
        return transport.send(request)


class _RawCall:
    __slots__ = ("_method",)

    def __init__(self, method: Callable[..., Any]) -> None:
        self._method = method

    async def __call__(self, *args: Any, **kwargs: Any) -> RawResponse[Any]:
        with capture_responses() as sink:
            result = self._method(*args, **kwargs)
            if not inspect.isawaitable(result):
                raise TypeError("with_raw_response works for awaited calls only")
            parsed = await result
        return raw_result(sink, parsed)


class _RawNamespace:
    __slots__ = ("_inner",)

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if callable(attr):
            return _RawCall(attr)
        return _RawNamespace(attr)


class _RawView:
    """``client.with_raw_response``: every namespace, every awaited method, with the answer."""

    __slots__ = ("_client",)

    def __init__(self, client: NexudusClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("with_raw_response", "with_options"):
            raise AttributeError(name)
        return _RawNamespace(getattr(self._client, name))


class NexudusClient(Namespaces):
    """An asyncio client for the Nexudus billing time-pass API.

    ::

        async with NexudusClient(auth=PasswordGrant(email, password)) as client:
            tp = await client.coworker_time_passes.get(123)
            async for tp in client.coworker_time_passes.iter(coworker=42):
                ...

    Every call goes through one pipeline: credentials (renewed when needed),
    the client-side rate limiter shared by all calls of this client (and its
    views), throttling waits (409/429 honour ``Retry-After``), retries of
    transient failures where they are safe, and typed errors
    (:mod:`nexudus_async._core.errors`).

    Args:
        base_url: The API's address; by default ``NEXUDUS_BASE_URL``, else
            ``https://spaces.nexudus.com``. A trailing ``/`` or ``/api`` is accepted.
        auth: :class:`~nexudus_async.BasicAuth`, :class:`~nexudus_async.BearerToken`
            or :class:`~nexudus_async.PasswordGrant` (recommended); by default
            from the environment: ``NEXUDUS_TOKEN`` (a bearer token), else
            ``NEXUDUS_EMAIL`` and ``NEXUDUS_PASSWORD`` (a password grant), else
            an :class:`~nexudus_async.InputError` naming them. ``None``: send no
            credentials at all. Credentials
            are refused over plain ``http://`` except to a loopback address
            (an :class:`~nexudus_async.InputError`), unless ``allow_insecure_http``.
        allow_insecure_http: Send credentials over plain ``http://`` to any
            host (a docker-compose ``http://emulator:8080``), with a warning
            logged. Never for the live API.
        session: An ``aiohttp.ClientSession`` to use; the client then does not
            close it. By default the client opens its own on first use and
            closes it on exit of ``async with`` (or :meth:`close`).
        timeout: Seconds a call may take as its caller sees it, queueing for the
            limiter, retries and waits included (None: no limit); past it the
            call raises :class:`~nexudus_async.RequestTimeoutError` and sends
            nothing more.
        retry: The :class:`~nexudus_async.RetryPolicy` (default: 3 retries of
            transient failures, 10 throttling waits).
        rate_limits: The client-side :class:`~nexudus_async.RateLimits`; the
            published limits by default, ``RateLimits.published().scaled(f)``
            for an emulator with ``time_scale=f``, None to switch limiting off.
        rate_limiter: A limiter object instead (its own limits apply), for
            example :class:`~nexudus_async.RedisRateLimiter` to share the
            account's limits between processes. The client does not close it.
        on_event: Called with each :mod:`~nexudus_async._core.events` event
            (retries, throttle waits, limiter waits), for metrics.
        trace_configs: ``aiohttp.TraceConfig`` objects for the session the
            client creates (not allowed together with ``session``).
        headers: Extra headers for every request.
        sort_direction_format: Send ``dir`` as ``"string"`` (``ascending``, as
            the reference page documents) or ``"numeric"`` (``1``/``2``).
        connection_limit: Most simultaneous connections of the session the
            client creates.
        clock: Monotonic clock of the rate limiter (injectable for tests).
        sleep: The sleep function of the limiter and the retries (injectable for tests).
        allow_unknown_enum_values: Let ``create``/``update`` send an enum value
            the documentation does not list (``expiration_type=0``, which the
            live service holds). By default such a value is an
            :class:`~nexudus_async.InputError` naming the field and the value.
            Values read from the API parse and are sent back by ``update()``
            either way.
        ca_bundle: A PEM file (or ``openssl rehash``-ed directory) of the
            authorities to trust instead of the system's: a company network's
            own, the one a TLS-inspecting proxy signs with. ``SSL_CERT_FILE``
            does the same for every program on the machine.
        ssl: An ``ssl.SSLContext`` to verify the server with (not with ``ca_bundle``).
        proxy: ``http://[user:password@]host:port``: send every request through
            this proxy (an https API through a CONNECT tunnel, still encrypted
            end to end). The credentials never appear in reprs, logs or errors.
        trust_env: Without ``proxy``, use ``HTTPS_PROXY`` / ``HTTP_PROXY``
            (exempting the hosts of ``NO_PROXY``), read once, here. A loopback
            base URL is always reached directly. False: ignore them. (With your
            own ``session``, its own ``trust_env`` applies too.)

    A certificate that cannot be trusted (expired, for another name, signed
    by an unknown authority) raises :class:`~nexudus_async.TLSError` after
    one attempt: another would meet the same certificate.

    Datetimes are the space's local wall-clock time, as naive datetimes (see
    :mod:`nexudus_async._core.dates`).

    ``NEXUDUS_LOG=info`` (or ``debug``) in the environment sends the
    ``nexudus_async`` logger's records to stderr, credentials redacted.
    """

    def __init__(
        self,
        base_url: str = FROM_ENVIRONMENT,
        auth: Auth | None = FROM_ENVIRONMENT,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float | None = 60.0,
        retry: RetryPolicy | None = None,
        rate_limits: RateLimits | None = RateLimits.published(),  # noqa: B008 - frozen, shared
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
        headers: Mapping[str, str] | None = None,
        sort_direction_format: Literal["string", "numeric"] = "string",
        connection_limit: int = 100,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        allow_insecure_http: bool = False,
        rate_limiter: Limiter | None = None,
        on_event: EventHook | None = None,
        allow_unknown_enum_values: bool = False,
        ca_bundle: str | os.PathLike[str] | None = None,
        ssl: _ssl.SSLContext | None = None,
        proxy: str | Proxy | None = None,
        trust_env: bool = True,
    ) -> None:
        logging_from_environment(os.environ)
        url, auth = _address_and_auth(base_url, auth)
        ssl_context, proxy_to_use = _network(url, ssl, ca_bundle, proxy, trust_env)
        _refuse_plain_http(url, auth, proxy_to_use, allow_insecure_http)
        _check_options(
            timeout, session, trace_configs, connection_limit, sort_direction_format, rate_limits,
            allow_unknown_enum_values,
        )  # fmt: skip
        sleep_fn: Sleep = sleep if sleep is not None else asyncio.sleep
        state = _SharedState(
            url, session, trace_configs or (), connection_limit, ssl_context, proxy_to_use
        )
        limiter = _limiter(rate_limiter, rate_limits, url, auth, clock, sleep_fn)
        pipeline = Pipeline(
            _SessionTransport(state),
            limiter=limiter,
            auth=auth,
            retry=retry,
            timeout=timeout,
            headers={**_DEFAULT_HEADERS, **(headers or {})},
            sleep=sleep_fn,
            max_in_flight=_pool_size(session, connection_limit),
            on_event=on_event,
        )
        self._setup(
            state,
            pipeline,
            view=False,
            numeric=sort_direction_format == "numeric",
            unknown_enums=allow_unknown_enum_values,
        )

    def _setup(
        self,
        state: _SharedState,
        pipeline: Pipeline,
        *,
        view: bool,
        numeric: bool,
        unknown_enums: bool,
    ) -> None:
        self._state = state
        self._pipeline = pipeline
        self._view = view
        self._numeric = numeric
        self._unknown_enums = unknown_enums
        self._init_namespaces()

    def with_options(
        self,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        allow_unknown_enum_values: bool | None = None,
    ) -> NexudusClient:
        """A lightweight view of this client with another timeout, retry policy, headers
        or ``allow_unknown_enum_values``.

        The view shares the session, the rate limiter and the credentials;
        closing it does nothing (close the client it came from). An option not
        given keeps the current setting; ``timeout=None`` switches the timeout
        off; ``headers`` are added to (and override) the client's::

            patient = client.with_options(timeout=120, retry=RetryPolicy(max_retries=6))
            await patient.coworker_time_passes.run_command("KEY", ids=[1, 2])
            traced = client.with_options(headers={"X-Request-Id": request_id})
        """
        if timeout is not None and not isinstance(timeout, NotGiven) and not timeout > 0:
            raise ValueError(f"timeout must be positive or None, got {timeout!r}")
        if headers and any(name.lower() == "authorization" for name in headers):
            raise ValueError("set credentials with auth=, not an Authorization header")
        if allow_unknown_enum_values is not None and not isinstance(
            allow_unknown_enum_values, bool
        ):
            raise TypeError("allow_unknown_enum_values must be True, False or None")
        view = object.__new__(NexudusClient)
        view._setup(
            self._state,
            self._pipeline.with_options(timeout=timeout, retry=retry, headers=headers),
            view=True,
            numeric=self._numeric,
            unknown_enums=self._unknown_enums
            if allow_unknown_enum_values is None
            else allow_unknown_enum_values,
        )
        return view

    @property
    def with_raw_response(self) -> _RawView:
        """The same calls, answering a ``RawResponse`` (``.status``, ``.headers``, ``.parsed``)::

            raw = await client.with_raw_response.coworker_time_passes.get(1)
            raw.status, raw.headers["Content-Type"], raw.parsed.id

        Works for every awaited call (not for the ``iter``/``pages`` iterators).
        """
        return _RawView(self)

    # ------------------------------------------------------------------ properties

    @property
    def base_url(self) -> str:
        """The API's address (without ``/api``)."""
        return self._state.base_url

    @property
    def proxy(self) -> str | None:
        """The proxy requests go through (its URL without credentials), or None."""
        return self._state.proxy.url if self._state.proxy is not None else None

    @property
    def timeout(self) -> float | None:
        """Seconds allowed for each attempt of a request."""
        return self._pipeline.timeout

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy of this client (or view)."""
        return self._pipeline.retry

    @property
    def allow_unknown_enum_values(self) -> bool:
        """Whether create and update send enum values the API's documentation does not list."""
        return self._unknown_enums

    @property
    def limiter(self) -> Limiter:
        """The rate limiter every call of this client and its views passes."""
        return self._pipeline.limiter

    @property
    def auth(self) -> Auth | None:
        return self._pipeline.auth

    @property
    def sort_direction_format(self) -> Literal["string", "numeric"]:
        """How the namespaces send ``dir``: ``"string"`` (``ascending``) or ``"numeric"`` (1/2)."""
        return "numeric" if self._numeric else "string"

    @property
    def transport(self) -> Transport:
        """The whole pipeline as a transport (auth, limiter, retries, typed errors).

        For calling the generated endpoint functions directly; see :attr:`generated`.
        (``sort_direction_format`` is the namespaces' option: a generated function
        sends its ``dir_`` argument as given.)
        """
        return self._pipeline

    @property
    def generated(self) -> GeneratedClient:
        """A client for the ``nexudus_async._generated.api`` functions, through this pipeline."""
        return GeneratedClient(transport=self._pipeline)

    @property
    def closed(self) -> bool:
        return self._state.closed

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> NexudusClient:
        self._state.transport()  # open now: a closed client fails here, not later
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session the client opened (a session passed in is left open).

        Closing a view (:meth:`with_options`) does nothing.
        """
        if not self._view:
            await self._state.close()

    def __repr__(self) -> str:
        auth = repr(self._pipeline.auth) if self._pipeline.auth is not None else None
        kind = "view of " if self._view else ""
        proxy = self._state.proxy
        via = f" proxy={proxy.describe()!r}" if proxy is not None else ""
        return f"<NexudusClient {kind}{self._state.base_url} auth={auth}{via}>"
