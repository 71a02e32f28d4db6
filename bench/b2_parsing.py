"""Benchmark 2: structuring a 100-record list page into models.

The same bytes (one CoworkerTimePass page of 100 realistic list records)
go through each variant; each timing is ``number`` calls (process CPU time),
repeated with the variants interleaved, and the per-call median is reported.
GC stays on: the objects a parser allocates are part of its cost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import common
import fixtures
import orjson
import stock
from common import Missing, median

RECORDS = 100


def variants() -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
    body = fixtures.dumps(fixtures.page(1, RECORDS, 10_000))
    decoded = json.loads(body)
    out: dict[str, Callable[[], Any]] = {
        "json": lambda: json.loads(body),
        "orjson": lambda: orjson.loads(body),
    }
    errors: dict[str, str] = {}

    try:
        stock.generate()
        StockPage = stock.model("coworker_time_pass_page", "CoworkerTimePassPage")
        out["stock"] = lambda: StockPage.from_dict(json.loads(body))
        out["stock_models_only"] = lambda: StockPage.from_dict(decoded)
    except Missing as e:
        errors["stock"] = str(e)

    try:
        from nexudus_async._core.transport import loads
        from nexudus_async._core.wire import structure
        from nexudus_async._generated.models import CoworkerTimePassPage
    except ImportError as e:
        errors["ours"] = f"generated package or converter not importable: {e}"
    else:
        # exactly what a generated endpoint does: structure(response.json(), Page)
        out["ours"] = lambda: structure(loads(body), CoworkerTimePassPage)
        out["ours_json"] = lambda: structure(json.loads(body), CoworkerTimePassPage)
        try:  # a plain install (no orjson): the transport decodes money exactly, as Decimal
            from nexudus_async._core.decimals import json_loads
        except ImportError as e:
            errors["ours_exact_json"] = f"no exact decoder in this tree: {e}"
        else:
            out["ours_exact_json"] = lambda: structure(json_loads(body), CoworkerTimePassPage)
        out["ours_models_only"] = lambda: structure(decoded, CoworkerTimePassPage)

    # every variant must really build the page, or its time means nothing
    for key, fn in list(out.items()):
        try:
            page = fn()
            records = page["Records"] if isinstance(page, dict) else page.records
            if len(records) != RECORDS:
                raise ValueError(f"{len(records)} records")
        except Exception as e:
            errors[key] = f"{type(e).__name__}: {e}"
            del out[key]
    labels = {
        "json": "`json.loads` alone",
        "orjson": "`orjson.loads` alone",
        "stock": "stock: `Page.from_dict(json.loads(body))`",
        "ours": "ours: `structure(loads(body), Page)` (orjson, as the transport does)",
        "ours_json": "ours with `json.loads` (same decoder as stock)",
        "ours_exact_json": "ours without orjson (`json`, `parse_float=Decimal`, as the transport)",
        "stock_models_only": "stock `from_dict` only (pre-decoded)",
        "ours_models_only": "ours `structure` only (pre-decoded)",
    }
    return out, {**errors, **{f"label:{k}": v for k, v in labels.items()}}


def run(repeats: int = 31, budget: float = 0.03) -> dict[str, Any]:
    if common.QUICK:
        repeats = 3
    fns, info = variants()
    errors = {k: v for k, v in info.items() if not k.startswith("label:")}
    labels = {k[6:]: v for k, v in info.items() if k.startswith("label:")}
    # calibrate `number` so one timing takes about `budget` seconds per variant
    numbers: dict[str, int] = {}
    for key, fn in fns.items():
        for _ in range(3):
            fn()
        t0 = time.perf_counter()
        fn()
        one = max(time.perf_counter() - t0, 1e-6)
        numbers[key] = max(5, int(budget / one))
    samples: dict[str, list[float]] = {k: [] for k in fns}
    keys = list(fns)
    for r in range(repeats):
        order = keys[r % len(keys) :] + keys[: r % len(keys)]
        for key in order:
            fn, n = fns[key], numbers[key]
            # CPU time of this process: on a shared machine, time other processes
            # hold the core is not charged to the variant that happened to be running
            t0 = time.process_time()
            for _ in range(n):
                fn()
            samples[key].append((time.process_time() - t0) / n)
    per_call = {k: median(v) for k, v in samples.items()}
    ratios: dict[str, float] = {}

    def ratio(slow: str, fast: str) -> None:
        if slow in samples and fast in samples:
            pairs = zip(samples[slow], samples[fast], strict=True)
            ratios[f"{slow}/{fast}"] = median([a / b for a, b in pairs])

    ratio("stock", "ours")
    ratio("stock", "ours_json")
    ratio("stock", "ours_exact_json")
    ratio("stock_models_only", "ours_models_only")
    ratio("ours", "json")
    ratio("ours", "orjson")
    ratio("stock", "json")
    return {
        "records": RECORDS,
        "repeats": repeats,
        "numbers": numbers,
        "per_call_us": {k: v * 1e6 for k, v in per_call.items()},
        "ratios": ratios,
        "labels": labels,
        "errors": errors,
    }


if __name__ == "__main__":
    import pprint

    pprint.pprint(run(repeats=5))
