"""What every API request goes through before and after its handler, in small steps:

route known (else 404/405) -> authenticate and role (401) -> throttle (409/429, not
executed) -> faults (faults.FAULTS: instead of the handler, or after it) -> handler;
every answer is counted in the stats and the journal. Admin requests (``/_emulator/``)
take none of these steps: admin.py's own middleware answers them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

import attrs
from aiohttp import web
from aiohttp.typedefs import Middleware

from .admin import Handler, admin_middleware, is_admin_path
from .answers import error_envelope, json_answer, throttled, unauthorized
from .entities import EntitySpec
from .faults import FAULTS, Dropped, Fault, with_unknown_enums
from .handlers import FAULT_KEY, USER_KEY
from .state import EmulatorState

# The server's own copy: the emulator never imports the client's runtime (DESIGN.md).
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})

__all__ = ["Route", "api_middleware"]

_NO_FAULT = Fault()


@attrs.frozen
class Route:
    method: str
    template: str
    spec: EntitySpec | None  # None: /api/token
    action: str | None  # List, Read, Create, Edit, Delete

    @property
    def operation(self) -> str:
        """The stats' name of the route: ``"POST /api/billing/coworkertimepasses"``."""
        return f"{self.method} {self.template}"


# ------------------------------------------------------------------ routing
def _allowed_methods(path: str, routes: Iterable[Route]) -> list[str]:
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


def _router_error(request: web.Request, routes: Iterable[Route]) -> web.Response:
    """404/405 for paths and methods the API does not have, with an exact ``Allow``."""
    allowed = _allowed_methods(request.path, routes)
    if not allowed:
        return json_answer(error_envelope(404, "No such resource.", None), status=404)
    body = error_envelope(405, f"The requested resource does not support {request.method}.", None)
    response = json_answer(body, status=405)
    response.headers["Allow"] = ", ".join(allowed)
    return response


def _route_of(request: web.Request, routes: Mapping[web.AbstractRoute, Route]) -> Route | None:
    """The API route the router matched, or None for the router's 404/405."""
    route = routes.get(request.match_info.route)
    if route is None or "Id" not in request.match_info:
        return route
    literal = any(r.template == request.path for r in routes.values())
    return None if literal else route  # e.g. DELETE .../commands: that is not an Id


# ------------------------------------------------------- auth and throttle
def _client_key(state: EmulatorState, request: web.Request, route: Route) -> str | None:
    """Whom the throttle counts the request against; None: 401 (no such user, or a
    role without the route's action). The token route counts the caller's address."""
    if route.spec is None:
        return "token:" + (request.remote or "?")
    user = state.auth.authenticate(request.headers.get("Authorization"))
    if user is None or not state.auth.allowed(user, route.spec.role(route.action or "")):
        return None
    request[USER_KEY] = user
    return "user:" + user.email.lower()


def _throttle(state: EmulatorState, client: str, is_write: bool) -> web.Response | None:
    """The 409/429 of a request over a limit (it is not executed), else None."""
    wait = state.throttle.check(client, is_write)
    if wait is None:
        return None
    state.stats.throttled += 1
    state.stats.throttled_by[state.throttle.last_limit or "?"] += 1
    return throttled(state, wait)


# ------------------------------------------------------------------- faults
async def _planned_fault(state: EmulatorState, request: web.Request, route: Route) -> Fault:
    """Draw the request's faults, wait out their latency; the kind is counted and
    (for the handlers that play one) stored on the request."""
    plan = state.faults.plan(
        request.method,
        request.path,
        lambda kind: FAULTS[kind].seen(request, route.spec, route.template),
    )
    if plan.latency > 0:
        state.stats.faults["latency"] += 1
        await asyncio.sleep(plan.latency)
    if plan.kind is None:
        return _NO_FAULT
    state.stats.faults[plan.kind] += 1
    fault = FAULTS[plan.kind]
    if fault.instead is None:
        request[FAULT_KEY] = plan.kind
    return fault


async def _executed(
    state: EmulatorState, request: web.Request, route: Route, handler: Handler
) -> web.StreamResponse:
    """Faults around the handler; a write the handler did is counted whatever follows."""
    fault = await _planned_fault(state, request, route)
    if fault.instead is not None:
        return fault.instead(request, route.spec)
    response = await handler(request)
    if request.method in WRITE_METHODS and response.status == 200:
        state.stats.writes += 1
        state.stats.executed[route.operation] += 1
    if fault.after is not None:
        return fault.after(request, route.spec, response)
    if state.config.unknown_enum_values and route.spec is not None and request.method == "GET":
        return with_unknown_enums(route.spec, response)  # the account setting, not a fault
    return response


async def _answer(
    state: EmulatorState, request: web.Request, route: Route, handler: Handler
) -> web.StreamResponse:
    state.stats.by_route[route.operation] += 1  # whatever the outcome
    client = _client_key(state, request, route)
    if client is None:
        return unauthorized()
    refused = _throttle(state, client, request.method in WRITE_METHODS)
    if refused is not None:
        return refused
    return await _executed(state, request, route, handler)


# -------------------------------------------------------------------- stats
def _count(
    state: EmulatorState, request: web.Request, route: Route | None, response: web.StreamResponse
) -> None:
    """One answer in the stats and the journal (``route`` None: the router's 404/405)."""
    status: int | str = "dropped" if isinstance(response, Dropped) else response.status
    operation = route.operation if route is not None else None
    state.stats.answered(operation, status)
    state.journal.record(request.method, request.path, request.query_string, operation, status)


def api_middleware(state: EmulatorState, routes: Mapping[web.AbstractRoute, Route]) -> Middleware:
    """The one middleware: the admin API apart, every request through the steps above."""

    @web.middleware
    async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_admin_path(request.path):  # not the API: no auth, throttle, faults or stats
            return await admin_middleware(state, request, handler)
        state.stats.requests += 1
        route = _route_of(request, routes)
        response: web.StreamResponse
        if route is None:
            response = _router_error(request, routes.values())
        else:
            response = await _answer(state, request, route, handler)
        _count(state, request, route, response)
        return response

    return pipeline
