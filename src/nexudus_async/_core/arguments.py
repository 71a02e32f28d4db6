"""A namespace's keyword arguments, checked and turned into the generated builders' ones.

Everything is read from the entity's descriptor (:mod:`.entity`), so no
entity is named here:

* filters are keyword arguments named after the property without the
  ``Entity_`` prefix (``coworker=42``, ``time_pass=7``, ``used=False``);
  ranges are ``(start, end)`` tuples (``created_on=(start, None)``) that
  become ``From_``/``To_`` parameters; ``None`` as a filter value means "no
  filter";
* create and update arguments are checked by :mod:`.values` (one rule for the
  facade, the bulk layer and the emulator) and filled with the spec's
  defaults; an update sends every property back, read from the full record.

Dates and times are the space's local wall-clock time (:mod:`.dates`): naive
datetimes; an aware datetime is accepted only with a zero UTC offset.
"""

from __future__ import annotations

import datetime
import difflib
import math
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from . import dates as _dates, values as _values
from .entity import NO_DEFAULT, Entity, Field, Filter
from .errors import InputError
from .pagination import SortDirection
from .wire import UNSET, Unset, decimal_from_float

__all__ = [
    "DateRange",
    "IntRange",
    "NumberRange",
    "body_values",
    "check_command_value",
    "check_field",
    "create_values",
    "did_you_mean",
    "filters",
    "ordering",
    "record_id",
    "update_values",
    "writable",
]

if TYPE_CHECKING:
    _Date = datetime.datetime | datetime.date | str
    DateRange = tuple[_Date | None, _Date | None]
    IntRange = tuple[int | None, int | None]
    NumberRange = tuple[Decimal | float | None, Decimal | float | None]
else:
    # Classes at run time, so that help() shows their own docstrings (a
    # ``tuple[...]`` alias shows tuple's); type checkers read the aliases above.

    class DateRange(tuple):
        """A date range filter: ``(start, end)``, either end None (open), both included.

        Each end is a ``datetime``, a ``date`` (that day at 00:00 wall-clock) or
        text ``YYYY-MM-DD[THH:MM[:SS]]``, read by the same rule as a create
        argument: ``created_on=(date(2027, 1, 1), "2027-01-31T18:00")``.
        """

    class IntRange(tuple):
        """A whole-number range filter: ``(low, high)``, either end None (open)."""

    class NumberRange(tuple):
        """A money range filter: ``(low, high)`` of Decimals (a float goes through its
        shortest repr, see :mod:`nexudus_async._core.decimals`), either end None."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``; did you mean coworker?`` for a misspelt name, else the names there are."""
    names = list(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if not close:  # coworker_id for coworker: a prefix is a likelier slip than a typo
        close = [k for k in names if name.startswith(k) or k.startswith(name)][:1]
    if close:
        return f"; did you mean {close[0]}?"
    return "; known: " + ", ".join(sorted(names))


def check_field(field: Field, value: Any, *, allow_unknown_enum_values: bool = False) -> Any:
    """One create/update value by the field's rule, or an InputError naming the field."""
    try:
        return _values.check(field, value, allow_unknown_enum_values=allow_unknown_enum_values)
    except _values.Invalid as exc:
        reason = str(exc)
        if field.kind == "enum" and reason.startswith("must be one of"):
            reason += (
                " (the documented values; to send another, create the client with "
                "allow_unknown_enum_values=True)"
            )
        raise InputError(field.name, value, reason) from None


def record_id(entity: Entity, name: str, value: Any) -> int:
    """A record Id argument (``id``, each of ``ids``), checked."""
    field = entity.field("Id")
    assert field is not None  # every entity has one
    if (
        type(value) is int
        and field.kind == "int"
        and (field.minimum is None or value >= field.minimum)
        and (field.maximum is None or value <= field.maximum)
    ):
        return value  # what the check answers, without its dispatch
    try:
        number: int = _values.check(field, value)
    except _values.Invalid as exc:
        raise InputError(name, value, f"{exc} (a record Id)") from None
    return number


# ------------------------------------------------------------------------- lists


def filters(entity: Entity, given: Mapping[str, Any], call: str = "list") -> dict[str, Any]:
    """The list builder's keyword arguments for these filters."""
    out: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        spec = entity.filter(name)
        if spec is None:
            known = [f.name for f in entity.filters]
            raise TypeError(
                f"{entity.attribute}.{call}() got an unknown filter {name}"
                + did_you_mean(name, known)
            )
        if isinstance(value, tuple):
            out.update(_range(entity, spec, value))
            continue
        if spec.equals is None:
            raise InputError(name, value, "is a range filter: pass (start, end)")
        out[spec.params[0]] = _filter_value(spec, value, value)
    return out


def _range(entity: Entity, spec: Filter, value: tuple[Any, ...]) -> dict[str, Any]:
    name = spec.name
    if spec.range is None:
        ranges = ", ".join(sorted(f.name for f in entity.filters if f.range))
        raise InputError(
            name,
            value,
            f"{entity.name} has no range filter {name!r}"
            + (f" (ranges: {ranges})" if ranges else ""),
        )
    if len(value) != 2:
        raise InputError(name, value, "a range is a (start, end) pair")
    start, end = (_filter_value(spec, value, b) for b in value)
    if start is not None and end is not None and start > end:
        raise InputError(name, value, "the start is after the end")
    low, high = spec.params[-2:]
    out: dict[str, Any] = {}
    if start is not None:
        out[low] = start
    if end is not None:
        out[high] = end
    return out


def _filter_value(spec: Filter, given: Any, value: Any) -> Any:
    """One value (or range end) of a filter, by the rule its kind has everywhere."""
    if value is None:
        return None
    try:
        return _values.check_filter(spec.kind, value)
    except _values.Invalid as exc:
        raise InputError(spec.name, given, str(exc)) from None


def ordering(
    entity: Entity,
    wire_direction: type,
    order_by: str | None,
    direction: SortDirection | str | int | None,
) -> dict[str, Any]:
    """The list builder's ``orderby`` and ``dir_`` arguments."""
    out: dict[str, Any] = {}
    if order_by is not None:
        if not isinstance(order_by, str) or not order_by:
            raise InputError("order_by", order_by, "must be a property name such as 'Id'")
        known = entity.field(order_by) or entity.list_field(order_by)
        out["orderby"] = known.json_name if known is not None else order_by
    if direction is not None:
        try:
            wire = wire_direction(SortDirection.parse(direction).value)
        except ValueError:
            raise InputError(
                "direction", direction, "must be SortDirection.ASCENDING or DESCENDING"
            ) from None
        out["dir_"] = wire
    return out


# ------------------------------------------------------------------------- writes


def writable(entity: Entity, name: str, *, update: bool) -> Field:
    """The field a create/update argument names, or the TypeError Python would raise."""
    field = entity.argument(name, update=update)
    if field is None:
        known = [f.name for f in (entity.update_fields() if update else entity.create_fields())]
        verb = "update" if update else "create"
        raise TypeError(
            f"{entity.attribute}.{verb}() got an unexpected argument {name}"
            + did_you_mean(name, [k for k in known if k != "id"])
        )
    return field


_Rule = tuple[Field, Any, int | None, int | None, frozenset[int] | None, bool, str | None]
"""A create/update argument's field, and the values taken without the full check: the
exact type, the bounds and the documented values of a whole number; whether it is money
(a float, taken through the shared memo of :func:`.wire.decimal_from_float`); the
field's enum name (read once, not per value)."""


def _money(value: float) -> Decimal | None:
    """What the check answers for a float of a decimal field; None when it would refuse it."""
    return decimal_from_float(value) if math.isfinite(value) else None  # else: the check says why


_EXACT: dict[str, type] = {"int": int, "enum": int, "string": str, "bool": bool, "uuid": uuid.UUID}
_TABLES: dict[tuple[int, bool], tuple[Entity, Mapping[str, _Rule]]] = {}
_CREATE_TABLES: dict[int, tuple[Entity, dict[str, Any], tuple[str, ...], frozenset[str]]] = {}


def _rules(entity: Entity, update: bool) -> Mapping[str, _Rule]:
    """The entity's create (update) arguments by name, built once per entity."""
    hit = _TABLES.get((id(entity), update))
    if hit is not None and hit[0] is entity:
        return hit[1]
    rules: dict[str, _Rule] = {}
    for f in entity.update_fields() if update else entity.create_fields():
        if entity.argument(f.name, update=update) is not f:
            continue
        ints = f.kind in ("int", "enum")
        allowed = frozenset(f.enum) if f.kind == "enum" else None
        lo, hi = (f.minimum, f.maximum) if ints else (None, None)
        money = f.kind == "decimal"
        exact = float if money else _EXACT.get(f.kind)
        rules[f.name] = (f, exact, lo, hi, allowed, money, f.enum_name)
    _TABLES[(id(entity), update)] = (entity, rules)
    return rules


def body_values(
    entity: Entity,
    given: Mapping[str, Any],
    *,
    update: bool,
    enums: Mapping[str, type[IntEnum]],
    allow_unknown_enum_values: bool,
) -> dict[str, Any]:
    """Checked create/update arguments in the form the generated body takes."""
    rules = _rules(entity, update)
    out: dict[str, Any] = {}
    for name, value in given.items():
        rule = rules.get(name)
        if rule is None:
            field = writable(entity, name, update=update)
        else:
            field, exact, lo, hi, allowed, money, enum_name = rule
            # A value of the kind's own type within its bounds is what the check answers.
            if type(value) is exact:
                if money:
                    number = _money(value)
                    if number is not None:
                        out[name] = number
                        continue
                elif (
                    (lo is None or value >= lo)
                    and (hi is None or value <= hi)
                    and (allowed is None or value in allowed)
                ):
                    out[name] = value if enum_name is None else enums[enum_name](value)
                    continue
        if value is not None and not isinstance(value, Unset):
            value = check_field(field, value, allow_unknown_enum_values=allow_unknown_enum_values)
            if field.enum_name is not None:
                value = enums[field.enum_name](value)
        out[name] = value
    return out


def _create_table(entity: Entity) -> tuple[dict[str, Any], tuple[str, ...], frozenset[str]]:
    """The create fields' defaults and the required ones, read once per entity."""
    hit = _CREATE_TABLES.get(id(entity))
    if hit is not None and hit[0] is entity:
        return hit[1], hit[2], hit[3]
    fields = entity.create_fields()
    defaults = {f.name: f.default for f in fields if f.default is not NO_DEFAULT}
    required = tuple(f.name for f in fields if f.create == "required")
    _CREATE_TABLES[id(entity)] = (entity, defaults, required, frozenset(required))
    return defaults, required, frozenset(required)


def create_values(entity: Entity, checked: Mapping[str, Any]) -> dict[str, Any]:
    """Checked create arguments with the spec's defaults (CreateMultiple: 1) filled in."""
    defaults, required, must = _create_table(entity)
    values = {**defaults, **checked}  # what was given wins; the body takes them by name
    if not values.keys() >= must:
        missing = [name for name in required if name not in values]
        plural = "s" if len(missing) > 1 else ""
        raise TypeError(
            f"{entity.attribute}.create() missing required argument{plural}: " + ", ".join(missing)
        )
    return values


def update_values(
    entity: Entity, id: int, record: Any, checked: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Field]]:
    """Every property of the PUT: the changes, the rest as read back; and the fields
    the PUT will clear because the record read back lacks them."""
    values: dict[str, Any] = {}
    cleared: list[Field] = []
    for field in entity.update_fields():
        name = field.name
        if name in checked:
            values[name] = checked[name]
            continue
        current = getattr(record, name, UNSET)
        if isinstance(current, Unset) and field.update != "required":
            cleared.append(field)  # not read back, so not sent: the PUT clears it
        if field.update == "required" and (current is None or isinstance(current, Unset)):
            if field.default is NO_DEFAULT:
                raise InputError(
                    name,
                    current,
                    f"{entity.name} {id} has no {field.json_name}, which an update must "
                    f"send; pass {name}=...",
                )
            current = field.default
        if isinstance(current, datetime.datetime):
            _check_read_back_datetime(entity, id, field, current)
        values[name] = current
    return values, cleared


def _check_read_back_datetime(
    entity: Entity, id: int, field: Field, value: datetime.datetime
) -> None:
    """A date the API answered with a non-zero UTC offset cannot be sent back as it is."""
    try:
        _dates.wall_clock(value)
    except _dates.OffsetError:
        raise InputError(
            field.name,
            value,
            f"{entity.name} {id} was read back with {field.json_name} at a non-zero "
            "UTC offset; the Nexudus API stores the space's local wall-clock time and "
            "would shift it if sent so, and the client will not guess the local time: "
            f"pass {field.name}= (a naive datetime in the space's local time, or None) "
            "to update()",
        ) from None


def check_command_value(value: Any) -> None:
    """A parameter's value (any JSON value) must be one the wire can carry unshifted."""
    if isinstance(value, datetime.datetime):
        offset = value.utcoffset()
        if offset is not None and offset != datetime.timedelta(0):
            raise InputError(
                "parameters",
                value,
                "has a non-zero UTC offset; the Nexudus API stores the space's local "
                "wall-clock time and would shift it. Pass a naive datetime in the space's "
                "local time",
            )
    elif (isinstance(value, float) and not math.isfinite(value)) or (
        isinstance(value, Decimal) and not value.is_finite()
    ):
        raise InputError("parameters", value, "must be a finite number (JSON has no NaN)")
