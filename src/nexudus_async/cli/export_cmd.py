"""``nexudus-async export``: time passes as CSV or JSON Lines that ``import`` reads back.

The columns are the entity's create fields by API name (``CoworkerId``,
``TimePassId``, ``Notes``...), filled from the list records, one row per
record; so ``export`` then ``import`` into an empty account recreates the same
passes. ``--columns list`` writes the list records as the API returns them
instead (``Id``, ``Coworker``, ``CreatedOn``...), which ``import`` does not read.
``--delimiter``, ``--encoding``, ``--decimal`` and ``--date-format`` write the
file as a spreadsheet wants it; ``import`` with the same options reads it back.

Exit codes as for ``import`` (:mod:`.failures`): 0, 2 bad usage, 3 refused
credentials, 4 unreachable, 1 any other API failure.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import csv
import datetime as _dt
import decimal
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from .._core.argtypes import positive_number
from .._core.decimals import json_dumps
from .._core.entity import Entity
from .._core.errors import NexudusError
from ..bulk.rows import ENTITIES, PLAIN_CELLS, CellError, CellFormat
from .connect import (
    Connection,
    CredentialsError,
    add_connection_options,
    connection_from,
    published_limits,
)
from .entities import ENTITY_CHOICES, add_entity_option
from .failures import EXIT_OK, EXIT_USAGE, failure_line
from .spreadsheet_options import add_cell_options, cell_format

__all__ = ["add_export_parser", "export_csv", "export_records", "import_row"]


def _date(text: str) -> _dt.datetime:
    try:
        return _dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ) from None


def add_export_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "export",
        help="write time passes as CSV or JSON Lines (that import reads back)",
        description=(
            "Write every record of an entity (optionally filtered) as CSV or JSON Lines, "
            "with the create fields as columns: the file imports back with "
            "`nexudus-async import`."
        ),
    )
    add_entity_option(p, "what to export")
    p.add_argument("--format", dest="fmt", choices=("csv", "jsonl"), default="csv")
    p.add_argument(
        "--columns",
        choices=("import", "list"),
        default="import",
        help="import: the create fields import reads (default); list: the list records as is",
    )
    p.add_argument("--coworker", type=int, help="only this customer's passes (coworker entity)")
    p.add_argument("--product", type=int, help="only this product's links (product entity)")
    p.add_argument("--tariff", type=int, help="only this tariff's links (tariff entity)")
    p.add_argument("--time-pass", type=int, help="only passes of this time pass")
    p.add_argument(
        "--created-from", type=_date, metavar="DATE", help="created on or after (local time)"
    )
    p.add_argument("--created-to", type=_date, metavar="DATE", help="created on or before")
    p.add_argument("-o", "--output", type=Path, help="output file (default: standard output)")
    p.add_argument(
        "--delimiter",
        type=_delimiter,
        default=",",
        help="CSV delimiter: , (default), ; tab or | (import detects it)",
    )
    p.add_argument(
        "--encoding",
        default="utf-8",
        help="the file's encoding, e.g. cp1252 for Excel (default: UTF-8)",
    )
    add_cell_options(p, "writes")
    p.add_argument(
        "--page-size",
        type=int,
        default=None,
        help="records per list request (default: the largest the API allows, 1000)",
    )
    p.add_argument(
        "--time-scale", type=positive_number, default=1.0, help="rate limits' time scale"
    )
    add_connection_options(p)
    p.set_defaults(handler=_cli_export)


def _delimiter(text: str) -> str:
    text = {"tab": "\t", "\\t": "\t"}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError("a delimiter is one character (or 'tab')")
    return text


class _UsageError(Exception):
    """An option that does not fit the others."""


class _Unwritable(Exception):
    """A record's value the chosen encoding or date format cannot write; ``str()`` says which."""


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    entity = ENTITY_CHOICES[args.entity]
    filters: dict[str, Any] = {}
    for name in ("coworker", "product", "tariff", "time_pass"):
        value = getattr(args, name)
        if value is None:
            continue
        # --coworker/--product/--tariff name an entity's own link; the filter must exist on it
        if entity.filter(name) is None or (name != "time_pass" and name != args.entity):
            option = "--" + name.replace("_", "-")
            raise _UsageError(f"{option} does not filter the {args.entity} entity")
        filters[name] = value
    if args.created_from is not None or args.created_to is not None:
        filters["created_on"] = (args.created_from, args.created_to)
    return filters


def _cli_export(args: argparse.Namespace) -> int:
    try:
        conn = connection_from(args)
        filters = _filters(args)
        codecs.lookup(args.encoding)
    except LookupError:
        print(f"error: unknown encoding {args.encoding!r} (try utf-8 or cp1252)", file=sys.stderr)
        return EXIT_USAGE
    except (CredentialsError, _UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    largest = ENTITY_CHOICES[args.entity].max_page_size
    if args.page_size is not None and not 1 <= args.page_size <= (largest or args.page_size):
        print(f"error: --page-size must be from 1 to {largest}", file=sys.stderr)
        return EXIT_USAGE
    resource = ENTITY_CHOICES[args.entity].attribute
    options: dict[str, Any] = {
        "fmt": args.fmt,
        "columns": args.columns,
        "page_size": args.page_size,
        "time_scale": args.time_scale,
        "delimiter": args.delimiter,
        "cells": cell_format(args),
    }

    async def go() -> int:
        if args.output is None:
            if args.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
                sys.stdout.reconfigure(encoding=args.encoding)  # type: ignore[union-attr]
            n = await export_records(conn, resource, sys.stdout, filters, **options)
        else:
            with args.output.open("w", newline="", encoding=args.encoding) as fh:
                n = await export_records(conn, resource, fh, filters, **options)
        print(f"exported {n} records", file=sys.stderr)
        return EXIT_OK

    try:
        return asyncio.run(go())
    except _Unwritable as exc:
        print(f"error: {exc}; the output is incomplete", file=sys.stderr)
        return EXIT_USAGE
    except NexudusError as exc:
        code, text = failure_line(exc, conn, resumable=False)
        print(text, file=sys.stderr)
        return code


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _plain(value: Any) -> Any:
    """A list record's value as import reads it (UNSET and None: absent)."""
    if isinstance(value, bool | int | float | str | decimal.Decimal):
        return value  # a Decimal prints with its digits (CSV) and as a JSON number
    if isinstance(value, _dt.datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return None  # UNSET, None


def _jsonl(row: Mapping[str, Any]) -> str:
    # Money as a JSON number with its exact digits; other odd values as text, as before.
    plain = {k: v if isinstance(v, _JSON_TYPES) else str(v) for k, v in row.items()}
    return json_dumps(plain, ensure_ascii=False)


_JSON_TYPES = (str, int, float, bool, decimal.Decimal, type(None), list, dict)


def import_row(entity: Entity, record: Any, cells: CellFormat = PLAIN_CELLS) -> dict[str, Any]:
    """The create fields of a list record (``Coworker`` -> ``CoworkerId``...), values set only.

    Decimals and dates as ``cells`` writes them (what ``import`` with the same
    options reads back); :class:`CellError` when a date does not fit the format.
    """
    row: dict[str, Any] = {}
    for field in entity.create_fields():
        if field.json_name == entity.count_field or field.list_name is None:
            continue  # one row per record; lists lack some fields
        listed = entity.list_field(field.list_name)
        raw = getattr(record, listed.name, None) if listed is not None else None
        value = _plain(cells.write(field, raw))
        if value is not None:
            row[field.json_name] = value
    return row


async def export_records(
    conn: Connection,
    resource_name: str,
    out: TextIO,
    filters: Mapping[str, Any],
    *,
    fmt: str = "csv",
    columns: str = "import",
    page_size: int | None = None,
    time_scale: float = 1.0,
    delimiter: str = ",",
    cells: CellFormat = PLAIN_CELLS,
) -> int:
    """Write the records (CSV or JSON Lines); return how many."""
    entity = ENTITIES[resource_name]
    writer: csv.DictWriter[str] | None = None
    if fmt == "csv" and columns == "import":
        names = [f.json_name for f in entity.create_fields() if f.json_name != entity.count_field]
        writer = csv.DictWriter(out, fieldnames=names, extrasaction="ignore", delimiter=delimiter)
        writer.writeheader()
    n = 0
    async with conn.client(published_limits(time_scale)) as client:
        resource = getattr(client, resource_name)
        async for record in resource.iter(**filters, size=page_size):
            row = _row(entity, record, columns, cells, n + 1)
            try:
                if fmt == "jsonl":
                    out.write(_jsonl(row) + "\n")
                else:
                    if writer is None:
                        writer = csv.DictWriter(
                            out, fieldnames=list(row), extrasaction="ignore", delimiter=delimiter
                        )
                        writer.writeheader()
                    writer.writerow({k: _cell(v) for k, v in row.items()})
            except UnicodeEncodeError as exc:
                encoding = getattr(out, "encoding", None) or exc.encoding  # not "charmap"
                raise _Unwritable(_unencodable(exc, encoding, row, n + 1)) from None
            n += 1
    return n


def _row(entity: Entity, record: Any, columns: str, cells: CellFormat, number: int) -> Any:
    if columns != "import":
        return record.to_dict() if hasattr(record, "to_dict") else dict(record)
    try:
        return import_row(entity, record, cells)
    except CellError as exc:
        raise _Unwritable(f"record {number}: {exc}") from None


def _unencodable(
    exc: UnicodeEncodeError, encoding: str, row: Mapping[str, Any], number: int
) -> str:
    bad = exc.object[exc.start : exc.end]
    column = next((k for k, v in row.items() if isinstance(v, str) and bad in v), None)
    where = f"record {number}" + (f", column {column}" if column else "")
    return f"{where}: {bad!r} cannot be written in {encoding}; choose another --encoding"


async def export_csv(
    conn: Connection,
    resource_name: str,
    out: TextIO,
    filters: dict[str, Any],
    *,
    page_size: int | None = None,
    time_scale: float = 1.0,
) -> int:
    """The list records as CSV (API list field names as columns), as before."""
    return await export_records(
        conn,
        resource_name,
        out,
        filters,
        columns="list",
        page_size=page_size,
        time_scale=time_scale,
    )
