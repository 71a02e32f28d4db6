"""Planning an undo: delete what an import created, by its journal.

Pure; the passes come in already read (:mod:`.records`). The journal knows,
per group, the customer and time pass and how many passes the import
created, and the job's window (its ``since``: the lower bound every count of
the job used). The undo deletes, per customer and time pass, that many of
the matching passes created in the window, **newest first**: the same
assumption reconciliation documents (while the import ran, nothing else
created passes for the same customer and time pass), so the newest ones are
the import's.

A pass used since then is reported and kept, unless ``include_used``; every
delete of an unused one carries ``expect={"Used": False}``, so a pass used
between planning and its delete is reported, not deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ..._core.entity import Entity
from ..ops import JobPlan, RecordOp
from ..snapshot import key_text
from .common import Kept, Planned

__all__ = ["UndoGroup", "plan_undo", "undo_keys"]

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
    lines: tuple[int, ...] = ()


def _key(entity: Entity, fields: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(fields.get(name) for name in entity.reconcile)


def undo_keys(entity: Entity, groups: Iterable[UndoGroup]) -> dict[tuple[Any, ...], int]:
    """Passes to take back per reconcile key (customer, time pass)."""
    want: dict[tuple[Any, ...], int] = {}
    for g in groups:
        k = _key(entity, g.fields)
        want[k] = want.get(k, 0) + g.created
    return want


def undo_op(record_id: int, key: tuple[Any, ...], guard: bool) -> RecordOp:
    """The delete of one pass (``guard``: only while unused); its journal key names its
    customer and time pass, so a rerun knows which key a pass deleted earlier counted for."""
    expect = UNUSED if guard else {}
    return RecordOp(f"delete:{record_id}:{key_text(key)}", "delete", record_id, expect=expect)


def _prior(prior: Iterable[str]) -> dict[str, list[int]]:
    """Journaled undo ops by key text: ``delete:<Id>:<key>``."""
    out: dict[str, list[int]] = {}
    for unit in prior:
        parts = unit.split(":", 2)
        if len(parts) == 3 and parts[0] == "delete" and parts[1].isdigit():
            out.setdefault(parts[2], []).append(int(parts[1]))
    return out


def plan_undo(
    entity: Entity,
    groups: Iterable[UndoGroup],
    current: Mapping[int, Mapping[str, Any]],
    *,
    include_used: bool = False,
    planning_reads: int = 0,
    prior: Iterable[str] = (),
) -> Planned:
    """Delete ops for the newest matching passes of each key, as many as the import made.

    ``current``: the passes created in the import's window (by Id), at least those of
    its keys. A key with fewer passes than the import made deletes what there is, and
    the plan's ``kept`` says how many were not found (record id 0). ``prior``: unit
    keys an unfinished run of this undo journaled: planned again, and counted for
    their key, so the rerun takes no older pass in place of one it deleted.
    """
    want = undo_keys(entity, groups)
    done = _prior(prior)
    guard = not include_used and entity.field("Used") is not None
    by_key: dict[tuple[Any, ...], list[int]] = {}
    for rid in sorted(current, reverse=True):  # newest first: Ids grow with time
        by_key.setdefault(_key(entity, current[rid]), []).append(rid)
    ops: list[RecordOp] = []
    kept: list[Kept] = []
    for k in sorted(want, key=lambda t: tuple(str(x) for x in t)):
        again = done.get(key_text(k), [])
        ops += [undo_op(rid, k, guard) for rid in again]
        taken = [rid for rid in by_key.get(k, []) if rid not in again][: want[k] - len(again)]
        shown = ", ".join(f"{n}={v}" for n, v in zip(entity.reconcile, k, strict=True))
        if len(again) + len(taken) < want[k]:
            missing = want[k] - len(again) - len(taken)
            kept.append(Kept(0, f"{shown}: {missing} of the {want[k]} passes are gone already"))
        for rid in taken:
            if current[rid].get("Used") is True and guard:
                kept.append(Kept(rid, f"{shown}: used since; kept (include_used deletes it)"))
            else:
                ops.append(undo_op(rid, k, guard))
    ops.sort(key=lambda o: o.record_id)
    plan = JobPlan("undo", entity, ops=tuple(ops), planning_reads=planning_reads)
    return Planned(plan, kept=tuple(kept))
