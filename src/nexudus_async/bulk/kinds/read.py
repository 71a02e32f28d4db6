"""The reads planning makes: a scope in pages of 1,000, or records by Id, 100 a request.

Both answer list-shaped records (:func:`.records.from_list_item` renames
them); every request goes through the resource's client, so its limiter,
retries and credentials apply. :attr:`Reader.reads` counts the requests, for
the plan's ``planning_reads`` and the dry run's estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..._core.listing import GET_MANY_CHUNK
from ..._core.resource import Resource
from .records import Current, from_list_item

__all__ = ["PAGE", "Reader", "pages_needed"]

PAGE = 1000
"""Records per list request when the spec states no maximum."""


def pages_needed(total: int, size: int = PAGE) -> int:
    """List requests a scope of ``total`` records takes (one even when empty)."""
    return max(1, math.ceil(total / size))


class Reader:
    """Reads one resource's records for planning and counts the requests."""

    def __init__(self, resource: Resource[Any, Any]) -> None:
        self.resource = resource
        self.entity = resource.entity
        self.reads = 0

    @property
    def size(self) -> int:
        return self.entity.max_page_size or PAGE

    async def page(
        self, where: Mapping[str, Any], number: int, size: int | None = None
    ) -> tuple[dict[int, Current], int]:
        """One page of the records matching ``where`` (ascending Id) and the total."""
        size = size or self.size
        self.reads += 1
        page = await self.resource.list_page(
            where, page=number, size=size, order_by="Id", direction="ascending"
        )
        records: dict[int, Current] = {
            int(item.id): from_list_item(self.entity, item) for item in page.items
        }
        return records, int(page.total_pages)

    async def scope(self, where: Mapping[str, Any]) -> dict[int, Current]:
        """Every record matching ``where`` (the list call's filters), by Id."""
        found: dict[int, Current] = {}
        number, pages = 1, 1
        while number <= pages:
            records, pages = await self.page(where, number)
            found.update(records)
            if not records:
                break
            number += 1
        return found

    async def by_ids(self, ids: Iterable[int]) -> dict[int, Current]:
        """The records with these Ids that exist (a missing Id is left out)."""
        wanted = list(dict.fromkeys(ids))
        found: dict[int, Current] = {}
        for start in range(0, len(wanted), GET_MANY_CHUNK):
            chunk = wanted[start : start + GET_MANY_CHUNK]
            self.reads += 1
            for item in await self.resource.get_many(chunk):
                found[int(item.id)] = from_list_item(self.entity, item)
        return found


def filter_for(resource: Resource[Any, Any], api_name: str) -> str | None:
    """The list filter (keyword) comparing a field for equality, if the entity has one."""
    entity = resource.entity
    field = entity.field(api_name)
    if field is None:
        return None
    if api_name == "Id":
        return "id" if entity.filter("id") is not None else None
    shown = field.list_name
    for f in entity.filters:
        if f.field is not None and f.field == shown and f.equals is not None:
            return f.name
    return None


def narrowing(
    resource: Resource[Any, Any], values: Iterable[Mapping[str, Any]], fields: Iterable[str]
) -> dict[str, Any]:
    """Filters every row agrees on (``time_pass=7`` when all rows name time pass 7):
    the scope a job needs to read, read in fewer pages."""
    rows = list(values)
    out: dict[str, Any] = {}
    for name in fields:
        seen = {r.get(name) for r in rows}
        keyword = filter_for(resource, name)
        if rows and len(seen) == 1 and None not in seen and keyword is not None:
            out[keyword] = seen.pop()
    return out
