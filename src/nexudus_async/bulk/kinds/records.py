"""Records as a job plans with them: single-record field names, values in one canonical form.

Planning reads list pages (1,000 records a request) or records by ids (100 a
request); both answer *list-shaped* records. :func:`from_list_item` renames
their properties to the single-record names (``Coworker`` -> ``CoworkerId``)
and :func:`canonical` puts every value in the form a row's value takes once
validated, so ``2027-06-30``, ``2027-06-30T00:00:00Z`` and a datetime compare
equal, and so do ``10`` and ``10.00``. A field that list records lack
(``PurchaseOrder``) cannot be compared there: :func:`changed_fields` counts it,
and the executor's full read decides.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Mapping
from typing import Any

from ..._core import values as _values
from ..._core.entity import Entity, Field

__all__ = ["Current", "canonical", "changed_fields", "from_list_item", "listed"]

Current = Mapping[str, Any]
"""One record as planning knows it: single-record JSON names to canonical values."""


def canonical(field: Field, value: Any) -> Any:
    """``value`` of ``field`` in one comparable form (JSON form, money as a plain string)."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, (str, int)):
        return _canonical_text(field, value)  # list pages repeat their values: read each once
    return _canonical(field, value)


@functools.lru_cache(maxsize=65_536)
def _canonical_text(field: Field, value: str | int) -> Any:
    return _canonical(field, value)


def _canonical(field: Field, value: Any) -> Any:
    try:
        checked = _values.check(field, value, source="json", allow_unknown_enum_values=True)
    except _values.Invalid:
        return value  # as it is: unequal to any valid value, so a change is planned
    if isinstance(checked, decimal.Decimal):
        return format(checked.normalize(), "f")
    return _values.to_json(checked)


def listed(entity: Entity, name: str) -> bool:
    """List records show the field, so planning can compare it."""
    field = entity.field(name)
    return field is not None and (field.list_name is not None or name == "Id")


def from_list_item(entity: Entity, item: Any) -> dict[str, Any]:
    """A list record (a generated list model or its JSON mapping) by single-record names."""
    data: Mapping[str, Any] = item if isinstance(item, Mapping) else item.to_dict()
    out: dict[str, Any] = {}
    for lf in entity.list_fields:
        if lf.source is None or lf.json_name not in data:
            continue
        field = entity.field(lf.source)
        if field is not None:
            out[field.json_name] = canonical(field, data[lf.json_name])
    return out


def changed_fields(entity: Entity, current: Current, changes: Mapping[str, Any]) -> list[str]:
    """The fields of ``changes`` the record does not hold, or may not (lists lack them)."""
    out: list[str] = []
    for name, value in changes.items():
        field = entity.field(name)
        assert field is not None  # changes are validated by field name
        if name not in current or current[name] != canonical(field, value):
            out.append(name)
    return out
