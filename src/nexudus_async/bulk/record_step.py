"""A job's record ops: read the record in full, compare, then PUT it back changed or DELETE it.

An op is idempotent by construction. Its record is read first: an update
whose fields already hold the values is done without a write, a delete of a
record already gone is done, and a record whose ``expect`` fields moved is
reported (``changed meanwhile``), not written. A write whose outcome is
unknown is settled by reading again (the policy's ``reconcile``), never
resent blindly; a rerun after a crash does the same for an op the journal
keeps as ``sending``.

Journal: the intent (durable, like a create group's) right before the first
write of the op, the outcome after it: at most two transactions per op, one
for an op settled without a write.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from .._core import values as _values
from .._core.entity import Entity
from .._core.errors import NexudusError
from . import stopping
from .journal import GroupState
from .ops import RecordOp
from .policy import decide
from .report import OpResult, OpStatus
from .run_state import Run, Stopped, Unresolved
from .stopping import SendingStopped

__all__ = ["RecordGateway", "RecordStep", "same_value"]


class RecordGateway(Protocol):
    """The calls a record op makes (``ResourceGateway`` has them)."""

    async def read(self, record_id: int) -> Mapping[str, Any] | None:
        """The full record (single-record shape, API names, JSON values); None: no such record."""
        ...

    async def replace(self, record_id: int, record: Mapping[str, Any]) -> Any:
        """PUT ``record`` (a full read with changes applied) back."""
        ...

    async def delete(self, record_id: int) -> Any:
        """DELETE the record."""
        ...


def _canonical(entity: Entity, name: str, value: Any) -> Any:
    field = entity.field(name)
    if value is None or field is None:
        return value
    if isinstance(value, float):
        value = decimal.Decimal(str(value))
    try:
        return _values.check(field, value, source="text", allow_unknown_enum_values=True)
    except (_values.Invalid, TypeError, ValueError):
        return value


def same_value(entity: Entity, name: str, a: Any, b: Any) -> bool:
    """Whether two JSON values of a field are the same (``10.5`` and ``10.50``, date forms)."""
    return bool(_canonical(entity, name, a) == _canonical(entity, name, b))


@attrs.define
class _OpRun:
    op: RecordOp
    resumed: bool
    writes: int = 0
    reads: int = 0
    marked: bool = False
    note: str | None = None
    unchanged: Mapping[str, Any] | None = None
    """The last read, when the write after it was not executed (throttled): no need
    to read again before resending."""


class RecordStep:
    """The record ops of one run."""

    def __init__(self, run: Run, entity: Entity, gateway: Any) -> None:
        self.run = run
        self.entity = entity
        self.gateway = gateway

    def result(self, o: _OpRun, status: OpStatus, reason: str | None) -> OpResult:
        op = o.op
        return OpResult(
            op.key, op.action, op.record_id, status, o.writes, o.reads, reason, op.lines, o.resumed
        )

    def not_sent(self, op: RecordOp, reason: str | None = None) -> OpResult:
        reason = reason or self.run.stop_reason()
        return OpResult(op.key, op.action, op.record_id, "not_sent", 0, 0, reason, op.lines)

    def settle(self, o: _OpRun, status: OpStatus, reason: str | None) -> OpResult:
        """The outcome, journaled (one relaxed transaction)."""
        run = self.run
        state: GroupState = "failed" if status in ("failed", "changed") else "done"
        run.journal.settle(
            run.job_id, o.op.key, state=state, created=int(o.writes > 0), requests=o.writes,
            error=reason if state == "failed" else None,
        )  # fmt: skip
        return self.result(o, status, reason)

    async def run_op(self, op: RecordOp, state: str | None) -> OpResult:
        run = self.run
        if state == "done":
            reason = "done by an earlier run"
            return OpResult(op.key, op.action, op.record_id, "skipped", 0, 0, reason, op.lines)
        if run.stopped():
            return self.not_sent(op)
        async with run.sem:
            if run.stopped():  # set while waiting for the slot
                return self.not_sent(op)
            o = _OpRun(op, resumed=state is not None)
            try:
                return await self._attempts(o)
            except Stopped:
                return self.result(o, "not_sent", self._left(o, run.stop_reason()))
            except Unresolved as exc:
                return self.result(o, "failed", self._left(o, str(exc)))

    def _left(self, o: _OpRun, why: str) -> str:
        if o.marked or o.resumed:
            return f"{why}; the journal keeps the op as 'sending', re-run to settle it"
        return f"{why}; nothing was written, re-run to do it"

    async def read(self, o: _OpRun) -> Mapping[str, Any] | None:
        rid = o.op.record_id

        tries = 0

        async def attempt() -> Mapping[str, Any] | None:
            nonlocal tries
            tries += 1
            o.reads += tries == 1  # one per read made (retries aside); none the stop refused
            record: Mapping[str, Any] | None = await self.gateway.read(rid)
            return record

        return await self.run.read(attempt, "op", f"read {self.entity.name} {rid}")

    def verdict(self, o: _OpRun, current: Mapping[str, Any] | None) -> OpResult | None:
        """The op's outcome from a fresh read, or None when it still needs its write."""
        op = o.op
        if current is None:
            if op.action == "delete":
                return self.settle(o, "deleted", None if o.writes else "already gone")
            return self.settle(o, "failed", f"{self.entity.name} {op.record_id} does not exist")
        moved = [  # a field the op itself changes is its own doing
            f"{k} is {_shown(current.get(k))}, expected {_shown(v)}"
            for k, v in op.expect.items()
            if k not in op.changes and not same_value(self.entity, k, current.get(k), v)
        ]
        if moved:
            return self.settle(o, "changed", "changed meanwhile: " + "; ".join(moved))
        if op.action == "update" and all(
            same_value(self.entity, k, current.get(k), v) for k, v in op.changes.items()
        ):
            return self.settle(o, "updated" if o.writes else "skipped",
                               None if o.writes else "already holds the values")  # fmt: skip
        return None

    async def _attempts(self, o: _OpRun) -> OpResult:
        run = self.run
        for attempt in range(1, run.max_attempts + 1):
            current, o.unchanged = o.unchanged or await self.read(o), None
            end = self.verdict(o, current)
            if end is not None:
                return end
            assert current is not None
            if run.stopped():
                return self.result(o, "not_sent", self._left(o, run.stop_reason()))
            end = await self.write(o, current, attempt)
            if end is not None:
                return end
        return self.settle(o, "failed", f"gave up after {run.max_attempts} attempts: {o.note}")

    async def write(self, o: _OpRun, current: Mapping[str, Any], attempt: int) -> OpResult | None:
        """One PUT or DELETE; a result ends the op, None reads and decides again."""
        run, op = self.run, o.op
        run.journal.record_send(run.job_id, write=True)
        if not o.marked:  # the intent: durable before the write leaves
            run.journal.mark_sending(run.job_id, op.key, expected=1, baseline=0)
            o.marked = True
        try:
            await stopping.unless_stopped(run.stop, lambda: self._send(op, current))
        except (NexudusError, SendingStopped) as exc:
            return await self.after_error(o, exc, attempt, current)
        finally:
            run.c.requests_sent += 1
            run.c.op_writes += 1
        o.writes += 1
        run.answered = True
        return self.settle(o, "updated" if op.action == "update" else "deleted", None)

    async def _send(self, op: RecordOp, current: Mapping[str, Any]) -> Any:
        if op.action == "delete":
            return await self.gateway.delete(op.record_id)
        # The full record just read, only the op's fields changed: never list data.
        return await self.gateway.replace(op.record_id, {**current, **op.changes})

    async def after_error(
        self,
        o: _OpRun,
        exc: NexudusError | SendingStopped,
        attempt: int,
        current: Mapping[str, Any],
    ) -> OpResult | None:
        run = self.run
        decision = decide(exc, o.op.action, answered=run.answered)
        action = decision.action
        if action == "stopped":
            run.c.requests_sent -= 1  # refused before it went out (added back in write)
            run.c.op_writes -= 1
            return self.result(o, "not_sent", self._left(o, run.stop_reason()))
        if action == "done":  # a DELETE's 404: already gone
            o.writes += 1
            return self.settle(o, "deleted", "already gone")
        if action == "reconcile":  # it may have been executed: the next read settles it
            o.writes += 1
            o.note = decision.why
            return None
        if action == "retry":  # not executed: the same write again, after a pause
            o.note, o.unchanged = decision.why, current
            await run.backoff(attempt)
            return None
        if action == "stop" and isinstance(exc, NexudusError):
            run.stop_job(exc)
        return self.settle(o, "failed", str(exc))


def _shown(value: Any) -> str:
    """A value in a reason: a number as written (``10.5``, not ``Decimal('10.5')``)."""
    return str(value) if isinstance(value, decimal.Decimal) else repr(value)
