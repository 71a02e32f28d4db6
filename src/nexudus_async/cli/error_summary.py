"""The bad rows of an input file, told in a screenful: per column and kind, then what to pass.

A few bad lines are listed one by one (``FILE:line 4: CoworkerId='abc': ...``);
more are summarised per column and kind of error (how many rows, the first
lines, one example), at most a screenful on a terminal. Every error goes
to the ``--report`` file when one is given.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .._core.entity import Entity
from ..bulk.rows import CellFormat, RowError
from .cell_hints import option_hints
from .input_files import InputFile

__all__ = ["LISTED_LINES", "print_ignored", "print_row_errors"]

LISTED_LINES = 10
"""Up to this many bad lines, each is printed; beyond, the errors are summarised."""

FIRST_LINES = 5
"""Lines named per kind of error in a summary."""


def print_row_errors(
    errors: Sequence[RowError],
    path: Path,
    out: TextIO,
    *,
    entity: Entity,
    cells: CellFormat,
    report: Path | None = None,
) -> None:
    """Print the errors (and the options that would read the file), ending "nothing was sent"."""
    bad_lines = len({e.line for e in errors})
    hints = option_hints(errors, entity, cells)
    tail = [f"{bad_lines} bad line(s), {len(errors)} error(s) in {path}; nothing was sent"]
    if report is not None:
        try:
            _write_report(report, path, errors)
            tail.insert(0, f"every error: {report}")
        except OSError as exc:
            tail.insert(0, f"error: cannot write the report {report} ({exc.strerror or exc})")
            report = None
    if bad_lines <= LISTED_LINES:
        body = _by_line(errors, path)
    else:
        screen = _screen(out)
        body = [f"{path}: errors by column and kind:"]
        room = None
        if screen is not None:  # in terminal rows: a long line takes several
            room = screen[0] - sum(_rows(line, screen[1]) for line in [*body, *hints, *tail])
        body += _by_kind(errors, room, None if screen is None else screen[1], report)
    for line in [*body, *hints, *tail]:
        print(line, file=out)


def print_ignored(source: InputFile, out: TextIO) -> None:
    """One warning for the unknown columns left out, one for ignored names no column has."""
    if source.ignored:
        names = ", ".join(repr(n) for n in source.ignored)
        print(f"warning: {source.path}: ignoring the unknown column(s) {names}", file=out)
    if source.not_found:
        names = ", ".join(repr(n) for n in source.not_found)
        print(f"warning: --ignore-columns: {source.path} has no column {names}", file=out)


def _by_line(errors: Sequence[RowError], path: Path) -> list[str]:
    """One line per bad row (``FILE:line N: problem; problem``), in file order."""
    by_line: dict[int, list[RowError]] = {}
    for e in errors:
        by_line.setdefault(e.line, []).append(e)
    return [
        f"{path}:line {n}: " + "; ".join(e.problem for e in by_line[n]) for n in sorted(by_line)
    ]


def _by_kind(
    errors: Sequence[RowError], room: int | None, width: int | None, report: Path | None
) -> list[str]:
    """A line per column and kind; within ``room`` terminal rows (None: all)."""
    kinds: dict[tuple[str | None, str], list[RowError]] = {}
    for e in sorted(errors, key=lambda e: e.line):
        kinds.setdefault((e.field, e.message), []).append(e)
    lines = [_kind_line(errs) for errs in kinds.values()]
    if room is None or width is None or sum(_rows(line, width) for line in lines) <= room:
        return lines
    where = f"every one in {report}" if report is not None else "--report FILE lists every one"
    shown, used = 0, _rows(_more(len(kinds), len(errors), where), width)
    while shown < len(lines) - 1 and used + _rows(lines[shown], width) <= room:
        used += _rows(lines[shown], width)
        shown += 1
    rest = list(kinds.values())[shown:]
    return [*lines[:shown], _more(len(rest), sum(len(r) for r in rest), where)]


def _more(kinds: int, errors: int, where: str) -> str:
    return f"  ... and {kinds} more kinds of error, {errors} errors ({where})"


def _kind_line(errs: list[RowError]) -> str:
    first = errs[0]
    if len(errs) == 1:
        return f"  line {first.line}: {first.problem}"
    lines = ", ".join(str(e.line) for e in errs[:FIRST_LINES])
    more = ", ..." if len(errs) > FIRST_LINES else ""
    name = f"{first.field}: " if first.field is not None else ""
    example = f", e.g. {_shown(first.value)}" if first.value is not None else ""
    return f"  {name}{first.message}: {len(errs)} rows (lines {lines}{more}){example}"


def _shown(value: Any) -> str:
    return str(value) if not isinstance(value, str) else repr(value)


def _rows(line: str, width: int) -> int:
    return max(1, -(-len(line) // width))


def _screen(out: TextIO) -> tuple[int, int] | None:
    """Rows (less one for the prompt) and columns when ``out`` is a terminal, else None."""
    try:
        if not out.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    size = shutil.get_terminal_size()
    return max(size.lines - 1, 8), max(size.columns, 20)


def _write_report(report: Path, path: Path, errors: Sequence[RowError]) -> None:
    data = {
        "file": str(path),
        "sent": 0,
        "bad_lines": len({e.line for e in errors}),
        "errors": [
            {"line": e.line, "field": e.field, "value": e.value, "message": e.message}
            for e in errors
        ],
    }
    report.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
