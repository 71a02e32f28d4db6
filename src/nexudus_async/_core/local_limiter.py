"""A rate limiter shared by every process of this machine that works on one account.

Two imports started at once, each with its own in-memory limiter, would each
take the whole account's limits. Here the windows (the 100 ms spacing, per
minute, per hour, per day, writes apart), the pause after a throttled answer
and the adaptive widening live in a small file under the user's state
directory, one per account: no server to run. Every decision holds an
exclusive ``flock`` on the file for a few microseconds; the operating system
drops the lock when its holder dies, so a ``kill -9`` never leaves it stuck.

The rules are the in-memory limiter's own
(:class:`~nexudus_async._core.throttle.RateLimiter`): each process keeps one,
loads the shared state into it under the lock, lets it decide, and saves
what changed. The file holds a header (a generation, how many sends were
ever appended, the last send, the pause, the widening) and two rings of send
times, all requests and writes. Times are Unix times: a store outlives a
reboot, as the API's daily window does. A process reads only what was
appended since it last looked; priming rewrites the rings under a new
generation, and the others then read them in full.

Across machines, use :class:`~nexudus_async._core.redis_limiter.RedisRateLimiter`.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import os
import struct
import time
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

from .throttle import Clock, RateLimiter, RateLimits, Sleep, SpacingState

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "ENV_STATE_DIR",
    "LimiterStoreError",
    "LocalRateLimiter",
    "shared_spending",
    "state_directory",
]

ENV_STATE_DIR = "NEXUDUS_STATE_DIR"
"""Where the stores live instead of ``$XDG_STATE_HOME/nexudus-async`` (tests, containers)."""

_MAGIC = b"NXLIMIT2"
# magic, ring capacities (all, writes), generation, sends appended (all, writes),
# then the SpacingState: last, paused_until, widened, calm, late.
_HEADER = struct.Struct("<8sIIQQQdddqd")
_OWNER = struct.Struct("<Q")  # who sent last (a random id per limiter), after the header
_OWNER_AT = 120
_HEADER_SIZE = 128
_CLOCK_STEP = 1.0
"""A last send further in the future than this means the wall clock was set back."""
_LOCK_POLL = 0.0005
"""Seconds between two tries of a lock another process holds (it holds it microseconds)."""


class LimiterStoreError(Exception):
    """The shared store cannot be used (path and reason in the message; never a secret)."""


def state_directory(env: Mapping[str, str] | None = None) -> Path:
    """``$NEXUDUS_STATE_DIR``, else ``$XDG_STATE_HOME/nexudus-async``, else
    ``~/.local/state/nexudus-async``."""
    env = os.environ if env is None else env
    if env.get(ENV_STATE_DIR):
        return Path(env[ENV_STATE_DIR])
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "nexudus-async"


def store_path(directory: Path, account: str, limits: RateLimits) -> Path:
    """One file per account and limits (processes keeping other limits keep their own)."""
    fingerprint = hashlib.sha256(repr(limits).encode()).hexdigest()[:12]
    return directory / "limits" / f"{account}-{fingerprint}.bin"


class _Store:
    """The file: a header and two rings of send times, read and written under ``flock``."""

    def __init__(self, path: Path, cap_all: int, cap_writes: int, lock_timeout: float) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise LimiterStoreError("a shared rate-limit store needs fcntl (not on Windows)")
        self.path = path
        self.lock_timeout = lock_timeout
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise _store_error(path, exc) from None
        self._close = weakref.finalize(self, os.close, self.fd)
        try:
            self.lock_blocking()
            try:
                self.cap_all, self.cap_writes = self._open_or_create(cap_all, cap_writes)
            finally:
                self.unlock()
        except BaseException:
            self.close()
            raise
        self._writes_at = _HEADER_SIZE + 8 * self.cap_all

    def _open_or_create(self, cap_all: int, cap_writes: int) -> tuple[int, int]:
        head = os.pread(self.fd, _HEADER.size, 0)
        if len(head) == _HEADER.size and head[:8] == _MAGIC:
            _, a, w, *_ = _HEADER.unpack(head)
            if a >= cap_all and w >= cap_writes:
                return a, w
        # New, torn while created, or made for smaller windows: start empty (sparse file).
        os.ftruncate(self.fd, 0)
        os.ftruncate(self.fd, _HEADER_SIZE + 8 * (cap_all + cap_writes))
        self._write_header(cap_all, cap_writes, 0, 0, 0, SpacingState())
        return cap_all, cap_writes

    # ---------------------------------------------------------------- locking

    def try_lock(self) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as exc:
            raise _store_error(self.path, exc) from None
        return True

    def lock_blocking(self) -> None:
        deadline = time.monotonic() + self.lock_timeout
        while not self.try_lock():
            if time.monotonic() > deadline:
                raise self.stuck()
            time.sleep(_LOCK_POLL)

    def stuck(self) -> LimiterStoreError:
        return LimiterStoreError(
            f"{self.path}: another process has held the shared rate-limit store's lock "
            f"for more than {self.lock_timeout:g}s (stopped?)"
        )

    def unlock(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._close()

    # ---------------------------------------------------------------- reading, writing

    def header(self) -> tuple[int, int, int, SpacingState]:
        """Generation, sends appended (all, writes), spacing state."""
        _, _, _, gen, n_all, n_w, *state = _HEADER.unpack(os.pread(self.fd, _HEADER.size, 0))
        return gen, n_all, n_w, SpacingState(*state)

    def _write_header(
        self, cap_all: int, cap_w: int, gen: int, n_all: int, n_w: int, st: SpacingState
    ) -> None:
        head = _HEADER.pack(
            _MAGIC,
            *(cap_all, cap_w, gen, n_all, n_w),
            *(st.last, st.paused_until, st.widened, st.calm, st.late),
        )
        os.pwrite(self.fd, head, 0)

    def save_header(self, gen: int, n_all: int, n_w: int, state: SpacingState) -> None:
        self._write_header(self.cap_all, self.cap_writes, gen, n_all, n_w, state)

    def last_owner(self) -> int:
        (owner,) = _OWNER.unpack(os.pread(self.fd, _OWNER.size, _OWNER_AT))
        return int(owner)

    def set_last_owner(self, owner: int) -> None:
        os.pwrite(self.fd, _OWNER.pack(owner), _OWNER_AT)

    def read(self, writes: bool, first: int, end: int) -> list[float]:
        """Sends number ``first`` to ``end - 1`` of a ring (the last ``cap`` at most)."""
        base, cap = (self._writes_at, self.cap_writes) if writes else (_HEADER_SIZE, self.cap_all)
        out: list[float] = []
        k = max(first, end - cap, 0)
        while k < end:
            pos = k % cap
            n = min(end - k, cap - pos)
            out.extend(struct.unpack(f"<{n}d", os.pread(self.fd, 8 * n, base + 8 * pos)))
            k += n
        return out

    def write(self, writes: bool, first: int, times: list[float]) -> None:
        """Store ``times`` as sends number ``first`` on (only the last ``cap`` stay)."""
        base, cap = (self._writes_at, self.cap_writes) if writes else (_HEADER_SIZE, self.cap_all)
        skip = max(len(times) - cap, 0)
        k, times = first + skip, times[skip:]
        while times:
            pos = k % cap
            n = min(len(times), cap - pos)
            os.pwrite(self.fd, struct.pack(f"<{n}d", *times[:n]), base + 8 * pos)
            k, times = k + n, times[n:]


def _store_error(path: Path, exc: OSError) -> LimiterStoreError:
    return LimiterStoreError(f"{path}: cannot use the shared rate-limit store ({exc.strerror})")


class LocalRateLimiter:
    """The account's limits, shared by every process of this machine through a local file.

    ::

        async with LocalRateLimiter(RateLimits.published()) as limiter, NexudusClient(
            auth=auth, rate_limiter=limiter
        ) as client:
            ...

    The command line uses it by default. Args:
        limits: The limits (the published ones by default; ``.scaled(f)`` for
            an emulator with ``time_scale=f``). Processes share a store when
            they keep the same limits on the same account.
        account: The key of the account; by default the client binds it (a
            hash of its base URL and user, never a secret).
        directory: Where the stores live (default :func:`state_directory`).
        lock_timeout: Seconds to wait for another process's lock before
            raising :class:`LimiterStoreError` (only a stopped process holds it that long).
        clock: Unix-time clock of the windows; sleep: the wait (both for tests).
    """

    def __init__(
        self,
        limits: RateLimits | None = RateLimits.published(),  # noqa: B008 - frozen, shared
        *,
        account: str | None = None,
        directory: Path | str | None = None,
        lock_timeout: float = 10.0,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._limits = limits
        self._directory = Path(directory) if directory is not None else state_directory()
        self._lock_timeout = lock_timeout
        self._clock = clock
        self._sleep = sleep
        self._rules = RateLimiter(limits, clock=clock)
        self._id = int.from_bytes(os.urandom(8), "little") or 1
        self._cross_margin = _cross_margin(limits)
        self._read_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._store: _Store | None = None
        self._account: str | None = None
        self._seen = (-1, 0, 0)  # generation, sends appended (all, writes) we hold
        self._late: float | None = None  # our last wake-up's lateness, shared at the next decision
        self.acquired = 0
        """Requests this process let through."""
        if account is not None:
            self.bind_account(account)

    @staticmethod
    def check_directory(directory: Path) -> None:
        """Raise :class:`LimiterStoreError` unless stores can be created and locked there."""
        if fcntl is None:  # pragma: no cover - Windows
            raise LimiterStoreError("a shared rate-limit store needs fcntl (not on Windows)")
        probe = directory / "limits" / "probe.lock"
        try:
            probe.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(probe, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise _store_error(probe.parent, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another process probing: locks work
        except OSError as exc:
            raise _store_error(probe.parent, exc) from None
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ protocol

    @property
    def limits(self) -> RateLimits | None:
        return self._limits

    @property
    def path(self) -> Path | None:
        """The store's file (once bound to an account)."""
        return self._store.path if self._store is not None else None

    def bind_account(self, account: str) -> None:
        """Open (or create) the account's store; :class:`LimiterStoreError` if it cannot be used."""
        if self._account is not None:
            if self._account != account:
                raise ValueError(
                    "this LocalRateLimiter already serves another account; use one per account"
                )
            return
        self._account = account
        if self._limits is not None:
            sent, writes = self._rules.histories()
            path = store_path(self._directory, account, self._limits)
            self._store = _Store(path, sent.maxlen or 1, writes.maxlen or 1, self._lock_timeout)

    def try_acquire(self, *, write: bool = False) -> bool:
        if self._limits is None:
            return True
        if (self._write_lock if write else self._read_lock).locked():
            return False  # others of this process queue first
        store = self._bound()
        if not store.try_lock():
            return False
        try:
            granted = self._take(write) <= 0
        finally:
            store.unlock()
        if granted:
            self.acquired += 1
        return granted

    async def acquire(self, *, write: bool = False) -> None:
        if self._limits is None:
            return
        store = self._bound()
        # One poller per process and kind: the others queue here, first come first served.
        async with self._write_lock if write else self._read_lock:
            due = None
            for _ in range(10_000_000):  # bounded; each turn sleeps what the store said
                now = self._clock()
                if due is not None:
                    self._late = now - due
                    due = None
                await self._lock(store)
                try:
                    delay = self._take(write)
                finally:
                    store.unlock()
                if delay <= 0:
                    self.acquired += 1
                    return
                due = self._clock() + delay
                await self._sleep(delay)
            raise RuntimeError("the shared rate limiter did not let a request go")

    async def report_throttled(self, wait: float) -> None:
        if self._limits is None:
            return
        store = self._bound()
        await self._lock(store)
        try:
            gen, n_all, n_w = self._sync(store)
            self._rules.throttled(wait)  # everybody pauses; the spacing widens a step
            store.save_header(gen, n_all, n_w, self._rules.spacing_state())
        finally:
            store.unlock()

    async def prime(
        self, sent_at: Iterable[float], *, write: bool = True, now: float | None = None
    ) -> int:
        """Add an earlier run's requests the shared windows lack (see ``Limiter.prime``).

        What another process of this machine already counted, the store has:
        nothing is added twice. Returns how many the store gained.
        """
        if self._limits is None:
            return 0
        sends = list(sent_at)
        store = self._bound()
        await self._lock(store)
        try:
            gen, _, _ = self._sync(store)
            added = self._rules.count_earlier(sends, write=write, now=now)
            if added:
                self._rewrite(store, gen + 1)
        finally:
            store.unlock()
        return added

    # ------------------------------------------------------------------ reading

    def spent(self, now: float | None = None) -> tuple[list[float], list[float]]:
        """Send times the shared windows count, in seconds relative to ``now`` (not above 0):
        reads, writes. Records nothing."""
        if self._limits is None:
            return [], []
        store = self._bound()
        store.lock_blocking()
        try:
            self._sync(store)
        finally:
            store.unlock()
        sent, writes = self._rules.histories()
        at = self._clock() if now is None else now
        reads = collections.Counter(sent)
        reads.subtract(writes)  # each write is in both histories
        return sorted(t - at for t in reads.elements()), [t - at for t in writes]

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the store's file (the shared state stays for the others)."""
        if self._store is not None:
            self._store.close()

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> LocalRateLimiter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<LocalRateLimiter account={self._account} path={self.path}>"

    # ------------------------------------------------------------------ internals

    def _bound(self) -> _Store:
        if self._store is None:
            raise RuntimeError(
                "LocalRateLimiter has no account: pass account= or use it in a client"
            )
        return self._store

    async def _lock(self, store: _Store) -> None:
        # The holder keeps it microseconds: poll rather than block the event loop.
        deadline = time.monotonic() + self._lock_timeout
        while not store.try_lock():
            if time.monotonic() > deadline:
                raise store.stuck()
            await asyncio.sleep(_LOCK_POLL)

    def _sync(self, store: _Store) -> tuple[int, int, int]:
        """Load what other processes changed into our rules (the lock held)."""
        gen, n_all, n_w, state = store.header()
        seen_gen, seen_all, seen_w = self._seen
        sent, writes = self._rules.histories()
        fresh_all, fresh_w = store.read(False, seen_all, n_all), store.read(True, seen_w, n_w)
        if gen != seen_gen or n_all - seen_all > len(fresh_all) or n_w - seen_w > len(fresh_w):
            # primed by another process, or we fell more than a ring behind: read it all
            self._rules.replace_histories(store.read(False, 0, n_all), store.read(True, 0, n_w))
        else:
            sent.extend(fresh_all)
            writes.extend(fresh_w)
        self._rules.load_spacing_state(state)
        if self._late is not None:  # a late wake-up widens everybody's spacing (throttle.py)
            self._rules.note_lateness(self._late)
            self._late = None
        self._seen = (gen, n_all, n_w)
        return gen, n_all, n_w

    def _rewrite(self, store: _Store, gen: int) -> tuple[int, int, int]:
        """Write our rules' state as the store's new generation (the others read it all)."""
        sent, writes = (list(h) for h in self._rules.histories())
        store.write(False, 0, sent)
        store.write(True, 0, writes)
        self._seen = (gen, len(sent), len(writes))
        store.save_header(gen, len(sent), len(writes), self._rules.spacing_state())
        return self._seen

    def _clock_stepped_back(self, store: _Store, gen: int, now: float) -> tuple[int, int, int]:
        """The wall clock went back (an NTP step): move the shared timeline back with it,
        or every request would wait for the clock to catch up with the last send."""
        state = self._rules.spacing_state()
        jump = state.last - now
        sent, writes = self._rules.histories()
        self._rules.replace_histories([t - jump for t in sent], [t - jump for t in writes])
        self._rules.load_spacing_state(
            attrs.evolve(state, last=state.last - jump, paused_until=state.paused_until - jump)
        )
        return self._rewrite(store, gen + 1)

    def _take(self, write: bool) -> float:
        """One decision on the shared state (the lock held); a granted request is saved."""
        store = self._bound()
        gen, n_all, n_w = self._sync(store)
        now = self._clock()
        if self._rules.spacing_state().last > now + _CLOCK_STEP:
            gen, n_all, n_w = self._clock_stepped_back(store, gen, now)
        shared = self._rules.spacing_state()
        if store.last_owner() != self._id:
            # Another process sent last: its request left from another event loop and
            # CPU share, so the two may reach the server closer than they were decided.
            # One more jitter margin from it (the windows, not the spacing, set a long
            # job's pace: RateLimiter.pressed).
            self._rules.load_spacing_state(
                attrs.evolve(shared, last=shared.last + self._cross_margin)
            )
        delay = self._rules.take(now, write)
        if delay > 0:  # save what changed: the lateness, not the margin
            state = attrs.evolve(self._rules.spacing_state(), last=shared.last)
            store.save_header(gen, n_all, n_w, state)
            return delay
        store.set_last_owner(self._id)
        store.write(False, n_all, [now])
        n_all += 1
        if write:
            store.write(True, n_w, [now])
            n_w += 1
        store.save_header(gen, n_all, n_w, self._rules.spacing_state())
        self._seen = (gen, n_all, n_w)
        return 0.0


def _cross_margin(limits: RateLimits | None) -> float:
    """After another process's request, one jitter margin more (see ``_take``), unless
    the spacing would then set a window's pace (a time scale of 0.01: 6 ms against 10)."""
    if limits is None:
        return 0.0
    spacing = limits.min_interval + 2 * limits.margin
    if all(w.limit * spacing <= w.period for w in limits.windows):
        return limits.margin
    return 0.0


def shared_spending(
    limits: RateLimits | None,
    account: str,
    *,
    directory: Path | str | None = None,
    now: float | None = None,
) -> tuple[list[float], list[float]]:
    """What the processes of this machine spent of the account's windows (reads, writes;
    seconds relative to now), without recording anything or creating a store."""
    if limits is None or fcntl is None:
        return [], []
    where = Path(directory) if directory is not None else state_directory()
    if not store_path(where, account, limits).exists():
        return [], []
    limiter = LocalRateLimiter(limits, account=account, directory=where)
    try:
        return limiter.spent(now)
    finally:
        limiter.close()
