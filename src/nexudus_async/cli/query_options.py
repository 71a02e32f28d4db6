"""``--where NAME=VALUE`` and ``--set FIELD=VALUE``: a job's scope and its changes.

``--where`` names a filter of the entity's list call (``time_pass=7``,
``used=false``, ``created_on=2027-01-01..2027-02-01`` for a range, either end
may be left out); its value is read by the filter's kind, so a bad one is a
usage error before anything is sent. ``--set`` names a field by its API or
Python name; its value is text, checked as a file's cell is (by the job's
planning, which knows whether the field can be set).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from .._core import dates, decimals, values
from .._core.entity import Entity, Filter

__all__ = ["OptionError", "parse_set", "parse_where", "where_words"]

_BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class OptionError(ValueError):
    """A ``--where`` or ``--set`` that cannot be used: the message is the whole line."""


def _split(option: str, item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name.strip():
        raise OptionError(f"{option} {item}: expected NAME=VALUE")
    return name.strip(), value


def _text_value(spec: Filter, text: str) -> Any:
    """A filter's value from text, by its kind (then checked as the client checks it)."""
    text = text.strip()
    value: Any = text
    try:
        if spec.kind in ("int", "enum"):
            value = int(text)
        elif spec.kind == "bool":
            if text.lower() not in _BOOL_WORDS:
                raise values.Invalid("must be true or false")
            value = _BOOL_WORDS[text.lower()]
        elif spec.kind == "decimal":
            value = decimals.from_text(text)
        elif spec.kind == "datetime":
            value = dates.parse_text(text)
            if value is None:
                raise values.Invalid("must be a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS])")
        elif spec.kind == "uuid":
            value = uuid.UUID(text)
        return values.check_filter(spec.kind, value)
    except values.Invalid:
        raise
    except ValueError:
        what = {"int": "a whole number", "enum": "a whole number", "decimal": "a number"}
        raise values.Invalid(f"must be {what.get(spec.kind, 'a ' + spec.kind)}") from None


def _filter(entity: Entity, name: str, item: str) -> Filter:
    spec = entity.filter(name)
    if spec is None:
        known = ", ".join(sorted(f.name for f in entity.filters))
        raise OptionError(
            f"--where {item}: {entity.name} has no filter {name!r} (filters: {known})"
        )
    return spec


def _where_value(spec: Filter, text: str, item: str) -> Any:
    low, dots, high = text.partition("..")
    try:
        if not dots:
            if spec.equals is None:
                raise values.Invalid("is a range filter: give FROM..TO (either may be left out)")
            return _text_value(spec, text)
        if spec.range is None:
            raise values.Invalid("is not a range filter")
        ends = tuple(_text_value(spec, t) if t.strip() else None for t in (low, high))
    except values.Invalid as exc:
        raise OptionError(f"--where {item}: {spec.name} {exc}") from None
    if ends == (None, None):
        raise OptionError(f"--where {item}: a range needs a start or an end")
    if ends[0] is not None and ends[1] is not None and ends[0] > ends[1]:
        raise OptionError(f"--where {item}: the start is after the end")
    return ends


def parse_where(entity: Entity, items: Sequence[str]) -> dict[str, Any]:
    """The list call's filters (keyword -> value, a range as a (start, end) pair)."""
    out: dict[str, Any] = {}
    for item in items:
        name, text = _split("--where", item)
        spec = _filter(entity, name, item)
        if spec.name in out:
            raise OptionError(f"--where {item}: {spec.name} is given twice")
        out[spec.name] = _where_value(spec, text, item)
    return out


def parse_set(items: Sequence[str]) -> dict[str, str]:
    """``FIELD=VALUE`` pairs in order (each field once), values as given: checked by planning."""
    out: dict[str, str] = {}
    for item in items:
        name, value = _split("--set", item)
        if name in out:
            raise OptionError(f"--set {item}: {name} is given twice")
        out[name] = value
    return out


def where_words(where: dict[str, Any]) -> list[str]:
    """The filters as ``--where`` options again (a resume hint)."""
    words: list[str] = []
    for name, value in where.items():
        if isinstance(value, tuple):
            text = "..".join("" if v is None else _shown(v) for v in value)
        else:
            text = _shown(value)
        words += ["--where", f"{name}={text}"]
    return words


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)
