"""Parsing and formatting of the API's scalar values (dates, GUIDs, numbers).

Dates are the space's wall-clock time written with a literal ``Z``
(``2025-01-15T10:30:00Z``, seconds precision). The emulator's space runs on
UTC, so a value sent with an offset is converted to UTC: the same silent
shift client authors observe on the live API.
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid
from decimal import Decimal
from typing import Any

from .._core.dates import format_datetime as _format, parse_text

__all__ = [
    "format_datetime",
    "is_int",
    "is_number",
    "now",
    "parse_bool",
    "parse_datetime",
    "parse_guid",
]

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MINUTES = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)


def now() -> _dt.datetime:
    """The space's wall-clock time, seconds precision."""
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None, microsecond=0)


def format_datetime(value: _dt.datetime) -> str:
    """Seconds precision: what the service stores."""
    return _format(value.replace(microsecond=0))


def parse_datetime(text: Any) -> tuple[_dt.datetime, str] | None:
    """Parse a date as the service does and say its precision (``day``, ``minute``, ``second``).

    The formats are the one date policy's (:func:`nexudus_async._core.dates.parse_text`);
    an offset is converted to the space's clock (UTC here), the live service's silent
    shift. Returns a naive wall-clock value.
    """
    if not isinstance(text, str) or not text or len(text) > 40:
        return None
    raw = text.strip()
    parsed = parse_text(raw)
    if parsed is None:
        return None
    if _DATE_ONLY.match(raw):
        precision = "day"
    elif _MINUTES.match(raw):
        precision = "minute"
    else:
        precision = "second"
    offset = parsed.utcoffset()
    if offset is not None:
        try:
            parsed = parsed.replace(tzinfo=None) - offset
        except OverflowError:
            return None
    return parsed.replace(microsecond=0), precision


def parse_guid(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def is_int(value: Any) -> bool:
    """A JSON integer (``1.0`` counts, as in JSON Schema; booleans do not)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, Decimal):  # an exact decoder's 2.0
        return value.is_finite() and value == value.to_integral_value()
    return isinstance(value, float) and value.is_integer()


def is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return isinstance(value, int)


def parse_bool(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    return None
