"""What the account settings (profile.py) change in answers and writes; handlers.py calls these.

Pure functions of a request's parts and the config, so each setting reads in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .config import EmulatorConfig
from .entities import EntitySpec
from .querying import PagingRules
from .store import blank_value

__all__ = [
    "ids_lookup",
    "keep_omitted",
    "list_query",
    "paging_rules",
    "reshape",
    "wall_clock_dates",
]

#: An ISO 8601 UTC offset at the end of a date (``+02:00``, ``-0500``).
_OFFSET = re.compile(r"[+-]\d{2}:?\d{2}$")


def paging_rules(config: EmulatorConfig) -> PagingRules:
    return PagingRules(
        config.max_page_size, config.oversize_page, config.dir_encoding, config.range_precision
    )


def ids_lookup(
    spec: EntitySpec, query: Mapping[str, str], config: EmulatorConfig, fault_array: bool
) -> tuple[str, str] | None:
    """``(parameter, answer shape)`` of a get-by-ids request the account understands.

    The shape is ``"array"`` or ``"envelope"``; None: no lookup it understands.
    """
    entity_form = spec.name + "_Id"
    forms = []
    if config.ids_forms in ("both", "entity_id"):
        forms.append((entity_form, "envelope"))
    if config.ids_forms in ("both", "id"):
        forms.append(("id", "array"))
    for param, documented in forms:
        if param in query and param not in config.ignored_filters:
            shape = documented if config.ids_answer == "by_form" else config.ids_answer
            if fault_array and param == entity_form:
                shape = "array"  # the ids_array fault
            return param, shape
    return None


def list_query(
    spec: EntitySpec, query: Mapping[str, str], config: EmulatorConfig, lookup: str | None
) -> dict[str, str]:
    """The query a list answers: ignored filters and lookups dropped, ``id`` as ``Entity_Id``."""
    entity_form = spec.name + "_Id"
    ignored = set(config.ignored_filters)
    if lookup != entity_form:
        ignored.add(entity_form)  # not understood: ignored like an unknown parameter
    out = {k: v for k, v in query.items() if k not in ignored}
    if lookup == "id":
        out[entity_form] = out.pop("id")
    return out


def reshape(record: Any, config: EmulatorConfig) -> Any:
    """A record (or a list of them) as the account shows it: omitted and extra names."""
    if not (config.record_omits or config.record_extras):
        return record
    if isinstance(record, list):
        return [reshape(r, config) for r in record]
    if not isinstance(record, dict):
        return record
    out = {k: v for k, v in record.items() if k not in config.record_omits}
    for name in config.record_extras:
        out.setdefault(name, None)
    return out


def wall_clock_dates(spec: EntitySpec, body: Any) -> Any:
    """``offset_dates="keep"``: a date's offset dropped, its wall-clock fields kept."""
    if not isinstance(body, dict):
        return body
    out = dict(body)
    for field in spec.fields:
        value = out.get(field.name)
        if field.type == "datetime" and isinstance(value, str) and _OFFSET.search(value):
            out[field.name] = _OFFSET.sub("Z", value)
    return out


def keep_omitted(
    spec: EntitySpec, values: Mapping[str, Any], stored: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``put_omitted="keep"``: the writable fields a PUT lacks keep their stored values."""
    out = dict(values)
    if stored is None:
        return out
    for field in spec.writable:
        if field.name not in out:
            out[field.name] = stored.get(field.name, blank_value(field))
    return out
