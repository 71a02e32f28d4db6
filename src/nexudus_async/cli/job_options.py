"""The options every bulk command shares, and running a command against a connection.

``import``, ``update``, ``delete``, ``apply`` and ``undo`` take the same
``--dry-run``, ``--journal``, ``--report``, ``--concurrency``, ``--new-job``,
``--wait``, ``--progress``, ``--emulator``, ``--time-scale``, connection and
spreadsheet options, with the same meaning and the same exit codes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from .connect import Connection, CredentialsError, add_connection_options, connection_from
from .failures import EXIT_USAGE
from .spreadsheet_options import add_cell_options, add_ignore_options, cell_option_words

__all__ = [
    "EXIT_CODES_HELP",
    "add_control_options",
    "add_file_options",
    "add_run_options",
    "delimiter",
    "resume_words",
    "run_connected",
    "time_scale_of",
    "usage_problem",
]

EXIT_CODES_HELP = """\
exit codes:
  0    done (now or by an earlier run)     1    some rows failed
  2    bad input or usage: nothing sent    3    credentials or permissions refused
  4    the API could not be reached        70   unexpected error (-v: traceback)
  75   another process runs the same job: nothing sent (try again later, or --wait)
  130  stopped by Ctrl-C (SIGINT)          143  stopped by SIGTERM
  after 1, 130 or 143: run the same command again to finish the job
"""

Runner = Callable[[Connection | None, Path | None], Awaitable[int]]
"""Runs a job: the connection (None: a dry run without credentials) and, with
``--emulator``, the temporary journal to use when none was given."""


def delimiter(text: str) -> str:
    text = {"tab": "\t", "\\t": "\t"}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError("a delimiter is one character (or 'tab')")
    return text


def add_file_options(p: argparse.ArgumentParser) -> None:
    """How the input file is read: format, delimiter, encoding, cells, ignored columns."""
    p.add_argument("--format", dest="fmt", choices=("csv", "jsonl"), help="default: from suffix")
    p.add_argument(
        "--delimiter",
        type=delimiter,
        help="CSV delimiter (default: detected from the header line among , ; tab |)",
    )
    p.add_argument(
        "--encoding",
        help="the file's encoding, e.g. cp1252 (default: UTF-8 with or without a BOM)",
    )
    add_cell_options(p, "holds")
    add_ignore_options(p)


def add_run_options(p: argparse.ArgumentParser, journal_default: str | None) -> None:
    """``--dry-run``, ``--journal`` (unless ``journal_default`` is None), ``--report``,
    ``--concurrency``."""
    p.add_argument("--dry-run", action="store_true", help="validate and print the plan only")
    if journal_default is not None:
        p.add_argument("--journal", type=Path, help=f"journal file (default: {journal_default})")
    p.add_argument("--report", type=Path, help="write a JSON report here")
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")


def add_control_options(p: argparse.ArgumentParser, *, again: str, into: str) -> None:
    """``--new-job``, ``--wait``, ``--progress``, ``--emulator``, ``--time-scale``, connection.

    ``again``: what a new job over a finished one does ("import again a file");
    ``into``: what the embedded emulator is for ("import into it").
    """
    p.add_argument(
        "--new-job",
        action="store_true",
        help="start a new job: over an unfinished job for different content, or to "
        f"{again} whose job the journal has as finished",
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
        help=f"start the embedded emulator in-process and {into}",
    )
    p.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="scale of the rate limits' clock (the emulator's time scale; "
        "default 1, or 0.01 with --emulator)",
    )
    add_connection_options(p)


def time_scale_of(args: argparse.Namespace) -> float:
    return float(args.time_scale) if args.time_scale else (0.01 if args.emulator else 1.0)


def usage_problem(args: argparse.Namespace) -> int | None:
    """Exit 2 with a line for a shared option out of range, else None."""
    if args.concurrency < 1:
        print("error: --concurrency must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    return None


def resume_words(args: argparse.Namespace, command: list[str]) -> list[str]:
    """``command`` with the shared options that change what a rerun does (no secrets)."""
    parts = ["nexudus-async", *command]
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
    if getattr(args, "fmt", None):
        parts += ["--format", args.fmt]
    if getattr(args, "delimiter", None):
        parts += ["--delimiter", "tab" if args.delimiter == "\t" else args.delimiter]
    if getattr(args, "encoding", None):
        parts += ["--encoding", args.encoding]
    return parts


def cell_words(args: argparse.Namespace) -> list[str]:
    """The spreadsheet cell options as a rerun repeats them (after the command's own)."""
    return cell_option_words(args) if hasattr(args, "decimal") else []


def run_connected(args: argparse.Namespace, *, dry_run: bool, run: Runner) -> int:
    """Connect as the options say (or to the embedded emulator) and run the job."""

    async def go() -> int:
        if args.emulator and not dry_run:
            # A fresh emulator holds nothing: a journal from an earlier run would
            # wrongly skip work, so the job journals into a temporary directory.
            with tempfile.TemporaryDirectory(prefix="nexudus-import-") as tmpdir:
                journal = Path(tmpdir) / "journal.sqlite" if args.journal is None else None
                async with _emulator(time_scale_of(args)) as (base_url, email, password):
                    emulated = connection_from(
                        args,
                        {},
                        default_base_url=base_url,
                        default_email=email,
                        default_password=password,
                        default_limits="private",  # a fresh emulator: no one shares it
                    )
                    return await run(emulated, journal)
        conn: Connection | None = None
        try:
            conn = connection_from(args)
        except CredentialsError as exc:
            if not dry_run:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_USAGE  # a dry run without credentials stays offline
        return await run(conn, None)

    return asyncio.run(go())


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
