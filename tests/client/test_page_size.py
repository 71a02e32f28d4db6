"""Page size: the documented maximum of 1000, and the largest page by default.

Requests are what the rate limits count (5,000 an hour), so ``iter()``,
``pages()``, ``export`` and the bulk snapshot read ask for 1000 records a
request unless the caller asks for fewer.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aioresponses import CallbackResult
from yarl import URL

from nexudus_async import BasicAuth, InputError, NexudusClient
from nexudus_async.bulk.snapshot import SNAPSHOT_PAGE_SIZE

from ..aioresponses_compat import CompatResponse
from .conftest import BASE, FakeClock

CTP = "/api/billing/coworkertimepasses"


class Pages:
    """Serves a list of ``total`` records ``{"Id": n}`` at whatever size is asked."""

    def __init__(self, mocked: Any, total: int, path: str = CTP) -> None:
        self.total = total
        self.asked: list[tuple[int, int]] = []
        pattern = re.compile("^" + re.escape(BASE + path) + r"(\?.*)?$")
        mocked.get(pattern, callback=self.answer, repeat=True)

    def answer(self, url: URL, **_: Any) -> CallbackResult:
        number, size = int(url.query.get("page", "1")), int(url.query.get("size", "25"))
        self.asked.append((number, size))
        start = (number - 1) * size
        records = [{"Id": i} for i in range(start + 1, min(start + size, self.total) + 1)]
        payload = {
            "Records": records,
            "CurrentPageSize": size,
            "CurrentPage": number,
            "TotalItems": self.total,
            "TotalPages": -(-self.total // size),
        }
        return CallbackResult(payload=payload, response_class=CompatResponse)


@pytest.fixture
async def client(mocked: Any, clock: FakeClock) -> AsyncIterator[NexudusClient]:
    async with NexudusClient(
        BASE, BasicAuth("a@example.com", "pw"), rate_limits=None, clock=clock, sleep=clock.sleep
    ) as c:
        yield c


def test_the_spec_states_the_maximum(client: NexudusClient) -> None:
    for resource in (
        client.coworker_time_passes,
        client.product_time_passes,
        client.tariff_time_passes,
        client.time_passes,
    ):
        assert resource.entity.max_page_size == 1000
    assert SNAPSHOT_PAGE_SIZE == 1000


async def test_reading_100000_records_takes_100_requests(
    client: NexudusClient, mocked: Any
) -> None:
    served = Pages(mocked, 100_000)
    n = 0
    async for item in client.coworker_time_passes.iter():
        n += 1
        assert item.id == n
    assert n == 100_000
    assert served.asked == [(p, 1000) for p in range(1, 101)]


async def test_pages_default_and_a_smaller_size_or_max_items_wins(
    client: NexudusClient, mocked: Any
) -> None:
    served = Pages(mocked, 2500)
    assert [len(p) async for p in client.coworker_time_passes.pages()] == [1000, 1000, 500]
    assert served.asked == [(1, 1000), (2, 1000), (3, 1000)]
    served.asked.clear()
    assert len(await client.coworker_time_passes.iter(max_items=10).collect()) == 10
    assert served.asked == [(1, 10)]
    served.asked.clear()
    assert len(await client.coworker_time_passes.iter(size=400, max_items=900).collect()) == 900
    assert served.asked == [(1, 400), (2, 400), (3, 400)]


async def test_a_page_bigger_than_1000_is_refused_before_sending(
    client: NexudusClient, mocked: Any
) -> None:
    served = Pages(mocked, 10)
    with pytest.raises(InputError, match=r"size.*1001.*at most 1000"):
        await client.coworker_time_passes.list(size=1001)
    with pytest.raises(InputError, match="at most 1000"):
        client.product_time_passes.iter(size=5000)
    with pytest.raises(InputError, match="at most 1000"):
        client.time_passes.pages(size=1001)
    assert served.asked == []
    await client.coworker_time_passes.list(size=1000)
    assert served.asked == [(1, 1000)]


def test_export_refuses_a_page_size_above_1000() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nexudus_async.cli",
            "export",
            "--page-size",
            "1001",
            "--base-url",
            "http://127.0.0.1:9",
            "--token",
            "t",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "--page-size must be from 1 to 1000" in proc.stderr
