"""The pytest plugin's fixtures, as a user of the installed package gets them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    assert (await api.get(CTP)).status in (200, 409)
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


USER_PROJECT_TEST = """
import aiohttp
import pytest

from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD


@pytest.mark.asyncio
async def test_user_code(nexudus_emulator):
    auth = aiohttp.BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD).encode()
    async with aiohttp.ClientSession() as session:
        url = nexudus_emulator.base_url + "/api/billing/coworkertimepasses"
        body = {"CoworkerId": 1, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 2}
        async with session.post(url, json=body, headers={"Authorization": auth}) as r:
            assert r.status == 200
    assert nexudus_emulator.store.count("coworkertimepasses", CoworkerId=1) == 2


@pytest.mark.asyncio
@pytest.mark.nexudus_emulator(time_scale=1.0)
async def test_marker(nexudus_emulator, nexudus_emulator_factory):
    assert nexudus_emulator.config.time_scale == 1.0
    async with nexudus_emulator_factory() as other:
        assert other.port != nexudus_emulator.port
"""


def test_a_user_project_gets_the_fixtures_from_the_installed_plugin(tmp_path: Path) -> None:
    """A project of its own (strict pytest-asyncio mode, no conftest) in a subprocess."""
    (tmp_path / "test_user.py").write_text(USER_PROJECT_TEST)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings =\n    error\n    ignore:BasicAuth is deprecated:DeprecationWarning\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout
