"""Planning an apply: make the records in scope match a file.

Pure; the records come in already read (:mod:`.records`). Two forms:

* **by key** (:func:`plan_apply`): each row is matched to a record by
  ``key``: ``Id``, ``SystemId`` or a natural key such as
  ``ProductId+TimePassId``. A row without a match is created (import's
  groups, :func:`~nexudus_async.bulk.plan.make_plan`); a matched row whose
  columns differ from the record becomes an update of those columns only;
  an equal one costs nothing. With ``prune``, records of the scope no row
  matched are deleted.
* **by count** (:func:`plan_apply_counts`, coworker passes): a row gives a
  customer, a time pass, the other columns that make passes alike and
  ``Count``, how many *unused* such passes there should be. The shortfall is
  created with ``CreateMultiple``; with ``prune``, a surplus (newest first)
  and unused passes no row describes are deleted, each guarded by
  ``Used: false`` when read again.

Either way a second apply of the same file plans nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import attrs

from ..._core import values as _values
from ..._core.entity import Entity
from ..ops import JobPlan, RecordOp
from ..plan import Group, make_plan
from ..rows import RowError, SourceRow, ValidRow, validate_row
from .common import Planned, check_changes
from .delete import delete_op
from .records import Current, canonical, changed_fields, listed
from .update import row_id

__all__ = ["COUNT_COLUMN", "ApplyKey", "parse_key", "plan_apply", "plan_apply_counts"]

COUNT_COLUMN = "Count"
"""The column of a by-count row: how many unused passes alike there should be."""

_ID_NAMES = frozenset({"Id", "id"})
ONE_PER_ROW = f"a row applied by key stands for one record (give {COUNT_COLUMN} to apply by count)"
UNUSED = {"Used": False}


@attrs.frozen
class ApplyKey:
    """The fields a row and a record are matched by (API names)."""

    fields: tuple[str, ...]

    @property
    def by_id(self) -> bool:
        return self.fields == ("Id",)

    def __str__(self) -> str:
        return "+".join(self.fields)


def parse_key(entity: Entity, key: str) -> ApplyKey:
    """``"ProductId+TimePassId"`` (API or Python names); a name lists lack is refused."""
    names: list[str] = []
    for part in key.split("+"):
        field = entity.field(part.strip())
        if field is None:
            raise ValueError(f"key {key!r}: {entity.name} has no field {part.strip()!r}")
        if not listed(entity, field.json_name):
            raise ValueError(
                f"key {key!r}: {field.json_name} is not in {entity.name} list records, "
                "so records cannot be matched by it"
            )
        names.append(field.json_name)
    if len(set(names)) != len(names):
        raise ValueError(f"key {key!r} names a field twice")
    return ApplyKey(tuple(names))


def _cell(row: SourceRow, entity: Entity, name: str) -> Any:
    field = entity.field(name)
    assert field is not None
    return row.data.get(name, row.data.get(field.name))


def row_key(entity: Entity, key: ApplyKey, row: SourceRow) -> tuple[Any, ...] | RowError | None:
    """The row's key values (canonical), a problem, or None (key ``Id`` and no Id: a create)."""
    if key.by_id:
        rid = row_id(entity, row, required=False)
        return rid if isinstance(rid, RowError) or rid is None else (rid,)
    out: list[Any] = []
    for name in key.fields:
        raw = _cell(row, entity, name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return RowError(row.line, name, None, f"is required (part of the key {key})")
        field = entity.field(name)
        assert field is not None
        try:
            text = row.cells.read(field, raw) if isinstance(raw, str) else raw
            checked = _values.check(field, text, source="text", allow_unknown_enum_values=True)
        except (ValueError, _values.Invalid) as exc:
            return RowError(row.line, name, raw, str(exc))
        out.append(canonical(field, _values.to_json(checked)))
    return tuple(out)


def _json_name(entity: Entity, name: str) -> str | None:
    field = entity.field(name)
    return field.json_name if field is not None else None


def group_key(entity: Entity, row: ValidRow) -> str:
    """The key of the create group a valid row falls in (its journal key)."""
    return make_plan(entity, [row]).groups[0].key


def _prior_groups(groups: Iterable[Group], prior: Mapping[str, int]) -> tuple[Group, ...]:
    """Groups an unfinished run journaled keep the count it planned, so the rerun
    reconciles against it (see the executor) and its plan is the first run's."""
    return tuple(attrs.evolve(g, count=prior[g.key]) if g.key in prior else g for g in groups)


def _prior_deletes(prior: Mapping[str, int], planned: Iterable[RecordOp]) -> list[int]:
    """Record Ids of deletes an unfinished run journaled that the plan lacks (gone now)."""
    have = {o.key for o in planned}
    return sorted(int(k.split(":")[1]) for k in prior if k.startswith("delete:") and k not in have)


def record_key(key: ApplyKey, record: Current) -> tuple[Any, ...]:
    return tuple(record.get(name) for name in key.fields)


@attrs.define
class _Apply:
    """The state of one by-key planning pass."""

    entity: Entity
    key: ApplyKey
    by_key: dict[tuple[Any, ...], list[int]]
    lenient: bool
    errors: list[RowError] = attrs.field(factory=list)
    creates: list[ValidRow] = attrs.field(factory=list)
    ops: list[RecordOp] = attrs.field(factory=list)
    unchanged: list[int] = attrs.field(factory=list)
    matched: set[int] = attrs.field(factory=set)
    seen: dict[tuple[Any, ...], int] = attrs.field(factory=dict)
    prior: Mapping[str, int] = attrs.field(factory=dict)

    def row(self, row: SourceRow, current: Mapping[int, Current]) -> None:
        rkey = row_key(self.entity, self.key, row)
        if isinstance(rkey, RowError):
            self.errors.append(rkey)
            return
        if rkey is not None:
            if rkey in self.seen:
                self.errors.append(
                    RowError(row.line, str(self.key), list(rkey), f"also on line {self.seen[rkey]}")
                )
                return
            self.seen[rkey] = row.line
        ids = self.by_key.get(rkey, []) if rkey is not None else []
        if len(ids) > 1:
            shown = ", ".join(map(str, ids[:5]))
            self.errors.append(
                RowError(row.line, str(self.key), list(rkey or ()),
                         f"{len(ids)} records have this key (Ids {shown}): it must be unique")
            )  # fmt: skip
        elif ids:
            self.update(row, ids[0], current[ids[0]])
        elif self.key.by_id and rkey is not None:
            self.errors.append(
                RowError(row.line, "Id", rkey[0], f"no {self.entity.name} has this Id")
            )
        else:
            self.create(row)

    def update(self, row: SourceRow, rid: int, record: Current) -> None:
        keyed = {k for k in row.data if _json_name(self.entity, k) in self.key.fields}
        skip = frozenset(_ID_NAMES | keyed)
        changes, problems = check_changes(self.entity, row, skip=skip, lenient=self.lenient)
        self.matched.add(rid)
        key = f"update:{rid}"
        if problems:
            self.errors.extend(problems)
        elif key in self.prior or changed_fields(self.entity, record, changes):
            self.ops.append(RecordOp(key, "update", rid, changes, lines=(row.line,)))
        else:
            self.unchanged.append(rid)
        if any(not k.startswith(("update:", "delete:")) for k in self.prior):
            self.create(row, only_prior=True)  # created by the unfinished run: its group stays

    def create(self, row: SourceRow, *, only_prior: bool = False) -> None:
        data = {k: v for k, v in row.data.items() if k not in _ID_NAMES}
        valid = validate_row(
            self.entity, attrs.evolve(row, data=data), allow_unknown_enum_values=self.lenient
        )
        if only_prior:
            if isinstance(valid, ValidRow) and group_key(self.entity, valid) in self.prior:
                self.creates.append(valid)
        elif isinstance(valid, list):
            self.errors.extend(valid)
        elif valid.count != 1:
            count = self.entity.count_field
            self.errors.append(RowError(row.line, count, valid.count, ONE_PER_ROW))
        else:
            self.creates.append(valid)


def plan_apply(
    entity: Entity,
    rows: Iterable[SourceRow],
    current: Mapping[int, Current],
    *,
    key: ApplyKey,
    prune_scope: Collection[int] | None = None,
    planning_reads: int = 0,
    lenient: bool = False,
    cap: int | None = None,
    prior: Mapping[str, int] | None = None,
) -> Planned:
    """Creates for rows without a record, updates for changed ones; with ``prune_scope``
    (the Ids in the job's scope), deletes for records of it that no row matched.

    ``prior``: units (key -> count) an unfinished run of the job journaled; they are
    planned again as that run planned them, so the rerun's plan is the first run's."""
    prior = prior or {}
    by_key: dict[tuple[Any, ...], list[int]] = {}
    for rid in sorted(current):
        by_key.setdefault(record_key(key, current[rid]), []).append(rid)
    state = _Apply(entity, key, by_key, lenient, prior=prior)
    n = 0
    for row in rows:
        n += 1
        state.row(row, current)
    ops = sorted(state.ops, key=lambda o: o.record_id)
    if prune_scope is not None:
        ops += [delete_op(rid) for rid in sorted(set(prune_scope) - state.matched)]
    ops += [delete_op(rid) for rid in _prior_deletes(prior, ops)]
    groups = make_plan(entity, state.creates, cap=cap).groups if state.creates else ()
    plan = JobPlan(
        "apply", entity, _prior_groups(groups, prior), tuple(ops), planning_reads, cap=cap, rows=n
    )
    errors = tuple(sorted(state.errors, key=lambda e: e.line))
    return Planned(plan, errors, tuple(sorted(state.unchanged)), rows=n)


# ---------------------------------------------------------------- by count


@attrs.frozen
class _CountRow:
    line: int
    alike: Mapping[str, Any]
    """The columns the row gives (API names, canonical): what makes a pass one of its."""
    want: int
    valid: ValidRow


def _count(row: SourceRow) -> int | RowError:
    raw = row.data.get(COUNT_COLUMN)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return RowError(row.line, COUNT_COLUMN, None, "is required")
    text = raw.strip() if isinstance(raw, str) else raw
    if isinstance(text, bool) or not (
        isinstance(text, int) or (isinstance(text, str) and text.isdigit())
    ):
        return RowError(row.line, COUNT_COLUMN, raw, "must be a whole number, 0 or more")
    return int(text)


def _count_row(
    entity: Entity, row: SourceRow, lenient: bool
) -> tuple[_CountRow | None, list[RowError]]:
    """One by-count row checked: its ``Count``, its create fields, columns lists show."""
    want = _count(row)
    data = {k: v for k, v in row.data.items() if k != COUNT_COLUMN}
    alike, problems = check_changes(entity, attrs.evolve(row, data=data), lenient=lenient)
    problems += [
        RowError(row.line, name, None, "cannot be compared: list records lack it")
        for name in alike
        if not listed(entity, name)
    ]
    if entity.count_field is not None and entity.count_field in alike:
        problems.append(
            RowError(row.line, entity.count_field, None, f"give {COUNT_COLUMN} instead")
        )
    valid = validate_row(entity, attrs.evolve(row, data=data), allow_unknown_enum_values=lenient)
    if isinstance(valid, list):
        told = {p.field for p in problems}
        problems += [p for p in valid if p.field not in told]
    if isinstance(want, RowError):
        problems.append(want)
    if problems or isinstance(valid, list) or isinstance(want, RowError):
        return None, problems
    same = {k: canonical(_field(entity, k), v) for k, v in alike.items()}
    return _CountRow(row.line, same, want, valid), []


def _field(entity: Entity, name: str) -> Any:
    field = entity.field(name)
    assert field is not None
    return field


def count_rows(
    entity: Entity, rows: Iterable[SourceRow], *, lenient: bool = False
) -> tuple[list[_CountRow], list[RowError], int]:
    """Check by-count rows; two rows describing the same passes are an error.
    Returns the rows, the problems and how many rows were read."""
    out: list[_CountRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[tuple[str, Any], ...], int] = {}
    n = 0
    for row in rows:
        n += 1
        checked, problems = _count_row(entity, row, lenient)
        errors.extend(problems)
        if checked is None:
            continue
        sig = tuple(sorted(checked.alike.items()))
        if sig in seen:
            errors.append(RowError(row.line, None, None, f"the same passes as line {seen[sig]}"))
            continue
        seen[sig] = row.line
        out.append(checked)
    return out, errors, n


def _owner(entity: Entity, rows: Sequence[_CountRow], record: Current) -> _CountRow | None:
    """The row a pass is one of: the most specific whose every column it holds."""
    best: _CountRow | None = None
    for r in rows:
        fits = all(record.get(k) == v for k, v in r.alike.items())
        if fits and (best is None or len(r.alike) > len(best.alike)):
            best = r
    return best


def plan_apply_counts(
    entity: Entity,
    rows: Iterable[SourceRow],
    current: Mapping[int, Current],
    *,
    prune_scope: Collection[int] | None = None,
    planning_reads: int = 0,
    lenient: bool = False,
    cap: int | None = None,
    prior: Mapping[str, int] | None = None,
) -> Planned:
    """The shortfall of each row's unused passes created. With ``prune_scope`` (the Ids
    of the job's scope), its passes beyond a row's count (newest first) and those no row
    describes are deleted. ``current``: the unused passes read, by Id. ``prior``: as for
    :func:`plan_apply` (a journaled group keeps its count, a journaled delete stays)."""
    prior = prior or {}
    checked, errors, n = count_rows(entity, rows, lenient=lenient)
    held: dict[int, list[int]] = {r.line: [] for r in checked}
    strays: list[int] = []
    for rid in sorted(current):
        record = current[rid]
        if record.get("Used") is not False:
            continue
        owner = _owner(entity, checked, record)
        (held[owner.line] if owner is not None else strays).append(rid)
    creates: list[ValidRow] = []
    ops: list[RecordOp] = []
    in_scope = set(prune_scope) if prune_scope is not None else set()
    for r in checked:
        have = held[r.line]
        if len(have) < r.want or (prior and group_key(entity, r.valid) in prior):
            creates.append(attrs.evolve(r.valid, count=max(r.want - len(have), 1)))
        elif len(have) > r.want:
            surplus = [rid for rid in sorted(have, reverse=True) if rid in in_scope]
            ops += [delete_op(rid, (r.line,), UNUSED) for rid in surplus[: len(have) - r.want]]
    ops += [delete_op(rid, (), UNUSED) for rid in strays if rid in in_scope]
    ops += [delete_op(rid, (), UNUSED) for rid in _prior_deletes(prior, ops)]
    ops.sort(key=lambda o: o.record_id)
    groups = make_plan(entity, creates, cap=cap).groups if creates else ()
    plan = JobPlan(
        "apply", entity, _prior_groups(groups, prior), tuple(ops), planning_reads, cap=cap, rows=n
    )
    return Planned(plan, tuple(sorted(errors, key=lambda e: e.line)), rows=n)
