"""export writes what import reads: export -> import into an empty emulator recreates the passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, EmulatorConfig

from .threaded_emulator import ThreadedEmulator, threaded_emulator

SCALE = "0.01"
CTP = "coworkertimepasses"
KEPT = ("CoworkerId", "BusinessId", "TimePassId", "Notes", "Used", "Free", "Price", "ExpireDate")

SEED: list[dict[str, Any]] = [
    {"CoworkerId": 11, "BusinessId": 1, "TimePassId": 1},
    {"CoworkerId": 11, "BusinessId": 1, "TimePassId": 1},
    {"CoworkerId": 11, "BusinessId": 1, "TimePassId": 2, "Notes": 'a "quoted", note; é'},
    {"CoworkerId": 12, "BusinessId": 1, "TimePassId": 1, "Price": 12.5, "Free": True},
    {"CoworkerId": 13, "BusinessId": 1, "TimePassId": 2, "ExpireDate": "2027-03-01T00:00:00Z"},
    {"CoworkerId": 13, "BusinessId": 1, "TimePassId": 2, "Used": True, "Notes": "line"},
    # more digits than a float holds: exported and imported exactly
    {"CoworkerId": 14, "BusinessId": 1, "TimePassId": 1, "Price": Decimal("0.30000000000000001")},
]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "nexudus_async.cli", *args]


def _env(base_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "NEXUDUS_BASE_URL": base_url,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
    }


def _passes(emu: ThreadedEmulator) -> Counter[tuple[Any, ...]]:
    records = emu.call(lambda: emu.server.store.all(CTP))
    return Counter(tuple(r[k] for k in KEPT) for r in records)


def emu_prices(emu: ThreadedEmulator) -> list[Any]:
    return [r["Price"] for r in emu.call(lambda: emu.server.store.all(CTP))]


def _seed(emu: ThreadedEmulator) -> None:
    def insert() -> None:
        for i, rec in enumerate(SEED):
            emu.server.store.insert(CTP, {**rec, "CreatedOn": f"2026-0{1 + i % 2}-15T10:00:00Z"})

    emu.call(insert)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_then_import_into_an_empty_emulator_recreates_the_same_passes(
    tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"export.{fmt}"
    config = EmulatorConfig(time_scale=float(SCALE))
    with threaded_emulator(config) as source, threaded_emulator(config) as target:
        _seed(source)
        exported = subprocess.run(
            _cli("export", "--format", fmt, "-o", str(out), "--time-scale", SCALE),
            env=_env(source.base_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert exported.returncode == 0, exported.stderr
        assert f"exported {len(SEED)} records" in exported.stderr
        text = out.read_text(encoding="utf-8")
        assert ('"Price": 0.30000000000000001' if fmt == "jsonl" else ",0.30000000000000001,") in (
            text.replace('"Price":', '"Price": ')
        )
        imported = subprocess.run(
            _cli("import", str(out), "--time-scale", SCALE, "--progress", "none"),
            env=_env(target.base_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert imported.returncode == 0, imported.stdout + imported.stderr
        assert _passes(target) == _passes(source)
        prices = emu_prices(target)
        assert Decimal("0.30000000000000001") in prices
        assert all(type(p) is Decimal for p in prices if p is not None)


def test_export_filters_by_customer_time_pass_and_creation_date(tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    with threaded_emulator(EmulatorConfig(time_scale=float(SCALE))) as emu:
        _seed(emu)

        def export(*args: str) -> list[dict[str, Any]]:
            proc = subprocess.run(
                _cli("export", "--format", "jsonl", "-o", str(out), "--time-scale", SCALE, *args),
                env=_env(emu.base_url),
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert proc.returncode == 0, proc.stderr
            return [json.loads(line) for line in out.read_text().splitlines()]

        assert len(export("--coworker", "11")) == 3
        assert len(export("--coworker", "11", "--time-pass", "1")) == 2
        # CreatedOn alternates January / February (seeded above).
        feb = export("--created-from", "2026-02-01", "--created-to", "2026-02-28")
        assert sorted(r["CoworkerId"] for r in feb) == [11, 12, 13]
        assert all(set(r) <= set(KEPT) for r in feb)


@pytest.mark.parametrize(
    ("entity", "option", "value"),
    [("time_passes", "--time-pass", "1"), ("product", "--coworker", "11")],
)
def test_a_filter_the_entity_lacks_is_one_usage_line_and_nothing_is_written(
    tmp_path: Path, entity: str, option: str, value: str
) -> None:
    out = tmp_path / "export.csv"
    # No emulator: a usage error is found before any connection is made.
    proc = subprocess.run(
        _cli("export", "--entity", entity, option, value, "-o", str(out)),
        env=_env("http://127.0.0.1:9"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"error: {option} does not filter the {entity} entity\n"
    assert proc.stdout == ""
    assert not out.exists()
