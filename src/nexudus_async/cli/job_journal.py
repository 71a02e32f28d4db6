"""The journal policy every bulk command shares: which file, whose lock, which job.

A job is held before its first request (the journal open, the job's lock
taken) or the run sends nothing; the job to run is the latest one of the
same content (resumed), a new one with ``--new-job`` after a finished one,
and never a second one over an unfinished job for different content.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import attrs

from .._core.environment import normalize_base_url
from .._core.limiter import account_key
from ..bulk.journal import JobRecord, Journal, JournalError
from ..bulk.lock import JobLock, JobLockedError, JobLockError, job_identity
from .connect import Connection
from .failures import EXIT_USAGE, failure_line

__all__ = [
    "Held",
    "JobWords",
    "choose_job",
    "default_journal",
    "hold_job",
    "lock_job",
    "open_journal",
    "same_content",
]


@attrs.frozen
class JobWords:
    """What the journal's messages say a job of this kind would do twice, or has done."""

    twice: str = "create passes twice"
    finished: str = (
        "every pass of this file was created by that job; nothing to send "
        "(--new-job imports the file again)"
    )


@attrs.define
class Held:
    """The job's journal, open, and its lock, taken (see :mod:`..bulk.lock`)."""

    path: Path
    journal: Journal
    lock: JobLock | None
    """Taken by :func:`lock_job` (None while only the journal is open)."""
    created: bool
    """The journal file did not exist before this run."""

    def close(self) -> None:
        unused = self.created and not self.journal.jobs()
        self.journal.close()
        if unused:  # stopped before its job began (bad rows): leave no file behind
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        if self.lock is not None:
            self.lock.release()


def default_journal(source: Path) -> Path:
    """``FILE.journal.sqlite`` next to the input file."""
    return source.with_name(source.name + ".journal.sqlite")


async def hold_job(
    path: Path,
    conn: Connection,
    job_hash: str,
    source_name: str,
    *,
    wait: bool,
    out: TextIO,
    err: TextIO,
) -> Held | int:
    """Open the journal and lock the job: exit 2 if either cannot be, 75 if another run has it."""
    opened = open_journal(path, err)
    if isinstance(opened, int):
        return opened
    journal, created = opened
    return await lock_job(
        Held(path, journal, None, created), conn, job_hash, source_name, wait=wait, out=out, err=err
    )


async def lock_job(
    held: Held,
    conn: Connection,
    job_hash: str,
    source_name: str,
    *,
    wait: bool,
    out: TextIO,
    err: TextIO,
) -> Held | int:
    """Take the job's lock for an open journal (closed again if it cannot be taken)."""
    account = account_key(normalize_base_url(conn.base_url), conn.auth.user())
    identity = job_identity(account, job_hash)
    lock = JobLock(identity, journal=held.path, job=f"{job_hash[:12]} ({source_name})")
    try:
        try:
            lock.try_acquire()
        except JobLockedError as exc:
            if not wait:
                raise
            print(f"waiting: {exc} (--wait)", file=out, flush=True)
            await lock.acquire(wait=True)
    except (JobLockedError, JobLockError) as exc:
        held.close()
        code, text = failure_line(exc, conn, resumable=False)
        print(text if code != EXIT_USAGE else f"{text}; nothing was sent", file=err)
        return code
    held.lock = lock
    return held


def open_journal(path: Path, err: TextIO) -> tuple[Journal, bool] | int:
    """The journal, and whether this run created its file; or exit 2."""
    created = not path.exists()
    try:
        return Journal(path), created
    except JournalError as exc:
        print(f"error: journal {exc}; nothing was sent", file=err)
        return EXIT_USAGE


def choose_job(
    held: Held,
    job_hash: str,
    *,
    new_job: bool,
    out: TextIO,
    err: TextIO,
    words: JobWords = JobWords(),
) -> str | int:
    """The job to run in the journal (resumed, or new), said in one line; or exit 2."""
    journal_path, journal = held.path, held.journal
    others = [j for j in journal.unfinished_jobs() if not same_content(j.job_id, job_hash)]
    if others and not new_job:
        print(
            f"error: the journal {journal_path} holds an unfinished job started "
            f"{others[0].started_at} for different content ({others[0].source}). "
            f"Re-running the changed file could {words.twice}. Finish that job "
            "with its original file, or pass --new-job (or another --journal).",
            file=err,
        )
        return EXIT_USAGE
    job_id, previous = _job_for(journal, job_hash, new_job=new_job)
    if previous is not None:
        state = "complete" if previous.finished_at else "unfinished"
        print(
            f"journal: {journal_path}: resuming the {state} job started {previous.started_at}",
            file=out,
        )
        if previous.finished_at:
            print(f"  {words.finished}", file=out)
    else:
        print(f"journal: {journal_path}" + (f" (new job {job_id})" if new_job else ""), file=out)
    return job_id


def same_content(job_id: str, job_hash: str) -> bool:
    """Jobs of one file's content: its hash, then ``hash:2``, ``hash:3``... (--new-job)."""
    return job_id.split(":", 1)[0] == job_hash


def _job_for(journal: Journal, job_hash: str, *, new_job: bool) -> tuple[str, JobRecord | None]:
    """The job to run and, when it is resumed, its record.

    The latest job of the same content is resumed; with ``new_job``, a
    finished one is followed by a new job (``hash:N``), so the file is
    imported again. An unfinished one is always resumed: starting another
    over it could create its passes twice.
    """
    mine = [j for j in journal.jobs() if same_content(j.job_id, job_hash)]
    if not mine:
        return job_hash, None
    latest = mine[-1]
    if latest.finished_at is None or not new_job:
        return latest.job_id, latest
    return f"{job_hash}:{len(mine) + 1}", None
