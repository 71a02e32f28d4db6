"""The wire format of the Nexudus API: the runtime the generated package imports.

Everything that turns Python values into what goes on the wire (and back)
lives here, in one place, so the generated models and endpoints only *declare*
things (a field's JSON name, a parameter's wire name) and never encode.

One cattrs :data:`converter` does all (un)structuring. Each generated model
registers itself with :func:`register_model`, naming each field's JSON name
once; its hooks are built the first time the model is used, then reused.
Structuring a model runs a function generated for it: one ``itemgetter``
call reads an object with every documented key, dates, UUIDs and money are
converted inline, and the fields are stored as the model's plain ``__init__``
would store them (a page's records in one loop). Only when that fails does
cattrs' ``make_dict_structure_fn`` hook run, to raise the error a bad answer
has always raised.

Absent versus null
    :data:`UNSET` means "not sent": a field left UNSET is omitted from the JSON
    body. ``None`` means "send null". The API's PUT clears every property it
    does not receive, so the difference decides what a record becomes.

Unknown data
    Response fields the spec does not name are kept in the model's
    ``additional_properties`` (and sent back by :func:`unstructure`). Integer
    enums accept values they do not know (see the generated ``_missing_``).
    A null where the spec says "never null" parses as ``None`` rather than
    failing the whole response.

Dates (the API's wall-clock convention)
    The live API writes the space's *local* wall-clock time followed by a
    literal ``Z``, and a UTC offset in a request silently shifts the stored
    time. So:

    * ``2025-01-15T10:30:00Z`` (or ``+00:00``) parses to the *naive* datetime
      ``2025-01-15 10:30:00``: the same wall-clock fields, no shift.
    * A value with a non-zero offset (``+02:00``) parses to an aware datetime,
      as written. A value without any suffix parses naive.
    * Fractional seconds are kept (to the microsecond; a 7th digit is dropped).
    * A naive datetime serializes as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``; the
      fraction is written only when non-zero, without trailing zeros (as
      Json.NET writes it), so the API's own values round-trip byte for byte.
    * An aware datetime with a zero offset serializes like its naive
      wall-clock; one with a non-zero offset raises :class:`ValueError`
      naming the value (converting it would silently pick a time zone).

    UUIDs parse to :class:`uuid.UUID` and serialize as ``str``.

Money (:mod:`.decimals`)
    Every ``decimal`` field is a :class:`~decimal.Decimal`. Unstructuring keeps
    it a Decimal (the transport writes its exact digits as a JSON number);
    structuring takes a Decimal (the exact decoder), an int, or a float that
    :func:`~nexudus_async._core.transport.loads` proved exact (see there),
    through its shortest repr.

Query strings (:func:`encode_query`)
    Booleans ``true``/``false``; datetimes ``YYYY-MM-DDTHH:MM`` (``:SS`` added
    only when the seconds or microseconds are non-zero, and the fraction only
    when the microseconds are); enums by value; UUIDs as ``str``; floats
    and Decimals with exactly their digits, without exponent (``12.30``);
    lists (the get-by-ids lookup) as ``[1,2]``; UNSET and ``None`` are not sent.
    aiohttp rejects ``bool`` and ``None`` query values, so everything is a
    string before it reaches the transport.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import operator
import types
import typing
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import dates, decimals

__all__ = [
    "UNSET",
    "Unset",
    "converter",
    "decimal_from_float",
    "encode_form",
    "encode_path_value",
    "encode_query",
    "encode_query_value",
    "format_datetime",
    "parse_datetime",
    "register_model",
    "structure",
    "unstructure",
]

T = TypeVar("T")


class Unset:
    """The type of :data:`UNSET`: "not sent", as opposed to ``None`` ("send null")."""

    __slots__ = ()

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"

    def __copy__(self) -> Unset:
        return self

    def __deepcopy__(self, memo: Any) -> Unset:
        return self

    def __reduce__(self) -> str:
        return "UNSET"


UNSET: Unset = Unset()


# --------------------------------------------------------------------------- dates

_fromisoformat = datetime.datetime.fromisoformat

# The one date policy (dates.py); re-exported because the generated code reads it here.
parse_datetime = dates.parse_datetime
format_datetime = dates.format_datetime
_format_query_datetime = dates.format_query_datetime


# --------------------------------------------------------------------------- query


def encode_query_value(value: Any) -> str:
    """Encode one query value the way the API expects it (see the module docstring)."""
    kind = type(value)
    if kind is int:  # the usual values first (exact types: not bool, not an enum)
        return str(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if isinstance(value, str):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return encode_query_value(value.value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float | decimal.Decimal):
        return _plain_number(value)
    if isinstance(value, datetime.datetime):
        return _format_query_datetime(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode_query_value(v) for v in value) + "]"
    raise TypeError(f"cannot encode {value!r} ({type(value).__name__}) as a query value")


def _plain_number(value: float | decimal.Decimal) -> str:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"cannot send the number {value!r}")
        text = repr(value)
        if "e" not in text and "E" not in text:
            return text
        value = decimal.Decimal(text)
    return decimals.wire_text(value)


def encode_query(params: Iterable[tuple[str, Any]]) -> tuple[tuple[str, str], ...]:
    """Encode ``(wire name, value)`` pairs; UNSET and ``None`` values are left out."""
    # A list endpoint passes every filter, nearly all UNSET: that test comes first.
    return tuple(
        [
            (name, encode_query_value(value))
            for name, value in params
            if value is not UNSET and value is not None and not isinstance(value, Unset)
        ]
    )


def encode_path_value(value: Any) -> str:
    """Percent-encode one path parameter (an Id: its digits, as they are)."""
    if type(value) is int:
        return str(value)  # what quote(str(value)) gives for an int
    return urllib.parse.quote(str(value), safe="")


def encode_form(data: Mapping[str, Any]) -> bytes:
    """Encode an unstructured body as ``application/x-www-form-urlencoded`` bytes."""
    return urllib.parse.urlencode(encode_query(data.items())).encode("ascii")


# --------------------------------------------------------------------------- converter

converter = cattrs.Converter(detailed_validation=False)
"""The one converter for every model of the generated package."""


@typing.overload
def structure(data: Any, cl: type[T]) -> T: ...


@typing.overload
def structure(data: Any, cl: Any) -> Any: ...  # a union of forms: ``list[Item] | Page``


def structure(data: Any, cl: Any) -> Any:
    """Structure decoded JSON into ``cl`` (a model, ``list[Model]``, an enum, a union...)."""
    return converter.structure(data, cl)


def unstructure(obj: Any) -> Any:
    """Unstructure a model (or a list of them) into JSON-ready data."""
    return converter.unstructure(obj)


class _Verbatim:
    """The structure hook of a value JSON already gives as it is (``str``, ``int``...).

    It is falsy on purpose: for a field whose hook is falsy, the function
    ``make_dict_structure_fn`` generates reads ``o['JsonName']`` inline
    instead of calling a hook, which is most of the fields of every record.
    Called (inside unions, lists), it returns the value unchanged.
    """

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __call__(self, value: Any, _: Any) -> Any:
        return value

    def __repr__(self) -> str:
        return "<verbatim>"


_passthrough = _Verbatim()

# JSON already gives these types; converting would also turn the API's ``10``
# into ``10.0`` and break byte-for-byte round trips.
# (The converter's own hooks for these would call ``int(value)``, ``float(value)``.)
_JSON_SCALARS = (str, int, float, bool)
for _scalar in _JSON_SCALARS:
    converter.register_structure_hook(_scalar, _passthrough)


def _structure_enum(value: Any, cl: Any) -> Any:
    return cl(value)  # unknown integer values: the generated _missing_


def _structure_datetime(value: Any, _: Any) -> Any:
    # parse_datetime inlined: a record has several dates
    if value is None:
        return None
    if value[-1:] == "Z":
        return _fromisoformat(value[:-1])
    return dates.parse_with_offset(value)


_new_object = object.__new__
# UUID's slots, set as UUID.__init__ sets them (it is immutable, so not through setattr).
_uuid_slots: dict[str, Any] = dict(vars(uuid.UUID))
_set_uuid_int: Callable[[uuid.UUID, int], None] = _uuid_slots["int"].__set__
_set_uuid_is_safe: Callable[[uuid.UUID, uuid.SafeUUID], None] = _uuid_slots["is_safe"].__set__
_SAFE_UNKNOWN = uuid.SafeUUID.unknown


def _parse_uuid(value: Any) -> uuid.UUID:
    """``uuid.UUID(value)``, without its general-purpose string clean-up for the usual form.

    When the value without hyphens is 32 characters that ``int(..., 16)``
    accepts, ``UUID(value)`` would compute exactly this ``int`` (its other
    clean-ups remove ``urn:``, ``uuid:`` and braces, which ``int`` refuses);
    anything else goes to ``UUID(value)`` itself, errors included.
    """
    if type(value) is str:
        digits = value.replace("-", "")
        if len(digits) == 32:
            try:
                number = int(digits, 16)
            except ValueError:
                pass
            else:
                parsed: uuid.UUID = _new_object(uuid.UUID)
                _set_uuid_int(parsed, number)
                _set_uuid_is_safe(parsed, _SAFE_UNKNOWN)
                return parsed
    return uuid.UUID(value)


def _structure_uuid(value: Any, _: Any) -> Any:
    return None if value is None else _parse_uuid(value)


def _unstructure_enum(member: enum.Enum) -> Any:
    return member.value


# Registered for IntEnum and StrEnum themselves: they come before int and str
# in an enum's MRO, so these win over the scalar pass-through above.
for _enum_base in (enum.Enum, enum.IntEnum, enum.StrEnum):
    converter.register_structure_hook(_enum_base, _structure_enum)
    converter.register_unstructure_hook(_enum_base, _unstructure_enum)

converter.register_structure_hook(datetime.datetime, lambda v, _: parse_datetime(v))
converter.register_unstructure_hook(datetime.datetime, format_datetime)
converter.register_structure_hook(datetime.date, lambda v, _: datetime.date.fromisoformat(v))
converter.register_unstructure_hook(datetime.date, lambda v: v.isoformat())
converter.register_structure_hook(uuid.UUID, lambda v, _: _parse_uuid(v))
converter.register_unstructure_hook(uuid.UUID, str)
converter.register_unstructure_hook(Unset, lambda _: None)


_Decimal = decimal.Decimal


# Prices repeat (in a page, in a job's creates): a Decimal is immutable, so one per float is shared.
_FROM_FLOAT: dict[float, decimal.Decimal] = {}
_FROM_FLOAT_SIZE = 4096


def decimal_from_float(value: float) -> decimal.Decimal:
    """``Decimal(repr(value))``, the digits written, shared per distinct finite float."""
    hit = _FROM_FLOAT.get(value)
    if hit is not None:
        return hit
    number = _Decimal(repr(value))
    if value:  # not 0.0: -0.0 is equal to it as a key, but not the same digits
        if len(_FROM_FLOAT) >= _FROM_FLOAT_SIZE:
            _FROM_FLOAT.clear()
        _FROM_FLOAT[value] = number
    return number


def _structure_decimal(value: Any, _: Any) -> Any:
    kind = type(value)
    if kind is float:  # proved exact by transport.loads: its shortest repr is what was written
        return decimal_from_float(value)
    if kind is _Decimal:
        return value
    if kind is int:
        return _Decimal(value)
    if value is None:
        return None
    raise ValueError(f"{value!r} is not a number")


converter.register_structure_hook(decimal.Decimal, _structure_decimal)
converter.register_unstructure_hook(decimal.Decimal, identity)


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(tp)
    return None


def _is_optional_union(tp: Any) -> bool:
    args = _union_args(tp)
    return args is not None and (Unset in args or type(None) in args)


def _is_union(tp: Any) -> bool:
    return _union_args(tp) is not None


def _union_structure(tp: Any) -> Callable[[Any, Any], Any]:
    """``X | None | Unset``: a missing key keeps the default, null stays None.

    A union of several forms (``list[Item] | Page``: an answer documented
    both ways) takes the first member the JSON value fits: a JSON array only
    a ``list[...]`` member, anything else only the others.
    """
    rest = tuple(a for a in typing.get_args(tp) if a is not Unset and a is not type(None))
    if not rest or Any in rest or all(a in _JSON_SCALARS for a in rest):
        return _passthrough  # None, and the JSON scalars, stay as they are
    # One hook per value, not a wrapper around the type's own hook: records have many.
    if rest == (datetime.datetime,):
        return _structure_datetime
    if rest == (uuid.UUID,):
        return _structure_uuid
    if rest == (decimal.Decimal,):
        return _structure_decimal
    if len(rest) == 1:
        inner = rest[0]
        hook = converter.get_structure_hook(inner)
        if hook is _structure_enum:

            def structure_enum(value: Any, _: Any) -> Any:
                return None if value is None else inner(value)

            return structure_enum

        def structure_one(value: Any, _: Any) -> Any:
            if value is None:
                return None
            return hook(value, inner)

        return structure_one

    hooks = [(member, converter.get_structure_hook(member)) for member in rest]
    arrays = [(m, h) for m, h in hooks if typing.get_origin(m) is list]
    others = [(m, h) for m, h in hooks if typing.get_origin(m) is not list]

    def structure_first(value: Any, _: Any) -> Any:
        if value is None:
            return None
        # A JSON array is only ever the list member's, and only it takes one.
        candidates = [
            (member, hook)
            for member, hook in (arrays if isinstance(value, list) else others)
            if member not in _JSON_SCALARS or type(value) is member
        ]
        if len(candidates) == 1:  # one form fits the shape: its own error says what is wrong
            member, hook = candidates[0]
            return hook(value, member)
        for member, hook in candidates:
            try:
                return hook(value, member)
            except (TypeError, ValueError, KeyError, AttributeError, cattrs.BaseValidationError):
                continue
        raise ValueError(f"{value!r} matches none of {tp}")

    return structure_first


def _unstructure_optional_datetime(value: Any) -> Any:
    return None if value is None else format_datetime(value)


def _unstructure_optional_uuid(value: Any) -> Any:
    return None if value is None else str(value)


def _unstructure_optional_enum(value: Any) -> Any:
    return None if value is None else value.value


def _optional_union_unstructure(tp: Any) -> Callable[[Any], Any]:
    # UNSET never gets here: the model hooks omit fields left at UNSET.
    rest = tuple(a for a in typing.get_args(tp) if a is not Unset and a is not type(None))
    if rest and all(a in _JSON_SCALARS or a is decimal.Decimal for a in rest):
        return identity  # the generated hook then reads the attribute inline
    if rest == (datetime.datetime,):
        return _unstructure_optional_datetime
    if rest == (uuid.UUID,):
        return _unstructure_optional_uuid
    if len(rest) == 1 and isinstance(rest[0], type) and issubclass(rest[0], enum.Enum):
        return _unstructure_optional_enum
    unstructure_value = converter.unstructure

    def unstructure_member(value: Any) -> Any:
        if value is None or type(value) in (str, int, float, bool):
            return value
        return unstructure_value(value)

    return unstructure_member


converter.register_structure_hook_factory(_is_union, _union_structure)
converter.register_unstructure_hook_factory(_is_optional_union, _optional_union_unstructure)


# --------------------------------------------------------------------------- models


@attrs.frozen
class _ModelSpec:
    renames: Mapping[str, str]
    namespace: Callable[[], dict[str, Any]]


_SPECS: dict[type, _ModelSpec] = {}
_STRUCTURE_HOOKS: dict[type, Callable[[Any, Any], Any]] = {}
_UNSTRUCTURE_HOOKS: dict[type, Callable[[Any], Any]] = {}
# A model's structure hook as a loop over a list of its objects (see _fast_structure).
_MANY_HOOKS: dict[type, Callable[[Any], list[Any]]] = {}


def register_model(
    cls: type,
    renames: Mapping[str, str],
    namespace: Callable[[], dict[str, Any]],
) -> None:
    """Declare a generated model: ``renames`` maps each attribute to its JSON name.

    ``namespace`` returns the names its annotations refer to (models imported
    lazily to avoid import cycles included); it is called once, when the
    model's hooks are first needed.
    """
    _SPECS[cls] = _ModelSpec(dict(renames), namespace)


def _resolve(cls: type) -> _ModelSpec:
    spec = _SPECS[cls]
    attrs.resolve_types(cls, globalns=spec.namespace())
    return spec


def _model_structure(cls: type) -> Callable[[Any, Any], Any]:
    hook = _STRUCTURE_HOOKS.get(cls)
    if hook is not None:
        return hook
    spec = _resolve(cls)
    explain = _explaining_structure(cls, spec)
    # Registered before the fast hooks are built, so a model that contains
    # itself finds a hook (the explaining one) instead of recursing.
    _STRUCTURE_HOOKS[cls] = explain
    hook, many = _fast_structure(cls, spec, explain, exact=False)
    read = {spec.renames.get(f.name, f.name) for f in attrs.fields(cls) if f.init}
    if read == set(spec.renames.values()):  # every documented key is a field it reads
        hook, many = _fast_structure(cls, spec, hook, exact=True)
    _STRUCTURE_HOOKS[cls] = hook
    _MANY_HOOKS[cls] = many
    return hook


def _explaining_structure(cls: type, spec: _ModelSpec) -> Callable[[Any, Any], Any]:
    """cattrs' own hook for the model: slower, and the one whose errors users see."""
    overrides: dict[str, Any] = {
        name: override(rename=json_name) for name, json_name in spec.renames.items()
    }
    base: Callable[[Any, Any], Any] = make_dict_structure_fn(
        cls,
        converter,
        _cattrs_forbid_extra_keys=False,
        _cattrs_detailed_validation=False,
        **overrides,
    )
    known = frozenset(spec.renames.values())

    def structure_model(data: Any, _: Any) -> Any:
        try:
            obj = base(data, cls)
        except KeyError as missing:  # a required field; say which model lacks it
            raise ValueError(
                f"{cls.__name__}: required field {missing.args[0]!r} is missing"
            ) from None
        if len(data) > len(known) or not known.issuperset(data):
            obj.additional_properties = {k: v for k, v in data.items() if k not in known}
        return obj

    return structure_model


_ABSENT = object()

_Hook = Callable[[Any, Any], Any]
_Many = Callable[[Any], list[Any]]


def _fast_structure(
    cls: type, spec: _ModelSpec, fallback: _Hook, *, exact: bool
) -> tuple[_Hook, _Many]:
    """A hook that builds the model without cattrs' per-field dict and keyword call.

    It computes what the explaining hook computes, with the usual conversions
    (dates, UUIDs, money) inlined; on any failure it hands the data to
    ``fallback``, so the error users see is always the explaining hook's.
    ``exact``: for an object with every documented key (the usual answer),
    all values are read by one ``itemgetter`` call, and "no other key" is
    one length test.

    Also returns ``many``: the same body in a loop over a list of objects (a
    page's records), without a call per record; one that fails goes to ``fallback``.
    """
    names: dict[str, Any] = {"cls": cls, "fallback": fallback, "ABSENT": _ABSENT}
    body, values = _fast_body(cls, spec, names, exact=exact)
    known = frozenset(spec.renames.values())
    names.update(known=known, n_known=len(known), known_has_all=known.issuperset)
    extra = f"len(o) != {len(known)}" if exact else "len(o) > n_known or not known_has_all(o)"
    build = [
        *body,
        *_construct(cls, values, names),
        f"if {extra}:",
        "    obj.additional_properties = {k: v for k, v in o.items() if k not in known}",
    ]
    lines = ["def fast(o, _=None):", "    try:", *_indent(build, 8), "        return obj"]
    lines += ["    except Exception:", "        return fallback(o, cls)", ""]
    lines += ["def many(items):", "    out = []", "    append = out.append", "    for o in items:"]
    lines += ["        try:", *_indent(build, 12), "        except Exception:"]
    lines += ["            obj = fallback(o, cls)", "        append(obj)", "    return out"]
    where = f"<nexudus_async {'exact' if exact else 'fast'} structure {cls.__qualname__}>"
    exec(compile("\n".join(lines), where, "exec"), names)
    return names["fast"], names["many"]


def _indent(lines: Iterable[str], width: int) -> list[str]:
    return [" " * width + line for line in lines]


def _fast_body(
    cls: type, spec: _ModelSpec, names: dict[str, Any], *, exact: bool
) -> tuple[list[str], list[tuple[attrs.Attribute[Any], str]]]:
    """The statements that compute the fields' values, and each init field's value."""
    fields = [f for f in attrs.fields(cls) if f.init]
    keys = [spec.renames.get(f.name, f.name) for f in fields]
    lines: list[str] = []
    if exact and len(fields) > 1:  # one C call reads them all (KeyError if one is missing)
        names["get_all"] = operator.itemgetter(*keys)
        lines.append(f"{', '.join(f'a{i}' for i in range(len(fields)))} = get_all(o)")
    elif exact and fields:
        lines.append(f"a0 = o[{keys[0]!r}]")
    elif not exact:
        lines.append("get = o.get")
    values: list[tuple[attrs.Attribute[Any], str]] = []
    for i, (field, key) in enumerate(zip(fields, keys, strict=True)):
        convert = [line.format(x=f"a{i}") for line in _fast_conversion(field.type, i, names)]
        value = f"a{i}"
        if exact or field.default is attrs.NOTHING:
            if not exact:
                lines.append(f"a{i} = o[{key!r}]")
            lines += convert
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            raise TypeError(f"{field.name}: a factory default is not supported on the wire")
        else:
            names[f"d{i}"] = field.default
            if not convert:
                value = f"get({key!r}, d{i})"
            else:  # the default as it is, not converted
                lines += [f"a{i} = get({key!r}, ABSENT)", f"if a{i} is ABSENT:"]
                lines += [f"    a{i} = d{i}", "else:", *_indent(convert, 4)]
        values.append((field, value))
    return lines, values


def _construct(
    cls: type, values: list[tuple[attrs.Attribute[Any], str]], names: dict[str, Any]
) -> list[str]:
    """The statements that build ``obj`` from the values.

    A model whose ``__init__`` only stores its arguments (no validator,
    converter or hook: what the generator writes) gets them stored directly,
    as that ``__init__`` would, without the call through the class.
    """
    fields = attrs.fields(cls)
    init_code = getattr(vars(cls).get("__init__"), "__code__", None)
    plain = (
        getattr(init_code, "co_filename", "").startswith("<attrs generated")
        and cls.__setattr__ is object.__setattr__  # type: ignore[comparison-overlap]
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(f.validator is None and f.converter is None for f in fields)
        # slotted, with no slot of attrs' own (a cached hash) that __init__ would set
        and set(vars(cls).get("__slots__", ("?",))) <= {f.name for f in fields} | {"__weakref__"}
    )
    if not plain:
        args = [f"{f.alias}={v}" if f.kw_only else v for f, v in values]
        return [f"obj = cls({', '.join(args)})"]
    names["new_object"] = _new_object
    lines = ["obj = new_object(cls)", *(f"obj.{f.name} = {v}" for f, v in values)]
    for i, field in enumerate(fields):
        if field.init or field.default is attrs.NOTHING:
            continue
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            if default.takes_self:
                raise TypeError(f"{field.name}: a factory taking self is not supported")
            names[f"f{i}"] = default.factory
            new = "{}" if default.factory is dict else f"f{i}()"  # a literal: no call
            lines.append(f"obj.{field.name} = {new}")
        else:
            names[f"i{i}"] = default
            lines.append(f"obj.{field.name} = i{i}")
    return lines


# The bodies of the usual hooks, inlined: a record has several dates and UUIDs.
# ``{x}`` is the variable holding the JSON value, replaced by the field's value.
_INLINE: dict[Any, tuple[str, ...]] = {
    _structure_datetime: (  # removesuffix: faster than the slice, which builds a slice object
        "{x} = fromiso(remove_z({x}, 'Z')) if {x}[-1] == 'Z' else with_offset({x})",
    ),
    _structure_uuid: (  # _parse_uuid's usual path; anything else fails over to it
        "digits = {x}.replace('-', '')",
        "if len(digits) != 32:",
        "    raise ValueError(digits)",
        "{x} = new_object(UUID)",
        "set_uuid_int({x}, int(digits, 16))",
        "set_uuid_is_safe({x}, SAFE_UNKNOWN)",
    ),
    _structure_decimal: (  # a price seen before, or the exact decoder's: without a call
        "if type({x}) is float:",
        "    {x} = from_float({x}) or to_decimal({x}, None)",
        "elif type({x}) is not Decimal:",
        "    {x} = to_decimal({x}, None)",
    ),
}
_INLINE_NAMES = {
    "fromiso": _fromisoformat,
    "remove_z": str.removesuffix,
    "with_offset": dates.parse_with_offset,
    "new_object": _new_object,
    "UUID": uuid.UUID,
    "set_uuid_int": _set_uuid_int,
    "set_uuid_is_safe": _set_uuid_is_safe,
    "SAFE_UNKNOWN": _SAFE_UNKNOWN,
    "from_float": _FROM_FLOAT.get,  # only ever cleared, never replaced
    "to_decimal": _structure_decimal,
    "Decimal": _Decimal,
}


def _fast_conversion(tp: Any, i: int, names: dict[str, Any]) -> list[str]:
    """The statements turning a field's JSON value, in place, into its value (none: as it is)."""
    hook = converter.get_structure_hook(tp)
    item = typing.get_args(tp)[0] if typing.get_origin(tp) is list else None
    if item is not None and item in _SPECS:  # a page's records: the item's own fast loop
        item_hook = converter.get_structure_hook(item)
        many = _MANY_HOOKS.get(item)
        if many is not None:
            names[f"m{i}"] = many
            lines = [f"{{x}} = m{i}({{x}})"]
        else:  # a model that contains itself: its hook is still being built
            names[f"h{i}"] = item_hook
            lines = [f"{{x}} = [h{i}(e, None) for e in {{x}}]"]
    elif hook is _passthrough:
        return []
    elif hook in _INLINE:
        names.update(_INLINE_NAMES)
        lines = list(_INLINE[hook])
    elif (members := _enum_of(tp, hook)) is not None:
        names[f"e{i}"] = members
        lines = [f"{{x}} = e{i}({{x}})"]  # unknown integer values: the generated _missing_
    else:
        names[f"h{i}"], names[f"t{i}"] = hook, tp
        lines = [f"{{x}} = h{i}({{x}}, t{i})"]
    if _is_union(tp):  # every union hook answers None for None (see _union_structure)
        lines = ["if {x} is not None:", *_indent(lines, 4)]
    return lines


def _enum_of(tp: Any, hook: Any) -> Any:
    """The enum a field holds when its hook only calls it (an enum, or an optional one)."""
    if hook is _structure_enum:
        return tp
    rest = [a for a in _union_args(tp) or () if a is not Unset and a is not type(None)]
    if len(rest) == 1 and converter.get_structure_hook(rest[0]) is _structure_enum:
        return rest[0]
    return None


def _model_unstructure(cls: type) -> Callable[[Any], Any]:
    hook = _UNSTRUCTURE_HOOKS.get(cls)
    if hook is not None:
        return hook
    spec = _resolve(cls)
    overrides: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name in spec.renames:
            overrides[field.name] = override(
                rename=spec.renames[field.name],
                omit_if_default=field.default is UNSET,
            )
        else:
            overrides[field.name] = override(omit=True)
    base: Callable[[Any], Any] = make_dict_unstructure_fn(cls, converter, **overrides)
    unstructure_value = converter.unstructure

    def unstructure_model(obj: Any) -> Any:
        data = base(obj)
        extra = getattr(obj, "additional_properties", None)
        if not extra:
            return data
        merged = {k: unstructure_value(v) for k, v in extra.items()}
        merged.update(data)
        return merged

    _UNSTRUCTURE_HOOKS[cls] = unstructure_model
    return unstructure_model


def _is_model_list(tp: Any) -> bool:
    return typing.get_origin(tp) is list and typing.get_args(tp)[0] in _SPECS


def _model_list_structure(tp: Any) -> Callable[[Any, Any], Any]:
    """``list[Model]``: the model's own loop, as for a page's records."""
    item = typing.get_args(tp)[0]
    converter.get_structure_hook(item)  # builds the model's hooks, its loop included
    many = _MANY_HOOKS.get(item)
    if many is None:  # a model that contains itself: its hooks are still being built
        return list_structure_factory(tp, converter)

    def structure_list(data: Any, _: Any) -> Any:
        return many(data)

    return structure_list


converter.register_structure_hook_factory(_SPECS.__contains__, _model_structure)
converter.register_structure_hook_factory(_is_model_list, _model_list_structure)
converter.register_unstructure_hook_factory(_SPECS.__contains__, _model_unstructure)
