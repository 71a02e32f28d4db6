"""Validation of create and update bodies: the one validation, in the API's envelope."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from .._core.dates import format_datetime
from .._core.values import MISSING as _MISSING, Invalid, check, check_body, to_json
from .entities import EntitySpec

__all__ = ["MISSING", "FieldError", "check_value", "validate_write"]

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
    clean, problems = check_body(spec.descriptor, body, update=update, source="json")
    errors = [FieldError(p.field, p.message, p.value) for p in problems]
    return {k: _stored(v) for k, v in clean.items()}, errors


def check_value(spec: EntitySpec, name: str, value: Any) -> tuple[Any, str | None]:
    """One field's value as the store keeps it, or the problem (any field, read-only too)."""
    field = spec.descriptor.field(name)
    assert field is not None, name
    try:
        return _stored(check(field, value, source="json")), None
    except Invalid as exc:
        return None, str(exc)
