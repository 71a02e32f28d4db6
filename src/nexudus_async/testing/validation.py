"""Validation of create and update bodies: the one validation, in the API's envelope."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import attrs

from .._core.dates import format_datetime
from .._core.entity import Field
from .._core.values import MISSING as _MISSING, Invalid, check, check_body, to_json
from .entities import EntitySpec

__all__ = ["INT32_MAX", "INT32_MIN", "MISSING", "FieldError", "check_value", "validate_write"]

MISSING: Any = _MISSING


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


def _stored(value: Any) -> Any:
    """What the store keeps: JSON values; an offset date shifted to the space's clock (UTC)."""
    if isinstance(value, _dt.datetime):
        offset = value.utcoffset()
        if offset:
            value = value.replace(tzinfo=None) - offset
        return format_datetime(value.replace(tzinfo=None, microsecond=0))
    return to_json(value)


# Integers are Int32 on the live service, which answers 400 beyond.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_BLANK_AS_NULL = frozenset({"datetime", "uuid"})


def _blank_as_null(field: Field | None, value: Any) -> Any:
    """``""`` in a nullable date or GUID field is null, as the live service (ASP.NET,
    whose JSON reader turns an empty string into a null ``DateTime?``/``Guid?``) takes it."""
    if value == "" and field is not None and field.nullable and field.kind in _BLANK_AS_NULL:
        return None
    return value


def _whole_number(field: Field, value: Any) -> int | None:
    """An enum field's value as a 32-bit whole number, documented or not (else None)."""
    try:
        number = check(attrs.evolve(field, kind="int", enum=()), value, source="json")
    except Invalid:
        return None
    return number if INT32_MIN <= number <= INT32_MAX else None


def validate_write(
    spec: EntitySpec, body: Any, *, update: bool, stored: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """Check a create/update body.

    Returns the writable values the body carries (``None`` for explicit nulls;
    absent fields are absent) plus one error per failing field. Read-only and
    unknown properties are ignored. On update, ``Id`` is checked too.

    Enum values: a create, or a PUT that changes an enum field, must use a
    documented value (400 otherwise: the spec's enum is all that is known to
    be accepted). A PUT that sends back the undocumented value the record
    already holds (``stored``; ``ExpirationType: 0`` is seen live) is accepted
    and keeps it: the read -> change -> PUT round trip the docs prescribe must
    work on whatever the service stores.
    """
    if not isinstance(body, dict):
        return {}, [FieldError("Body", "must be a JSON object", None)]
    field = spec.descriptor.field
    body = {name: _blank_as_null(field(name), value) for name, value in body.items()}
    clean, problems = check_body(spec.descriptor, body, update=update, source="json")
    errors: list[FieldError] = []
    for p in problems:
        enum = field(p.field)
        if stored is not None and enum is not None and enum.kind == "enum":
            number = _whole_number(enum, p.value)
            if number is not None and number == stored.get(p.field):
                clean[p.field] = number  # the value it holds, echoed back
                continue
        errors.append(FieldError(p.field, p.message, p.value))
    return {k: _stored(v) for k, v in clean.items()}, errors


def check_value(spec: EntitySpec, name: str, value: Any) -> tuple[Any, str | None]:
    """One field's value as the store keeps it, or the problem (any field, read-only too).

    For seeding: an enum field takes any 32-bit whole number, since seeds stand
    for what the live service holds, undocumented values (``0``) included.
    """
    field = spec.descriptor.field(name)
    assert field is not None, name
    if field.kind == "enum":
        number = _whole_number(field, value)
        if number is not None:
            return number, None
    try:
        return _stored(check(field, value, source="json")), None
    except Invalid as exc:
        return None, str(exc)
