"""The job engine's units of work beyond creating: one record changed or deleted.

Every kind of job (import, update, delete, apply, undo) is planned into a
:class:`JobPlan`: create groups (:class:`~nexudus_async.bulk.plan.Group`,
sent with ``CreateMultiple`` and reconciled by counting, as an import does)
and :class:`RecordOp` s (one existing record, by ``Id``). Planning is pure:
it reads nothing and sends nothing; the executor runs any plan with the same
journal, failure policy, stop and progress.

A record op is idempotent by construction: before it writes, the executor
reads the record in full; an update whose fields already hold the values is
skipped, a delete of a record already gone counts as done, and a write whose
outcome is unknown is settled by reading again, never resent blindly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from .._core.entity import Entity
from .plan import Group, Plan, _hash as content_hash, groups_hash

__all__ = ["JobKind", "JobPlan", "OpAction", "RecordOp"]

JobKind = Literal["import", "update", "delete", "apply", "undo"]
OpAction = Literal["update", "delete"]


@attrs.frozen
class RecordOp:
    """One existing record to change or delete."""

    key: str
    """Stable, unique in the job: the journal's key (``update:1234``, ``delete:1234``)."""
    action: OpAction
    record_id: int
    changes: Mapping[str, Any] = attrs.field(factory=dict)
    """Update only: API name -> normalized JSON value. Compared against a fresh
    full read; only these fields change in the PUT of that read."""
    expect: Mapping[str, Any] = attrs.field(factory=dict)
    """API name -> value the fresh read must still show, else the op is reported
    (``changed meanwhile``: undo's ``Used`` check), not written."""
    lines: tuple[int, ...] = ()
    """Source lines the op stands for (empty for a query's records)."""


@attrs.frozen
class JobPlan:
    """Everything a job of any kind will send, in a deterministic order."""

    kind: JobKind
    entity: Entity
    groups: Sequence[Group] = ()
    ops: tuple[RecordOp, ...] = ()
    planning_reads: int = 0
    """Read requests the planning itself made (scope pages, records by id)."""
    cap: int | None = None
    """Most records one create asks for (``max_per_request``), as :class:`Plan`'s."""
    rows: int = 0
    """Source rows the plan was made from (for the report)."""

    @classmethod
    def from_plan(cls, plan: Plan) -> JobPlan:
        """An import's plan (create groups only) as a job plan: same groups, same job hash."""
        return cls("import", plan.entity, plan.groups, cap=plan.cap, rows=plan.rows)

    def job_hash(self) -> str:
        """Content hash of the job: the journal's key, so the same plan resumes the same job.

        An import's is :class:`Plan`'s (journals of earlier versions resume); every
        other kind hashes its kind and ops too. Computed once per run.
        """
        if self.kind == "import" and not self.ops:
            return groups_hash(self.entity.attribute, self.groups)
        head: list[Any] = [self.entity.attribute, [(g.key, g.count) for g in self.groups]]
        ops = [(o.key, o.action, o.record_id, dict(o.changes), dict(o.expect)) for o in self.ops]
        return content_hash([self.kind, *head, ops])

    def create_plan(self, job_hash: str) -> Plan:
        """The create groups as the create step runs them."""
        return Plan(self.entity, self.groups, self.rows, self.cap, job_hash)

    @property
    def op_reads(self) -> int:
        """Reads the ops take at least: one full read per op."""
        return len(self.ops)

    @property
    def op_writes(self) -> int:
        """Writes the ops take at most: one PUT or DELETE per op."""
        return len(self.ops)
