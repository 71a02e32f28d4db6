"""The probe against the emulator in each account profile: the report names exactly the
settings switched on, the write checks leave nothing behind, and the report loads back as
the same profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nexudus_async.probe import EXPECTED
from nexudus_async.testing import EmulatorConfig, run_emulator
from nexudus_async.testing.profile import SETTINGS, parse_profile, profile_of, with_profile

from .conftest import SEEDED, differences, probe, seeded_config

#: One profile per answer the probe tells apart; each switches on what its key names.
PROFILES: dict[str, dict[str, Any]] = {
    "dir 1/-1": {"dir_encoding": "one_minus_one"},
    "dir 0/1": {"dir_encoding": "zero_one"},
    "size refused above 500": {"max_page_size": 500},
    "size capped at 500": {"max_page_size": 500, "oversize_page": "cap"},
    "size capped at 1000": {"oversize_page": "cap"},
    "no size maximum": {"max_page_size": None},
    "only Entity_Id lookups": {"ids_forms": "entity_id"},
    "only id lookups": {"ids_forms": "id"},
    "lookups answer envelopes": {"ids_answer": "envelope"},
    "lookups answer arrays": {"ids_answer": "array"},
    "404 string": {"not_found_body": "string"},
    "ignored filters": {
        "ignored_filters": ["ProductTimePass_ExpiresIn", "TariffTimePass_Tariff_Name"]
    },
    "omitted field": {"record_omits": ["PurchaseOrder"]},
    "extra field": {"record_extras": ["Colour"]},
    "unknown enums": {"unknown_enum_values": True},
    "token takes JSON": {"token_json_body": "accepted"},
    "SystemId on the first pass": {"create_multiple_system_id": "first"},
    "no SystemId": {"create_multiple_system_id": "none"},
    "answer gives the last Id": {"create_multiple_answer_id": "last"},
    "offset dates keep wall clock": {"offset_dates": "keep"},
    "PUT keeps omitted fields": {"put_omitted": "keep"},
    "Notes hidden, SystemId on one pass": {
        "record_omits": ["Notes"],
        "create_multiple_system_id": "first",
    },
}


async def _left_behind(emu: Any) -> dict[str, int]:
    return {name: emu.store.count(name) for name in SEEDED}


async def test_the_default_emulator_matches_what_the_client_assumes(tmp_path: Path) -> None:
    async with run_emulator(seeded_config()) as emu:
        report = await probe(emu, write=True, state=tmp_path / "state.json")
        assert await _left_behind(emu) == SEEDED
    assert differences(report) == set()
    assert report.exit_code == 0
    statuses = {f.check: f.status for f in report.findings}
    # Throttling is off here: the burst is not judged; every other check is.
    assert statuses.pop("throttle") == "unknown"
    assert set(statuses.values()) == {"matches"}, statuses
    assert not (tmp_path / "state.json").exists()


@pytest.mark.parametrize("settings", PROFILES.values(), ids=PROFILES.keys())
async def test_the_report_names_exactly_the_settings_switched_on(
    settings: dict[str, Any], tmp_path: Path
) -> None:
    async with run_emulator(seeded_config(**settings)) as emu:
        report = await probe(emu, write=True, state=tmp_path / "state.json")
        assert await _left_behind(emu) == SEEDED  # --write made nothing that stayed
    assert differences(report) == set(settings)
    assert report.exit_code == 1
    profile = report.to_json()["profile"]
    for name, value in settings.items():
        assert profile[name] == value


async def test_every_setting_at_once(tmp_path: Path) -> None:
    everything = {k: v for p in PROFILES.values() for k, v in p.items()}
    # Combinations the probe tells apart (an id-only account answering envelopes).
    everything.update(ids_forms="id", ids_answer="envelope", max_page_size=500, oversize_page="cap")
    async with run_emulator(seeded_config(**everything)) as emu:
        report = await probe(emu, write=True, state=tmp_path / "state.json")
        assert await _left_behind(emu) == SEEDED
    assert differences(report) == set(everything)


async def test_the_json_report_loads_as_the_same_emulator_profile(tmp_path: Path) -> None:
    settings = {"dir_encoding": "zero_one", "not_found_body": "string", "put_omitted": "keep"}
    async with run_emulator(seeded_config(**settings)) as emu:
        report = await probe(emu, write=True, state=tmp_path / "state.json")
    loaded = parse_profile(report.to_json(), "report.json")
    config = with_profile(EmulatorConfig(), loaded)
    assert {k: v for k, v in profile_of(config).items() if v != EXPECTED[k]} == settings


def test_the_probe_assumes_the_emulators_defaults() -> None:
    assert profile_of(EmulatorConfig()) == dict(EXPECTED)
    assert [s.name for s in SETTINGS] == list(EXPECTED)
    # Every profile above switches on settings the table knows, to values it accepts.
    for settings in PROFILES.values():
        with_profile(EmulatorConfig(), settings)
