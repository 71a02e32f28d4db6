"""Pagination as properties: any list, page size, prefetch and max_items; a list that changes.

The iterators are driven by a fake list (no server): each fetch answers what the
list holds at that page's offset at the moment of the fetch, as the API does.
"""

from __future__ import annotations

import asyncio
import math

from hypothesis import example, given, strategies as st

from nexudus_async import ItemIterator, Page, PageIterator

Change = tuple[str, int]  # ("add" | "delete", position)


class LiveList:
    """Records 1..total; ``changes[i]`` is applied just before the i-th fetch answers."""

    def __init__(self, total: int, changes: list[Change | None] | None = None) -> None:
        self.records = list(range(1, total + 1))
        self.next_id = total + 1
        self.changes = list(changes or [])
        self.fetched: list[int] = []
        self.answers: dict[int, Page[int]] = {}

    def _change(self) -> None:
        change = self.changes.pop(0) if self.changes else None
        if change is None:
            return
        kind, position = change
        if kind == "add":
            self.records.insert(position % (len(self.records) + 1), self.next_id)
            self.next_id += 1
        elif self.records:
            del self.records[position % len(self.records)]

    async def fetch(self, number: int, size: int) -> Page[int]:
        self.fetched.append(number)
        self._change()
        start = (number - 1) * size
        total = len(self.records)
        page = Page(self.records[start : start + size], number, size, total, -(-total // size))
        self.answers[number] = page
        await asyncio.sleep(0)  # the other fetches in flight run meanwhile
        return page


def pages_of(src: LiveList, size: int, prefetch: int, max_items: int | None) -> list[Page[int]]:
    async def run() -> list[Page[int]]:
        it = PageIterator(src.fetch, size=size, max_items=max_items, prefetch=prefetch)
        async with asyncio.timeout(10), it:
            return [page async for page in it]

    return asyncio.run(run())


def documented(src: LiveList, size: int, max_items: int | None) -> list[list[int]]:
    """What PageIterator's docstring says it yields, given the answers each page got."""
    out: list[list[int]] = []
    last = math.inf if max_items is None else math.ceil(max_items / size)
    taken = 0
    number = 1
    while True:
        page = src.answers[number]
        if number > 1 and not page.items:
            break
        items = list(page.items)
        if max_items is not None:
            items = items[: max_items - taken]
        taken += len(items)
        out.append(items)
        last = min(last, page.total_pages)
        if number >= last or not page.items:
            break
        number += 1
    return out


sizes = st.integers(min_value=1, max_value=12)
prefetches = st.integers(min_value=1, max_value=5)


@given(
    total=st.integers(min_value=0, max_value=60),
    size=sizes,
    prefetch=prefetches,
    max_items=st.none() | st.integers(min_value=0, max_value=70),
)
@example(total=0, size=5, prefetch=3, max_items=None)
@example(total=10, size=5, prefetch=3, max_items=5)
def test_every_record_once_in_order_with_no_request_beyond_the_pages_needed(
    total: int, size: int, prefetch: int, max_items: int | None
) -> None:
    src = LiveList(total)
    got = [item for page in pages_of(src, size, prefetch, max_items) for item in page.items]
    wanted = total if max_items is None else min(total, max_items)
    assert got == list(range(1, wanted + 1))
    # One page is enough when it holds all that is wanted: the page shrinks to max_items.
    per_page = min(size, max_items) if max_items else size
    needed = 0 if max_items == 0 else max(1, math.ceil(wanted / per_page))
    assert sorted(src.fetched) == list(range(1, needed + 1))


changes = st.lists(
    st.none() | st.tuples(st.sampled_from(["add", "delete"]), st.integers(0, 100)), max_size=12
)


@given(total=st.integers(0, 40), size=sizes, prefetch=prefetches, changes=changes)
@example(total=25, size=5, prefetch=3, changes=[None, ("delete", 0)] + [("delete", 0)] * 7)
# found: prefetching stopped at the first page that reported fewer pages (one record
# deleted anywhere), leaving out the pages the shrunk list still had (5 to 9 here)
@example(total=9, size=2, prefetch=2, changes=[None, ("delete", 5)])
def test_a_list_changing_during_the_iteration_gives_what_the_docstring_says(
    total: int, size: int, prefetch: int, changes: list[Change | None]
) -> None:
    src = LiveList(total, changes)
    got = [list(page.items) for page in pages_of(src, size, prefetch, None)]
    assert got == documented(src, size, None)
    first_pages = src.answers[1].total_pages
    assert len(set(src.fetched)) == len(src.fetched)  # no page asked twice
    assert max(src.fetched) <= max(first_pages, 1)  # never past the first page's TotalPages


async def test_items_of_a_changing_list_follow_the_pages() -> None:
    src = LiveList(12, [None, ("add", 0)])
    pages = PageIterator(src.fetch, size=5, max_items=None, prefetch=1)
    items = await ItemIterator(pages).collect()
    # a record added at the front shifts record 5 onto page 2: yielded twice
    assert items == [1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10, 11, 12]
