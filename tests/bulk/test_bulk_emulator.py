"""bulk_create and the import command against the emulator over loopback."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.retry import RetryPolicy
from nexudus_async._core.throttle import RateLimits
from nexudus_async.bulk import BulkInputError
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.snapshot import key_text
from nexudus_async.cli.connect import Connection
from nexudus_async.cli.export_cmd import export_csv
from nexudus_async.cli.import_cmd import ImportOptions, run_import
from nexudus_async.cli.main import main
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    EmulatorServer,
    FaultRule,
    ThrottleLimits,
    run_emulator,
)

from .helpers import CTP, distinct_groups, expected_counts, sample_rows, store_counts, write_csv

SCALE = 0.01
POST_CTP = "POST /api/billing/coworkertimepasses"
GET_CTP = "GET /api/billing/coworkertimepasses"


def seed_passes(
    emu: EmulatorServer, coworker: int, time_pass: int, n: int, *, hours_ago: float
) -> None:
    """Passes that exist before the import, created ``hours_ago`` (the job's window is a day)."""
    created = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    for _ in range(n):
        emu.store.insert(
            CTP,
            {
                "CoworkerId": coworker,
                "BusinessId": 1,
                "TimePassId": time_pass,
                "CreatedOn": created,
            },
        )


def client_for(emu: EmulatorServer, **kw: object) -> NexudusClient:
    kw.setdefault("rate_limits", RateLimits.published().scaled(SCALE))
    return NexudusClient(
        base_url=emu.base_url,
        auth=BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD),
        **kw,  # type: ignore[arg-type]
    )


async def test_rows_coalesce_into_exactly_one_create_per_group_and_one_read() -> None:
    rows = sample_rows(customers=40, passes=600)
    groups = distinct_groups(rows)
    assert len(rows) > groups * 2  # coalescing matters
    # Throttling off: a 409 would add a (harmless) resend to the POST count.
    config = EmulatorConfig(limits=ThrottleLimits.off(), seed=1)
    async with run_emulator(config) as emu:
        async with client_for(emu, rate_limits=None) as client:
            report = await client.coworker_time_passes.bulk_create(rows, concurrency=6)
        assert report.ok
        assert report.create_requests == groups
        assert emu.stats.by_route[POST_CTP] == groups
        assert emu.stats.writes == groups
        # The baselines: one snapshot read for the whole job, no count per group.
        assert emu.stats.by_route[GET_CTP] == 1
        assert (report.snapshot_requests, report.count_requests) == (1, 0)
        assert report.baseline == "snapshot"
        assert emu.stats.requests == groups + 1  # Basic auth: no token request
        assert store_counts(emu.store.all(CTP)) == expected_counts(rows)
        assert report.records_created == 600
        assert {r.status for r in report.rows} == {"created"}
        assert len(report.rows) == len(rows)


POST_FAULTS = (
    FaultRule(
        method="POST", path="/api/billing/coworkertimepasses", kind="error500", probability=0.2
    ),
    FaultRule(
        method="POST", path="/api/billing/coworkertimepasses", kind="drop_after", probability=0.25
    ),
)


@pytest.mark.parametrize("time_passes", [(1,), (1, 2, 3)], ids=["one-time-pass", "several"])
async def test_existing_passes_are_in_the_snapshot_and_nothing_is_over_or_under_created(
    time_passes: tuple[int, ...],
) -> None:
    rows = sample_rows(customers=30, passes=400, seed=13, time_passes=time_passes)
    config = EmulatorConfig(limits=ThrottleLimits.off(), seed=3, faults=POST_FAULTS)
    async with run_emulator(config) as emu:
        before: Counter[tuple[int, int]] = Counter()
        for c in (1000, 1003, 1007, 1011, 1020):  # customers of the job
            for tp in (1, 2):
                seed_passes(emu, c, tp, 2 + c % 4, hours_ago=2)
                before[(c, tp)] += 2 + c % 4
        seed_passes(emu, 1005, 1, 4, hours_ago=72)  # before the job's window
        before[(1005, 1)] += 4
        seed_passes(emu, 5555, 1, 3, hours_ago=1)  # a customer not in the job
        before[(5555, 1)] += 3
        async with client_for(
            emu, rate_limits=None, retry=RetryPolicy(backoff_initial=0.01, backoff_max=0.05)
        ) as client:
            with Journal(":memory:") as journal:
                report = await client.coworker_time_passes.bulk_create(
                    rows, concurrency=6, max_attempts=30, throttle_backoff=0.0, journal=journal
                )
                assert report.job_id is not None
                snapshot = journal.snapshot(report.job_id)
        assert report.ok, [g.reason for g in report.groups if g.status != "created"]
        # The snapshot holds the job's keys' passes of the window, nothing else.
        keys = set(expected_counts(rows))
        in_window = {k: n for k, n in before.items() if k in keys and k != (1005, 1)}
        assert snapshot is not None
        assert snapshot.counts == {key_text(k): n for k, n in in_window.items()}
        assert emu.stats.faults["drop_after"] > 0 and emu.stats.faults["error500"] > 0
        assert report.baseline == "snapshot" and report.snapshot_requests == 1
        # Counts only where an outcome was unknown, never one per group.
        assert 0 < report.count_requests < distinct_groups(rows)
        assert store_counts(emu.store.all(CTP)) == expected_counts(rows) + before


async def test_a_snapshot_of_several_pages_is_exact() -> None:
    rows = sample_rows(customers=50, passes=300, seed=17)
    config = EmulatorConfig(limits=ThrottleLimits.off(), seed=4, faults=POST_FAULTS)
    async with run_emulator(config) as emu:
        before: Counter[tuple[int, int]] = Counter()
        for i in range(2400):  # 3 pages of 1,000 (they overlap)
            c, tp = 1000 + i % 60, 1 + i % 2
            seed_passes(emu, c, tp, 1, hours_ago=3)
            before[(c, tp)] += 1
        async with client_for(
            emu, rate_limits=None, retry=RetryPolicy(backoff_initial=0.01, backoff_max=0.05)
        ) as client:
            report = await client.coworker_time_passes.bulk_create(
                rows, concurrency=6, max_attempts=30, throttle_backoff=0.0
            )
        assert report.ok
        assert report.baseline == "snapshot" and report.snapshot_requests == 3
        assert store_counts(emu.store.all(CTP)) == expected_counts(rows) + before


async def test_a_snapshot_over_its_budget_falls_back_to_counting_each_group() -> None:
    # One customer, two time passes, four groups: the snapshot may take at most
    # 2 reads (the keys), but 2,500 passes in the window would take 3.
    base = {"CoworkerId": 1000, "BusinessId": 1}
    rows = [
        {**base, "TimePassId": tp, "CreateMultiple": n, "Notes": note}
        for tp in (1, 2)
        for n, note in ((5, "a"), (7, "b"))
    ]
    config = EmulatorConfig(limits=ThrottleLimits.off(), seed=6, faults=POST_FAULTS)
    async with run_emulator(config) as emu:
        seed_passes(emu, 1000, 1, 1500, hours_ago=5)
        seed_passes(emu, 1000, 2, 1000, hours_ago=5)
        async with client_for(
            emu, rate_limits=None, retry=RetryPolicy(backoff_initial=0.01, backoff_max=0.05)
        ) as client:
            report = await client.coworker_time_passes.bulk_create(
                rows, max_attempts=30, throttle_backoff=0.0
            )
        assert report.ok
        assert report.baseline == "per_group" and report.snapshot_requests == 1
        assert "would take 3 list requests" in (report.baseline_note or "")
        assert report.count_requests >= 4
        assert store_counts(emu.store.all(CTP)) == Counter({(1000, 1): 1512, (1000, 2): 1012})


async def test_invalid_rows_stop_everything_before_a_request() -> None:
    good = {"CoworkerId": 1, "BusinessId": 1, "TimePassId": 1}
    async with run_emulator(EmulatorConfig(time_scale=SCALE)) as emu:
        async with client_for(emu) as client:
            with pytest.raises(BulkInputError) as info:
                await client.coworker_time_passes.bulk_create(
                    [good, {**good, "CreateMultiple": -1}],
                )
        assert emu.stats.requests == 0
    assert "line 2: CreateMultiple=-1" in str(info.value)


async def test_faults_and_throttling_end_with_exactly_the_requested_passes() -> None:
    rows = sample_rows(customers=100, passes=2000, seed=11)
    faults = (
        FaultRule(
            method="POST", path="/api/billing/coworkertimepasses", kind="error500", probability=0.15
        ),
        FaultRule(
            method="POST",
            path="/api/billing/coworkertimepasses",
            kind="drop_after",
            probability=0.15,
        ),
        FaultRule(
            method="GET", path="/api/billing/coworkertimepasses", kind="error500", probability=0.05
        ),
    )
    # The client's limiter is switched off. The job starts with every write refused
    # (a limit of 0 writes a minute: throttled whatever the machine's speed), and the
    # published limits come back once the emulator has throttled some: the 409s are
    # honoured by the retry policy.
    closed = ThrottleLimits(writes_per_minute=0)
    config = EmulatorConfig(limits=closed, time_scale=SCALE, seed=5, faults=faults)
    async with run_emulator(config) as emu:

        async def reopen_after_throttling() -> None:
            async with asyncio.timeout(60):
                while emu.stats.throttled < 8:  # noqa: ASYNC110 (stats have no event)
                    await asyncio.sleep(0.01)
            emu.set_limits(ThrottleLimits())

        async with client_for(
            emu, rate_limits=None, retry=RetryPolicy(backoff_initial=0.01, backoff_max=0.05)
        ) as client:
            progress: list[int] = []

            async def on_progress(p: object) -> None:
                progress.append(p.records_done)  # type: ignore[attr-defined]

            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(reopen_after_throttling())
                report = await client.coworker_time_passes.bulk_create(
                    rows,
                    concurrency=8,
                    progress=on_progress,
                    max_attempts=30,
                )
        assert report.ok, [g.reason for g in report.groups if g.status != "created"]
        assert emu.stats.throttled >= 8
        assert emu.stats.faults["drop_after"] > 0
        assert emu.stats.faults["error500"] > 0
        counts = store_counts(emu.store.all(CTP))
        assert counts == expected_counts(rows)  # nothing missing, nothing doubled
        assert sum(counts.values()) == 2000
        assert progress == sorted(progress) and progress[-1] == 2000


async def test_product_links_one_request_each_duplicates_flagged() -> None:
    link = {"ProductId": 1, "TimePassId": 2, "PassesIncluded": 10}
    rows = [link, {**link, "TimePassId": 3}, link, {**link, "ProductId": 2}]
    async with run_emulator(EmulatorConfig(time_scale=SCALE)) as emu:
        async with client_for(emu) as client:
            report = await client.product_time_passes.bulk_create(rows)
        assert report.ok
        assert emu.stats.by_route["POST /api/billing/producttimepasses"] == 3
        assert emu.stats.by_route["GET /api/billing/producttimepasses"] == 1  # the snapshot
        assert report.baseline == "snapshot"
        assert [r.status for r in report.rows] == ["created", "created", "duplicate", "created"]
        assert len(emu.store.all("producttimepasses")) == 3


async def test_tariff_links_with_existing_links_and_lost_answers_are_exact() -> None:
    rows = [
        {"TariffId": t, "TimePassId": tp, "PassesIncluded": n, "PassRenewalTime": 1}
        for t in (1, 2)
        for tp in (1, 2)
        for n in (5, 10)
    ]
    faults = (
        FaultRule(
            method="POST", path="/api/billing/tarifftimepasses", kind="drop_after", probability=0.4
        ),
    )
    config = EmulatorConfig(limits=ThrottleLimits.off(), seed=2, faults=faults)
    async with run_emulator(config) as emu:
        for _ in range(3):  # links that exist already
            emu.store.insert(
                "tarifftimepasses",
                {"TariffId": 1, "TimePassId": 2, "PassesIncluded": 10, "PassRenewalTime": 1},
            )
        async with client_for(emu, rate_limits=None) as client:
            report = await client.tariff_time_passes.bulk_create(
                rows, max_attempts=30, throttle_backoff=0.0
            )
        assert report.ok and report.baseline == "snapshot"
        assert emu.stats.faults["drop_after"] > 0
        got = Counter((r["TariffId"], r["TimePassId"]) for r in emu.store.all("tarifftimepasses"))
        assert got == Counter({(1, 1): 2, (1, 2): 2 + 3, (2, 1): 2, (2, 2): 2})


async def test_import_command_reports_and_a_rerun_sends_nothing(tmp_path: Path) -> None:
    rows = sample_rows(customers=20, passes=150, seed=3)
    path = write_csv(tmp_path / "passes.csv", rows)
    out = io.StringIO()
    async with run_emulator(EmulatorConfig(time_scale=SCALE)) as emu:
        conn = Connection(
            emu.base_url, BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD), "admin"
        )
        opts = ImportOptions(
            path=path, report=tmp_path / "report.json", progress="log", time_scale=SCALE
        )
        first = await run_import(opts, conn, out=out, err=out)
        assert first.exit_code == 0, out.getvalue()
        assert (tmp_path / "passes.csv.journal.sqlite").exists()
        data = json.loads((tmp_path / "report.json").read_text())
        assert data["ok"] and data["records_created"] == 150 and data["failed"] == []
        assert (data["snapshot_requests"], data["count_requests"]) == (1, 0)
        assert data["baseline"] == "snapshot"
        posts = emu.stats.by_route[POST_CTP]
        second = await run_import(opts, conn, out=out, err=out)
        assert second.exit_code == 0
        assert emu.stats.by_route[POST_CTP] == posts  # nothing sent again
        data = json.loads((tmp_path / "report.json").read_text())
        assert data["records_skipped"] == 150 and data["records_created"] == 0
        assert data["snapshot_requests"] == 0  # nothing left to send, nothing read
        assert store_counts(emu.store.all(CTP)) == expected_counts(rows)
    text = out.getvalue()
    assert "progress:" in text and "summary: 150 passes created" in text
    assert f"{distinct_groups(rows)} create + 1 snapshot + 0 count requests" in text
    assert "0 create + 0 snapshot + 0 count requests" in text
    assert DEFAULT_ADMIN_PASSWORD not in text


async def test_creates_answered_unreadably_are_reconciled_and_a_rerun_doubles_nothing(
    tmp_path: Path,
) -> None:
    # Executed, then answered 200 with an empty or non-JSON body: the outcome is
    # unknown, so it is counted, not recorded as failed and re-created on a rerun.
    rows = sample_rows(customers=10, passes=60, seed=4)
    path = write_csv(tmp_path / "passes.csv", rows)
    faults = (
        FaultRule(method="POST", path="/api/billing/coworkertimepasses", kind="empty", times=8),
        FaultRule(method="POST", path="/api/billing/coworkertimepasses", kind="not_json", times=8),
    )
    out = io.StringIO()
    async with run_emulator(EmulatorConfig(time_scale=SCALE, faults=faults)) as emu:
        conn = Connection(
            emu.base_url, BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD), "admin"
        )
        opts = ImportOptions(path=path, progress="none", time_scale=SCALE)
        first = await run_import(opts, conn, out=out, err=out)
        assert (emu.stats.faults["empty"], emu.stats.faults["not_json"]) == (8, 8)
        second = await run_import(opts, conn, out=out, err=out)
        assert store_counts(emu.store.all(CTP)) == expected_counts(rows), out.getvalue()
        assert emu.store.count(CTP) == 60
    assert (first.exit_code, second.exit_code) == (0, 0), out.getvalue()


async def test_export_writes_every_pass_as_csv(tmp_path: Path) -> None:
    rows = sample_rows(customers=5, passes=40, seed=9)
    async with run_emulator(EmulatorConfig(time_scale=SCALE)) as emu:
        async with client_for(emu) as client:
            assert (await client.coworker_time_passes.bulk_create(rows)).ok
        conn = Connection(
            emu.base_url, BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD), "admin"
        )
        out = io.StringIO()
        n = await export_csv(conn, "coworker_time_passes", out, {}, page_size=7, time_scale=SCALE)
    assert n == 40
    exported = list(csv.DictReader(io.StringIO(out.getvalue())))
    got = Counter((int(r["Coworker"]), int(r["TimePass"])) for r in exported)
    assert got == expected_counts(rows)


def test_import_emulator_option_runs_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "passes.csv", sample_rows(customers=10, passes=60, seed=4))
    args = ["import", str(path), "--emulator", "--progress", "none"]
    assert main(args) == 0
    assert main(args) == 0  # a fresh emulator each time: nothing wrongly skipped
    out = capsys.readouterr().out
    assert out.count("summary: 60 passes created, 0 already done") == 2
    assert not (tmp_path / "passes.csv.journal.sqlite").exists()
