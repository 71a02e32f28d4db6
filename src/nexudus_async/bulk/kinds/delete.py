"""Planning a delete: rows of ``Id`` s, or a query's records.

Pure. A row names one record by its ``Id`` (other columns are ignored, so an
exported file whose rows were filtered can be fed back); an Id that is not
among the records read for planning is already gone and counts as deleted:
nothing is sent for it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ..._core.entity import Entity
from ..ops import JobPlan, RecordOp
from ..rows import RowError, SourceRow
from .common import Planned
from .update import row_id

__all__ = ["delete_ids", "delete_op", "plan_delete"]


def delete_ids(
    entity: Entity, rows: Iterable[SourceRow]
) -> tuple[dict[int, tuple[int, ...]], list[RowError]]:
    """The Ids the rows name, each with the lines naming it (a repeat is not an error)."""
    ids: dict[int, tuple[int, ...]] = {}
    errors: list[RowError] = []
    for row in rows:
        rid = row_id(entity, row)
        if isinstance(rid, RowError):
            errors.append(rid)
        elif rid is not None:
            ids[rid] = (*ids.get(rid, ()), row.line)
    return ids, errors


def delete_op(
    record_id: int, lines: tuple[int, ...] = (), expect: Mapping[str, Any] | None = None
) -> RecordOp:
    """The op deleting one record (``expect``: values it must still hold when read)."""
    return RecordOp(
        f"delete:{record_id}", "delete", record_id, expect=dict(expect or {}), lines=lines
    )


def plan_delete(
    entity: Entity,
    wanted: Mapping[int, tuple[int, ...]],
    current: Mapping[int, Any],
    *,
    errors: Iterable[RowError] = (),
    planning_reads: int = 0,
    rows: int = 0,
    expect: Mapping[str, Any] | None = None,
    prior: Collection[str] = (),
) -> Planned:
    """One delete op per wanted Id that exists, in ``Id`` order; the others are ``gone``.

    ``prior``: unit keys an unfinished run of the job journaled; their ops stay in
    the plan even when the record is gone now, so the rerun's plan is the first run's.
    """
    ops: list[RecordOp] = []
    gone: list[int] = []
    for rid in sorted(wanted):
        if rid in current or f"delete:{rid}" in prior:
            ops.append(delete_op(rid, wanted[rid], expect))
        else:
            gone.append(rid)
    plan = JobPlan("delete", entity, ops=tuple(ops), planning_reads=planning_reads, rows=rows)
    problems = tuple(sorted(errors, key=lambda e: e.line))
    lines = {rid: wanted[rid] for rid in gone if wanted[rid]}
    return Planned(plan, problems, gone=tuple(gone), rows=rows, lines=lines)
