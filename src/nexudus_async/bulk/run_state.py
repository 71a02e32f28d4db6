"""What every step of one run shares: the journal, the stop, counters, progress, the fatal error.

A run's steps (:mod:`.create_step` for create groups, :mod:`.record_step` for
record ops) only ever add to the counters; totals are computed once when the
run starts, so a progress report costs the same at the first unit and the
100,000th (nothing per unit walks every unit).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import attrs

from .._core.errors import NexudusError
from .journal import Journal
from .policy import decide
from .report import BulkProgress
from .stopping import SendingStopped

__all__ = ["Counters", "ProgressCallback", "Run", "Stopped", "Totals", "Unresolved"]

log = logging.getLogger("nexudus_async.bulk")

ProgressCallback = Callable[[BulkProgress], Awaitable[None]]
_T = TypeVar("_T")
ReadKind = Literal["snapshot", "count", "op"]


class Unresolved(Exception):
    """A unit's outcome could not be established (a read failed)."""


class Stopped(Unresolved):
    """The job was told to stop (or stopped itself) before a read went out."""


@attrs.define
class Counters:
    records_done: int = 0
    records_skipped: int = 0
    records_failed: int = 0
    records_not_sent: int = 0
    units_not_sent: int = 0
    units_done: int = 0
    requests_sent: int = 0
    """Writes: creates, PUTs and DELETEs."""
    counts_sent: int = 0
    snapshot_sent: int = 0
    op_reads: int = 0
    op_writes: int = 0


@attrs.frozen
class Totals:
    """Known when the run starts: computed once, never per unit."""

    records: int
    units: int
    requests: int


class Run:
    """One run of a job: shared by its steps, in one event loop."""

    def __init__(
        self,
        journal: Journal,
        job_id: str,
        totals: Totals,
        *,
        concurrency: int,
        progress: ProgressCallback | None,
        stop: asyncio.Event | None,
        max_attempts: int,
        throttle_backoff: float,
        lost: list[str],
    ) -> None:
        self.journal = journal
        self.job_id = job_id
        self.totals = totals
        self.sem = asyncio.Semaphore(concurrency)
        self.workers = 2 * concurrency  # more than the sends: some wait for their key's lock
        self.progress = progress
        self.stop = stop
        self.max_attempts = max_attempts
        self.throttle_backoff = throttle_backoff
        self.lost = lost
        """Why the job's Redis lease was lost, if it was (see :mod:`.lease`)."""
        self.c = Counters()
        self.started = time.monotonic()
        self.progress_lock = asyncio.Lock()
        self.fatal: NexudusError | None = None
        """The error that stopped the whole job (the policy's ``stop``)."""
        self.answered = False
        """Whether any request of this run got an answer."""

    def told_to_stop(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def stopped(self) -> bool:
        """Told to stop, or stopped by a fatal error: start no new request."""
        return self.told_to_stop() or self.fatal is not None or bool(self.lost)

    def stop_job(self, exc: NexudusError) -> None:
        """The policy said ``stop``: no unit starts a request from now on."""
        if self.fatal is None:
            self.fatal = exc
            log.info("bulk job %s: stopping: %s", self.job_id[:12], exc)

    def stop_reason(self) -> str:
        if self.fatal is not None and not self.told_to_stop():
            return f"not sent: the job stopped ({self.fatal}); re-run to resume"
        return "interrupted before it was sent; re-run to resume"

    async def backoff(self, attempt: int) -> None:
        await asyncio.sleep(self.throttle_backoff * attempt)

    def _count_read(self, kind: ReadKind) -> None:
        if kind == "snapshot":
            self.c.snapshot_sent += 1
        elif kind == "count":
            self.c.counts_sent += 1
        else:
            self.c.op_reads += 1
        self.journal.record_send(self.job_id, write=False)

    async def read(self, call: Callable[[], Awaitable[_T]], kind: ReadKind, what: str) -> _T:
        """A read (GET), retried as the policy says; :class:`Unresolved` if it cannot be made."""
        for attempt in range(1, self.max_attempts + 1):
            if self.stopped():
                raise Stopped(f"stopping: did not {what}")
            self._count_read(kind)
            try:
                value = await call()
            except (NexudusError, SendingStopped) as exc:
                decision = decide(exc, "read", answered=self.answered)
                if decision.action == "stopped":
                    raise Stopped(f"stopping: did not {what}") from exc
                if decision.action == "stop" and isinstance(exc, NexudusError):
                    self.stop_job(exc)
                if decision.action != "retry" or attempt == self.max_attempts:
                    raise Unresolved(f"could not {what}: {exc}") from exc
                await self.backoff(attempt)
            else:
                self.answered = True
                return value
        raise AssertionError("unreachable")  # pragma: no cover

    def count_result(self, status: str, expected: int, created: int, before: int) -> None:
        """Add one settled unit to the counters (``created``: of ``expected``, existing now)."""
        c = self.c
        c.units_done += 1
        if status == "skipped":
            c.records_skipped += expected
        c.records_skipped += before
        if status in ("created", "skipped", "updated", "deleted"):
            c.records_done += expected
        elif status == "not_sent":
            c.units_not_sent += 1
            c.records_not_sent += expected - created
            c.records_done += created
        else:
            c.records_failed += expected - created
            c.records_done += created

    async def report_progress(self) -> None:
        if self.progress is None:
            return
        c, t = self.c, self.totals
        snap = BulkProgress(
            records_total=t.records,
            records_done=c.records_done,
            records_failed=c.records_failed,
            groups_total=t.units,
            groups_done=c.units_done,
            requests_total=t.requests,
            requests_sent=c.requests_sent,
            elapsed=time.monotonic() - self.started,
            records_skipped=c.records_skipped,
            reads_sent=c.snapshot_sent + c.counts_sent + c.op_reads,
            records_not_sent=c.records_not_sent,
            stopping=self.stopped(),
        )
        async with self.progress_lock:  # one callback at a time, in order
            await self.progress(snap)
