"""The command-line side the record commands share: their parser, their input file,
their resume hint, and running a planned job against the connection."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

import attrs

from .._core.entity import Entity
from ..bulk.rows import PLAIN_CELLS, SourceRow
from .connect import Connection
from .error_summary import print_ignored, print_row_errors
from .failures import EXIT_USAGE
from .input_files import InputFileError, read_rows
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
from .query_options import OptionError, parse_where
from .record_job import Planner, RecordJob, run_record_job
from .spreadsheet_options import cell_format, ignored_columns

__all__ = [
    "add_record_parser",
    "add_shared_options",
    "add_where_option",
    "job_journal",
    "option_error",
    "read_record_rows",
    "record_job",
    "run_record_cli",
    "usage",
    "where_of",
]


def add_record_parser(
    sub: Any, name: str, *, help: str, description: str
) -> argparse.ArgumentParser:
    """A record command's parser, the exit codes as its epilog (options: below)."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=description)
    p.epilog = EXIT_CODES_HELP
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    return p


def add_shared_options(p: argparse.ArgumentParser, *, again: str, file_options: bool) -> None:
    """The options every bulk command has; without ``file_options``, no input file and no
    ``--journal`` (undo's journal is its argument)."""
    if file_options:
        add_file_options(p)
        journal = "FILE.journal.sqlite next to FILE, else nexudus-COMMAND-ENTITY.journal.sqlite"
        add_run_options(p, journal)
    else:
        add_run_options(p, None)
    add_control_options(p, again=again, into="run the job against it (it starts empty)")


def add_where_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"{what}: a filter of the entity's list (time_pass=7, used=false, "
        "created_on=2027-01-01..2027-02-01); repeat to combine",
    )


def where_of(args: argparse.Namespace, entity: Entity) -> dict[str, Any] | None:
    """The parsed ``--where`` filters (None when none given); OptionError for a bad one."""
    return parse_where(entity, args.where) if args.where else None


def job_journal(args: argparse.Namespace, kind: str) -> Path:
    if args.journal is not None:
        return Path(args.journal)
    if getattr(args, "file", None) is not None:
        return Path(args.file).with_name(Path(args.file).name + ".journal.sqlite")
    return Path(f"nexudus-{kind}-{args.entity}.journal.sqlite")


def read_record_rows(args: argparse.Namespace, entity: Entity) -> list[SourceRow] | int:
    """The input file's rows, each column kept for planning to check; or exit 2."""
    path: Path = args.file
    err = sys.stderr
    if not path.is_file():
        print(f"error: {path}: no such file", file=err)
        return EXIT_USAGE
    try:
        source = read_rows(
            path, entity, fmt=args.fmt, delimiter=args.delimiter, encoding=args.encoding,
            cells=cell_format(args), ignore=ignored_columns(args),
            ignore_unknown=args.ignore_unknown_columns, record_columns=True,
        )  # fmt: skip
    except InputFileError as exc:
        print(f"error: {exc}; nothing was sent", file=err)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: {path}: cannot read the file ({exc.strerror or exc})", file=err)
        return EXIT_USAGE
    print_ignored(source, err)
    if source.errors:
        print_row_errors(
            source.errors, path, err, entity=entity, cells=cell_format(args), report=args.report
        )
        return EXIT_USAGE
    return source.rows


def record_job(
    args: argparse.Namespace, kind: str, title: str, extra: list[str], journal: Path | None = None
) -> RecordJob:
    """The job's options; ``extra``: the command's own words for the resume hint."""
    file: Path | None = getattr(args, "file", None)
    command = [kind] + ([str(file)] if file is not None else [])
    words = resume_words(args, command) + extra
    if args.time_scale:
        words += ["--time-scale", str(args.time_scale)]
    return RecordJob(
        kind=kind,
        title=title,
        journal=journal or job_journal(args, kind),
        rows_path=file,
        cells=cell_format(args) if hasattr(args, "decimal") else PLAIN_CELLS,
        dry_run=args.dry_run,
        report=args.report,
        concurrency=args.concurrency,
        new_job=args.new_job,
        wait=args.wait,
        progress=args.progress,
        time_scale=time_scale_of(args),
        resume_hint=None if args.emulator else shlex.join(words + cell_words(args)),
        journal_must_exist=kind == "undo",
    )


def run_record_cli(args: argparse.Namespace, job: RecordJob, plan: Planner) -> int:
    """Run the job as the options say; planning reads, so even a dry run connects."""
    if (code := usage_problem(args)) is not None:
        return code

    async def run(conn: Connection | None, journal: Path | None) -> int:
        assert conn is not None  # credentials are needed (dry_run=False below)
        job_ = job if journal is None or args.journal is not None else _in(job, journal)
        return await run_record_job(job_, conn, plan, out=sys.stdout, err=sys.stderr)

    return run_connected(args, dry_run=False, run=run)


def _in(job: RecordJob, journal: Path) -> RecordJob:
    """The job journaled in ``journal`` (the embedded emulator's temporary one), but undo:
    its journal is the import's."""
    return job if job.kind == "undo" else attrs.evolve(job, journal=journal)


def option_error(exc: OptionError) -> int:
    print(f"error: {exc}; nothing was sent", file=sys.stderr)
    return EXIT_USAGE


def usage(problem: str) -> int:
    """Exit 2 for options that do not go together."""
    print(f"error: {problem}", file=sys.stderr)
    return EXIT_USAGE
