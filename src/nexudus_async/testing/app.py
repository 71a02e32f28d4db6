"""The aiohttp.web application: the API's route table, the admin API, one middleware.

Each entity answers the same seven routes under its collection URL (handlers.py);
pipeline.py says what a request goes through before and after its handler.
"""

from __future__ import annotations

from aiohttp import web

from .admin import Handler, add_admin_routes
from .entities import ENTITIES, EntitySpec
from .handlers import EntityHandlers, token
from .pipeline import Route, api_middleware
from .state import STATE_KEY, EmulatorState

__all__ = ["ENTITY_ROUTES", "EmulatorState", "build_app"]  # EmulatorState lives in state.py

#: (method, path after the collection URL, EntityHandlers method, role action) of every
#: entity. /commands and /runcommand come before /{Id}: the router tries routes in order.
ENTITY_ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/commands", "commands", "List"),
    ("POST", "/runcommand", "runcommand", "Edit"),
    ("GET", "", "list", "List"),
    ("POST", "", "create", "Create"),
    ("PUT", "", "update", "Edit"),
    ("GET", "/{Id}", "get", "Read"),
    ("DELETE", "/{Id}", "delete", "Delete"),
)


def build_app(state: EmulatorState) -> web.Application:
    routes: dict[web.AbstractRoute, Route] = {}  # the pipeline's view of the API's routes
    app = web.Application(middlewares=[api_middleware(state, routes)])
    app[STATE_KEY] = state

    def add(
        method: str,
        template: str,
        handler: Handler,
        spec: EntitySpec | None = None,
        action: str | None = None,
    ) -> None:
        routes[app.router.add_route(method, template, handler)] = Route(
            method, template, spec, action
        )

    add("POST", "/api/token", token)
    add_admin_routes(app)
    for spec in ENTITIES:
        handlers = EntityHandlers(spec)
        for method, suffix, name, action in ENTITY_ROUTES:
            add(method, spec.collection_url + suffix, getattr(handlers, name), spec, action)
    return app
