"""The pytest plugin's fixtures, as a user of the installed package gets them."""

from __future__ import annotations

import aiohttp
import pytest

from nexudus_async.testing import EmulatorServer, ThrottleLimits
from nexudus_async.testing.pytest_plugin import DEFAULT_FIXTURE_CONFIG, EmulatorFactory

from .conftest import CTP, Api


async def test_default_fixture_is_running_and_throttled_at_scaled_published_limits(
    nexudus_emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    config = nexudus_emulator.config
    assert config == DEFAULT_FIXTURE_CONFIG
    assert config.limits == ThrottleLimits()  # the published limits, on
    assert config.time_scale == 0.01
    assert nexudus_emulator.base_url.startswith("http://127.0.0.1:")
    api = Api(session, nexudus_emulator)
    assert (await api.get(CTP, scaled_retry_after=True)).status in (200, 409)
    assert nexudus_emulator.stats.requests == 1


@pytest.mark.nexudus_emulator(throttle_status=429, seed=3)
async def test_marker_overrides_the_fixture_config(nexudus_emulator: EmulatorServer) -> None:
    assert nexudus_emulator.config.throttle_status == 429
    assert nexudus_emulator.config.seed == 3
    assert nexudus_emulator.config.time_scale == 0.01


async def test_factory_starts_more_emulators(
    nexudus_emulator_factory: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    async with nexudus_emulator_factory(limits=ThrottleLimits.off()) as first:
        api = Api(session, first)
        for _ in range(5):
            assert (await api.get(CTP)).status == 200
    second = await nexudus_emulator_factory(time_scale=1.0)  # stopped at teardown
    assert second.config.time_scale == 1.0
    assert second.port != first.port
