"""Lists, page by page: the page class, sort direction, and the lazy page and item iterators.

The API pages with ``page`` (1-based) and ``size`` and answers ``TotalPages``
with every page. Iteration ends on ``TotalPages`` (never on ``HasNextPage``,
which the live API has been seen to get wrong) or on an empty page, so it
always terminates. ``max_items`` stops without fetching pages it does not
need. With ``prefetch=N`` (N > 1), once the first page has told how many
pages there are, up to N further pages are fetched concurrently (still
through the client's rate limiter) and still yielded in order; leaving the
loop early cancels the fetches still in flight.

Iterators close themselves when garbage collected; to release in-flight
fetches at a precise point, use them as async context managers::

    async with client.coworker_time_passes.iter(prefetch=4) as passes:
        async for tp in passes:
            if done(tp):
                break
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from enum import StrEnum
from types import TracebackType
from typing import Any, Generic, TypeVar

import attrs

from .errors import InputError, ValidationError

__all__ = ["ItemIterator", "Page", "PageIterator", "SortDirection"]

T = TypeVar("T")


class SortDirection(StrEnum):
    """The order of a list.

    The API's reference page spells it ``ascending``/``descending`` (what the
    client sends by default); other documentation versions use ``1``/``2``.
    Both forms are accepted: ``SortDirection(2)``, ``SortDirection("Desc")``
    and ``SortDirection("descending")`` are all :attr:`DESCENDING`.
    """

    ASCENDING = "ascending"
    DESCENDING = "descending"

    @classmethod
    def parse(cls, value: SortDirection | str | int) -> SortDirection:
        """The direction for any accepted spelling; ValueError for anything else."""
        return cls(value)  # type: ignore[arg-type]  # ints are handled by _missing_

    @property
    def number(self) -> int:
        """The numeric wire form: 1 ascending, 2 descending."""
        return 1 if self is SortDirection.ASCENDING else 2

    @classmethod
    def _missing_(cls, value: object) -> SortDirection | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return {1: cls.ASCENDING, 2: cls.DESCENDING}.get(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("1", "asc", "ascending"):
                return cls.ASCENDING
            if text in ("2", "desc", "descending"):
                return cls.DESCENDING
        return None


@attrs.frozen(slots=True, init=False)
class Page(Generic[T]):
    """One page of a list: its items, and where the next page is.

    Iterating a page iterates its items. The records are the API's
    *list-shaped* records (partial; never build an update from them).

    Attributes:
        items: The records of this page.
        page_number: The 1-based number of this page.
        page_size: The page size asked for.
        total_items: How many records match, in all pages.
        total_pages: How many pages there are at this size.
        raw: The whole list envelope as the generated layer parsed it.
    """

    items: Sequence[T]
    page_number: int
    page_size: int
    total_items: int
    total_pages: int
    raw: Any = attrs.field(default=None, repr=False, eq=False)

    def __init__(
        self,
        items: Sequence[T],
        page_number: int,
        page_size: int,
        total_items: int,
        total_pages: int,
        raw: Any = None,
    ) -> None:
        # attrs' frozen __init__ through the slots' own setters: one per list call, faster.
        _set_items(self, items)
        _set_page_number(self, page_number)
        _set_page_size(self, page_size)
        _set_total_items(self, total_items)
        _set_total_pages(self, total_pages)
        _set_raw(self, raw)

    @property
    def has_next(self) -> bool:
        """Whether a later page exists (from ``TotalPages``, not ``HasNextPage``)."""
        return self.page_number < self.total_pages

    @property
    def next_page_number(self) -> int | None:
        """The number of the next page, or None on the last one."""
        return self.page_number + 1 if self.has_next else None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


_set_items, _set_page_number, _set_page_size, _set_total_items, _set_total_pages, _set_raw = (
    vars(Page)[f.name].__set__ for f in attrs.fields(Page)
)


FetchPage = Callable[[int, int], Awaitable[Page[T]]]
"""Fetches page ``number`` at ``size``."""

FALLBACK_SIZES = (100, 25)
"""Page sizes tried, in turn, after an account refused a larger one without naming its maximum."""
_MAXIMUM_NAMED = re.compile(r"(?:less than or equal to|at most|maximum(?: of| is)?)\s+(\d+)", re.I)


def refused_size(exc: ValidationError, size: int) -> int | None:
    """The page size to try after ``exc`` refused ``size``, or None if ``size`` was not the cause.

    Accounts differ (a maximum of 1,000 in one documentation version, none in
    another): take the maximum the answer names, else the next of
    :data:`FALLBACK_SIZES` below ``size``.
    """
    about_size = [e for e in exc.errors if (e.property_name or "").lower() == "size"]
    text = " ".join([exc.api_message or "", *(e.message or "" for e in about_size)])
    if not about_size and "size" not in (exc.api_message or "").lower():
        return None
    named = _MAXIMUM_NAMED.search(text)
    if named and 1 <= int(named.group(1)) < size:
        return int(named.group(1))
    return next((s for s in FALLBACK_SIZES if s < size), None)


def served_size(page: Page[Any], asked: int) -> int:
    """The page size an answer shows the account used: fewer than asked on a page that is
    not the whole list means it capped ``size`` silently."""
    held = len(page.items)
    if 0 < held < asked and page.total_items > held:
        return held
    return asked


def check_paging(
    *,
    size: int,
    max_items: int | None,
    prefetch: int,
    page: int | None = None,
    max_size: int | None = None,
) -> None:
    """Reject bad paging arguments before anything is sent."""
    if page is not None and (not isinstance(page, int) or isinstance(page, bool) or page < 1):
        raise InputError("page", page, "must be an integer of at least 1")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise InputError("size", size, "must be an integer of at least 1")
    if max_size is not None and size > max_size:
        raise InputError("size", size, f"must be at most {max_size} (the API's largest page)")
    if max_items is not None and (
        not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 0
    ):
        raise InputError("max_items", max_items, "must be None or an integer of at least 0")
    if not isinstance(prefetch, int) or isinstance(prefetch, bool) or prefetch < 1:
        raise InputError("prefetch", prefetch, "must be an integer of at least 1")


class PageIterator(AsyncIterator[Page[T]]):
    """Yields the pages of a list, lazily and in order (an async iterator and context manager).

    A list that changes during the iteration: each page is what the list holds
    at that page's offset when the page is fetched (the API pages by offset),
    so a record added or deleted before it shifts later records between pages:
    one may be yielded twice, or not at all. The iteration ends after the
    first page whose ``TotalPages`` (or an earlier page's) says it is the last,
    or before the first later page that comes back empty; it never asks for a
    page past the first page's ``TotalPages``. With ``prefetch``, pages are
    fetched earlier, but the same holds. For a complete pass over a changing
    list, sort on a key and filter past the last record seen.
    """

    def __init__(
        self,
        fetch: FetchPage[T],
        *,
        size: int,
        max_items: int | None,
        prefetch: int,
        max_size: int | None = None,
        on_size: Callable[[int], None] | None = None,
    ) -> None:
        check_paging(size=size, max_items=max_items, prefetch=prefetch, max_size=max_size)
        self._on_size = on_size
        self._capped = False
        self._fetch = fetch
        # One page is enough when it holds all we want: ask for no more than that.
        self._size = min(size, max_items) if max_items else size
        self._max_items = max_items
        self._prefetch = prefetch
        self._gen: AsyncGenerator[Page[T], None] = self._run()
        self.pages_fetched = 0
        """How many pages were requested so far."""

    def __aiter__(self) -> PageIterator[T]:
        return self

    async def __anext__(self) -> Page[T]:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop: cancel and wait for the fetches still in flight."""
        await self._gen.aclose()

    async def __aenter__(self) -> PageIterator[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _get(self, number: int) -> Page[T]:
        self.pages_fetched += 1
        return await self._fetch(number, self._size)

    def _trim(self, page: Page[T], already: int) -> Page[T]:
        if self._max_items is not None and already + len(page.items) > self._max_items:
            return attrs.evolve(page, items=page.items[: self._max_items - already])
        return page

    async def _first(self) -> Page[T]:
        """Page 1, at a smaller size when the account refuses ours, and the size it served.

        Later pages are asked at the size page 1 was served at, so page numbers
        mean the same to the account and to us: nothing skipped, nothing twice.
        """
        asked = self._size
        while True:
            try:
                page = await self._get(1)
                break
            except ValidationError as exc:
                smaller = refused_size(exc, self._size)
                if smaller is None:
                    raise
                self._size = smaller
        served = served_size(page, self._size)
        self._capped = served < self._size
        self._size = served
        if served != asked and self._on_size is not None:
            self._on_size(served)
        return page

    def _pages_in(self, page: Page[T]) -> int:
        """How many pages the list has at our size: TotalPages, or, after the account capped
        the size (it may count its pages at the size asked), more if TotalItems says so."""
        if not self._capped:
            return page.total_pages
        return max(page.total_pages, math.ceil(page.total_items / self._size))

    async def _run(self) -> AsyncGenerator[Page[T], None]:
        limit = self._max_items
        if limit == 0:
            return
        first = await self._first()
        yielded = len(first.items)
        yield self._trim(first, 0)
        last = self._pages_in(first)
        if limit is not None:
            last = min(last, math.ceil(limit / self._size))
        if last < 2 or not first.items:
            return
        if self._prefetch <= 1:
            number = 2
            while number <= last:
                page = await self._get(number)
                if not page.items:
                    return
                trimmed = self._trim(page, yielded)
                yielded += len(trimmed.items)
                yield trimmed
                last = min(last, self._pages_in(page))  # the list shrank meanwhile
                number += 1
            return

        tasks: dict[int, asyncio.Task[Page[T]]] = {}
        scheduled = 1
        try:
            for number in range(2, last + 1):
                while scheduled < last and scheduled < number + self._prefetch - 1:
                    scheduled += 1
                    tasks[scheduled] = asyncio.ensure_future(self._get(scheduled))
                # Popped only once awaited: cancelled meanwhile, it is still in
                # ``tasks`` for the ``finally`` to cancel and collect.
                page = await tasks[number]
                del tasks[number]
                if not page.items:
                    return
                trimmed = self._trim(page, yielded)
                yielded += len(trimmed.items)
                yield trimmed
                last = min(last, self._pages_in(page))  # the list shrank meanwhile
                if number >= last:
                    return
        finally:
            await _cancel_all(tasks.values())


async def _cancel_all(tasks: Any) -> None:
    pending = [t for t in tasks if not t.done()]
    for task in pending:
        task.cancel()
    # Collect every outcome so no "exception was never retrieved" is left behind.
    await asyncio.gather(*tasks, return_exceptions=True)


class ItemIterator(AsyncIterator[T]):
    """Yields the records of a list one by one, fetching pages lazily.

    An async iterator and an async context manager (closing cancels fetches in flight).
    """

    def __init__(self, pages: PageIterator[T]) -> None:
        self._pages = pages
        self._gen: AsyncGenerator[T, None] = self._run()

    @property
    def pages_fetched(self) -> int:
        """How many pages were requested so far."""
        return self._pages.pages_fetched

    def __aiter__(self) -> ItemIterator[T]:
        return self

    async def __anext__(self) -> T:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop: cancel and wait for the fetches still in flight."""
        await self._gen.aclose()
        await self._pages.aclose()

    async def __aenter__(self) -> ItemIterator[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def collect(self) -> list[T]:
        """Every remaining record, as a list (mind ``max_items`` on big lists)."""
        return [item async for item in self]

    async def _run(self) -> AsyncGenerator[T, None]:
        try:
            async for page in self._pages:
                for item in page.items:
                    yield item
        finally:
            await self._pages.aclose()
