"""Bulk creation: many rows, the fewest requests, nothing lost and nothing doubled.

``await client.coworker_time_passes.bulk_create(rows)`` (and the same on
``product_time_passes`` and ``tariff_time_passes``) goes through
:func:`run_bulk`:

1. every row is validated first (:mod:`.rows`); nothing is sent for an
   invalid row;
2. rows asking for identical CoworkerTimePasses are coalesced into one
   ``CreateMultiple`` request per group (:mod:`.plan`);
3. groups are sent with bounded concurrency through the client, so its rate
   limiter and retry policy apply to every request;
4. every group is written to a journal (:mod:`.journal`) before and
   after it is sent, so a job can be resumed after a crash;
5. every request's send time goes to the journal too, and a run first
   primes the client's limiter with the last day's (:func:`prime_limiter`):
   the API's hourly and daily windows remember what a crashed run spent, so
   the rerun must not spend the daily budget again.

A clean job sends one create request per group plus one read: the baseline
snapshot below (one read per 1,000 passes that already exist in the job's
window).

Reconciliation, not guessing
----------------------------
A create whose outcome is unknown (the connection dropped, a timeout, a 5xx,
a 200 whose body cannot be read:
:class:`~nexudus_async._core.errors.OutcomeUnknownError`) is never simply resent.
The job counts the records matching the group (for CoworkerTimePasses: the
list filtered by customer ``CoworkerTimePass_Coworker``, time pass
``CoworkerTimePass_TimePass`` and ``From_CoworkerTimePass_CreatedOn`` a day
before the job started; only ``TotalItems`` of a one-record page is read)
against the group's *baseline*, recorded in the journal before the group was
first sent: ``created = now - baseline``, and only ``expected - created``
more are requested. A group found ``sending`` when a job is resumed is
counted the same way.

The baseline is the number of matching records that are not the group's
own. Before it sends anything, the job reads a *snapshot*
(:mod:`.snapshot`): the records created in that window (narrowed by
time pass when every group shares one), up to 1,000 per list request,
counted per customer and time pass, and saved in the journal with a marker
in one transaction, so a resumed job reuses it. A group's baseline is the
snapshot's count for its key plus what the job's other groups of that key
have created (exact, from the journal). Groups sharing a customer and time
pass are sent one after the other, and none is sent while one of them has
an unresolved outcome, so each count is attributed to one group.

When the snapshot would take more list requests than the job has customer
and time pass keys (many passes created in the window), or could not be
read, the job counts each group's key just before its first send instead
(one request per group); so does a job that had sent groups before any
snapshot was saved (a journal from an earlier version).

**Assumption:** while a job runs (and until an interrupted job is resumed),
nothing else creates or deletes time passes for the same customer and time
pass. A concurrent writer would make the count attribute its passes to this
job (too few created) or hide some of the job's (too many). Run imports of
the same customers one at a time.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import attrs

from .._core.entity import Entity
from .._core.errors import (
    APIError,
    AuthenticationError,
    InputError,
    MalformedResponseError,
    NexudusError,
    OutcomeUnknownError,
    PermissionDeniedError,
    ServerError,
    ThrottledError,
    TransportError,
)
from .._core.limiter import Limiter
from .._core.resource import Resource
from .._generated.api import COWORKER_TIME_PASS
from . import stopping
from .gateway import BulkGateway, ResourceGateway, SnapshotGateway
from .job_hold import hold_job
from .journal import Journal
from .lock import JobLock, JobLockedError, JobLockError
from .plan import Group, Plan, make_plan
from .report import (
    BaselineSource,
    BulkProgress,
    BulkReport,
    GroupResult,
    RowResult,
    row_results,
)
from .rows import RowError, SourceRow, validate_rows
from .snapshot import (
    KeyedPage,
    Snapshot,
    SnapshotAbandoned,
    key_text,
    take_snapshot,
)
from .stopping import SendingStopped

__all__ = [
    "BulkGateway",
    "BulkInputError",
    "BulkProgress",
    "BulkReport",
    "GroupResult",
    "JobLockError",
    "JobLockedError",
    "KeyedPage",
    "ResourceGateway",
    "RowResult",
    "SnapshotGateway",
    "bulk_create",
    "bulk_create_for",
    "prime_limiter",
    "rows_from_mappings",
    "run_bulk",
    "since_for",
]

log = logging.getLogger("nexudus_async.bulk")

ProgressCallback = Callable[["BulkProgress"], Awaitable[None]]
_T = TypeVar("_T")


class BulkInputError(InputError):
    """Rows were rejected by validation; nothing was sent.

    Attributes:
        row_errors: one :class:`~nexudus_async.bulk.rows.RowError` per problem,
            each naming the row's line, the field and the value.
    """

    row_errors: tuple[RowError, ...]

    def __init__(self, errors: Sequence[RowError]) -> None:
        lines = len({e.line for e in errors})
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__("rows", f"{lines} invalid row(s)", f"{shown}{more}")
        self.message = f"{lines} invalid row(s), nothing was sent: {shown}{more}"
        self.row_errors = tuple(errors)

    def __str__(self) -> str:
        return self.message


def since_for(start: _dt.datetime | None = None) -> str:
    """The CreatedOn lower bound for a job starting now.

    A day before the job start, because the API's dates are the space's local
    wall-clock time (any offset from UTC) and the filter has minute precision;
    the bound only narrows the count, the baseline makes it exact.
    """
    start = start or _dt.datetime.now(_dt.UTC)
    return (start - _dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")


def rows_from_mappings(rows: Iterable[Mapping[str, Any] | Any]) -> list[SourceRow]:
    """Number plain rows from 1; accepts mappings and generated models (``to_dict``)."""
    out: list[SourceRow] = []
    for i, row in enumerate(rows, start=1):
        if isinstance(row, SourceRow):
            out.append(row)
        elif isinstance(row, Mapping):
            out.append(SourceRow(i, row))
        elif hasattr(row, "to_dict"):
            out.append(SourceRow(i, row.to_dict()))
        elif attrs.has(type(row)):
            out.append(SourceRow(i, attrs.asdict(row)))
        else:
            raise TypeError(f"row {i}: expected a mapping, got {type(row).__name__}")
    return out


class _Unresolved(Exception):
    """A group's outcome could not be established (a count failed)."""


class _Stopped(_Unresolved):
    """The job was told to stop (or stopped itself) before a read went out."""


def cannot_connect(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure to connect at all (refused, DNS, TLS): nothing was sent.

    The transport says so (``connected``); a connect that timed out is not counted.
    """
    return (
        isinstance(exc, TransportError) and not exc.connected and not isinstance(exc, TimeoutError)
    )


def is_fatal(exc: BaseException, *, answered: bool) -> bool:
    """Errors that would fail every other group the same way: stop the whole job.

    Refused credentials or permissions (one login per group could lock the
    account), or a host that could not be reached before anything answered.
    """
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        return True
    return not answered and isinstance(exc, TransportError) and cannot_connect(exc)


@attrs.define
class _Counters:
    records_done: int = 0
    records_skipped: int = 0
    records_failed: int = 0
    records_not_sent: int = 0
    groups_not_sent: int = 0
    groups_done: int = 0
    requests_sent: int = 0
    counts_sent: int = 0
    snapshot_sent: int = 0


def _shared_keys(groups: Sequence[Group]) -> dict[tuple[Any, ...], list[str]]:
    """The groups of each reconcile key that has more than one (the plan keeps them together).

    Only those: a job of 100,000 customers would otherwise keep 100,000 lists of one.
    """
    shared: dict[tuple[Any, ...], list[str]] = {}
    for before, group in itertools.pairwise(groups):
        if before.reconcile_key == group.reconcile_key:
            keys = shared.setdefault(group.reconcile_key, [before.key])
            keys.append(group.key)
    return shared


def _skipped(group: Group, created: int) -> GroupResult:
    reason = "already created by an earlier run"
    return GroupResult(group.key, group.fields, group.count, created, "skipped", 0, reason)


class _Job:
    def __init__(
        self,
        plan: Plan,
        gateway: BulkGateway,
        journal: Journal,
        job_id: str,
        since: str,
        *,
        concurrency: int,
        progress: ProgressCallback | None,
        stop: asyncio.Event | None,
        max_attempts: int,
        throttle_backoff: float,
    ) -> None:
        self.plan = plan
        self.gateway = gateway
        self.journal = journal
        self.job_id = job_id
        self.since = since
        self.sem = asyncio.Semaphore(concurrency)
        self.progress = progress
        self.stop = stop
        self.max_attempts = max_attempts
        self.throttle_backoff = throttle_backoff
        self.workers = 2 * concurrency  # more than the sends: some wait for their key's lock
        self.locks: dict[tuple[Any, ...], tuple[asyncio.Lock, int]] = {}
        """Per reconcile key in use: its lock and how many groups hold or await it."""
        self.blocked: set[tuple[Any, ...]] = set()
        self.c = _Counters()
        self.states = {k: g.state for k, g in journal.groups(job_id).items()}
        # Totals once, at the start: nothing per group walks every group.
        self.records_total = plan.records
        todo = [g for g in plan.groups if self.states.get(g.key) != "done"]
        self.anything_to_send = bool(todo)
        # What this run has to send: groups an earlier run finished need nothing.
        self.requests_total = sum(g.requests(plan.per_request) for g in todo)
        self.lost: list[str] = []
        """Why the job's Redis lease was lost, if it was (see :mod:`.lease`)."""
        self.same_key = _shared_keys(plan.groups)
        self.snapshot: dict[str, int] | None = None
        """Records per reconcile key before the job sent anything (None: count per group)."""
        self.baseline: BaselineSource = "none"
        self.baseline_note: str | None = None
        self.started = time.monotonic()
        self.progress_lock = asyncio.Lock()
        self.fatal: NexudusError | None = None
        """The error that stopped the whole job (see :func:`is_fatal`)."""
        self.answered = False
        """Whether any request of this run got an answer."""

    def stopped(self) -> bool:
        """Told to stop, or stopped by a fatal error: start no new request."""
        told = self.stop is not None and self.stop.is_set()
        return told or self.fatal is not None or bool(self.lost)

    def check_fatal(self, exc: NexudusError) -> None:
        if self.fatal is None and is_fatal(exc, answered=self.answered):
            self.fatal = exc
            log.info("bulk job %s: stopping: %s", self.job_id[:12], exc)

    def match(self, group: Group) -> dict[str, Any]:
        return dict(zip(self.plan.entity.reconcile, group.reconcile_key, strict=True))

    async def count(self, group: Group) -> int:
        """Count the group's matching records; a count is a GET, so it may be retried."""
        return await self._read(lambda: self.gateway.count(self.match(group), self.since))

    async def _read(self, call: Callable[[], Awaitable[_T]], *, snapshot: bool = False) -> _T:
        """A read (GET), retried on transient errors; ``_Unresolved`` if it cannot be made."""
        what = "read the existing records" if snapshot else "count the existing records"
        for attempt in range(1, self.max_attempts + 1):
            if self.stopped():
                raise _Stopped(f"stopping: did not {what}")
            if snapshot:
                self.c.snapshot_sent += 1
            else:
                self.c.counts_sent += 1
            self.journal.record_send(self.job_id, write=False)
            try:
                value = await call()
            except SendingStopped as exc:
                raise _Stopped(f"stopping: did not {what}") from exc
            except (ThrottledError, ServerError, TransportError, OutcomeUnknownError) as exc:
                self.check_fatal(exc)
                if attempt == self.max_attempts or self.fatal is not None:
                    raise _Unresolved(f"could not {what}: {exc}") from exc
                await asyncio.sleep(self.throttle_backoff * attempt)
            except NexudusError as exc:
                self.check_fatal(exc)
                raise _Unresolved(f"could not {what}: {exc}") from exc
            else:
                self.answered = True
                return value
        raise AssertionError("unreachable")  # pragma: no cover

    async def prepare(self) -> None:
        """Decide where baselines come from, reading the snapshot if the job needs one.

        A snapshot is only ever taken before the job's first group is sent: after
        that it would count the job's own records as pre-existing ones.
        """
        if not self.anything_to_send:
            return  # nothing to send: no baseline needed
        saved = self.journal.snapshot(self.job_id)
        if saved is not None:  # taken by an earlier run of this job
            self.snapshot, self.baseline = saved.counts, "journal"
            return
        if self.journal.has_groups(self.job_id):
            self.baseline = "per_group"
            self.baseline_note = (
                "an earlier run sent groups without a snapshot: one count before each group"
            )
            return
        if self.stopped():
            return
        try:
            snap = await self.take_snapshot()
        except (SnapshotAbandoned, _Unresolved) as exc:
            self.baseline = "per_group"
            self.baseline_note = f"no snapshot ({exc}): one count before each group"
            log.info("bulk job %s: %s", self.job_id[:12], self.baseline_note)
            return
        # Marker and counts in one transaction: a crash before it leaves no
        # snapshot, and since nothing was sent yet, the next run takes it again.
        self.journal.save_snapshot(self.job_id, snap.counts, reads=snap.reads, records=snap.records)
        self.snapshot, self.baseline = snap.counts, "snapshot"

    async def take_snapshot(self) -> Snapshot:
        fields = self.plan.entity.reconcile
        groups = self.plan.groups
        # Narrow the list by every reconcile field all the groups share.
        match = {
            f: groups[0].reconcile_key[i]
            for i, f in enumerate(fields)
            if len({g.reconcile_key[i] for g in groups}) == 1
        }
        keys = {key_text(g.reconcile_key) for g in groups}
        if len(match) == len(fields):
            # A single key: its count is the whole snapshot.
            n = await self._read(lambda: self.gateway.count(match, self.since), snapshot=True)
            return Snapshot({next(iter(keys)): n}, reads=1, records=n)
        gateway = self.gateway
        if not isinstance(gateway, SnapshotGateway):
            raise SnapshotAbandoned("the gateway cannot read list pages", 0)

        async def fetch(page: int, size: int) -> KeyedPage:
            return await self._read(
                lambda: gateway.snapshot_page(match, self.since, page, size), snapshot=True
            )

        return await take_snapshot(fetch, keys, budget=self.plan.snapshot_budget)

    def baseline_from_journal(self, group: Group) -> int:
        """The snapshot's count of the group's key plus what its other groups created.

        Exact because the other groups of the key are resolved: they are sent one
        at a time under the key's lock, and none is sent while one is unresolved.
        """
        assert self.snapshot is not None
        baseline = self.snapshot.get(key_text(group.reconcile_key), 0)
        for key in self.same_key.get(group.reconcile_key, ()):
            other = self.journal.group(self.job_id, key) if key != group.key else None
            if other is None:
                continue
            if other.state == "sending":  # pragma: no cover - prevented by the ordering
                raise _Unresolved(
                    "another group of the same key has an unresolved outcome; not sent"
                )
            baseline += other.created
        return baseline

    def send_order(self) -> list[Group]:
        """The plan's groups, those left ``sending`` by an earlier run first.

        Groups of one key take its lock in this order. A group whose outcome is
        unknown is reconciled against a baseline that counts its key's other
        groups as they were when it was sent; it must be resolved before one of
        them (a group re-run after a failure) creates more.
        """
        return sorted(self.plan.groups, key=lambda g: self.states.get(g.key) != "sending")

    async def report_progress(self) -> None:
        if self.progress is None:
            return
        c = self.c
        snap = BulkProgress(
            records_total=self.records_total,
            records_done=c.records_done,
            records_failed=c.records_failed,
            groups_total=len(self.plan.groups),
            groups_done=c.groups_done,
            requests_total=self.requests_total,
            requests_sent=c.requests_sent,
            elapsed=time.monotonic() - self.started,
            records_skipped=c.records_skipped,
            reads_sent=c.snapshot_sent + c.counts_sent,
            records_not_sent=c.records_not_sent,
            stopping=self.stopped(),
        )
        async with self.progress_lock:  # one callback at a time, in order
            await self.progress(snap)

    def finish(self, result: GroupResult) -> GroupResult:
        self.c.groups_done += 1
        if result.status == "skipped":
            self.c.records_skipped += result.expected
        self.c.records_skipped += result.created_before
        if result.status in ("created", "skipped"):
            self.c.records_done += result.expected
        elif result.status == "not_sent":
            self.c.groups_not_sent += 1
            self.c.records_not_sent += result.expected - result.created
            self.c.records_done += result.created
        else:
            self.c.records_failed += result.expected - result.created
            self.c.records_done += result.created
        return result

    async def run_all(self) -> dict[str, GroupResult]:
        """Every group, by a few workers in send order; once stopped, the rest at once."""
        order = iter(self.send_order())
        results: dict[str, GroupResult] = {}

        async def worker() -> None:
            while not self.stopped():
                group = next(order, None)
                if group is None:
                    return
                results[group.key] = await self.run_group(group)

        # A TaskGroup, so an unexpected error (or cancellation) stops every group:
        # those in flight stay "sending" in the journal and are reconciled later.
        try:
            async with asyncio.TaskGroup() as tg:
                for _ in range(self.workers):
                    tg.create_task(worker())
        except BaseExceptionGroup as group_error:
            if len(group_error.exceptions) == 1:
                raise group_error.exceptions[0] from None
            raise
        if self.stopped():
            self.settle_unsent(list(order), results)
        return results

    def settle_unsent(self, rest: list[Group], results: dict[str, GroupResult]) -> None:
        """The groups a stopped job never took: one journal transaction, one log line."""
        keys = [g.key for g in rest if g.key in self.states]
        prior = self.journal.groups_of(self.job_id, keys) if keys else {}
        why = "interrupted; the journal keeps it 'sending': re-run to reconcile"
        for group in rest:
            record = prior.get(group.key)
            if record is not None and record.state == "done":
                results[group.key] = self.finish(_skipped(group, record.created))
                continue
            unknown = record is not None and record.state == "sending"
            created = record.created if record else 0
            results[group.key] = self.finish(
                self.not_sent(group, created, why if unknown else None)
            )
        if not self.c.groups_not_sent:
            return
        groups, records, reason = (
            self.c.groups_not_sent,
            self.c.records_not_sent,
            self.stop_reason(),
        )
        self.journal.record_stop(
            self.job_id, groups_left=groups, records_left=records, reason=reason
        )
        log.info("bulk job %s: %d records in %d groups not sent (%s)",
                 self.job_id[:12], records, groups, reason)  # fmt: skip

    async def run_group(self, group: Group) -> GroupResult:
        record = self.journal.group(self.job_id, group.key)
        if record is not None and record.state == "done":
            result = self.finish(_skipped(group, record.created))
            await self.report_progress()
            return result
        rkey = group.reconcile_key
        lock, users = self.locks.get(rkey) or (asyncio.Lock(), 0)
        self.locks[rkey] = (lock, users + 1)
        created = record.created if record else 0
        try:
            async with lock:
                result = await self._run_locked(group, created)
        finally:
            lock, users = self.locks[rkey]
            if users == 1:
                del self.locks[rkey]  # no other group of the key waits: memory stays flat
            else:
                self.locks[rkey] = (lock, users - 1)
        result = self.finish(result)
        await self.report_progress()
        return result

    async def _run_locked(self, group: Group, created: int) -> GroupResult:
        """A group under its key's lock: sent, or not (stopping, or its key blocked)."""
        if self.stopped():
            return self.not_sent(group, created)
        if group.reconcile_key in self.blocked:
            return self.not_sent(
                group,
                created,
                "not sent: an earlier group for the same "
                + " and ".join(self.plan.entity.reconcile)
                + " has an unresolved outcome; re-run to resume",
            )
        async with self.sem:
            # Checked again here: the flag may have been set while waiting.
            if self.stopped():
                return self.not_sent(group, created)
            result = await self.send_group(group)
        if result.status == "failed" and self._left_unresolved(group):
            self.blocked.add(group.reconcile_key)
        return result

    def not_sent(self, group: Group, created: int, reason: str | None = None) -> GroupResult:
        """A group this run sent nothing for (by default: because the job stopped)."""
        reason = reason or self.stop_reason()
        return GroupResult(group.key, group.fields, group.count, created, "not_sent", 0, reason)

    def stop_reason(self) -> str:
        if self.fatal is not None and not (self.stop is not None and self.stop.is_set()):
            return f"not sent: the job stopped ({self.fatal}); re-run to resume"
        return "interrupted before it was sent; re-run to resume"

    def _left_unresolved(self, group: Group) -> bool:
        rec = self.journal.group(self.job_id, group.key)
        return rec is not None and rec.state == "sending"

    async def create(self, group: Group, chunk: int) -> Any:
        """One create request; counted as sent once it has an outcome (counts only grow)."""
        try:
            answer = await stopping.unless_stopped(
                self.stop, lambda: self.gateway.create(group.fields, chunk)
            )
        except SendingStopped:
            raise
        except BaseException:
            self.c.requests_sent += 1
            raise
        self.c.requests_sent += 1
        return answer

    async def send_group(self, group: Group) -> GroupResult:
        record = self.journal.group(self.job_id, group.key)
        resumed = record is not None
        prior_requests = record.requests if record is not None else 0
        requests = 0
        created = created_before = record.created if record is not None else 0
        ids: list[int] = []

        def result(status: Literal["created", "failed"], reason: str | None) -> GroupResult:
            return GroupResult(
                group.key,
                group.fields,
                group.count,
                created,
                status,
                requests,
                reason=reason,
                resumed=resumed,
                created_before=created_before,
                ids=tuple(ids),
            )

        def stopped_before_send() -> GroupResult:
            """Stopped between sends: ``created`` is exact, so the journal can say so."""
            if need_mark:  # nothing of this run is in the journal, nor was sent
                return self.not_sent(group, created)
            self.journal.mark_failed(
                self.job_id,
                group.key,
                created=created,
                requests=prior_requests + requests,
                error="interrupted before the next create was sent",
            )
            return attrs.evolve(
                result("failed", None), status="not_sent", reason=self.stop_reason()
            )

        def failed(reason: str) -> GroupResult:
            """A definite failure: ``created`` is exact, so the journal can say so."""
            self.journal.mark_failed(
                self.job_id,
                group.key,
                created=created,
                requests=prior_requests + requests,
                error=reason,
            )
            return result("failed", reason)

        # The baseline is marked (durably) right before the first create leaves.
        need_mark = record is None or record.state == "failed"
        try:
            if record is None:
                if self.snapshot is not None:
                    baseline = self.baseline_from_journal(group)
                else:
                    baseline = await self.count(group)
            elif record.state == "failed":
                # A definite failure: ``created`` is exact, but later groups of the
                # same key may have been created since, so take a fresh baseline.
                baseline = await self.count(group) - created
            else:  # "sending": the outcome of the last send is unknown
                baseline = record.baseline
                created = created_before = await self.count(group) - baseline
            attempts = 0
            note: str | None = None
            while True:
                missing = group.count - created
                if missing <= 0:
                    if missing < 0:
                        note = (
                            f"counted {-missing} more record(s) than requested: another "
                            "writer created passes for the same customer and time pass?"
                        )
                        log.warning("group %s: %s", group.key, note)
                    self.journal.mark_done(
                        self.job_id,
                        group.key,
                        created=created,
                        requests=prior_requests + requests,
                    )
                    return result("created", note)
                if attempts >= self.max_attempts:
                    return failed(f"gave up after {attempts} attempts: {note}")
                # CreateMultiple is a 32-bit integer, however many passes the group holds.
                most = self.plan.per_request
                chunk = missing if most is None else min(missing, most)
                if self.stopped():
                    return stopped_before_send()
                attempts += 1
                requests += 1
                self.journal.record_send(self.job_id, write=True)
                if need_mark:  # the intent: one durable transaction, with the send time
                    self.journal.mark_sending(
                        self.job_id, group.key, expected=group.count, baseline=baseline
                    )
                    need_mark = False
                try:
                    answer = await self.create(group, chunk)
                except SendingStopped:
                    requests -= 1  # refused before it went out
                    return stopped_before_send()
                except OutcomeUnknownError as exc:
                    note = f"outcome unknown ({exc}); reconciled by counting"
                    log.info("group %s: %s", group.key, note)
                    created = await self.count(group) - baseline
                    continue
                except InputError as exc:
                    return failed(str(exc))  # refused before sending: nothing to count
                except ThrottledError as exc:
                    # A throttled request was not executed: safe to send again.
                    note = f"throttled: {exc}"
                    await asyncio.sleep(self.throttle_backoff * attempts)
                    continue
                except APIError as exc:
                    if isinstance(exc, MalformedResponseError):
                        # Answered but unreadable: it may have been executed.
                        note = f"unreadable answer ({exc}); reconciled by counting"
                        created = await self.count(group) - baseline
                        continue
                    if exc.status is not None and exc.status >= 500:
                        note = f"server error ({exc}); reconciled by counting"
                        created = await self.count(group) - baseline
                        continue
                    self.check_fatal(exc)
                    return failed(str(exc))
                except TransportError as exc:
                    if not cannot_connect(exc):
                        note = f"{type(exc).__name__} ({exc}); reconciled by counting"
                        created = await self.count(group) - baseline
                        continue
                    # Connecting failed after the client's retries: nothing was sent.
                    self.check_fatal(exc)
                    if self.fatal is not None or attempts >= self.max_attempts:
                        return failed(str(exc))
                    note = str(exc)
                    await asyncio.sleep(self.throttle_backoff * attempts)
                    continue
                except NexudusError as exc:
                    # Anything else might have reached the server: count, never guess.
                    note = f"{type(exc).__name__} ({exc}); reconciled by counting"
                    created = await self.count(group) - baseline
                    continue
                self.answered = True
                new_id = getattr(answer, "id", None)
                if isinstance(new_id, int) and not isinstance(new_id, bool):
                    ids.append(new_id)
                created += chunk
                if created < group.count:  # else the loop's next turn marks it done
                    self.journal.mark_sent(
                        self.job_id, group.key, created=created, requests=prior_requests + requests
                    )
                    await self.report_progress()
        except _Stopped:
            rec = self.journal.group(self.job_id, group.key)
            if rec is None or rec.state != "sending":  # exact: nothing left unknown
                return self.not_sent(group, created)
            # A reconciling count was not made: the outcome stays unknown.
            return GroupResult(
                group.key,
                group.fields,
                group.count,
                created,
                "not_sent",
                requests,
                reason="interrupted while reconciling; the journal keeps the group as "
                "'sending', re-run to reconcile",
                resumed=resumed,
                created_before=created_before,
            )
        except _Unresolved as exc:
            if self.journal.group(self.job_id, group.key) is None:
                reason = f"{exc}; nothing was sent for the group, re-run to send it"
            else:
                reason = f"{exc}; the journal keeps the group as 'sending', re-run to reconcile"
            return result("failed", reason)


async def run_bulk(
    plan: Plan,
    gateway: BulkGateway,
    *,
    journal: Journal | None = None,
    concurrency: int = 4,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    max_attempts: int = 8,
    throttle_backoff: float = 1.0,
    source: str | None = None,
    since: str | None = None,
    job_id: str | None = None,
    lock: JobLock | None = None,
    wait_for_lock: bool = False,
) -> BulkReport:
    """Send a plan's groups; resume it from ``journal`` when the job was started before.

    ``stop``: when set, groups not started yet are left unsent (the report says
    ``interrupted``) and groups in flight finish. Cancelling the task instead is
    safe too: the journal keeps an in-flight group as ``sending`` and the next
    run reconciles it.

    ``job_id``: the journal's key of the job (default: the plan's content hash,
    so the same rows resume the same job); another id starts a new job.

    One runner per job (:mod:`.lock`, :mod:`.lease`): before anything is sent
    the job is locked (its journal, and its content for the client's account on
    this machine; in Redis too when the client's limiter is a
    ``RedisRateLimiter``). Another run holding it raises
    :class:`~nexudus_async.bulk.lock.JobLockedError` (nothing sent), unless
    ``wait_for_lock``: then this run waits for it and goes on as a rerun.
    ``lock``: a :class:`~nexudus_async.bulk.lock.JobLock` the caller already holds.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    own_journal = journal is None
    journal = journal if journal is not None else Journal(":memory:")
    lost: list[str] = []
    label = plan.job_hash[:12] + (f" ({source})" if source else "")
    try:
        async with hold_job(
            gateway, plan.job_hash, journal=journal.path, label=label, lock=lock,
            wait=wait_for_lock, on_lost=lost.append,
        ):  # fmt: skip
            return await _run_held(
                plan, gateway, journal, lost, concurrency=concurrency, progress=progress,
                stop=stop, max_attempts=max_attempts, throttle_backoff=throttle_backoff,
                source=source, since=since, job_id=job_id,
            )  # fmt: skip
    finally:
        if own_journal:
            journal.close()


async def _run_held(
    plan: Plan,
    gateway: BulkGateway,
    journal: Journal,
    lost: list[str],
    *,
    source: str | None,
    since: str | None,
    job_id: str | None,
    **options: Any,
) -> BulkReport:
    """:func:`run_bulk` once the job is held."""
    job = journal.open_job(
        job_id or plan.job_hash,
        entity=plan.entity.attribute,
        since=since or since_for(),
        groups=len(plan.groups),
        records=plan.records,
        source=source,
    )
    runner = _Job(plan, gateway, journal, job.job_id, job.since, **options)
    runner.lost = lost
    limiter = getattr(gateway, "limiter", None)
    if isinstance(limiter, Limiter):
        primed = await prime_limiter(limiter, journal)
        if primed:
            log.info(
                "bulk job %s: the limiter counts %d requests an earlier run sent",
                job.job_id[:12],
                primed,
            )
    await runner.report_progress()
    await runner.prepare()
    if runner.c.snapshot_sent:
        await runner.report_progress()
    by_key = await runner.run_all()
    groups = [by_key.pop(g.key) for g in plan.groups]  # the dict goes as the list fills
    del by_key
    await runner.report_progress()
    if runner.fatal is not None:
        # Every group is settled (journaled): the next run resumes the job.
        raise runner.fatal
    if lost:
        raise JobLockError("the job's lease in Redis", lost[0], temporary=True)
    report = BulkReport(
        entity=plan.entity.attribute,
        rows=row_results(plan, groups),
        groups=groups,
        create_requests=runner.c.requests_sent,
        snapshot_requests=runner.c.snapshot_sent,
        count_requests=runner.c.counts_sent,
        baseline=runner.baseline,
        baseline_note=runner.baseline_note,
        elapsed=time.monotonic() - runner.started,
        interrupted=runner.stop is not None and runner.stop.is_set(),
        job_id=job.job_id,
    )
    if report.records_missing == 0 and not report.interrupted:
        journal.finish_job(job.job_id)
    return report


async def prime_limiter(limiter: Limiter, journal: Journal, *, now: float | None = None) -> int:
    """Count in ``limiter`` the requests this journal's jobs sent in the last day.

    The API's sliding windows (5,000 requests an hour, 5,000 writes a day)
    belong to the account and outlive a crash; the limiter of a new process
    starts empty. Returns how many requests the limiter did not count yet.
    """
    wall = time.time() if now is None else now
    # The longest window the limiter keeps (a day for the published limits).
    limits = limiter.limits
    if limits is None or not limits.windows:
        return 0
    since = wall - max(w.period for w in limits.windows) * (1 + limits.safety)
    writes = journal.send_times(since=since, write=True)
    reads = journal.send_times(since=since, write=False)
    primed = await limiter.prime(writes, write=True, now=wall)
    return primed + await limiter.prime(reads, write=False, now=wall)


async def bulk_create_for(
    resource: Resource[Any, Any], rows: Iterable[Mapping[str, Any] | Any], **options: Any
) -> BulkReport:
    """``client.<resource>.bulk_create(rows, ...)``: :func:`bulk_create` through a resource.

    Every request goes through the resource's client, so its rate limiter,
    retry policy and credentials apply.
    """
    gateway = ResourceGateway(resource)
    options.setdefault("allow_unknown_enum_values", gateway.allow_unknown_enum_values)
    return await bulk_create(gateway, rows, entity=resource.entity, **options)


async def bulk_create(
    gateway: BulkGateway,
    rows: Iterable[Mapping[str, Any] | Any],
    *,
    entity: Entity = COWORKER_TIME_PASS,
    on_invalid: Literal["raise", "skip"] = "raise",
    max_per_request: int | None = None,
    send_duplicates: bool = False,
    allow_unknown_enum_values: bool = False,
    **options: Any,
) -> BulkReport:
    """Validate, plan and send rows (the engine behind the resources' ``bulk_create``).

    Args:
        gateway: What sends (:class:`ResourceGateway` over a client resource).
        rows: Mappings of create fields by API name (``CoworkerId``) or
            snake_case (``coworker_id``), values as JSON or CSV strings; or
            generated create models. Rows are numbered from 1 in the report.
        entity: Which entity the rows create.
        on_invalid: ``"raise"`` (default): raise :class:`BulkInputError`
            listing every problem (row, field, value) and send nothing;
            ``"skip"``: send the valid rows, report the invalid ones as failed.
        max_per_request: Cap of CreateMultiple per request (None: no cap).
        send_duplicates: Product/tariff links: send identical rows each
            (default: flag them as ``duplicate`` and send one).
        allow_unknown_enum_values: Accept enum values the documentation does
            not list (``ExpirationType`` 0); through a client resource, the
            client's option of the same name by default.
        concurrency: Groups in flight at once (default 4); every request
            still waits for the client's rate limiter.
        progress: ``async def progress(p: BulkProgress)``, awaited after each
            group and each create request.
        journal: A :class:`~nexudus_async.bulk.journal.Journal` to make the
            job resumable (default: an in-memory one).
        stop: An event; once set, groups not started yet are not sent.
        wait_for_lock: When another run holds the job (see :func:`run_bulk`),
            wait for it instead of raising
            :class:`~nexudus_async.bulk.lock.JobLockedError`.
        max_attempts: Create attempts per group (throttled, or reconciled
            after an unknown outcome) and count attempts, before giving up.
        throttle_backoff: Seconds (times the attempt number) to wait after a
            ``ThrottledError`` the client's own waits did not absorb.

    Returns:
        A :class:`BulkReport`: per row ``created``, ``skipped`` (done by an
        earlier run of the same journaled job), ``duplicate``, ``failed`` or
        ``not_sent``, with the reason; totals; requests sent.
    """
    source_rows = rows_from_mappings(rows)
    valid, errors = validate_rows(
        entity, source_rows, allow_unknown_enum_values=allow_unknown_enum_values
    )
    if errors and on_invalid == "raise":
        raise BulkInputError(errors)
    plan = make_plan(entity, valid, cap=max_per_request, send_duplicates=send_duplicates)
    report = await run_bulk(plan, gateway, **options)
    if errors:
        report.invalid = list(errors)
        by_line: dict[int, list[RowError]] = {}
        for e in errors:
            by_line.setdefault(e.line, []).append(e)
        for line, errs in by_line.items():
            report.rows.append(RowResult(line, "failed", 0, None, "; ".join(str(e) for e in errs)))
        report.rows.sort(key=lambda r: r.line)
    return report
