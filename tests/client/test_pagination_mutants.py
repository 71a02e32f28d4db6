"""Pagination: the refusals and arguments the edge tests leave one line short of."""

from __future__ import annotations

import pytest

from nexudus_async import FieldError, InputError, ItemIterator, Page, PageIterator, ValidationError
from nexudus_async._core.pagination import refused_size

from .test_pagination import FakeList


def test_a_maximum_split_between_the_api_message_and_the_field_message_is_read() -> None:
    """The API's message and the size field's are read as one sentence, a space between."""
    exc = ValidationError(
        "rejected",
        status=400,
        api_message="The page size must be at most",
        errors=[FieldError("size", "50 for this account", None)],
    )
    assert refused_size(exc, 1000) == 50


def test_the_iterator_checks_max_items_itself() -> None:
    src = FakeList(5)
    with pytest.raises(InputError) as caught:
        PageIterator(src.fetch, size=10, max_items=-1, prefetch=1)
    assert str(caught.value) == "invalid max_items=-1: must be None or an integer of at least 0"
    assert src.fetched == []


async def test_a_refusal_not_about_size_is_raised_without_asking_again() -> None:
    """Asked again, the list would have answered: the error raised is the first answer's."""
    original = ValidationError(
        "rejected",
        status=400,
        api_message="Coworker: not a number",
        errors=[FieldError("Coworker", "not a number", None)],
    )
    fetched: list[tuple[int, int]] = []

    async def fetch(number: int, size: int) -> Page[int]:
        fetched.append((number, size))
        if len(fetched) == 1:
            raise original
        return Page([1, 2], number, size, 2, 1)

    with pytest.raises(ValidationError) as caught:
        await ItemIterator(PageIterator(fetch, size=10, max_items=None, prefetch=1)).collect()
    assert caught.value is original
    assert fetched == [(1, 10)]


class OnceList(FakeList):
    """Refuses to serve a page twice: a loop that asks again fails at once instead of spinning."""

    async def fetch(self, number: int, size: int) -> Page[int]:
        if (number, size) in self.fetched:
            raise RuntimeError(f"page {number} asked twice")
        return await super().fetch(number, size)


@pytest.mark.parametrize("prefetch", [1, 2])
async def test_each_page_is_asked_once_in_order(prefetch: int) -> None:
    src = OnceList(35)
    it = PageIterator(src.fetch, size=10, max_items=None, prefetch=prefetch)
    assert await ItemIterator(it).collect() == list(range(1, 36))
    assert src.fetched == [(1, 10), (2, 10), (3, 10), (4, 10)]
