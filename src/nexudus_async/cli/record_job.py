"""The run of ``update``, ``delete``, ``apply`` and ``undo``: plan, print, hold, send.

Planning reads the records in scope (pages of 1,000, or 100 ids a request)
and finds bad input with its line and field before anything is sent; the
plan and its estimate at the published limits are printed (``--dry-run``
stops there); then the job is held (journal open, lock taken), run by the
job engine with the import's stop, progress and exit codes, and summed up.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from .._core.errors import NexudusError
from .._core.transport import TraceConfig
from ..bulk.engine import run_job
from ..bulk.gateway import ResourceGateway
from ..bulk.jobs import settled_results
from ..bulk.journal import Journal
from ..bulk.kinds.common import Planned
from ..bulk.report import BulkReport, op_rows
from ..bulk.rows import PLAIN_CELLS, CellFormat, RowError
from ..bulk.stopping import stop_trace_config
from .connect import Connection, published_limits
from .error_summary import print_row_errors
from .failures import EXIT_FAILED, EXIT_OK, EXIT_USAGE, failure_line
from .job_journal import Held, JobWords, choose_job, lock_job, open_journal
from .job_output import progress_mode, resume_text, schedule_eta
from .job_signals import Stopper, stop_on_signals
from .progress import ProgressPrinter
from .record_output import describe_record_plan, print_record_summary

if TYPE_CHECKING:
    from ..client import NexudusClient

__all__ = ["Planner", "RecordJob", "run_record_job"]

Planner = Callable[["NexudusClient", Journal | None], Awaitable[Planned]]
"""Plans the job (reads only) with the client and the journal (None: a dry run
without one); raises ``ValueError`` or ``TypeError`` for options that do not fit."""


@attrs.frozen
class RecordJob:
    """A record job's options as the command line gave them."""

    kind: str
    """``update``, ``delete``, ``apply``, ``undo``."""
    title: str
    """What the job works on, for the plan's first line: the file, the query, the journal."""
    journal: Path
    rows_path: Path | None = None
    """The input file (its lines are the errors' lines)."""
    cells: CellFormat = PLAIN_CELLS
    dry_run: bool = False
    report: Path | None = None
    concurrency: int = 4
    new_job: bool = False
    wait: bool = False
    progress: str = "auto"
    time_scale: float = 1.0
    resume_hint: str | None = None
    journal_must_exist: bool = False
    """undo: the journal is the import's, never created."""


async def run_record_job(
    job: RecordJob,
    conn: Connection,
    plan: Planner,
    *,
    out: TextIO,
    err: TextIO,
    trace_configs: Sequence[TraceConfig] = (),
) -> int:
    """Plan, print and (unless a dry run) send the job; the exit code."""
    held = _journal_for_planning(job, err)
    if isinstance(held, int):
        return held
    stopper = Stopper()
    limits = published_limits(job.time_scale)
    spent = conn.spent(limits)  # what other jobs spent, before this run's first request
    try:
        # After the first signal no request goes out, even one the limiter held.
        stopping = [*trace_configs, stop_trace_config(stopper.event)]
        async with conn.client(limits, stopping) as client:
            try:
                planned = await plan(client, held.journal if held is not None else None)
            except NexudusError as exc:
                print(failure_line(exc, conn, resumable=False)[1], file=err)
                return failure_line(exc, conn, resumable=False)[0]
            except (ValueError, TypeError) as exc:
                print(f"error: {exc}; nothing was sent", file=err)
                return EXIT_USAGE
            if planned.errors:
                _print_input_errors(job, planned, err)
                return EXIT_USAGE
            entity = planned.plan.entity
            print(f"plan for {job.title} ({entity.name}):", file=out)
            for line in describe_record_plan(planned, job.time_scale, spent):
                print(f"  {line}", file=out)
            if job.dry_run:
                print("dry run: nothing was sent", file=out)
                return EXIT_OK
            if not planned.plan.ops and not planned.plan.groups:
                print("nothing to send: every record is as asked", file=out)
                return EXIT_OK
            assert held is not None
            sender = _Sender(job, conn, client, planned, stopper, out, err)
            return await sender.run(held)
    finally:
        if held is not None:
            held.close()


def with_settled(report: BulkReport, planned: Planned) -> BulkReport:
    """The report with the records planning settled without a request (already as
    asked, already gone, kept with a reason), as the library's ``bulk_*`` report them."""
    settled = settled_results(planned)
    report.ops.extend(settled)
    report.rows = sorted([*report.rows, *op_rows(settled)], key=lambda r: r.line)
    return report


def _journal_for_planning(job: RecordJob, err: TextIO) -> Held | int | None:
    """The journal planning reads (a rerun plans what the first run did); a dry run opens
    only one that exists. Exit 2 when it cannot be opened."""
    if job.journal_must_exist and not job.journal.is_file():
        print(f"error: {job.journal}: no such journal; nothing was sent", file=err)
        return EXIT_USAGE
    if job.dry_run and not job.journal.is_file():
        return None
    opened = open_journal(job.journal, err)
    if isinstance(opened, int):
        return opened
    journal, created = opened
    return Held(job.journal, journal, None, created)


def _print_input_errors(job: RecordJob, planned: Planned, err: TextIO) -> None:
    """Bad input, with the line and field: per file line, or the option that gave it."""
    entity = planned.plan.entity
    from_file = [e for e in planned.errors if e.line > 0]
    for e in planned.errors:
        if e.line <= 0:
            print(f"error: {_option_problem(e)}; nothing was sent", file=err)
    if from_file and job.rows_path is not None:
        print_row_errors(
            from_file, job.rows_path, err, entity=entity, cells=job.cells, report=job.report
        )


def _option_problem(e: RowError) -> str:
    if e.field is None:
        return e.message
    return f"--set {e.field}={'' if e.value is None else e.value}: {e.message}"


_WORDS = {
    "update": JobWords(
        "change records twice over each other",
        "every record of this job was updated by it; nothing to send",
    ),
    "delete": JobWords("delete records it was not asked to", "every record was deleted by it"),
    "apply": JobWords("create passes twice", "the account matched the file after it"),
    "undo": JobWords("delete passes twice", "every pass of that import was taken back by it"),
}


@attrs.define
class _Sender:
    """One held run of a planned job: which job in the journal, send, sum up."""

    job: RecordJob
    conn: Connection
    client: NexudusClient
    planned: Planned
    stopper: Stopper
    out: TextIO
    err: TextIO

    async def run(self, held: Held) -> int:
        job, out, err = self.job, self.out, self.err
        job_hash = self.planned.plan.job_hash()
        name = job.rows_path.name if job.rows_path is not None else job.kind
        locked = await lock_job(held, self.conn, job_hash, name, wait=job.wait, out=out, err=err)
        if isinstance(locked, int):
            return locked
        words = _WORDS[job.kind]
        job_id = choose_job(held, job_hash, new_job=job.new_job, out=out, err=err, words=words)
        if isinstance(job_id, int):
            return job_id
        print(f"sending to {self.conn.describe()}", file=out)
        try:
            report = await self._send(held, job_id)
        except NexudusError as exc:
            # Raised only for what stops the whole job (refused login, no connection).
            code, text = failure_line(exc, self.conn, resumable=job.resume_hint is not None)
            print(text, file=err)
            return code
        if report is None:
            return self.stopper.exit_code
        return self._sum_up(report)

    async def _send(self, held: Held, job_id: str) -> BulkReport | None:
        job, plan = self.job, self.planned.plan
        limits = published_limits(job.time_scale)
        printer = ProgressPrinter(
            self.out,
            progress_mode(job.progress, self.out),
            noun="records",
            eta_seconds=schedule_eta(limits, held.journal),
        )
        resource: Any = getattr(self.client, plan.entity.attribute)
        task = asyncio.create_task(
            run_job(
                plan,
                ResourceGateway(resource),
                journal=held.journal,
                concurrency=job.concurrency,
                progress=printer,
                stop=self.stopper.event,
                source=job.title,
                job_id=job_id,
                throttle_backoff=max(job.time_scale, 0.001),
                lock=held.lock,
                new_job=job.new_job,
            )
        )
        with stop_on_signals(self.stopper, task, self.err):
            try:
                return with_settled(await task, self.planned)
            except asyncio.CancelledError:
                print(
                    "aborted: records in flight are journaled as 'sending' and will be "
                    "settled by reading them." + resume_text(job.resume_hint),
                    file=self.err,
                )
                return None
            finally:
                printer.close()

    def _sum_up(self, report: BulkReport) -> int:
        job, out = self.job, self.out
        print_record_summary(report, self.planned, job.rows_path, job.resume_hint, out)
        if job.report is not None:
            job.report.write_text(json.dumps(report.to_json(), indent=2) + "\n")
            print(f"report: {job.report}", file=out)
        if report.interrupted:
            return self.stopper.exit_code
        return EXIT_OK if report.ok else EXIT_FAILED
