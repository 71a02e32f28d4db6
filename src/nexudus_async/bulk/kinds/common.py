"""What every kind of job plans into, and the checks of the cells that change a record.

:class:`Planned` is a :class:`~nexudus_async.bulk.ops.JobPlan` with what
planning found on the way: problems with the input (each with its line and
field; nothing is sent while there is one), records already as asked (no
request), records already gone (a delete that is done) and records left
alone with a reason (a used pass an undo keeps). :class:`RequestEstimate`
is what ``--dry-run`` prints: requests by kind and the time the limits set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ..._core import values as _values
from ..._core.entity import Entity, Field
from ..._core.throttle import RateLimits
from ..ops import JobPlan
from ..rows import CellError, RowError, SourceRow

__all__ = [
    "Kept",
    "Planned",
    "RequestEstimate",
    "check_cell",
    "settable_field",
]


@attrs.frozen
class RequestEstimate:
    """Requests a job sends, by kind: what ``--dry-run`` prints."""

    planning_reads: int
    """List pages and get-by-ids lookups planning made (already spent)."""
    full_reads: int
    """One full read (get by id) per planned update or delete, before its write."""
    puts: int
    deletes: int
    creates: int
    """Create requests (``CreateMultiple`` groups, or one per link record)."""
    baseline_reads: int = 0
    """The creates' baseline snapshot (one list page when there are creates)."""

    @property
    def reads(self) -> int:
        """Reads still to come (planning's are spent)."""
        return self.full_reads + self.baseline_reads

    @property
    def writes(self) -> int:
        return self.puts + self.deletes + self.creates

    @property
    def total(self) -> int:
        """Every request of the job, planning's included."""
        return self.planning_reads + self.reads + self.writes

    def seconds(self, limits: RateLimits | None = None) -> float:
        """Lower bound of the run's duration under ``limits`` (default: the published ones),
        every window counted, the daily one included."""
        from ..schedule import finish_seconds

        return finish_seconds(
            limits or RateLimits.published(), reads=self.reads, writes=self.writes
        )

    def to_json(self) -> dict[str, int]:
        return {
            "planning_reads": self.planning_reads,
            "full_reads": self.full_reads,
            "puts": self.puts,
            "deletes": self.deletes,
            "creates": self.creates,
            "baseline_reads": self.baseline_reads,
            "total": self.total,
        }


@attrs.frozen
class Kept:
    """A record planning leaves alone on purpose, and why (reported, not written)."""

    record_id: int
    reason: str
    lines: tuple[int, ...] = ()


@attrs.frozen
class Planned:
    """A job's plan and what planning found (see the module's docstring)."""

    plan: JobPlan
    errors: tuple[RowError, ...] = ()
    """Bad input, by line and field: the job must not run while there is one."""
    unchanged: tuple[int, ...] = ()
    """Ids already holding every value asked for: nothing is sent for them."""
    gone: tuple[int, ...] = ()
    """Ids a delete names that no longer exist: counted as deleted."""
    kept: tuple[Kept, ...] = ()
    """Records left alone with a reason (a used pass an undo does not delete)."""
    rows: int = 0
    """Input rows (0 for a query)."""
    lines: Mapping[int, tuple[int, ...]] = attrs.field(factory=dict)
    """Source lines of the records in ``unchanged`` and ``gone``, by Id."""

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        """What a dry run prints: the plan's size, what needs nothing, the problems."""
        plan = self.plan
        return {
            "kind": plan.kind,
            "entity": plan.entity.attribute,
            "rows": self.rows,
            "creates": sum(g.count for g in plan.groups),
            "updates": sum(1 for o in plan.ops if o.action == "update"),
            "deletes": sum(1 for o in plan.ops if o.action == "delete"),
            "unchanged": len(self.unchanged),
            "gone": len(self.gone),
            "kept": [{"id": k.record_id, "reason": k.reason} for k in self.kept],
            "requests": self.estimate.to_json(),
            "invalid": [
                {"line": e.line, "field": e.field, "error": e.problem} for e in self.errors
            ],
        }

    @property
    def estimate(self) -> RequestEstimate:
        plan = self.plan
        ops = plan.ops
        creates = plan.create_plan("").create_requests if plan.groups else 0
        return RequestEstimate(
            planning_reads=plan.planning_reads,
            full_reads=len(ops),
            puts=sum(1 for o in ops if o.action == "update"),
            deletes=sum(1 for o in ops if o.action == "delete"),
            creates=creates,
            baseline_reads=1 if plan.groups else 0,
        )


def settable_field(entity: Entity, name: str) -> Field | str:
    """The field a change names (API or Python name), or why it cannot be set."""
    field = entity.field(name)
    if field is None:
        known = ", ".join(f.json_name for f in entity.update_fields() if f.json_name != "Id")
        return f"unknown column for {entity.name} (settable: {known})"
    if field.json_name == "Id":
        return "the Id of a record cannot change"
    if field.read_only or field.update == "absent":
        return "cannot be set: it is read-only"
    return field


def check_cell(
    entity: Entity, row: SourceRow, key: str, raw: Any, *, lenient: bool = False
) -> tuple[str, Any] | RowError | None:
    """One cell of a row that changes a record: (API name, canonical JSON value), a problem,
    or None for a blank cell (not given, so not changed)."""
    spec = settable_field(entity, key)
    if isinstance(spec, str):
        return RowError(row.line, key, raw, spec)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value = raw
    try:
        if isinstance(raw, str):
            value = row.cells.read(spec, raw)
        checked = _values.check(spec, value, source="text", allow_unknown_enum_values=lenient)
    except (CellError, _values.Invalid) as exc:
        return RowError(row.line, spec.json_name, raw, str(exc))
    return spec.json_name, _values.to_json(checked)


def check_changes(
    entity: Entity, row: SourceRow, *, skip: frozenset[str] = frozenset(), lenient: bool = False
) -> tuple[dict[str, Any], list[RowError]]:
    """Every cell of ``row`` but those in ``skip``, checked as changes to a record."""
    changes: dict[str, Any] = {}
    errors: list[RowError] = []
    seen: dict[str, str] = {}
    for key, raw in row.data.items():
        if key in skip:
            continue
        result = check_cell(entity, row, key, raw, lenient=lenient)
        if isinstance(result, RowError):
            errors.append(result)
        elif result is not None:
            name, value = result
            if name in seen:
                errors.append(
                    RowError(row.line, None, None, f"{seen[name]} and {key} both give {name}")
                )
            seen[name] = key
            changes[name] = value
    return changes, errors


def field_names(entity: Entity, keys: Mapping[str, Any]) -> dict[str, str]:
    """Row keys (API or Python names) to API names, for the keys that name a field."""
    out: dict[str, str] = {}
    for key in keys:
        field = entity.field(key)
        if field is not None:
            out[key] = field.json_name
    return out
