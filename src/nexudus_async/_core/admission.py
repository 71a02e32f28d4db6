"""Admission: what a request passes between the request loop and the wire.

In order: the warm-up (the client's very first request goes alone, so one
login serves the requests queued behind it), the gate (no more requests
past the limiter than the pool has connections), the limiter (the API's
rate limits), and a last look at the credentials (a token that expired
while the request queued is renewed before anything is sent).
"""

from __future__ import annotations

import asyncio
import time

from . import events
from .auth import Auth, cached_reader
from .call import Call
from .gate import Gate, Warmup
from .limiter import Limiter
from .transport import HttpRequest, HttpResponse, Transport

__all__ = ["Admission", "TokenExpiredWhileQueued"]


class TokenExpiredWhileQueued(Exception):
    """The credentials expired while the request queued: renew them and queue again."""


class Admission:
    """Lets one attempt through the warm-up, the gate and the limiter, then sends it."""

    __slots__ = ("_cached_authorization", "_gate", "_inner", "_limiter", "_on_event", "warmup")

    def __init__(
        self,
        inner: Transport,
        *,
        limiter: Limiter,
        auth: Auth | None,
        gate: Gate | None,
        warmup: Warmup,
        on_event: events.EventHook | None,
    ) -> None:
        self._inner = inner
        self._limiter = limiter
        self._gate = gate
        self.warmup = warmup
        self._on_event = on_event
        # Credentials are read again after the limiter wait; an Auth that cannot
        # tell without awaiting keeps what it gave before the wait.
        self._cached_authorization = cached_reader(auth)

    async def warming_up(self, request: HttpRequest, call: Call) -> HttpResponse:
        """Send through the warm-up: the first request alone, the others after it."""
        warmup = self.warmup
        if not warmup.done:
            if warmup.leading:
                if call.deadline is None:
                    await warmup.event.wait()
                else:
                    async with asyncio.timeout(call.deadline - time.monotonic()):
                        await warmup.event.wait()
            else:
                warmup.leading = True
                try:
                    return await self.send(request, call)
                finally:
                    warmup.done = True
                    warmup.event.set()
        return await self.send(request, call)

    def admit_now(self, write: bool) -> bool:
        """Take a place past the gate and the limiter's slot without awaiting (the usual
        case: a free place, the limiter lets the request go now); False, having taken
        nothing, when the request must queue (:meth:`send` with ``refused``).

        The caller then sends (reading the credentials again with :meth:`current`) and
        gives the place back with :meth:`leave`, whatever happens.
        """
        gate = self._gate
        if gate is None:
            return self._limiter.try_acquire(write=write)
        if not gate.try_enter():
            return False
        if self._limiter.try_acquire(write=write):
            return True
        # Nothing ran since the place was taken: the queue takes it again without waiting.
        gate.leave()
        return False

    def leave(self) -> None:
        """Give back the place :meth:`admit_now` (or :meth:`send`) took."""
        gate = self._gate
        if gate is not None:
            gate.leave()

    def current(self, request: HttpRequest, call: Call) -> HttpRequest:
        """``request`` with the credentials as they are now (another call may have renewed
        them while this one queued). Raises :class:`TokenExpiredWhileQueued`."""
        cached = self._cached_authorization
        if cached is not None and "Authorization" in request.headers:
            current = cached()
            if current is None:
                raise TokenExpiredWhileQueued  # renew before sending anything
            if current[0] != request.headers["Authorization"]:
                # renewed by another call while this one queued: send the new token
                call.token_marker = current[1]
                request = request.evolve(headers={**request.headers, "Authorization": current[0]})
        return request

    async def send(
        self, request: HttpRequest, call: Call, *, refused: bool = False
    ) -> HttpResponse:
        """Through the gate and the limiter, then to the transport; ``refused``: the caller
        asked :meth:`admit_now` already, which answered False.

        Raises TimeoutError when the call's deadline passes while queued,
        :class:`TokenExpiredWhileQueued`, or what the transport raises.
        """
        if refused or not self.admit_now(call.write):
            await self._queue(call)
        try:
            return await self._inner.send(self.current(request, call))
        finally:
            self.leave()

    async def _queue(self, call: Call) -> None:
        # Queueing counts against the call's timeout (a TimeoutError out of here).
        started = time.perf_counter()
        if call.deadline is None:
            await self._wait_for_places(call.write)
        else:
            async with asyncio.timeout(call.deadline - time.monotonic()):
                await self._wait_for_places(call.write)
        waited = time.perf_counter() - started
        if waited >= 0.001:
            event = events.LimiterWaitEvent(call.method, call.path, waited, call.write)
            events.emit(self._on_event, event)

    async def _wait_for_places(self, write: bool) -> None:
        gate = self._gate
        if gate is not None:
            await gate.enter()
        try:
            await self._limiter.acquire(write=write)
        except BaseException:
            if gate is not None:
                gate.leave()
            raise
