"""The demo's code path, on a small file (``make demo`` runs it on the shipped sample)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nexudus_async.demo import run_demo, sample_path

from .helpers import sample_rows, write_csv


def test_shipped_sample_is_big_enough_and_coalesces() -> None:
    with sample_path().open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    passes = sum(int(r["CreateMultiple"] or 1) for r in rows)
    customers = {r["CoworkerId"] for r in rows}
    groups = {tuple(v for k, v in r.items() if k != "CreateMultiple") for r in rows}
    assert passes >= 2000
    assert len(customers) >= 100
    assert len(groups) < len(rows) / 4  # coalescing matters


async def test_demo_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "small.csv", sample_rows(customers=15, passes=120, seed=2))
    assert await run_demo(time_scale=0.01, progress="log", path=path) == 0
    out = capsys.readouterr().out
    assert "Demo succeeded." in out
    assert "per customer and time pass: all match" in out
    assert "+ 1 snapshot read;" in out
