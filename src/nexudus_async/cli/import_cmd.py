"""``nexudus-async import FILE``: a resumable bulk import.

The same code path serves the command line, ``--emulator`` and the demo:
:func:`run_import` validates, plans, journals and sends, and returns an
exit code with the report.

Exit codes: 0 everything created (now or by an earlier run); 1 some rows
failed; 2 bad input or usage (nothing sent); 3 credentials or permissions
refused; 4 the API could not be reached; 75 another process runs the same
job (nothing sent; ``--wait`` waits for it); 130 / 143 interrupted by SIGINT /
SIGTERM (re-run the same command to resume). See :mod:`.failures`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import attrs

from .._core.entity import Entity
from .._core.errors import NexudusError
from .._core.limiter import account_key
from .._core.retry import RetryPolicy
from .._core.throttle import RateLimits
from .._generated.api import COWORKER_TIME_PASS
from ..bulk.executor import BulkReport, run_bulk
from ..bulk.gateway import ResourceGateway
from ..bulk.journal import JobRecord, Journal, JournalError
from ..bulk.lock import JobLock, JobLockedError, JobLockError, job_identity
from ..bulk.plan import Plan, make_plan
from ..bulk.rows import PLAIN_CELLS, CellFormat, RowError, SourceRow, validate_rows
from ..bulk.schedule import HeldBy, schedule, shared_schedule, spent_summary
from ..bulk.snapshot import SNAPSHOT_PAGE_SIZE
from ..bulk.stopping import stop_trace_config
from .connect import (
    Connection,
    CredentialsError,
    add_connection_options,
    connection_from,
    published_limits,
)
from .entities import ENTITY_CHOICES, add_entity_option
from .error_summary import print_ignored, print_row_errors
from .failures import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_USAGE,
    failure_line,
)
from .input_files import InputFileError, read_rows
from .progress import ProgressPrinter, format_duration
from .reach import reach_problem
from .spreadsheet_options import (
    add_cell_options,
    add_ignore_options,
    cell_format,
    cell_option_words,
    ignored_columns,
)

__all__ = ["ImportOptions", "ImportOutcome", "add_import_parser", "run_import"]

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
    p.add_argument("--format", dest="fmt", choices=("csv", "jsonl"), help="default: from suffix")
    p.add_argument(
        "--delimiter",
        type=_delimiter,
        help="CSV delimiter (default: detected from the header line among , ; tab |)",
    )
    p.add_argument(
        "--encoding",
        help="the file's encoding, e.g. cp1252 (default: UTF-8 with or without a BOM)",
    )
    add_cell_options(p, "holds")
    add_ignore_options(p)
    p.add_argument("--dry-run", action="store_true", help="validate and print the plan only")
    p.add_argument(
        "--journal", type=Path, help="journal file (default: FILE.journal.sqlite next to FILE)"
    )
    p.add_argument("--report", type=Path, help="write a JSON report here")
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
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
    p.add_argument(
        "--new-job",
        action="store_true",
        help="start a new job: over an unfinished job for different content, or to "
        "import again a file whose job the journal has as finished",
    )
    p.add_argument(
        "--wait",
        action="store_true",
        help="when another process runs the same job, wait for it to end, then finish "
        "what it left (default: exit 75 at once, sending nothing)",
    )
    p.add_argument(
        "--progress",
        choices=("auto", "bar", "log", "none"),
        default="auto",
        help="progress display (auto: a bar on a terminal, log lines otherwise)",
    )
    p.add_argument(
        "--emulator",
        action="store_true",
        help="start the embedded emulator in-process and import into it",
    )
    p.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="scale of the rate limits' clock (the emulator's time scale; "
        "default 1, or 0.01 with --emulator)",
    )
    add_connection_options(p)
    p.set_defaults(handler=_cli_import)


EXIT_CODES_HELP = """\
exit codes:
  0    done (now or by an earlier run)     1    some rows failed
  2    bad input or usage: nothing sent    3    credentials or permissions refused
  4    the API could not be reached        70   unexpected error (-v: traceback)
  75   another process runs the same job: nothing sent (try again later, or --wait)
  130  stopped by Ctrl-C (SIGINT)          143  stopped by SIGTERM
  after 1, 130 or 143: run the same command again to finish the job
"""


def _delimiter(text: str) -> str:
    text = {"tab": "\t", "\\t": "\t"}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError("a delimiter is one character (or 'tab')")
    return text


def _resume_hint(args: argparse.Namespace) -> str:
    parts = ["nexudus-async", "import", str(args.file)]
    if args.entity != "coworker":
        parts += ["--entity", args.entity]
    if args.journal:
        parts += ["--journal", str(args.journal)]
    if args.base_url:
        parts += ["--base-url", args.base_url]
    if args.email:
        parts += ["--email", args.email]
    if args.insecure_http:
        parts.append("--insecure-http")
    if args.ca_bundle:
        parts += ["--ca-bundle", args.ca_bundle]
    if args.proxy and "@" not in args.proxy:  # a proxy password is never printed
        parts += ["--proxy", args.proxy]
    if args.auth != "token":
        parts += ["--auth", args.auth]
    if args.fmt:
        parts += ["--format", args.fmt]
    if args.delimiter:
        parts += ["--delimiter", "tab" if args.delimiter == "\t" else args.delimiter]
    if args.encoding:
        parts += ["--encoding", args.encoding]
    if args.max_per_request:
        parts += ["--max-per-request", str(args.max_per_request)]
    if args.send_duplicates:
        parts.append("--send-duplicates")
    if args.time_scale:
        parts += ["--time-scale", str(args.time_scale)]
    return shlex.join(parts + cell_option_words(args))


def _cli_import(args: argparse.Namespace) -> int:
    time_scale = args.time_scale if args.time_scale else (0.01 if args.emulator else 1.0)
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
        time_scale=time_scale,
        wait=args.wait,
        resume_hint=None if args.emulator else _resume_hint(args),
    )
    if opts.concurrency < 1:
        print("error: --concurrency must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if opts.max_per_request is not None and opts.max_per_request < 1:
        print("error: --max-per-request must be at least 1", file=sys.stderr)
        return EXIT_USAGE

    async def go() -> int:
        if args.emulator and not opts.dry_run:
            # A fresh emulator holds nothing: a journal from an earlier run would
            # wrongly skip groups, so the job journals into a temporary directory.
            with tempfile.TemporaryDirectory(prefix="nexudus-import-") as tmpdir:
                if args.journal is None:
                    opts_ = attrs.evolve(opts, journal=Path(tmpdir) / "journal.sqlite")
                else:
                    opts_ = opts
                return await _import_into_emulator(args, opts_, time_scale)
        conn_or_none: Connection | None = None
        try:
            conn_or_none = connection_from(args)
        except CredentialsError as exc:
            if not opts.dry_run:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_USAGE  # a dry run without credentials stays offline
        return (await run_import(opts, conn_or_none)).exit_code

    return asyncio.run(go())


async def _import_into_emulator(
    args: argparse.Namespace, opts: ImportOptions, time_scale: float
) -> int:
    async with _emulator(time_scale) as (base_url, email, password):
        conn = connection_from(
            args,
            {},
            default_base_url=base_url,
            default_email=email,
            default_password=password,
            default_limits="private",  # a fresh emulator: nobody to share its limits with
        )
        return (await run_import(opts, conn)).exit_code


@contextlib.asynccontextmanager
async def _emulator(time_scale: float) -> AsyncIterator[tuple[str, str, str]]:
    from ..testing import (
        DEFAULT_ADMIN_EMAIL,
        DEFAULT_ADMIN_PASSWORD,
        EmulatorConfig,
        run_emulator,
    )

    async with run_emulator(EmulatorConfig(time_scale=time_scale)) as emu:
        print(f"emulator: {emu.base_url} (published limits, time scale {time_scale})")
        yield emu.base_url, DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD


def _print_errors(errors: list[RowError], path: Path, out: TextIO) -> None:
    """One line per bad row (``FILE:line N: problem; problem``), in file order."""
    by_line: dict[int, list[RowError]] = {}
    for e in errors:
        by_line.setdefault(e.line, []).append(e)
    for line in sorted(by_line):
        problems = "; ".join(e.problem for e in by_line[line])
        print(f"{path}:line {line}: {problems}", file=out)


def _noun(entity: Entity) -> str:
    """What a record is called in messages: passes, or links for product/tariff."""
    return "passes" if entity.count_field is not None else "links"


def _window_name(period: float) -> str:
    return {3_600.0: "an hour", 86_400.0: "a day"}.get(period, f"{format_duration(period)}")


def _held_lines(held: HeldBy) -> tuple[str, list[str]]:
    """What a full hourly or daily window does to the job, and what the user can do."""
    w = held.window
    what = "writes" if w.writes_only else "requests"
    name = _window_name(w.period)
    return f"more than {name}:", [
        f"the API allows {w.limit:,} {what} in {name} (the client sends {held.kept:,}, "
        "keeping a reserve);",
        f"the other {held.over:,} {what} wait for the window to free, "
        f"{format_duration(held.first_held_at)} after the start.",
        "The job waits: the limiter holds them and the import carries on by itself.",
        "Or stop it (Ctrl-C) and run the same command again later: nothing is lost,",
        "and the journal tells the new run's limiter what was already sent.",
    ]


def describe_plan(
    plan: Plan, time_scale: float, spent: tuple[Sequence[float], Sequence[float]] = ((), ())
) -> list[str]:
    """``spent``: what other jobs spent of the account's windows (reads, writes; real seconds)."""
    plan_schedule = shared_schedule(
        reads=plan.baseline_reads, writes=plan.create_requests, time_scale=time_scale, spent=spent
    )
    published = plan_schedule.seconds
    lines = [
        f"rows:             {plan.rows}",
        f"{_noun(plan.entity) + ':':<18}{plan.records}",
        f"groups:           {len(plan.groups)}"
        + (
            f" ({plan.rows - len(plan.groups) - plan.duplicates} rows coalesced)"
            if plan.entity.count_field
            else ""
        ),
        f"create requests:  {plan.create_requests}"
        + (f" (CreateMultiple capped at {plan.cap})" if plan.cap else ""),
        f"snapshot reads:   {plan.baseline_reads} per {SNAPSHOT_PAGE_SIZE:,} {_noun(plan.entity)} "
        f"already in the job's window (at most {plan.snapshot_budget}, else one count "
        "per group)",
        f"estimated time:   {format_duration(published)} at the published limits "
        "(120 requests/min, 5,000/hour; 60 writes/min, 5,000/day)",
    ]
    if plan.duplicates:
        lines.insert(3, f"duplicates:       {plan.duplicates} identical rows flagged, not sent")
    if time_scale != 1.0:
        lines.append(
            f"                  {format_duration(published * time_scale)} "
            f"at time scale {time_scale:g}"
        )
    if spent[0] or spent[1]:
        lines.append(f"{'already spent:':<18}{spent_summary(spent)}")
    for held in plan_schedule.held_by:
        label, text = _held_lines(held)
        lines.append(f"{label:<18}{text[0]}")
        lines += [" " * 18 + line for line in text[1:]]
    return lines


def _progress_mode(requested: str, stream: TextIO) -> str:
    if requested != "auto":
        return requested
    return "bar" if stream.isatty() else "log"


async def run_import(
    opts: ImportOptions,
    conn: Connection | None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    trace_configs: Sequence[aiohttp.TraceConfig] = (),
) -> ImportOutcome:
    """Validate, plan, and (unless a dry run) send the file, journaled."""
    out = out or sys.stdout
    err = err or sys.stderr
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
    plan = make_plan(
        opts.entity, valid, cap=opts.max_per_request, send_duplicates=opts.send_duplicates
    )
    # what other jobs spent, read before this run's own first request
    spent = conn.spent(published_limits(opts.time_scale)) if conn is not None else ((), ())
    del valid  # the plan holds what the job needs
    held: _Held | None = None
    if not opts.dry_run and conn is not None:
        # The job is ours before the first request, or this run sends nothing.
        taken = await _hold(opts, conn, plan, out, err)
        if isinstance(taken, ImportOutcome):
            return taken
        held = taken
    try:
        return await _import_planned(opts, conn, plan, held, spent, out, err, trace_configs)
    finally:
        if held is not None:
            held.close()


def _handed_out(rows: list[SourceRow]) -> Iterator[SourceRow]:
    """The rows in order, each let go of as it is handed out: a big file's rows as read
    and as validated never all coexist (the peak memory of a 100,000-row import)."""
    rows.reverse()
    while rows:
        yield rows.pop()


@attrs.define
class _Held:
    """The job's journal, open, and its lock, taken (see :mod:`..bulk.lock`)."""

    path: Path
    journal: Journal
    lock: JobLock
    created: bool
    """The journal file did not exist before this run."""

    def close(self) -> None:
        unused = self.created and not self.journal.jobs()
        self.journal.close()
        if unused:  # stopped before its job began (bad rows): leave no file behind
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.lock.release()


def _journal_path(opts: ImportOptions) -> Path:
    return opts.journal or opts.path.with_name(opts.path.name + ".journal.sqlite")


async def _hold(
    opts: ImportOptions, conn: Connection, plan: Plan, out: TextIO, err: TextIO
) -> _Held | ImportOutcome:
    """Open the journal and lock the job: exit 2 if either cannot be, 75 if another run has it."""
    from ..client import normalize_base_url  # the facade only when a command connects

    path = _journal_path(opts)
    created = not path.exists()
    try:
        journal = Journal(path)
    except JournalError as exc:
        print(f"error: journal {exc}; nothing was sent", file=err)
        return ImportOutcome(EXIT_USAGE, plan=plan)
    account = account_key(normalize_base_url(conn.base_url), conn.auth.user())
    identity = job_identity(account, plan.job_hash)
    lock = JobLock(identity, journal=path, job=f"{plan.job_hash[:12]} ({opts.path.name})")
    try:
        try:
            lock.try_acquire()
        except JobLockedError as exc:
            if not opts.wait:
                raise
            print(f"waiting: {exc} (--wait)", file=out, flush=True)
            await lock.acquire(wait=True)
    except (JobLockedError, JobLockError) as exc:
        journal.close()
        code, text = failure_line(exc, conn, resumable=False)
        print(text if code != EXIT_USAGE else f"{text}; nothing was sent", file=err)
        return ImportOutcome(code, plan=plan)
    return _Held(path, journal, lock, created)


async def _import_planned(
    opts: ImportOptions,
    conn: Connection | None,
    plan: Plan,
    held: _Held | None,
    spent: tuple[Sequence[float], Sequence[float]],
    out: TextIO,
    err: TextIO,
    trace_configs: Sequence[aiohttp.TraceConfig],
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
        _print_errors(definitions, opts.path, err)
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


def _choose_job(
    opts: ImportOptions, plan: Plan, held: _Held, out: TextIO, err: TextIO
) -> str | ImportOutcome:
    """The job to run in the journal (resumed, or new), said in one line; or exit 2."""
    journal_path, journal = held.path, held.journal
    others = [j for j in journal.unfinished_jobs() if not _same_content(j.job_id, plan)]
    if others and not opts.new_job:
        print(
            f"error: the journal {journal_path} holds an unfinished job started "
            f"{others[0].started_at} for different content ({others[0].source}). "
            "Re-running the changed file could create passes twice. Finish that job "
            "with its original file, or pass --new-job (or another --journal).",
            file=err,
        )
        return ImportOutcome(EXIT_USAGE, plan=plan)
    job_id, previous = _job_for(journal, plan, new_job=opts.new_job)
    if previous is not None:
        state = "complete" if previous.finished_at else "unfinished"
        print(
            f"journal: {journal_path}: resuming the {state} job started {previous.started_at}",
            file=out,
        )
        if previous.finished_at:
            print(
                "  every pass of this file was created by that job; nothing to send "
                "(--new-job imports the file again)",
                file=out,
            )
    else:
        print(
            f"journal: {journal_path}" + (f" (new job {job_id})" if opts.new_job else ""),
            file=out,
        )
    return job_id


async def _send_journaled(
    opts: ImportOptions,
    conn: Connection,
    plan: Plan,
    held: _Held,
    out: TextIO,
    err: TextIO,
    trace_configs: Sequence[aiohttp.TraceConfig],
) -> ImportOutcome:
    """The journal's part: which job, send it, and the summary."""
    job_id = _choose_job(opts, plan, held, out, err)
    if isinstance(job_id, ImportOutcome):
        return job_id
    print(f"sending to {conn.describe()}", file=out)
    stopper = _Stopper()
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
    trace_configs: Sequence[aiohttp.TraceConfig],
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


class _Stopper:
    """The job's stop flag and the signal that set it (for the exit code)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.signal: signal.Signals | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_SIGTERM if self.signal == signal.SIGTERM else EXIT_SIGINT


def _same_content(job_id: str, plan: Plan) -> bool:
    """Jobs of one file's content: its hash, then ``hash:2``, ``hash:3``... (--new-job)."""
    return job_id.split(":", 1)[0] == plan.job_hash


def _job_for(journal: Journal, plan: Plan, *, new_job: bool) -> tuple[str, JobRecord | None]:
    """The job to run and, when it is resumed, its record.

    The latest job of the same content is resumed; with ``new_job``, a
    finished one is followed by a new job (``hash:N``), so the file is
    imported again. An unfinished one is always resumed: starting another
    over it could create its passes twice.
    """
    mine = [j for j in journal.jobs() if _same_content(j.job_id, plan)]
    if not mine:
        return plan.job_hash, None
    latest = mine[-1]
    if latest.finished_at is None or not new_job:
        return latest.job_id, latest
    return f"{plan.job_hash}:{len(mine) + 1}", None


@contextlib.contextmanager
def _signals(stopper: _Stopper, task: asyncio.Task[Any], err: TextIO) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM): stop after the requests in flight; second: abort."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    stop = stopper.event

    def on_signal(sig: signal.Signals) -> None:
        if not stop.is_set():
            stop.set()
            stopper.signal = sig
            what = (
                "stopping (signal again to abort)"
                if sig == signal.SIGTERM
                else "interrupted: stopping (Ctrl-C again to abort now)"
            )
            print(f"\n{what}: finishing the requests in flight", file=err, flush=True)
        else:
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _send(
    opts: ImportOptions,
    conn: Connection,
    plan: Plan,
    held: _Held,
    out: TextIO,
    err: TextIO,
    trace_configs: Sequence[aiohttp.TraceConfig],
    stopper: _Stopper,
    job_id: str,
) -> BulkReport | None:
    stop = stopper.event
    journal = held.journal
    limits = published_limits(opts.time_scale)
    printer = ProgressPrinter(
        out,
        _progress_mode(opts.progress, out),
        noun=_noun(plan.entity),
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
        with _signals(stopper, task, err):
            try:
                report = await task
            except NexudusError:
                printer.close()
                raise
            except asyncio.CancelledError:
                printer.close()
                print(
                    "aborted: groups in flight are journaled as 'sending' and will be "
                    "reconciled by counting." + _resume_text(opts),
                    file=err,
                )
                return None
        printer.close()
    return report


ETA_REPLAY = 60.0
"""Seconds between two replays of the schedule for the ETA (in between, it is read off)."""


def _schedule_eta(limits: RateLimits, journal: Journal) -> Callable[[int], float]:
    """Seconds the last ``n`` create requests take under ``limits``: the dry run's replay.

    Every window counts, after what the journal says the account sent in the
    last day (this run's requests and a crashed run's): past 4,900 writes in a
    day the ETA says so. One replay gives when each request may go; until the
    next (a minute later), the ETA of the last ``n`` is read off it (the time
    from the one before them to the last), so the cost per update is constant.
    """
    longest = max((w.period for w in limits.windows), default=0.0) * (1 + limits.safety)
    replay: list[Any] = []  # [when (monotonic), the replay's times]

    def eta(n: int) -> float:
        if n <= 0:
            return 0.0
        mono = time.monotonic()
        if not replay or n > len(replay[1]) or mono - replay[0] >= ETA_REPLAY:
            wall = time.time()
            spent = {
                kind: [t - wall for t in journal.send_times(since=wall - longest, write=kind)]
                for kind in (True, False)
            }
            planned = schedule(
                limits, reads=0, writes=n, spent_writes=spent[True], spent_reads=spent[False],
                keep_times=True,
            )  # fmt: skip
            replay[:] = [mono, planned.times]
        times: tuple[float, ...] = replay[1]
        before = times[len(times) - n - 1] if n < len(times) else 0.0
        return times[-1] - before

    return eta


def _resume_text(opts: ImportOptions) -> str:
    if opts.resume_hint is None:
        return " (The in-process emulator is gone with its data: nothing to resume.)"
    return f" To resume, run the same command again:\n  {opts.resume_hint}"


def _print_not_sent(report: BulkReport, opts: ImportOptions, out: TextIO) -> None:
    """Rows not sent, one line per reason (never one per row: a stop leaves thousands)."""
    by_reason: dict[str, list[int]] = {}
    for r in report.not_sent_rows:
        by_reason.setdefault(r.reason or "", []).append(r.count)
    for reason, counts in by_reason.items():
        what = f"{sum(counts)} {_noun(opts.entity)} in {len(counts)} rows"
        if report.interrupted and reason.startswith("interrupted before it was sent"):
            print(f"  not sent (interrupted): {what}: run the same command again", file=out)
        else:
            print(f"  not sent: {what}: {reason}", file=out)


def _print_summary(report: BulkReport, opts: ImportOptions, out: TextIO) -> None:
    print(
        f"summary: {report.records_created} {_noun(opts.entity)} created, "
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
        print(f"  failed: {opts.path}:{r.line}: {r.reason}", file=out)
    if len(failed) > 20:
        print(f"  ... and {len(failed) - 20} more failed rows (see --report)", file=out)
    _print_not_sent(report, opts, out)
    if report.interrupted:
        print("interrupted: not every group was sent." + _resume_text(opts), file=out)
    elif failed:
        print(
            "some rows failed; fix the cause and re-run the same command: done groups are "
            "skipped, the rest are reconciled and sent." + _resume_text(opts),
            file=out,
        )
