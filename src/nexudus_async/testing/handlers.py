"""The API's handlers: each entity's list, get, create, update, delete, commands and
runcommand, and ``/api/token``. They run after the pipeline (pipeline.py) let the
request through; they read the state, the store and the account settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .._core.decimals import json_loads
from . import account
from .answers import FORM, action_ok, json_answer, not_a_form, not_found, validation_failed
from .auth import TokenError
from .commands import run_command
from .config import UserSpec
from .entities import EntitySpec
from .querying import paginate, parse_id_list, parse_list_query, select
from .state import STATE_KEY, EmulatorState
from .validation import FieldError, validate_write

__all__ = ["FAULT_KEY", "USER_KEY", "EntityHandlers", "token"]

USER_KEY: Any
try:  # aiohttp >= 3.12 warns about plain string request keys
    USER_KEY = web.RequestKey("nexudus_user", UserSpec)
except AttributeError:  # pragma: no cover - older aiohttp
    USER_KEY = "nexudus_user"
#: The fault kind the handler itself plays (``ids_array``), set by the pipeline.
FAULT_KEY: Any
try:
    FAULT_KEY = web.RequestKey("nexudus_fault", str)
except AttributeError:  # pragma: no cover - older aiohttp
    FAULT_KEY = "nexudus_fault"


def _state(request: web.Request) -> EmulatorState:
    return request.app[STATE_KEY]


def _user(request: web.Request) -> str:
    return str(request[USER_KEY].email)


async def _json_body(request: web.Request) -> tuple[Any, web.Response | None]:
    raw = await request.read()
    try:
        return json_loads(raw.decode("utf-8")), None  # non-integers as Decimal: exact money
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, validation_failed([FieldError("Body", "is not valid JSON", None)])


def _parse_path_id(request: web.Request) -> int | None:
    text = request.match_info["Id"]
    try:
        return int(text)
    except ValueError:
        return None


class EntityHandlers:
    """One entity's handlers; app.py's ENTITY_ROUTES names them."""

    def __init__(self, spec: EntitySpec) -> None:
        self.spec = spec

    async def list(self, request: web.Request) -> web.Response:
        spec, state = self.spec, _state(request)
        fault_array = request.get(FAULT_KEY) == "ids_array"
        lookup = account.ids_lookup(spec, request.query, state.config, fault_array)
        if lookup is not None and lookup[1] == "array":
            return self._by_ids(state, request.query[lookup[0]], lookup[0])
        params = account.list_query(spec, request.query, state.config, lookup and lookup[0])
        rules = account.paging_rules(state.config)
        query, errors = parse_list_query(spec, state.store, params, rules)
        if errors:
            return validation_failed(errors)
        page_rows, info = paginate(query, select(query, state.store.rows(spec)))
        if state.config.has_next_page_quirk:
            info["HasNextPage"] = True
        records = [state.store.list_record(spec, r) for r in page_rows]
        return json_answer({"Records": account.reshape(records, state.config), **info})

    def _by_ids(self, state: EmulatorState, text: str, name: str) -> web.Response:
        """Newer docs: ?id=[1,2] answers a bare JSON array of list records."""
        ids = parse_id_list(text)
        if ids is None:
            return validation_failed([FieldError(name, "must be a list of whole numbers")])
        wanted = set(ids)
        rows = [r for r in state.store.rows(self.spec) if r["Id"] in wanted]
        rows.sort(key=lambda r: r["Id"])
        records = [state.store.list_record(self.spec, r) for r in rows]
        return json_answer(account.reshape(records, state.config))

    async def get(self, request: web.Request) -> web.Response:
        state = _state(request)
        record_id = _parse_path_id(request)
        record = state.store.get(self.spec, record_id) if record_id is not None else None
        if record is None:
            return not_found(self.spec, request.match_info["Id"], state.config.not_found_body)
        return json_answer(account.reshape(record, state.config))

    async def _write_body(self, request: web.Request) -> tuple[Any, web.Response | None]:
        """The JSON body of a create or update, its dates as the account reads them."""
        body, bad = await _json_body(request)
        if bad is None and _state(request).config.offset_dates == "keep":
            body = account.wall_clock_dates(self.spec, body)
        return body, bad

    async def create(self, request: web.Request) -> web.Response:
        spec, state = self.spec, _state(request)
        body, bad = await self._write_body(request)
        if bad is not None:
            return bad
        values, errors = validate_write(spec, body, update=False)
        count = 1
        if not errors and "CreateMultiple" in spec.field_map:
            count = values.pop("CreateMultiple")  # transient on the live API: records show it empty
            most = state.config.max_create_multiple
            if count > most:
                errors.append(
                    FieldError("CreateMultiple", f"must be less than or equal to {most}", count)
                )
        if errors:
            return validation_failed(errors)
        user = _user(request)
        ids = state.store.create(spec, values, user, count)
        copies = {"all": len(ids), "first": 1, "none": 0}[state.config.create_multiple_system_id]
        if copies < len(ids) and values.get("SystemId") is not None:
            for later in ids[copies:]:
                state.store.update_fields(spec, later, {"SystemId": None}, user)
        answered_id = ids[-1] if state.config.create_multiple_answer_id == "last" else ids[0]
        return json_answer(action_ok(f"{spec.name} was successfully created.", answered_id, user))

    async def update(self, request: web.Request) -> web.Response:
        spec, state = self.spec, _state(request)
        body, bad = await self._write_body(request)
        if bad is not None:
            return bad
        record_id = body.get("Id") if isinstance(body, dict) else None
        stored = None
        if isinstance(record_id, int) and not isinstance(record_id, bool):
            stored = state.store.get(spec, record_id)  # what an echoed enum is compared with
        values, errors = validate_write(spec, body, update=True, stored=stored)
        if errors:
            return validation_failed(errors)
        values.pop("CreateMultiple", None)  # transient: never stored
        if state.config.put_omitted == "keep":
            values = account.keep_omitted(spec, values, stored)
        if not state.store.replace(spec, values, _user(request)):
            return not_found(spec, values["Id"], state.config.not_found_body)
        message = f"{spec.name} was successfully updated."
        return json_answer(action_ok(message, values["Id"], _user(request)))

    async def delete(self, request: web.Request) -> web.Response:
        state = _state(request)
        record_id = _parse_path_id(request)
        if record_id is None or not state.store.delete(self.spec, record_id):
            return not_found(self.spec, request.match_info["Id"], state.config.not_found_body)
        body = action_ok("The record was deleted successfully.", None, _user(request))
        return json_answer(body)

    async def commands(self, request: web.Request) -> web.Response:
        return json_answer(
            [
                {
                    "Key": c.key,
                    "Name": c.name,
                    "AppliesOnlyToMultipleEntities": False,
                    "DisplayInDropdown": True,
                    "DisplayInDropdownV2": True,
                    "AppliesOnlyToOneEntity": c.applies_only_to_one,
                    "AppliesOnlyToTwoEntities": False,
                    "DisplayInGrid": True,
                    "NeedsEntitiesToRun": True,
                    "Order": c.order,
                    "RequiresParameters": [{"Name": p.name, "Type": p.type} for p in c.parameters],
                }
                for c in self.spec.commands
            ]
        )

    async def runcommand(self, request: web.Request) -> web.Response:
        body, bad = await _json_body(request)
        if bad is not None:
            return bad
        result = run_command(_state(request).store, self.spec, body, _user(request))
        if isinstance(result, list):
            return validation_failed(result)
        message, first_id = result
        return json_answer(action_ok(message, first_id, _user(request)))


async def _token_form(request: web.Request) -> Mapping[str, Any] | web.Response:
    """The token request's fields, or the 400 of a body that is not a form."""
    accepted = _state(request).config.token_json_body == "accepted"
    if request.content_type == "application/json" and accepted:
        body, _bad = await _json_body(request)
        return body if isinstance(body, dict) else {}
    if request.content_type != FORM:
        return json_answer(not_a_form(request.content_type), status=400)
    try:
        return await request.post()
    except ValueError:
        return json_answer({"error": "invalid_request"}, status=400)


async def token(request: web.Request) -> web.Response:
    form = await _token_form(request)
    if isinstance(form, web.Response):
        return form

    def field(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    auth = _state(request).auth
    grant_type = field("grant_type")
    try:
        if grant_type == "password":
            grant = auth.password_grant(field("username"), field("password"), field("totp") or None)
        elif grant_type == "refresh_token":
            grant = auth.refresh_grant(field("refresh_token"))
        else:
            return json_answer({"error": "unsupported_grant_type"}, status=400)
    except TokenError as exc:
        return json_answer(exc.to_json(), status=exc.status)
    return json_answer(grant.to_json())
