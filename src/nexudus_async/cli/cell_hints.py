"""What to pass when a column's bad cells look like a spreadsheet's numbers or dates.

Nothing is guessed for the import itself (``01/02/2027`` is a day or a month
first only by what the user says); the errors only name the option that
would read the cells: ``Price: 230 rows look like decimal commas ('12,30'):
pass --decimal ,``. When the column cannot tell day-first from month-first,
the hint gives both.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Iterable

from .._core.entity import Entity
from ..bulk.rows import CellFormat, RowError

__all__ = ["option_hints"]

_COMMA = re.compile(r"\s*[+-]?\d*,\d+\s*")
_DATE = re.compile(
    r"\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?:([ T])\d{1,2}:\d{2}(:\d{2})?)?\s*"
)


def option_hints(errors: Iterable[RowError], entity: Entity, cells: CellFormat) -> list[str]:
    """One line per column whose refused cells another ``--decimal``/``--date-format`` reads."""
    by_field: dict[str, list[RowError]] = {}
    for e in errors:
        if e.field is not None and isinstance(e.value, str):
            by_field.setdefault(e.field, []).append(e)
    hints: list[str] = []
    for name, errs in by_field.items():
        field = entity.field(name)
        if field is None:
            continue
        if field.kind == "decimal" and cells.decimal == ".":
            hints += _comma_hint(name, [e.value for e in errs])
        elif field.kind == "datetime" and cells.date_format is None:
            hints += _date_hint(name, [e.value for e in errs])
    return hints


def _comma_hint(name: str, values: list[str]) -> list[str]:
    commas = [v for v in values if _COMMA.fullmatch(v)]
    if not commas:
        return []
    return [f"{name}: {_rows(commas)} like decimal commas ({commas[0]!r}): pass --decimal ,"]


def _date_hint(name: str, values: list[str]) -> list[str]:
    matches = [(v, m) for v in values if (m := _DATE.fullmatch(v))]
    if not matches:
        return []
    day_first = any(int(m.group(1)) > 12 for _, m in matches)
    month_first = any(int(m.group(3)) > 12 for _, m in matches)
    shapes = Counter(_shape(m) for _, m in matches)
    sep, year, clock = shapes.most_common(1)[0][0]
    example = next(v for v, m in matches if _shape(m) == (sep, year, clock))
    day = shlex.quote(f"%d{sep}%m{sep}{year}{clock}")
    month = shlex.quote(f"%m{sep}%d{sep}{year}{clock}")
    what = f"{name}: {_rows([v for v, _ in matches])}"
    if day_first and month_first:
        return [f"{what} like dates, some day first and some month first ({example!r})"]
    if day_first:
        return [f"{what} like day-first dates ({example!r}): pass --date-format {day}"]
    if month_first:
        return [f"{what} like month-first dates ({example!r}): pass --date-format {month}"]
    return [
        f"{what} like dates ({example!r}) but do not say whether the day or the month "
        f"comes first: pass --date-format {day} (day first) or {month} (month first)"
    ]


def _shape(m: re.Match[str]) -> tuple[str, str, str]:
    year = "%Y" if len(m.group(4)) == 4 else "%y"
    clock = ""
    if m.group(5) is not None:
        clock = f"{m.group(5)}%H:%M" + (":%S" if m.group(6) else "")
    return m.group(2), year, clock


def _rows(values: list[str]) -> str:
    """``1 row looks`` or ``2 rows look``."""
    return f"{len(values)} row looks" if len(values) == 1 else f"{len(values)} rows look"
