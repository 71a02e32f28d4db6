"""``nexudus-async export``: time passes as CSV, read with the pagination iterator."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from pathlib import Path
from typing import Any, TextIO

from .._core.throttle import RateLimits
from .connect import Connection, CredentialsError, add_connection_options, connection_from
from .entities import ENTITY_CHOICES

__all__ = ["add_export_parser", "export_csv"]


def add_export_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "export",
        help="write time passes as CSV (list-shaped records)",
        description="Write every record of an entity (optionally filtered) as CSV.",
    )
    p.add_argument("--entity", choices=sorted(ENTITY_CHOICES), default="coworker")
    p.add_argument("--coworker", type=int, help="only this customer's passes (coworker entity)")
    p.add_argument("--time-pass", type=int, help="only passes of this time pass")
    p.add_argument("-o", "--output", type=Path, help="output file (default: standard output)")
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--time-scale", type=float, default=1.0, help="rate limits' time scale")
    add_connection_options(p)
    p.set_defaults(handler=_cli_export)


def _cli_export(args: argparse.Namespace) -> int:
    try:
        conn = connection_from(args)
    except CredentialsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    filters: dict[str, Any] = {}
    if args.coworker is not None:
        filters["coworker"] = args.coworker
    if args.time_pass is not None:
        filters["time_pass"] = args.time_pass

    async def go() -> int:
        if args.output is None:
            n = await export_csv(
                conn,
                ENTITY_CHOICES[args.entity].attribute,
                sys.stdout,
                filters,
                page_size=args.page_size,
                time_scale=args.time_scale,
            )
        else:
            with args.output.open("w", newline="", encoding="utf-8") as fh:
                n = await export_csv(
                    conn,
                    ENTITY_CHOICES[args.entity].attribute,
                    fh,
                    filters,
                    page_size=args.page_size,
                    time_scale=args.time_scale,
                )
        print(f"exported {n} records", file=sys.stderr)
        return 0

    return asyncio.run(go())


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


async def export_csv(
    conn: Connection,
    resource_name: str,
    out: TextIO,
    filters: dict[str, Any],
    *,
    page_size: int = 100,
    time_scale: float = 1.0,
) -> int:
    """Write the records as CSV (API field names as columns); return how many."""
    from ..client import NexudusClient

    limits = RateLimits.published()
    if time_scale != 1.0:
        limits = limits.scaled(time_scale)
    writer: csv.DictWriter[str] | None = None
    n = 0
    async with NexudusClient(base_url=conn.base_url, auth=conn.auth, rate_limits=limits) as client:
        resource = getattr(client, resource_name)
        async for record in resource.iter(**filters, size=page_size):
            row = record.to_dict() if hasattr(record, "to_dict") else dict(record)
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row), extrasaction="ignore")
                writer.writeheader()
            writer.writerow({k: _cell(v) for k, v in row.items()})
            n += 1
    return n
