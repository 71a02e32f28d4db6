"""A job's cost per unit does not grow with the job: nothing per group walks every group.

Counted, not timed: how many times the run walks the plan's groups (a tuple
that counts its iterations) and its ops, for a job stopped after a few
units, at two sizes. A walk per progress line or per unsent group would
grow with the size; the run's fixed passes (totals once, the report once)
do not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from nexudus_async._core.auth import BasicAuth
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk import BulkProgress, JobPlan, RecordOp, ResourceGateway, run_job
from nexudus_async.bulk.executor import rows_from_mappings
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    ThrottleLimits,
    run_emulator,
)

from .helpers import CTP


class _Walked(tuple[Any, ...]):
    """A tuple that counts how often it is walked."""

    walks = 0

    def __iter__(self) -> Iterator[Any]:
        type(self).walks += 1
        return super().__iter__()


def _job(groups: int, ops: int, ids: list[int]) -> JobPlan:
    rows = [{"CoworkerId": 5000 + i, "BusinessId": 1, "TimePassId": 1} for i in range(groups)]
    valid, errors = validate_rows(COWORKER_TIME_PASS, rows_from_mappings(rows))
    assert not errors
    plan = JobPlan.from_plan(make_plan(COWORKER_TIME_PASS, valid))
    record_ops = [RecordOp(f"update:{i}", "update", i, {"Notes": "n"}) for i in ids[:ops]]
    return attrs.evolve(plan, kind="apply", groups=_Walked(plan.groups), ops=_Walked(record_ops))


async def _walks(
    tmp_path: Path, size: int, stop_after: int | None = 4
) -> tuple[int, int, int, int]:
    """Walks of the plan, progress lines, journal commits and groups sent."""
    _Walked.walks = 0
    stop = asyncio.Event()
    lines = 0

    async def progress(p: BulkProgress) -> None:
        nonlocal lines
        lines += 1
        if stop_after is not None and p.groups_done >= stop_after:
            stop.set()

    async with run_emulator(EmulatorConfig(limits=ThrottleLimits.off())) as emu:
        ids = [emu.store.insert(CTP, {"CoworkerId": 7, "Notes": "old"})["Id"] for _ in range(size)]
        auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
        async with NexudusClient(emu.base_url, auth, rate_limits=None) as client:
            gateway = ResourceGateway(client.coworker_time_passes)
            plan = _job(size, size, ids)
            with Journal(tmp_path / f"j{size}-{stop_after}.sqlite") as journal:
                report = await run_job(
                    plan, gateway, journal=journal, concurrency=1, stop=stop, progress=progress
                )
                commits = journal.commits
    assert report.interrupted == (stop_after is not None)
    sent = sum(g.status == "created" for g in report.groups)
    return _Walked.walks, lines, commits, sent


async def test_a_run_walks_the_plan_a_fixed_number_of_times_whatever_its_size(
    tmp_path: Path,
) -> None:
    small_walks, small_lines, small_commits, _ = await _walks(tmp_path, 5, stop_after=None)
    walks, lines, commits, sent = await _walks(tmp_path, 25, stop_after=None)
    assert sent == 25
    assert walks == small_walks  # 5x the groups and ops, not one walk more
    assert lines - small_lines == 2 * 20  # one line per group and per op
    # two transactions per unit written (intent, outcome), and the snapshot
    assert commits - small_commits == 2 * 2 * 20


async def test_progress_and_the_stop_walk_the_plan_a_fixed_number_of_times(
    tmp_path: Path,
) -> None:
    small = await _walks(tmp_path, 20)
    big = await _walks(tmp_path, 200)
    walks, lines, commits, sent = big
    assert sent == small[3] == 4  # the same units went out before the stop
    assert walks == small[0]  # 10x the groups and ops, not one walk more
    assert lines == small[1]  # no progress line per unsent unit
    # two per group sent (intent, outcome), the snapshot, and ONE for the rest
    assert commits == small[2] == 2 * 4 + 1 + 1
