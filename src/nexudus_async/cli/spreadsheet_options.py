"""The options that say how a spreadsheet writes a file, shared by ``import`` and ``export``.

``--decimal ,`` and ``--date-format FORMAT`` read (and write) every decimal
and date column; ``import`` also takes ``--ignore-columns`` and
``--ignore-unknown-columns``. The same options on both commands make
``export`` write what ``import`` reads.
"""

from __future__ import annotations

import argparse
import datetime

from ..bulk.rows import CellFormat

__all__ = [
    "add_cell_options",
    "add_ignore_options",
    "cell_format",
    "cell_option_words",
    "ignored_columns",
]


def _decimal(text: str) -> str:
    if text not in (".", ","):
        raise argparse.ArgumentTypeError("the decimal separator is . or ,")
    return text


def _date_format(text: str) -> str:
    try:
        CellFormat(date_format=text)
        datetime.datetime(2027, 1, 31).strftime(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_cell_options(p: argparse.ArgumentParser, verb: str) -> None:
    p.add_argument(
        "--decimal",
        type=_decimal,
        default=".",
        metavar="SEP",
        help=f"the decimal separator every decimal column {verb}: . (default) or , (12,30)",
    )
    p.add_argument(
        "--date-format",
        type=_date_format,
        metavar="FORMAT",
        help=f"how every date column {verb} its dates, in strptime directives, e.g. "
        "%%d/%%m/%%Y or '%%d/%%m/%%Y %%H:%%M' (default: ISO 8601, 2027-01-31T09:30)",
    )


def add_ignore_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--ignore-columns",
        metavar="NAMES",
        default="",
        help='columns to leave out, comma-separated: "Customer name,Comment" (any case)',
    )
    p.add_argument(
        "--ignore-unknown-columns",
        action="store_true",
        help="leave out every column the entity does not have (one warning lists them)",
    )


def cell_format(args: argparse.Namespace) -> CellFormat:
    return CellFormat(decimal=args.decimal, date_format=args.date_format)


def ignored_columns(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(n.strip() for n in args.ignore_columns.split(",") if n.strip())


def cell_option_words(args: argparse.Namespace) -> list[str]:
    """These options as a command line repeats them (the resume hint)."""
    words: list[str] = []
    if args.decimal != ".":
        words += ["--decimal", args.decimal]
    if args.date_format:
        words += ["--date-format", args.date_format]
    if getattr(args, "ignore_columns", ""):
        words += ["--ignore-columns", args.ignore_columns]
    if getattr(args, "ignore_unknown_columns", False):
        words.append("--ignore-unknown-columns")
    return words
