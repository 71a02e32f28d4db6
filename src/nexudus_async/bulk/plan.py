"""The bulk planner: which requests a set of validated rows becomes (pure, no I/O).

Rows asking for identical records (same entity fields, counts aside) form one
group, and a group of CoworkerTimePasses is one ``CreateMultiple`` request
(split into several only when a cap on CreateMultiple is configured, or when
the group asks for more than CreateMultiple, a 32-bit integer, holds). For the
link entities (product and tariff time passes) every request creates one
record, so identical rows are duplicates: they are flagged, and sent once
unless the caller asks otherwise.

Groups sharing a *reconciliation key* (customer and time pass) are counted by
the same list filter, so the executor sends them one after the other; the
plan records that key for it. Before the first send the executor reads a
snapshot of the records that already exist (:mod:`.bulk_snapshot`): one list
request per 1,000 of them, and never more requests than the plan has keys.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import attrs

from .._core.entity import Entity
from .._core.throttle import RateLimits
from .rows import ValidRow

__all__ = ["Group", "GroupList", "Plan", "estimate_seconds", "groups_hash", "make_plan"]


def _canonical(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        # 10, 10.0 and 10.00 are the same price.
        return format(value.normalize(), "f")
    return value


def _fields_key(values: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, _canonical(v)) for k, v in values.items()))


@attrs.frozen
class Group:
    """Rows that create identical records, sent together."""

    key: str
    """Stable content hash of the fields: the journal's key for the group."""
    fields: Mapping[str, Any]
    """The create body without the count (API names, normalized values)."""
    count: int
    """Records to create for the group (the sum of its rows' counts)."""
    lines: tuple[int, ...]
    """The rows (line numbers) the group stands for."""
    row_counts: tuple[int, ...]
    reconcile_key: tuple[Any, ...]
    duplicates: tuple[int, ...] = ()
    """Link entities only: lines of identical rows that are not sent."""

    def requests(self, cap: int | None) -> int:
        """How many create requests the group needs when sent in one go."""
        return requests_for(self.count, cap)


def requests_for(count: int, cap: int | None) -> int:
    return 1 if cap is None else math.ceil(count / cap)


class GroupList(Sequence[Group]):
    """A plan's groups, kept as columns; a :class:`Group` is built when asked for.

    A 100,000-group plan then holds per group its key, its fields and a few list
    slots, not a Group with its tuples (16 MB less for the whole job). Compares
    equal to a tuple or list of the same groups.
    """

    __slots__ = (
        "_counts",
        "_duplicates",
        "_fields",
        "_keys",
        "_lines",
        "_reconcile",
        "_row_counts",
    )

    def __init__(self, reconcile: tuple[str, ...], groups: Iterable[Group]) -> None:
        self._reconcile = reconcile
        """The entity's reconcile fields: a group's key is its fields' values of them."""
        self._keys: list[str] = []
        self._fields: list[Mapping[str, Any]] = []
        self._counts: list[int] = []
        self._lines: list[int | tuple[int, ...]] = []
        """One line as the int itself, not a tuple of one."""
        self._row_counts: list[tuple[int, ...]] = []
        self._duplicates: list[tuple[int, ...]] = []
        for g in groups:
            if g.reconcile_key != tuple(g.fields.get(f) for f in reconcile):
                raise ValueError(f"group {g.key}: its reconcile key is not its fields'")
            self._keys.append(g.key)
            self._fields.append(g.fields)
            self._counts.append(g.count)
            self._lines.append(g.lines[0] if len(g.lines) == 1 else g.lines)
            self._row_counts.append(g.row_counts)
            self._duplicates.append(g.duplicates)

    def __len__(self) -> int:
        return len(self._keys)

    def _group(self, i: int) -> Group:
        fields, lines = self._fields[i], self._lines[i]
        return Group(
            key=self._keys[i],
            fields=fields,
            count=self._counts[i],
            lines=(lines,) if isinstance(lines, int) else lines,
            row_counts=self._row_counts[i],
            reconcile_key=tuple(fields.get(f) for f in self._reconcile),
            duplicates=self._duplicates[i],
        )

    @overload
    def __getitem__(self, index: int) -> Group: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Group, ...]: ...

    def __getitem__(self, index: int | slice) -> Group | tuple[Group, ...]:
        if isinstance(index, slice):
            return tuple(self._group(i) for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("group index out of range")
        return self._group(index)

    def __iter__(self) -> Iterator[Group]:
        return (self._group(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (GroupList, tuple, list)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # as a tuple of groups: their fields are dicts

    def __repr__(self) -> str:
        return repr(tuple(self))

    # Without building the groups: what a plan's totals and the job's loop read of them.

    def keys_and_counts(self) -> Iterator[tuple[str, int]]:
        return zip(self._keys, self._counts, strict=True)

    def keys(self) -> Iterator[str]:
        return iter(self._keys)

    def key_at(self, index: int) -> str:
        return self._keys[index]

    def brief(self, index: int) -> tuple[str, Mapping[str, Any], int]:
        """The group's key, fields and count."""
        return self._keys[index], self._fields[index], self._counts[index]

    def reconcile_keys(self) -> Iterator[tuple[Any, ...]]:
        return (tuple(fields.get(f) for f in self._reconcile) for fields in self._fields)

    def duplicates(self) -> int:
        return sum(len(d) for d in self._duplicates)

    def row_parts(self) -> Iterator[RowParts]:
        for key, lines, counts, duplicates in zip(
            self._keys, self._lines, self._row_counts, self._duplicates, strict=True
        ):
            yield key, (lines,) if isinstance(lines, int) else lines, counts, duplicates


@attrs.frozen
class Plan:
    """Everything a job will send, in a deterministic order."""

    entity: Entity
    groups: Sequence[Group]
    rows: int
    cap: int | None
    job_hash: str
    """Content hash of the whole job (entity and every group with its count):
    the same input gives the same hash, whatever its row order or format."""

    @property
    def records(self) -> int:
        return sum(count for _, count in keys_and_counts_of(self.groups))

    @property
    def create_requests(self) -> int:
        cap = self.per_request
        return sum(requests_for(count, cap) for _, count in keys_and_counts_of(self.groups))

    @property
    def per_request(self) -> int | None:
        """Most records one create asks for: the cap, or what the count field can hold."""
        count = self.entity.field(self.entity.count_field) if self.entity.count_field else None
        bound = count.maximum if count is not None else None
        if self.cap is None or bound is None:
            return self.cap if bound is None else bound
        return min(self.cap, bound)

    @property
    def reconcile_keys(self) -> int:
        """Distinct reconciliation keys (customer and time pass) among the groups."""
        return len(set(reconcile_keys_of(self.groups)))

    @property
    def snapshot_budget(self) -> int:
        """Most list requests the baseline snapshot may take: one per key.

        Beyond that counting each group's key costs less, and the job does so.
        """
        return self.reconcile_keys

    @property
    def baseline_reads(self) -> int:
        """Read requests the baselines take at least: one snapshot page (none without groups)."""
        return 1 if self.groups else 0

    @property
    def duplicates(self) -> int:
        groups = self.groups
        if isinstance(groups, GroupList):
            return groups.duplicates()
        return sum(len(g.duplicates) for g in groups)


def _hash(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def groups_hash(attribute: str, groups: Iterable[Group]) -> str:
    """``_hash([attribute, [(key, count), ...]])`` fed a thousand groups at a time: the
    same digest without the whole job's list and JSON text at once (16 MB at 100,000)."""
    digest = hashlib.sha256(f"[{json.dumps(attribute)},[".encode())
    chunk: list[str] = []
    first = True
    for key, count in keys_and_counts_of(groups):
        chunk.append(json.dumps([key, count], separators=(",", ":")))
        if len(chunk) == 1000:
            digest.update(("" if first else ",").encode() + ",".join(chunk).encode())
            first = False
            chunk.clear()
    if chunk:
        digest.update(("" if first else ",").encode() + ",".join(chunk).encode())
    digest.update(b"]]")
    return digest.hexdigest()


RowParts = tuple[str, tuple[int, ...], tuple[int, ...], tuple[int, ...]]
"""A group's key, lines, row counts and duplicate lines: what its rows' report needs."""


def row_parts(groups: Iterable[Group]) -> Iterator[RowParts]:
    """Each group's :data:`RowParts` (from a :class:`GroupList` without building the groups)."""
    if isinstance(groups, GroupList):
        return groups.row_parts()
    return ((g.key, g.lines, g.row_counts, g.duplicates) for g in groups)


def reconcile_keys_of(groups: Iterable[Group]) -> Iterator[tuple[Any, ...]]:
    """Each group's reconcile key (from a :class:`GroupList` without building the groups)."""
    if isinstance(groups, GroupList):
        return groups.reconcile_keys()
    return (g.reconcile_key for g in groups)


def keys_and_counts_of(groups: Iterable[Group]) -> Iterator[tuple[str, int]]:
    if isinstance(groups, GroupList):
        return groups.keys_and_counts()
    return ((g.key, g.count) for g in groups)


_ONE = (1,)


def _counts(members: Sequence[ValidRow]) -> tuple[int, ...]:
    """The rows' counts; the commonest, one row of one pass, is one shared tuple."""
    if len(members) == 1 and members[0].count == 1:
        return _ONE
    return tuple(r.count for r in members)


def _group(entity: Entity, key: str, members: Sequence[ValidRow]) -> Group:
    """The group of identical rows ``members``: one record each for a link entity."""
    first = members[0]
    rkey = tuple(first.values.get(f) for f in entity.reconcile)
    if entity.count_field is None:
        return Group(
            key=key,
            fields=first.values,  # shared, not copied: a 100,000-row plan stays small
            count=1,
            lines=(first.line,),
            row_counts=(1,),
            reconcile_key=rkey,
            duplicates=tuple(r.line for r in members[1:]),
        )
    return Group(
        key=key,
        fields=first.values,
        count=sum(r.count for r in members),
        lines=tuple(r.line for r in members),
        row_counts=_counts(members),
        reconcile_key=rkey,
    )


def _texts(group: Group) -> tuple[str, ...]:
    return tuple(str(x) for x in group.reconcile_key)


def _sort(groups: list[Group]) -> None:
    """Deterministic order whatever the input order: by reconciliation key (as text), then key.

    The sort key is one string per group, its parts joined by NUL: ordered as the tuple
    of the texts, without a tuple of tuples and strings per group (25 MB at 100,000).
    """
    if any("\0" in text for g in groups for text in _texts(g)):
        groups.sort(key=lambda g: (_texts(g), g.key))
    else:
        groups.sort(key=lambda g: "\0".join((*_texts(g), g.key)))


def _drained(groups: list[Group]) -> Iterator[Group]:
    """The groups in order, each let go of as it is handed out (to the columns)."""
    groups.reverse()
    while groups:
        yield groups.pop()


def make_plan(
    entity: Entity,
    rows: Sequence[ValidRow],
    *,
    cap: int | None = None,
    send_duplicates: bool = False,
) -> Plan:
    """Group validated rows into the fewest create requests the API allows.

    ``cap``: the most records one CreateMultiple request may ask for (None:
    no cap). ``send_duplicates``: for link entities, send identical rows
    each as its own request instead of flagging them.
    """
    if cap is not None and cap < 1:
        raise ValueError("cap must be a positive integer")
    # Keyed by the group's key (a short hash), not by the fields themselves: a
    # 100,000-row plan then holds no tuple of tuples per row, even for a moment.
    # A bucket of one row holds the row itself, not a list of one (100,000 lists).
    buckets: dict[str, ValidRow | list[ValidRow]] = {}
    seen: dict[str, int] = {}
    for row in rows:
        fk = _fields_key(row.values)
        if entity.count_field is None and send_duplicates:
            # The occurrence number keeps deliberately repeated link rows distinct.
            same = _hash([entity.attribute, list(fk)])
            n = seen.get(same, 0)
            seen[same] = n + 1
            fk = (*fk, ("#occurrence", n))
        key = _hash([entity.attribute, list(fk)])[:32]
        held = buckets.setdefault(key, row)
        if held is not row:
            if isinstance(held, list):
                held.append(row)
            else:
                buckets[key] = [held, row]

    groups: list[Group] = []
    while buckets:  # popped as they become groups: the peak holds one of the two
        key, members = buckets.popitem()
        groups.append(_group(entity, key, members if isinstance(members, list) else (members,)))

    _sort(groups)
    job_hash = groups_hash(entity.attribute, groups)
    return Plan(
        entity=entity,
        groups=GroupList(entity.reconcile, _drained(groups)),
        rows=len(rows),
        cap=cap,
        job_hash=job_hash,
    )


def estimate_seconds(plan: Plan, limits: RateLimits | None = None) -> float:
    """Lower bound of the job's duration under ``limits`` (default: the published ones).

    The groups' create requests after one snapshot read (more when many
    records exist already), replayed the limiter's way: every window counts,
    the hourly and the daily ones included (see :mod:`.schedule`).
    """
    from .schedule import finish_seconds

    return finish_seconds(
        limits or RateLimits.published(), reads=plan.baseline_reads, writes=plan.create_requests
    )
