"""The job engine: one run loop for every kind of job (import, update, delete, apply, undo).

:func:`run_job` takes a :class:`~nexudus_async.bulk.ops.JobPlan` (create
groups and record ops), holds the job (:mod:`.job_hold`), opens it in the
journal, primes the client's limiter with what earlier runs spent, and runs
its units with bounded concurrency: groups by :mod:`.create_step`, record
ops by :mod:`.record_step`, every failure through :mod:`.policy`'s table.
Once stopped, the units not taken are settled at once: one journal
transaction and one log line, however many there are.

A create group is sent with ``CreateMultiple`` and reconciled by counting
(:mod:`.executor` says how). A record op reads its record in full, then PUTs
it back with only its ``changes`` applied, or DELETEs it; a record already
holding the values, or already gone, needs no write, and one whose
``expect`` fields moved is reported ``changed``, not written.

Options of :func:`run_job`:

- ``journal``: makes the job resumable (default: an in-memory one). Per unit
  a durable intent before its first write, its outcome after.
- ``concurrency``: units in flight at once (default 4).
- ``progress``: ``async def progress(p: BulkProgress)``, awaited after each
  unit (and each create request of a split group).
- ``stop``: once set, no new request goes out: units in flight finish, the
  rest is settled ``not_sent`` at once (the report says ``interrupted``).
  Cancelling the task is safe too: the journal keeps units in flight
  ``sending`` and the next run settles them by reading.
- ``max_attempts``: attempts per unit (throttled, or settled after an unknown
  outcome) and per read, before giving up; ``throttle_backoff``: seconds
  (times the attempt number) before a retry the client did not absorb.
- ``source``: names the input in the journal and lock messages; ``since``:
  lower bound of the counts' creation-date filter (default a day ago; a
  resumed job keeps its first).
- ``job_id``: the journal's key of the job (default the plan's content hash,
  so the same plan resumes the same job).
- ``lock``, ``wait_for_lock``: one runner per job (:mod:`.lock`,
  :mod:`.lease`): a lock the caller holds, or wait for another run instead
  of raising :class:`~nexudus_async.bulk.lock.JobLockedError`.
- ``new_job``: start even though the journal holds an unfinished job for
  different content (default: :class:`UnfinishedJobError`, nothing sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import gc
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core.errors import InputError
from .._core.limiter import Limiter
from .create_step import CreateStep, skipped
from .gateway import BulkGateway
from .job_hold import hold_job
from .journal import JobRecord, Journal
from .lock import JobLock, JobLockError
from .ops import JobPlan, RecordOp
from .plan import Group, GroupList, Plan, keys_and_counts_of, requests_for
from .record_step import RecordStep
from .report import BulkReport, GroupResult, OpResult, op_rows, row_results
from .run_state import ProgressCallback, Run, Totals

__all__ = ["UnfinishedJobError", "prime_limiter", "run_job", "since_for"]

log = logging.getLogger("nexudus_async.bulk")

Unit = Group | RecordOp


class UnfinishedJobError(InputError):
    """The journal holds an unfinished job for different content; nothing was sent.

    Starting a second job over it could do its work twice (create its passes
    again). Finish it with its own input, pass ``new_job=True`` (``--new-job``),
    or use another journal.
    """

    job: JobRecord

    def __init__(self, journal: str, job: JobRecord) -> None:
        what = f"{job.entity}" + (f" from {job.source}" if job.source else "")
        reason = (
            f"the journal {journal} holds the unfinished job {job.job_id[:12]} ({what}, "
            f"started {job.started_at}) for different content; finish it with its own "
            "input, or pass new_job=True (--new-job), or use another journal"
        )
        super().__init__("journal", journal, reason)
        self.message = f"nothing was sent: {reason}"
        self.job = job

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


async def run_job(
    plan: JobPlan,
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
    new_job: bool = False,
) -> BulkReport:
    """Run a job of any kind; resume it from ``journal`` when it was started before.

    ``plan``: create groups and record ops; ``gateway``: what sends (a
    :class:`~nexudus_async.bulk.gateway.ResourceGateway` has every call).
    The options are the module's (above). Returns a
    :class:`~nexudus_async.bulk.report.BulkReport`: per group and row as an
    import's, per op in ``ops``, and the requests sent. Raises
    :class:`UnfinishedJobError` (nothing sent) over an unfinished job for
    other content unless ``new_job``; the policy's fatal error (credentials,
    a host never reached) once every unit is settled.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    own_journal = journal is None
    journal = journal if journal is not None else Journal(":memory:")
    job_hash = plan.job_hash()
    lost: list[str] = []
    label = job_hash[:12] + (f" ({source})" if source else "")
    options = {
        "concurrency": concurrency, "progress": progress, "stop": stop,
        "max_attempts": max_attempts, "throttle_backoff": throttle_backoff, "lost": lost,
    }  # fmt: skip
    try:
        async with hold_job(
            gateway, job_hash, journal=journal.path, label=label, lock=lock,
            wait=wait_for_lock, on_lost=lost.append,
        ):  # fmt: skip
            job = _open_job(
                journal, plan, job_hash, job_id=job_id, since=since, source=source, new_job=new_job
            )
            return await _run_held(plan, gateway, journal, job, job_hash, options)
    finally:
        if own_journal:
            journal.close()


def _open_job(
    journal: Journal,
    plan: JobPlan,
    job_hash: str,
    *,
    job_id: str | None,
    since: str | None,
    source: str | None,
    new_job: bool,
) -> JobRecord:
    """Open (or resume) the job; refuse one over an unfinished job of other content."""
    job_id = job_id or job_hash
    if not new_job:
        for other in journal.unfinished_jobs():
            # the same job (resumed), or one of the same content (``hash:2``, --new-job)
            if other.job_id != job_id and other.job_id.split(":", 1)[0] != job_hash:
                raise UnfinishedJobError(journal.path, other)
    return journal.open_job(
        job_id,
        entity=plan.entity.attribute,
        since=since or since_for(),
        groups=len(plan.groups) + len(plan.ops),
        records=sum(g.count for g in plan.groups) + len(plan.ops),
        source=source,
    )


async def _run_held(
    plan: JobPlan,
    gateway: BulkGateway,
    journal: Journal,
    job: JobRecord,
    job_hash: str,
    options: dict[str, Any],
) -> BulkReport:
    """:func:`run_job` once the job is held and open."""
    creates = plan.create_plan(job_hash)
    states = {k: g.state for k, g in journal.groups(job.job_id).items()}
    # Totals once, at the start: nothing per unit walks every unit.
    requests, to_send = _requests_left(creates, states)
    ops_todo = sum(states.get(op.key) != "done" for op in plan.ops)
    totals = Totals(
        records=creates.records + len(plan.ops),
        units=len(plan.groups) + len(plan.ops),
        requests=requests + ops_todo,
    )
    run = Run(journal, job.job_id, totals, **options)
    create = CreateStep(run, creates, gateway, job.since)
    record = RecordStep(run, plan.entity, gateway)
    await _prime(gateway, journal, job.job_id)
    await run.report_progress()
    await create.prepare(to_send)
    if run.c.snapshot_sent:
        await run.report_progress()
    loop = _Loop(run, create, record, states)
    await loop.run_all(_units(create, plan.ops, states))
    await run.report_progress()
    if run.fatal is not None:
        # Every unit is settled (journaled): the next run resumes the job.
        raise run.fatal
    if run.lost:
        raise JobLockError("the job's lease in Redis", run.lost[0], temporary=True)
    with no_collections():
        return _report(plan, creates.groups, loop, create, run)


def _requests_left(creates: Plan, states: Mapping[str, str]) -> tuple[int, bool]:
    """Create requests the groups not done yet need, and whether there is any such group
    (counted, not listed: the groups are built as they are read)."""
    cap = creates.per_request
    requests, to_send = 0, False
    for key, count in keys_and_counts_of(creates.groups):
        if states.get(key) != "done":
            requests += requests_for(count, cap)
            to_send = True
    return requests, to_send


def _units(
    create: CreateStep, ops: tuple[RecordOp, ...], states: Mapping[str, str]
) -> Iterator[tuple[int, RecordOp | None]]:
    """Groups left ``sending`` by an earlier run first (see below), then the others, then ops.

    A group is its place in the plan (its result goes there; it is built when taken, so a
    stop settles the rest from the plan's columns); an op is ``(-1, op)``.

    A group whose outcome is unknown is reconciled against a baseline that
    counts its key's other groups as they were when it was sent; it must be
    resolved before one of them (a group re-run after a failure) creates more.
    """
    groups = create.plan.groups
    if states:  # a fresh job has none "sending": no pass for them
        keys = enumerate(_keys(groups))
        yield from ((i, None) for i, k in keys if states.get(k) == "sending")
    yield from ((i, None) for i, k in enumerate(_keys(groups)) if states.get(k) != "sending")
    yield from ((-1, op) for op in ops)


def _keys(groups: Sequence[Group]) -> Iterator[str]:
    return groups.keys() if isinstance(groups, GroupList) else (g.key for g in groups)


def _report(
    plan: JobPlan, groups: Sequence[Group], loop: _Loop, create: CreateStep, run: Run
) -> BulkReport:
    results = [_settled(res, place) for place, res in enumerate(loop.groups)]
    loop.groups.clear()
    ops = [loop.ops.pop(op.key) for op in plan.ops]
    rows = row_results(create.plan, results)
    if ops:
        rows = sorted([*rows, *op_rows(ops)], key=lambda r: r.line)
    report = BulkReport(
        entity=plan.entity.attribute, rows=rows, groups=results, ops=ops,
        create_requests=run.c.requests_sent - run.c.op_writes,
        snapshot_requests=run.c.snapshot_sent, count_requests=run.c.counts_sent,
        op_reads=run.c.op_reads, op_writes=run.c.op_writes,
        baseline=create.baseline, baseline_note=create.baseline_note,
        elapsed=time.monotonic() - run.started, interrupted=run.told_to_stop(),
        job_id=run.job_id,
    )  # fmt: skip
    if report.records_missing == 0 and report.ops_unsettled == 0 and not report.interrupted:
        run.journal.finish_job(run.job_id)
    return report


def _key_at(groups: Sequence[Group], place: int) -> str:
    return groups.key_at(place) if isinstance(groups, GroupList) else groups[place].key


def _brief(
    groups: Sequence[Group], place: int, group: Group | None
) -> tuple[str, Mapping[str, Any], int]:
    """A group's key, fields and count; from a GroupList's columns unless it is built."""
    if group is None and isinstance(groups, GroupList):
        return groups.brief(place)
    group = group if group is not None else groups[place]
    return group.key, group.fields, group.count


def _settled(res: GroupResult | None, place: int) -> GroupResult:
    if res is None:
        raise RuntimeError(f"the plan's group {place} was never settled")
    return res


@contextlib.contextmanager
def no_collections() -> Iterator[None]:
    """No cyclic garbage collection while results are built by the 100,000.

    They make no cycles; but allocating that many at once runs full collections
    over every object of the plan, which took most of a stop's time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Loop:
    """A few workers take the units in order; once stopped, the rest is settled at once."""

    def __init__(
        self, run: Run, create: CreateStep, record: RecordStep, states: Mapping[str, str]
    ) -> None:
        self.run = run
        self.create = create
        self.record = record
        self.states = states
        self.groups: list[GroupResult | None] = [None] * len(create.plan.groups)
        """By the group's place in the plan: a list, not a dict by key (5 MB at 100,000)."""
        self.ops: dict[str, OpResult] = {}

    async def run_all(self, units: Iterator[tuple[int, RecordOp | None]]) -> None:
        groups = self.create.plan.groups

        async def worker() -> None:
            while not self.run.stopped():
                taken = next(units, None)
                if taken is None:
                    return
                place, op = taken
                await self.run_unit(place, groups[place] if op is None else op)

        # A TaskGroup, so an unexpected error (or cancellation) stops every unit:
        # those in flight stay "sending" in the journal and are settled later.
        try:
            async with asyncio.TaskGroup() as tg:
                for _ in range(self.run.workers):
                    tg.create_task(worker())
        except BaseExceptionGroup as group_error:
            if len(group_error.exceptions) == 1:
                raise group_error.exceptions[0] from None
            raise
        if self.run.stopped():
            with no_collections():
                self.settle_unsent(units)

    async def run_unit(self, place: int, unit: Unit) -> None:
        state = self.states.get(unit.key)
        if isinstance(unit, RecordOp):
            op = await self.record.run_op(unit, state)
            self.run.count_result(op.status, 1, int(op.status in ("updated", "deleted")), 0)
            self.ops[unit.key] = op
        else:
            res = await self.create.run_group(unit, state)
            self.run.count_result(res.status, res.expected, res.created, res.created_before)
            self.groups[place] = res
        await self.run.report_progress()

    def settle_unsent(self, rest: Iterator[tuple[int, RecordOp | None]]) -> None:
        """The units a stopped job never took: one journal transaction, one log line.

        Most were never journaled: each is one result object, nothing else (no
        journal read, no progress line), so a stop of 100,000 takes a moment.
        """
        run = self.run
        reason = run.stop_reason()
        journaled: list[tuple[int, Unit]] = []  # read from the journal at once, after
        units = records = 0
        groups = self.create.plan.groups
        for place, op in rest:  # one pass: the rest is not listed (nor its groups built)
            key = op.key if op is not None else _key_at(groups, place)
            if key in self.states:
                journaled.append((place, op if op is not None else groups[place]))
            else:
                records += self.not_sent(place, op, reason)
                units += 1
        keys = [u.key for _, u in journaled]
        prior = run.journal.groups_of(run.job_id, keys) if keys else {}
        for place, unit in journaled:
            record = prior.get(unit.key)
            if record is not None:
                self.settle_journaled(place, unit, record.state, record.created)
            else:
                records += self.not_sent(place, unit, reason)
                units += 1
        run.c.units_done += units
        run.c.units_not_sent += units
        run.c.records_not_sent += records
        units, records = run.c.units_not_sent, run.c.records_not_sent
        if units:  # every unit this run did not send, those the workers left too
            run.journal.record_stop(
                run.job_id, groups_left=units, records_left=records, reason=reason
            )
            log.info("bulk job %s: %d records in %d units not sent (%s)",
                     run.job_id[:12], records, units, reason)  # fmt: skip

    def not_sent(self, place: int, unit: Unit | None, reason: str) -> int:
        """A unit never journaled that this stopped run did not take (a group by its place
        only: read from the plan's columns, not built); its records."""
        if isinstance(unit, RecordOp):
            self.ops[unit.key] = self.record.not_sent(unit, reason)
            return 1
        key, fields, count = _brief(self.create.plan.groups, place, unit)
        self.groups[place] = GroupResult(key, fields, count, 0, "not_sent", 0, reason)
        return count

    def settle_journaled(self, place: int, unit: Unit, state: str, created: int) -> None:
        """A unit an earlier run journaled that this stopped run did not take."""
        why = None
        if state == "sending":
            why = "interrupted; the journal keeps it 'sending': re-run to settle it"
        if isinstance(unit, RecordOp):
            self.ops[unit.key] = op = self.unsent_op(unit, state, why)
            self.run.count_result(op.status, 1, 0, 0)
            return
        if state == "done":
            res = skipped(unit, created)
        else:
            res = self.create.not_sent(unit, created, why)
        self.groups[place] = res
        self.run.count_result(res.status, res.expected, res.created, res.created_before)

    def unsent_op(self, op: RecordOp, state: str | None, reason: str | None) -> OpResult:
        if state == "done":
            why = "done by an earlier run"
            return OpResult(op.key, op.action, op.record_id, "skipped", 0, 0, why, op.lines)
        return self.record.not_sent(op, reason)


async def _prime(gateway: Any, journal: Journal, job_id: str) -> None:
    limiter = getattr(gateway, "limiter", None)
    if isinstance(limiter, Limiter):
        primed = await prime_limiter(limiter, journal)
        if primed:
            log.info(
                "bulk job %s: the limiter counts %d requests an earlier run sent",
                job_id[:12],
                primed,
            )


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
