"""Validation of create and update bodies, answering errors the way the API words them."""

from __future__ import annotations

from typing import Any

import attrs

from .entities import EntitySpec, FieldSpec
from .values import format_datetime, is_int, is_number, parse_datetime, parse_guid

__all__ = ["INT32_MAX", "INT32_MIN", "MISSING", "FieldError", "validate_write"]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@attrs.frozen
class FieldError:
    property_name: str
    message: str
    attempted_value: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "AttemptedValue": self.attempted_value,
            "Message": self.message,
            "PropertyName": self.property_name,
        }


def _check(field: FieldSpec, value: Any) -> tuple[Any, str | None]:
    """Return the stored form of ``value`` or an error message."""
    kind = field.type
    if kind in ("int", "enum"):
        if not is_int(value):
            return None, "must be a whole number"
        number = int(value)
        if not INT32_MIN <= number <= INT32_MAX:
            return None, "is out of range"
        if kind == "enum" and number not in field.enum:
            return None, f"'{number}' is not a valid value"
        if field.minimum is not None and number < field.minimum:
            return None, f"must be greater than or equal to {field.minimum}"
        return number, None
    if kind == "bool":
        if not isinstance(value, bool):
            return None, "must be true or false"
        return value, None
    if kind == "decimal":
        if not is_number(value):
            return None, "must be a number"
        return value, None
    if kind == "str":
        if not isinstance(value, str):
            return None, "must be text"
        return value, None
    if kind == "datetime":
        parsed = parse_datetime(value)
        if parsed is None:
            return None, "is not a valid date"
        return format_datetime(parsed[0]), None
    if kind == "guid":
        guid = parse_guid(value)
        if guid is None:
            return None, "is not a valid GUID"
        return guid, None
    raise AssertionError(kind)  # pragma: no cover


def validate_write(
    spec: EntitySpec, body: Any, *, update: bool
) -> tuple[dict[str, Any], list[FieldError]]:
    """Check a create/update body.

    Returns the writable values the body carries (``None`` for explicit nulls;
    absent fields are absent) plus one error per failing field. Read-only and
    unknown properties are ignored. On update, ``Id`` is checked too.
    """
    if not isinstance(body, dict):
        return {}, [FieldError("Body", "must be a JSON object", None)]
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []
    fields = [f for f in spec.fields if not f.read_only]
    if update:
        fields.insert(0, spec.field_map["Id"])
    for field in fields:
        value = body.get(field.name, MISSING)
        required = field.required or field.name == "Id"
        if value is MISSING or value is None:
            if required:
                errors.append(FieldError(field.name, "is a required field", None))
            elif value is None:
                if field.nullable:
                    clean[field.name] = None
                else:
                    errors.append(FieldError(field.name, "may not be null", None))
            continue
        stored, message = _check(field, value)
        if message is not None:
            errors.append(FieldError(field.name, message, value))
        else:
            clean[field.name] = stored
    return clean, errors
