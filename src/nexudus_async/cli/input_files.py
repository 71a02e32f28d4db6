"""Reading bulk input files (CSV, JSON Lines) into numbered rows.

Line numbers are the file's own, so an error can be found in an editor: the
CSV header is line 1; a JSON Lines row is the line it is on. Problems of the
file's columns (an unknown CSV column, a missing required one) are reported
like row errors, once, on the header's line; a file that cannot be read at
all (its encoding, its CSV structure) raises :class:`InputFileError`, one
line naming the file and the line.

Files as people have them: UTF-8 with or without a byte-order mark (another
encoding with ``encoding=``, e.g. ``cp1252`` for Excel's "CSV"); the CSV
delimiter detected from the header line (``,``, ``;``, tab or ``|``) unless
given; headers matched case-insensitively (``CoworkerID``), with a
did-you-mean suggestion for a near miss. Columns the entity does not have
are refused unless named in ``ignore`` (or all of them, ``ignore_unknown``);
decimal commas and day-first dates are read as ``cells`` says, never guessed.
"""

from __future__ import annotations

import codecs
import csv
import decimal
import difflib
import hashlib
import io
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._core.entity import Entity, Field
from ..bulk.rows import PLAIN_CELLS, CellFormat, RowError, SourceRow, create_field, row_required

__all__ = ["DELIMITERS", "InputFile", "InputFileError", "read_rows"]

DELIMITERS = ",;\t|"
"""The CSV delimiters detected (``--delimiter`` may name any one character)."""


class InputFileError(Exception):
    """The file cannot be read as rows at all; the message names the file and line."""


class InputFile:
    """The rows of one file and what was wrong with its structure."""

    def __init__(self, path: Path, rows: list[SourceRow], errors: list[RowError]) -> None:
        self.path = path
        self.rows = rows
        self.errors = errors
        self.ignored: list[str] = []
        """Unknown columns left out (``ignore_unknown``), as the file names them."""
        self.not_found: list[str] = []
        """Names of ``ignore`` that no column has."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "csv"


def read_rows(
    path: Path,
    entity: Entity,
    *,
    fmt: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    cells: CellFormat = PLAIN_CELLS,
    ignore: Iterable[str] = (),
    ignore_unknown: bool = False,
    record_columns: bool = False,
) -> InputFile:
    """Read ``path`` (format from ``fmt`` or the suffix: .csv, .jsonl/.ndjson).

    ``ignore``: columns (JSON Lines keys) to leave out, matched
    case-insensitively; ``ignore_unknown``: leave out every column the
    entity does not have (listed in :attr:`InputFile.ignored`);
    ``record_columns``: columns name any field of a record (update, delete,
    apply), kept for the job's planning to check; none is required.
    """
    text = _decode(path, encoding)
    named = {name.strip().lower(): name.strip() for name in ignore if name.strip()}
    skip = _Skip(entity, set(named), ignore_unknown, record_columns)
    if (fmt or _format_of(path)) == "jsonl":
        source = _read_jsonl(path, text, cells, skip)
    else:
        source = _read_csv(path, text, entity, delimiter, cells, skip)
    source.ignored = skip.unknown
    source.not_found = [named[n] for n in sorted(skip.named - skip.seen)]
    return source


class _Skip:
    """Which columns a read leaves out, and what it found of them."""

    def __init__(self, entity: Entity, named: set[str], unknown: bool, record: bool) -> None:
        self.entity = entity
        self.record = record
        self.named = named
        self.all_unknown = unknown
        self.seen: set[str] = set()
        self.unknown: list[str] = []

    def skips(self, name: str, *, known: bool) -> bool:
        if name.lower() in self.named:
            self.seen.add(name.lower())
            return True
        if not known and self.all_unknown:
            if name not in self.unknown:
                self.unknown.append(name)
            return True
        return False

    def known(self, name: str) -> bool:
        """A column the entity's rows may have (apply's ``Count`` too)."""
        return self.field(name) is not None or (self.record and name == "Count")

    def field(self, name: str) -> Field | None:
        """The field a column names (any field of a record, or a create field)."""
        if self.record:
            return self.entity.field(name) or _by_lower(self.entity.fields).get(name.lower())
        return create_field(self.entity, name)


def _by_lower(fields: Iterable[Field]) -> dict[str, Field]:
    by_lower: dict[str, Field] = {}
    for f in fields:
        by_lower.setdefault(f.json_name.lower(), f)
        by_lower.setdefault(f.name.lower(), f)
    return by_lower


def _record_columns(header: list[str], skip: _Skip) -> list[str | None]:
    """A record job's columns: a field's name as the API writes it, any other kept as written
    (the job's planning names what it cannot use, with the line)."""
    keys: list[str | None] = []
    for name in header:
        spec = skip.field(name) if name else None
        if not name or skip.skips(name, known=skip.known(name)):
            keys.append(None)
        else:
            keys.append(spec.json_name if spec is not None else name)
    return keys


def _decode(path: Path, encoding: str | None) -> str:
    data = path.read_bytes()
    name = encoding or "utf-8-sig"  # spreadsheets often start with a byte-order mark
    try:
        codecs.lookup(name)
    except LookupError:
        raise InputFileError(f"unknown encoding {encoding!r} (try utf-8 or cp1252)") from None
    try:
        return data.decode(name)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        hint = (
            "save it as UTF-8, or pass its encoding (--encoding cp1252 for Excel's CSV)"
            if encoding is None
            else "is that its encoding?"
        )
        label = "UTF-8" if encoding is None else encoding
        raise InputFileError(
            f"{path}:line {line}: not valid {label} (byte 0x{byte:02x} at column {column}); " + hint
        ) from None


def _sniff(header_line: str) -> str:
    try:
        return csv.Sniffer().sniff(header_line, delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column, or nothing to tell: the standard comma
        return ","


def _match_columns(
    header: list[str], entity: Entity, line: int, skip: _Skip
) -> tuple[list[str | None], list[RowError]]:
    """Each column's key for the rows (None: ignored), and the header's problems.

    An exact API or snake_case name is kept as written (the row validation
    checks it); a name differing only in case becomes the API name.
    """
    if skip.record:
        return _record_columns(header, skip), []
    by_lower: dict[str, Field] = {}
    for f in entity.create_fields():
        by_lower.setdefault(f.json_name.lower(), f)
        by_lower.setdefault(f.name.lower(), f)
    keys: list[str | None] = []
    errors: list[RowError] = []
    taken: dict[str, str] = {}
    unknown: list[str] = []  # no near miss: told in one error
    for name in header:
        if not name:
            keys.append(None)
            continue
        spec = create_field(entity, name)
        if skip.skips(name, known=spec is not None or name.lower() in by_lower):
            keys.append(None)
            continue
        key = name if spec is not None else None
        if spec is None and name.lower() in by_lower:
            spec = by_lower[name.lower()]
            key = spec.json_name
            if key in taken:
                errors.append(
                    RowError(line, name, None, f"names the same field as column {taken[key]!r}")
                )
                key = None
        if spec is None and _near_miss(name, by_lower) is None:
            unknown.append(name)
        elif spec is None:
            errors.append(RowError(line, name, None, _unknown(name, entity, by_lower)))
        elif key is not None:
            taken.setdefault(key, name)
        keys.append(key)
    if unknown:
        errors.insert(0, _unknown_columns(unknown, entity, line))
    present = {create_field(entity, k) for k in keys if k is not None}
    for f in entity.create_fields():
        if row_required(f) and f not in present:
            errors.append(
                RowError(line, f.json_name, None, "required column is missing from the header")
            )
    return keys, errors


def _repeated_columns(
    header: list[str], keys: list[str | None], skip: _Skip, line: int
) -> list[RowError]:
    """A field named by two columns (``CoworkerId`` twice, or also ``coworker_id``)."""
    columns: dict[str, list[int]] = {}
    for number, key in enumerate(keys, start=1):
        spec = skip.field(key) if key else None
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


def _near_miss(name: str, by_lower: dict[str, Field]) -> Field | None:
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    return by_lower[close[0]] if close else None


def _unknown(name: str, entity: Entity, by_lower: dict[str, Field]) -> str:
    field = _near_miss(name, by_lower)
    assert field is not None
    return f"unknown column for {entity.name}; did you mean {field.json_name}?"


def _unknown_columns(names: list[str], entity: Entity, line: int) -> RowError:
    """Every column without a near miss, in one error that says how to go on."""
    known = ", ".join(f.json_name for f in entity.create_fields())
    how = f"--ignore-columns {_shell_word(','.join(names))} (or --ignore-unknown-columns)"
    if len(names) == 1:
        return RowError(
            line,
            names[0],
            None,
            f"unknown column for {entity.name} (known: {known}, or snake_case); "
            f"to leave it out pass {how}",
        )
    listed = ", ".join(repr(n) for n in names)
    return RowError(
        line,
        None,
        None,
        f"{len(names)} unknown columns for {entity.name}: {listed} (known: {known}, or "
        f"snake_case); to leave them out pass {how}",
    )


def _shell_word(name: str) -> str:
    plain = name.replace("_", "").replace(",", "").isalnum()
    return name if plain else '"' + name.replace('"', '\\"') + '"'


def _read_csv(
    path: Path, text: str, entity: Entity, delimiter: str | None, cells: CellFormat, skip: _Skip
) -> InputFile:
    rows: list[SourceRow] = []
    errors: list[RowError] = []
    first_line = text.split("\n", 1)[0]
    delimiter = delimiter or _sniff(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    keys: list[str | None] = []
    start = 1  # the line a record starts on (a quoted cell may span lines)
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if header is None:
                header = [h.strip() for h in record]
                keys, header_errors = _match_columns(header, entity, line, skip)
                repeated = _repeated_columns(header, keys, skip, line)
                if repeated:  # which column holds the value is anybody's guess: read no row
                    return InputFile(path, [], repeated)
                if any(e.message.startswith("required column") for e in header_errors):
                    # Every row would repeat it: one error for the file.
                    return InputFile(path, [], header_errors)
                errors.extend(header_errors)
                continue
            if not any(cell.strip() for cell in record):
                continue  # a blank line
            if len(record) > len(header):
                errors.append(
                    RowError(line, None, None, f"{len(record)} values for {len(header)} columns")
                )
                continue
            data: dict[str, Any] = {}
            for key, cell in zip(keys, record, strict=False):
                if key is not None:
                    data[key] = cell
            rows.append(SourceRow(line, data, cells))
    except csv.Error as exc:
        detail = str(exc)
        if "field larger than field limit" in detail:
            detail = _oversized(text, delimiter, start, header)
        else:
            start = max(reader.line_num, 1)
        raise InputFileError(f"{path}:line {start}: not readable as CSV: {detail}") from None
    if header is None:
        errors.append(RowError(1, None, None, "the file is empty (a header line is needed)"))
    return InputFile(path, rows, errors)


def _oversized(text: str, delimiter: str, start: int, header: list[str] | None) -> str:
    """Which column of the record starting on line ``start`` is over the field limit."""
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)  # process-wide: restored before anything else runs
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        record: list[str] = []
        line = 1
        for candidate in reader:
            if line >= start:
                record = candidate
                break
            line = reader.line_num + 1
    finally:
        csv.field_size_limit(limit)
    column = next((i for i, cell in enumerate(record) if len(cell) > limit), None)
    if column is None:  # pragma: no cover - the reader stopped on a field over the limit
        return f"a value is longer than {limit:,} characters"
    names = header or []
    name = repr(names[column]) if column < len(names) else str(column + 1)
    cell = record[column]
    quote = (
        f"; it runs over {cell.count(chr(10)) + 1:,} lines: a quote opened and never closed?"
        if "\n" in cell
        else ""
    )
    return (
        f"column {name} holds a value of {len(cell):,} characters, over the CSV field "
        f"limit of {limit:,}{quote}"
    )


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


def _read_jsonl(path: Path, text: str, cells: CellFormat, skip: _Skip) -> InputFile:
    rows: list[SourceRow] = []
    errors: list[RowError] = []
    for line, row_text in enumerate(text.split("\n"), start=1):
        if not row_text.strip():
            continue
        try:
            # parse_float: money keeps its digits (12.30 is not the float 12.3...)
            obj = json.loads(row_text, object_pairs_hook=_once_each, parse_float=decimal.Decimal)
        except json.JSONDecodeError as exc:
            errors.append(RowError(line, None, None, f"not valid JSON: {exc.msg}"))
            continue
        except _RepeatedKey as exc:
            errors.append(RowError(line, None, None, str(exc)))
            continue
        except RecursionError:
            errors.append(RowError(line, None, None, "not valid JSON: nested too deeply"))
            continue
        if not isinstance(obj, dict):
            errors.append(RowError(line, None, None, "not a JSON object"))
            continue
        kept = {k: v for k, v in obj.items() if not skip.skips(k, known=skip.known(k))}
        rows.append(SourceRow(line, kept, cells))
    return InputFile(path, rows, errors)
