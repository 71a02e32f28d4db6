"""``nexudus-async apply FILE``: make the account match a file, rerunnable at any time.

By key (``--key Id``, ``SystemId`` or a natural key such as
``ProductId+TimePassId``): missing records are created, changed ones updated
(only the file's columns compared and changed), equal ones left alone; with
``--prune`` and a scope (``--where product=5``) records of the scope the file
lacks are deleted. Coworker passes by count: rows with a ``Count`` column
(customer, time pass, the attributes that make passes alike) get the
shortfall created with ``CreateMultiple``; ``--prune`` deletes a surplus of
unused passes. A second run reads what it needs and writes nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..bulk.jobs import plan_apply_for
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

__all__ = ["add_apply_parser"]


def add_apply_parser(sub: Any) -> None:
    p = add_record_parser(
        sub,
        "apply",
        help="make the account match a file: create, update (and with --prune delete)",
        description=(
            "Make the records match a CSV or JSON Lines file, matched by --key: missing ones "
            "are created, changed ones updated (only the file's columns), equal ones left "
            "alone; --prune also deletes the records of the --where scope the file lacks. "
            "Coworker passes with a Count column: the shortfall of unused passes is created. "
            "Running it twice: the second run writes nothing."
        ),
    )
    p.add_argument("file", type=Path, help="the records as they should be (.csv, .jsonl)")
    add_entity_option(p, "what the records are")
    p.add_argument(
        "--key",
        help="what matches a row to a record: Id, SystemId or fields joined by + "
        "(ProductId+TimePassId, TariffId+TimePassId, BusinessId+Name); not for Count rows",
    )
    p.add_argument(
        "--prune",
        action="store_true",
        help="delete the records of the --where scope that the file lacks",
    )
    add_where_option(p, "with --prune, the scope whose records the file lists in full")
    p.add_argument(
        "--max-per-request",
        type=int,
        metavar="N",
        help="cap CreateMultiple at N passes per request (default: no cap)",
    )
    add_shared_options(p, again="apply again a file", file_options=True)
    p.set_defaults(handler=_cli_apply)


def _cli_apply(args: argparse.Namespace) -> int:
    entity = ENTITY_CHOICES[args.entity]
    if args.prune and not args.where:
        return usage("--prune needs --where: the scope whose records the file lists in full")
    if args.where and not args.prune:
        return usage("--where goes with --prune (apply reads the records the file's rows name)")
    if args.max_per_request is not None and args.max_per_request < 1:
        return usage("--max-per-request must be at least 1")
    try:
        where = where_of(args, entity)
    except OptionError as exc:
        return option_error(exc)
    rows = read_record_rows(args, entity)
    if isinstance(rows, int):
        return rows
    extra = (["--key", args.key] if args.key else []) + (["--prune"] if args.prune else [])
    extra += where_words(where or {})
    if args.max_per_request:
        extra += ["--max-per-request", str(args.max_per_request)]
    job = record_job(args, "apply", str(args.file), extra)

    async def plan(client: Any, journal: Journal | None) -> Planned:
        return await plan_apply_for(
            getattr(client, entity.attribute), rows, key=args.key, prune=args.prune,
            where=where, journal=journal, new_job=args.new_job,
            max_per_request=args.max_per_request,
        )  # fmt: skip

    return run_record_cli(args, job, plan)
