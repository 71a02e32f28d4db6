"""The aiohttp.web application: routes, handlers and the request pipeline.

Pipeline of every API request (one middleware): authenticate (401) ->
role (401) -> throttle (409/429, not executed) -> faults -> handler.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs
from aiohttp import web

from .._core.decimals import json_dumps, json_loads
from . import account
from .admin import add_admin_routes, admin_middleware, is_admin_path
from .auth import TokenError
from .commands import run_command
from .config import UserSpec
from .entities import ENTITIES, EntitySpec
from .faults import UNKNOWN_ENUM_VALUE, UNREADABLE_KINDS, unreadable_answer
from .querying import paginate, parse_id_list, parse_list_query, select
from .state import EmulatorState
from .validation import FieldError, validate_write
from .values import format_datetime, now

__all__ = ["EmulatorState", "build_app"]  # EmulatorState lives in state.py

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

THROTTLE_REASON = "You must wait before accessing this url again."
OOOPS = "Ooops! There was a problem while running this action"
#: The older reference pages' answers to an unexpected failure and a missing record.
SERVER_MESSAGE = "An error has occurred."
NOT_FOUND_STRING = "Not found"
#: 003's validation message, as ``validation500`` answers it.
NULL_OR_EMPTY = "may not be null or empty"
DENIED = "Authorization has been denied for this request."
FORM = "application/x-www-form-urlencoded"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_USER_KEY: Any
try:  # aiohttp >= 3.12 warns about plain string request keys
    _USER_KEY = web.RequestKey("nexudus_user", UserSpec)
except AttributeError:  # pragma: no cover - older aiohttp
    _USER_KEY = "nexudus_user"
_FAULT_KEY: Any
try:
    _FAULT_KEY = web.RequestKey("nexudus_fault", str)
except AttributeError:  # pragma: no cover - older aiohttp
    _FAULT_KEY = "nexudus_fault"
_STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("nexudus_emulator_state")


#: (method, path after the collection URL, handler, role action) of every entity.
#: /commands and /runcommand come before /{Id}: the router tries routes in order.
ENTITY_ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/commands", "commands", "List"),
    ("POST", "/runcommand", "runcommand", "Edit"),
    ("GET", "", "list", "List"),
    ("POST", "", "create", "Create"),
    ("PUT", "", "update", "Edit"),
    ("GET", "/{Id}", "get", "Read"),
    ("DELETE", "/{Id}", "delete", "Delete"),
)


@attrs.frozen
class _Route:
    method: str
    template: str
    spec: EntitySpec | None
    action: str | None  # List, Read, Create, Edit, Delete


# ----------------------------------------------------------------- answers
def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json_dumps(body),  # money (Decimal) with exactly its digits
        status=status,
        content_type="application/json",
    )


def action_ok(message: str, record_id: int | None, user: str) -> dict[str, Any]:
    return {
        "Status": 200,
        "Message": message,
        "Value": {"Id": record_id} if record_id is not None else None,
        "OpenInDialog": False,
        "OpenInWindow": False,
        "RedirectURL": None,
        "JavaScript": None,
        "UpdatedOn": format_datetime(now()),
        "UpdatedBy": user,
        "Errors": None,
        "WasSuccessful": True,
    }


def error_envelope(status: int, message: str, errors: list[FieldError] | None) -> dict[str, Any]:
    return {
        "Status": status,
        "Message": message,
        "Value": None,
        "WasSuccessful": False,
        "Errors": [e.to_json() for e in errors] if errors is not None else None,
    }


def validation_failed(errors: list[FieldError]) -> web.Response:
    first = errors[0]
    return _json(error_envelope(400, f"{first.property_name}: {first.message}", errors), status=400)


def validation_500(spec: EntitySpec | None) -> web.Response:
    """003's "Example invalid response": a validation failure with status 500.

    It names the entity's first required field (003's own example names ``Name``).
    """
    required = [f.name for f in spec.fields if f.required] if spec is not None else []
    name = required[0] if required else "Name"
    errors = [FieldError(name, NULL_OR_EMPTY, None)]
    return _json(error_envelope(500, f"{name}: {NULL_OR_EMPTY}", errors), status=500)


def with_unknown_enums(spec: EntitySpec, response: web.Response) -> web.Response:
    """The same answer with :data:`UNKNOWN_ENUM_VALUE` in every record's enum fields."""
    if response.status != 200 or response.body is None:
        return response
    names = {n for f in spec.fields if f.type == "enum" for n in (f.name, f.list_name) if n}
    body = json_loads(bytes(response.body).decode("utf-8"))  # type: ignore[arg-type]
    if isinstance(body, dict) and isinstance(body.get("Records"), list):
        records = body["Records"]
    else:
        records = body if isinstance(body, list) else [body]
    for record in records:
        if isinstance(record, dict):
            for name in names & record.keys():
                record[name] = UNKNOWN_ENUM_VALUE
    return _json(body)


def not_found(spec: EntitySpec, record_id: object, body: str = "envelope") -> web.Response:
    """404: the error envelope, or (``not_found_body="string"``) the JSON string "Not found"."""
    if body == "string":
        return _json(NOT_FOUND_STRING, status=404)
    message = f"{spec.name} with Id {record_id} was not found."
    return _json(error_envelope(404, message, None), status=404)


def _unauthorized() -> web.Response:
    return _json({"Message": DENIED}, status=401)


def wait_ms(seconds: float) -> int:
    """The wait in whole milliseconds, strictly longer than ``seconds``: a client that
    sleeps exactly this long (asyncio may wake a clock tick early) finds the window free."""
    return max(1, math.floor(seconds * 1000) + 1)


def retry_after_seconds(seconds: float) -> int:
    """``Retry-After``: HTTP's delay-seconds is a whole number; rounded up, at least 1."""
    return max(1, math.ceil(wait_ms(seconds) / 1000))


def _wait_text(seconds: float, time_scale: float) -> str:
    """N of the 429 body: whole seconds like the API; under a time scale below 1 the
    scaled wait in seconds with millisecond digits (never shorter than the real wait)."""
    if time_scale >= 1.0:
        return str(retry_after_seconds(seconds))
    return f"{wait_ms(seconds) / 1000:.3f}".rstrip("0").rstrip(".")


def throttled(state: EmulatorState, wait: float) -> web.Response:
    """409 with ``Retry-After`` (whole seconds) and ``X-Retry-After-Ms`` (the scaled wait,
    an emulator extra) and an empty body, or the observed 429 whose body is the only
    place that says how long to wait (no header to lean on)."""
    if state.config.throttle_status == 429:
        text = f"Wait {_wait_text(wait, state.config.time_scale)} seconds"
        return web.Response(status=429, text=text, content_type="text/plain")
    headers = {
        "Retry-After": str(retry_after_seconds(wait)),
        "X-Retry-After-Ms": str(wait_ms(wait)),
    }
    return web.Response(status=409, reason=THROTTLE_REASON, headers=headers)


# ---------------------------------------------------------------- handlers
def _user(request: web.Request) -> str:
    return str(request[_USER_KEY].email)


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


def make_handlers(
    state_of: Callable[[web.Request], EmulatorState], spec: EntitySpec
) -> dict[str, Handler]:
    async def list_records(request: web.Request) -> web.Response:
        state = state_of(request)
        store = state.store
        config = state.config
        fault_array = request.get(_FAULT_KEY) == "ids_array"
        lookup = account.ids_lookup(spec, request.query, config, fault_array)
        if lookup is not None and lookup[1] == "array":
            # Newer docs: ?id=[1,2] answers a bare JSON array of list records.
            by_ids = lookup[0]
            ids = parse_id_list(request.query[by_ids])
            if ids is None:
                return validation_failed([FieldError(by_ids, "must be a list of whole numbers")])
            wanted = set(ids)
            rows = [r for r in store.rows(spec) if r["Id"] in wanted]
            rows.sort(key=lambda r: r["Id"])
            return _json(account.reshape([store.list_record(spec, r) for r in rows], config))
        params = account.list_query(spec, request.query, config, lookup and lookup[0])
        query, errors = parse_list_query(spec, store, params, account.paging_rules(config))
        if errors:
            return validation_failed(errors)
        page_rows, info = paginate(query, select(query, store.rows(spec)))
        if config.has_next_page_quirk:
            info["HasNextPage"] = True
        records = account.reshape([store.list_record(spec, r) for r in page_rows], config)
        return _json({"Records": records, **info})

    async def get_record(request: web.Request) -> web.Response:
        config = state_of(request).config
        record_id = _parse_path_id(request)
        record = state_of(request).store.get(spec, record_id) if record_id is not None else None
        if record is None:
            return not_found(spec, request.match_info["Id"], config.not_found_body)
        return _json(account.reshape(record, config))

    async def create(request: web.Request) -> web.Response:
        state = state_of(request)
        body, bad = await _json_body(request)
        if bad is not None:
            return bad
        if state.config.offset_dates == "keep":
            body = account.wall_clock_dates(spec, body)
        values, errors = validate_write(spec, body, update=False)
        count = 1
        if not errors and "CreateMultiple" in spec.field_map:
            count = values.pop("CreateMultiple")
            # Transient on the live API: records show it empty.
            if count > state.config.max_create_multiple:
                errors.append(
                    FieldError(
                        "CreateMultiple",
                        f"must be less than or equal to {state.config.max_create_multiple}",
                        count,
                    )
                )
        if errors:
            return validation_failed(errors)
        ids = state.store.create(spec, values, _user(request), count)
        copies = {"all": len(ids), "first": 1, "none": 0}[state.config.create_multiple_system_id]
        if copies < len(ids) and values.get("SystemId") is not None:
            for later in ids[copies:]:
                state.store.update_fields(spec, later, {"SystemId": None}, _user(request))
        answered_id = ids[-1] if state.config.create_multiple_answer_id == "last" else ids[0]
        message = f"{spec.name} was successfully created."
        return _json(action_ok(message, answered_id, _user(request)))

    async def update(request: web.Request) -> web.Response:
        state = state_of(request)
        body, bad = await _json_body(request)
        if bad is not None:
            return bad
        if state.config.offset_dates == "keep":
            body = account.wall_clock_dates(spec, body)
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
        return _json(
            action_ok(f"{spec.name} was successfully updated.", values["Id"], _user(request))
        )

    async def delete(request: web.Request) -> web.Response:
        record_id = _parse_path_id(request)
        if record_id is None or not state_of(request).store.delete(spec, record_id):
            return not_found(
                spec, request.match_info["Id"], state_of(request).config.not_found_body
            )
        body = action_ok("The record was deleted successfully.", None, _user(request))
        return _json(body)

    async def commands(request: web.Request) -> web.Response:
        return _json(
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
                for c in spec.commands
            ]
        )

    async def runcommand(request: web.Request) -> web.Response:
        state = state_of(request)
        body, bad = await _json_body(request)
        if bad is not None:
            return bad
        result = run_command(state.store, spec, body, _user(request))
        if isinstance(result, list):
            return validation_failed(result)
        message, first_id = result
        return _json(action_ok(message, first_id, _user(request)))

    return {
        "list": list_records,
        "get": get_record,
        "create": create,
        "update": update,
        "delete": delete,
        "commands": commands,
        "runcommand": runcommand,
    }


def not_a_form(content_type: str) -> dict[str, str]:
    """The live answer to a JSON (or any non-form) token request, plus what to send."""
    return {
        "error": "unsupported_grant_type",
        "error_description": (
            f"/api/token takes a form-encoded body (Content-Type: {FORM}), not "
            f"{content_type or 'no content type'}: grant_type=password&username=...&"
            "password=... (&totp=...), or grant_type=refresh_token&refresh_token=..."
        ),
    }


async def token(request: web.Request) -> web.Response:
    state = request.app[_STATE_KEY]
    form: Mapping[str, Any]
    if request.content_type == "application/json" and state.config.token_json_body == "accepted":
        body, _bad = await _json_body(request)
        form = body if isinstance(body, dict) else {}
    elif request.content_type != FORM:
        return _json(not_a_form(request.content_type), status=400)
    else:
        try:
            form = await request.post()
        except ValueError:
            return _json({"error": "invalid_request"}, status=400)

    def field(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    grant_type = field("grant_type")
    try:
        if grant_type == "password":
            totp = field("totp") or None
            grant = state.auth.password_grant(field("username"), field("password"), totp)
        elif grant_type == "refresh_token":
            grant = state.auth.refresh_grant(field("refresh_token"))
        else:
            return _json({"error": "unsupported_grant_type"}, status=400)
    except TokenError as exc:
        return _json(exc.to_json(), status=exc.status)
    return _json(grant.to_json())


# ---------------------------------------------------------------- pipeline
def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer (aiohttp then skips writing the response)."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=200)


def _malformed(response: web.StreamResponse) -> web.Response:
    status = response.status if isinstance(response, web.Response) else 200
    text = '{"Status":200,"WasSuccessful":tru'
    if isinstance(response, web.Response) and response.body is not None:
        body = bytes(response.body)  # type: ignore[arg-type]
        text = body[: max(1, len(body) // 2)].decode("utf-8", "replace") + '"\x00<html>'
    return web.Response(status=status, text=text, content_type="application/json")


def _allowed_methods(path: str, routes: Iterable[_Route]) -> list[str]:
    """Methods served at ``path``; a literal route (``/commands``) hides ``/{Id}``."""
    literal = [r.method for r in routes if r.template == path]
    if literal:
        return sorted(literal)
    methods = set()
    for r in routes:
        head, _, tail = r.template.partition("{Id}")
        if tail == "" and head and path.startswith(head) and "/" not in path[len(head) :]:
            methods.add(r.method)
    return sorted(methods)


def _router_error(request: web.Request, routes: Iterable[_Route]) -> web.Response:
    """404/405 for paths and methods the API does not have, with an exact ``Allow``."""
    allowed = _allowed_methods(request.path, routes)
    if not allowed:
        return _json(error_envelope(404, "No such resource.", None), status=404)
    body = error_envelope(405, f"The requested resource does not support {request.method}.", None)
    response = _json(body, status=405)
    response.headers["Allow"] = ", ".join(allowed)
    return response


def build_app(state: EmulatorState) -> web.Application:
    routes: dict[web.AbstractRoute, _Route] = {}

    @web.middleware
    async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_admin_path(request.path):  # not the API: no auth, throttle, faults or stats
            return await admin_middleware(state, request, handler)
        st = state.stats
        st.requests += 1
        response: web.StreamResponse
        operation: str | None = None

        def answered(status: int | str) -> None:
            st.answered(operation, status)
            state.journal.record(
                request.method, request.path, request.query_string, operation, status
            )

        route = routes.get(request.match_info.route)
        if route is None:  # 404/405 from the router
            response = _router_error(request, routes.values())
            answered(response.status)
            return response
        if "Id" in request.match_info and any(
            r.template == request.path for r in routes.values()
        ):  # e.g. DELETE .../commands: that is not an Id
            response = _router_error(request, routes.values())
            answered(response.status)
            return response
        operation = f"{request.method} {route.template}"
        st.by_route[operation] += 1  # whatever the outcome
        is_write = request.method in WRITE_METHODS
        if route.spec is not None:
            user = state.auth.authenticate(request.headers.get("Authorization"))
            if user is None or not state.auth.allowed(user, route.spec.role(route.action or "")):
                answered(401)
                return _unauthorized()
            request[_USER_KEY] = user
            client_key = "user:" + user.email.lower()
        else:
            client_key = "token:" + (request.remote or "?")
        wait = state.throttle.check(client_key, is_write)
        if wait is not None:
            st.throttled += 1
            st.throttled_by[state.throttle.last_limit or "?"] += 1
            answered(state.config.throttle_status)
            return throttled(state, wait)
        spec = route.spec

        def applies(kind: str) -> bool:
            """``ids_array`` and ``unknown_enum`` only where they can be seen."""
            if kind == "ids_array":
                return (
                    spec is not None
                    and route.template == spec.collection_url
                    and request.method == "GET"
                    and spec.name + "_Id" in request.query
                )
            if kind == "unknown_enum":
                return (
                    spec is not None
                    and request.method == "GET"
                    and any(f.type == "enum" for f in spec.fields)
                )
            return True

        plan = state.faults.plan(request.method, request.path, applies)
        if plan.latency > 0:
            st.faults["latency"] += 1
            await asyncio.sleep(plan.latency)
        kind = plan.kind
        if kind is not None:
            st.faults[kind] += 1
        if kind == "error500":
            answered(500)
            return _json(error_envelope(500, OOOPS, None), status=500)
        if kind == "validation500":
            answered(500)
            return validation_500(spec)
        if kind == "server_message500":
            answered(500)
            return _json({"Message": SERVER_MESSAGE}, status=500)
        if kind == "not_found_string":
            answered(404)
            return _json(NOT_FOUND_STRING, status=404)
        if kind == "drop_before":
            answered("dropped")
            return _drop(request)
        if kind == "unsuccessful":
            answered(200)
            body = error_envelope(200, "The action could not be completed.", None)
            return _json(body)
        if kind is not None:
            request[_FAULT_KEY] = kind
        response = await handler(request)
        if is_write and response.status == 200:
            st.writes += 1
            st.executed[operation] += 1
        if kind == "drop_after":
            answered("dropped")
            return _drop(request)
        if kind == "malformed":
            response = _malformed(response)
        elif kind in UNREADABLE_KINDS:
            response = unreadable_answer(kind)
        elif kind == "error500_after":
            response = _json(error_envelope(500, OOOPS, None), status=500)
        elif (
            (kind == "unknown_enum" or state.config.unknown_enum_values)
            and spec is not None
            and request.method == "GET"
            and isinstance(response, web.Response)
        ):
            response = with_unknown_enums(spec, response)
        answered(response.status)
        return response

    app = web.Application(middlewares=[pipeline])
    app[_STATE_KEY] = state

    def add(
        method: str, template: str, handler: Handler, spec: EntitySpec | None, action: str | None
    ) -> None:
        route = app.router.add_route(method, template, handler)
        routes[route] = _Route(method, template, spec, action)

    def state_of(request: web.Request) -> EmulatorState:
        return request.app[_STATE_KEY]

    add("POST", "/api/token", token, None, None)
    add_admin_routes(app, state)
    for spec in ENTITIES:
        handlers = make_handlers(state_of, spec)
        for method, suffix, name, action in ENTITY_ROUTES:
            add(method, spec.collection_url + suffix, handlers[name], spec, action)
    return app
