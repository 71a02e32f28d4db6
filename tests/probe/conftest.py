"""Fixtures of the probe's tests: a seeded emulator in any account profile, and a probe run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from nexudus_async import PasswordGrant
from nexudus_async._core.throttle import RateLimits
from nexudus_async.probe import ProbeOptions, ProbeReport, WriteTargets, run_probe
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    EmulatorServer,
    ThrottleLimits,
    run_emulator,
)

#: Throttling off: only the throttle test is about timing, and it sets its own limits.
UNTHROTTLED = EmulatorConfig(limits=ThrottleLimits.off())
#: The customer, business and time pass the write checks use (42 has seeded passes too).
TARGETS = (42, 1, 7)
#: The probe's own pacing in tests: the published limits, 1,000 times faster.
FAST = RateLimits.published().scaled(0.001)

SEED: Mapping[str, list[dict[str, Any]]] = {
    "coworkertimepasses": [
        {"CoworkerId": 42, "BusinessId": 1, "TimePassId": 7, "Notes": f"n{i}", "Price": i}
        for i in range(1, 6)
    ],
    "producttimepasses": [
        {
            "ProductId": i % 2 + 1,
            "TimePassId": i,
            "PassesIncluded": i,
            "ExpirationType": 4,
            "ExpiresIn": i,
        }
        for i in range(1, 5)
    ],
    "tarifftimepasses": [
        {
            "TariffId": i % 2 + 1,
            "TimePassId": i,
            "PassesIncluded": 10 * i,
            "PassRenewalTime": 1 + i % 3,
        }
        for i in range(1, 5)
    ],
}
SEEDED = {name: len(records) for name, records in SEED.items()}


def seeded_config(**settings: Any) -> EmulatorConfig:
    import attrs

    return attrs.evolve(UNTHROTTLED, seed_records=SEED, **settings)


@pytest.fixture
async def emulator(request: pytest.FixtureRequest) -> AsyncIterator[EmulatorServer]:
    settings = getattr(request, "param", {})
    async with run_emulator(seeded_config(**settings)) as emu:
        yield emu


async def probe(
    emu: EmulatorServer,
    *,
    write: bool = False,
    state: Path | None = None,
    checks: tuple[str, ...] | None = None,
) -> ProbeReport:
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    targets = None
    if write:
        assert state is not None
        targets = WriteTargets(*TARGETS, state=state)
    options = ProbeOptions(
        emu.base_url,
        auth,
        DEFAULT_ADMIN_EMAIL,
        FAST,
        (DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD),
        targets,
        checks,
    )
    return await run_probe(options)


def differences(report: ProbeReport) -> set[str]:
    return set(report.to_json()["differences"])
