"""The bulk job journal: a small SQLite file that makes an import resumable.

Each group is written down *before* its create request is sent (state
``sending``, with the number of matching records counted just before) and
again after (``done`` or ``failed``). Re-running the same job reads it back:

- no row for a group: it was never sent; count and send it.
- ``done``: skip it, it is already created.
- ``sending`` or ``failed``: the request may or may not have been applied;
  count the matching records again and send only what is missing
  (``expected - (now - baseline)``).

The journal uses WAL mode with ``synchronous=NORMAL``: a commit survives the
process being killed (``kill -9``, Ctrl-C); only a power cut may lose the
last commit.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import attrs

__all__ = ["GroupRecord", "GroupState", "JobRecord", "Journal"]

GroupState = Literal["sending", "done", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id       TEXT PRIMARY KEY,
    entity       TEXT NOT NULL,
    source       TEXT,
    since        TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    groups       INTEGER NOT NULL,
    records      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS groups (
    job_id       TEXT NOT NULL REFERENCES jobs(job_id),
    group_key    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('sending', 'done', 'failed')),
    expected     INTEGER NOT NULL,
    baseline     INTEGER NOT NULL,
    created      INTEGER NOT NULL DEFAULT 0,
    requests     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (job_id, group_key)
);
"""


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@attrs.frozen
class JobRecord:
    job_id: str
    entity: str
    source: str | None
    since: str
    """Lower bound of the CreatedOn filter used by every count of the job."""
    started_at: str
    finished_at: str | None
    groups: int
    records: int


@attrs.frozen
class GroupRecord:
    job_id: str
    group_key: str
    state: GroupState
    expected: int
    baseline: int
    """Matching records counted before the group was first sent."""
    created: int
    """Records of the group known to exist (acknowledged or counted)."""
    requests: int
    last_error: str | None


class Journal:
    """One SQLite journal file (or ``":memory:"`` for a job that need not resume)."""

    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._db = sqlite3.connect(self._path, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if self._path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    @property
    def path(self) -> str:
        return self._path

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # jobs

    def open_job(
        self,
        job_id: str,
        *,
        entity: str,
        since: str,
        groups: int,
        records: int,
        source: str | None = None,
    ) -> JobRecord:
        """Start the job, or return it as first recorded (its ``since`` is kept)."""
        self._db.execute(
            "INSERT OR IGNORE INTO jobs"
            " (job_id, entity, source, since, started_at, groups, records)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (job_id, entity, source, since, _now(), groups, records),
        )
        job = self.job(job_id)
        assert job is not None
        return job

    def job(self, job_id: str) -> JobRecord | None:
        row = self._db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return None if row is None else JobRecord(**dict(row))

    def unfinished_jobs(self) -> list[JobRecord]:
        rows = self._db.execute(
            "SELECT * FROM jobs WHERE finished_at IS NULL ORDER BY started_at"
        ).fetchall()
        return [JobRecord(**dict(r)) for r in rows]

    def finish_job(self, job_id: str) -> None:
        self._db.execute(
            "UPDATE jobs SET finished_at = ? WHERE job_id = ? AND finished_at IS NULL",
            (_now(), job_id),
        )

    # groups

    def group(self, job_id: str, group_key: str) -> GroupRecord | None:
        row = self._db.execute(
            "SELECT * FROM groups WHERE job_id = ? AND group_key = ?", (job_id, group_key)
        ).fetchone()
        return None if row is None else _group(row)

    def groups(self, job_id: str) -> dict[str, GroupRecord]:
        rows = self._db.execute("SELECT * FROM groups WHERE job_id = ?", (job_id,))
        return {r["group_key"]: _group(r) for r in rows}

    def iter_groups(self, job_id: str) -> Iterator[GroupRecord]:
        for r in self._db.execute("SELECT * FROM groups WHERE job_id = ?", (job_id,)):
            yield _group(r)

    def mark_sending(self, job_id: str, group_key: str, *, expected: int, baseline: int) -> None:
        """Record the baseline count; committed before the first send.

        Called again for a group that failed definitely (its ``created`` is exact),
        with a fresh baseline; never for a group whose outcome is unknown.
        """
        self._db.execute(
            "INSERT INTO groups (job_id, group_key, state, expected, baseline, updated_at)"
            " VALUES (?, ?, 'sending', ?, ?, ?)"
            " ON CONFLICT (job_id, group_key) DO UPDATE SET state = 'sending',"
            " expected = excluded.expected, baseline = excluded.baseline,"
            " updated_at = excluded.updated_at",
            (job_id, group_key, expected, baseline, _now()),
        )

    def mark_sent(self, job_id: str, group_key: str, *, created: int, requests: int) -> None:
        """A create request was answered: progress within a group still sending.

        ``requests`` (here and below) is the group's total over every run.
        """
        self._update(job_id, group_key, "sending", created, requests, None)

    def mark_done(self, job_id: str, group_key: str, *, created: int, requests: int) -> None:
        self._update(job_id, group_key, "done", created, requests, None)

    def mark_failed(
        self, job_id: str, group_key: str, *, created: int, requests: int, error: str
    ) -> None:
        self._update(job_id, group_key, "failed", created, requests, error)

    def _update(
        self,
        job_id: str,
        group_key: str,
        state: GroupState,
        created: int,
        requests: int,
        error: str | None,
    ) -> None:
        cur = self._db.execute(
            "UPDATE groups SET state = ?, created = ?, requests = ?,"
            " last_error = ?, updated_at = ? WHERE job_id = ? AND group_key = ?",
            (state, created, requests, error, _now(), job_id, group_key),
        )
        if cur.rowcount != 1:
            raise KeyError(f"group {group_key} of job {job_id} was never marked sending")


def _group(row: sqlite3.Row) -> GroupRecord:
    d = dict(row)
    d.pop("updated_at", None)
    return GroupRecord(**d)
