"""Planning an update: rows keyed by ``Id``, or a query's records and one set of changes.

Pure: the records come in already read (:mod:`.records`). A row gives its
``Id`` and the fields to change (blank cells change nothing); every cell is
checked by the field's rules, and a read-only field, an unknown column, a
value that does not validate or an ``Id`` that does not exist is an error
with the row's line and field. A record whose list data already holds every
value is not planned (nothing is sent for it); the others become one
``RecordOp("update")`` each, which the executor reads in full and PUTs back
with only those fields changed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ..._core import values as _values
from ..._core.entity import Entity
from ..ops import JobPlan, RecordOp
from ..rows import RowError, SourceRow
from .common import Planned, check_changes
from .records import Current, changed_fields

__all__ = ["UpdateRow", "check_set", "plan_update", "row_id", "update_rows"]

UpdateRow = tuple[int, tuple[int, ...], dict[str, Any]]
"""An update asked for: record Id, source lines, API name -> JSON value."""

_ID_NAMES = frozenset({"Id", "id"})


def row_id(entity: Entity, row: SourceRow, *, required: bool = True) -> int | RowError | None:
    """The row's ``Id`` (column ``Id`` or ``id``), a problem, or None when absent and optional."""
    raw = row.data.get("Id", row.data.get("id"))
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return RowError(row.line, "Id", None, "is required") if required else None
    field = entity.field("Id")
    assert field is not None
    try:
        value: int = _values.check(field, raw, source="text")
    except _values.Invalid as exc:
        return RowError(row.line, "Id", raw, f"{exc} (a record Id)")
    return value


def update_rows(
    entity: Entity, rows: Iterable[SourceRow], *, lenient: bool = False
) -> tuple[list[UpdateRow], list[RowError]]:
    """Check rows keyed by ``Id``; an Id given twice is an error on its second line."""
    wanted: list[UpdateRow] = []
    errors: list[RowError] = []
    first_line: dict[int, int] = {}
    for row in rows:
        rid = row_id(entity, row)
        changes, problems = check_changes(entity, row, skip=_ID_NAMES, lenient=lenient)
        errors.extend(problems)
        if isinstance(rid, RowError):
            errors.append(rid)
            continue
        assert rid is not None
        if rid in first_line:
            errors.append(RowError(row.line, "Id", rid, f"also on line {first_line[rid]}"))
            continue
        first_line[rid] = row.line
        if not changes and not problems:
            errors.append(RowError(row.line, None, None, "gives no field to change"))
        elif not problems:
            wanted.append((rid, (row.line,), changes))
    return wanted, errors


def check_set(
    entity: Entity, changes: Mapping[str, Any], *, lenient: bool = False
) -> tuple[dict[str, Any], list[RowError]]:
    """A query's ``set={...}``, checked like a row's cells (errors carry line 0)."""
    clean, errors = check_changes(entity, SourceRow(0, dict(changes)), lenient=lenient)
    if not clean and not errors:
        errors.append(RowError(0, None, None, "set= gives no field to change"))
    return clean, errors


def plan_update(
    entity: Entity,
    wanted: Iterable[UpdateRow],
    current: Mapping[int, Current],
    *,
    errors: Iterable[RowError] = (),
    planning_reads: int = 0,
    rows: int = 0,
    prior: Collection[str] = (),
) -> Planned:
    """One update op per record that does not hold its changes yet, in ``Id`` order.

    ``current``: the records read for planning, by Id; a wanted Id missing
    from it does not exist (an error on the row's line). ``prior``: unit keys an
    unfinished run of the job journaled; their ops are planned even when the
    record already holds the values, so the rerun's plan is the first run's.
    """
    problems = list(errors)
    ops: list[RecordOp] = []
    unchanged: list[int] = []
    lines_of: dict[int, tuple[int, ...]] = {}
    for rid, lines, changes in sorted(wanted, key=lambda w: w[0]):
        record = current.get(rid)
        if record is None:
            line = lines[0] if lines else 0
            problems.append(RowError(line, "Id", rid, f"no {entity.name} has this Id"))
            continue
        key = f"update:{rid}"
        if key not in prior and not changed_fields(entity, record, changes):
            unchanged.append(rid)
            if lines:
                lines_of[rid] = lines
            continue
        ops.append(RecordOp(key, "update", rid, changes, lines=lines))
    plan = JobPlan("update", entity, ops=tuple(ops), planning_reads=planning_reads, rows=rows)
    problems.sort(key=lambda e: e.line)
    return Planned(plan, tuple(problems), tuple(unchanged), rows=rows, lines=lines_of)


def query_wanted(current: Mapping[int, Current], changes: Mapping[str, Any]) -> list[UpdateRow]:
    """Every record of a query's scope, with the same changes."""
    return [(rid, (), dict(changes)) for rid in current]
