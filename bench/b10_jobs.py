"""Benchmark 10: the hidden cost of the jobs beyond import (update, apply, undo).

Each job is a real ``nexudus-async`` command (``main()`` imported before the
clock starts, as benchmark 8 runs its jobs) against one emulator process at
the published limits, time-scaled. Three jobs:

- **update** a scope of N records of which C need a change
  (``--where time_pass=7 --set ExpireDate=...``): at least ceil(N / 1,000)
  list pages, then one full read and one PUT per changed record;
- **apply** the same file twice (N rows keyed by ``Id``, C of them
  different): ceil(N / 100) reads by ids, then a read and a PUT per changed
  record; the second run only the reads by ids;
- **undo** an import of P passes in G groups: the passes created in the
  import's window (here the other jobs' records too) in pages of 1,000, then
  a read and a DELETE per pass.

Measured: the requests each run sent (the emulator's count, logins aside)
against that minimum (target: equal), throttled answers (target 0), and the
wall time against the floor the published limits set for those requests
(target at most 1.05x). Two sizes: the issue's (N = 10,000, C = 2,000,
P = 10,000 in 500 groups) for the requests, at a time scale small enough
that it finishes in minutes (there the machine, not the limits, sets the
pace: the wall time is reported, not judged); and a tenth of it at a time
scale where the limits set the pace, for the wall time against the floor.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from typing import Any

import common
from b6_processes import floor
from common import num, table

BILLING = "/api/billing/"
CTP = "coworkertimepasses"
OLD, NEW = "2027-01-31T00:00:00Z", "2027-06-30T00:00:00Z"
MEANINGFUL_FLOOR = 60.0
"""Published seconds below which a floor is start-up, not limits: no ratio is judged."""
SIZES: dict[str, dict[str, Any]] = {
    # the sizes, for the requests; the limits hardly bind at this scale
    "full": {"scale": 0.002, "records": 10_000, "changed": 2_000, "passes": 10_000, "groups": 500},
    # a tenth, at a scale where the limits set the pace: the wall time against the floor
    "paced": {"scale": 0.05, "records": 1_000, "changed": 200, "passes": 1_000, "groups": 50},
}


def _billing(stats: dict[str, Any]) -> dict[str, int]:
    return {r: n for r, n in stats.get("by_route", {}).items() if BILLING in r}


def _diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {r: n - before.get(r, 0) for r, n in after.items() if n - before.get(r, 0)}


class _Bench:
    """One emulator process, the jobs run against it, and what each cost."""

    def __init__(self, emu: Any, tmp: str, scale: float) -> None:
        from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

        self.emu, self.tmp, self.scale = emu, tmp, scale
        self.env = {
            "NEXUDUS_BASE_URL": emu.url,
            "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
            "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
            "NEXUDUS_STATE_DIR": os.path.join(tmp, "state"),
        }

    def seed(self, n: int, changed: int, time_pass: int) -> list[int]:
        """``n`` passes of ``time_pass``, the first ``changed`` with the old ExpireDate."""
        ids: list[int] = []
        for start in range(0, n, 1_000):
            batch = [
                {"CoworkerId": 5_000 + i, "BusinessId": 1, "TimePassId": time_pass,
                 "Used": False, "ExpireDate": OLD if i < changed else NEW}
                for i in range(start, min(n, start + 1_000))
            ]  # fmt: skip
            ids += [int(r["Id"]) for r in self.emu.admin.seed(CTP, *batch)]
        return ids

    def job(self, argv: list[str], minimum: int, writes: int) -> dict[str, Any]:
        """Run one command; its requests, throttled answers and wall time against the floor."""
        from b8_jobs import _run_jobs

        before = self.emu.admin.stats()
        argv = [*argv, "--time-scale", str(self.scale), "--progress", "none"]
        (result,) = _run_jobs([{"env": self.env, "argv": argv}])
        after = self.emu.admin.stats()
        sent = _diff(_billing(after), _billing(before))
        throttled = after["throttled"] - before["throttled"]
        requests = sum(sent.values()) - throttled
        wall = result["ended"] - result["started"]
        f = floor(max(requests, 1), writes, self.scale)
        return {
            "argv": argv[:2], "code": result["code"], "tail": result["tail"][-300:],
            "requests": requests, "minimum": minimum, "by_route": sent,
            "throttled": throttled, "wall": wall, "floor": f,
            "ratio": wall / f if f >= MEANINGFUL_FLOOR * self.scale else None,
        }  # fmt: skip


def _update(b: _Bench, n: int, changed: int) -> dict[str, Any]:
    b.seed(n, changed, time_pass=7)
    minimum = math.ceil(n / 1_000) + 2 * changed
    argv = ["update", "--where", "time_pass=7", "--set", "ExpireDate=2027-06-30"]
    argv += ["--journal", os.path.join(b.tmp, "update.sqlite")]
    return b.job(argv, minimum, changed)


def _apply_twice(b: _Bench, n: int, changed: int) -> list[dict[str, Any]]:
    ids = b.seed(n, changed, time_pass=8)
    path = os.path.join(b.tmp, "apply.csv")
    with open(path, "w") as fh:
        fh.write("Id,ExpireDate\n" + "".join(f"{i},2027-06-30\n" for i in ids))
    by_ids = math.ceil(n / 100)
    argv = ["apply", path, "--key", "Id"]
    first = b.job(argv, by_ids + 2 * changed, changed)
    return [first, b.job(argv, by_ids, 0)]


def _undo(b: _Bench, passes: int, groups: int) -> dict[str, Any]:
    path = os.path.join(b.tmp, "import.csv")
    per = passes // groups
    with open(path, "w") as fh:
        fh.write("CoworkerId,BusinessId,TimePassId,CreateMultiple\n")
        fh.write("".join(f"{90_000 + g},1,{1 + g % 2},{per}\n" for g in range(groups)))
    imported = b.job(["import", path], groups + 1, groups)
    if imported["code"] != 0:
        raise RuntimeError(f"the import to undo failed: {imported['tail']}")
    # The window holds every pass created since a day before the import (the other jobs'
    # records too): its pages, then a read and a DELETE per pass of the import.
    in_window = len(b.emu.admin.records(CTP))
    minimum = math.ceil(in_window / 1_000) + 2 * passes
    return b.job(["undo", path + ".journal.sqlite"], minimum, passes)


def _size(spec: dict[str, Any]) -> dict[str, Any]:
    from nexudus_async.testing.process import EmulatorProcess

    scale = spec["scale"]
    with (
        tempfile.TemporaryDirectory(prefix="nexudus-b10-") as tmp,
        EmulatorProcess("--time-scale", str(scale), startup_timeout=60) as emu,
    ):
        b = _Bench(emu, tmp, scale)
        update = _update(b, spec["records"], spec["changed"])
        first, second = _apply_twice(b, spec["records"], spec["changed"])
        undo = _undo(b, spec["passes"], spec["groups"])
    return {**spec, "update": update, "apply 1": first, "apply 2": second, "undo": undo}


def run() -> dict[str, Any]:
    sizes = {"paced": SIZES["paced"]}
    if not common.QUICK:
        sizes = SIZES
    if common.QUICK:  # a harness check: a tenth of the tenth
        sizes = {"paced": {**SIZES["paced"], "records": 100, "changed": 20, "passes": 100,
                           "groups": 10}}  # fmt: skip
    return {"sizes": {name: _size(spec) for name, spec in sizes.items()}}


JOBS = ("update", "apply 1", "apply 2", "undo")


def _ratio(ratio: float | None) -> str:
    return "(floor under a scaled minute)" if ratio is None else f"**{ratio:.2f}x**"


def render(res: dict[str, Any]) -> str:
    out = [
        "Update, apply and undo as the command line runs them (`nexudus-async update "
        "--where ... --set ...`, `apply FILE --key Id` twice, `undo JOURNAL` of an import), "
        "each in its own process against one emulator process at the published limits, "
        "time-scaled. Minimum: the list pages or reads by ids planning needs, then one full "
        "read and one write per record to change or delete (issue 21). Floor: the requests "
        "sent at 120 requests and 60 writes per (scaled) minute. One run of each.\n"
    ]
    ok = True
    for size in res["sizes"].values():
        jobs = [size[j] for j in JOBS]
        rows = [
            ["exit code", *(str(j["code"]) for j in jobs), "0"],
            ["requests sent", *(f"{j['requests']:,}" for j in jobs), ""],
            ["minimum", *(f"{j['minimum']:,}" for j in jobs), "= sent"],
            ["throttled answers", *(f"**{j['throttled']:,}**" for j in jobs), "0"],
            ["wall time", *(f"{num(j['wall'], 1)} s" for j in jobs), ""],
            ["floor", *(f"{num(j['floor'], 1)} s" for j in jobs), ""],
            ["wall time / floor", *(_ratio(j["ratio"]) for j in jobs), "≤ 1.05x"],
        ]
        out.append(
            f"### {size['records']:,} records ({size['changed']:,} to change), an import of "
            f"{size['passes']:,} passes in {size['groups']} groups; time scale {size['scale']}\n"
        )
        out.append(table(["", *JOBS, "target"], rows))
        for j in jobs:
            ok = ok and j["code"] == 0 and j["requests"] == j["minimum"] and j["throttled"] == 0
    out.append(
        f"- Requests equal to the minimum and no throttled answer: {common.verdict(ok)}. "
        "At the smallest time scale the machine sets the pace (every request and its "
        "journal write), so only the paced size judges the wall time."
    )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) > 1:
        raise SystemExit("run through bench/run.py --only b10")
    import json

    print(json.dumps(run(), indent=2, default=str))
