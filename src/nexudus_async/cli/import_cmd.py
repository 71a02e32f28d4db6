"""``nexudus-async import FILE``: a resumable bulk import.

The same code path serves the command line, ``--emulator`` and the demo:
:func:`run_import` validates, plans, journals and sends, and returns an
exit code with the report. The options, the journal policy, the signals and
the progress display are shared with the other bulk commands
(:mod:`.job_options`, :mod:`.job_journal`, :mod:`.job_signals`,
:mod:`.job_output`).

Exit codes: 0 everything created (now or by an earlier run); 1 some rows
failed; 2 bad input or usage (nothing sent); 3 credentials or permissions
refused; 4 the API could not be reached; 75 another process runs the same
job (nothing sent; ``--wait`` waits for it); 130 / 143 interrupted by SIGINT /
SIGTERM (re-run the same command to resume). See :mod:`.failures`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from .._core.entity import Entity
from .._core.errors import NexudusError
from .._core.retry import RetryPolicy
from .._core.transport import TraceConfig
from .._generated.api import COWORKER_TIME_PASS
from ..bulk.executor import BulkReport, run_bulk
from ..bulk.gateway import ResourceGateway
from ..bulk.plan import Plan, make_plan
from ..bulk.rows import PLAIN_CELLS, CellFormat, RowError, SourceRow, validate_rows
from ..bulk.stopping import stop_trace_config
from .connect import Connection, published_limits
from .entities import ENTITY_CHOICES, add_entity_option
from .error_summary import print_ignored, print_row_errors
from .failures import EXIT_FAILED, EXIT_OK, EXIT_SIGINT, EXIT_USAGE, failure_line
from .import_output import describe_plan, print_errors, print_summary
from .input_files import InputFileError, read_rows
from .job_journal import Held, choose_job, default_journal, hold_job
from .job_options import (
    EXIT_CODES_HELP,
    add_control_options,
    add_file_options,
    add_run_options,
    cell_words,
    resume_words,
    run_connected,
    time_scale_of,
    usage_problem,
)
from .job_output import noun, progress_mode, resume_text, schedule_eta as _schedule_eta
from .job_signals import Stopper, stop_on_signals
from .progress import ProgressPrinter
from .reach import reach_problem
from .spreadsheet_options import cell_format, ignored_columns

__all__ = ["ImportOptions", "ImportOutcome", "add_import_parser", "describe_plan", "run_import"]

EXIT_INTERRUPTED = EXIT_SIGINT


@attrs.frozen
class ImportOptions:
    """Everything an import needs, whatever started it (CLI, demo, tests)."""

    path: Path
    entity: Entity = COWORKER_TIME_PASS
    fmt: str | None = None
    delimiter: str | None = None
    """CSV delimiter (None: detected from the header line)."""
    encoding: str | None = None
    """The file's encoding (None: UTF-8, with or without a byte-order mark)."""
    cells: CellFormat = PLAIN_CELLS
    """How the file writes decimals and dates (``--decimal``, ``--date-format``)."""
    ignore_columns: tuple[str, ...] = ()
    ignore_unknown_columns: bool = False
    dry_run: bool = False
    journal: Path | None = None
    report: Path | None = None
    concurrency: int = 4
    max_per_request: int | None = None
    send_duplicates: bool = False
    new_job: bool = False
    progress: str = "auto"
    """``auto`` (a bar on a terminal, log lines otherwise), ``bar``, ``log``, ``none``."""
    time_scale: float = 1.0
    """Scale of the published rate limits (the emulator's time scale)."""
    resume_hint: str | None = None
    """The command to show for resuming (without secrets)."""
    wait: bool = False
    """Wait for another run of the same job to end, instead of exiting 75."""


@attrs.frozen
class ImportOutcome:
    exit_code: int
    report: BulkReport | None = None
    plan: Plan | None = None
    errors: tuple[RowError, ...] = ()


def add_import_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "import",
        help="create time passes from a CSV or JSON Lines file (resumable)",
        description=(
            "Create the passes a CSV or JSON Lines file lists, with the fewest requests "
            "(rows for identical passes become one CreateMultiple). Columns are create "
            "fields by API name (CoworkerId) or snake_case (coworker_id). A journal makes "
            "the job resumable: after a crash or Ctrl-C, run the same command again."
        ),
    )
    p.epilog = EXIT_CODES_HELP
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("file", type=Path, help="input file (.csv, .jsonl)")
    add_entity_option(p, "what the rows create")
    add_file_options(p)
    add_run_options(p, "FILE.journal.sqlite next to FILE")
    p.add_argument(
        "--max-per-request",
        type=int,
        metavar="N",
        help="cap CreateMultiple at N passes per request (default: no cap)",
    )
    p.add_argument(
        "--send-duplicates",
        action="store_true",
        help="product/tariff links: send identical rows each (default: flag and send once)",
    )
    add_control_options(p, again="import again a file", into="import into it")
    p.set_defaults(handler=_cli_import)


def _resume_hint(args: argparse.Namespace) -> str:
    parts = resume_words(args, ["import", str(args.file)])
    if args.max_per_request:
        parts += ["--max-per-request", str(args.max_per_request)]
    if args.send_duplicates:
        parts.append("--send-duplicates")
    if args.time_scale:
        parts += ["--time-scale", str(args.time_scale)]
    return shlex.join(parts + cell_words(args))


def _cli_import(args: argparse.Namespace) -> int:
    opts = ImportOptions(
        path=args.file,
        entity=ENTITY_CHOICES[args.entity],
        fmt=args.fmt,
        delimiter=args.delimiter,
        encoding=args.encoding,
        cells=cell_format(args),
        ignore_columns=ignored_columns(args),
        ignore_unknown_columns=args.ignore_unknown_columns,
        dry_run=args.dry_run,
        journal=args.journal,
        report=args.report,
        concurrency=args.concurrency,
        max_per_request=args.max_per_request,
        send_duplicates=args.send_duplicates,
        new_job=args.new_job,
        progress=args.progress,
        time_scale=time_scale_of(args),
        wait=args.wait,
        resume_hint=None if args.emulator else _resume_hint(args),
    )
    if (code := usage_problem(args)) is not None:
        return code
    if opts.max_per_request is not None and opts.max_per_request < 1:
        print("error: --max-per-request must be at least 1", file=sys.stderr)
        return EXIT_USAGE

    async def run(conn: Connection | None, journal: Path | None) -> int:
        opts_ = opts if journal is None else attrs.evolve(opts, journal=journal)
        return (await run_import(opts_, conn)).exit_code

    return run_connected(args, dry_run=opts.dry_run, run=run)


async def run_import(
    opts: ImportOptions,
    conn: Connection | None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    trace_configs: Sequence[TraceConfig] = (),
) -> ImportOutcome:
    """Validate, plan, and (unless a dry run) send the file, journaled."""
    out = out or sys.stdout
    err = err or sys.stderr
    planned = _read_and_plan(opts, err)
    if isinstance(planned, ImportOutcome):
        return planned
    plan = planned
    # what other jobs spent, read before this run's own first request
    spent = conn.spent(published_limits(opts.time_scale)) if conn is not None else ((), ())
    held: Held | None = None
    if not opts.dry_run and conn is not None:
        # The job is ours before the first request, or this run sends nothing.
        journal_path = opts.journal or default_journal(opts.path)
        taken = await hold_job(
            journal_path, conn, plan.job_hash, opts.path.name, wait=opts.wait, out=out, err=err
        )
        if isinstance(taken, int):
            return ImportOutcome(taken, plan=plan)
        held = taken
    try:
        return await _import_planned(opts, conn, plan, held, spent, out, err, trace_configs)
    finally:
        if held is not None:
            held.close()


def _read_and_plan(opts: ImportOptions, err: TextIO) -> Plan | ImportOutcome:
    """The file read, its rows validated and planned; or exit 2 with what is wrong."""
    if not opts.path.is_file():
        print(f"error: {opts.path}: no such file", file=err)
        return ImportOutcome(EXIT_USAGE)
    try:
        source = read_rows(
            opts.path,
            opts.entity,
            fmt=opts.fmt,
            delimiter=opts.delimiter,
            encoding=opts.encoding,
            cells=opts.cells,
            ignore=opts.ignore_columns,
            ignore_unknown=opts.ignore_unknown_columns,
        )
    except InputFileError as exc:
        print(f"error: {exc}; nothing was sent", file=err)
        return ImportOutcome(EXIT_USAGE)
    except OSError as exc:
        print(f"error: {opts.path}: cannot read the file ({exc.strerror or exc})", file=err)
        return ImportOutcome(EXIT_USAGE)
    print_ignored(source, err)
    valid, row_errors = validate_rows(opts.entity, _handed_out(source.rows))
    errors = [*source.errors, *row_errors]
    del source  # a big file's rows as read: only the validated ones go on
    if errors:
        print_row_errors(
            errors, opts.path, err, entity=opts.entity, cells=opts.cells, report=opts.report
        )
        return ImportOutcome(EXIT_USAGE, errors=tuple(errors))
    return make_plan(
        opts.entity, valid, cap=opts.max_per_request, send_duplicates=opts.send_duplicates
    )


def _handed_out(rows: list[SourceRow]) -> Iterator[SourceRow]:
    """The rows in order, each let go of as it is handed out: a big file's rows as read
    and as validated never all coexist (the peak memory of a 100,000-row import)."""
    rows.reverse()
    while rows:
        yield rows.pop()


async def _import_planned(
    opts: ImportOptions,
    conn: Connection | None,
    plan: Plan,
    held: Held | None,
    spent: tuple[Sequence[float], Sequence[float]],
    out: TextIO,
    err: TextIO,
    trace_configs: Sequence[TraceConfig],
) -> ImportOutcome:
    """Check the time passes, print the plan (after what other jobs ``spent``), and unless
    a dry run send it."""
    try:
        definitions = await _check_definitions(opts, conn, plan, trace_configs)
    except NexudusError as exc:
        assert conn is not None
        if not opts.dry_run or (unreachable := reach_problem(exc)) is None:
            code, text = failure_line(exc, conn, resumable=False)
            print(text, file=err)
            return ImportOutcome(code, plan=plan)
        definitions = f"time passes:      not checked: {unreachable}"  # a dry run goes on
    if isinstance(definitions, list):
        print_errors(definitions, opts.path, err)
        print(f"{len(definitions)} bad line(s) in {opts.path}; nothing was sent", file=err)
        return ImportOutcome(EXIT_USAGE, errors=tuple(definitions))
    print(f"plan for {opts.path} ({opts.entity.name}):", file=out)
    for line in describe_plan(plan, opts.time_scale, spent):
        print(f"  {line}", file=out)
    print(f"  {definitions}", file=out)
    if opts.dry_run:
        print("dry run: nothing was sent", file=out)
        return ImportOutcome(EXIT_OK, plan=plan)
    if conn is None or held is None:
        raise ValueError("a connection is needed unless dry_run")
    return await _send_journaled(opts, conn, plan, held, out, err, trace_configs)


async def _send_journaled(
    opts: ImportOptions,
    conn: Connection,
    plan: Plan,
    held: Held,
    out: TextIO,
    err: TextIO,
    trace_configs: Sequence[TraceConfig],
) -> ImportOutcome:
    """The journal's part: which job, send it, and the summary."""
    job_id = choose_job(held, plan.job_hash, new_job=opts.new_job, out=out, err=err)
    if isinstance(job_id, int):
        return ImportOutcome(job_id, plan=plan)
    print(f"sending to {conn.describe()}", file=out)
    stopper = Stopper()
    try:
        report = await _send(opts, conn, plan, held, out, err, trace_configs, stopper, job_id)
    except NexudusError as exc:
        # Raised only for what stops the whole job (refused login, no connection).
        code, text = failure_line(exc, conn, resumable=opts.resume_hint is not None)
        print(text, file=err)
        return ImportOutcome(code, plan=plan)
    if report is None:
        return ImportOutcome(stopper.exit_code, plan=plan)
    _print_summary(report, opts, out)
    if opts.report is not None:
        opts.report.write_text(json.dumps(report.to_json(), indent=2) + "\n")
        print(f"report: {opts.report}", file=out)
    if report.interrupted:
        code = stopper.exit_code
    elif report.ok:
        code = EXIT_OK
    else:
        code = EXIT_FAILED
    return ImportOutcome(code, report=report, plan=plan)


async def _check_definitions(
    opts: ImportOptions,
    conn: Connection | None,
    plan: Plan,
    trace_configs: Sequence[TraceConfig],
) -> str | list[RowError]:
    """Every referenced TimePass exists and is not archived: a line for the plan, or bad rows.

    One get-by-ids read (per 100 definitions) before anything is written.
    """
    field = next((f for f in opts.entity.create_fields() if f.related == "timepasses"), None)
    if field is None:
        return "time passes:      (this entity refers to none)"
    lines: dict[int, list[int]] = {}
    for g in plan.groups:  # the plan, not the rows: they are gone by now (memory)
        lines.setdefault(int(g.fields[field.json_name]), []).extend((*g.lines, *g.duplicates))
    if conn is None:
        return "time passes:      not checked (offline: no credentials for a dry run)"
    async with conn.client(published_limits(opts.time_scale), trace_configs) as client:
        # A dry run does not wait for an unreachable API: one attempt, then a warning.
        checker = client.with_options(retry=RetryPolicy(max_retries=0)) if opts.dry_run else client
        found = {d.id: d for d in await checker.time_passes.get_many(sorted(lines))}
    problems: list[RowError] = []
    for tp, where in sorted(lines.items()):
        definition = found.get(tp)
        if definition is None or definition.archived is True:
            why = "no TimePass has this Id" if definition is None else "the TimePass is archived"
            problems.extend(RowError(n, field.json_name, tp, why) for n in where)
    if problems:
        return sorted(problems, key=lambda e: e.line)
    names = ", ".join(f"{tp} {found[tp].name}" for tp in sorted(lines))
    return f"time passes:      {names}"


async def _send(
    opts: ImportOptions,
    conn: Connection,
    plan: Plan,
    held: Held,
    out: TextIO,
    err: TextIO,
    trace_configs: Sequence[TraceConfig],
    stopper: Stopper,
    job_id: str,
) -> BulkReport | None:
    stop = stopper.event
    journal = held.journal
    limits = published_limits(opts.time_scale)
    printer = ProgressPrinter(
        out,
        progress_mode(opts.progress, out),
        noun=noun(plan.entity),
        eta_seconds=_schedule_eta(limits, journal),
    )
    # After the first signal no request goes out, even one the limiter held.
    async with conn.client(limits, [*trace_configs, stop_trace_config(stop)]) as client:
        resource = getattr(client, plan.entity.attribute)
        task = asyncio.create_task(
            run_bulk(
                plan,
                ResourceGateway(resource),
                journal=journal,
                concurrency=opts.concurrency,
                progress=printer,
                stop=stop,
                source=str(opts.path.resolve()),
                job_id=job_id,
                throttle_backoff=max(opts.time_scale, 0.001),
                lock=held.lock,
                new_job=opts.new_job,
            )
        )
        with stop_on_signals(stopper, task, err):
            try:
                report = await task
            except NexudusError:
                printer.close()
                raise
            except asyncio.CancelledError:
                printer.close()
                print(
                    "aborted: groups in flight are journaled as 'sending' and will be "
                    "reconciled by counting." + resume_text(opts.resume_hint),
                    file=err,
                )
                return None
        printer.close()
    return report


def _print_summary(report: BulkReport, opts: ImportOptions, out: TextIO) -> None:
    print_summary(report, opts.entity, opts.path, opts.resume_hint, out)
