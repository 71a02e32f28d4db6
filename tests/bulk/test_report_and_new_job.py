"""The report names the created Ids; --new-job really starts a new job over a finished one."""

from __future__ import annotations

import io
import json
from pathlib import Path

import attrs

from nexudus_async import BasicAuth
from nexudus_async.bulk.journal import Journal
from nexudus_async.cli.connect import Connection
from nexudus_async.cli.import_cmd import ImportOptions, run_import
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    run_emulator,
)

from .helpers import expected_counts, sample_rows, store_counts, write_csv

SCALE = 0.001
CTP = "coworkertimepasses"


async def test_report_names_created_ids_and_new_job_imports_a_finished_file_again(
    tmp_path: Path,
) -> None:
    rows = sample_rows(customers=5, passes=20, seed=8)
    path = write_csv(tmp_path / "passes.csv", rows)
    report_path = tmp_path / "report.json"
    out = io.StringIO()
    async with run_emulator(EmulatorConfig(time_scale=SCALE)) as emu:
        conn = Connection(
            emu.base_url, BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD), "admin"
        )
        opts = ImportOptions(path=path, report=report_path, progress="none", time_scale=SCALE)
        first = await run_import(opts, conn, out=out, err=out)
        assert first.exit_code == 0, out.getvalue()
        data = json.loads(report_path.read_text())
        answered = sorted(i for row in data["created"] for i in row["group_ids"])
        stored = {int(r["Id"]) for r in emu.store.all(CTP)}
        # One Id per create request (the first record of a CreateMultiple).
        assert first.report is not None
        assert len(set(answered)) == first.report.create_requests
        assert set(answered) <= stored
        assert "created Ids (one per create request, as answered): " in out.getvalue()

        again = await run_import(opts, conn, out=out, err=out)  # the finished job: skipped
        assert again.exit_code == 0 and again.report is not None
        assert again.report.records_created == 0
        assert "--new-job imports the file again" in out.getvalue()

        fresh = await run_import(attrs.evolve(opts, new_job=True), conn, out=out, err=out)
        assert fresh.exit_code == 0, out.getvalue()
        assert fresh.report is not None and fresh.report.records_created == 20
        want = expected_counts(rows)
        assert store_counts(emu.store.all(CTP)) == {k: 2 * n for k, n in want.items()}

        # The new job is the one a plain rerun now resumes (finished: nothing sent).
        rerun = await run_import(opts, conn, out=out, err=out)
        assert rerun.report is not None and rerun.report.records_created == 0
        assert len(emu.store.all(CTP)) == 40
    with Journal(tmp_path / "passes.csv.journal.sqlite") as journal:
        jobs = journal.jobs()
    assert [j.job_id.split(":")[1:] for j in jobs] == [[], ["2"]]
    assert all(j.finished_at for j in jobs)
