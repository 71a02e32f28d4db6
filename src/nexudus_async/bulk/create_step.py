"""A job's create groups: baselines, one ``CreateMultiple`` per group, reconciliation by counting.

See :mod:`.executor` for the reasoning (snapshot, baseline, the one-writer
assumption). Groups sharing a reconcile key are sent one after the other
under the key's lock, and none while one of them has an unresolved outcome.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from typing import Any, Literal

import attrs

from .._core.errors import NexudusError
from . import stopping
from .gateway import BulkGateway, SnapshotGateway
from .journal import GroupRecord
from .plan import Group, GroupList, Plan, reconcile_keys_of
from .policy import decide
from .report import BaselineSource, GroupResult
from .run_state import Run, Stopped, Unresolved, log
from .snapshot import KeyedPage, Snapshot, SnapshotAbandoned, key_text, take_snapshot
from .stopping import SendingStopped

__all__ = ["CreateStep"]


def _shared_keys(groups: Sequence[Group]) -> dict[tuple[Any, ...], list[str]]:
    """The groups of each reconcile key that has more than one (the plan keeps them together).

    Only those: a job of 100,000 customers would otherwise keep 100,000 lists of one.
    """
    shared: dict[tuple[Any, ...], list[str]] = {}
    keys = (g.key for g in groups) if not isinstance(groups, GroupList) else groups.keys()
    pairs = zip(keys, reconcile_keys_of(groups), strict=True)
    for (before, before_rk), (key, rk) in itertools.pairwise(pairs):
        if before_rk == rk:
            shared.setdefault(rk, [before]).append(key)
    return shared


def skipped(group: Group, created: int) -> GroupResult:
    reason = "already created by an earlier run"
    return GroupResult(group.key, group.fields, group.count, created, "skipped", 0, reason)


@attrs.define
class _Send:
    """One group's send in this run: what is known so far."""

    group: Group
    record: GroupRecord | None
    created: int = 0
    created_before: int = 0
    requests: int = 0
    attempts: int = 0
    baseline: int = 0
    note: str | None = None
    ids: list[int] = attrs.field(factory=list)
    need_mark: bool = True
    """The intent is not journaled yet for this run's sends (marked right before the first)."""

    @property
    def prior_requests(self) -> int:
        return self.record.requests if self.record is not None else 0


class CreateStep:
    """The create groups of one run."""

    def __init__(self, run: Run, plan: Plan, gateway: BulkGateway, since: str) -> None:
        self.run = run
        self.plan = plan
        self.gateway = gateway
        self.since = since
        self.locks: dict[tuple[Any, ...], tuple[asyncio.Lock, int]] = {}
        """Per reconcile key in use: its lock and how many groups hold or await it."""
        self.blocked: set[tuple[Any, ...]] = set()
        self.same_key = _shared_keys(plan.groups)
        self.snapshot: dict[str, int] | None = None
        """Records per reconcile key before the job sent anything (None: count per group)."""
        self.baseline: BaselineSource = "none"
        self.baseline_note: str | None = None
        self.per_request = plan.per_request
        """Most records one create asks for: read once, not per request."""

    def match(self, group: Group) -> dict[str, Any]:
        return dict(zip(self.plan.entity.reconcile, group.reconcile_key, strict=True))

    async def count(self, group: Group) -> int:
        """Count the group's matching records; a count is a GET, so it may be retried."""
        match = self.match(group)
        return await self.run.read(
            lambda: self.gateway.count(match, self.since), "count", "count the existing records"
        )

    # ------------------------------------------------------------------ baselines

    async def prepare(self, anything_to_send: bool) -> None:
        """Decide where baselines come from, reading the snapshot if the job needs one.

        A snapshot is only ever taken before the job's first group is sent: after
        that it would count the job's own records as pre-existing ones.
        """
        run = self.run
        if not anything_to_send:
            return  # nothing to send: no baseline needed
        saved = run.journal.snapshot(run.job_id)
        if saved is not None:  # taken by an earlier run of this job
            self.snapshot, self.baseline = saved.counts, "journal"
            return
        if run.journal.has_groups(run.job_id):
            self.baseline = "per_group"
            self.baseline_note = (
                "an earlier run sent groups without a snapshot: one count before each group"
            )
            return
        if run.stopped():
            return
        try:
            snap = await self.take_snapshot()
        except (SnapshotAbandoned, Unresolved) as exc:
            self.baseline = "per_group"
            self.baseline_note = f"no snapshot ({exc}): one count before each group"
            log.info("bulk job %s: %s", run.job_id[:12], self.baseline_note)
            return
        # Marker and counts in one transaction: a crash before it leaves no
        # snapshot, and since nothing was sent yet, the next run takes it again.
        run.journal.save_snapshot(run.job_id, snap.counts, reads=snap.reads, records=snap.records)
        self.snapshot, self.baseline = snap.counts, "snapshot"

    async def take_snapshot(self) -> Snapshot:
        fields = self.plan.entity.reconcile
        groups = self.plan.groups
        what = "read the existing records"
        # Narrow the list by every reconcile field all the groups share.
        match = {
            f: groups[0].reconcile_key[i]
            for i, f in enumerate(fields)
            if len({rk[i] for rk in reconcile_keys_of(groups)}) == 1
        }
        keys = {key_text(rk) for rk in reconcile_keys_of(groups)}
        gateway = self.gateway
        if len(match) == len(fields):
            # A single key: its count is the whole snapshot.
            n = await self.run.read(lambda: gateway.count(match, self.since), "snapshot", what)
            return Snapshot({next(iter(keys)): n}, reads=1, records=n)
        if not isinstance(gateway, SnapshotGateway):
            raise SnapshotAbandoned("the gateway cannot read list pages", 0)
        reader = gateway

        async def fetch(page: int, size: int) -> KeyedPage:
            return await self.run.read(
                lambda: reader.snapshot_page(match, self.since, page, size), "snapshot", what
            )

        return await take_snapshot(fetch, keys, budget=self.plan.snapshot_budget)

    def baseline_from_journal(self, group: Group) -> int:
        """The snapshot's count of the group's key plus what its other groups created.

        Exact because the other groups of the key are resolved: they are sent one
        at a time under the key's lock, and none is sent while one is unresolved.
        """
        assert self.snapshot is not None
        run = self.run
        baseline = self.snapshot.get(key_text(group.reconcile_key), 0)
        for key in self.same_key.get(group.reconcile_key, ()):
            other = run.journal.group(run.job_id, key) if key != group.key else None
            if other is None:
                continue
            if other.state == "sending":  # pragma: no cover - prevented by the ordering
                raise Unresolved(
                    "another group of the same key has an unresolved outcome; not sent"
                )
            baseline += other.created
        return baseline

    async def start(self, s: _Send) -> None:
        """The baseline (and, for a group left ``sending``, what exists) before sending."""
        record, group = s.record, s.group
        s.created = s.created_before = record.created if record is not None else 0
        s.need_mark = record is None or record.state == "failed"
        if record is None:
            if self.snapshot is not None:
                s.baseline = self.baseline_from_journal(group)
            else:
                s.baseline = await self.count(group)
        elif record.state == "failed":
            # A definite failure: ``created`` is exact, but later groups of the
            # same key may have been created since, so take a fresh baseline.
            s.baseline = await self.count(group) - s.created
        else:  # "sending": the outcome of the last send is unknown
            s.baseline = record.baseline
            s.created = s.created_before = await self.count(group) - s.baseline

    # ------------------------------------------------------------------ one group

    async def run_group(self, group: Group, state: str | None) -> GroupResult:
        run = self.run
        record = run.journal.group(run.job_id, group.key) if state is not None else None
        if record is not None and record.state == "done":
            return skipped(group, record.created)
        rkey = group.reconcile_key
        lock, users = self.locks.get(rkey) or (asyncio.Lock(), 0)
        self.locks[rkey] = (lock, users + 1)
        created = record.created if record else 0
        try:
            async with lock:
                return await self._run_locked(group, record, created)
        finally:
            lock, users = self.locks[rkey]
            if users == 1:
                del self.locks[rkey]  # no other group of the key waits: memory stays flat
            else:
                self.locks[rkey] = (lock, users - 1)

    async def _run_locked(
        self, group: Group, record: GroupRecord | None, created: int
    ) -> GroupResult:
        """A group under its key's lock: sent, or not (stopping, or its key blocked)."""
        run = self.run
        if run.stopped():
            return self.not_sent(group, created)
        if group.reconcile_key in self.blocked:
            return self.not_sent(
                group,
                created,
                "not sent: an earlier group for the same "
                + " and ".join(self.plan.entity.reconcile)
                + " has an unresolved outcome; re-run to resume",
            )
        async with run.sem:
            # Checked again here: the flag may have been set while waiting.
            if run.stopped():
                return self.not_sent(group, created)
            if record is not None:  # read again: an earlier group of the key may have moved it
                record = run.journal.group(run.job_id, group.key)
            result = await self.send_group(_Send(group, record))
        if result.status == "failed" and self._left_unresolved(group):
            self.blocked.add(group.reconcile_key)
        return result

    def not_sent(self, group: Group, created: int, reason: str | None = None) -> GroupResult:
        """A group this run sent nothing for (by default: because the job stopped)."""
        reason = reason or self.run.stop_reason()
        return GroupResult(group.key, group.fields, group.count, created, "not_sent", 0, reason)

    def _left_unresolved(self, group: Group) -> bool:
        rec = self.run.journal.group(self.run.job_id, group.key)
        return rec is not None and rec.state == "sending"

    def result(
        self, s: _Send, status: Literal["created", "failed"], reason: str | None
    ) -> GroupResult:
        group = s.group
        return GroupResult(
            group.key, group.fields, group.count, s.created, status, s.requests, reason=reason,
            resumed=s.record is not None, created_before=s.created_before, ids=tuple(s.ids),
        )  # fmt: skip

    def failed(self, s: _Send, reason: str) -> GroupResult:
        """A definite failure: ``created`` is exact, so the journal can say so."""
        run = self.run
        requests = s.prior_requests + s.requests
        run.journal.mark_failed(
            run.job_id, s.group.key, created=s.created, requests=requests, error=reason
        )
        return self.result(s, "failed", reason)

    def stopped_before_send(self, s: _Send) -> GroupResult:
        """Stopped between sends: ``created`` is exact, so the journal can say so."""
        if s.need_mark:  # nothing of this run is in the journal, nor was sent
            return self.not_sent(s.group, s.created)
        self.failed(s, "interrupted before the next create was sent")
        return attrs.evolve(
            self.result(s, "failed", None), status="not_sent", reason=self.run.stop_reason()
        )

    def done(self, s: _Send) -> GroupResult:
        run, group = self.run, s.group
        missing = group.count - s.created
        if missing < 0:
            s.note = (
                f"counted {-missing} more record(s) than requested: another "
                "writer created passes for the same customer and time pass?"
            )
            log.warning("group %s: %s", group.key, s.note)
        requests = s.prior_requests + s.requests
        run.journal.mark_done(run.job_id, group.key, created=s.created, requests=requests)
        return self.result(s, "created", s.note)

    async def send_group(self, s: _Send) -> GroupResult:
        try:
            await self.start(s)
            while True:
                missing = s.group.count - s.created
                if missing <= 0:
                    return self.done(s)
                if s.attempts >= self.run.max_attempts:
                    return self.failed(s, f"gave up after {s.attempts} attempts: {s.note}")
                if self.run.stopped():
                    return self.stopped_before_send(s)
                end = await self.send_once(s, missing)
                if end is not None:
                    return end
        except Stopped:
            return self.interrupted_reconciling(s)
        except Unresolved as exc:
            if self.run.journal.group(self.run.job_id, s.group.key) is None:
                reason = f"{exc}; nothing was sent for the group, re-run to send it"
            else:
                reason = f"{exc}; the journal keeps the group as 'sending', re-run to reconcile"
            return self.result(s, "failed", reason)

    def interrupted_reconciling(self, s: _Send) -> GroupResult:
        rec = self.run.journal.group(self.run.job_id, s.group.key)
        if rec is None or rec.state != "sending":  # exact: nothing left unknown
            return self.not_sent(s.group, s.created)
        # A reconciling count was not made: the outcome stays unknown.
        reason = (
            "interrupted while reconciling; the journal keeps the group as "
            "'sending', re-run to reconcile"
        )
        return attrs.evolve(self.result(s, "failed", reason), status="not_sent")

    async def send_once(self, s: _Send, missing: int) -> GroupResult | None:
        """One create request and what follows it (the policy's table); a result ends the group."""
        run, group = self.run, s.group
        # CreateMultiple is a 32-bit integer, however many passes the group holds.
        most = self.per_request
        chunk = missing if most is None else min(missing, most)
        s.attempts += 1
        s.requests += 1
        run.journal.record_send(run.job_id, write=True)
        if s.need_mark:  # the intent: one durable transaction, with the send time
            run.journal.mark_sending(
                run.job_id,
                group.key,
                expected=group.count,
                baseline=s.baseline,
                fields=group.fields,
            )
            s.need_mark = False
        try:
            answer = await self.create(group, chunk)
        except (NexudusError, SendingStopped) as exc:
            return await self.after_error(s, exc)
        run.answered = True
        new_id = getattr(answer, "id", None)
        if isinstance(new_id, int) and not isinstance(new_id, bool):
            s.ids.append(new_id)
        s.created += chunk
        if s.created < group.count:  # else the loop's next turn marks it done
            requests = s.prior_requests + s.requests
            run.journal.mark_sent(run.job_id, group.key, created=s.created, requests=requests)
            await run.report_progress()
        return None

    async def after_error(self, s: _Send, exc: NexudusError | SendingStopped) -> GroupResult | None:
        decision = decide(exc, "create", answered=self.run.answered)
        action = decision.action
        if action == "stopped":
            s.requests -= 1  # refused before it went out
            return self.stopped_before_send(s)
        if action == "reconcile":
            s.note = f"{decision.why}; reconciled by counting"
            log.info("group %s: %s", s.group.key, s.note)
            s.created = await self.count(s.group) - s.baseline
            return None
        if action == "retry":
            s.note = decision.why
            await self.run.backoff(s.attempts)
            return None
        if action == "stop" and isinstance(exc, NexudusError):
            self.run.stop_job(exc)
        return self.failed(s, str(exc))

    async def create(self, group: Group, chunk: int) -> Any:
        """One create request; counted as sent once it has an outcome (counts only grow)."""
        run = self.run
        try:
            answer = await stopping.unless_stopped(
                run.stop, lambda: self.gateway.create(group.fields, chunk)
            )
        except SendingStopped:
            raise
        except BaseException:
            run.c.requests_sent += 1
            raise
        run.c.requests_sent += 1
        return answer
