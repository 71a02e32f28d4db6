"""Pagination: TotalPages, max_items, concurrent prefetch in order, clean early exits."""

from __future__ import annotations

import asyncio
import gc

import pytest

from nexudus_async import ItemIterator, Page, PageIterator, SortDirection


class FakeList:
    """A list of ``total`` records served in pages; records what was fetched."""

    def __init__(self, total: int, *, delays: dict[int, float] | None = None) -> None:
        self.total = total
        self.delays = delays or {}
        self.fetched: list[tuple[int, int]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.cancelled: list[int] = []
        self.fail_on: int | None = None
        self.total_pages_override: dict[int, int] = {}
        self.empty_from: int | None = None

    async def fetch(self, number: int, size: int) -> Page[int]:
        self.fetched.append((number, size))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delays.get(number, 0))
        except asyncio.CancelledError:
            self.cancelled.append(number)
            raise
        finally:
            self.in_flight -= 1
        if self.fail_on == number:
            raise RuntimeError(f"page {number} failed")
        start = (number - 1) * size
        items = list(range(start + 1, min(start + size, self.total) + 1))
        if self.empty_from is not None and number >= self.empty_from:
            items = []
        pages = -(-self.total // size)
        return Page(items, number, size, self.total, self.total_pages_override.get(number, pages))


def pages(src: FakeList, **kw: int | None) -> PageIterator[int]:
    opts: dict[str, int | None] = {"size": 10, "max_items": None, "prefetch": 1} | kw
    return PageIterator(
        src.fetch,
        size=opts["size"] or 10,
        max_items=opts["max_items"],
        prefetch=opts["prefetch"] or 1,
    )


async def test_iterates_every_page_in_order_ending_on_total_pages() -> None:
    src = FakeList(25)
    async with asyncio.timeout(5):
        got = await ItemIterator(pages(src)).collect()
    assert got == list(range(1, 26))
    assert src.fetched == [(1, 10), (2, 10), (3, 10)]


async def test_empty_list_fetches_one_page() -> None:
    src = FakeList(0)
    assert await ItemIterator(pages(src)).collect() == []
    assert src.fetched == [(1, 10)]


async def test_max_items_fetches_no_extra_page() -> None:
    src = FakeList(100)
    assert await ItemIterator(pages(src, max_items=25)).collect() == list(range(1, 26))
    assert src.fetched == [(1, 10), (2, 10), (3, 10)]


async def test_max_items_below_size_shrinks_the_page() -> None:
    src = FakeList(100)
    assert await ItemIterator(pages(src, max_items=4, size=100)).collect() == [1, 2, 3, 4]
    assert src.fetched == [(1, 4)]


async def test_max_items_zero_fetches_nothing() -> None:
    src = FakeList(100)
    assert await ItemIterator(pages(src, max_items=0)).collect() == []
    assert src.fetched == []


async def test_an_empty_page_before_total_pages_ends_the_loop() -> None:
    src = FakeList(100)
    src.empty_from = 3
    assert len(await ItemIterator(pages(src)).collect()) == 20


async def test_a_shrinking_list_ends_early() -> None:
    src = FakeList(100)
    src.total_pages_override = {2: 2}
    got = [p.page_number async for p in pages(src)]
    assert got == [1, 2]


@pytest.mark.parametrize("prefetch", [2, 4, 16])
async def test_prefetch_fetches_concurrently_and_yields_in_order(prefetch: int) -> None:
    # Later pages answer first: order must still hold.
    src = FakeList(95, delays={n: 0.001 * (12 - n) for n in range(1, 11)})
    async with asyncio.timeout(5):
        got = await ItemIterator(pages(src, prefetch=prefetch)).collect()
    assert got == list(range(1, 96))
    assert sorted(n for n, _ in src.fetched) == list(range(1, 11))
    assert src.max_in_flight == min(prefetch, 9)


async def test_prefetch_respects_max_items() -> None:
    src = FakeList(1000)
    async with asyncio.timeout(5):
        got = await ItemIterator(pages(src, prefetch=8, max_items=35)).collect()
    assert got == list(range(1, 36))
    assert sorted(n for n, _ in src.fetched) == [1, 2, 3, 4]


async def test_breaking_early_cancels_fetches_in_flight() -> None:
    src = FakeList(1000, delays={n: 10.0 for n in range(3, 101)})
    async with asyncio.timeout(5):
        async with ItemIterator(pages(src, prefetch=5)) as items:
            async for item in items:
                if item == 15:
                    break
    assert sorted(src.cancelled) == [3, 4, 5, 6]
    assert src.in_flight == 0


async def test_an_abandoned_iterator_cleans_up_when_collected() -> None:
    src = FakeList(1000, delays={n: 10.0 for n in range(3, 101)})
    it = ItemIterator(pages(src, prefetch=3))
    async with asyncio.timeout(5):
        async for item in it:
            if item == 12:
                break
        del it
        gc.collect()
        for _ in range(1000):
            if not src.in_flight:
                break
            await asyncio.sleep(0.001)
    assert sorted(src.cancelled) == [3, 4]


async def test_a_failed_page_raises_in_order_and_cancels_the_rest() -> None:
    src = FakeList(1000, delays={n: 0.0 if n <= 3 else 10.0 for n in range(1, 101)})
    src.fail_on = 3
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="page 3 failed"):
        async with asyncio.timeout(5):
            async for item in ItemIterator(pages(src, prefetch=4)):
                seen.append(item)
    assert seen == list(range(1, 21))
    assert src.in_flight == 0
    assert sorted(src.cancelled) == [4, 5]


def test_page_says_where_the_next_page_is() -> None:
    first = Page([1, 2], page_number=1, page_size=2, total_items=5, total_pages=3)
    last = Page([5], page_number=3, page_size=2, total_items=5, total_pages=3)
    assert (first.has_next, first.next_page_number, list(first), len(first)) == (True, 2, [1, 2], 2)
    assert (last.has_next, last.next_page_number) == (False, None)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ascending", SortDirection.ASCENDING),
        ("Ascending", SortDirection.ASCENDING),
        (1, SortDirection.ASCENDING),
        ("1", SortDirection.ASCENDING),
        ("desc", SortDirection.DESCENDING),
        (2, SortDirection.DESCENDING),
        (SortDirection.DESCENDING, SortDirection.DESCENDING),
    ],
)
def test_sort_direction_accepts_both_wire_forms(given: str | int, expected: SortDirection) -> None:
    assert SortDirection.parse(given) is expected
    assert expected.number == (1 if expected is SortDirection.ASCENDING else 2)


@pytest.mark.parametrize("bad", [0, 3, True, "up", None])
def test_sort_direction_refuses_other_values(bad: object) -> None:
    with pytest.raises(ValueError):
        SortDirection.parse(bad)  # type: ignore[arg-type]
