"""List and search: filters, range filters, id lookup, ordering and paging.

Semantics chosen where the docs are silent (documented in the package docs):

- equality filters compare exactly, except text, which matches a
  case-insensitive substring (so an empty text filter matches everything);
- a date filter matches at the precision it is given (``2025-01-15T10:30``
  matches any second of that minute); range filters are inclusive at both
  ends, ``To_`` up to the end of its precision, and compare at minute precision
  as documented (``YYYY-MM-DDTHH:mm``: seconds given are dropped) unless the
  emulator is set to ``range_precision="second"``; records whose value is null
  never match a range;
- ``dir`` is read in the account's encoding (``EmulatorConfig.dir_encoding``);
  a value it does not understand is ignored (ascending), as a probe observes;
- ``From_``/``To_`` are also accepted in lower case (``from_``/``to_``);
- a related entity is filtered without the ``Id`` suffix
  (``CoworkerTimePass_Coworker``), with it too, and chained names work
  (``CoworkerTimePass_TimePass_Name``); a chained filter of the spec
  (``ProductTimePass_Product_Name``) reads the related record itself;
- a collection filter (``TimePass_Businesses=5``) matches the records whose
  list of that name (``Businesses``, when a seeded record has one) holds the
  Id, or whose own Id field (``BusinessId``) is it;
- ``size`` above the documented maximum (1000) answers 400, as a size below 1 does
  (the account settings may cap it instead, or move the maximum);
- unknown parameters are ignored (``PageNumber``/``PageSize`` too, as live);
  a known parameter with an unusable value answers 400.
"""

from __future__ import annotations

import datetime as _dt
import operator
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from .._core.decimals import NotADecimal, from_python, from_text
from .entities import EntitySpec, FieldType
from .store import Store
from .validation import INT32_MAX, INT32_MIN, FieldError
from .values import parse_bool, parse_datetime, parse_guid

__all__ = ["ListQuery", "PagingRules", "paginate", "parse_id_list", "parse_list_query"]

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]

DEFAULT_PAGE_SIZE = 25
_PRECISION = {
    "day": _dt.timedelta(days=1),
    "minute": _dt.timedelta(minutes=1),
    "second": _dt.timedelta(seconds=1),
}


@attrs.frozen
class _Filter:
    field_type: FieldType
    getter: Callable[[Row], Any]
    enum: tuple[int, ...] = ()
    #: The stored field read (None: a flattened, computed name).
    field: str | None = None
    #: The getter answers a collection; equality means "holds the value".
    many: bool = False


@attrs.define
class ListQuery:
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE
    order_field: str = "Id"
    order_getter: Callable[[Row], Any] = lambda row: row.get("Id")
    descending: bool = False
    predicates: list[Predicate] = attrs.Factory(list)


def parse_id_list(text: str) -> list[int] | None:
    """``[1,2]``, ``1,2`` or ``1`` -> ids; None if any part is not an integer."""
    raw = text.strip()
    if raw.startswith("[") and raw.endswith("]"):
        raw = raw[1:-1]
    ids: list[int] = []
    for part in raw.split(","):
        part = part.strip().strip('"')
        if not part:
            continue
        try:
            ids.append(int(part))
        except ValueError:
            return None
    return ids


def _field_getter(name: str) -> Callable[[Row], Any]:
    return lambda row: row.get(name)


def _filters(spec: EntitySpec, store: Store) -> tuple[dict[str, _Filter], dict[str, _Filter]]:
    """(equality filters, range filters) by query parameter name (range without prefix).

    The spec's filters (the descriptor), plus the spellings the live service
    also takes: a related Id with its suffix, chained names of flattened ones.
    """
    prefix = spec.name + "_"
    d = spec.descriptor
    equal: dict[str, _Filter] = {}
    ranges: dict[str, _Filter] = {}
    derived = {x.list_name: x for x in spec.derived}
    for f in d.filters:
        listed = d.list_field(f.field) if f.field is not None else None
        source = listed.source if listed is not None else None
        kind = spec.field_map[source].type if source is not None else "str"
        enum = spec.field_map[source].enum if source is not None else ()
        if source is not None:
            flt = _Filter(kind, _field_getter(source), enum, source)
        elif f.through is not None:  # a chained name: the related record's property
            id_field, attribute = f.through
            related = spec.field_map[id_field].related

            def chained(
                row: Row, _id: str = id_field, _rel: str | None = related, _attr: str = attribute
            ) -> Any:
                entry = store.catalogue(_rel, row.get(_id))
                return None if entry is None else entry.value(_attr)

            flt = _Filter("str", chained)
        elif f.contains is not None and f.equals is not None:
            flt = _Filter("int", _members(f.equals.removeprefix(prefix), f.contains), many=True)
        else:  # a flattened name: TimePassName -> CoworkerTimePassTimePassName
            name = prefix.rstrip("_") + (f.equals or "").removeprefix(prefix)
            flat = derived.get(name)
            if flat is None:
                continue  # a filter the emulator cannot evaluate: ignored, as unknown ones are

            def getter(row: Row, _name: str = flat.list_name) -> Any:
                return store.derived_value(spec, row, _name)

            flt = _Filter("str", getter)
            equal[prefix + flat.chained] = flt
        if f.equals is not None:
            equal[f.equals] = flt
            if source is not None:
                equal.setdefault(prefix + source, flt)
        if f.range is not None:
            ranges[f.range[0].partition("_")[2]] = flt
    return equal, ranges


def _members(list_name: str, id_field: str) -> Callable[[Row], set[Any]]:
    """The Ids a collection filter looks in: the record's list plus its own Id field."""

    def members(row: Row) -> set[Any]:
        listed = row.get(list_name)
        ids = set(listed) if isinstance(listed, list | tuple | set | frozenset) else set()
        if row.get(id_field) is not None:
            ids.add(row[id_field])
        return ids

    return members


def _parse_value(flt: _Filter, text: str) -> tuple[Any, str | None]:
    """(parsed value, error message)."""
    kind = flt.field_type
    if kind in ("int", "enum"):
        try:
            number = int(text)
        except ValueError:
            return None, "must be a whole number"
        if not INT32_MIN <= number <= INT32_MAX:
            return None, "is out of range"  # as in a body
        if kind == "enum" and number not in flt.enum:
            return None, f"'{number}' is not a valid value"
        return number, None
    if kind == "decimal":
        try:
            return from_text(text), None  # exact: 0.3 matches a stored 0.3
        except NotADecimal:
            return None, "must be a number"
    if kind == "bool":
        parsed = parse_bool(text)
        return (parsed, None) if parsed is not None else (None, "must be true or false")
    if kind == "datetime":
        when = parse_datetime(text)
        return (when, None) if when is not None else (None, "is not a valid date")
    if kind == "guid":
        guid = parse_guid(text)
        return (guid, None) if guid is not None else (None, "is not a valid GUID")
    return text, None


def _as_datetime(value: Any) -> _dt.datetime | None:
    parsed = parse_datetime(value)
    return parsed[0] if parsed else None


def _equality(flt: _Filter, wanted: Any) -> Predicate:
    kind = flt.field_type
    getter = flt.getter
    if kind == "str":
        needle = str(wanted).lower()
        return lambda row: needle in str(getter(row) or "").lower()
    if kind == "datetime":
        start, precision = wanted
        end = start + _PRECISION[precision]

        def match_date(row: Row) -> bool:
            value = _as_datetime(getter(row))
            return value is not None and start <= value < end

        return match_date
    if kind == "decimal":
        return lambda row: _money(getter(row)) == wanted
    if flt.many:
        return lambda row: wanted in getter(row)
    if flt.field is not None:
        name = flt.field
        return lambda row: row.get(name) == wanted
    return lambda row: getter(row) == wanted


def _money(value: Any) -> Decimal | None:
    """A stored decimal as a Decimal (records seeded from Python may hold floats)."""
    if value is None or isinstance(value, Decimal):
        return value
    try:
        return from_python(value)
    except NotADecimal:
        return None


def _range(flt: _Filter, wanted: Any, upper: bool, by_minute: bool) -> Predicate:
    getter = flt.getter
    if flt.field_type == "datetime":
        start, precision = wanted
        if by_minute and precision == "second":  # the documented YYYY-MM-DDTHH:mm
            start, precision = start.replace(second=0), "minute"
        bound = start + _PRECISION[precision] if upper else start

        def match_date(row: Row) -> bool:
            value = _as_datetime(getter(row))
            if value is None:
                return False
            return bool(value < bound) if upper else bool(value >= bound)

        return match_date

    money = flt.field_type == "decimal"

    def match_number(row: Row) -> bool:
        value = _money(getter(row)) if money else getter(row)
        if value is None:
            return False
        return bool(value <= wanted) if upper else bool(value >= wanted)

    return match_number


def _order_getter(spec: EntitySpec, store: Store, name: str) -> tuple[str, Callable[[Row], Any]]:
    """Resolve ``orderby`` (single-record, list or flattened name, any case); default Id."""
    lowered = name.strip().lower()
    for field in spec.fields:
        if lowered in (field.name.lower(), (field.list_name or "").lower()):
            return field.name, _field_getter(field.name)
    for derived in spec.derived:
        if lowered == derived.list_name.lower():

            def getter(row: Row, _name: str = derived.list_name) -> Any:
                return store.derived_value(spec, row, _name)

            return derived.list_name, getter
    return "Id", _field_getter("Id")


def _positive_int(
    text: str, name: str, errors: list[FieldError], maximum: int | None = None
) -> int | None:
    try:
        value = int(text)
    except ValueError:
        errors.append(FieldError(name, "must be a whole number", text))
        return None
    if value < 1:
        errors.append(FieldError(name, "must be greater than or equal to 1", text))
        return None
    if maximum is not None and value > maximum:
        errors.append(FieldError(name, f"must be less than or equal to {maximum}", text))
        return None
    return value


#: What each ``dir_encoding`` reads as descending, and as ascending. Anything else
#: is ignored (the list comes back ascending), which is what a probe can see.
DIR_SPELLINGS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "words": (frozenset({"descending", "desc"}), frozenset({"ascending", "asc"})),
    "one_minus_one": (frozenset({"-1"}), frozenset({"1"})),
    "zero_one": (frozenset({"1"}), frozenset({"0"})),
}


@attrs.frozen
class PagingRules:
    """How the account reads ``size`` and ``dir`` (EmulatorConfig's account settings)."""

    max_size: int | None = 1000
    oversize: str = "refuse"  # or "cap"
    dir_encoding: str = "words"
    range_precision: str = "minute"  # or "second"


def _page_size(text: str, rules: PagingRules, errors: list[FieldError]) -> int:
    if rules.oversize == "cap" or rules.max_size is None:
        size = _positive_int(text, "size", errors) or DEFAULT_PAGE_SIZE
        return size if rules.max_size is None else min(size, rules.max_size)
    return _positive_int(text, "size", errors, rules.max_size) or DEFAULT_PAGE_SIZE


def parse_list_query(
    spec: EntitySpec,
    store: Store,
    query: Mapping[str, str],
    rules: PagingRules = PagingRules(),
) -> tuple[ListQuery, list[FieldError]]:
    """Turn the query string into a :class:`ListQuery`, or errors (answered 400).

    ``rules``: how the account reads ``size``, ``dir`` and date ranges (EmulatorConfig)."""
    out = ListQuery()
    errors: list[FieldError] = []
    if query.get("page"):
        out.page = _positive_int(query["page"], "page", errors) or 1
    if query.get("size"):
        out.size = _page_size(query["size"], rules, errors)
    if query.get("orderby"):
        out.order_field, out.order_getter = _order_getter(spec, store, query["orderby"])
    direction = query.get("dir") or query.get("sort")
    if direction:
        out.descending = direction.strip().lower() in DIR_SPELLINGS[rules.dir_encoding][0]

    equal, ranges = _filters(spec, store)
    id_param = spec.name + "_Id"
    for key, text in query.items():
        if key == id_param:
            ids = parse_id_list(text)
            if ids is None:
                errors.append(FieldError(key, "must be a list of whole numbers", text))
            elif not all(INT32_MIN <= i <= INT32_MAX for i in ids):
                errors.append(FieldError(key, "is out of range", text))
            else:
                out.predicates.append(_id_in(frozenset(ids)))
            continue
        flt = equal.get(key)
        if flt is not None:
            value, message = _parse_value(flt, text)
            if message:
                errors.append(FieldError(key, message, text))
            else:
                out.predicates.append(_equality(flt, value))
            continue
        head, sep, rest = key.partition("_")
        if sep and head.lower() in ("from", "to") and rest in ranges:
            flt = ranges[rest]
            value, message = _parse_value(flt, text)
            if message:
                errors.append(FieldError(key, message, text))
            else:
                upper = head.lower() == "to"
                out.predicates.append(_range(flt, value, upper, rules.range_precision == "minute"))
    return out, errors


def _id_in(ids: frozenset[int]) -> Predicate:
    return lambda row: row.get("Id") in ids


def _sort_key(getter: Callable[[Row], Any]) -> Callable[[Row], tuple[Any, ...]]:
    def key(row: Row) -> tuple[Any, ...]:
        value = getter(row)
        if value is None:
            return (0, 0, row.get("Id"))
        if isinstance(value, str):
            value = value.lower()
        return (1, value, row.get("Id"))

    return key


def select(query: ListQuery, rows: Iterable[Row]) -> list[Row]:
    """Filter and order (does not page)."""
    matched = list(rows)
    for predicate in query.predicates:  # narrowing pass by pass is cheaper than all()
        matched = [row for row in matched if predicate(row)]
    if query.order_field == "Id":  # the common case, and Id is never null
        matched.sort(key=operator.itemgetter("Id"), reverse=query.descending)
    else:
        matched.sort(key=_sort_key(query.order_getter), reverse=query.descending)
    return matched


def paginate(query: ListQuery, rows: list[Row]) -> tuple[list[Row], dict[str, Any]]:
    """One page of ``rows`` plus the envelope's paging fields."""
    total = len(rows)
    pages = -(-total // query.size)
    start = (query.page - 1) * query.size
    page_rows = rows[start : start + query.size]
    first = start + 1 if page_rows else 0
    last = start + len(page_rows) if page_rows else 0
    info = {
        "CurrentPageSize": query.size,
        "CurrentPage": query.page,
        "CurrentOrderField": query.order_field,
        "CurrentSortDirection": 2 if query.descending else 1,
        "FirstItem": first,
        "HasNextPage": query.page < pages,
        "HasPreviousPage": query.page > 1,
        "LastItem": last,
        "PageNumber": query.page,
        "PageSize": query.size,
        "TotalItems": total,
        "TotalPages": pages,
    }
    return page_rows, info
