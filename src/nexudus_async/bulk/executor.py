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

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from .._core.entity import Entity
from .._core.errors import InputError
from .._core.resource import Resource
from .._generated.api import COWORKER_TIME_PASS
from .engine import UnfinishedJobError, prime_limiter, run_job, since_for
from .gateway import BulkGateway, ResourceGateway, SnapshotGateway
from .lock import JobLockedError, JobLockError
from .ops import JobPlan, RecordOp
from .plan import Plan, make_plan
from .policy import cannot_connect, is_fatal
from .report import BulkProgress, BulkReport, GroupResult, OpResult, RowResult, invalid_rows
from .rows import RowError, SourceRow, validate_rows
from .snapshot import KeyedPage

__all__ = [
    "BulkGateway",
    "BulkInputError",
    "BulkProgress",
    "BulkReport",
    "GroupResult",
    "JobLockError",
    "JobLockedError",
    "JobPlan",
    "KeyedPage",
    "OpResult",
    "RecordOp",
    "ResourceGateway",
    "RowResult",
    "SnapshotGateway",
    "UnfinishedJobError",
    "bulk_create",
    "bulk_create_for",
    "cannot_connect",
    "is_fatal",
    "prime_limiter",
    "rows_from_mappings",
    "run_bulk",
    "run_job",
    "since_for",
]

log = logging.getLogger("nexudus_async.bulk")


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


async def run_bulk(plan: Plan, gateway: BulkGateway, **options: Any) -> BulkReport:
    """Send an import's plan: :func:`~nexudus_async.bulk.engine.run_job` of its groups.

    Same options as ``run_job``; the job's id is the plan's content hash, as
    it always was, so journals of earlier versions resume.
    """
    return await run_job(JobPlan.from_plan(plan), gateway, **options)


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
        report.rows = sorted([*report.rows, *invalid_rows(errors)], key=lambda r: r.line)
    return report
