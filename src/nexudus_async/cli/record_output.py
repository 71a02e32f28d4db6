"""What ``update``, ``delete``, ``apply`` and ``undo`` print: the plan with its requests
by kind and the estimate at the published limits, and the summary of a run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ..bulk.kinds.common import Planned
from ..bulk.report import BulkReport
from ..bulk.schedule import shared_schedule
from .job_output import estimate_lines, noun, resume_text
from .progress import format_duration

__all__ = ["describe_record_plan", "print_record_summary"]

SHOWN = 5
"""Ids or reasons listed by name before "... and N more"."""


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _ids(ids: Sequence[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:SHOWN])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > SHOWN else "")


def describe_record_plan(
    planned: Planned, time_scale: float, spent: tuple[Sequence[float], Sequence[float]]
) -> list[str]:
    """The plan's lines: what changes, what is left alone, the requests and the time."""
    plan, est = planned.plan, planned.estimate
    by_action = Counter(op.action for op in plan.ops)
    lines = [f"rows:             {planned.rows}"] if planned.rows else []
    if by_action["update"]:
        lines.append(f"to update:        {_n(by_action['update'], 'record')}")
    if by_action["delete"]:
        lines.append(f"to delete:        {_n(by_action['delete'], 'record')}")
    if plan.groups:
        records = sum(g.count for g in plan.groups)
        lines.append(
            f"to create:        {records} {noun(plan.entity)} in {_n(len(plan.groups), 'group')}"
        )
    if planned.unchanged:
        lines.append(f"unchanged:        {len(planned.unchanged)} already as asked, nothing sent")
    if planned.gone:
        lines.append(f"already gone:     {len(planned.gone)} (counted as deleted): "
                     f"{_ids(planned.gone)}")  # fmt: skip
    for kept in planned.kept[:SHOWN]:
        what = f"Id {kept.record_id}: {kept.reason}" if kept.record_id else kept.reason
        lines.append(f"left alone:       {what}")
    if len(planned.kept) > SHOWN:
        lines.append(f"                  ... and {len(planned.kept) - SHOWN} more left alone")
    lines.append(
        f"requests:         {est.planning_reads} planning reads (made) + {est.full_reads} "
        f"full reads + {est.puts} PUT + {est.deletes} DELETE + {est.creates} create"
        + (f" + {est.baseline_reads} baseline read" if est.baseline_reads else "")
        + f" = {est.total}"
    )
    planned_schedule = shared_schedule(
        reads=est.reads, writes=est.writes, time_scale=time_scale, spent=spent
    )
    return lines + estimate_lines(planned_schedule, time_scale, spent, kind=plan.kind)


def print_record_summary(
    report: BulkReport,
    planned: Planned,
    path: Path | None,
    resume_hint: str | None,
    out: TextIO,
) -> None:
    """One line of counts and requests, then each failed record, then how to finish."""
    status = Counter(o.status for o in report.ops)
    parts = [f"{status['updated']} updated"] if status["updated"] else []
    if status["deleted"]:
        gone = f" ({len(planned.gone)} already gone)" if planned.gone else ""
        parts.append(f"{status['deleted']} deleted{gone}")
    if report.groups:
        parts.append(f"{report.records_created} {noun(planned.plan.entity)} created")
    if status["skipped"] or not parts:
        parts.append(f"{status['skipped']} already as asked (skipped)")
    if status["changed"]:
        parts.append(f"{status['changed']} changed meanwhile or kept (not written)")
    if status["failed"]:
        parts.append(f"{status['failed']} failed")
    if status["not_sent"]:
        parts.append(f"{status['not_sent']} not sent")
    requests = (
        f"{planned.estimate.planning_reads} planning + {report.op_reads} read + "
        f"{report.op_writes} write"
        + (f" + {report.create_requests} create" if report.groups else "")
        + " requests"
    )
    print(
        f"summary: {', '.join(parts)}; {requests} "
        f"in {format_duration(report.elapsed)} ({report.elapsed:.1f} s)",
        file=out,
    )
    problems = [o for o in report.ops if o.status in ("failed", "changed")]
    for o in problems[:20]:
        where = f" ({path}:{o.lines[0]})" if path is not None and o.lines else ""
        print(f"  {o.status}: {o.action} of Id {o.record_id}{where}: {o.reason}", file=out)
    if len(problems) > 20:
        print(f"  ... and {len(problems) - 20} more (see --report)", file=out)
    if report.interrupted:
        print("interrupted: not every record was done." + resume_text(resume_hint), file=out)
    elif status["failed"] or report.records_missing:
        print(
            "some records failed; fix the cause and re-run the same command: done records "
            "are skipped, the rest are read and sent." + resume_text(resume_hint),
            file=out,
        )
