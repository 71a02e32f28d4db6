"""Reading the baseline snapshot exactly: overlapping pages, a shifting list, capped pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from nexudus_async.bulk.snapshot import (
    KeyedPage,
    SnapshotAbandoned,
    key_text,
    next_read,
    reads_needed,
    take_snapshot,
)


@pytest.mark.parametrize("size", [10, 37, 1000])
def test_every_read_overlaps_the_last_and_moves_on(size: int) -> None:
    for covered in range(1, 40 * size, max(1, size // 7)):
        page, z = next_read(covered, size)
        offset = (page - 1) * z
        assert 2 <= z <= size
        assert offset <= covered - 1  # at least one record read before
        assert offset + z > covered  # and at least one new one


def test_tiny_pages_can_get_stuck_and_say_so() -> None:
    with pytest.raises(ValueError, match="no page of at most 3"):
        next_read(6, 3)


def test_reads_needed() -> None:
    assert next_read(0, 1000) == (1, 1000)
    assert [reads_needed(n, 1000) for n in (0, 1, 1000, 1001, 1998, 1999, 2994, 2995)] == [
        1,
        1,
        1,
        2,
        2,
        3,
        3,
        4,
    ]


class FakeList:
    """A list of (Id, key) records, read by page and size; it may change between reads."""

    def __init__(self, records: list[tuple[int, tuple[int, int]]], cap: int | None = None) -> None:
        self.records = records
        self.cap = cap
        self.reads = 0
        self.between: Callable[[int], None] | None = None

    async def fetch(self, page: int, size: int) -> KeyedPage:
        if self.between is not None:
            self.between(self.reads)
        self.reads += 1
        size = min(size, self.cap) if self.cap else size
        return KeyedPage(len(self.records), self.records[(page - 1) * size : page * size])


def records(n: int) -> list[tuple[int, tuple[int, int]]]:
    return [(i, (i % 7, i % 2)) for i in range(1, n + 1)]


def truth(recs: list[tuple[int, tuple[int, int]]]) -> dict[str, int]:
    return dict(Counter(key_text(k) for _, k in recs))


ALL_KEYS = {key_text((c, tp)) for c in range(7) for tp in range(2)}


async def test_a_still_list_is_counted_exactly_and_only_for_the_jobs_keys() -> None:
    recs = records(2500)
    lst = FakeList(recs)
    snap = await take_snapshot(lst.fetch, ALL_KEYS, budget=10, size=1000)
    assert snap.counts == truth(recs)
    assert snap.reads == lst.reads == 3 == reads_needed(2500, 1000)
    assert snap.records == 2500
    some = {key_text((1, 1)), key_text((99, 1))}
    snap = await take_snapshot(FakeList(recs).fetch, some, budget=10, size=1000)
    assert snap.counts == {key_text((1, 1)): truth(recs)[key_text((1, 1))]}


async def test_an_empty_window_is_one_read() -> None:
    lst = FakeList([])
    snap = await take_snapshot(lst.fetch, ALL_KEYS, budget=1, size=1000)
    assert (snap.counts, snap.reads, snap.records) == ({}, 1, 0)


async def test_a_deletion_in_the_part_already_read_is_seen_and_the_snapshot_retaken() -> None:
    recs = records(250)
    lst = FakeList(list(recs))

    def delete_one_after_the_first_read(reads: int) -> None:
        if reads == 1:
            del lst.records[10]  # shifts every later record by one

    lst.between = delete_one_after_the_first_read
    snap = await take_snapshot(lst.fetch, ALL_KEYS, budget=20, size=100)
    assert snap.counts == truth(lst.records)  # the list as it is now, nothing missed
    assert lst.reads > reads_needed(250, 100)


async def test_records_created_while_reading_do_not_disturb_it() -> None:
    lst = FakeList(records(250))

    def append(reads: int) -> None:
        lst.records.append((1000 + reads, (0, 0)))

    lst.between = append
    snap = await take_snapshot(lst.fetch, ALL_KEYS, budget=20, size=100)
    assert snap.counts == truth(lst.records)
    assert lst.reads == 3


async def test_a_list_that_keeps_changing_abandons_the_snapshot() -> None:
    lst = FakeList(records(250))

    def delete_first(reads: int) -> None:
        if reads % 3 == 1:
            del lst.records[0]

    lst.between = delete_first
    with pytest.raises(SnapshotAbandoned, match="could not be read exactly"):
        await take_snapshot(lst.fetch, ALL_KEYS, budget=100, size=100)


async def test_a_server_capping_the_page_size_is_followed() -> None:
    recs = records(95)
    lst = FakeList(recs, cap=20)
    snap = await take_snapshot(lst.fetch, ALL_KEYS, budget=20, size=100)
    assert snap.counts == truth(recs)


async def test_the_budget_is_checked_on_the_first_page() -> None:
    lst = FakeList(records(3001))
    with pytest.raises(SnapshotAbandoned, match="would take 4 list requests") as info:
        await take_snapshot(lst.fetch, ALL_KEYS, budget=3, size=1000)
    assert info.value.reads == lst.reads == 1
    snap = await take_snapshot(FakeList(records(3001)).fetch, ALL_KEYS, budget=4, size=1000)
    assert snap.reads == 4
