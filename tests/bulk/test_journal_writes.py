"""What a job writes to its journal: two transactions per group, the first durable; a stop
settles every unsent group in one.

The statements are read from SQLite's own trace of the journal's connection,
so the count does not trust the journal's bookkeeping: a transaction is a
``BEGIN`` ... ``COMMIT``, or a write statement outside one (autocommit).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nexudus_async._core.auth import BasicAuth
from nexudus_async._core.throttle import RateLimits
from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk.executor import BulkProgress, rows_from_mappings, run_bulk
from nexudus_async.bulk.gateway import ResourceGateway
from nexudus_async.bulk.journal import Journal
from nexudus_async.bulk.plan import make_plan
from nexudus_async.bulk.rows import validate_rows
from nexudus_async.client import NexudusClient
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    EmulatorServer,
    ThrottleLimits,
    run_emulator,
)

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class Trace:
    """The journal connection's statements, grouped into transactions."""

    def __init__(self, journal: Journal) -> None:
        self.transactions: list[list[str]] = []
        self._open: list[str] | None = None
        self._durable = False
        journal._db.set_trace_callback(self._on)

    def _on(self, sql: str) -> None:
        text = " ".join(sql.split())
        head = text.split(" ", 1)[0].upper()
        if text.upper().startswith("PRAGMA SYNCHRONOUS=FULL"):
            self._durable = True
        elif text.upper().startswith("PRAGMA SYNCHRONOUS=NORMAL"):
            self._durable = False
        elif head == "BEGIN":
            self._open = []
        elif head in ("COMMIT", "END"):
            assert self._open is not None
            self.transactions.append([*self._open, "durable" if self._durable else "relaxed"])
            self._open = None
        elif head == "ROLLBACK":
            self._open = None
        elif self._open is not None:
            self._open.append(text)
        elif head in WRITES:
            self.transactions.append([text, "durable" if self._durable else "relaxed"])

    def writing(self) -> list[list[str]]:
        """Transactions that wrote something."""
        return [t for t in self.transactions if any(s.split(" ", 1)[0] in WRITES for s in t)]


def _rows(groups: int) -> list[dict[str, Any]]:
    return [
        {"CoworkerId": 5000 + i, "BusinessId": 1, "TimePassId": 1 + i % 2} for i in range(groups)
    ]


def _plan(groups: int) -> Any:
    valid, errors = validate_rows(COWORKER_TIME_PASS, rows_from_mappings(_rows(groups)))
    assert not errors
    return make_plan(COWORKER_TIME_PASS, valid)


def _client(emu: EmulatorServer) -> NexudusClient:
    return NexudusClient(
        base_url=emu.base_url,
        auth=BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD),
        rate_limits=RateLimits.published().scaled(0.001),
    )


class _CheckingGateway(ResourceGateway):
    """Before each create: the group's ``sending`` row is committed (another connection sees it)."""

    def __init__(self, resource: Any, path: Path, stop_after: int | None = None) -> None:
        super().__init__(resource)
        self.path = path
        self.creates = 0
        self.stop = asyncio.Event()
        self.stop_after = stop_after
        self.seen_states: list[str] = []

    async def create(self, fields: Mapping[str, Any], count: int) -> Any:
        self.creates += 1
        if self.stop_after is not None and self.creates >= self.stop_after:
            self.stop.set()
        with contextlib.closing(sqlite3.connect(self.path)) as other:
            (n,) = other.execute("SELECT COUNT(*) FROM groups WHERE state = 'sending'").fetchone()
        self.seen_states.append(f"{n} sending")
        return await super().create(fields, count)


async def _run(tmp_path: Path, groups: int) -> tuple[Trace, _CheckingGateway]:
    config = EmulatorConfig(time_scale=0.001, limits=ThrottleLimits.off())
    path = tmp_path / f"j{groups}.sqlite"
    async with run_emulator(config) as emu, _client(emu) as client:
        with Journal(path) as journal:
            trace = Trace(journal)
            gateway = _CheckingGateway(client.coworker_time_passes, path)
            report = await run_bulk(_plan(groups), gateway, journal=journal, concurrency=1)
        assert report.ok and report.create_requests == groups
    return trace, gateway


async def test_two_transactions_per_group_the_intent_durable_and_before_the_request(
    tmp_path: Path,
) -> None:
    small, _ = await _run(tmp_path, 6)
    big, gateway = await _run(tmp_path, 30)
    # The job's fixed cost cancels out: what 24 more groups add is 2 each.
    assert len(big.writing()) - len(small.writing()) == 2 * 24
    intents = [t for t in big.writing() if any("state, expected, baseline" in s for s in t)]
    outcomes = [t for t in big.writing() if any(s.startswith("UPDATE groups SET") for s in t)]
    assert len(intents) == len(outcomes) == 30
    for t in intents:  # fsync'd, with the create's send time, before the create leaves
        assert t[-1] == "durable"
        assert any(s.startswith("INSERT INTO sends") for s in t)
    assert all(t[-1] == "relaxed" for t in outcomes)
    durable = [t for t in big.writing() if t[-1] == "durable"]
    assert durable == intents  # nothing else pays for an fsync
    # Seen from another connection as each create went out (concurrency 1): committed.
    assert gateway.seen_states == ["1 sending"] * 30


async def test_a_stop_settles_every_unsent_group_in_one_transaction_and_one_progress_line(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(time_scale=0.001, limits=ThrottleLimits.off())
    path = tmp_path / "j.sqlite"
    seen: list[BulkProgress] = []

    async def progress(p: BulkProgress) -> None:
        seen.append(p)

    plan = _plan(400)
    async with run_emulator(config) as emu, _client(emu) as client:
        with Journal(path) as journal:
            trace = Trace(journal)
            gateway = _CheckingGateway(client.coworker_time_passes, path, stop_after=10)
            report = await run_bulk(
                plan, gateway, journal=journal, concurrency=2, stop=gateway.stop, progress=progress
            )
            stops = journal._db.execute("SELECT groups_left, records_left, reason FROM stops")
            (stop_row,) = stops.fetchall()
    assert report.interrupted
    sent = gateway.creates
    assert 10 <= sent <= 11  # the stop started no request; the one in flight finished
    not_sent = [g for g in report.groups if g.status == "not_sent"]
    assert len(not_sent) == 400 - sent
    assert all(g.status in ("created", "not_sent") for g in report.groups)
    assert tuple(stop_row) == (
        400 - sent,
        400 - sent,
        "interrupted before it was sent; re-run to resume",
    )
    # After the last create: the in-flight outcomes, then ONE transaction for the rest.
    writes = trace.writing()
    last_intent = max(i for i, t in enumerate(writes) if t[-1] == "durable")
    after = writes[last_intent + 1 :]
    assert sum(any("INSERT INTO stops" in s for s in t) for t in after) == 1
    assert len(after) <= 2 + 1  # at most the two groups in flight, and the stop
    # Progress: no line per unsent group; the last says stopping, counts them not sent.
    assert len(seen) <= 2 * sent + 4
    assert seen[-1].stopping and seen[-1].records_not_sent == 400 - sent
    assert seen[-1].records_failed == 0
    assert [p.requests_sent for p in seen] == sorted(p.requests_sent for p in seen)
    assert [p.records_done for p in seen] == sorted(p.records_done for p in seen)
