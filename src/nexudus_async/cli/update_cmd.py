"""``nexudus-async update``: change fields of existing records, resumable.

From rows keyed by ``Id`` (each row gives the fields to change; blank cells
change nothing), or from a query and one set of changes
(``--where time_pass=7 --where used=false --set ExpireDate=2027-06-30``).
Each changed record is read in full and PUT back with only those fields
changed; a record that already holds the values costs nothing more, so a
rerun sends no write.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..bulk.jobs import plan_update_for
from ..bulk.journal import Journal
from ..bulk.kinds.common import Planned
from .entities import ENTITY_CHOICES, add_entity_option
from .query_options import OptionError, parse_set, where_words
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

__all__ = ["add_update_parser"]


def add_update_parser(sub: Any) -> None:
    p = add_record_parser(
        sub,
        "update",
        help="change fields of existing records, from a file keyed by Id or a query (resumable)",
        description=(
            "Change fields of existing records: from a CSV or JSON Lines file whose rows give "
            "an Id and the fields to change, or from --where filters and --set changes. Each "
            "record is read in full and PUT back with only those fields changed; records "
            "already as asked cost nothing more. Run the same command again to resume."
        ),
    )
    p.add_argument("file", type=Path, nargs="?", help="rows of Id and fields (.csv, .jsonl)")
    add_entity_option(p, "what the records are")
    add_where_option(p, "the records to change (instead of FILE)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="with --where: a field to set on every record (ExpireDate=2027-06-30); repeat",
    )
    add_shared_options(p, again="update again with a file", file_options=True)
    p.set_defaults(handler=_cli_update)


def _cli_update(args: argparse.Namespace) -> int:
    entity = ENTITY_CHOICES[args.entity]
    if (args.file is None) == (not args.where):
        return usage("update takes a FILE or --where filters, one of the two")
    if args.file is not None and args.set:
        return usage("--set goes with --where: a file's rows give their own changes")
    if args.where and not args.set:
        return usage("--where needs --set: the fields to change")
    try:
        where = where_of(args, entity)
        changes = parse_set(args.set)
    except OptionError as exc:
        return option_error(exc)
    rows = read_record_rows(args, entity) if args.file is not None else None
    if isinstance(rows, int):
        return rows
    sets = [w for item in args.set for w in ("--set", item)]
    title = str(args.file) if where is None else " ".join(where_words(where))
    extra = [] if where is None else [*where_words(where), *sets]
    job = record_job(args, "update", title, extra)

    async def plan(client: Any, journal: Journal | None) -> Planned:
        resource = getattr(client, entity.attribute)
        if rows is not None:
            return await plan_update_for(resource, rows, journal=journal, new_job=args.new_job)
        return await plan_update_for(
            resource, where=where, set=changes, journal=journal, new_job=args.new_job
        )

    return run_record_cli(args, job, plan)
