"""What ``import`` prints: its plan (groups, requests, the estimate) and its summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .._core.entity import Entity
from ..bulk.executor import BulkReport
from ..bulk.plan import Plan
from ..bulk.rows import RowError
from ..bulk.schedule import shared_schedule
from ..bulk.snapshot import SNAPSHOT_PAGE_SIZE
from .job_output import estimate_lines, noun, resume_text
from .progress import format_duration

__all__ = ["describe_plan", "print_errors", "print_summary"]


def print_errors(errors: list[RowError], path: Path, out: TextIO) -> None:
    """One line per bad row (``FILE:line N: problem; problem``), in file order."""
    by_line: dict[int, list[RowError]] = {}
    for e in errors:
        by_line.setdefault(e.line, []).append(e)
    for line in sorted(by_line):
        problems = "; ".join(e.problem for e in by_line[line])
        print(f"{path}:line {line}: {problems}", file=out)


def describe_plan(
    plan: Plan, time_scale: float, spent: tuple[Sequence[float], Sequence[float]] = ((), ())
) -> list[str]:
    """``spent``: what other jobs spent of the account's windows (reads, writes; real seconds)."""
    plan_schedule = shared_schedule(
        reads=plan.baseline_reads, writes=plan.create_requests, time_scale=time_scale, spent=spent
    )
    lines = [
        f"rows:             {plan.rows}",
        f"{noun(plan.entity) + ':':<18}{plan.records}",
        f"groups:           {len(plan.groups)}"
        + (
            f" ({plan.rows - len(plan.groups) - plan.duplicates} rows coalesced)"
            if plan.entity.count_field
            else ""
        ),
        f"create requests:  {plan.create_requests}"
        + (f" (CreateMultiple capped at {plan.cap})" if plan.cap else ""),
        f"snapshot reads:   {plan.baseline_reads} per {SNAPSHOT_PAGE_SIZE:,} {noun(plan.entity)} "
        f"already in the job's window (at most {plan.snapshot_budget}, else one count "
        "per group)",
    ]
    if plan.duplicates:
        lines.insert(3, f"duplicates:       {plan.duplicates} identical rows flagged, not sent")
    return lines + estimate_lines(plan_schedule, time_scale, spent)


def _print_not_sent(report: BulkReport, entity: Entity, out: TextIO) -> None:
    """Rows not sent, one line per reason (never one per row: a stop leaves thousands)."""
    by_reason: dict[str, list[int]] = {}
    for r in report.not_sent_rows:
        by_reason.setdefault(r.reason or "", []).append(r.count)
    for reason, counts in by_reason.items():
        what = f"{sum(counts)} {noun(entity)} in {len(counts)} rows"
        if report.interrupted and reason.startswith("interrupted before it was sent"):
            print(f"  not sent (interrupted): {what}: run the same command again", file=out)
        else:
            print(f"  not sent: {what}: {reason}", file=out)


def print_summary(
    report: BulkReport, entity: Entity, path: Path, resume_hint: str | None, out: TextIO
) -> None:
    print(
        f"summary: {report.records_created} {noun(entity)} created, "
        f"{report.records_skipped} already done (skipped), "
        f"{report.records_missing} missing; "
        f"{report.create_requests} create + {report.snapshot_requests} snapshot + "
        f"{report.count_requests} count requests "
        f"in {format_duration(report.elapsed)} ({report.elapsed:.1f} s)",
        file=out,
    )
    if report.baseline_note:
        print(f"  baseline: {report.baseline_note}", file=out)
    ids = [i for group_ids in report.created_ids.values() for i in group_ids]
    if ids:
        shown = ", ".join(str(i) for i in sorted(ids)[:10])
        more = f", ... ({len(ids)} in all; every one in --report)" if len(ids) > 10 else ""
        print(f"  created Ids (one per create request, as answered): {shown}{more}", file=out)
    dups = [r for r in report.rows if r.status == "duplicate"]
    if dups:
        print(f"  {len(dups)} duplicate rows flagged and not sent", file=out)
    failed = report.failed_rows
    for r in failed[:20]:
        print(f"  failed: {path}:{r.line}: {r.reason}", file=out)
    if len(failed) > 20:
        print(f"  ... and {len(failed) - 20} more failed rows (see --report)", file=out)
    _print_not_sent(report, entity, out)
    if report.interrupted:
        print("interrupted: not every group was sent." + resume_text(resume_hint), file=out)
    elif failed:
        print(
            "some rows failed; fix the cause and re-run the same command: done groups are "
            "skipped, the rest are reconciled and sent." + resume_text(resume_hint),
            file=out,
        )
