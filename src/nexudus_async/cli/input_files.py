"""Reading bulk input files (CSV, JSON Lines) into numbered rows.

Line numbers are the file's own, so an error can be found in an editor: the
CSV header is line 1; a JSON Lines row is the line it is on. Problems of the
file itself (an unknown CSV column, a line that is not a JSON object) are
reported like row errors, with the line they are on.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from .._core.entity import Entity
from ..bulk.rows import RowError, SourceRow, create_field

__all__ = ["InputFile", "read_rows"]


class InputFile:
    """The rows of one file and what was wrong with its structure."""

    def __init__(self, path: Path, rows: list[SourceRow], errors: list[RowError]) -> None:
        self.path = path
        self.rows = rows
        self.errors = errors

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "csv"


def read_rows(path: Path, entity: Entity, *, fmt: str | None = None) -> InputFile:
    """Read ``path`` (format from ``fmt`` or the suffix: .csv, .jsonl/.ndjson)."""
    if (fmt or _format_of(path)) == "jsonl":
        return _read_jsonl(path)
    return _read_csv(path, entity)


def _unknown_columns(header: list[str], entity: Entity, line: int) -> list[RowError]:
    known = ", ".join(f.json_name for f in entity.create_fields())
    return [
        RowError(
            line, name, None, f"unknown column for {entity.name} (known: {known}, or snake_case)"
        )
        for name in header
        if name and create_field(entity, name) is None
    ]


def _repeated_columns(header: list[str], entity: Entity, line: int) -> list[RowError]:
    """A field named by two columns (``CoworkerId`` twice, or also ``coworker_id``)."""
    columns: dict[str, list[int]] = {}
    for number, name in enumerate(header, start=1):
        spec = create_field(entity, name) if name else None
        if spec is not None:
            columns.setdefault(spec.json_name, []).append(number)
    return [
        RowError(
            line,
            None,
            None,
            "columns "
            + " and ".join(f"{n} ({header[n - 1]})" for n in numbers)
            + f" both give {field}; a field may have one column only",
        )
        for field, numbers in columns.items()
        if len(numbers) > 1
    ]


def _read_csv(path: Path, entity: Entity) -> InputFile:
    rows: list[SourceRow] = []
    errors: list[RowError] = []
    # utf-8-sig: spreadsheets often start the file with a byte-order mark.
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header: list[str] | None = None
        for record in reader:
            line = reader.line_num
            if header is None:
                header = [h.strip() for h in record]
                repeated = _repeated_columns(header, entity, line)
                if repeated:  # which column holds the value is anybody's guess: read no row
                    return InputFile(path, rows, repeated)
                errors.extend(_unknown_columns(header, entity, line))
                continue
            if not any(cell.strip() for cell in record):
                continue  # a blank line
            if len(record) > len(header):
                errors.append(
                    RowError(
                        line,
                        None,
                        None,
                        f"{len(record)} values for {len(header)} columns",
                    )
                )
                continue
            data: dict[str, Any] = {}
            for name, cell in zip(header, record, strict=False):
                if name and create_field(entity, name) is not None:
                    data[name] = cell
            rows.append(SourceRow(line, data))
    if header is None:
        errors.append(RowError(1, None, None, "the file is empty (a header line is needed)"))
    return InputFile(path, rows, errors)


class _RepeatedKey(ValueError):
    pass


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys, silently.
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _RepeatedKey(f"the key {key!r} is given twice ({obj[key]!r} and {value!r})")
        obj[key] = value
    return obj


def _read_jsonl(path: Path) -> InputFile:
    rows: list[SourceRow] = []
    errors: list[RowError] = []
    with path.open(encoding="utf-8-sig") as fh:
        for line, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text, object_pairs_hook=_once_each)
            except json.JSONDecodeError as exc:
                errors.append(RowError(line, None, None, f"not valid JSON: {exc.msg}"))
                continue
            except _RepeatedKey as exc:
                errors.append(RowError(line, None, None, str(exc)))
                continue
            if not isinstance(obj, dict):
                errors.append(RowError(line, None, None, "not a JSON object"))
                continue
            rows.append(SourceRow(line, obj))
    return InputFile(path, rows, errors)
