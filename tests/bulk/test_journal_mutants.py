"""The journal file itself: what each call leaves in SQLite, read back with sqlite3.

Timestamps, the file's layout (page size, WAL, schema version), which transactions
are durable, when send times are written and dropped, and each error's exact text:
a resumed job trusts exactly these rows.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from nexudus_async.bulk.journal import (
    SCHEMA_VERSION,
    SEND_HISTORY,
    GroupRecord,
    JobRecord,
    Journal,
    JournalError,
)

# 2026-01-01T00:00:00Z
NEW_YEAR = 1767225600.0


class Clock:
    """time.time as the journal reads it, set by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(NEW_YEAR + 0.25)
    monkeypatch.setattr(time, "time", fake)
    return fake


def rows(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return [tuple(r) for r in db.execute(sql, args)]


def open_job(journal: Journal, job_id: str = "job") -> JobRecord:
    return journal.open_job(
        job_id, entity="coworker_time_passes", since="2026-01-01T00:00:00", groups=3, records=7
    )


# ---------------------------------------------------------------- timestamps


def test_times_are_utc_with_microseconds_and_follow_the_clock(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        job = open_job(journal)
        assert job.started_at == "2026-01-01T00:00:00.250000Z"
        clock.now = NEW_YEAR + 61.015625
        journal.mark_sending("job", "g", expected=1, baseline=0)
        clock.now = NEW_YEAR + 3661.5
        journal.finish_job("job")
        clock.now = NEW_YEAR + 3661.75  # the same second again: formatted once, still right
        journal.record_stop("job", groups_left=1, records_left=2, reason="stopped")
    assert rows(path, "SELECT updated_at FROM groups") == [("2026-01-01T00:01:01.015625Z",)]
    assert rows(path, "SELECT finished_at FROM jobs") == [("2026-01-01T01:01:01.500000Z",)]
    assert rows(path, "SELECT stopped_at FROM stops") == [("2026-01-01T01:01:01.750000Z",)]


def test_microseconds_are_truncated_never_rounded_up(clock: Clock) -> None:
    clock.now = NEW_YEAR + 7.9999996  # 999999.6 microseconds into the second
    with Journal(":memory:") as journal:
        job = open_job(journal)
    assert job.started_at == "2026-01-01T00:00:07.999999Z"


def test_a_directory_named_like_the_in_memory_journal_is_not_looked_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ":memory:").mkdir()
    monkeypatch.chdir(tmp_path)
    with Journal(":memory:") as journal:
        open_job(journal)
        assert journal.path == ":memory:"


def test_a_finished_job_keeps_its_first_finish_time(tmp_path: Path, clock: Clock) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        open_job(journal)
        clock.now = NEW_YEAR + 10
        journal.finish_job("job")
        clock.now = NEW_YEAR + 20
        journal.finish_job("job")
        job = journal.job("job")
    assert job is not None and job.finished_at == "2026-01-01T00:00:10.000000Z"


# ---------------------------------------------------------------- the file


def test_a_new_file_has_small_pages_wal_and_this_schema(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        open_job(journal)
        assert journal.path == str(path)
    assert rows(path, "PRAGMA page_size") == [(1024,)]
    assert rows(path, "PRAGMA journal_mode") == [("wal",)]
    assert rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_an_in_memory_journal_works_and_is_never_fsynced(clock: Clock) -> None:
    with Journal(":memory:") as journal:
        assert journal.path == ":memory:"
        open_job(journal)
        journal.mark_sending("job", "g", expected=2, baseline=1)
        journal.mark_done("job", "g", created=2, requests=1)
        assert (journal.commits, journal.durable_commits) == (2, 0)
        assert journal.groups("job") == {
            "g": GroupRecord("job", "g", "done", 2, 1, 2, 1, None),
        }


def test_only_the_intent_is_durable_and_each_transaction_is_counted(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        open_job(journal)
        assert (journal.commits, journal.durable_commits) == (0, 0)
        journal.mark_sending("job", "g", expected=2, baseline=0)
        assert (journal.commits, journal.durable_commits) == (1, 1)
        journal.mark_sent("job", "g", created=1, requests=1)
        journal.mark_done("job", "g", created=2, requests=2)
        journal.settle("job", "update:1", state="done", created=1, requests=1)
        journal.record_stop("job", groups_left=0, records_left=0, reason="x")
        assert (journal.commits, journal.durable_commits) == (5, 1)
        journal.mark_sending("job", "g2", expected=1, baseline=0)
        assert (journal.commits, journal.durable_commits) == (6, 2)


def test_a_journal_of_this_schema_opens_but_one_newer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        open_job(journal)
    with Journal(path) as journal:  # its own version: fine
        assert [j.job_id for j in journal.jobs()] == ["job"]
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(JournalError) as caught:
        Journal(path)
    assert str(caught.value) == (
        f"{path}: journal schema {SCHEMA_VERSION + 1} is newer than this version of "
        f"nexudus-async understands ({SCHEMA_VERSION}); upgrade it, or use another journal"
    )


def test_a_file_that_is_not_sqlite_is_refused_with_sqlites_reason(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"not a database " * 200)
    with pytest.raises(JournalError) as caught:
        Journal(path)
    assert str(caught.value) == f"{path}: not a usable journal (file is not a database)"
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)


def test_a_path_in_a_missing_directory_or_a_directory_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "j.sqlite"
    with pytest.raises(JournalError) as caught:
        Journal(missing)
    assert str(caught.value) == f"{missing}: no such directory {str(tmp_path / 'nowhere')!r}"
    with pytest.raises(JournalError) as caught:
        Journal(tmp_path)
    assert str(caught.value) == f"{tmp_path}: not a regular file"
    assert not missing.parent.exists()


def test_a_file_it_may_not_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path):
        pass
    asked: list[tuple[str, int]] = []

    def access(p: Any, mode: int) -> bool:  # root may write anything: answer as for a user
        asked.append((str(p), mode))
        return False

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(JournalError) as caught:
        Journal(path)
    assert str(caught.value) == f"{path}: cannot read and write it (permission denied)"
    assert asked == [(str(path), os.R_OK | os.W_OK)]
    monkeypatch.undo()
    with Journal(tmp_path / "new.sqlite"):  # a file not there yet is not asked about
        pass


def test_a_file_sqlite_cannot_open_is_a_journal_error(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    path.symlink_to(tmp_path / "gone" / "j.sqlite")  # a link to a directory that is not there
    with pytest.raises(JournalError) as caught:
        Journal(path)
    assert str(caught.value) == f"{path}: cannot open it (unable to open database file)"
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)


# ---------------------------------------------------------------- jobs


def test_jobs_come_back_as_recorded_oldest_first(tmp_path: Path, clock: Clock) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        assert journal.job("missing") is None
        clock.now = NEW_YEAR + 5
        b = journal.open_job("b", entity="e", since="s1", groups=1, records=2, source="b.csv")
        clock.now = NEW_YEAR + 1
        a = journal.open_job("a", entity="e", since="s2", groups=3, records=4)
        clock.now = NEW_YEAR + 5
        c = journal.open_job("c", entity="e", since="s3", groups=5, records=6)
        assert b == JobRecord("b", "e", "b.csv", "s1", "2026-01-01T00:00:05.000000Z", None, 1, 2)
        assert a.source is None
        assert [j.job_id for j in journal.jobs()] == ["a", "b", "c"]  # ties in file order
        journal.finish_job("a")
        assert journal.unfinished_jobs() == [b, c]
        assert journal.job("c") == c


# ---------------------------------------------------------------- the snapshot


def test_a_snapshot_keeps_its_counts_time_and_totals(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        open_job(journal)
        journal.save_snapshot("job", {"k1": 3, "k2": 0, "k3": 1}, reads=2, records=4)
        snap = journal.snapshot("job")
        assert snap is not None
        assert (snap.counts, snap.taken_at, snap.reads, snap.records) == (
            {"k1": 3, "k3": 1},
            "2026-01-01T00:00:00.250000Z",
            2,
            4,
        )
        assert journal.snapshot("other") is None
    assert rows(path, "SELECT * FROM snapshot_counts ORDER BY reconcile_key") == [
        ("job", "k1", 3),
        ("job", "k3", 1),
    ]


def test_a_snapshot_after_a_group_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        open_job(journal)
        journal.mark_sending("job", "g", expected=1, baseline=0)
        commits = journal.commits
        with pytest.raises(ValueError) as caught:
            journal.save_snapshot("job", {"k": 1}, reads=1, records=1)
        assert str(caught.value) == "job job has sent groups already: too late for a snapshot"
        assert journal.commits == commits
        assert journal.snapshot("job") is None
    assert rows(path, "SELECT count(*) FROM snapshot_counts") == [(0,)]


def test_counts_left_without_their_marker_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        open_job(journal)
    with closing(sqlite3.connect(path)) as db, db:  # as a crashed writer of old could leave
        db.execute("INSERT INTO snapshot_counts VALUES ('job', 'old', 9)")
    with Journal(path) as journal:
        journal.save_snapshot("job", {"new": 2}, reads=1, records=2)
        snap = journal.snapshot("job")
    assert snap is not None and snap.counts == {"new": 2}


# ---------------------------------------------------------------- send times


def test_send_times_wait_for_the_next_transaction_and_are_written_once(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        open_job(journal)
        journal.record_send("job", write=True)
        journal.record_send("job", write=False, at=NEW_YEAR - 3)
        assert rows(path, "SELECT count(*) FROM sends") == [(0,)]
        journal.mark_sending("job", "g", expected=1, baseline=0)
        assert rows(path, "SELECT job_id, sent_at, write FROM sends ORDER BY sent_at") == [
            ("job", NEW_YEAR - 3, 0),
            ("job", NEW_YEAR + 0.25, 1),
        ]
        journal.mark_done("job", "g", created=1, requests=1)
        assert rows(path, "SELECT count(*) FROM sends") == [(2,)]


def test_send_times_of_a_failed_transaction_go_with_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        open_job(journal)
        journal.mark_sending("job", "g", expected=1, baseline=0)
        journal.record_send("job", write=True, at=100.0)
        with pytest.raises(ValueError):
            journal.save_snapshot("job", {}, reads=0, records=0)
        assert rows(path, "SELECT count(*) FROM sends") == [(0,)]
        journal.record_stop("job", groups_left=0, records_left=0, reason="done")
        assert rows(path, "SELECT sent_at FROM sends") == [(100.0,)]


def test_send_times_since_a_moment_by_kind_in_order_old_ones_dropped(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    since = 1_000_000.0
    with Journal(path) as journal:
        open_job(journal)
        for at, write in [
            (since + 5, True),
            (since, True),
            (since - 1, True),
            (since + 2, False),
            (since - SEND_HISTORY, True),  # exactly the history's edge: kept
            (since - SEND_HISTORY - 1, False),  # older: dropped
        ]:
            journal.record_send("other-job", write=write, at=at)
        assert journal.send_times(since=since, write=True) == [since, since + 5]
        assert journal.send_times(since=since, write=False) == [since + 2]
        assert journal.send_times(since=since - SEND_HISTORY, write=True) == [
            since - SEND_HISTORY,
            since - 1,
            since,
            since + 5,
        ]
    assert rows(path, "SELECT sent_at FROM sends ORDER BY sent_at") == [
        (since - SEND_HISTORY,),
        (since - 1,),
        (since,),
        (since + 2,),
        (since + 5,),
    ]


def test_closing_writes_the_send_times_still_waiting(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    open_job(journal)
    journal.record_send("job", write=True, at=42.0)
    journal.close()
    assert rows(path, "SELECT job_id, sent_at, write FROM sends") == [("job", 42.0, 1)]
    assert journal.commits == 1
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        journal.job("job")


def test_closing_with_nothing_waiting_commits_nothing(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    open_job(journal)
    journal.close()
    assert journal.commits == 0


def test_send_times_that_cannot_be_written_on_close_are_let_go(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    journal.record_send("job", write=True, at=42.0)
    with closing(sqlite3.connect(path)) as other, other:
        other.execute("DROP TABLE sends")  # the write cannot happen
    journal.close()  # no error: only the next run's limiter is a little less careful
    assert journal.commits == 0
    with pytest.raises(sqlite3.ProgrammingError):  # closed all the same
        journal.job("job")


# ---------------------------------------------------------------- stops and groups


def test_a_stop_is_one_row_saying_how_much_was_left_and_why(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        open_job(journal)
        journal.record_stop("job", groups_left=3, records_left=11, reason="interrupted")
    assert rows(path, "SELECT * FROM stops") == [
        ("job", "2026-01-01T00:00:00.250000Z", 3, 11, "interrupted")
    ]


def test_groups_are_read_by_job_key_and_in_chunks_of_many(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        open_job(journal)
        open_job(journal, "other")
        assert not journal.has_groups("job")
        journal.mark_sending("other", "x", expected=1, baseline=0)
        assert not journal.has_groups("job") and journal.has_groups("other")
        keys = [f"g{i}" for i in range(1203)]
        for key in keys:
            journal.mark_sending("job", key, expected=2, baseline=1)
        found = journal.groups_of("job", [*keys, "x"])  # the first, the last, one not there
        assert sorted(found) == sorted(keys)
        assert found["g0"] == GroupRecord("job", "g0", "sending", 2, 1, 0, 0, None)
        assert found["g1202"] == GroupRecord("job", "g1202", "sending", 2, 1, 0, 0, None)
        assert journal.groups_of("job", []) == {}
        assert set(journal.groups("other")) == {"x"}
        assert journal.group("job", "x") is None
        assert journal.group("other", "x") == GroupRecord("other", "x", "sending", 1, 0, 0, 0, None)


def test_a_new_intent_resets_the_group_but_keeps_its_progress_and_fields(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        open_job(journal)
        journal.mark_sending("job", "g", expected=5, baseline=1, fields={"A": 1})
        journal.mark_failed("job", "g", created=2, requests=3, error="refused")
        clock.now = NEW_YEAR + 9
        journal.mark_sending("job", "g", expected=3, baseline=4)
        assert journal.group("job", "g") == GroupRecord(
            "job", "g", "sending", 3, 4, 2, 3, "refused"
        )
        journal.mark_sending("job", "g", expected=3, baseline=4, fields={"A": 2})
        assert journal.group_fields("job") == {"g": {"A": 2}}
    assert rows(path, "SELECT updated_at, fields FROM groups") == [
        ("2026-01-01T00:00:09.000000Z", '{"A": 2}')
    ]


def test_progress_done_and_failed_each_write_their_row(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        open_job(journal)
        journal.mark_sending("job", "g", expected=5, baseline=1)
        clock.now = NEW_YEAR + 1
        journal.mark_sent("job", "g", created=2, requests=1)
        assert journal.group("job", "g") == GroupRecord("job", "g", "sending", 5, 1, 2, 1, None)
        assert rows(path, "SELECT updated_at FROM groups") == [("2026-01-01T00:00:01.000000Z",)]
        journal.mark_failed("job", "g", created=3, requests=2, error="no")
        assert journal.group("job", "g") == GroupRecord("job", "g", "failed", 5, 1, 3, 2, "no")
        journal.mark_done("job", "g", created=5, requests=4)
        assert journal.group("job", "g") == GroupRecord("job", "g", "done", 5, 1, 5, 4, None)


@pytest.mark.parametrize("mark", ["mark_sent", "mark_done", "mark_failed"])
def test_an_outcome_for_a_group_never_marked_sending_is_a_key_error(
    tmp_path: Path, mark: str
) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        open_job(journal)
        journal.mark_sending("other", "g", expected=1, baseline=0)
        extra = {"error": "x"} if mark == "mark_failed" else {}
        with pytest.raises(KeyError) as caught:
            getattr(journal, mark)("job", "g", created=1, requests=1, **extra)
        assert caught.value.args == ("group g of job job was never marked sending",)
        assert journal.group("job", "g") is None


def test_a_record_op_settles_with_or_without_an_intent(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        open_job(journal)
        journal.settle("job", "delete:7", state="done", created=0, requests=1)
        assert journal.group("job", "delete:7") == GroupRecord(
            "job", "delete:7", "done", 1, 0, 0, 1, None
        )
        journal.mark_sending("job", "update:8", expected=1, baseline=0)
        journal.settle("job", "update:8", state="failed", created=0, requests=2, error="boom")
        clock.now = NEW_YEAR + 30
        journal.settle("job", "update:8", state="done", created=1, requests=1)
        assert journal.group("job", "update:8") == GroupRecord(
            "job", "update:8", "done", 1, 0, 1, 3, None
        )
        assert journal.commits == 4
    assert rows(path, "SELECT group_key, updated_at FROM groups ORDER BY group_key") == [
        ("delete:7", "2026-01-01T00:00:00.250000Z"),
        ("update:8", "2026-01-01T00:00:30.000000Z"),
    ]


def test_time_now_is_the_real_clock_without_a_fake() -> None:
    before = time.time()
    with Journal(":memory:") as journal:
        job = open_job(journal)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(before)))
    later = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(before) + 1))
    assert job.started_at[:19] in (stamp, later)
    assert job.started_at.endswith("Z") and len(job.started_at) == 27
