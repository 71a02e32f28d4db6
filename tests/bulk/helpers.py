"""Shared helpers of the bulk tests: sample rows and counting what a store holds."""

from __future__ import annotations

import asyncio
import csv
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from nexudus_async._generated.api import COWORKER_TIME_PASS
from nexudus_async.bulk.kinds.records import from_list_item

CTP = "coworkertimepasses"


def sample_rows(
    *, customers: int, passes: int, seed: int = 7, time_passes: tuple[int, ...] = (1, 2)
) -> list[dict[str, Any]]:
    """Rows asking for exactly ``passes`` passes, spread over customers and time passes.

    Some rows carry a count (CreateMultiple), some a note, so groups coalesce
    rows of different shapes.
    """
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    left = passes
    while left > 0:
        c = 1000 + rng.randrange(customers)
        tp = rng.choice(time_passes)
        n = min(left, rng.choice((1, 1, 1, 2, 3)))
        row: dict[str, Any] = {"CoworkerId": c, "BusinessId": 1, "TimePassId": tp}
        if n > 1 or rng.random() < 0.3:
            row["CreateMultiple"] = n
        if c % 3 == 0:
            row["Notes"] = "imported"
        rows.append(row)
        left -= n
    return rows


def expected_counts(rows: Iterable[Mapping[str, Any]]) -> Counter[tuple[int, int]]:
    want: Counter[tuple[int, int]] = Counter()
    for r in rows:
        want[(int(r["CoworkerId"]), int(r["TimePassId"]))] += int(r.get("CreateMultiple") or 1)
    return want


def distinct_groups(rows: Iterable[Mapping[str, Any]]) -> int:
    return len({(r["CoworkerId"], r["BusinessId"], r["TimePassId"], r.get("Notes")) for r in rows})


def store_counts(records: Iterable[Mapping[str, Any]]) -> Counter[tuple[int, int]]:
    """Per customer and time pass, from single-record shaped (emu.store.all) records."""
    got: Counter[tuple[int, int]] = Counter()
    for rec in records:
        got[(int(rec["CoworkerId"]), int(rec["TimePassId"]))] += 1
    return got


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    fields = ["CoworkerId", "BusinessId", "TimePassId", "CreateMultiple", "Notes"]
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in fields})
    return path


def stop_after(groups: int) -> tuple[asyncio.Event, Callable[[Any], Awaitable[None]]]:
    """A job's stop event, and a progress callback that sets it once ``groups`` are done."""
    stop = asyncio.Event()

    async def progress(p: Any) -> None:
        if p.groups_done == groups:
            stop.set()

    return stop, progress


def ctp(rid: int, **fields: Any) -> Any:
    """A coworker pass as planning knows it (from a list record's JSON)."""
    listed = {
        "Id": rid, "Coworker": 101, "Business": 1, "TimePass": 7, "Used": False,
        "Free": False, "Price": None, "ExpireDate": "2027-01-31T00:00:00Z", "Notes": None,
    }  # fmt: skip
    listed.update(fields)
    return from_list_item(COWORKER_TIME_PASS, listed)
