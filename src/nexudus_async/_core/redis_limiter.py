"""A rate limiter shared by every process and host of an account, kept in Redis.

The API's limits belong to the account, not to a process: four uvicorn
workers with their own in-memory limiters send four times too much. Here the
sliding windows (the minimum spacing, per minute, per hour, per day, writes
apart), the pause after a throttled answer and the adaptive widening live in
Redis, and one server-side Lua script checks and records a request
atomically, on the Redis server's clock (``TIME``), so that hosts whose
clocks differ still share one timeline.

Keys are ``<prefix>:{<account>}:state|all|writes``, where ``account`` is a
hash of the base URL and the user (:func:`~nexudus_async._core.limiter.
account_key`), never a secret; they expire a day after the last request.

Every limiter keeps a heartbeat in Redis (``...:members``, each entry
expiring ``heartbeat`` seconds after its last request), so each process knows
how many share the account. A pooled connection the server dropped (Redis
restarted) is retried once on a fresh connection. When Redis still cannot be
reached (refused, or no answer within ``op_timeout``) no call hangs and none
is lost: the limiter logs one warning and carries on with its in-memory
fallback limiter (which has seen every request this process sent), keeping
its share of the limits: with N limiters alive, 1/N of each window, and
requests only in its own turn of N (on the wall clock), so that together the
processes stay under the account's limits. Redis is tried again
``retry_after`` seconds later, and shared from its first answer on.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import secrets
import time
from collections.abc import Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any

import attrs

from . import events
from .throttle import Clock, EffectiveLimits, RateLimiter, RateLimits, Sleep

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["RedisRateLimiter"]

logger = logging.getLogger("nexudus_async")

_US = 1_000_000
_DAY_MS = 86_400_000


def _us(seconds: float) -> int:
    return math.ceil(seconds * _US)


class _Script:
    """A Lua script beside this module, sent by EVALSHA and again whole when the server lost it."""

    def __init__(self, name: str) -> None:
        here = resources.files(__name__.rpartition(".")[0])
        parts = (here.joinpath(n).read_text(encoding="utf-8") for n in ("clock.lua", name))
        self.source = "".join(parts)
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    async def __call__(self, client: Any, keys: list[str], args: list[Any]) -> Any:
        from redis.exceptions import NoScriptError

        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:  # a restarted or flushed server: send the script itself
            return await client.eval(self.source, len(keys), *keys, *args)


# Their KEYS and ARGV are described at the top of each file; clock.lua comes first.
_ACQUIRE = _Script("acquire.lua")
_THROTTLED = _Script("throttled.lua")
_PRIME = _Script("prime.lua")


@attrs.frozen(slots=True)
class _ScriptLimits:
    """The effective limits (the in-memory limiter's own) in the scripts' units."""

    interval: int
    widen_step: int
    widen_max: int
    windows: tuple[int, ...]
    """How many windows, then limit and period of each: all requests', then writes'."""
    periods: tuple[int, ...]
    """How many windows, then the period of each: all requests', then writes'."""
    ttl_ms: int
    """How long the keys outlive the last request: a day, or the longest window if longer."""

    @classmethod
    def of(cls, limits: RateLimits | None) -> _ScriptLimits:
        eff = limits.effective() if limits is not None else EffectiveLimits()
        windows: list[int] = []
        periods: list[int] = []
        for kind in (eff.all_windows, eff.write_windows):
            windows += [len(kind), *(n for limit, p in kind for n in (limit, _us(p)))]
            periods += [len(kind), *(_us(p) for _, p in kind)]
        longest = max((math.ceil(p * 1000) + 1000 for _, p in eff.all_windows), default=0)
        return cls(
            interval=_us(eff.interval),
            widen_step=_us(eff.widen_step),
            widen_max=_us(eff.widen_max),
            windows=tuple(windows),
            periods=tuple(periods),
            ttl_ms=max(_DAY_MS, longest),
        )


def _require_redis() -> None:
    try:
        import redis.asyncio  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError(
            "RedisRateLimiter needs redis-py: pip install 'nexudus-async[redis]'"
        ) from exc


def _connect(url: str, op_timeout: float, ca_bundle: str | os.PathLike[str] | None) -> Any:
    """A Redis client for ``url`` that fails fast: connecting, each answer, no retries."""
    import redis.asyncio as redis_asyncio
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    tls: dict[str, Any] = {}
    if ca_bundle is not None:
        if not url.startswith("rediss://"):
            raise ValueError("ca_bundle applies to a rediss:// (TLS) URL")
        tls["ssl_ca_certs"] = os.fspath(ca_bundle)
    # No retries inside redis-py: an unreachable server must fail fast, and
    # this limiter has its own policy for that.
    return redis_asyncio.Redis.from_url(
        url,
        socket_connect_timeout=op_timeout,
        socket_timeout=op_timeout,
        retry=Retry(NoBackoff(), 0),
        **tls,
    )


class RedisRateLimiter:
    """The account's rate limits, shared through Redis by every process that uses them.

    ::

        limiter = RedisRateLimiter("redis://127.0.0.1:6379/0")
        async with limiter, NexudusClient(auth=auth, rate_limiter=limiter) as client:
            ...

    Args:
        redis: A ``redis://`` URL, or a ``redis.asyncio.Redis`` client (then
            its own timeouts apply as well, and it is not closed here).
        limits: The limits (the published ones by default; ``.scaled(f)`` for
            an emulator with ``time_scale=f``).
        account: The key of the account; by default the client binds it (a
            hash of its base URL and user).
        prefix: Prefix of the Redis keys.
        fallback: The in-memory limiter used while Redis is unreachable
            (default: ``RateLimiter(limits)``, which then keeps this process's
            share of the limits; a limiter passed here keeps its own).
        op_timeout: Seconds a Redis operation may take (connecting included)
            before Redis counts as unreachable.
        retry_after: Seconds of fallback before Redis is tried again.
        heartbeat: Seconds a limiter counts as sharing the account after its
            last request.
        on_event: Called with a :class:`~nexudus_async._core.events.LimiterFallbackEvent`
            when Redis becomes unreachable or reachable again.
        ca_bundle: For a ``rediss://`` URL, a PEM file of the authorities to
            trust instead of the system's (the client's ``ca_bundle``, the
            command line's ``--ca-bundle``).
        server_clock: For tests only: seconds passed to the scripts instead of
            the Redis server's ``TIME``, so windows can be checked on a fake clock.
        clock, sleep: Local monotonic clock and sleep (injectable for tests).
    """

    def __init__(
        self,
        redis: str | redis.asyncio.Redis = "redis://127.0.0.1:6379/0",
        limits: RateLimits | None = RateLimits.published(),  # noqa: B008 - frozen, shared
        *,
        account: str | None = None,
        prefix: str = "nexudus-async",
        fallback: RateLimiter | None = None,
        op_timeout: float = 0.5,
        retry_after: float = 5.0,
        heartbeat: float = 30.0,
        on_event: events.EventHook | None = None,
        server_clock: Clock | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        ca_bundle: str | os.PathLike[str] | None = None,
    ) -> None:
        _require_redis()
        if op_timeout <= 0 or retry_after < 0 or heartbeat <= 0:
            raise ValueError(
                "op_timeout and heartbeat must be positive and retry_after not negative"
            )
        self._owns_redis = isinstance(redis, str)
        self._redis: Any = (
            _connect(redis, op_timeout, ca_bundle) if isinstance(redis, str) else redis
        )
        self._limits = limits
        self._script_limits = _ScriptLimits.of(limits)
        self._fallback = fallback if fallback is not None else RateLimiter(limits, clock=clock)
        self._share_fallback = fallback is None
        self._member = secrets.token_hex(8)  # names this limiter's heartbeat, nothing else
        self._heartbeat = heartbeat
        self._sharers = 1
        self._rank = 0
        self._prefix = prefix
        self._account = account
        self._op_timeout = op_timeout
        self._retry_after = retry_after
        self._on_event = on_event
        self._server_clock = server_clock
        self._clock = clock
        self._sleep = sleep
        self._read_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._down_until = -math.inf
        self._down = False
        self._turns_until = -math.inf
        self.acquired = 0
        """Requests let through (by Redis or, during an outage, by the fallback)."""
        self.fallbacks = 0
        """How many times Redis became unreachable."""

    # ------------------------------------------------------------------ protocol

    @property
    def limits(self) -> RateLimits | None:
        return self._limits

    @property
    def fallback(self) -> RateLimiter:
        """The in-memory limiter that takes over while Redis is unreachable."""
        return self._fallback

    @property
    def sharers(self) -> int:
        """How many limiters shared the account at the last answer of Redis (this one included)."""
        return self._sharers

    @property
    def redis(self) -> Any:
        """The Redis client, for other state an account shares (a bulk job's lease)."""
        return self._redis

    def key(self, name: str) -> str:
        """The Redis key ``name`` of this limiter's account (its prefix and hash slot)."""
        return self._key(name)

    @property
    def using_fallback(self) -> bool:
        """Whether the last decision was taken without Redis."""
        return self._down

    def bind_account(self, account: str) -> None:
        if self._account is None:
            self._account = account
        elif self._account != account:
            raise ValueError(
                "this RedisRateLimiter already serves another account; use one per account"
            )

    def try_acquire(self, *, write: bool = False) -> bool:
        return self._limits is None  # a decision needs Redis: always await acquire

    async def acquire(self, *, write: bool = False) -> None:
        if self._limits is None:
            return
        # One poller per process and kind: the others queue here, first come first served.
        async with self._write_lock if write else self._read_lock:
            due = None
            for _ in range(1_000_000):  # bounded; each turn sleeps what Redis said
                if due is not None:
                    # how late our wake-ups are widens the spacing we ask for (see throttle.py)
                    self._fallback.note_lateness(self._clock() - due)
                    due = None
                if self._clock() < self._down_until:
                    await self._fallback.acquire(write=write)
                    self.acquired += 1
                    return
                if self._fallback.shared_by > 1 and self._share_fallback and not self._down:
                    if self._clock() >= self._turns_until:
                        self._fallback.share(1)
                    elif turn := self._fallback.turn_delay():
                        await self._sleep(turn)  # the others may still keep to their turns
                        continue
                delay = await self._redis_acquire(write)
                if delay is None:
                    continue  # unreachable: the fallback decides from the next turn on
                self._came_back()
                if delay <= 0:
                    self.acquired += 1
                    return
                due = self._clock() + delay
                await self._sleep(delay)
            raise RuntimeError("the shared rate limiter did not let a request go")

    async def prime(
        self, sent_at: Iterable[float], *, write: bool = True, now: float | None = None
    ) -> int:
        """Add an earlier run's requests the shared windows lack (see ``Limiter.prime``).

        Redis usually remembers them already (its keys live a day), and then
        nothing is added; after Redis lost them (restarted, flushed) they are
        counted again. The fallback limiter is primed as well. Returns how many
        Redis gained, or what the fallback gained while Redis is unreachable.
        """
        sends = list(sent_at)
        wall = time.time() if now is None else now
        local = await self._fallback.prime(sends, write=write, now=wall)
        if self._limits is None or self._clock() < self._down_until:
            return local
        sl = self._script_limits
        args = [self._now_arg(), sl.ttl_ms, 1 if write else 0, *sl.periods]
        args += [_us(max(wall - t, 0.0)) for t in sends]
        keys = [self._key("all"), self._key("writes"), self._key("state")]
        added = await self._shared(_PRIME, keys, args)
        return local if added is None else int(added)

    async def report_throttled(self, wait: float) -> None:
        self._fallback.throttled(wait)
        if self._limits is None or self._clock() < self._down_until:
            return
        sl = self._script_limits
        args = [_us(wait), sl.widen_step, sl.widen_max, sl.ttl_ms, self._now_arg()]
        await self._shared(_THROTTLED, [self._key("state")], args)

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Close the Redis connections this limiter opened (a client passed in is left open).

        The heartbeat is withdrawn first, so the others count one process fewer at once.
        """
        if self._account is not None and self._limits is not None:
            try:
                async with asyncio.timeout(self._op_timeout):
                    await self._redis.zrem(self._key("members"), self._member)
            except Exception as exc:
                if not _is_unreachable(exc):
                    raise
        if self._owns_redis:
            close = getattr(self._redis, "aclose", None) or self._redis.close
            await close()

    async def __aenter__(self) -> RedisRateLimiter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "fallback" if self._down else "redis"
        return f"<RedisRateLimiter account={self._account} {state}>"

    # ------------------------------------------------------------------ internals

    def _key(self, name: str) -> str:
        if self._account is None:
            raise RuntimeError(
                "RedisRateLimiter has no account: pass account= or use it in a client"
            )
        # The braces keep an account's keys in one Redis Cluster slot.
        return f"{self._prefix}:{{{self._account}}}:{name}"

    def _now_arg(self) -> str:
        return "" if self._server_clock is None else str(_us(self._server_clock()))

    async def _shared(self, script: _Script, keys: list[str], args: list[Any]) -> Any:
        """Run a script; None when Redis is unreachable (noted: the fallback takes over)."""
        try:
            return await self._eval(script, keys, args)
        except Exception as exc:
            if not _is_unreachable(exc):
                raise
            self._went_down(exc)
            return None

    async def _eval(self, script: _Script, keys: list[str], args: list[Any]) -> Any:
        """Run a script; a connection the server dropped is retried once on a fresh one."""
        try:
            async with asyncio.timeout(self._op_timeout):
                return await script(self._redis, keys, args)
        except Exception as exc:
            if not _is_dropped(exc):
                raise
        # redis-py has closed the failed connection: this attempt connects afresh.
        # A server that is really away refuses it at once.
        async with asyncio.timeout(self._op_timeout):
            return await script(self._redis, keys, args)

    async def _redis_acquire(self, write: bool) -> float | None:
        """Seconds to wait (0: the request may go, recorded), None when Redis is unreachable."""
        keys = [self._key("state"), self._key("all"), self._key("writes"), self._key("members")]
        sl = self._script_limits
        args: list[Any] = [
            1 if write else 0,
            sl.interval + _us(self._fallback.lateness_allowance),
            sl.widen_step,
            sl.widen_max,
            RateLimiter.CALM_REQUESTS,
            sl.ttl_ms,
            self._now_arg(),
            sl.interval,
            self._member,
            _us(self._heartbeat),
            *sl.windows,
        ]
        asked = self._clock()
        answer = await self._shared(_ACQUIRE, keys, args)
        if answer is None:
            return None
        delay, _, sharers, rank = answer
        self._sharers, self._rank = max(int(sharers), 1), int(rank)
        # Redis records the slot when it decides; the request leaves a round trip
        # later, late like a wake-up: it widens the spacing the same way.
        self._fallback.note_lateness(self._clock() - asked)
        if int(delay) <= 0:
            # The fallback sees this process's own requests, so an outage starts
            # from what this process really sent, not from an empty history.
            self._fallback.record(self._clock(), write)
        return int(delay) / _US

    def _went_down(self, exc: BaseException) -> None:
        self._down_until = self._clock() + self._retry_after
        if self._down:
            logger.debug("Redis still unreachable (%s)", type(exc).__name__)
            return
        self._down = True
        self.fallbacks += 1
        share = self._sharers if self._share_fallback else 1
        if self._share_fallback:
            self._fallback.share(share, self._rank)
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        logger.warning(
            "shared rate limiter: Redis unreachable (%s); limiting in this process alone "
            "(1/%d of the limits), retrying Redis in %.1fs",
            detail,
            share,
            self._retry_after,
        )
        events.emit(self._on_event, events.LimiterFallbackEvent(False, detail))

    def _came_back(self) -> None:
        if self._down:
            self._down = False
            if self._share_fallback:
                # The others come back at their own next check, up to retry_after
                # from now; until then this process keeps to its turns, as they do.
                self._turns_until = self._clock() + self._retry_after + self._op_timeout
            logger.info("shared rate limiter: Redis reachable again")
            events.emit(self._on_event, events.LimiterFallbackEvent(True, "reachable again"))


def _is_dropped(exc: BaseException) -> bool:
    """A connection failure that a fresh connection may not meet (not a timeout)."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    return isinstance(exc, RedisConnectionError | ConnectionResetError | BrokenPipeError)


def _is_unreachable(exc: BaseException) -> bool:
    from redis.exceptions import (
        ConnectionError as RedisConnectionError,
        TimeoutError as RedisTimeoutError,
    )

    return isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError | TimeoutError)
