"""``nexudus-async undo JOURNAL``: take back what an import created, exactly.

The import's journal knows per group the count, the job's window and (from
journal schema 4 on) the group's fields; for an older journal the customer
and time pass of each group come from the import's rows (the file the
journal names, or ``--rows``). The undo deletes that many of the
matching passes created in the window (the assumption reconciliation
documents), journaled in the same journal and resumable itself. A pass used
meanwhile is reported, not deleted, unless ``--include-used``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._generated.api import ENTITIES
from ..bulk.jobs import import_job, plan_undo
from ..bulk.journal import Journal
from ..bulk.kinds.common import Planned
from ..bulk.rows import SourceRow
from .input_files import InputFileError, read_rows
from .job_options import add_file_options
from .record_cli import add_record_parser, add_shared_options, record_job, run_record_cli
from .spreadsheet_options import cell_format, ignored_columns

__all__ = ["add_undo_parser"]


def add_undo_parser(sub: Any) -> None:
    p = add_record_parser(
        sub,
        "undo",
        help="take back what an import created, by its journal (resumable)",
        description=(
            "Delete the passes an import created: per customer and time pass, as many of the "
            "passes created in the import's window as it created, newest first. Passes used "
            "since are reported and kept unless --include-used. Journaled in the import's "
            "journal: run the same command again to resume."
        ),
    )
    p.add_argument("journal_file", type=Path, metavar="JOURNAL", help="the import's journal")
    p.add_argument(
        "--include-used", action="store_true", help="delete passes used since the import too"
    )
    p.add_argument("--job", metavar="ID", help="the import's job id (default: the latest)")
    p.add_argument(
        "--rows",
        type=Path,
        metavar="FILE",
        help="the import's input file (default: the file the journal says it read); "
        "the options below read it as the import did",
    )
    add_file_options(p)
    add_shared_options(p, again="undo again an import", file_options=False)
    p.set_defaults(handler=_cli_undo, entity="coworker", journal=None)


def _cli_undo(args: argparse.Namespace) -> int:
    extra = [str(args.journal_file)]
    extra += ["--include-used"] if args.include_used else []
    extra += ["--job", args.job] if args.job else []
    extra += ["--rows", str(args.rows)] if args.rows else []
    job = record_job(args, "undo", str(args.journal_file), extra, journal=args.journal_file)

    async def plan(client: Any, journal: Journal | None) -> Planned:
        assert journal is not None  # undo's journal exists (checked before planning)
        rows = None if _journal_knows_fields(args, journal) else _import_rows(args, journal)
        return await plan_undo(
            client, journal, job_id=args.job, include_used=args.include_used,
            rows=rows, new_job=args.new_job,
        )  # fmt: skip

    return run_record_cli(args, job, plan)


def _journal_knows_fields(args: argparse.Namespace, journal: Journal) -> bool:
    """Whether the journal kept every created group's fields (``--rows`` still wins)."""
    if args.rows:
        return False
    imported = import_job(journal, args.job)
    kept = journal.group_fields(imported.job_id)
    created = [k for k, g in journal.groups(imported.job_id).items() if g.created]
    return all(k in kept for k in created)


def _import_rows(args: argparse.Namespace, journal: Journal) -> list[SourceRow]:
    """The import's rows, read as the import read them; ValueError says what is missing."""
    imported = import_job(journal, args.job)
    path = args.rows or (Path(imported.source) if imported.source else None)
    if path is None or not path.is_file():
        raise ValueError(
            f"the import's file {path or '(not named by the journal)'} is not there: pass it "
            "with --rows FILE (the customer and time pass of each group come from its rows)"
        )
    spec = next((e for e in ENTITIES if e.attribute == imported.entity), None)
    if spec is None:
        raise ValueError(f"the journal's job is of an unknown entity {imported.entity!r}")
    try:
        source = read_rows(
            path, spec, fmt=args.fmt, delimiter=args.delimiter, encoding=args.encoding,
            cells=cell_format(args), ignore=ignored_columns(args),
            ignore_unknown=args.ignore_unknown_columns,
        )  # fmt: skip
    except (InputFileError, OSError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    if source.errors:
        raise ValueError(f"{path}: {source.errors[0]}: not the import's file?")
    return source.rows
