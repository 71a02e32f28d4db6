"""Validation of bulk-create rows: what a row may contain and what it means.

A row is a mapping whose keys are the API's create fields, by their API name
(``CoworkerId``) or their snake_case name (``coworker_id``). Values may be
JSON values or the strings a CSV file holds. Every row of a job is validated
before anything is sent, and each problem is reported with the row's line
number, the field and the offending value.

Dates are the space's local wall-clock time (see the README): a value is
accepted as ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]`` with an optional
literal ``Z`` and is sent back unchanged as ``YYYY-MM-DDTHH:MM:SSZ``. An
explicit offset (``+02:00``) is refused, because the live service would
silently shift the stored time.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

__all__ = [
    "COWORKER_TIME_PASS",
    "ENTITIES",
    "PRODUCT_TIME_PASS",
    "TARIFF_TIME_PASS",
    "EntitySpec",
    "FieldSpec",
    "RowError",
    "SourceRow",
    "ValidRow",
    "snake_case",
    "validate_rows",
]

FieldKind = Literal["id", "count", "nonneg", "int", "str", "bool", "decimal", "datetime", "uuid"]


def snake_case(api_name: str) -> str:
    """``CoworkerProductUniqueId`` -> ``coworker_product_unique_id``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", api_name).lower()


@attrs.frozen
class FieldSpec:
    """One create field of an entity."""

    api_name: str
    kind: FieldKind
    required: bool = False
    choices: tuple[int, ...] = ()
    """Allowed values of an integer enum (empty: any integer)."""

    @property
    def snake_name(self) -> str:
        return snake_case(self.api_name)


@attrs.frozen
class EntitySpec:
    """What a bulk job may create and how its rows are grouped and counted."""

    name: str
    """The facade's resource attribute, e.g. ``coworker_time_passes``."""
    label: str
    """The API's entity name, e.g. ``CoworkerTimePass``."""
    fields: tuple[FieldSpec, ...]
    count_field: str | None
    """The field saying how many records one request creates (CreateMultiple),
    or None when every request creates exactly one record."""
    reconcile_fields: tuple[str, ...]
    """The fields whose list filters count the records a group creates."""

    def field(self, name: str) -> FieldSpec | None:
        return self._by_name().get(name)

    def _by_name(self) -> dict[str, FieldSpec]:
        out: dict[str, FieldSpec] = {}
        for f in self.fields:
            out[f.api_name] = f
            out[f.snake_name] = f
        return out


COWORKER_TIME_PASS = EntitySpec(
    name="coworker_time_passes",
    label="CoworkerTimePass",
    fields=(
        FieldSpec("CoworkerId", "id", required=True),
        FieldSpec("BusinessId", "id", required=True),
        FieldSpec("TimePassId", "id", required=True),
        # Optional in a row: a row without it asks for one pass.
        FieldSpec("CreateMultiple", "count"),
        FieldSpec("Notes", "str"),
        FieldSpec("PurchaseOrder", "str"),
        FieldSpec("Used", "bool"),
        FieldSpec("Free", "bool"),
        FieldSpec("Price", "decimal"),
        FieldSpec("ExpireDate", "datetime"),
        FieldSpec("TariffTimePassUniqueId", "uuid"),
        FieldSpec("CoworkerProductUniqueId", "uuid"),
        FieldSpec("CoworkerContractUniqueId", "uuid"),
        FieldSpec("SystemId", "str"),
    ),
    count_field="CreateMultiple",
    reconcile_fields=("CoworkerId", "TimePassId"),
)

PRODUCT_TIME_PASS = EntitySpec(
    name="product_time_passes",
    label="ProductTimePass",
    fields=(
        FieldSpec("ProductId", "id", required=True),
        FieldSpec("TimePassId", "id", required=True),
        FieldSpec("PassesIncluded", "nonneg", required=True),
        FieldSpec("ExpireTimeInMonths", "int"),
        FieldSpec("ExpireTimeInWeeks", "int"),
        FieldSpec("ExpirationType", "int", choices=(1, 2, 3, 4, 5, 6)),
        FieldSpec("ExpiresIn", "int"),
        FieldSpec("SystemId", "str"),
    ),
    count_field=None,
    reconcile_fields=("ProductId", "TimePassId"),
)

TARIFF_TIME_PASS = EntitySpec(
    name="tariff_time_passes",
    label="TariffTimePass",
    fields=(
        FieldSpec("TariffId", "id", required=True),
        FieldSpec("TimePassId", "id", required=True),
        FieldSpec("PassesIncluded", "nonneg", required=True),
        FieldSpec("PassRenewalTime", "int", required=True, choices=(1, 2, 3, 4, 5)),
        FieldSpec("SystemId", "str"),
    ),
    count_field=None,
    reconcile_fields=("TariffId", "TimePassId"),
)

ENTITIES: dict[str, EntitySpec] = {
    e.name: e for e in (COWORKER_TIME_PASS, PRODUCT_TIME_PASS, TARIFF_TIME_PASS)
}


@attrs.frozen
class SourceRow:
    """A row as read, with the number users know it by (a file's line number)."""

    line: int
    data: Mapping[str, Any]


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
        return f"{self.field}={self.value!r}: {self.message}"


@attrs.frozen
class ValidRow:
    """A validated row: API field names to normalized values (unset fields absent)."""

    line: int
    values: Mapping[str, Any]
    count: int
    """How many records the row asks for (CreateMultiple, or 1)."""


class _Invalid(Exception):
    pass


_BOOL_WORDS = {
    "true": True,
    "1": True,
    "yes": True,
    "y": True,
    "false": False,
    "0": False,
    "no": False,
    "n": False,
}
_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z)?$")


def _parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise _Invalid("is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    # "2.0" in a CSV as 2.0 in JSON: an integral value, whatever wrote it.
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+(?:\.0*)?\s*", value):
        return int(value.strip().split(".")[0])
    raise _Invalid("is not an integer")


def _parse_datetime(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("is not a date (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS])")
    text = value.strip()
    m = _DATE_RE.match(text)
    if m is None:
        if re.search(r"[+-]\d{2}:?\d{2}$", text):
            raise _Invalid(
                "has a UTC offset; give the space's local wall-clock time without one "
                "(an offset would shift the stored time)"
            )
        raise _Invalid("is not a date (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS])")
    day, clock = m.group(1), m.group(2) or "00:00:00"
    if len(clock) == 5:
        clock += ":00"
    try:
        parsed = _dt.datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        raise _Invalid("is not a valid date") from None
    return parsed.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(spec: FieldSpec, value: Any) -> Any:
    kind = spec.kind
    if kind in ("id", "count", "nonneg", "int"):
        n = _parse_int(value)
        if kind == "id" and n <= 0:
            raise _Invalid("is not a valid id (must be a positive integer)")
        if kind == "count" and n <= 0:
            raise _Invalid("must be a positive number of passes")
        if kind == "nonneg" and n < 0:
            raise _Invalid("must not be negative")
        if spec.choices and n not in spec.choices:
            allowed = ", ".join(str(c) for c in spec.choices)
            raise _Invalid(f"is not one of {allowed}")
        return n
    if kind == "str":
        if not isinstance(value, str):
            raise _Invalid("is not a string")
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        raise _Invalid("is not a boolean (true/false)")
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _Invalid("is not a number")
        try:
            d = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise _Invalid("is not a number") from None
        if not d.is_finite():
            raise _Invalid("is not a finite number")
        if d < 0:
            raise _Invalid("must not be negative")
        return d
    if kind == "datetime":
        return _parse_datetime(value)
    if kind == "uuid":
        if not isinstance(value, str):
            raise _Invalid("is not a UUID")
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            raise _Invalid("is not a UUID") from None
    raise AssertionError(kind)  # pragma: no cover


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def validate_row(entity: EntitySpec, row: SourceRow) -> ValidRow | list[RowError]:
    """Validate one row; return it normalized, or every problem it has."""
    errors: list[RowError] = []
    values: dict[str, Any] = {}
    for key, raw in row.data.items():
        spec = entity.field(key)
        if spec is None:
            known = ", ".join(f.api_name for f in entity.fields)
            errors.append(
                RowError(
                    row.line,
                    key,
                    raw,
                    f"unknown column for {entity.label} (known: {known}, or snake_case)",
                )
            )
            continue
        if spec.api_name in values:
            errors.append(
                RowError(row.line, key, raw, f"{spec.api_name} is given twice (API and snake_case)")
            )
            continue
        if _is_blank(raw):
            continue
        try:
            values[spec.api_name] = _parse(spec, raw)
        except _Invalid as exc:
            errors.append(RowError(row.line, spec.api_name, raw, str(exc)))
    bad_fields = {e.field for e in errors}
    for spec in entity.fields:
        if spec.required and spec.api_name not in values and spec.api_name not in bad_fields:
            errors.append(RowError(row.line, spec.api_name, None, "is required (missing or empty)"))
    if errors:
        return errors
    count = 1
    if entity.count_field is not None:
        count = values.pop(entity.count_field, 1)
    return ValidRow(row.line, values, count)


def validate_rows(
    entity: EntitySpec, rows: Iterable[SourceRow]
) -> tuple[list[ValidRow], list[RowError]]:
    """Validate every row; the job may only go ahead when the error list is empty."""
    valid: list[ValidRow] = []
    errors: list[RowError] = []
    for row in rows:
        result = validate_row(entity, row)
        if isinstance(result, ValidRow):
            valid.append(result)
        else:
            errors.extend(result)
    return valid, errors
