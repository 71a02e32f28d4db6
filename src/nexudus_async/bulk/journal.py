"""The bulk job journal: a small SQLite file that makes an import resumable.

Before a job sends anything it records a *snapshot*: how many records
each of its reconcile keys already had (:mod:`.bulk_snapshot`), written in
one transaction with a marker saying it was taken. A job resumed after a
crash reuses it; a crash while it was read leaves no marker (and nothing
was sent), so it is simply taken again.

Each group is written down *before* its create request is sent (state
``sending``, with its *baseline*: the matching records that are not its
own) and again after (``done`` or ``failed``). Re-running the same job
reads it back:

- no row for a group: it was never sent; take its baseline and send it.
- ``done``: skip it, it is already created.
- ``sending`` or ``failed``: the request may or may not have been applied;
  count the matching records again and send only what is missing
  (``expected - (now - baseline)``).

Record ops (an update's PUT, a delete: :mod:`.record_step`) share the
``groups`` table, keyed by the op's key (``update:1234``), with ``expected``
1 and ``baseline`` 0: ``sending`` (durable) right before the op's first
write, ``done`` or ``failed`` after (:meth:`Journal.settle`); an op settled
by its read alone (equal values, a record already gone) writes only its
outcome. A rerun settles a ``sending`` op by reading the record again.
One format for every kind of job: journals of earlier versions open as
they are.

A journal written before snapshots existed has no snapshot tables: they
are created on open, and its jobs, which have groups but no snapshot, go
on with one count per group as they were started.

Durability. The journal uses WAL mode with ``synchronous=NORMAL``, except for
the one record that decides a group may have been sent (``sending``, with
its baseline: :meth:`Journal.mark_sending`), whose transaction runs with
``synchronous=FULL``: it is fsync'd before the request leaves, so neither a
killed process nor an OS crash or power loss on a disk that honours fsync
forgets it. The other records only lose speed when lost (a ``done`` falls
back to ``sending`` and is counted again; a send time makes the next run's
limiter a little less careful), so their commits stay relaxed; send times
even wait for the group's next transaction. A group sent in one request
costs two transactions: the durable intent and the relaxed outcome.

Small writes. A transaction rewrites every page it touches, so a new journal
has 1 KiB pages, a ``groups`` table without a separate key index (``WITHOUT
ROWID``) and no index on send times (read once per run): a group's two
transactions touch three pages. Journals made by earlier versions keep their
layout and work as before. A job that stops leaves a row in ``stops`` (how
many groups and records it did not send, and why), written in one transaction
however many there are.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

__all__ = ["GroupRecord", "GroupState", "JobRecord", "Journal", "JournalError", "SnapshotRecord"]

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
    fields       TEXT,
    PRIMARY KEY (job_id, group_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
    job_id       TEXT PRIMARY KEY REFERENCES jobs(job_id),
    taken_at     TEXT NOT NULL,
    reads        INTEGER NOT NULL,
    records      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sends (
    job_id       TEXT NOT NULL,
    sent_at      REAL NOT NULL,
    write        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stops (
    job_id       TEXT NOT NULL,
    stopped_at   TEXT NOT NULL,
    groups_left  INTEGER NOT NULL,
    records_left INTEGER NOT NULL,
    reason       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshot_counts (
    job_id       TEXT NOT NULL REFERENCES snapshots(job_id),
    reconcile_key TEXT NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (job_id, reconcile_key)
);
"""

SCHEMA_VERSION = 4
"""4: a create group's fields (JSON), so an undo needs nothing but the journal."""
"""1: jobs and groups; 2: snapshots; 3: send times (older journals are upgraded on open)."""

SEND_HISTORY = 2 * 86_400.0
"""Seconds of send times kept: the API's longest window (a day), with room to spare."""


class JournalError(Exception):
    """The file is not a journal this version can use."""


_second: tuple[int, str] = (-1, "")
"""The last whole second formatted by :func:`_now`: formatted once a second, not per call."""


def _now() -> str:
    """UTC now as ``2026-01-31T12:00:00.123456Z`` (each group's two transactions take one)."""
    global _second
    t = time.time()
    sec = int(t)
    if sec != _second[0]:
        _second = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
    return f"{_second[1]}.{int((t - sec) * 1_000_000):06d}Z"


_FIELDS_JSON = json.JSONEncoder(sort_keys=True, default=str)
"""A create group's fields as the journal keeps them (one encoder, not one per group)."""


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
    """Matching records that are not the group's own, when it was first sent
    (the snapshot plus what earlier groups of its key created, or a count)."""
    created: int
    """Records of the group known to exist (acknowledged or counted)."""
    requests: int
    last_error: str | None


@attrs.frozen
class SnapshotRecord:
    """A job's baseline snapshot: records per reconcile key before anything was sent."""

    counts: dict[str, int]
    """Reconcile key (:func:`~nexudus_async.bulk.snapshot.key_text`) to records;
    a key of the job that is absent had none."""
    taken_at: str
    reads: int
    records: int


class Journal:
    """One SQLite journal file (or ``":memory:"`` for a job that need not resume)."""

    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._pending: list[tuple[str, float, int]] = []
        """Send times not written yet: they go with the next transaction."""
        self.commits = 0
        """Transactions this object committed (see :meth:`_transaction`)."""
        self.durable_commits = 0
        """Of :attr:`commits`, those fsync'd before returning (``synchronous=FULL``)."""
        self._db = _connect(self._path)
        try:
            if self._path != ":memory:":
                # Small pages: a group's two transactions rewrite a few whole pages each.
                self._db.execute("PRAGMA page_size=1024")  # a new file only
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            (version,) = self._db.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise JournalError(
                    f"{self._path}: journal schema {version} is newer than this version of "
                    f"nexudus-async understands ({SCHEMA_VERSION}); upgrade it, or use "
                    "another journal"
                )
            self._db.executescript(_SCHEMA)
            _add_group_fields(self._db)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise JournalError(f"{self._path}: not a usable journal ({exc})") from exc
        except JournalError:
            self._db.close()
            raise

    @contextlib.contextmanager
    def _transaction(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction, with the send times waiting for one.

        ``durable``: fsync'd before this returns (``synchronous=FULL`` for it).
        """
        full = durable and self._path != ":memory:"
        if full:
            self._db.execute("PRAGMA synchronous=FULL")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if self._pending:
                    self._db.executemany(
                        "INSERT INTO sends (job_id, sent_at, write) VALUES (?, ?, ?)",
                        self._pending,
                    )
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._pending.clear()
            self.commits += 1
            self.durable_commits += full
        finally:
            if full:
                self._db.execute("PRAGMA synchronous=NORMAL")

    @property
    def path(self) -> str:
        return self._path

    def close(self) -> None:
        """Write the send times still waiting, and close the file."""
        try:
            if self._pending:
                with self._transaction():
                    pass
        except sqlite3.Error:
            pass  # only the next run's limiter is a little less careful
        finally:
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

    def jobs(self) -> list[JobRecord]:
        """Every job, oldest first."""
        rows = self._db.execute("SELECT * FROM jobs ORDER BY started_at, rowid").fetchall()
        return [JobRecord(**dict(r)) for r in rows]

    def finish_job(self, job_id: str) -> None:
        self._db.execute(
            "UPDATE jobs SET finished_at = ? WHERE job_id = ? AND finished_at IS NULL",
            (_now(), job_id),
        )

    # the baseline snapshot

    def snapshot(self, job_id: str) -> SnapshotRecord | None:
        """The job's snapshot, or None if it was never (completely) taken."""
        row = self._db.execute("SELECT * FROM snapshots WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            return None
        counts = {
            r["reconcile_key"]: int(r["count"])
            for r in self._db.execute(
                "SELECT reconcile_key, count FROM snapshot_counts WHERE job_id = ?", (job_id,)
            )
        }
        return SnapshotRecord(counts, row["taken_at"], int(row["reads"]), int(row["records"]))

    def save_snapshot(
        self, job_id: str, counts: Mapping[str, int], *, reads: int, records: int
    ) -> None:
        """Record the snapshot and its marker in one transaction (all or nothing).

        Only before any group of the job is recorded: once one was sent, a
        snapshot would count the job's own records as pre-existing ones.
        """
        with self._transaction() as db:
            if self.has_groups(job_id):
                raise ValueError(f"job {job_id} has sent groups already: too late for a snapshot")
            db.execute("DELETE FROM snapshot_counts WHERE job_id = ?", (job_id,))
            db.executemany(
                "INSERT INTO snapshot_counts (job_id, reconcile_key, count) VALUES (?, ?, ?)",
                [(job_id, key, n) for key, n in counts.items() if n],
            )
            db.execute(
                "INSERT INTO snapshots (job_id, taken_at, reads, records) VALUES (?, ?, ?, ?)",
                (job_id, _now(), reads, records),
            )

    # send times: what the account spent, for the rate limiter of a rerun

    def record_send(self, job_id: str, *, write: bool, at: float | None = None) -> None:
        """A request of the job is about to go (Unix time ``at``, default now).

        Written with the next transaction (a create's is the group's intent,
        made durable before the request leaves); counting one request too many
        only makes a rerun a little slower, missing a read or two after a crash
        a little less careful.
        """
        self._pending.append((job_id, time.time() if at is None else at, int(write)))

    def send_times(self, *, since: float, write: bool) -> list[float]:
        """Unix times of the writes (or reads) any job of this journal sent since ``since``.

        Send times older than :data:`SEND_HISTORY` before ``since`` are dropped
        on the way: no window remembers them, and the file stays small.
        """
        with self._transaction() as db:
            db.execute("DELETE FROM sends WHERE sent_at < ?", (since - SEND_HISTORY,))
            rows = db.execute(
                "SELECT sent_at FROM sends WHERE sent_at >= ? AND write = ? ORDER BY sent_at",
                (since, int(write)),
            ).fetchall()
        return [float(r[0]) for r in rows]

    def record_stop(self, job_id: str, *, groups_left: int, records_left: int, reason: str) -> None:
        """The job stopped with groups never sent: all of them, in one transaction.

        Nothing else is needed for them (a group without a row was never
        sent); this says how many and why, for the next run.
        """
        with self._transaction() as db:
            db.execute(
                "INSERT INTO stops (job_id, stopped_at, groups_left, records_left, reason)"
                " VALUES (?, ?, ?, ?, ?)",
                (job_id, _now(), groups_left, records_left, reason),
            )

    # groups

    def has_groups(self, job_id: str) -> bool:
        """Whether any group of the job was ever marked sending."""
        row = self._db.execute("SELECT 1 FROM groups WHERE job_id = ? LIMIT 1", (job_id,))
        return row.fetchone() is not None

    def group(self, job_id: str, group_key: str) -> GroupRecord | None:
        row = self._db.execute(
            "SELECT * FROM groups WHERE job_id = ? AND group_key = ?", (job_id, group_key)
        ).fetchone()
        return None if row is None else _group(row)

    def groups(self, job_id: str) -> dict[str, GroupRecord]:
        rows = self._db.execute("SELECT * FROM groups WHERE job_id = ?", (job_id,))
        return {r["group_key"]: _group(r) for r in rows}

    def groups_of(self, job_id: str, keys: list[str]) -> dict[str, GroupRecord]:
        """The records of these groups of the job (those it has), in a few queries."""
        out: dict[str, GroupRecord] = {}
        for i in range(0, len(keys), 500):  # SQLite's bound on parameters is 999 or more
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT * FROM groups WHERE job_id = ? AND group_key IN ({marks})",
                (job_id, *chunk),
            )
            out.update((r["group_key"], _group(r)) for r in rows)
        return out

    def mark_sending(
        self,
        job_id: str,
        group_key: str,
        *,
        expected: int,
        baseline: int,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        """The group may be sent from now on: its baseline, fsync'd before this returns.

        Called right before a group's first create request (with the send time
        recorded just before), and again for a group that failed definitely
        (its ``created`` is exact) with a fresh baseline; never for a group
        whose outcome is unknown. ``fields``: a create group's body, kept so
        that an undo finds its passes from the journal alone.
        """
        text = None if fields is None else _FIELDS_JSON.encode(dict(fields))
        with self._transaction(durable=True) as db:
            db.execute(
                "INSERT INTO groups (job_id, group_key, state, expected, baseline, updated_at,"
                " fields) VALUES (?, ?, 'sending', ?, ?, ?, ?)"
                " ON CONFLICT (job_id, group_key) DO UPDATE SET state = 'sending',"
                " expected = excluded.expected, baseline = excluded.baseline,"
                " updated_at = excluded.updated_at,"
                " fields = COALESCE(excluded.fields, groups.fields)",
                (job_id, group_key, expected, baseline, _now(), text),
            )

    def group_fields(self, job_id: str) -> dict[str, dict[str, Any]]:
        """The create groups' fields the journal kept (journals before schema 4 kept none)."""
        rows = self._db.execute(
            "SELECT group_key, fields FROM groups WHERE job_id = ? AND fields IS NOT NULL",
            (job_id,),
        )
        return {r["group_key"]: json.loads(r["fields"]) for r in rows}

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

    def settle(
        self,
        job_id: str,
        key: str,
        *,
        state: GroupState,
        created: int,
        requests: int,
        error: str | None = None,
    ) -> None:
        """A record op's outcome, with or without an intent before it (one relaxed transaction).

        Record ops share the groups table (``expected`` 1, ``baseline`` 0):
        one journal format for every kind of job.
        """
        with self._transaction() as db:
            db.execute(
                "INSERT INTO groups (job_id, group_key, state, expected, baseline, created,"
                " requests, last_error, updated_at) VALUES (?, ?, ?, 1, 0, ?, ?, ?, ?)"
                " ON CONFLICT (job_id, group_key) DO UPDATE SET state = excluded.state,"
                " created = excluded.created, requests = groups.requests + excluded.requests,"
                " last_error = excluded.last_error, updated_at = excluded.updated_at",
                (job_id, key, state, created, requests, error, _now()),
            )

    def _update(
        self,
        job_id: str,
        group_key: str,
        state: GroupState,
        created: int,
        requests: int,
        error: str | None,
    ) -> None:
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE groups SET state = ?, created = ?, requests = ?,"
                " last_error = ?, updated_at = ? WHERE job_id = ? AND group_key = ?",
                (state, created, requests, error, _now(), job_id, group_key),
            )
            if cur.rowcount != 1:
                raise KeyError(f"group {group_key} of job {job_id} was never marked sending")


def _connect(path: str) -> sqlite3.Connection:
    """Open the file, or say in :class:`JournalError` why it cannot be a journal."""
    if path != ":memory:":
        p = Path(path)
        if not p.parent.is_dir():
            raise JournalError(f"{path}: no such directory {str(p.parent)!r}")
        if p.exists() and not p.is_file():
            raise JournalError(f"{path}: not a regular file")
        if p.exists() and not os.access(p, os.R_OK | os.W_OK):
            raise JournalError(f"{path}: cannot read and write it (permission denied)")
    try:
        db = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: cannot open it ({exc})") from exc
    db.row_factory = sqlite3.Row
    return db


def _add_group_fields(db: sqlite3.Connection) -> None:
    """A journal of schema 3 or earlier gains the groups' ``fields`` column (empty)."""
    columns = {r[1] for r in db.execute("PRAGMA table_info(groups)")}
    if "fields" not in columns:
        db.execute("ALTER TABLE groups ADD COLUMN fields TEXT")


def _group(row: sqlite3.Row) -> GroupRecord:
    d = dict(row)
    d.pop("updated_at", None)
    d.pop("fields", None)
    return GroupRecord(**d)
