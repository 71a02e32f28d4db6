"""Planning an undo: delete what an import created, by its journal.

Pure; the passes come in already read (:mod:`.records`). The journal knows,
per group, how many passes the import created and its *baseline* (the
matching passes that existed before it was sent), and the job's window (its
``since``: the lower bound every count of the job used); the customer and
time pass of a group come from the journal or from the import's rows.

Per customer and time pass, the passes of the window in ``Id`` order are: the
``baseline`` older ones (never touched), then the import's, then any created
since (never touched either). The undo deletes the import's, newest first:
the assumption reconciliation documents (while the import ran, nothing else
created passes for the same customer and time pass), and that none of the
older passes was deleted since (else the slice shifts by as many).

A pass used since then is reported and kept, unless ``include_used``; every
delete of an unused one carries ``expect={"Used": False}``, so a pass used
between planning and its delete is reported, not deleted.

Every op's journal key names the import and the customer and time pass
(``undo:<import>:<Id>:<key>``): a later undo of the same import, after a stop
or after it finished, counts what earlier ones deleted and plans them again,
so it never takes an older pass in place of one already deleted, and its plan
is the first one's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ..._core.entity import Entity
from ..ops import JobPlan, RecordOp
from ..snapshot import key_text
from .common import Kept, Planned

__all__ = ["UndoGroup", "plan_undo", "undo_keys", "undo_tag"]

UNUSED = {"Used": False}


@attrs.frozen
class UndoGroup:
    """One group of the import to take back."""

    key: str
    """The group's journal key."""
    fields: Mapping[str, Any]
    """Its create fields (API names): at least the entity's reconcile fields."""
    created: int
    """Passes the import created for it (the journal's count)."""
    baseline: int = 0
    """Matching passes in the window before the group was sent (the journal's)."""


def _key(entity: Entity, fields: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(fields.get(name) for name in entity.reconcile)


def undo_keys(entity: Entity, groups: Iterable[UndoGroup]) -> dict[tuple[Any, ...], int]:
    """Passes to take back per reconcile key (customer, time pass)."""
    want: dict[tuple[Any, ...], int] = {}
    for g in groups:
        k = _key(entity, g.fields)
        want[k] = want.get(k, 0) + g.created
    return want


def undo_tag(import_job: str) -> str:
    """The prefix of every op key of an undo of ``import_job``."""
    return f"undo:{import_job[:16]}:"


def undo_op(tag: str, record_id: int, key: tuple[Any, ...], guard: bool) -> RecordOp:
    """The delete of one pass (``guard``: only while unused)."""
    expect = UNUSED if guard else {}
    return RecordOp(f"{tag}{record_id}:{key_text(key)}", "delete", record_id, expect=expect)


def _prior(tag: str, prior: Iterable[str]) -> dict[str, list[int]]:
    """Ops earlier undos of the import journaled, by key text."""
    out: dict[str, list[int]] = {}
    for unit in prior:
        if unit.startswith(tag):
            rid, _, text = unit[len(tag) :].partition(":")
            if rid.isdigit():
                out.setdefault(text, []).append(int(rid))
    return out


def _passes(
    entity: Entity, groups: list[UndoGroup], current: Mapping[int, Mapping[str, Any]]
) -> tuple[dict[tuple[Any, ...], int], dict[tuple[Any, ...], list[int]]]:
    """Per key, the passes before the import (its first group's baseline) and every pass
    of the window in ``Id`` order (Ids grow with time)."""
    before: dict[tuple[Any, ...], int] = {}
    for g in groups:
        k = _key(entity, g.fields)
        before[k] = min(before.get(k, g.baseline), g.baseline)
    by_key: dict[tuple[Any, ...], list[int]] = {}
    for rid in sorted(current):
        by_key.setdefault(_key(entity, current[rid]), []).append(rid)
    return before, by_key


def _imported(
    ids: list[int], before: int, want: int, again: list[int], present: Mapping[int, Any]
) -> list[int]:
    """The import's passes not planned yet, newest first: after the ``before`` older
    ones, as many as it created less those an earlier undo already deleted (so passes
    created after the import are never taken)."""
    planned = set(again)
    gone = sum(1 for rid in again if rid not in present)
    return [rid for rid in ids[before : before + want - gone] if rid not in planned][::-1]


def plan_undo(
    entity: Entity,
    groups: Iterable[UndoGroup],
    current: Mapping[int, Mapping[str, Any]],
    *,
    import_job: str,
    include_used: bool = False,
    planning_reads: int = 0,
    prior: Iterable[str] = (),
) -> Planned:
    """Delete ops for the newest passes of each key after its baseline, as many as the
    import created (see the module's docstring).

    ``current``: the passes created in the import's window, by Id. ``prior``: unit
    keys of earlier undos of the import (any journaled job): planned again and counted.
    A key short of passes deletes what there is; ``kept`` says how many were gone
    (record id 0) and which used passes stay.
    """
    groups = list(groups)
    tag = undo_tag(import_job)
    want = undo_keys(entity, groups)
    done = _prior(tag, prior)
    before, found = _passes(entity, groups, current)
    guard = not include_used and entity.field("Used") is not None
    ops: list[RecordOp] = []
    kept: list[Kept] = []
    for k in sorted(want, key=lambda t: tuple(str(x) for x in t)):
        again = done.get(key_text(k), [])
        ops += [undo_op(tag, rid, k, guard) for rid in again]
        taken = _imported(found.get(k, []), before.get(k, 0), want[k], again, current)
        shown = ", ".join(f"{n}={v}" for n, v in zip(entity.reconcile, k, strict=True))
        if len(again) + len(taken) < want[k]:
            missing = want[k] - len(again) - len(taken)
            kept.append(Kept(0, f"{shown}: {missing} of the {want[k]} passes are gone already"))
        for rid in taken:
            if current[rid].get("Used") is True and guard:
                kept.append(Kept(rid, f"{shown}: used since; kept (include_used deletes it)"))
            else:
                ops.append(undo_op(tag, rid, k, guard))
    ops.sort(key=lambda o: o.record_id)
    plan = JobPlan("undo", entity, ops=tuple(ops), planning_reads=planning_reads)
    return Planned(plan, kept=tuple(kept))
