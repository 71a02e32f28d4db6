"""Before the first create the import checks every TimePassId against the TimePass records:
one read, the names in the plan, and a wrong or archived id is a bad row with nothing sent."""

from __future__ import annotations

import io
from pathlib import Path

from nexudus_async import PasswordGrant
from nexudus_async.cli.connect import Connection
from nexudus_async.cli.import_cmd import ImportOptions, run_import
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    run_emulator,
)
from nexudus_async.testing.entities import entity

CSV = "CoworkerId,BusinessId,TimePassId,CreateMultiple\n1,1,1,2\n2,1,4,1\n3,1,{third},1\n"


def _conn(base_url: str) -> Connection:
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    return Connection(base_url, auth, DEFAULT_ADMIN_EMAIL)


async def test_known_time_passes_are_named_in_the_plan_after_one_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text(CSV.format(third=1))
    async with run_emulator(EmulatorConfig(time_scale=0.01)) as emu:
        out = io.StringIO()
        opts = ImportOptions(path, time_scale=0.01, progress="log")
        outcome = await run_import(opts, _conn(emu.base_url), out=out, err=out)
        assert outcome.exit_code == 0, out.getvalue()
        assert "time passes:      1 Day pass, 4 Meeting room hour" in out.getvalue()
        assert emu.stats.by_route["GET /api/billing/timepasses"] == 1
        assert emu.store.count("coworkertimepasses") == 4


async def test_an_unknown_or_archived_time_pass_is_a_bad_row_and_nothing_is_sent(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(CSV.format(third=77) + "4,1,2,1\n")
    async with run_emulator(EmulatorConfig(time_scale=0.01)) as emu:
        emu.store.update_fields(entity("timepasses"), 2, {"Archived": True}, "test")
        err = io.StringIO()
        opts = ImportOptions(path, time_scale=0.01, progress="log")
        outcome = await run_import(opts, _conn(emu.base_url), out=io.StringIO(), err=err)
        assert outcome.exit_code == 2
        assert [line for line in err.getvalue().splitlines() if line.startswith(str(path))] == [
            f"{path}:line 4: TimePassId=77: no TimePass has this Id",
            f"{path}:line 5: TimePassId=2: the TimePass is archived",
        ]
        assert emu.store.count("coworkertimepasses") == 0
        assert "POST /api/billing/coworkertimepasses" not in emu.stats.by_route
        assert not path.with_name(path.name + ".journal.sqlite").exists()


async def test_a_dry_run_without_credentials_stays_offline_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "dry.csv"
    path.write_text(CSV.format(third=77))
    out = io.StringIO()
    outcome = await run_import(ImportOptions(path, dry_run=True), None, out=out, err=out)
    assert outcome.exit_code == 0
    assert "time passes:      not checked (offline: no credentials for a dry run)" in out.getvalue()
