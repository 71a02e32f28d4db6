"""The public API type-checks under ``mypy --strict`` in the user's code, with precise types."""

from __future__ import annotations

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

GOOD = """
import datetime
from decimal import Decimal
from typing import assert_type

from nexudus_async import (
    BasicAuth, CommandParameter, Command, CoworkerTimePass, CoworkerTimePassListItem,
    NexudusClient, OutcomeUnknownError, Page, PasswordGrant, ProductTimePass,
    ProductTimePassListItem, RateLimits, RetryPolicy, SortDirection, TariffTimePassListItem,
    TimePass, ValidationError, WriteResult,
)
import nexudus_async


async def main() -> None:
    auth = PasswordGrant("admin@example.com", "secret")
    async with NexudusClient(
        base_url="https://spaces.nexudus.com", auth=auth,
        rate_limits=RateLimits.published().scaled(0.01), retry=RetryPolicy(max_retries=5),
    ) as client:
        tp = await client.coworker_time_passes.get(123)
        assert_type(tp, CoworkerTimePass)
        page = await client.coworker_time_passes.list(
            coworker=42, size=100, created_on=(datetime.datetime(2025, 1, 1), None),
            order_by="CreatedOn", direction=SortDirection.DESCENDING,
        )
        assert_type(page, Page[CoworkerTimePassListItem])
        async for item in client.coworker_time_passes.iter(time_pass=7, max_items=500):
            assert_type(item, CoworkerTimePassListItem)
        async for pg in client.product_time_passes.pages(product=1, prefetch=4):
            assert_type(pg, Page[ProductTimePassListItem])
        many = await client.tariff_time_passes.get_many([1, 2, 3])
        assert_type(many, list[TariffTimePassListItem])
        try:
            created = await client.coworker_time_passes.create(
                coworker_id=42, business_id=1, time_pass_id=7, create_multiple=5
            )
        except OutcomeUnknownError as exc:
            assert_type(exc.cause, BaseException | None)
            raise
        except ValidationError as exc:
            for err in exc.errors:
                assert_type(err.property_name, str)
            raise
        assert_type(created, WriteResult)
        assert_type(created.id, int | None)
        await client.coworker_time_passes.update(123, notes="moved", price=None)
        # money: Decimal (a float is accepted and goes through its shortest repr)
        await client.coworker_time_passes.create(
            coworker_id=42, business_id=1, time_pass_id=7, price=Decimal("12.30")
        )
        await client.coworker_time_passes.update(123, price=12.5)
        await client.coworker_time_passes.list(price=(Decimal("0.10"), None))
        await client.time_passes.list(price=Decimal("0.3"))
        if isinstance(tp.price, Decimal):
            assert_type(tp.price + Decimal("0.01"), Decimal)
        await client.product_time_passes.update(5, passes_included=3)
        await client.coworker_time_passes.delete(123)
        cmds = await client.coworker_time_passes.commands()
        assert_type(cmds, list[Command])
        await client.coworker_time_passes.run_command(
            "KEY", ids=[1], parameters=[CommandParameter(value=True, name="Notify")]
        )
        product = await client.with_options(timeout=5).product_time_passes.get(1)
        assert_type(product, ProductTimePass)
        await client.tariff_time_passes.create(
            tariff_id=1, time_pass_id=7, passes_included=2, pass_renewal_time=2
        )
    NexudusClient(auth=BasicAuth("a@b.c", "pw"))
    assert_type(nexudus_async.TimePass, type[TimePass])
"""

BAD = """
import nexudus_async
from nexudus_async import NexudusClient

misspelt = nexudus_async.TimePas


async def main(client: NexudusClient) -> None:
    await client.coworker_time_passes.list(customer=42)
    await client.coworker_time_passes.create(business_id=1, time_pass_id=7)
    await client.coworker_time_passes.update(1, notes=5)
    await client.coworker_time_passes.list(created_on=3)
    await client.coworker_time_passes.create(
        coworker_id=1, business_id=1, time_pass_id=7, price="12.30"
    )
"""


def _mypy(tmp_path: Path, name: str, source: str) -> tuple[str, int]:
    path = tmp_path / name
    path.write_text(source)
    out, err, status = mypy_api.run(
        [str(path), "--strict", "--python-version", "3.11", "--no-error-summary"]
    )
    return out + err, status


def test_user_code_is_strict_clean_and_mistakes_are_caught(tmp_path: Path) -> None:
    out, status = _mypy(tmp_path, "good.py", GOOD)
    assert status == 0, out
    out, status = _mypy(tmp_path, "bad.py", BAD)
    assert status == 1
    assert 'Unexpected keyword argument "customer"' in out
    assert 'Missing named argument "coworker_id"' in out
    assert 'Argument "notes" to "update"' in out
    assert 'Argument "created_on" to "list"' in out
    assert 'Argument "price" to "create"' in out
    # a misspelt export is caught, not typed Any through the lazy __getattr__
    assert 'Module has no attribute "TimePas"' in out
