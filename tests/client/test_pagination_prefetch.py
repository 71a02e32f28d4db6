"""Prefetching pagination ends where the sequential one does: an empty page, a shrunk list."""

from __future__ import annotations

import asyncio

import pytest

from nexudus_async import ItemIterator

from .test_pagination import FakeList, pages


@pytest.mark.parametrize("prefetch", [2, 3, 8])
async def test_an_empty_page_mid_iteration_ends_a_prefetching_loop(prefetch: int) -> None:
    src = FakeList(100)
    src.empty_from = 3
    async with asyncio.timeout(5):
        got = [p.page_number async for p in pages(src, prefetch=prefetch)]
    assert got == [1, 2]
    assert await ItemIterator(pages(FakeList(100), prefetch=prefetch)).collect() == list(
        range(1, 101)
    )
    src = FakeList(100)
    src.empty_from = 3
    assert await ItemIterator(pages(src, prefetch=prefetch)).collect() == list(range(1, 21))


@pytest.mark.parametrize("prefetch", [2, 3, 8])
async def test_a_list_that_shrank_to_the_current_page_ends_a_prefetching_loop(
    prefetch: int,
) -> None:
    src = FakeList(100)
    src.total_pages_override = {2: 2}
    async with asyncio.timeout(5):
        got = [p.page_number async for p in pages(src, prefetch=prefetch)]
    assert got == [1, 2]
    assert src.in_flight == 0  # the pages prefetched past the end were cancelled


@pytest.mark.parametrize("prefetch", [1, 2, 3, 8])
async def test_a_list_that_shrank_but_has_pages_left_is_read_to_its_new_end(
    prefetch: int,
) -> None:
    src = FakeList(100)  # ten pages of ten, then page 2 says there are four
    src.total_pages_override = {2: 4}
    async with asyncio.timeout(5):
        got = [p.page_number async for p in pages(src, prefetch=prefetch)]
    assert got == [1, 2, 3, 4]
