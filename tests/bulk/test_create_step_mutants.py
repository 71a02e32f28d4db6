"""A create group's ends the other tests leave one line short of: each reason word for word,
what the journal keeps, the ids and counts a report gives.

In-process through ``run_job`` against the emulator, with gateways that answer
a create or a count the way the API would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexudus_async._core.errors import OutcomeUnknownError, ThrottledError, ValidationError
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk import JobPlan, ResourceGateway, run_job
from nexudus_async.bulk.executor import rows_from_mappings
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.testing import EmulatorConfig, ThrottleLimits, run_emulator

from .helpers import CTP
from .test_bulk_api_in_process import client_for

OFF = EmulatorConfig(limits=ThrottleLimits.off())


def creates(*rows: dict[str, Any]) -> JobPlan:
    base = {"BusinessId": 1, "TimePassId": 1, "CreateMultiple": 2}
    valid, errors = validate_rows(COWORKER_TIME_PASS, rows_from_mappings([base | r for r in rows]))
    assert not errors
    return JobPlan.from_plan(make_plan(COWORKER_TIME_PASS, valid))


class _Scripted(ResourceGateway):
    """Creates and counts answered from a script first (an exception to raise, or None: the
    real call), then for real."""

    def __init__(self, resource: Any, **script: list[BaseException | None]) -> None:
        super().__init__(resource)
        self.script = script
        self.calls: list[str] = []

    def _next(self, name: str) -> None:
        self.calls.append(name)
        queue = self.script.get(name, [])
        error = queue.pop(0) if queue else None
        if error is not None:
            raise error

    async def create(self, fields: Any, count: int) -> Any:
        self._next("create")
        return await super().create(fields, count)

    async def count(self, match: Any, since: str) -> int:
        self._next("count")
        return await super().count(match, since)


def refused(text: str) -> ValidationError:
    return ValidationError(text, status=400)


async def test_a_count_refused_before_the_first_send_says_nothing_was_sent(
    tmp_path: Path,
) -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        # the snapshot's count refused (counts per group then), the group's too
        gateway = _Scripted(client.coworker_time_passes, count=[refused("no"), refused("no")])
        with Journal(tmp_path / "j.sqlite") as journal:
            report = await run_job(creates({"CoworkerId": 7}), gateway, journal=journal)
            assert report.job_id is not None
            assert journal.groups(report.job_id) == {}
    [group] = report.groups
    assert (group.status, group.created, group.requests) == ("failed", 0, 0)
    assert group.reason == (
        "could not count the existing records: no; "
        "nothing was sent for the group, re-run to send it"
    )
    assert report.baseline == "per_group"
    assert emu.store.all(CTP) == []


async def test_a_create_left_unknown_and_not_counted_is_kept_sending(tmp_path: Path) -> None:
    lost = OutcomeUnknownError("the answer was lost")
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        # the snapshot's count, then the reconciling one refused
        gateway = _Scripted(client.coworker_time_passes, create=[lost], count=[None, refused("no")])
        plan = creates({"CoworkerId": 7})
        with Journal(tmp_path / "j.sqlite") as journal:
            report = await run_job(plan, gateway, journal=journal)
            assert report.job_id is not None
            states = {k: g.state for k, g in journal.groups(report.job_id).items()}
            again = await run_job(
                plan, ResourceGateway(client.coworker_time_passes), journal=journal
            )
    [group] = report.groups
    assert (group.status, group.requests) == ("failed", 1)
    assert group.reason == (
        "could not count the existing records: no; "
        "the journal keeps the group as 'sending', re-run to reconcile"
    )
    assert list(states.values()) == ["sending"]
    [group] = again.groups
    # the lost create never reached the store: the rerun counts 0 and sends it
    assert (group.status, group.created, group.resumed, group.created_before) == (
        "created", 2, True, 0,
    )  # fmt: skip
    assert len(emu.store.all(CTP)) == 2


async def test_a_create_throttled_on_every_attempt_gives_up_saying_why() -> None:
    throttled = [ThrottledError("You must wait", status=409) for _ in range(3)]
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = _Scripted(client.coworker_time_passes, create=throttled)
        report = await run_job(
            creates({"CoworkerId": 7}), gateway, max_attempts=3, throttle_backoff=0.001
        )
    [group] = report.groups
    assert (group.status, group.created, group.requests) == ("failed", 0, 3)
    assert group.reason == "gave up after 3 attempts: throttled (You must wait)"
    assert emu.store.all(CTP) == []


async def test_a_group_counted_over_its_size_says_another_writer_may_have_created() -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:

        class Other(_Scripted):
            async def create(self, fields: Any, count: int) -> Any:
                await ResourceGateway.create(self, fields, count)
                emu.store.insert(CTP, {**fields, "Notes": "someone else's"})
                raise OutcomeUnknownError("the answer was lost")

        report = await run_job(creates({"CoworkerId": 7}), Other(client.coworker_time_passes))
    [group] = report.groups
    assert (group.status, group.created) == ("created", 3)
    assert group.reason == (
        "counted 1 more record(s) than requested: another writer created passes "
        "for the same customer and time pass?"
    )


async def test_a_failed_group_left_unresolved_blocks_the_other_groups_of_its_key(
    tmp_path: Path,
) -> None:
    lost = OutcomeUnknownError("the answer was lost")
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        gateway = _Scripted(client.coworker_time_passes, create=[lost], count=[None, refused("no")])
        # two groups of one customer and time pass (different prices)
        plan = creates({"CoworkerId": 7, "Price": 1}, {"CoworkerId": 7, "Price": 2})
        with Journal(tmp_path / "j.sqlite") as journal:
            report = await run_job(plan, gateway, journal=journal, concurrency=1)
    statuses = [(g.status, g.requests) for g in report.groups]
    assert statuses == [("failed", 1), ("not_sent", 0)]
    assert report.groups[1].reason == (
        "not sent: an earlier group for the same CoworkerId and TimePassId "
        "has an unresolved outcome; re-run to resume"
    )


async def test_each_created_id_is_reported() -> None:
    async with run_emulator(OFF) as emu, client_for(emu) as client:
        plan = creates(
            {"CoworkerId": 7, "CreateMultiple": 1}, {"CoworkerId": 8, "CreateMultiple": 1}
        )
        report = await run_job(plan, ResourceGateway(client.coworker_time_passes))
    ids = sorted(i for g in report.groups for i in g.ids)
    assert ids == sorted(r["Id"] for r in emu.store.all(CTP)) and len(ids) == 2
