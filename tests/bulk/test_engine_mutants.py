"""The job engine's own words and its settling of a resumed job that is stopped at once.

A job resumed from a journal and stopped before it takes a unit settles every unit
from the journal alone: what an earlier run finished is skipped, what it left
``sending`` says to re-run, what it never started is not sent; nothing goes out.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from nexudus_async._core.auth import BasicAuth
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk import JobPlan, RecordOp, ResourceGateway, UnfinishedJobError, run_job
from nexudus_async.bulk.journal import JobRecord, Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import SourceRow, validate_rows
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    ThrottleLimits,
    run_emulator,
)

JOB = JobRecord(
    "0123456789abcdef", "coworker_time_passes", "a.csv", "s", "2026-12-01T00:00Z", None, 1, 2
)


def test_an_unfinished_job_of_other_content_is_refused_in_these_words() -> None:
    error = UnfinishedJobError("j.sqlite", JOB)
    reason = (
        "the journal j.sqlite holds the unfinished job 0123456789ab (coworker_time_passes "
        "from a.csv, started 2026-12-01T00:00Z) for different content; finish it with its own "
        "input, or pass new_job=True (--new-job), or use another journal"
    )
    assert str(error) == error.message == f"nothing was sent: {reason}"
    assert (error.field, error.value, error.job) == ("journal", "j.sqlite", JOB)
    assert error.args == (f"invalid journal='j.sqlite': {reason}",)
    unnamed = UnfinishedJobError("j.sqlite", JobRecord("ab", "e", None, "s", "t", None, 1, 1))
    assert "unfinished job ab (e, started t) for" in unnamed.message


def _ops(*record_ids: int) -> tuple[RecordOp, ...]:
    return tuple(
        RecordOp(f"update:{rid}", "update", rid, {"Notes": "n"}, lines=(n + 2,))
        for n, rid in enumerate(record_ids)
    )


@pytest.mark.parametrize("columns", [True, False], ids=["group-list", "tuple"])
async def test_a_resumed_job_stopped_at_once_settles_every_unit_from_the_journal(
    tmp_path: Path, columns: bool
) -> None:
    rows, errors = validate_rows(
        COWORKER_TIME_PASS,
        [
            SourceRow(10 + n, {"CoworkerId": str(c), "BusinessId": "1", "TimePassId": "1"})
            for n, c in enumerate((401, 402, 403))
        ],
    )
    assert errors == []
    built = make_plan(COWORKER_TIME_PASS, rows).groups
    groups = built if columns else tuple(built)  # a plan of plain groups settles the same
    plan = JobPlan("update", COWORKER_TIME_PASS, groups=groups, ops=_ops(11, 12, 13, 14))
    done_g, sending_g, fresh_g = (g.key for g in groups)
    job_id = plan.job_hash()
    stop = asyncio.Event()
    stop.set()
    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
        async with NexudusClient(emu.base_url, auth, rate_limits=None) as client:
            with Journal(tmp_path / "j.sqlite") as journal:
                journal.open_job(
                    job_id, entity="coworker_time_passes", since="s", groups=7, records=7
                )
                journal.save_snapshot(job_id, {}, reads=1, records=0)
                journal.mark_sending(job_id, done_g, expected=1, baseline=0)
                journal.mark_done(job_id, done_g, created=1, requests=1)
                journal.mark_sending(job_id, sending_g, expected=1, baseline=0)
                journal.settle(job_id, "update:11", state="done", created=1, requests=1)
                journal.mark_sending(job_id, "update:12", expected=1, baseline=0)
                journal.settle(
                    job_id, "update:13", state="failed", created=0, requests=1, error="x"
                )
                started = time.monotonic()
                report = await run_job(
                    plan, ResourceGateway(client.coworker_time_passes), journal=journal, stop=stop
                )
                took = time.monotonic() - started
                stops = journal.groups(job_id)
                with closing(sqlite3.connect(tmp_path / "j.sqlite")) as db:
                    stop_rows = db.execute("SELECT groups_left, records_left, reason FROM stops")
                    stopped = stop_rows.fetchall()
                unfinished = [j.job_id for j in journal.unfinished_jobs()]
        assert sum(emu.stats.by_route.values()) == 0  # nothing was sent
    rerun = "interrupted; the journal keeps it 'sending': re-run to settle it"
    unsent = "interrupted before it was sent; re-run to resume"
    assert [(o.key, o.status, o.reason) for o in report.ops] == [
        ("update:11", "skipped", "done by an earlier run"),
        ("update:12", "not_sent", rerun),
        ("update:13", "not_sent", unsent),
        ("update:14", "not_sent", unsent),
    ]
    assert [(o.action, o.record_id, o.reads, o.writes, o.lines) for o in report.ops] == [
        ("update", rid, 0, 0, (line,)) for rid, line in ((11, 2), (12, 3), (13, 4), (14, 5))
    ]
    assert [dict(g.fields) for g in report.groups] == [dict(g.fields) for g in built]
    # every unit this run did not send: both groups not done and ops 12, 13 and 14
    assert stopped == [(5, 5, unsent)]
    assert [(g.key, g.status, g.created, g.reason) for g in report.groups] == [
        (done_g, "skipped", 1, "already created by an earlier run"),
        (sending_g, "not_sent", 0, rerun),
        (fresh_g, "not_sent", 0, unsent),
    ]
    assert report.interrupted and unfinished == [job_id]  # not finished: re-run it
    assert (report.entity, report.job_id, report.baseline) == (
        "coworker_time_passes",
        job_id,
        "journal",  # the snapshot the earlier run saved
    )
    assert 0 <= report.elapsed <= took
    assert (stops[sending_g].state, stops["update:12"].state) == ("sending", "sending")
