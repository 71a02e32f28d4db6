"""The journal's states and the executor's resume logic, against an in-memory fake API."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from nexudus_async.bulk import BulkInputError, bulk_create, run_bulk
from nexudus_async.bulk_journal import Journal
from nexudus_async.bulk_plan import make_plan
from nexudus_async.bulk_rows import COWORKER_TIME_PASS, PRODUCT_TIME_PASS, SourceRow, validate_rows
from nexudus_async.errors import OutcomeUnknownError, ThrottledError, ValidationError


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs."""


class FakeApi:
    """Counts created records per reconciliation key; injects faults."""

    def __init__(
        self,
        *,
        seed: int = 0,
        drop_after: float = 0.0,
        drop_before: float = 0.0,
        throttle: float = 0.0,
        crash_after_creates: int | None = None,
    ) -> None:
        self.store: Counter[tuple[Any, ...]] = Counter()
        self.rng = random.Random(seed)
        self.drop_after = drop_after
        self.drop_before = drop_before
        self.throttle = throttle
        self.crash_after_creates = crash_after_creates
        self.creates = 0
        self.counts = 0
        self.reject: set[int] = set()

    async def create(self, fields: Mapping[str, Any], count: int) -> Any:
        await asyncio.sleep(0)
        self.creates += 1
        if self.rng.random() < self.throttle:
            raise ThrottledError("throttled", status=409)
        if fields["CoworkerId"] in self.reject:
            raise ValidationError("rejected", status=400)
        if self.rng.random() < self.drop_before:
            raise OutcomeUnknownError("dropped before")
        self.store[(fields["CoworkerId"], fields["TimePassId"])] += count
        if self.creates == self.crash_after_creates:
            raise Crash
        if self.rng.random() < self.drop_after:
            raise OutcomeUnknownError("dropped after")
        return {"Id": self.creates}

    async def count(self, match: Mapping[str, Any], since: str) -> int:
        await asyncio.sleep(0)
        self.counts += 1
        return self.store[(match["CoworkerId"], match["TimePassId"])]


def make_rows(customers: int = 30, per: int = 4) -> list[SourceRow]:
    out = []
    line = 2
    for c in range(1, customers + 1):
        for tp in (1, 2):
            for k in range(per):
                out.append(
                    SourceRow(
                        line,
                        {
                            "CoworkerId": c,
                            "BusinessId": 1,
                            "TimePassId": tp,
                            "CreateMultiple": k + 1,
                            "Notes": "a" if k % 2 else "",
                        },
                    )
                )
                line += 1
    return out


def expected_store(rows: list[SourceRow]) -> Counter[tuple[Any, ...]]:
    want: Counter[tuple[Any, ...]] = Counter()
    for r in rows:
        want[(r.data["CoworkerId"], r.data["TimePassId"])] += int(r.data["CreateMultiple"])
    return want


def plan_of(rows: list[SourceRow]) -> Any:
    valid, errors = validate_rows(COWORKER_TIME_PASS, rows)
    assert not errors
    return make_plan(COWORKER_TIME_PASS, valid)


# ---------------------------------------------------------------- journal unit tests


def test_journal_states_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        job = j.open_job(
            "job1",
            entity="coworker_time_passes",
            since="2026-01-01T00:00",
            groups=2,
            records=5,
            source="x.csv",
        )
        assert (
            j.open_job(
                "job1", entity="coworker_time_passes", since="2030-01-01T00:00", groups=2, records=5
            ).since
            == job.since
        )  # first since is kept
        assert j.group("job1", "g1") is None
        j.mark_sending("job1", "g1", expected=3, baseline=7)
        j.mark_sending("job1", "g2", expected=2, baseline=0)
        j.mark_sent("job1", "g2", created=1, requests=1)
        j.mark_done("job1", "g2", created=2, requests=2)
        with pytest.raises(KeyError):
            j.mark_done("job1", "never-sent", created=1, requests=1)
    with Journal(path) as j:  # survives reopening
        g1, g2 = j.group("job1", "g1"), j.group("job1", "g2")
        assert g1 is not None and (g1.state, g1.baseline, g1.expected) == ("sending", 7, 3)
        assert g2 is not None and (g2.state, g2.created, g2.requests) == ("done", 2, 2)
        assert [x.job_id for x in j.unfinished_jobs()] == ["job1"]
        j.mark_failed("job1", "g1", created=1, requests=1, error="boom")
        rec = j.group("job1", "g1")
        assert rec is not None and (rec.state, rec.last_error) == ("failed", "boom")
        j.mark_sending("job1", "g1", expected=3, baseline=9)  # fresh baseline after failure
        rec = j.group("job1", "g1")
        assert rec is not None and (rec.state, rec.baseline, rec.created) == ("sending", 9, 1)
        j.finish_job("job1")
        assert j.unfinished_jobs() == []
        assert set(j.groups("job1")) == {"g1", "g2"}


# ---------------------------------------------------------------- executor resume logic


async def test_clean_run_sends_one_create_and_one_count_per_group() -> None:
    rows = make_rows()
    plan = plan_of(rows)
    api = FakeApi()
    report = await run_bulk(plan, api)
    assert report.ok
    assert api.store == expected_store(rows)
    assert api.creates == len(plan.groups) == report.create_requests
    assert api.counts == len(plan.groups)
    assert report.records_created == plan.records
    assert {r.status for r in report.rows} == {"created"}


async def test_unknown_outcomes_are_reconciled_never_doubled() -> None:
    rows = make_rows()
    api = FakeApi(seed=3, drop_after=0.3, drop_before=0.2, throttle=0.2)
    report = await run_bulk(plan_of(rows), api, throttle_backoff=0.0, max_attempts=50)
    assert report.ok, report.to_json()["failed"]
    assert api.store == expected_store(rows)


@pytest.mark.parametrize("crash_at", [1, 7, 20, 45])
async def test_crash_then_rerun_completes_with_no_duplicates(tmp_path: Path, crash_at: int) -> None:
    rows = make_rows()
    plan = plan_of(rows)
    api = FakeApi(seed=crash_at, drop_after=0.1, crash_after_creates=crash_at)
    journal_path = tmp_path / "j.sqlite"
    with Journal(journal_path) as journal, pytest.raises(Crash):
        await run_bulk(plan, api, journal=journal, concurrency=3, throttle_backoff=0.0)
    api.crash_after_creates = None
    with Journal(journal_path) as journal:
        states = Counter(g.state for g in journal.iter_groups(plan.job_hash))
        assert states["sending"] >= 1
        report = await run_bulk(
            plan, api, journal=journal, concurrency=3, throttle_backoff=0.0, max_attempts=50
        )
    assert report.ok
    assert api.store == expected_store(rows)
    assert report.records_skipped + report.records_created == plan.records
    # A third run has nothing to do and sends nothing.
    creates = api.creates
    with Journal(journal_path) as journal:
        again = await run_bulk(plan, api, journal=journal)
    assert again.ok and api.creates == creates
    assert {r.status for r in again.rows} == {"skipped"}


async def test_definite_failure_is_reported_per_row_and_resumable(tmp_path: Path) -> None:
    rows = make_rows(customers=4)
    plan = plan_of(rows)
    api = FakeApi()
    api.reject = {2}
    with Journal(tmp_path / "j.sqlite") as journal:
        report = await run_bulk(plan, api, journal=journal)
        assert not report.ok
        failed_lines = {r.line for r in report.failed_rows}
        assert failed_lines == {r.line for r in rows if r.data["CoworkerId"] == 2}
        assert all("rejected" in (r.reason or "") for r in report.failed_rows)
        # Customer 2's rows go through on the next run; the rest are skipped.
        api.reject = set()
        report = await run_bulk(plan, api, journal=journal)
    assert report.ok
    assert api.store == expected_store(rows)
    assert report.records_created == sum(expected_store(rows)[(2, tp)] for tp in (1, 2))


async def test_stop_event_leaves_unsent_groups_for_the_next_run(tmp_path: Path) -> None:
    rows = make_rows()
    plan = plan_of(rows)
    api = FakeApi()
    stop = asyncio.Event()

    async def progress(p: Any) -> None:
        if p.groups_done >= 5:
            stop.set()

    with Journal(tmp_path / "j.sqlite") as journal:
        report = await run_bulk(
            plan, api, journal=journal, concurrency=1, progress=progress, stop=stop
        )
        assert report.interrupted and not report.ok
        assert any(r.status == "not_sent" for r in report.rows)
        report = await run_bulk(plan, api, journal=journal)
    assert report.ok
    assert api.store == expected_store(rows)


async def test_bulk_create_validates_everything_before_sending() -> None:
    api = FakeApi()
    good = {"CoworkerId": 1, "BusinessId": 1, "TimePassId": 1}
    with pytest.raises(BulkInputError) as info:
        await bulk_create(api, [good, {**good, "CoworkerId": "x"}, {**good, "Foo": 1}])
    assert [(e.line, e.field) for e in info.value.row_errors] == [(2, "CoworkerId"), (3, "Foo")]
    assert api.creates == api.counts == 0
    report = await bulk_create(api, [good, {**good, "CoworkerId": "x"}], on_invalid="skip")
    assert [(r.line, r.status) for r in report.rows] == [(1, "created"), (2, "failed")]
    assert not report.ok


async def test_link_rows_are_one_request_each_and_duplicates_flagged() -> None:
    class LinkApi:
        def __init__(self) -> None:
            self.created: list[dict[str, Any]] = []

        async def create(self, fields: Mapping[str, Any], count: int) -> Any:
            assert count == 1
            self.created.append(dict(fields))

        async def count(self, match: Mapping[str, Any], since: str) -> int:
            return sum(
                1
                for f in self.created
                if (f["ProductId"], f["TimePassId"]) == (match["ProductId"], match["TimePassId"])
            )

    api = LinkApi()
    link = {"ProductId": 1, "TimePassId": 2, "PassesIncluded": 10}
    report = await bulk_create(
        api, [link, {**link, "TimePassId": 3}, link], entity=PRODUCT_TIME_PASS, concurrency=4
    )
    assert len(api.created) == 2
    assert [r.status for r in report.rows] == ["created", "created", "duplicate"]
    assert report.ok
