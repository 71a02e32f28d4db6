"""The journal's states and the executor's resume logic, against an in-memory fake API."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from nexudus_async._core.errors import (
    InputError,
    MalformedResponseError,
    OutcomeUnknownError,
    ServerError,
    ThrottledError,
    ValidationError,
)
from nexudus_async._generated.api import COWORKER_TIME_PASS, PRODUCT_TIME_PASS
from nexudus_async.bulk import BulkInputError, bulk_create, run_bulk
from nexudus_async.bulk.journal import Journal, JournalError
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import SourceRow, validate_rows
from nexudus_async.bulk.snapshot import KeyedPage, key_text


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs."""


class CountOnlyApi:
    """Counts created records per reconciliation key; injects faults.

    It has no ``snapshot_page``: a job through it counts before each group.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        drop_after: float = 0.0,
        drop_before: float = 0.0,
        throttle: float = 0.0,
        crash_after_creates: int | None = None,
    ) -> None:
        self.records: dict[int, tuple[Any, Any]] = {}
        """Id -> (CoworkerId, TimePassId); ids ascend with creation."""
        self.next_id = 1
        self.rng = random.Random(seed)
        self.drop_after = drop_after
        self.drop_before = drop_before
        self.throttle = throttle
        self.crash_after_creates = crash_after_creates
        self.creates = 0
        self.counts = 0
        self.reject: set[int] = set()
        self.before_apply: Callable[[Mapping[str, Any]], None] | None = None
        """Called with a create's fields before it is applied (may raise)."""

    @property
    def store(self) -> Counter[tuple[Any, ...]]:
        return Counter(self.records.values())

    def seed(self, coworker: int, time_pass: int, n: int) -> None:
        """Records that exist before the job (another import, staff, ...)."""
        for _ in range(n):
            self.records[self.next_id] = (coworker, time_pass)
            self.next_id += 1

    async def create(self, fields: Mapping[str, Any], count: int) -> Any:
        await asyncio.sleep(0)
        self.creates += 1
        if self.rng.random() < self.throttle:
            raise ThrottledError("throttled", status=409)
        if fields["CoworkerId"] in self.reject:
            raise ValidationError("rejected", status=400)
        if self.before_apply is not None:
            self.before_apply(fields)
        if self.rng.random() < self.drop_before:
            raise OutcomeUnknownError("dropped before")
        self.seed(fields["CoworkerId"], fields["TimePassId"], count)
        if self.creates == self.crash_after_creates:
            raise Crash
        if self.rng.random() < self.drop_after:
            raise OutcomeUnknownError("dropped after")
        return {"Id": self.creates}

    def matching(self, match: Mapping[str, Any]) -> list[tuple[int, tuple[Any, Any]]]:
        return [
            (rid, key)
            for rid, key in sorted(self.records.items())
            if all(
                key[i] == match[f] for i, f in enumerate(("CoworkerId", "TimePassId")) if f in match
            )
        ]

    async def count(self, match: Mapping[str, Any], since: str) -> int:
        await asyncio.sleep(0)
        self.counts += 1
        return len(self.matching(match))


class FakeApi(CountOnlyApi):
    """The fake API with the list pages a baseline snapshot reads."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.snapshot_reads = 0
        self.on_snapshot_page: Callable[[int], None] | None = None

    async def snapshot_page(
        self, match: Mapping[str, Any], since: str, page: int, size: int
    ) -> KeyedPage:
        await asyncio.sleep(0)
        self.snapshot_reads += 1
        if self.on_snapshot_page is not None:
            self.on_snapshot_page(page)
        rows = self.matching(match)
        return KeyedPage(len(rows), rows[(page - 1) * size : page * size])


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


async def test_clean_run_sends_one_create_per_group_and_one_snapshot_read() -> None:
    rows = make_rows()
    plan = plan_of(rows)
    api = FakeApi()
    report = await run_bulk(plan, api)
    assert report.ok
    assert api.store == expected_store(rows)
    assert api.creates == len(plan.groups) == report.create_requests
    assert api.snapshot_reads == report.snapshot_requests == 1
    assert api.counts == report.count_requests == 0
    assert report.baseline == "snapshot"
    assert report.records_created == plan.records
    assert {r.status for r in report.rows} == {"created"}


async def test_a_gateway_without_list_pages_counts_before_each_group() -> None:
    rows = make_rows()
    plan = plan_of(rows)
    api = CountOnlyApi(seed=2, drop_after=0.2)
    api.seed(3, 1, 4)
    report = await run_bulk(plan, api, throttle_backoff=0.0, max_attempts=50)
    assert report.ok and report.baseline == "per_group"
    assert api.store == expected_store(rows) + Counter({(3, 1): 4})
    assert report.count_requests >= len(plan.groups)


async def test_existing_records_are_the_baseline_and_unknown_outcomes_reconcile() -> None:
    rows = make_rows()
    plan = plan_of(rows)
    api = FakeApi(seed=4, drop_after=0.3, drop_before=0.2)
    existing = Counter({(1, 1): 3, (1, 2): 1, (7, 2): 12, (99, 1): 5})  # 99: not in the job
    for (c, tp), n in existing.items():
        api.seed(c, tp, n)
    report = await run_bulk(plan, api, throttle_backoff=0.0, max_attempts=50)
    assert report.ok, report.to_json()["failed"]
    assert api.snapshot_reads == 1
    assert api.store == expected_store(rows) + existing
    assert report.records_created == plan.records


async def test_groups_of_one_key_split_by_the_cap_get_exact_baselines() -> None:
    # Three groups of one customer and time pass (different notes), each split
    # into several requests by the cap, some of them dropped after being applied.
    rows = [
        SourceRow(2, {"CoworkerId": 5, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 25}),
        SourceRow(
            3,
            {"CoworkerId": 5, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 13, "Notes": "b"},
        ),
        SourceRow(
            4,
            {"CoworkerId": 5, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 7, "Notes": "c"},
        ),
        SourceRow(5, {"CoworkerId": 6, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 4}),
    ]
    valid, _ = validate_rows(COWORKER_TIME_PASS, rows)
    plan = make_plan(COWORKER_TIME_PASS, valid, cap=5)
    api = FakeApi(seed=8, drop_after=0.4)
    api.seed(5, 1, 6)
    api.seed(6, 2, 2)
    report = await run_bulk(plan, api, throttle_backoff=0.0, max_attempts=50, concurrency=4)
    assert report.ok
    assert api.store == Counter({(5, 1): 6 + 45, (6, 1): 4, (6, 2): 2})
    assert api.snapshot_reads == 1  # narrowed by the shared time pass
    # On a clean run, each group's baseline is what its key held before it:
    # the snapshot plus the groups of the key sent before it.
    clean = FakeApi()
    clean.seed(5, 1, 6)
    with Journal(":memory:") as journal:
        assert (await run_bulk(plan, clean, journal=journal, concurrency=4)).ok
        recorded = journal.groups(plan.job_hash)
    before = 6
    for g in (g for g in plan.groups if g.reconcile_key == (5, 1)):
        assert recorded[g.key].baseline == before
        before += g.count


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
        states = Counter(g.state for g in journal.groups(plan.job_hash).values())
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


async def test_a_create_executed_but_answered_unreadably_is_counted_not_failed() -> None:
    # A gateway of one's own may let a MalformedResponseError through: the
    # create was answered, so it may have run, and only a count can tell.
    class UnreadableApi(FakeApi):
        async def create(self, fields: Mapping[str, Any], count: int) -> Any:
            await super().create(fields, count)
            if self.creates % 2:
                raise MalformedResponseError("the API answered an empty body", status=200)

    rows = make_rows(customers=5)
    api = UnreadableApi()
    report = await run_bulk(plan_of(rows), api, throttle_backoff=0.0)
    assert report.ok, [g.reason for g in report.groups if g.status != "created"]
    assert api.store == expected_store(rows)
    assert api.creates == len(plan_of(rows).groups)  # nothing sent twice


async def test_a_group_beyond_32_bits_goes_in_requests_the_api_can_take() -> None:
    # Rows that are each in range can coalesce into more passes than one
    # CreateMultiple (a 32-bit integer) can ask for.
    class TallyApi:
        def __init__(self) -> None:
            self.chunks: list[int] = []

        async def create(self, fields: Mapping[str, Any], count: int) -> Any:
            self.chunks.append(count)

        async def count(self, match: Mapping[str, Any], since: str) -> int:
            return sum(self.chunks)

    most = 2**31 - 1
    row = {"CoworkerId": 1, "BusinessId": 1, "TimePassId": 1}
    rows = [
        SourceRow(2, {**row, "CreateMultiple": most}),
        SourceRow(3, {**row, "CreateMultiple": most}),
        SourceRow(4, {**row, "CreateMultiple": 5}),
    ]
    plan = plan_of(rows)
    assert (len(plan.groups), plan.create_requests) == (1, 3)
    api = TallyApi()
    report = await run_bulk(plan, api, throttle_backoff=0.0)
    assert report.ok
    assert api.chunks == [most, most, 5]


async def test_a_create_refused_before_sending_fails_at_once() -> None:
    # An InputError means nothing was sent: no count, no second attempt.
    rows = make_rows(customers=1, per=1)
    api = FakeApi()

    def refuse(fields: Mapping[str, Any]) -> None:
        raise InputError("price", float("inf"), "must be a finite number")

    api.before_apply = refuse
    report = await run_bulk(plan_of(rows), api, throttle_backoff=0.0)
    assert not report.ok
    assert [g.status for g in report.groups] == ["failed", "failed"]
    assert all(
        "invalid price=inf: must be a finite number" in (g.reason or "") for g in report.groups
    )
    assert api.creates == 2  # one per group
    assert api.store == Counter()


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


# ---------------------------------------------------------------- the baseline snapshot


def test_journal_saves_a_snapshot_atomically_and_only_before_any_group(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        j.open_job(
            "job1", entity="coworker_time_passes", since="2026-01-01T00:00", groups=2, records=3
        )
        assert j.snapshot("job1") is None and not j.has_groups("job1")
        j.save_snapshot("job1", {key_text((1, 2)): 4, key_text((3, 4)): 0}, reads=1, records=9)
        j.mark_sending("job1", "g1", expected=3, baseline=4)
        with pytest.raises(ValueError):
            j.save_snapshot("job1", {}, reads=1, records=0)
    with Journal(path) as j:
        snap = j.snapshot("job1")
        assert snap is not None
        assert (snap.counts, snap.reads, snap.records) == ({key_text((1, 2)): 4}, 1, 9)
        assert j.has_groups("job1")


def test_a_journal_from_a_newer_version_or_not_a_journal_is_a_clear_error(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    with closing(sqlite3.connect(newer)) as db, db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(JournalError, match="newer"):
        Journal(newer)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database, not at all" * 100)
    with pytest.raises(JournalError, match="not a usable journal"):
        Journal(junk)


async def test_crash_between_the_snapshot_and_the_first_send_reuses_it(tmp_path: Path) -> None:
    rows = make_rows()
    plan = plan_of(rows)
    api = FakeApi(seed=1, drop_after=0.2)
    api.seed(2, 1, 3)

    async def die_after_the_snapshot(p: Any) -> None:
        if p.reads_sent and not p.requests_sent:
            raise Crash

    path = tmp_path / "j.sqlite"
    with Journal(path) as journal, pytest.raises(Crash):
        await run_bulk(plan, api, journal=journal, progress=die_after_the_snapshot)
    with Journal(path) as journal:
        assert journal.snapshot(plan.job_hash) is not None
        assert not journal.has_groups(plan.job_hash) and api.creates == 0
        report = await run_bulk(plan, api, journal=journal, throttle_backoff=0.0, max_attempts=50)
    assert report.ok and report.baseline == "journal" and report.snapshot_requests == 0
    assert api.snapshot_reads == 1
    assert api.store == expected_store(rows) + Counter({(2, 1): 3})


async def test_crash_in_the_middle_of_the_snapshot_takes_it_again(tmp_path: Path) -> None:
    rows = make_rows()
    plan = plan_of(rows)
    api = FakeApi()
    existing: Counter[tuple[Any, ...]] = Counter()
    for i in range(1500):  # two pages' worth, for keys of the job and others
        c, tp = 1 + i % 45, 1 + i % 2
        api.seed(c, tp, 1)
        existing[(c, tp)] += 1

    def die_on_page_2(page: int) -> None:
        if page == 2:
            raise Crash

    api.on_snapshot_page = die_on_page_2
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal, pytest.raises(Crash):
        await run_bulk(plan, api, journal=journal)
    api.on_snapshot_page = None
    with Journal(path) as journal:
        assert journal.snapshot(plan.job_hash) is None  # no marker: nothing half-saved
        report = await run_bulk(plan, api, journal=journal)
    assert report.ok and report.baseline == "snapshot" and report.snapshot_requests == 2
    assert api.store == expected_store(rows) + existing


async def test_a_snapshot_over_the_budget_falls_back_to_one_count_per_group() -> None:
    rows = make_rows(customers=3)  # 6 keys: at most 6 snapshot reads
    plan = plan_of(rows)
    api = FakeApi(seed=6, drop_after=0.3)
    api.seed(1, 1, 7001)  # 8 pages of 1,000
    report = await run_bulk(plan, api, throttle_backoff=0.0, max_attempts=50)
    assert report.ok and report.baseline == "per_group"
    assert "would take 8 list requests" in (report.baseline_note or "")
    assert api.snapshot_reads == report.snapshot_requests == 1  # page 1 told
    assert report.count_requests >= len(plan.groups)
    assert api.store == expected_store(rows) + Counter({(1, 1): 7001})


async def test_an_unresolved_group_is_reconciled_before_its_key_sends_more(tmp_path: Path) -> None:
    # Run 1: group A of a key fails definitely (nothing created); group B of the
    # same key is lost in flight (the process dies before it is applied). Run 2
    # re-runs A, which creates passes of that key: B must be reconciled first,
    # or it would count A's new passes as its own and never be sent.
    base = {"CoworkerId": 4, "BusinessId": 1, "TimePassId": 1}
    rows = [
        SourceRow(2, {**base, "CreateMultiple": 6, "Notes": "x"}),
        SourceRow(3, {**base, "CreateMultiple": 3, "Notes": "y"}),
    ]
    valid, _ = validate_rows(COWORKER_TIME_PASS, rows)
    plan = make_plan(COWORKER_TIME_PASS, valid)
    first, second = plan.groups
    api = FakeApi()

    def run1(fields: Mapping[str, Any]) -> None:
        if fields.get("Notes") == first.fields.get("Notes"):
            raise ValidationError("rejected", status=400)
        raise Crash

    api.before_apply = run1
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal, pytest.raises(Crash):
        await run_bulk(plan, api, journal=journal, concurrency=1)
    with Journal(path) as journal:
        states = {g.group_key: g.state for g in journal.groups(plan.job_hash).values()}
        assert states == {first.key: "failed", second.key: "sending"}
        api.before_apply = None
        report = await run_bulk(plan, api, journal=journal, concurrency=1)
    assert report.ok, report.to_json()["failed"]
    assert api.store == Counter({(4, 1): 9})


async def test_a_group_left_unresolved_holds_back_the_rest_of_its_key() -> None:
    # Group A's create is lost in flight and the count that would settle it fails:
    # its outcome stays unknown, so group B of the same key is not sent (B's count
    # could not tell A's passes from its own); a group of another key still is.
    base = {"CoworkerId": 4, "BusinessId": 1, "TimePassId": 1}
    rows = [
        SourceRow(2, {**base, "CreateMultiple": 6, "Notes": "x"}),
        SourceRow(3, {**base, "CreateMultiple": 3, "Notes": "y"}),
        SourceRow(4, {**base, "CoworkerId": 5}),
    ]
    valid, _ = validate_rows(COWORKER_TIME_PASS, rows)
    plan = make_plan(COWORKER_TIME_PASS, valid)
    first = plan.groups[0]

    class LostApi(CountOnlyApi):
        async def create(self, fields: Mapping[str, Any], count: int) -> Any:
            if fields.get("Notes") == first.fields.get("Notes"):
                self.creates += 1
                raise OutcomeUnknownError("dropped")
            return await super().create(fields, count)

        async def count(self, match: Mapping[str, Any], since: str) -> int:
            if self.creates and match["CoworkerId"] == 4:  # the count after A's lost create
                raise ValidationError("cannot count", status=400)
            return await super().count(match, since)

    api = LostApi()
    report = await run_bulk(plan, api, concurrency=1, throttle_backoff=0.0)
    by_key = {g.key: g for g in report.groups}
    a, b, other = (by_key[g.key] for g in plan.groups)
    assert a.status == "failed" and "could not count" in (a.reason or "")
    assert b.status == "not_sent" and b.requests == 0
    assert b.reason == (
        "not sent: an earlier group for the same CoworkerId and TimePassId "
        "has an unresolved outcome; re-run to resume"
    )
    assert other.status == "created"


async def test_a_job_journaled_before_snapshots_existed_goes_on_counting(tmp_path: Path) -> None:
    rows = make_rows(customers=10)
    plan = plan_of(rows)
    old = CountOnlyApi(seed=3, drop_after=0.2, crash_after_creates=9)
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal, pytest.raises(Crash):
        await run_bulk(plan, old, journal=journal, throttle_backoff=0.0)
    with closing(sqlite3.connect(path)) as db, db:  # make it a version 1 journal
        db.execute("DROP TABLE snapshot_counts")
        db.execute("DROP TABLE snapshots")
        db.execute("PRAGMA user_version = 0")
    api = FakeApi()
    api.records, api.next_id = dict(old.records), old.next_id
    with Journal(path) as journal:
        report = await run_bulk(plan, api, journal=journal, throttle_backoff=0.0, max_attempts=50)
    assert report.ok and report.baseline == "per_group"
    assert api.snapshot_reads == 0
    assert api.store == expected_store(rows)


async def test_a_snapshot_that_cannot_be_read_falls_back_to_counting() -> None:
    rows = make_rows(customers=5)
    plan = plan_of(rows)
    api = FakeApi(seed=9, drop_after=0.3)
    api.seed(2, 2, 5)

    def fail(page: int) -> None:
        raise ServerError("Ooops! There was a problem while running this action", status=500)

    api.on_snapshot_page = fail
    report = await run_bulk(plan, api, throttle_backoff=0.0, max_attempts=3)
    assert report.ok and report.baseline == "per_group"
    assert "could not read the existing records" in (report.baseline_note or "")
    assert report.snapshot_requests == 3  # each attempt of page 1
    assert api.store == expected_store(rows) + Counter({(2, 2): 5})
