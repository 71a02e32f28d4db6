"""Pagination at its edges: argument errors word for word, page counts, sizes refused or capped."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nexudus_async import (
    FieldError,
    InputError,
    ItemIterator,
    Page,
    PageIterator,
    SortDirection,
    ValidationError,
)
from nexudus_async._core.pagination import check_paging, refused_size, served_size

from .test_pagination import FakeList, pages

GOOD: dict[str, Any] = {"size": 10, "max_items": None, "prefetch": 1}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("page", 0, "must be an integer of at least 1"),
        ("page", True, "must be an integer of at least 1"),
        ("page", "2", "must be an integer of at least 1"),
        ("size", 0, "must be an integer of at least 1"),
        ("size", False, "must be an integer of at least 1"),
        ("size", 2.0, "must be an integer of at least 1"),
        ("max_items", -1, "must be None or an integer of at least 0"),
        ("max_items", True, "must be None or an integer of at least 0"),
        ("max_items", 3.0, "must be None or an integer of at least 0"),
        ("prefetch", 0, "must be an integer of at least 1"),
        ("prefetch", True, "must be an integer of at least 1"),
        ("prefetch", "4", "must be an integer of at least 1"),
    ],
)
def test_a_bad_paging_argument_is_named_with_its_value_and_rule(
    field: str, value: object, reason: str
) -> None:
    with pytest.raises(InputError) as caught:
        check_paging(**(GOOD | {field: value}))
    assert str(caught.value) == f"invalid {field}={value!r}: {reason}"
    assert caught.value.field == field
    assert caught.value.value is value


def test_the_smallest_accepted_paging_arguments_pass() -> None:
    check_paging(size=1, max_items=0, prefetch=1, page=1)
    check_paging(size=1000, max_items=None, prefetch=1, page=None, max_size=1000)


def test_a_size_above_the_maximum_names_the_maximum() -> None:
    with pytest.raises(InputError) as caught:
        check_paging(size=1001, max_items=None, prefetch=1, max_size=1000)
    assert str(caught.value) == "invalid size=1001: must be at most 1000 (the API's largest page)"
    assert (caught.value.field, caught.value.value) == ("size", 1001)


def test_the_iterator_checks_its_arguments_before_fetching() -> None:
    src = FakeList(5)
    with pytest.raises(InputError, match=r"^invalid size=11: must be at most 10 \(the API"):
        PageIterator(src.fetch, size=11, max_items=None, prefetch=1, max_size=10)
    assert src.fetched == []


@pytest.mark.parametrize("prefetch", [1, 3])
async def test_pages_fetched_counts_each_request(prefetch: int) -> None:
    src = FakeList(25)
    it = pages(src, prefetch=prefetch)
    assert it.pages_fetched == 0
    async with asyncio.timeout(5):
        numbers = [p.page_number async for p in it]
    assert numbers == [1, 2, 3]
    assert it.pages_fetched == 3 == len(src.fetched)


async def test_the_item_iterator_reports_the_pages_it_fetched() -> None:
    src = FakeList(25)
    items = ItemIterator(pages(src, max_items=15))
    assert items.pages_fetched == 0
    async with asyncio.timeout(5):
        assert await items.collect() == list(range(1, 16))
    assert items.pages_fetched == 2
    assert src.fetched == [(1, 10), (2, 10)]


@pytest.mark.parametrize("prefetch", [1, 3])
async def test_max_items_equal_to_a_page_fetches_that_page_only(prefetch: int) -> None:
    src = FakeList(25)
    async with asyncio.timeout(5):
        got = [p async for p in pages(src, max_items=10, prefetch=prefetch)]
    assert [list(p.items) for p in got] == [list(range(1, 11))]
    assert src.fetched == [(1, 10)]


@pytest.mark.parametrize("prefetch", [1, 3])
async def test_max_items_one_past_a_page_trims_the_next_page_to_one(prefetch: int) -> None:
    src = FakeList(25)
    async with asyncio.timeout(5):
        got = [p async for p in pages(src, max_items=11, prefetch=prefetch)]
    assert [list(p.items) for p in got] == [list(range(1, 11)), [11]]
    assert [(p.page_number, p.total_items, p.total_pages) for p in got] == [(1, 25, 3), (2, 25, 3)]
    assert src.fetched == [(1, 10), (2, 10)]


async def test_max_items_as_large_as_the_list_trims_nothing() -> None:
    src = FakeList(25)
    async with asyncio.timeout(5):
        got = [list(p.items) async for p in pages(src, max_items=25)]
    assert got == [list(range(1, 11)), list(range(11, 21)), list(range(21, 26))]


async def test_max_items_below_the_size_asks_for_that_many() -> None:
    src = FakeList(25)
    async with asyncio.timeout(5):
        assert await ItemIterator(pages(src, max_items=3)).collect() == [1, 2, 3]
    assert src.fetched == [(1, 3)]


@pytest.mark.parametrize("prefetch", [1, 3])
async def test_an_empty_first_page_ends_the_list_whatever_total_pages_says(prefetch: int) -> None:
    fetched: list[int] = []

    async def fetch(number: int, size: int) -> Page[int]:
        fetched.append(number)
        return Page([], number, size, 30, 3)  # emptied since TotalPages was counted

    async with asyncio.timeout(5):
        got = [p async for p in PageIterator(fetch, size=10, max_items=None, prefetch=prefetch)]
    assert [(list(p.items), p.page_number) for p in got] == [([], 1)]
    assert fetched == [1]


async def test_max_items_one_asks_for_one_record() -> None:
    src = FakeList(25)
    async with asyncio.timeout(5):
        assert await ItemIterator(pages(src, max_items=1)).collect() == [1]
    assert src.fetched == [(1, 1)]


async def test_a_single_page_list_is_one_request_even_with_prefetch() -> None:
    src = FakeList(10)
    async with asyncio.timeout(5):
        got = [list(p.items) async for p in pages(src, prefetch=4)]
    assert got == [list(range(1, 11))]
    assert src.fetched == [(1, 10)]


async def test_prefetch_keeps_exactly_prefetch_pages_in_flight() -> None:
    # Each page waits on an event the test sets, so what is in flight is counted, not timed.
    gates = {n: asyncio.Event() for n in range(2, 8)}
    started: list[int] = []

    async def fetch(number: int, size: int) -> Page[int]:
        if number > 1:
            started.append(number)
            await gates[number].wait()
        return Page([number], number, size, 7, 7)

    it = PageIterator(fetch, size=1, max_items=None, prefetch=3, max_size=None)
    async with asyncio.timeout(5):
        assert (await it.__anext__()).page_number == 1
        second = asyncio.ensure_future(it.__anext__())
        for _ in range(5):
            await asyncio.sleep(0)
        assert started == [2, 3, 4]
        gates[2].set()
        assert (await second).page_number == 2
        third = asyncio.ensure_future(it.__anext__())
        for _ in range(5):
            await asyncio.sleep(0)
        assert started == [2, 3, 4, 5]
        for gate in gates.values():
            gate.set()
        assert (await third).page_number == 3
        assert [p.page_number async for p in it] == [4, 5, 6, 7]
    assert started == [2, 3, 4, 5, 6, 7]


def refusal(message: str, prop: str | None = "size") -> ValidationError:
    errors = [] if prop is None else [FieldError(prop, message, None)]
    return ValidationError("rejected", status=400, api_message=message, errors=errors)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("must be at most 200", 200),
        ("the maximum of 300 applies", 300),
        ("The Maximum is 400", 400),
        ("maximum 250", 250),
        ("must be less than or equal to 999", 999),
        ("must be less than or equal to 1000", 100),  # not below what was asked
        ("must be less than or equal to 0", 100),
        ("must be less than or equal to 1", 1),
    ],
)
def test_a_refused_size_takes_the_maximum_named_below_the_size_asked(
    message: str, expected: int
) -> None:
    assert refused_size(refusal(message), 1000) == expected


def test_a_refused_size_reads_the_field_error_when_the_api_message_is_generic() -> None:
    exc = ValidationError(
        "rejected",
        status=400,
        api_message="The request is invalid",
        errors=[FieldError("Size", "must be at most 40", None)],
    )
    assert refused_size(exc, 1000) == 40


def test_a_refused_size_with_only_the_api_message_naming_size() -> None:
    assert refused_size(refusal("Page SIZE must be at most 60", None), 1000) == 60
    assert refused_size(refusal("Page Size too large", None), 1000) == 100
    assert refused_size(refusal("Something else", None), 1000) is None


def test_a_refusal_with_no_message_at_all_is_not_about_size() -> None:
    exc = ValidationError("rejected", status=400, api_message=None, errors=[])
    assert refused_size(exc, 1000) is None


def test_a_refused_size_falls_back_below_the_size_asked() -> None:
    assert refused_size(refusal("too big"), 101) == 100
    assert refused_size(refusal("too big"), 26) == 25
    assert refused_size(refusal("too big"), 24) is None


@pytest.mark.parametrize(
    ("held", "asked", "total", "expected"),
    [
        (30, 100, 100, 30),  # capped silently
        (30, 100, 30, 100),  # the whole list
        (30, 100, 31, 30),
        (0, 100, 100, 100),  # an empty page says nothing
        (100, 100, 500, 100),
        (99, 100, 500, 99),
        (1, 100, 500, 1),
    ],
)
def test_the_size_served_shows_a_silent_cap(
    held: int, asked: int, total: int, expected: int
) -> None:
    page = Page(list(range(held)), 1, asked, total, 1)
    assert served_size(page, asked) == expected


class RefusingList(FakeList):
    """Refuses a page size above ``maximum`` the way an account does (400 naming it)."""

    def __init__(self, total: int, maximum: int, message: str) -> None:
        super().__init__(total)
        self.maximum = maximum
        self.message = message

    async def fetch(self, number: int, size: int) -> Page[int]:
        if size > self.maximum:
            self.fetched.append((number, size))
            raise refusal(self.message)
        return await super().fetch(number, size)


async def test_a_refused_size_is_retried_smaller_and_kept_for_later_pages() -> None:
    src = RefusingList(12, 5, "size must be at most 5")
    sizes: list[int] = []
    it = PageIterator(src.fetch, size=10, max_items=None, prefetch=1, on_size=sizes.append)
    async with asyncio.timeout(5):
        assert await ItemIterator(it).collect() == list(range(1, 13))
    assert src.fetched == [(1, 10), (1, 5), (2, 5), (3, 5)]
    assert sizes == [5]
    assert it.pages_fetched == 4


async def test_a_refusal_not_about_size_is_raised_as_it_is() -> None:
    original = refusal("Coworker: not a number", "Coworker")
    fetched: list[tuple[int, int]] = []

    async def fetch(number: int, size: int) -> Page[int]:
        fetched.append((number, size))
        raise original

    with pytest.raises(ValidationError) as caught:
        await ItemIterator(PageIterator(fetch, size=10, max_items=None, prefetch=1)).collect()
    assert caught.value is original
    assert fetched == [(1, 10)]


async def test_the_size_callback_is_not_called_when_the_size_asked_is_served() -> None:
    src = FakeList(25)
    sizes: list[int] = []
    it = PageIterator(src.fetch, size=10, max_items=None, prefetch=1, on_size=sizes.append)
    async with asyncio.timeout(5):
        assert len(await ItemIterator(it).collect()) == 25
    assert sizes == []


class CappingList(FakeList):
    """Serves at most ``cap`` records a page whatever the size asked, counting pages at the
    size asked (what some accounts do)."""

    def __init__(self, total: int, cap: int) -> None:
        super().__init__(total)
        self.cap = cap

    async def fetch(self, number: int, size: int) -> Page[int]:
        self.fetched.append((number, size))
        served = min(size, self.cap)
        start = (number - 1) * served
        items = list(range(start + 1, min(start + served, self.total) + 1))
        return Page(items, number, size, self.total, -(-self.total // size))


@pytest.mark.parametrize("prefetch", [1, 2])
async def test_a_silent_cap_reads_every_page_at_the_served_size(prefetch: int) -> None:
    src = CappingList(10, 3)
    sizes: list[int] = []
    it = PageIterator(src.fetch, size=100, max_items=None, prefetch=prefetch, on_size=sizes.append)
    async with asyncio.timeout(5):
        got = [list(p.items) async for p in it]
    assert got == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]
    assert src.fetched == [(1, 100), (2, 3), (3, 3), (4, 3)]
    assert sizes == [3]


async def test_a_silent_cap_with_max_items_counts_pages_at_the_served_size() -> None:
    src = CappingList(20, 3)
    it = PageIterator(src.fetch, size=100, max_items=7, prefetch=1)
    async with asyncio.timeout(5):
        assert await ItemIterator(it).collect() == [1, 2, 3, 4, 5, 6, 7]
    assert src.fetched == [(1, 7), (2, 3), (3, 3)]


async def test_closing_an_item_iterator_closes_its_pages() -> None:
    src = FakeList(30)
    it = pages(src)
    items = ItemIterator(it)
    async with asyncio.timeout(5), items as open_items:
        assert await open_items.__anext__() == 1
    with pytest.raises(StopAsyncIteration):
        await it.__anext__()
    assert src.fetched == [(1, 10)]


async def test_closing_a_page_iterator_as_a_context_manager_stops_it() -> None:
    src = FakeList(30)
    async with asyncio.timeout(5):
        async with pages(src) as it:
            assert it.__aiter__() is it
            assert (await it.__anext__()).page_number == 1
        with pytest.raises(StopAsyncIteration):
            await it.__anext__()
    assert src.fetched == [(1, 10)]


def test_sort_direction_numbers_and_spellings() -> None:
    assert SortDirection.ASCENDING.number == 1
    assert SortDirection.DESCENDING.number == 2
    assert SortDirection.parse(" ASC ") is SortDirection.ASCENDING
    assert SortDirection.parse("Descending") is SortDirection.DESCENDING
    assert SortDirection.parse("1") is SortDirection.ASCENDING
    assert SortDirection.parse("2") is SortDirection.DESCENDING
    assert SortDirection.parse(1) is SortDirection.ASCENDING
    for bad in (True, False, 0, 3, 1.0, "3", "up", None):
        with pytest.raises(ValueError, match="is not a valid SortDirection"):
            SortDirection.parse(bad)  # type: ignore[arg-type]


def test_a_page_is_its_items() -> None:
    page = Page([7, 8], 2, 2, 5, 3)
    assert list(page) == [7, 8]
    assert len(page) == 2
    assert (page.has_next, page.next_page_number) == (True, 3)
    last = Page([9], 3, 2, 5, 3)
    assert (last.has_next, last.next_page_number) == (False, None)
    assert Page([1], 1, 2, 1, 1, raw={"x": 1}) == Page([1], 1, 2, 1, 1)
    assert "raw" not in repr(Page([1], 1, 2, 1, 1, raw={"secret": 1}))
