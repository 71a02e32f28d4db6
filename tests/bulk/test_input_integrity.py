"""Input files that validate badly must stop the import before anything is sent.

The import runs as a subprocess (``python -m nexudus_async.cli``) against an
emulator of this process, so what the store holds afterwards is checked.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    EmulatorServer,
    run_emulator,
)

from .helpers import CTP


async def import_file(emu: EmulatorServer, path: Path, *options: str) -> tuple[int, list[str], str]:
    """Exit code, the error lines naming ``path``, and the whole stderr."""
    env = {
        **os.environ,
        "NEXUDUS_BASE_URL": emu.base_url,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nexudus_async.cli",
        "import",
        str(path),
        "--progress",
        "none",
        *options,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):  # a bound, not an assertion
        _, err_bytes = await proc.communicate()
    err = err_bytes.decode()
    lines = [line for line in err.splitlines() if line.startswith(f"{path}:")]
    assert proc.returncode is not None
    return proc.returncode, lines, err


def assert_nothing_sent(emu: EmulatorServer, err: str) -> None:
    assert emu.stats.requests == 0
    assert emu.store.count(CTP) == 0
    assert "nothing was sent" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "CoworkerId,BusinessId,TimePassId,CoworkerId",
            "columns 1 (CoworkerId) and 4 (CoworkerId) both give CoworkerId",
        ),
        (
            "CoworkerId,BusinessId,TimePassId,coworker_id",
            "columns 1 (CoworkerId) and 4 (coworker_id) both give CoworkerId",
        ),
    ],
)
async def test_a_header_naming_a_field_twice_is_a_bad_file(
    tmp_path: Path, header: str, expected: str
) -> None:
    path = tmp_path / "twice.csv"
    path.write_text(f"{header}\n101,1,1,999\n102,1,1,998\n")
    async with run_emulator(EmulatorConfig()) as emu:
        code, lines, err = await import_file(emu, path)
        assert code == 2, err
        assert lines == [f"{path}:line 1: {expected}; a field may have one column only"]
        assert_nothing_sent(emu, err)


async def test_a_jsonl_object_giving_a_field_twice_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "twice.jsonl"
    path.write_text(
        '{"CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "coworker_id": 999}\n'
        '{"CoworkerId": "", "BusinessId": 1, "TimePassId": 1, "coworker_id": 999}\n'
        '{"CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "CoworkerId": 999}\n'
        '{"CoworkerId": 103, "BusinessId": 1, "TimePassId": 1}\n'
    )
    async with run_emulator(EmulatorConfig()) as emu:
        code, lines, err = await import_file(emu, path)
        assert code == 2, err
        assert lines == [
            f"{path}:line 1: CoworkerId=101 and coworker_id=999 both give CoworkerId; give it once",
            f"{path}:line 2: CoworkerId='' and coworker_id=999 both give CoworkerId; give it once",
            f"{path}:line 3: the key 'CoworkerId' is given twice (101 and 999)",
        ]
        assert_nothing_sent(emu, err)


async def test_integers_beyond_32_bits_are_bad_rows_and_nothing_is_sent(tmp_path: Path) -> None:
    # They passed validation once: 10**30 crashed the run mid-way (the encoder,
    # then the journal), 2**31 was sent and answered 400 after the good rows.
    path = tmp_path / "big.csv"
    path.write_text(
        "CoworkerId,BusinessId,TimePassId,CreateMultiple\n"
        "101,1,1,2\n"
        f"{10**30},1,1,1\n"
        f"102,1,1,{10**30}\n"
        f"103,1,{2**31},1\n"
        "104,1,1,2147483647\n"
        f"105,{-(2**31)},1,1\n"
    )
    async with run_emulator(EmulatorConfig()) as emu:
        code, lines, err = await import_file(emu, path)
        assert code == 2, err
        assert lines == [
            f"{path}:line 3: CoworkerId='{10**30}': must be at most 2147483647",
            f"{path}:line 4: CreateMultiple='{10**30}': must be at most 2147483647",
            f"{path}:line 5: TimePassId='{2**31}': must be at most 2147483647",
            f"{path}:line 7: BusinessId='{-(2**31)}': must be at least 1",
        ]
        assert_nothing_sent(emu, err)
    assert not (tmp_path / "big.csv.journal.sqlite").exists()


async def test_link_integers_beyond_32_bits_are_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "links.jsonl"
    path.write_text(
        '{"ProductId": 1, "TimePassId": 1, "PassesIncluded": 2147483647}\n'
        f'{{"ProductId": 1, "TimePassId": 1, "PassesIncluded": {2**31}}}\n'
        f'{{"ProductId": 1, "TimePassId": 2, "PassesIncluded": 1, "ExpiresIn": {10**30}}}\n'
        f'{{"ProductId": 1, "TimePassId": 3, "PassesIncluded": 1, "ExpiresIn": {-(2**31) - 1}}}\n'
    )
    async with run_emulator(EmulatorConfig()) as emu:
        code, lines, err = await import_file(emu, path, "--entity", "product")
        assert code == 2, err
        assert lines == [
            f"{path}:line 2: PassesIncluded={2**31}: must be at most 2147483647",
            f"{path}:line 3: ExpiresIn={10**30}: must be at most 2147483647",
            f"{path}:line 4: ExpiresIn={-(2**31) - 1}: must be at least -2147483648",
        ]
        assert emu.stats.requests == 0
        assert emu.store.count("producttimepasses") == 0
