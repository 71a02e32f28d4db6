"""What a bulk job reports: per row, per group, totals, and progress snapshots."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from .plan import Plan, row_parts
from .rows import RowError

__all__ = [
    "BaselineSource",
    "BulkProgress",
    "BulkReport",
    "GroupResult",
    "OpResult",
    "OpStatus",
    "RowResult",
    "RowStatus",
    "errors_by_line",
    "invalid_rows",
    "op_rows",
    "row_results",
]

RowStatus = Literal[
    "created", "skipped", "failed", "duplicate", "not_sent", "updated", "deleted", "changed"
]
OpStatus = Literal["updated", "deleted", "skipped", "failed", "not_sent", "changed"]
"""A record op: written now (``updated``, ``deleted``: also a record found already
gone), ``skipped`` (already holds the values, or done by an earlier run),
``changed`` (its ``expect`` fields moved: not written), ``failed``, ``not_sent``."""
BaselineSource = Literal["snapshot", "journal", "per_group", "none"]
"""Where a run's baselines came from: a snapshot it read, the snapshot an earlier
run of the job saved, one count per group, or nowhere (nothing to send)."""


@attrs.define(unsafe_hash=True)  # built by the 100,000 on a stop: a plain init
class RowResult:
    """What happened to one input row."""

    line: int
    status: RowStatus
    count: int
    """Records the row asked for."""
    group: str | None = None
    reason: str | None = None


@attrs.define(unsafe_hash=True)  # built by the 100,000 on a stop: a plain init
class GroupResult:
    """What happened to one group (one CreateMultiple, possibly split)."""

    key: str
    fields: Mapping[str, Any]
    expected: int
    created: int
    """Records of the group that exist now (acknowledged or counted)."""
    status: Literal["created", "skipped", "failed", "not_sent"]
    requests: int
    """Create requests sent for the group in this run."""
    reason: str | None = None
    resumed: bool = False
    """The group was found half done in the journal and reconciled."""
    created_before: int = 0
    """Records of the group that existed before this run (resumed groups)."""
    ids: tuple[int, ...] = ()
    """The Ids the API answered to this run's create requests, one per request
    (with CreateMultiple > 1 the API answers the first new record's Id only)."""


@attrs.define(unsafe_hash=True)  # built by the 100,000 on a stop: a plain init
class OpResult:
    """What happened to one record op (:class:`~nexudus_async.bulk.ops.RecordOp`)."""

    key: str
    action: str
    record_id: int
    status: OpStatus
    writes: int
    """PUT or DELETE requests sent for the op in this run."""
    reads: int
    """Full reads of the record in this run."""
    reason: str | None = None
    lines: tuple[int, ...] = ()
    resumed: bool = False
    """The journal had the op (``sending`` or ``failed``) from an earlier run."""

    @property
    def settled(self) -> bool:
        """Nothing left to do for it (``changed`` is reported, not retried)."""
        return self.status in ("updated", "deleted", "skipped", "changed")


@attrs.frozen
class BulkProgress:
    """A snapshot passed to the progress callback after each group and request."""

    records_total: int
    records_done: int
    """Created now or already done by an earlier run."""
    records_failed: int
    groups_total: int
    groups_done: int
    requests_total: int
    """Create requests this run needs (without resends; groups done earlier excluded)."""
    requests_sent: int
    """Create requests sent so far in this run (resends included)."""
    elapsed: float
    records_skipped: int = 0
    """Of ``records_done``, those an earlier run had created (not counted in the rate)."""
    reads_sent: int = 0
    """Read requests sent so far in this run: snapshot pages and counts."""
    records_not_sent: int = 0
    """Records this run will not send because it was stopped (never ``failed``)."""
    stopping: bool = False
    """The job was told to stop (or stops itself): no new request starts."""

    @property
    def rate(self) -> float:
        """Records per second created by this run."""
        done_now = self.records_done - self.records_skipped
        return done_now / self.elapsed if self.elapsed > 0 else 0.0


@attrs.define
class BulkReport:
    """The outcome of a job: per row, per group, and totals."""

    entity: str
    rows: list[RowResult] = attrs.field(factory=list)
    groups: list[GroupResult] = attrs.field(factory=list)
    ops: list[OpResult] = attrs.field(factory=list)
    """Per record op (update, delete), in the plan's order."""
    invalid: list[RowError] = attrs.field(factory=list)
    create_requests: int = 0
    snapshot_requests: int = 0
    """List requests read for the baseline snapshot (usually 1)."""
    op_reads: int = 0
    """Full record reads the ops made (one per op, more to settle an unknown outcome)."""
    op_writes: int = 0
    """PUT and DELETE requests the ops sent."""
    count_requests: int = 0
    """One-record counts: after an unknown outcome, for a group re-run after a
    failure, and one before each group when the snapshot was abandoned."""
    baseline: BaselineSource = "none"
    baseline_note: str | None = None
    """Why the snapshot was not used, when it was not."""
    elapsed: float = 0.0
    interrupted: bool = False
    job_id: str | None = None

    @property
    def records_requested(self) -> int:
        return sum(g.expected for g in self.groups)

    @property
    def records_created(self) -> int:
        """Records created by this run (not those an earlier run had created)."""
        return sum(g.created - g.created_before for g in self.groups if g.status != "skipped")

    @property
    def records_skipped(self) -> int:
        """Records an earlier run of the job had already created."""
        return sum(g.created if g.status == "skipped" else g.created_before for g in self.groups)

    @property
    def records_missing(self) -> int:
        return sum(max(0, g.expected - g.created) for g in self.groups)

    @property
    def ops_unsettled(self) -> int:
        """Ops not done: failed, or not sent (a rerun does them)."""
        return sum(not o.settled for o in self.ops)

    @property
    def created_ids(self) -> dict[str, list[int]]:
        """Per group key, the Ids the API answered to this run's creates."""
        return {g.key: list(g.ids) for g in self.groups if g.ids}

    @property
    def failed_rows(self) -> list[RowResult]:
        """Rows that were sent and failed (or were refused)."""
        return [r for r in self.rows if r.status == "failed"]

    @property
    def not_sent_rows(self) -> list[RowResult]:
        """Rows this run did not send (it was stopped, or their key was blocked): never failed."""
        return [r for r in self.rows if r.status == "not_sent"]

    @property
    def ok(self) -> bool:
        """Every row valid and every group created (now or before)."""
        return (
            not self.invalid
            and not self.interrupted
            and self.records_missing == 0
            and self.ops_unsettled == 0
        )

    def to_json(self) -> dict[str, Any]:
        out = self._groups_json()
        if self.ops:  # a job of record ops (an import's report keeps its shape)
            out.update(op_reads=self.op_reads, op_writes=self.op_writes)
            out["ops"] = [_op_json(o) for o in self.ops]
        return out

    def _groups_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "job_id": self.job_id,
            "ok": self.ok,
            "interrupted": self.interrupted,
            "records_requested": self.records_requested,
            "records_created": self.records_created,
            "records_skipped": self.records_skipped,
            "records_missing": self.records_missing,
            "create_requests": self.create_requests,
            "snapshot_requests": self.snapshot_requests,
            "count_requests": self.count_requests,
            "baseline": self.baseline,
            "baseline_note": self.baseline_note,
            "elapsed_seconds": round(self.elapsed, 3),
            "invalid": [
                {"line": e.line, "field": e.field, "value": _jsonable(e.value), "error": e.message}
                for e in self.invalid
            ],
            "created": [_row_json(r, self.created_ids) for r in self.rows if r.status == "created"],
            "skipped": [_row_json(r) for r in self.rows if r.status == "skipped"],
            "duplicates": [_row_json(r) for r in self.rows if r.status == "duplicate"],
            "failed": [_row_json(r) for r in self.failed_rows],
            "not_sent": [_row_json(r) for r in self.not_sent_rows],
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _row_json(r: RowResult, ids: Mapping[str, list[int]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"line": r.line, "count": r.count, "status": r.status}
    if r.group is not None:
        out["group"] = r.group
        if ids and r.group in ids:
            out["group_ids"] = ids[r.group]  # the row's group: rows in it are identical
    if r.reason is not None:
        out["reason"] = r.reason
    return out


def _op_json(o: OpResult) -> dict[str, Any]:
    out: dict[str, Any] = {"key": o.key, "action": o.action, "id": o.record_id, "status": o.status}
    if o.lines:
        out["lines"] = list(o.lines)
    if o.reason is not None:
        out["reason"] = o.reason
    return out


def errors_by_line(errors: Sequence[RowError]) -> dict[int, list[RowError]]:
    """A row's problems together, lines in the order they were found (the one grouping)."""
    by_line: dict[int, list[RowError]] = {}
    for e in errors:
        by_line.setdefault(e.line, []).append(e)
    return by_line


def invalid_rows(errors: Sequence[RowError]) -> list[RowResult]:
    """One failed row per invalid line, its problems joined."""
    return [
        RowResult(line, "failed", 0, None, "; ".join(str(e) for e in errs))
        for line, errs in errors_by_line(errors).items()
    ]


def op_rows(ops: Sequence[OpResult]) -> list[RowResult]:
    """Per source line of the ops that have one."""
    return [RowResult(line, o.status, 1, o.key, o.reason) for o in ops for line in o.lines]


def row_results(plan: Plan, results: Sequence[GroupResult]) -> list[RowResult]:
    """Per row, from the results of the plan's groups (in the plan's order)."""
    rows: list[RowResult] = []
    add = rows.append
    for (key, lines, counts, duplicates), res in zip(row_parts(plan.groups), results, strict=True):
        if len(lines) == 1 and (res.created == 0 or res.status in _DONE):
            # most groups: one row, all or nothing
            add(RowResult(lines[0], res.status, counts[0], key, res.reason))
        else:
            rows.extend(_group_rows(key, lines, counts, res))
        for line in duplicates:
            why = f"identical to line {lines[0]}; not sent again"
            add(RowResult(line, "duplicate", 1, key, why))
    rows.sort(key=operator.attrgetter("line"))
    return rows


_DONE = ("created", "skipped")


def _group_rows(
    key: str, lines: tuple[int, ...], counts: tuple[int, ...], res: GroupResult
) -> list[RowResult]:
    """The rows of one group: its created passes go to its rows in order."""
    rows: list[RowResult] = []
    left = res.created
    for line, count in zip(lines, counts, strict=True):
        if res.status in ("created", "skipped"):
            rows.append(RowResult(line, res.status, count, key, res.reason))
        elif left >= count:
            left -= count
            rows.append(RowResult(line, "created", count, key))
        else:
            left = 0
            status: RowStatus = "not_sent" if res.status == "not_sent" else "failed"
            rows.append(RowResult(line, status, count, key, res.reason))
    return rows
