"""The one date policy: the API's dates are the space's local wall-clock time.

The live API writes the space's *local* wall-clock time followed by a literal
``Z``, and a UTC offset in a request silently shifts the stored time. So:

* ``2025-01-15T10:30:00Z`` (or ``+00:00``) parses to the *naive* datetime
  ``2025-01-15 10:30:00``: the same wall-clock fields, no shift.
* A value with a non-zero offset (``+02:00``) parses to an aware datetime, as
  written; a value without any suffix parses naive.
* A naive datetime is written ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (the fraction
  only when non-zero, without trailing zeros, as Json.NET writes it), so the
  API's own values round-trip byte for byte; in a query string
  ``YYYY-MM-DDTHH:MM`` (seconds only when non-zero).
* A datetime with a non-zero offset is never written: converting it would
  silently pick a time zone (:class:`OffsetError`).

Text from a file or a request (:func:`parse_text`) is ``YYYY-MM-DD`` or
``YYYY-MM-DDTHH:MM[:SS[.fff]]`` with ``T`` or a space, and an optional ``Z``
or offset. Used by the wire format, the input checks, the bulk rows and the
emulator alike.
"""

from __future__ import annotations

import datetime
import re

__all__ = [
    "OffsetError",
    "format_datetime",
    "format_query_datetime",
    "parse_datetime",
    "parse_text",
    "wall_clock",
]

_ZERO = datetime.timedelta(0)
_fromisoformat = datetime.datetime.fromisoformat
_TEXT = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?))?"
    r"([Zz]|[+-]\d{2}:?\d{2})?$"
)


class OffsetError(ValueError):
    """A datetime with a non-zero UTC offset, which the API would shift."""

    def __init__(self, value: datetime.datetime | str) -> None:
        shown = value.isoformat() if isinstance(value, datetime.datetime) else value
        super().__init__(
            f"datetime {shown!r} has a non-zero UTC offset; the Nexudus API stores local "
            "wall-clock time and would shift it. Pass a naive datetime in the space's "
            "local time (or convert it yourself first)."
        )


def parse_datetime(value: str) -> datetime.datetime:
    """Parse an API date-time; ``Z`` or a zero offset gives a naive wall-clock value."""
    if value[-1:] == "Z":  # the API's own form: the fast path
        return _fromisoformat(value[:-1])
    return parse_with_offset(value)


def parse_with_offset(value: str) -> datetime.datetime:
    dt = _fromisoformat(value)
    if dt.tzinfo is not None and dt.utcoffset() == _ZERO:
        return dt.replace(tzinfo=None)
    return dt


def wall_clock(value: datetime.datetime) -> datetime.datetime:
    """The naive wall-clock form of ``value``; :class:`OffsetError` for a non-zero offset."""
    if value.tzinfo is None:
        return value
    offset = value.utcoffset()
    if offset is None or offset == _ZERO:
        return value.replace(tzinfo=None)
    raise OffsetError(value)


def _fraction(microsecond: int) -> str:
    return "." + f"{microsecond:06d}".rstrip("0") if microsecond else ""


def format_datetime(value: datetime.datetime) -> str:
    """Serialize a datetime the way the API writes it: wall-clock time and a literal ``Z``."""
    dt = wall_clock(value)
    return dt.isoformat(timespec="seconds") + _fraction(dt.microsecond) + "Z"


def format_query_datetime(value: datetime.datetime) -> str:
    dt = wall_clock(value)
    if dt.second or dt.microsecond:
        return dt.isoformat(timespec="seconds") + _fraction(dt.microsecond)
    return dt.isoformat(timespec="minutes")


def parse_text(text: str) -> datetime.datetime | None:
    """A date typed by a person or sent by a client; None when it is not one.

    The result is naive for ``Z`` or no suffix, aware for an offset (the
    caller decides: the client refuses it, the emulator shifts it like the
    live service).
    """
    m = _TEXT.match(text.strip())
    if m is None:
        return None
    day, clock, zone = m.group(1), m.group(2) or "00:00", m.group(3)
    if "." in clock:
        whole, frac = clock.split(".")
        clock = f"{whole}.{frac[:6].ljust(6, '0')}"
    suffix = "" if zone is None or zone in "Zz" else zone
    try:
        parsed = _fromisoformat(f"{day}T{clock}{suffix}")
    except ValueError:
        return None
    return parsed.replace(tzinfo=None) if parsed.utcoffset() == _ZERO else parsed
