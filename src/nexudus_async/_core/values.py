"""The one validation of field values, driven by the descriptors.

Every check of a value a user or a client writes reads the field's
:class:`~nexudus_async._core.entity.Field` (kind, bounds, enum, nullability,
whether a body needs it), and words its problem the same way, whoever asks:

* the facade (``create``/``update`` arguments, ``source="python"``): Python
  values, ``InputError`` on a problem;
* the bulk layer (CSV and JSON Lines rows, ``source="text"``): also the strings
  a file holds, a :class:`~nexudus_async.bulk.rows.RowError` per problem;
* the emulator (request bodies, ``source="json"``): JSON values, one
  ``Errors[]`` entry per problem, with the live service's tolerance for dates
  sent with an offset.

Kept free of cattrs, aiohttp and the request pipeline: the emulator imports it.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from . import dates, decimals
from .entity import NO_DEFAULT, Entity, Field, Kind

__all__ = ["MISSING", "Invalid", "Problem", "Source", "check", "check_body", "to_json"]

Source = Literal["python", "text", "json"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""A field a body does not carry (unlike ``None``: sent as null)."""


class Invalid(ValueError):
    """A value its field cannot take; ``str()`` is the problem (``must be a whole number``)."""


@attrs.frozen(slots=True)
class Problem:
    """One field of a body that failed its check."""

    field: str
    """The field's JSON name."""
    value: Any
    message: str


_BOOL_WORDS = {
    "true": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "no": False,
    "n": False,
    "0": False,
}
_MEMO_SIZE = 50_000
"""Distinct text cells remembered per entity (a file repeats its values)."""
_INT_TEXT = re.compile(r"\s*[+-]?\d+(?:\.0*)?\s*")


def _int(field: Field, value: Any, source: Source, unknown_enums: bool = False) -> int:
    if isinstance(value, bool):
        raise Invalid("must be a whole number")
    if isinstance(value, int):
        number = value
    elif source != "python" and isinstance(value, float) and value.is_integer():
        number = int(value)  # a JSON integer may be written 2.0
    elif (
        source != "python"
        and isinstance(value, decimal.Decimal)
        and value.is_finite()
        and value == value.to_integral_value()
    ):
        number = int(value)  # 2.0 from an exact decoder
    elif source == "text" and isinstance(value, str) and _INT_TEXT.fullmatch(value):
        number = int(value.strip().split(".")[0])
    else:
        raise Invalid("must be a whole number")
    if field.minimum is not None and number < field.minimum:
        raise Invalid(f"must be at least {field.minimum}")
    if field.maximum is not None and number > field.maximum:
        raise Invalid(f"must be at most {field.maximum}")
    if field.kind == "enum" and number not in field.enum and not unknown_enums:
        raise Invalid("must be one of " + ", ".join(str(v) for v in field.enum))
    return number


def _bool(value: Any, source: Source) -> bool:
    if isinstance(value, bool):
        return value
    if source == "text" and isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[value.strip().lower()]
    raise Invalid("must be true or false")


def _decimal(value: Any, source: Source) -> decimal.Decimal:
    # Numbers from Python or JSON (a float through its shortest repr); text only from files.
    try:
        if isinstance(value, str):
            if source != "text":
                raise Invalid("must be a number")
            return decimals.from_text(value)
        return decimals.from_python(value)
    except decimals.NotADecimal as exc:
        raise Invalid(str(exc)) from None


DATE_FORMS = "a datetime, a date, or text YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]"


def _datetime(value: Any, source: Source) -> datetime.datetime:
    # The one date rule, for every source: a date is that day at 00:00 wall-clock,
    # and text is read by dates.parse_text wherever it comes from.
    parsed: datetime.datetime | None = None
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, datetime.date):
        parsed = datetime.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        parsed = dates.parse_text(value)
    if parsed is None:
        if source != "python":  # a file's cell or a request's body: text is all they hold
            raise Invalid("must be a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS])")
        raise Invalid(f"must be {DATE_FORMS}")
    if source != "json":  # the emulator takes offsets, and shifts them as the API does
        try:
            parsed = dates.wall_clock(parsed)
        except dates.OffsetError:
            raise Invalid(
                "has a non-zero UTC offset; the Nexudus API stores the space's local "
                "wall-clock time and would shift it: give the local time without an offset"
            ) from None
    return parsed


def _uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            pass
    raise Invalid("must be a UUID")


def check(
    field: Field, value: Any, *, source: Source = "python", allow_unknown_enum_values: bool = False
) -> Any:
    """``value`` as ``field`` takes it, or :class:`Invalid` naming the problem.

    An enum field takes only its documented values unless
    ``allow_unknown_enum_values`` (any whole number then; the live service
    holds values its documentation does not list, such as ``ExpirationType: 0``).

    ``None`` and :data:`MISSING` are the caller's to handle (see :func:`check_body`).
    The result is a Python value: ``int``, ``bool``, ``str``, a ``Decimal``
    (:mod:`.decimals`: a float through its shortest repr), a naive ``datetime`` (aware only from
    ``json``, with its offset), a ``UUID``.
    """
    kind = field.kind
    if kind == "int" or kind == "enum":
        return _int(field, value, source, allow_unknown_enum_values)
    if kind == "string":
        if not isinstance(value, str):
            raise Invalid("must be text")
        return value
    if kind == "bool":
        return _bool(value, source)
    if kind == "decimal":
        return _decimal(value, source)
    if kind == "datetime":
        return _datetime(value, source)
    if kind == "uuid":
        return _uuid(value)
    raise AssertionError(kind)  # pragma: no cover - Kind is closed


def check_filter(kind: Kind, value: Any) -> Any:
    """A filter's value (or one end of a range) as the client takes it, or :class:`Invalid`.

    The same rules as :func:`check` for a create argument of that kind, without
    a field's bounds (a filter may ask for anything).
    """
    if kind in ("int", "enum"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("must be a whole number")
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise Invalid("must be text")
        return value
    if kind == "bool":
        return _bool(value, "python")
    if kind == "decimal":
        return _decimal(value, "python")
    if kind == "datetime":
        return _datetime(value, "python")
    return _uuid(value)


def to_json(value: Any) -> Any:
    """A checked value in the form a JSON body (or a journal) carries it."""
    if isinstance(value, datetime.datetime):
        return dates.format_datetime(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _no_value(
    field: Field, value: Any, update: bool, clean: dict[str, Any], problems: list[Problem]
) -> None:
    """A field absent (``MISSING``) or null in a body: required, a null, or nothing."""
    name = field.json_name
    if (field.update if update else field.create) == "required":
        problems.append(Problem(name, None, "is required"))
    elif value is None:
        if field.nullable:
            clean[name] = None
        else:
            problems.append(Problem(name, None, "must not be null"))


def check_body(
    entity: Entity,
    body: Mapping[str, Any],
    *,
    update: bool,
    source: Source,
    defaults: bool = False,
    allow_unknown_enum_values: bool = False,
) -> tuple[dict[str, Any], list[Problem]]:
    """Check a create (or update) body given by JSON names (or Python names, but from JSON).

    Returns the values the body carries by JSON name (``None`` for explicit
    nulls; absent fields stay absent; with ``defaults``, the spec's defaults
    fill absent fields) and one :class:`Problem` per failing field. Read-only
    and unknown properties are the caller's business. ``allow_unknown_enum_values``
    as for :func:`check`.
    """
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    # The memo is shared by every check of the entity: only the default rules fill it.
    memo = entity.memo if source == "text" and not allow_unknown_enum_values else None
    get = body.get
    for field in entity.update_fields() if update else entity.create_fields():
        name = field.json_name
        value = get(name, MISSING)
        if value is MISSING and source != "json":  # on the wire only the API's names count
            value = get(field.name, MISSING)
        if value is MISSING and defaults and field.default is not NO_DEFAULT:
            value = field.default
        if value is MISSING or value is None:
            _no_value(field, value, update, clean, problems)
            continue
        if type(value) is str:
            if field.kind == "string":  # nothing to parse
                clean[name] = value
                continue
            if memo is not None:
                key = (name, value)
                hit = memo.get(key, MISSING)
                if hit is not MISSING:
                    clean[name] = hit
                    continue
        try:
            checked = check(
                field, value, source=source, allow_unknown_enum_values=allow_unknown_enum_values
            )
        except Invalid as exc:
            problems.append(Problem(name, value, str(exc)))
            continue
        clean[name] = checked
        if memo is not None and type(value) is str:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()  # keep it bounded; the values a file repeats come back
            memo[(name, value)] = checked  # checked values are immutable
    return clean, problems
