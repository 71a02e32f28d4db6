"""What every check works with: the probe's HTTP, the credentials, and records read once."""

from __future__ import annotations

from typing import Any

import attrs

from .._core.entity import Entity
from .._generated.api import COWORKER_TIME_PASS, PRODUCT_TIME_PASS, TARIFF_TIME_PASS, TIME_PASS
from .http import ProbeHttp

__all__ = ["ALL", "LINKS", "PASSES", "ProbeContext", "Sample"]

PASSES = COWORKER_TIME_PASS
#: The product and tariff links: their filters are the ones the older pages name.
LINKS = (PRODUCT_TIME_PASS, TARIFF_TIME_PASS)
#: Every entity, in the order a check looks for records to work on.
ALL = (PASSES, *LINKS, TIME_PASS)
SAMPLE_SIZE = 10


@attrs.frozen
class Sample:
    """The first page of an entity's list and the full record of its first item."""

    entity: Entity
    total: int
    records: list[dict[str, Any]]
    full: dict[str, Any] | None

    @property
    def ids(self) -> list[int]:
        return [r["Id"] for r in self.records if isinstance(r.get("Id"), int)]


@attrs.define
class ProbeContext:
    http: ProbeHttp
    #: (email, password) for the token checks; None with a bearer token.
    credentials: tuple[str, str] | None = None
    _samples: dict[str, Sample | None] = attrs.field(factory=dict)

    async def sample(self, entity: Entity) -> Sample | None:
        """The entity's sample, read once (None: the list could not be read)."""
        if entity.name not in self._samples:
            self._samples[entity.name] = await self._read_sample(entity)
        return self._samples[entity.name]

    async def _read_sample(self, entity: Entity) -> Sample | None:
        params = [("page", "1"), ("size", str(SAMPLE_SIZE)), ("orderby", "Id")]
        answer = await self.http.request("GET", entity.path, params)
        body = answer.json()
        if answer.status != 200 or not isinstance(body, dict):
            return None
        records = [r for r in body.get("Records") or [] if isinstance(r, dict)]
        total = body.get("TotalItems")
        full = None
        if records and isinstance(records[0].get("Id"), int):
            one = await self.http.request("GET", f"{entity.path}/{records[0]['Id']}")
            full = one.json() if one.status == 200 and isinstance(one.json(), dict) else None
        return Sample(entity, total if isinstance(total, int) else len(records), records, full)

    async def sample_with(self, least: int) -> Sample | None:
        """The first entity's sample holding at least ``least`` records."""
        for entity in ALL:
            sample = await self.sample(entity)
            if sample is not None and len(sample.ids) >= least:
                return sample
        return None
