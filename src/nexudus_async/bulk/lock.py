"""One runner per job: an exclusive lock the operating system drops when its holder dies.

A job (the same content, entity and account) must never be sent by two runs
at once: the second would find groups the first marks ``sending`` and create
them again. Before its first request a run takes two ``flock`` locks and keeps
them to the end:

- the journal's (``<journal>.lock`` beside it): one runner per journal file;
- the job's identity (a hash of the account and the job's content) under the
  user's state directory (``$NEXUDUS_STATE_DIR``, else
  ``$XDG_STATE_HOME/nexudus-async``, else ``~/.local/state/nexudus-async``), so
  the same job under another journal path is refused too.

``flock`` locks belong to an open file, so two runs in one process exclude
each other as two processes do, and the kernel releases them when the process
dies (``kill -9`` leaves no stale lock). The lock files say who holds them
(pid, host, since when), for the message the next run prints. The guarantee
is per machine: across hosts, :mod:`.lease` adds a lease in Redis.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import errno
import fcntl
import hashlib
import json
import os
import socket
from pathlib import Path

import attrs

from .._core.errors import NexudusError
from .._core.local_limiter import ENV_STATE_DIR, state_directory

__all__ = [
    "ENV_STATE_DIR",
    "Holder",
    "JobLock",
    "JobLockError",
    "JobLockedError",
    "job_identity",
    "state_dir",
]

WAIT_POLL = 0.2
"""Seconds between two tries of a lock a run waits for (``wait=True``)."""


def state_dir() -> Path:
    """Where this user's job locks live: the state directory the shared limiter uses too."""
    return state_directory()


def job_identity(account: str | None, job_hash: str) -> str:
    """The job as the lock knows it: the account (a non-secret hash) and the content hash."""
    return hashlib.sha256(f"{account or ''}\0{job_hash}".encode()).hexdigest()[:32]


@attrs.frozen
class Holder:
    """Who holds a job: written into the lock file by the holder."""

    pid: int
    host: str
    since: str
    """When it took the lock (UTC, ISO 8601 to the second)."""
    job: str = ""
    journal: str | None = None

    def describe(self) -> str:
        where = f" (journal {self.journal})" if self.journal else ""
        return f"pid {self.pid} on {self.host} since {self.since}{where}"

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Holder | None:
        try:
            d = json.loads(text)
            return cls(int(d["pid"]), str(d["host"]), str(d["since"]), str(d.get("job", "")),
                       d.get("journal"))  # fmt: skip
        except (ValueError, KeyError, TypeError):
            return None  # being written, or not ours: the holder is unknown

    @classmethod
    def me(cls, job: str, journal: str | None) -> Holder:
        since = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return cls(os.getpid(), socket.gethostname(), since, job, journal)


class JobLockedError(NexudusError):
    """Another run holds the job: this one sent nothing. Try again later (exit 75).

    Attributes:
        job: the job as named in messages.
        holder: who holds it, when it said so (None: unknown).
    """

    def __init__(self, job: str, holder: Holder | None, *, where: str = "") -> None:
        who = holder.describe() if holder is not None else "another run (holder unknown)"
        super().__init__(f"job {job} is already running{where}: {who}")
        self.job = job
        self.holder = holder


class JobLockError(NexudusError):
    """The job's lock cannot be taken at all (a file system without locks, no state
    directory, Redis unreachable for the lease): nothing was sent.

    Attributes:
        path: the lock file (or the Redis key) concerned.
        temporary: whether trying again later may work (Redis), or the input must change.
    """

    def __init__(self, path: str, why: str, *, temporary: bool = False) -> None:
        super().__init__(f"{path}: cannot lock the job ({why})")
        self.lock_path = path
        self.temporary = temporary


class _LockFile:
    """One ``flock``-ed file; its content names the holder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self, holder: Holder) -> bool:
        """Take the lock without waiting; False if another open file holds it."""
        for _ in range(8):  # the file may be replaced between open and flock: retry
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return False
                raise JobLockError(str(self.path), _why(exc)) from exc
            if _same_file(fd, self.path):
                os.ftruncate(fd, 0)
                os.pwrite(fd, holder.to_json().encode(), 0)
                self.fd = fd
                return True
            os.close(fd)  # unlinked by the holder that released it: take the new one
        raise JobLockError(str(self.path), "the lock file keeps being replaced")

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise JobLockError(str(self.path), _why(exc)) from exc

    def holder(self) -> Holder | None:
        try:
            return Holder.from_json(self.path.read_text(errors="replace"))
        except OSError:
            return None

    def release(self) -> None:
        if self.fd is None:
            return
        # Unlinked while still held: a run that opened it meanwhile sees it replaced.
        try:
            if _same_file(self.fd, self.path):
                self.path.unlink()
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _why(exc: OSError) -> str:
    if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
        return "the file system does not support locks: use a local disk"
    return exc.strerror or str(exc)


class JobLock:
    """The locks of one job run: its journal's (if it has a file) and its identity's.

    Both or neither: a run that gets one but not the other lets go of it, so
    two runs waiting for each other never deadlock.
    """

    def __init__(self, identity: str, *, journal: str | Path | None, job: str) -> None:
        self.job = job
        self.journal = None if journal in (None, ":memory:") else str(journal)
        files = [state_dir() / "jobs" / f"{identity}.lock"]
        if self.journal is not None:
            files.insert(0, Path(self.journal + ".lock"))
        self._files = [_LockFile(p) for p in files]
        self.held = False

    def try_acquire(self) -> None:
        """Take every lock now, or release what was taken and raise ``JobLockedError``."""
        me = Holder.me(self.job, self.journal)
        taken: list[_LockFile] = []
        for f in self._files:
            if not f.try_acquire(me):
                holder = f.holder()
                for t in taken:
                    t.release()
                raise JobLockedError(self.job, holder)
            taken.append(f)
        self.held = True

    async def acquire(self, *, wait: bool = False) -> None:
        """Take the job; ``JobLockedError`` if another run holds it, unless ``wait``:
        then try again every :data:`WAIT_POLL` seconds until it is free."""
        while True:
            try:
                self.try_acquire()
                return
            except JobLockedError:
                if not wait:
                    raise
            await asyncio.sleep(WAIT_POLL)

    def release(self) -> None:
        for f in reversed(self._files):
            f.release()
        self.held = False
