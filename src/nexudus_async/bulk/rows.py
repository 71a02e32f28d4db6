"""Validation of bulk-create rows: what a row may contain and what it means.

A row is a mapping whose keys are the entity's create fields, by their API
name (``CoworkerId``) or their Python name (``coworker_id``), as the spec's
descriptor names them. Values may be JSON values or the strings a CSV file
holds; each is checked by the one validation of the descriptors
(:mod:`nexudus_async._core.values`), so a row is refused for exactly what the
client would refuse, with the same words. Every row of a job is validated
before anything is sent, and each problem is reported with the row's line
number, the field and the offending value.

Dates are the space's local wall-clock time (see the README): a value is
accepted as ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]`` with an optional
literal ``Z`` and is sent as ``YYYY-MM-DDTHH:MM:SSZ``. An explicit offset
(``+02:00``) is refused, because the live service would silently shift the
stored time.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .._core import values as _values
from .._core.entity import NO_DEFAULT, Entity, Field
from .._generated.api import ENTITIES as _ALL

__all__ = [
    "ENTITIES",
    "CellError",
    "CellFormat",
    "RowError",
    "SourceRow",
    "ValidRow",
    "create_field",
    "row_required",
    "validate_rows",
]

ENTITIES: dict[str, Entity] = {e.attribute: e for e in _ALL}
"""The entities a bulk job can create, by namespace attribute (``coworker_time_passes``)."""


def row_required(field: Field) -> bool:
    """A row must give the field: the create body needs it and the spec has no default."""
    return field.create == "required" and field.default is NO_DEFAULT


def create_field(entity: Entity, name: str) -> Field | None:
    """The create field a row key names (API or Python name), or None."""
    field = entity.field(name)
    return field if field is not None and field.create != "absent" else None


class CellError(ValueError):
    """A cell that does not fit the file's :class:`CellFormat`; ``str()`` is the problem."""


_COMMA_NUMBER = re.compile(r"[+-]?(?:\d+(?:,\d*)?|,\d+)")
_SAMPLE_DATE = datetime.datetime(2027, 1, 31, 9, 30, 15)


def _date_format(_: Any, __: Any, value: str | None) -> None:
    if value is not None and "%" not in value:
        raise ValueError(
            f"date format {value!r} has no strptime directive (like %d/%m/%Y or %d/%m/%Y %H:%M)"
        )


@attrs.frozen
class CellFormat:
    """How a file writes numbers and dates: its text cells, read and written the same way.

    Nothing is guessed: a spreadsheet's ``01/02/2027`` is a day or a month
    first only by what the user says. Values that are not text (JSON
    numbers, Python dates) are not touched.
    """

    decimal: str = attrs.field(default=".", validator=attrs.validators.in_((".", ",")))
    """The decimal separator of every decimal column: ``.`` or ``,`` (``12,30``)."""
    date_format: str | None = attrs.field(default=None, validator=_date_format)
    """strptime directives of every date column (``%d/%m/%Y``); None: ISO 8601."""

    def read(self, field: Field, text: str) -> str:
        """The cell as the validation reads it (``12.30``, ISO dates); raise :class:`CellError`."""
        if field.kind == "decimal" and self.decimal == ",":
            stripped = text.strip()
            if not _COMMA_NUMBER.fullmatch(stripped):
                raise CellError("must be a number with a decimal comma, like 12,30")
            return stripped.replace(",", ".")
        if field.kind == "datetime" and self.date_format is not None:
            try:
                parsed = datetime.datetime.strptime(text.strip(), self.date_format)
            except ValueError as exc:
                if "out of range" in str(exc):  # 31/09/2027: the format fits, the day does not
                    raise CellError("is not a date: no such day") from None
                example = _SAMPLE_DATE.strftime(self.date_format)
                raise CellError(
                    f"must be a date like {example} (date format {self.date_format})"
                ) from None
            return parsed.isoformat()
        return text

    def write(self, field: Field, value: Any) -> Any:
        """A record's value as this format writes it (what :meth:`read` reads back)."""
        if field.kind == "decimal" and isinstance(value, decimal.Decimal) and self.decimal == ",":
            return format(value, "f").replace(".", ",")
        if field.kind == "datetime" and isinstance(value, datetime.datetime):
            if self.date_format is None:
                return value.replace(tzinfo=None).isoformat(timespec="seconds")
            text = value.replace(tzinfo=None).strftime(self.date_format)
            if self.read(field, text) != value.replace(tzinfo=None).isoformat():
                raise CellError(
                    f"{value.replace(tzinfo=None).isoformat(timespec='seconds')} does not fit "
                    f"the date format {self.date_format} (it would be read back as {text})"
                )
            return text
        return value


PLAIN_CELLS = CellFormat()
"""ISO 8601 dates and decimal points: the default."""


@attrs.frozen
class SourceRow:
    """A row as read, with the number users know it by (a file's line number)."""

    line: int
    data: Mapping[str, Any]
    cells: CellFormat = PLAIN_CELLS
    """How the row's text cells write numbers and dates."""


@attrs.frozen
class RowError:
    """One problem with one row."""

    line: int
    field: str | None
    value: Any
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"

    @property
    def problem(self) -> str:
        """The error without its line: ``CoworkerId='abc': is not an integer``."""
        if self.field is None:
            return self.message
        if self.value is None:
            return f"{self.field}: {self.message}"
        # A Decimal as the file wrote it (2.5), not its repr (Decimal('2.5')).
        shown = str(self.value) if isinstance(self.value, decimal.Decimal) else repr(self.value)
        return f"{self.field}={shown}: {self.message}"


@attrs.frozen
class ValidRow:
    """A validated row: API field names to normalized values (unset fields absent)."""

    line: int
    values: Mapping[str, Any]
    count: int
    """How many records the row asks for (CreateMultiple, or 1)."""


_PLAIN = (int, str, bool, decimal.Decimal)
"""Checked values that already are their JSON form (dates and UUIDs are not)."""


def _given_cells(entity: Entity, row: SourceRow) -> tuple[list[RowError], dict[str, Any], set[str]]:
    """The row's non-empty cells by API name, read; the column problems; the fields reported."""
    errors: list[RowError] = []
    given: dict[str, Any] = {}
    keys: dict[str, str] = {}  # API name -> the row's key for it, blank or not
    reported: set[str] = set()
    field_of = entity.field
    for key, raw in row.data.items():
        spec = field_of(key)
        if spec is not None and spec.create == "absent":
            spec = None
        if spec is None:
            known = ", ".join(f.json_name for f in entity.create_fields())
            errors.append(
                RowError(
                    row.line,
                    key,
                    raw,
                    f"unknown column for {entity.name} (known: {known}, or snake_case)",
                )
            )
            continue
        first = keys.setdefault(spec.json_name, key)
        if first != key:
            errors.append(
                RowError(
                    row.line,
                    None,
                    None,
                    f"{first}={row.data[first]!r} and {key}={raw!r} both give "
                    f"{spec.json_name}; give it once",
                )
            )
            given.pop(spec.json_name, None)
            reported.add(spec.json_name)
            continue
        if spec.json_name in reported:
            continue
        if raw is None or (type(raw) is str and not raw.strip()):
            continue  # an empty cell: not given
        if type(raw) is str:
            try:
                raw = row.cells.read(spec, raw)
            except CellError as exc:
                errors.append(RowError(row.line, spec.json_name, raw, str(exc)))
                reported.add(spec.json_name)  # reported: check_body must not add "is required"
                continue
        given[spec.json_name] = raw
    return errors, given, reported


def validate_row(
    entity: Entity, row: SourceRow, *, allow_unknown_enum_values: bool = False
) -> ValidRow | list[RowError]:
    """Validate one row; return it normalized, or every problem it has.

    ``allow_unknown_enum_values``: enum cells may hold values the API's
    documentation does not list (the client's option of the same name).
    """
    errors, given, reported = _given_cells(entity, row)
    clean, problems = _values.check_body(
        entity,
        given,
        update=False,
        source="text",
        defaults=True,
        allow_unknown_enum_values=allow_unknown_enum_values,
    )
    errors.extend(
        RowError(row.line, p.field, p.value, p.message) for p in problems if p.field not in reported
    )
    if errors:
        return errors
    values = {k: v if type(v) in _PLAIN else _values.to_json(v) for k, v in clean.items()}
    count = 1
    if entity.count_field is not None:
        count = values.pop(entity.count_field, 1)
    return ValidRow(row.line, values, count)


def validate_rows(
    entity: Entity, rows: Iterable[SourceRow], *, allow_unknown_enum_values: bool = False
) -> tuple[list[ValidRow], list[RowError]]:
    """Validate every row; the job may only go ahead when the error list is empty."""
    valid: list[ValidRow] = []
    errors: list[RowError] = []
    for row in rows:
        result = validate_row(entity, row, allow_unknown_enum_values=allow_unknown_enum_values)
        if isinstance(result, ValidRow):
            valid.append(result)
        else:
            errors.extend(result)
    # The checks' memo of text cells (up to 50,000) is no use once the file is checked.
    entity.memo.clear()
    return valid, errors
