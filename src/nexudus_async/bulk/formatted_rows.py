"""Rows as a spreadsheet writes them: decimal commas, day-first dates.

``client.coworker_time_passes.bulk_create(rows, decimal=",", date_format="%d/%m/%Y")``
reads every decimal and date cell given as text that way (the command
line's ``--decimal`` and ``--date-format``); :func:`formatted_rows` does it
for :func:`~nexudus_async.bulk.bulk_create`. Nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .executor import rows_from_mappings
from .rows import CellFormat, SourceRow

__all__ = ["CELL_OPTIONS", "formatted_rows"]

CELL_OPTIONS = ("decimal", "date_format")
"""The options of ``bulk_create`` that say how text cells write numbers and dates."""


def formatted_rows(
    rows: Iterable[Mapping[str, Any] | Any], *, decimal: str = ".", date_format: str | None = None
) -> list[SourceRow]:
    """The rows, numbered from 1 as ``bulk_create`` numbers them, read with this format.

    ``decimal``: ``"."`` or ``","`` for every decimal column; ``date_format``:
    strptime directives for every date column (None: ISO 8601). Raises
    ``ValueError`` for another separator or a format without a directive.
    """
    cells = CellFormat(decimal=decimal, date_format=date_format)
    return [attrs.evolve(row, cells=cells) for row in rows_from_mappings(rows)]
