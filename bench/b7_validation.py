"""7. Validation speed: rows per second for a 100,000-row CSV file, read and validated.

What ``nexudus-async import FILE --dry-run`` does before anything is sent:
read the file (``cli.input_files.read_rows``) and validate every row against
the descriptor (``bulk.rows.validate_rows``). Timed in process CPU time,
median of interleaved repeats; the target is 50,000 rows/s.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import common

ROWS = 100_000
REPEATS = 5
TARGET = 50_000


def _write(path: Path, rows: int) -> None:
    rng = random.Random(7)
    lines = ["CoworkerId,BusinessId,TimePassId,CreateMultiple,Price,ExpireDate,Notes"]
    for i in range(rows):
        lines.append(
            f"{rng.randint(1, 5000)},1,{rng.randint(1, 5)},{rng.randint(1, 4)},"
            f"{rng.choice(['12.50', '0', '25'])},2027-0{rng.randint(1, 9)}-1{rng.randint(0, 9)},"
            f"row {i}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run() -> dict[str, Any]:
    from nexudus_async._generated.api import COWORKER_TIME_PASS
    from nexudus_async.bulk.rows import validate_rows
    from nexudus_async.cli.input_files import read_rows

    rows = 10_000 if common.QUICK else ROWS
    repeats = 1 if common.QUICK else REPEATS
    read_s: list[float] = []
    validate_s: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "passes.csv"
        _write(path, rows)
        for _ in range(repeats):
            COWORKER_TIME_PASS.memo.clear()  # every repeat starts cold, like a run
            t0 = time.process_time()
            source = read_rows(path, COWORKER_TIME_PASS)
            t1 = time.process_time()
            valid, errors = validate_rows(COWORKER_TIME_PASS, source.rows)
            t2 = time.process_time()
            if errors or source.errors or len(valid) != rows:
                raise RuntimeError(f"expected {rows} valid rows, got {len(valid)}: {errors[:3]}")
            read_s.append(t1 - t0)
            validate_s.append(t2 - t1)
    total = [r + v for r, v in zip(read_s, validate_s, strict=True)]
    return {
        "rows": rows,
        "repeats": repeats,
        "read_s": statistics.median(read_s),
        "validate_s": statistics.median(validate_s),
        "rows_per_s": rows / statistics.median(total),
        "range": [rows / max(total), rows / min(total)],
    }


def render(res: dict[str, Any]) -> str:
    met = res["rows_per_s"] >= TARGET
    return (
        f"A {res['rows']:,}-row CoworkerTimePass CSV read and validated as `import --dry-run` "
        f"does before sending anything; {res['repeats']} repeats, process CPU time, median.\n\n"
        "| measure | value |\n|---|---|\n"
        f"| reading the file | {res['read_s']:.2f} s |\n"
        f"| validating the rows | {res['validate_s']:.2f} s |\n"
        f"| rows per second, read + validate | **{res['rows_per_s']:,.0f}** "
        f"(range {res['range'][0]:,.0f}–{res['range'][1]:,.0f}) |\n"
        f"| target | ≥ {TARGET:,} rows/s: {'met' if met else '**missed**'} |\n"
    )


if __name__ == "__main__":
    print(render(run()))
