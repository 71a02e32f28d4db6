"""The baseline snapshot: how many records each reconcile key had before a job sent anything.

A bulk job reconciles a create whose outcome is unknown by counting the
records of the group's *reconcile key* (customer and time pass, or
product/tariff and time pass) against a baseline. Instead of one count
request per group, the job reads once, before its first send, every record
created in its window (``CreatedOn`` since the job's ``since``, narrowed by
any reconcile field all its groups share) and counts them per key: one list
request per :data:`SNAPSHOT_PAGE_SIZE` records.

Reading a list page by page is only exact if the list does not shift under
the reader. Records are read in ascending ``Id`` order, so records created
meanwhile land after the part already read; a record *deleted* meanwhile
from the part already read would shift the rest by one and hide a record
at the next page boundary. Every read therefore starts at least one record
before the end of the previous one (:func:`next_read` picks a page size and
number that make the offsets overlap), and the overlapping records must be
the very ones read before; otherwise the snapshot is taken again from the
start. A page shorter than asked (a server capping the page size) restarts
it with the size the server gave.

The snapshot is abandoned (the job counts each group's key instead, as many
requests as groups) when it would take more reads than the job has distinct
reconcile keys, or when the list keeps changing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from typing import Any

import attrs

__all__ = [
    "MAX_SNAPSHOT_ATTEMPTS",
    "SNAPSHOT_PAGE_SIZE",
    "KeyedPage",
    "Snapshot",
    "SnapshotAbandoned",
    "key_text",
    "next_read",
    "reads_needed",
    "take_snapshot",
]

SNAPSHOT_PAGE_SIZE = 1000
"""Records per snapshot read: the largest page the API documents (``size`` at
most 1000). A server that returns fewer records than asked is detected and followed."""

MAX_SNAPSHOT_ATTEMPTS = 3
"""Times the snapshot is started again when the list changed while it was read."""


def key_text(key: Iterable[Any]) -> str:
    """The journal's spelling of a reconcile key (values as text: ``5`` and ``"5"`` are one key)."""
    return json.dumps([None if v is None else str(v) for v in key], separators=(",", ":"))


@attrs.frozen
class KeyedPage:
    """One list page as a snapshot needs it."""

    total_items: int
    records: Sequence[tuple[int, tuple[Any, ...]]]
    """``(Id, reconcile key)`` of each record, in ascending ``Id`` order."""


FetchPage = Callable[[int, int], Awaitable[KeyedPage]]
"""``fetch(page, size)``: one page of the job's window, ascending ``Id``."""


@attrs.frozen
class Snapshot:
    counts: dict[str, int]
    """Records per reconcile key (:func:`key_text`), for the job's keys only."""
    reads: int
    """List requests the snapshot took (restarts included)."""
    records: int
    """Records in the window (every key)."""


class SnapshotAbandoned(Exception):
    """The snapshot would cost more than counting per group, or could not be read exactly."""

    def __init__(self, reason: str, reads: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reads = reads


def next_read(covered: int, size: int) -> tuple[int, int]:
    """``(page, page_size)`` of the read after the first ``covered`` records.

    The read starts at or before record ``covered - 1`` (one record overlap
    at least, so a shift of the list is seen) and reaches as far as a page
    of at most ``size`` records can. Offsets of a list are multiples of the
    page size, so the size is what varies. ``ValueError`` when ``covered`` is
    a multiple of every size from 2 to ``size`` (from 1,000 on: never).
    """
    if covered <= 0:
        return 1, size
    best_end, best = covered, (0, 0)
    for z in range(size, 1, -1):
        page = (covered - 1) // z + 1  # the page holding record covered - 1
        end = page * z
        if end > best_end:
            best_end, best = end, (page, z)
    if best == (0, 0):
        raise ValueError(f"no page of at most {size} records reads past record {covered}")
    return best


def reads_needed(total: int, size: int) -> int:
    """List requests a snapshot of ``total`` records takes when nothing changes."""
    covered, reads = 0, 0
    while True:
        page, z = next_read(covered, size)
        covered = page * z
        reads += 1
        if covered >= total:
            return reads


def _over_budget(budget: int, total: int, reads: int) -> SnapshotAbandoned:
    return SnapshotAbandoned(
        f"it would take more than {budget} list requests ({total:,} records in the window)",
        reads,
    )


def _too_big(budget: int, total: int, size: int, reads: int) -> SnapshotAbandoned:
    return SnapshotAbandoned(
        f"{total:,} records in the window would take {reads_needed(total, size)} list "
        f"requests, more than the {budget} counts it saves",
        reads,
    )


async def take_snapshot(
    fetch: FetchPage,
    keys: Collection[str],
    *,
    budget: int,
    size: int = SNAPSHOT_PAGE_SIZE,
    attempts: int = MAX_SNAPSHOT_ATTEMPTS,
) -> Snapshot:
    """Count the window's records per reconcile key in at most ``budget`` reads.

    Raises :class:`SnapshotAbandoned` when the first page shows that more
    reads would be needed, when the budget runs out, or when the list kept
    changing under ``attempts`` attempts. Errors of ``fetch`` propagate.
    """
    if size < 2:
        raise ValueError("a snapshot page holds at least 2 records")
    reads = 0
    why = "nothing was read"
    for _ in range(attempts):
        ids: list[int] = []
        counts: Counter[str] = Counter()
        total = 0
        restart: str | None = None
        while not ids or len(ids) < total:
            try:
                page, z = next_read(len(ids), size)
            except ValueError as exc:  # only with tiny pages: a server capping them
                raise SnapshotAbandoned(str(exc), reads) from None
            if reads >= budget:
                raise _over_budget(budget, total, reads)
            got = await fetch(page, z)
            reads += 1
            total = got.total_items
            offset = (page - 1) * z
            expected = max(0, min(z, total - offset))
            if len(got.records) != expected:
                restart = f"page {page} of {z} held {len(got.records)} records, not {expected}"
                if offset == 0 and 2 <= len(got.records) < expected:
                    size = len(got.records)  # the server caps the page size: follow it
                    restart += f" (the server caps pages: reading {size} at a time)"
                break
            overlap = len(ids) - offset
            if [rid for rid, _ in got.records[:overlap]] != ids[offset:]:
                restart = "the list changed while it was read"
                break
            for rid, key in got.records[overlap:]:
                ids.append(rid)
                counts[key_text(key)] += 1
            if offset == 0 and reads_needed(total, size) + reads - 1 > budget:
                raise _too_big(budget, total, size, reads)
            if total == 0:
                break
        if restart is None:
            wanted = set(keys)
            counted = {k: n for k, n in counts.items() if k in wanted}
            return Snapshot(counts=counted, reads=reads, records=len(ids))
        why = restart
    raise SnapshotAbandoned(f"the list could not be read exactly ({why})", reads)
