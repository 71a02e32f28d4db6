"""``runcommand``: validation of Key, Ids and Parameters, and the commands' effects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .entities import CommandSpec, EntitySpec, ParameterSpec
from .store import Store
from .validation import INT32_MAX, INT32_MIN, FieldError
from .values import format_datetime, is_int, now, parse_datetime

__all__ = ["run_command"]

Effect = Callable[[dict[str, Any], list[Any]], dict[str, Any]]


def _mark_used(_row: dict[str, Any], _params: list[Any]) -> dict[str, Any]:
    return {"Used": True, "UsedDate": format_datetime(now())}


def _mark_unused(_row: dict[str, Any], _params: list[Any]) -> dict[str, Any]:
    return {"Used": False, "UsedDate": None}


def _set(field: str) -> Effect:
    return lambda _row, params: {field: params[0]}


def _clear_expiration(_row: dict[str, Any], _params: list[Any]) -> dict[str, Any]:
    return dict.fromkeys(("ExpireTimeInMonths", "ExpireTimeInWeeks", "ExpirationType", "ExpiresIn"))


_EFFECTS: dict[tuple[str, str], tuple[Effect, str]] = {
    ("CoworkerTimePass", "MARK_AS_USED"): (_mark_used, "{n} time pass(es) marked as used."),
    ("CoworkerTimePass", "MARK_AS_UNUSED"): (_mark_unused, "{n} time pass(es) marked as not used."),
    ("CoworkerTimePass", "SET_EXPIRY_DATE"): (
        _set("ExpireDate"),
        "Expiry date set on {n} time pass(es).",
    ),
    ("ProductTimePass", "SET_PASSES_INCLUDED"): (
        _set("PassesIncluded"),
        "Passes included set on {n} record(s).",
    ),
    ("ProductTimePass", "CLEAR_EXPIRATION"): (
        _clear_expiration,
        "Expiration removed from {n} record(s).",
    ),
    ("TariffTimePass", "SET_PASSES_INCLUDED"): (
        _set("PassesIncluded"),
        "Passes included set on {n} record(s).",
    ),
    ("TariffTimePass", "SET_RENEWAL_TIME"): (
        _set("PassRenewalTime"),
        "Renewal period set on {n} record(s).",
    ),
}


def _parameter_value(
    command: CommandSpec, spec: EntitySpec, param: ParameterSpec, value: Any
) -> tuple[Any, str | None]:
    if param.type == "DateTime":
        parsed = parse_datetime(value)
        return (format_datetime(parsed[0]), None) if parsed else (None, "is not a valid date")
    if param.type == "Int32":
        if not is_int(value) or not 0 <= int(value) <= INT32_MAX:
            return None, "must be a whole number of 0 or more"
        number = int(value)
        if command.key == "SET_RENEWAL_TIME":
            allowed = spec.field_map["PassRenewalTime"].enum
            if number not in allowed:
                return None, f"'{number}' is not a valid value"
        return number, None
    if param.type == "Boolean":
        return (value, None) if isinstance(value, bool) else (None, "must be true or false")
    return (value, None) if isinstance(value, str) else (None, "must be text")


def _find_parameter(given: list[Any], param: ParameterSpec, position: int) -> Any:
    for item in given:
        if not isinstance(item, dict):
            continue
        label = item.get("Name") or item.get("Type")
        if isinstance(label, str) and label.lower() in (param.name.lower(), param.type.lower()):
            return item.get("Value")
    if position < len(given) and isinstance(given[position], dict):
        return given[position].get("Value")
    return None


def run_command(
    store: Store, spec: EntitySpec, body: Any, user: str
) -> list[FieldError] | tuple[str, int | None]:
    """Run the command the body names; errors (answered 400) or (message, first id)."""
    if not isinstance(body, dict):
        return [FieldError("Body", "must be a JSON object", None)]
    errors: list[FieldError] = []
    key = body.get("Key")
    command = next((c for c in spec.commands if c.key == key), None)
    if not isinstance(key, str) or not key:
        errors.append(FieldError("Key", "is a required field", key))
    elif command is None:
        errors.append(FieldError("Key", "is not a command of " + spec.name, key))

    ids_value = body.get("Ids")
    ids: list[int] = []
    if not isinstance(ids_value, list) or not all(is_int(i) for i in ids_value):
        errors.append(FieldError("Ids", "must be a list of record Ids", ids_value))
    elif not all(INT32_MIN <= int(i) <= INT32_MAX for i in ids_value):
        errors.append(FieldError("Ids", "is out of range", ids_value))  # as in a body
    else:
        ids = list(dict.fromkeys(int(i) for i in ids_value))
        missing = [i for i in ids if not store.has(spec, i)]
        if not ids:
            errors.append(FieldError("Ids", "at least one record is required", ids_value))
        elif missing:
            errors.append(
                FieldError("Ids", "no record with Id " + ", ".join(map(str, missing)), missing)
            )
        elif command is not None and command.applies_only_to_one and len(ids) != 1:
            errors.append(FieldError("Ids", "this command runs on exactly one record", ids_value))

    params: list[Any] = []
    given = body.get("Parameters") or []
    if not isinstance(given, list):
        errors.append(FieldError("Parameters", "must be a list", given))
    elif command is not None:
        for position, param in enumerate(command.parameters):
            raw = _find_parameter(given, param, position)
            if raw is None:
                errors.append(FieldError("Parameters", f"'{param.name}' is required", None))
                continue
            value, message = _parameter_value(command, spec, param, raw)
            if message is not None:
                errors.append(FieldError("Parameters", f"'{param.name}' {message}", raw))
            else:
                params.append(value)
    if errors:
        return errors
    assert command is not None
    effect, message = _EFFECTS[(spec.name, command.key)]
    for record_id in ids:
        row = store.get(spec, record_id)
        assert row is not None
        store.update_fields(spec, record_id, effect(row, params), user)
    return message.format(n=len(ids)), ids[0] if ids else None
