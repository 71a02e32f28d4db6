"""Lists: one page, the lazy pages, get-by-ids, counts; and what the account taught.

The API pages with ``page`` and ``size``. Where the vendor's pages disagree
(``dir`` spellings, the get-by-ids parameter, the largest page), the first
list that needs a fact finds it out from the answers (:mod:`.account_answers`)
and the namespace remembers it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any, Generic, TypeVar

from . import arguments as _args
from .account_answers import DESCENDING_SPELLINGS, Rewrite, is_descending, rename_param, respell_dir
from .endpoint import Caller, expect, read_answer
from .errors import MalformedResponseError
from .pagination import Page, PageIterator, SortDirection, check_paging

__all__ = ["DEFAULT_ITER_PAGE_SIZE", "GET_MANY_CHUNK", "Listing"]

ItemT = TypeVar("ItemT")

GET_MANY_CHUNK = 100
"""Ids per get-by-ids request (keeps the URL short)."""

DEFAULT_ITER_PAGE_SIZE = 100
"""``iter()``/``pages()`` page size for an entity whose spec states no maximum."""


class Listing(Caller, Generic[ItemT]):
    """The list side of a namespace (the generated ``list``/``iter``/``pages`` call it)."""

    def _query(
        self,
        order_by: str | None,
        direction: SortDirection | str | int | None,
        filters: Mapping[str, Any],
        call: str = "list",
    ) -> dict[str, Any]:
        if order_by is None and direction is None and not filters:
            return {}  # what the two below answer for a plain list
        wire_direction = self._operations.sort_direction
        return {
            **_args.ordering(self._entity, wire_direction, order_by, direction),
            **_args.filters(self._entity, filters, call),
        }

    # _list and _fetch_page check and choose, then hand over the coroutine that fetches:
    # awaited by their caller, it raises what they raise, with no frame of their own.

    def _list(
        self,
        page: int,
        size: int,
        order_by: str | None,
        direction: SortDirection | str | int | None,
        filters: Mapping[str, Any],
    ) -> Coroutine[Any, Any, Page[ItemT]]:
        check_paging(
            size=size, max_items=None, prefetch=1, page=page, max_size=self._entity.max_page_size
        )
        return self._fetch_page(page, size, self._query(order_by, direction, filters))

    def _pages(
        self,
        size: int | None,
        max_items: int | None,
        prefetch: int,
        order_by: str | None,
        direction: SortDirection | str | int | None,
        filters: Mapping[str, Any],
    ) -> PageIterator[ItemT]:
        largest = self._entity.max_page_size
        if size is None:  # requests are the scarce resource: the largest page the API allows
            size = largest or DEFAULT_ITER_PAGE_SIZE
            if self._learned.page_size is not None:  # the account serves smaller ones
                size = min(size, self._learned.page_size)
        query = self._query(order_by, direction, filters, "iter/pages")

        async def fetch(number: int, page_size: int) -> Page[ItemT]:
            return await self._fetch_page(number, page_size, query)

        def learned(served: int) -> None:
            self._learned.page_size = served

        return PageIterator(
            fetch, size=size, max_items=max_items, prefetch=prefetch, max_size=largest,
            on_size=learned,
        )  # fmt: skip

    def _fetch_page(
        self, number: int, size: int, query: Mapping[str, Any], rewrite: Rewrite | None = None
    ) -> Coroutine[Any, Any, Page[ItemT]]:
        if rewrite is None and query and self._is_descending(query):
            return self._fetch_descending(number, size, query)
        return self._fetch_once(number, size, query, rewrite)

    async def _fetch_descending(
        self, number: int, size: int, query: Mapping[str, Any]
    ) -> Page[ItemT]:
        rewrite = None
        if self._learned.descending not in (None, "descending"):
            rewrite = respell_dir(self._learned.descending)
        page = await self._fetch_once(number, size, query, rewrite)
        if self._learned.descending is None:
            page = await self._learn_descending(page, number, size, query)
        return page

    async def _learn_descending(
        self, page: Page[ItemT], number: int, size: int, query: Mapping[str, Any]
    ) -> Page[ItemT]:
        """The first descending page: if it came back ascending, the account ignored the
        spelling; ask again with the next one (account_answers.py) and remember the one
        that works. A page that cannot tell (fewer than two distinct values) is kept."""
        value = self._order_value(query)
        answer = page
        for spelling in DESCENDING_SPELLINGS:
            if spelling != "descending":
                answer = await self._fetch_once(number, size, query, respell_dir(spelling))
            verdict = is_descending([value(item) for item in answer.items])
            if verdict is None:
                return answer
            if verdict:
                self._learned.descending = spelling
                return answer
        self._learned.descending = "descending"  # none worked: keep the documented one
        return page

    def _order_value(self, query: Mapping[str, Any]) -> Callable[[Any], Any]:
        """Reads the ordered property of a list record (None where unknown)."""
        name = str(query.get("orderby", "Id"))
        entity = self._entity
        listed = entity.list_field(name) or next(
            (f for f in entity.list_fields if f.source == name), None
        )
        attribute = listed.name if listed is not None else None
        return lambda item: getattr(item, attribute, None) if attribute else None

    async def _fetch_once(
        self, number: int, size: int, query: Mapping[str, Any], rewrite: Rewrite | None
    ) -> Page[ItemT]:
        endpoint = self._operations.list
        request = self._request(endpoint, rewrite, page=number, size=size, **query)
        parsed = read_answer(endpoint, request, await self._transport.send(request))
        if isinstance(parsed, builtins.list):
            # Get by ids as the newer reference pages document it: the records, bare.
            # Nothing says more pages exist, so this is the last one.
            total = (number - 1) * size + len(parsed)
            return Page(parsed, number, size, total, number, raw=parsed)
        envelope = expect(parsed, self._operations.page, request)
        return Page(
            envelope.records, number, size, envelope.total_items, envelope.total_pages,
            raw=envelope,
        )  # fmt: skip

    @staticmethod
    def _is_descending(query: Mapping[str, Any]) -> bool:
        direction = query.get("dir_")
        return direction is not None and str(getattr(direction, "value", direction)) == (
            SortDirection.DESCENDING.value
        )

    async def get_many(self, ids: Iterable[int]) -> builtins.list[ItemT]:
        """Several records by Id, in the order of ``ids`` (duplicates once; unknown Ids left out).

        Uses the API's get-by-ids lookup (``Entity_Id=[1,2,...]``), which
        answers *list-shaped* (partial) records, in chunks of 100 Ids; the
        answer may be the list envelope or (as newer reference pages
        document it) a bare JSON array of the records.
        """
        wanted = builtins.list(dict.fromkeys(_args.record_id(self._entity, "ids", i) for i in ids))
        found: dict[int, ItemT] = {}
        for start in range(0, len(wanted), GET_MANY_CHUNK):
            chunk = wanted[start : start + GET_MANY_CHUNK]
            found.update(await self._by_ids(chunk))
        return [found[i] for i in wanted if i in found]

    async def _by_ids(self, chunk: builtins.list[int]) -> dict[int, ItemT]:
        """One get-by-ids lookup, in the form this account understands (learned once)."""
        entity = self._entity
        found: dict[int, ItemT] = {}
        asked = set(chunk)
        number = 1
        while True:
            rewrite = None
            if self._learned.ids_param is not None:
                rewrite = rename_param(entity.ids_param, self._learned.ids_param)
            page = await self._fetch_page(number, len(chunk), {entity.ids_arg: chunk}, rewrite)
            if page.total_items > len(asked) or any(
                item.id not in asked  # type: ignore[attr-defined]
                for item in page.items
            ):
                # The account ignored the lookup and answered its plain list.
                if self._learned.ids_param is not None:
                    lookup = self._operations.list.build()
                    raise MalformedResponseError(
                        f"the account ignores both get-by-ids forms ({entity.ids_param}"
                        "=[..] and id=[..]): its answer holds records not asked for",
                        method=lookup.method,
                        path=lookup.path,
                    )
                self._learned.ids_param = "id"
                number = 1
                continue
            for item in page.items:
                found[item.id] = item  # type: ignore[attr-defined]
            if not page.has_next or not page.items:
                return found
            number += 1

    async def list_page(
        self,
        filters: Mapping[str, Any],
        *,
        page: int = 1,
        size: int = 25,
        order_by: str | None = None,
        direction: SortDirection | str | int | None = None,
    ) -> Page[ItemT]:
        """``list()`` with the filters as a mapping, for code that holds them as data."""
        return await self._list(page, size, order_by, direction, filters)

    async def count(self, filters: Mapping[str, Any]) -> int:
        """How many records match the filters (one request: a one-record page's total)."""
        page = await self._list(1, 1, None, None, filters)
        return int(page.total_items)
