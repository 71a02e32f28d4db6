"""``nexudus-async delete``: delete records from a file of ``Id`` s or a query, resumable.

A record already gone counts as deleted; each delete is preceded by a full
read, so a write whose outcome was unknown is settled by reading, never
resent blindly.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..bulk.jobs import plan_delete_for
from ..bulk.journal import Journal
from ..bulk.kinds.common import Planned
from .entities import ENTITY_CHOICES, add_entity_option
from .query_options import OptionError, where_words
from .record_cli import (
    add_record_parser,
    add_shared_options,
    add_where_option,
    option_error,
    read_record_rows,
    record_job,
    run_record_cli,
    usage,
    where_of,
)

__all__ = ["add_delete_parser"]


def add_delete_parser(sub: Any) -> None:
    p = add_record_parser(
        sub,
        "delete",
        help="delete records from a file of Ids or a query (resumable)",
        description=(
            "Delete the records a CSV or JSON Lines file names by Id (other columns are "
            "ignored), or every record --where filters find. A record already gone counts "
            "as deleted. Run the same command again to resume."
        ),
    )
    p.add_argument("file", type=Path, nargs="?", help="rows with an Id column (.csv, .jsonl)")
    add_entity_option(p, "what the records are")
    add_where_option(p, "the records to delete (instead of FILE)")
    add_shared_options(p, again="delete again with a file", file_options=True)
    p.set_defaults(handler=_cli_delete)


def _cli_delete(args: argparse.Namespace) -> int:
    entity = ENTITY_CHOICES[args.entity]
    if (args.file is None) == (not args.where):
        return usage("delete takes a FILE or --where filters, one of the two")
    try:
        where = where_of(args, entity)
    except OptionError as exc:
        return option_error(exc)
    rows = read_record_rows(args, entity) if args.file is not None else None
    if isinstance(rows, int):
        return rows
    title = str(args.file) if where is None else " ".join(where_words(where))
    job = record_job(args, "delete", title, [] if where is None else where_words(where))

    async def plan(client: Any, journal: Journal | None) -> Planned:
        resource = getattr(client, entity.attribute)
        if rows is not None:
            return await plan_delete_for(resource, rows, journal=journal, new_job=args.new_job)
        return await plan_delete_for(resource, where=where, journal=journal, new_job=args.new_job)

    return run_record_cli(args, job, plan)
