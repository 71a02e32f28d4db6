"""The admin API under ``/_emulator/``: the control API over HTTP, for any language.

Described by ``admin_openapi.json`` (next to this module; served at
``/_emulator/openapi.json``). The live Nexudus API has no path starting with
``/_``, and these routes never accept API credentials: only the admin token
given at start-up (``Authorization: Bearer <token>``), and only when one is
set; without one the admin API is open, which the server allows on loopback
only (:func:`is_loopback`). ``health`` and ``openapi.json`` are always open:
they reveal and change nothing, and readiness probes carry no secrets.

Admin requests bypass the API pipeline: they are not authenticated as API
users, throttled, faulted, counted in the stats or written to the journal.
"""

from __future__ import annotations

import ipaddress
import json
import math
import secrets
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from .._core.decimals import json_dumps, json_loads
from .answers import json_answer
from .config import (
    FAULT_KINDS,
    FULL_ADMIN_ROLE,
    FaultRule,
    ThrottleLimits,
    UserSpec,
)
from .documents import ADMIN_DOCUMENT_PATH, admin_document, api_document, served
from .entities import ENTITIES_BY_PATH, EntitySpec
from .journal import JOURNAL_SIZE
from .profile import profile_of
from .state import STATE_KEY, EmulatorState
from .validation import INT32_MAX, check_value

__all__ = [
    "ADMIN_PREFIX",
    "ADMIN_ROUTES",
    "OPENAPI_PATH",
    "AdminError",
    "add_admin_routes",
    "admin_middleware",
    "is_admin_path",
    "is_loopback",
    "load_seed_file",
    "parse_seed",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ADMIN_PREFIX = "/_emulator"
OPENAPI_PATH = ADMIN_DOCUMENT_PATH
_OPEN_PATHS = frozenset(
    {
        f"{ADMIN_PREFIX}/health",
        f"{ADMIN_PREFIX}/openapi.json",
        f"{ADMIN_PREFIX}/api-openapi.json",
    }
)
#: Bounds of the admin API's inputs (the document states the same ones).
MAX_LIMIT = 1_000_000_000
MAX_TIME_SCALE = 1000.0
MAX_LATENCY = 30.0
MAX_FAULTS = 100
MAX_SEED = 10_000
_MAX_BODY = 1024**2  # aiohttp's client_max_size, which the app keeps
_LIMIT_FIELDS = (
    "per_minute",
    "per_hour",
    "per_day",
    "writes_per_minute",
    "writes_per_day",
)


class AdminError(Exception):
    """An admin request the emulator refuses: answered ``{"error", "message"}``."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def _bad(message: str) -> AdminError:
    return AdminError(400, "bad_request", message)


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost``: nobody else can reach an open admin API."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name or "" (every interface)


# ----------------------------------------------------------------- answers
def _error(status: int, error: str, message: str) -> web.Response:
    return json_answer({"error": error, "message": message}, status=status)


def _no_content() -> web.Response:
    return web.Response(status=204)


def _unauthorized(message: str) -> web.Response:
    response = _error(401, "unauthorized", message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="nexudus-emulator-admin"'
    return response


def _authorized(state: EmulatorState, request: web.Request) -> web.Response | None:
    token = state.config.admin_token
    if not token or request.path in _OPEN_PATHS:
        return None
    header = request.headers.get("Authorization")
    if not header:
        return _unauthorized(
            "The emulator admin API needs the admin token given at start-up: "
            "Authorization: Bearer <admin token>."
        )
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        given.strip().encode(), token.encode()
    ):
        return _unauthorized("The admin token is wrong (API credentials are not accepted here).")
    return None


async def admin_middleware(
    state: EmulatorState, request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Auth, then the handler; every refusal is a JSON ``{"error", "message"}``."""
    refused = _authorized(state, request)
    if refused is not None:
        return refused
    try:
        return await handler(request)
    except AdminError as exc:
        return _error(exc.status, exc.error, exc.message)
    except web.HTTPMethodNotAllowed as exc:
        response = _error(405, "method_not_allowed", f"{request.method} is not allowed here.")
        response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        return response
    except web.HTTPNotFound:
        return _error(404, "not_found", f"The admin API has no {request.path}.")
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "too_large", f"The body is larger than {_MAX_BODY} bytes.")


# ------------------------------------------------------------------ inputs
async def _body(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json_loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad("The body is not valid JSON.") from None


def _object(value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(f"{where}: must be a JSON object.")
    for key in value:
        if key not in allowed:
            raise _bad(f"{where}: unknown property {key!r}; known: {', '.join(allowed)}.")
    return value


def _integer(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, Decimal) and value.is_finite():
        value = float(value)  # an exact decoder's 2.0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(f"{where}: must be a whole number from {low} to {high}.")
    return value


def _number(value: Any, where: str, low: float, high: float, *, low_open: bool = False) -> float:
    if isinstance(value, Decimal):
        value = float(value)  # settings (seconds, probabilities), not money
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and (value <= low if low_open else value < low):
        ok = False
    if not ok or value > high:
        bound = f"above {low:g}" if low_open else f"from {low:g}"
        raise _bad(f"{where}: must be a number {bound} to {high:g}.")
    return float(value)


def _text(value: Any, where: str, longest: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= longest:
        raise _bad(f"{where}: must be text of 1 to {longest} characters.")
    return value


def _collection(request: web.Request) -> EntitySpec:
    name = request.match_info["collection"]
    spec = ENTITIES_BY_PATH.get(name)
    if spec is None:
        known = ", ".join(ENTITIES_BY_PATH)
        raise AdminError(404, "not_found", f"No collection {name!r}; one of {known}.")
    return spec


def _short(value: Any) -> str:
    text = json_dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_record(spec: EntitySpec, record: Any, where: str) -> dict[str, Any]:
    """A record to seed (single-record shape, any field, no required ones): checked
    field by field with the API's own rules, so the API can answer it later."""
    if not isinstance(record, dict):
        raise _bad(f"{where}: must be a JSON object (a {spec.name} record).")
    fields = spec.field_map
    out: dict[str, Any] = {}
    for name, value in record.items():
        field = fields.get(name)
        if field is None:
            raise _bad(f"{where}.{name}: {spec.name} has no such field.")
        if value is None:
            if name != "Id" and not field.nullable:
                raise _bad(f"{where}.{name}: may not be null.")
            out[name] = None
            continue
        if name == "Id":
            out[name] = _integer(value, f"{where}.Id", 1, INT32_MAX)
            continue
        stored, message = check_value(spec, name, value)
        if message is not None:
            raise _bad(f"{where}.{name}: {message}: {_short(value)}.")
        out[name] = stored
    return out


def _records(spec: EntitySpec, value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _bad(f"{where}: must be a JSON array of records.")
    if len(value) > MAX_SEED:
        raise _bad(f"{where}: at most {MAX_SEED} records at once.")
    return [check_record(spec, r, f"{where}[{i}]") for i, r in enumerate(value)]


def parse_seed(data: Any, where: str = "body") -> dict[str, list[dict[str, Any]]]:
    """``{"coworkertimepasses": [record, ...], ...}`` checked (nothing inserted)."""
    if not isinstance(data, dict):
        raise _bad(f"{where}: must be a JSON object of collections ({{collection: [records]}}).")
    out: dict[str, list[dict[str, Any]]] = {}
    for name, records in data.items():
        spec = ENTITIES_BY_PATH.get(name)
        if spec is None:
            known = ", ".join(ENTITIES_BY_PATH)
            raise _bad(f"{where}: unknown collection {name!r}; one of {known}.")
        out[name] = _records(spec, records, f"{where}.{name}" if where else name)
    return out


def load_seed_file(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Read ``--seed-file``; raises AdminError whose message names the file and the place."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _bad(f"{path}: cannot read the seed file: {reason}") from None
    try:
        data = json_loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise _bad(f"{path}: not valid JSON ({exc})") from None
    try:
        return parse_seed(data, "")
    except AdminError as exc:
        raise _bad(f"{path}: {exc.message.lstrip(': ')}") from None


# ----------------------------------------------------------------- outputs
def _limits_json(limits: ThrottleLimits) -> dict[str, Any]:
    return {
        "enabled": limits.enabled,
        "min_interval": limits.min_interval,
        **{name: getattr(limits, name) for name in _LIMIT_FIELDS},
    }


def _fault_json(rule: FaultRule, fired: int, remaining: int | None) -> dict[str, Any]:
    return {
        "method": rule.method,
        "path": rule.path,
        "kind": rule.kind,
        "probability": rule.probability,
        "latency": rule.latency,
        "times": rule.times,
        "fired": fired,
        "remaining": remaining,
    }


def _user_json(user: UserSpec) -> dict[str, Any]:
    """Never the password or the TOTP code: only whether one is needed."""
    return {"email": user.email, "roles": list(user.roles), "totp": user.totp is not None}


# ---------------------------------------------------------------- handlers
def _state(request: web.Request) -> EmulatorState:
    return request.app[STATE_KEY]


async def _health(request: web.Request) -> web.Response:
    return json_answer({"status": "ok"})


async def _openapi(request: web.Request) -> web.Response:
    return served(admin_document(), request)


async def _api_openapi(request: web.Request) -> web.Response:
    return served(api_document(), request)


async def _reset(request: web.Request) -> web.Response:
    state = _state(request)
    state.reset()
    return _no_content()


async def _stats(request: web.Request) -> web.Response:
    state = _state(request)
    return json_answer(state.stats.snapshot())


async def _journal(request: web.Request) -> web.Response:
    state = _state(request)
    limit = None
    if "limit" in request.query:
        text = request.query["limit"]
        if not text.isdigit() or not 1 <= int(text) <= JOURNAL_SIZE:
            raise _bad(f"limit: must be a whole number from 1 to {JOURNAL_SIZE}.")
        limit = int(text)
    return json_answer({"entries": state.journal.entries(limit)})


async def _get_faults(request: web.Request) -> web.Response:
    state = _state(request)
    faults = state.faults
    rows = zip(faults.rules, faults.fired(), faults.remaining(), strict=True)
    return json_answer([_fault_json(*row) for row in rows])


async def _put_faults(request: web.Request) -> web.Response:
    state = _state(request)
    body = await _body(request)
    if not isinstance(body, list) or len(body) > MAX_FAULTS:
        raise _bad(f"body: must be a JSON array of at most {MAX_FAULTS} fault rules.")
    rules = [_fault_rule(item, f"body[{i}]") for i, item in enumerate(body)]
    state.faults.set_rules(rules)
    return await _get_faults(request)


async def _clear_faults(request: web.Request) -> web.Response:
    state = _state(request)
    state.faults.set_rules(())
    return _no_content()


async def _get_limits(request: web.Request) -> web.Response:
    state = _state(request)
    return json_answer(_limits_json(state.throttle.limits))


async def _put_limits(request: web.Request) -> web.Response:
    state = _state(request)
    body = _object(await _body(request), "body", ("enabled", "min_interval", *_LIMIT_FIELDS))
    values: dict[str, Any] = {}
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise _bad("body.enabled: must be true or false.")
        values["enabled"] = body["enabled"]
    if "min_interval" in body and body["min_interval"] is not None:
        values["min_interval"] = _number(body["min_interval"], "body.min_interval", 0, 86400)
    elif "min_interval" in body:
        values["min_interval"] = None
    for name in _LIMIT_FIELDS:
        if name in body:
            value = body[name]
            if value is not None:
                value = _integer(value, f"body.{name}", 0, MAX_LIMIT)
            values[name] = value
    state.throttle.set_limits(ThrottleLimits(**values))
    return await _get_limits(request)


async def _get_time_scale(request: web.Request) -> web.Response:
    state = _state(request)
    return json_answer({"time_scale": state.config.time_scale})


async def _put_time_scale(request: web.Request) -> web.Response:
    state = _state(request)
    body = _object(await _body(request), "body", ("time_scale",))
    if "time_scale" not in body:
        raise _bad("body.time_scale: is required.")
    scale = _number(body["time_scale"], "body.time_scale", 0, MAX_TIME_SCALE, low_open=True)
    state.set_time_scale(scale)
    return await _get_time_scale(request)


async def _get_profile(request: web.Request) -> web.Response:
    state = _state(request)
    return json_answer(profile_of(state.config))


async def _put_profile(request: web.Request) -> web.Response:
    state = _state(request)
    body = await _body(request)
    if not isinstance(body, dict):
        raise _bad("body: must be a JSON object of account settings.")
    try:
        state.set_settings(**body)
    except ValueError as exc:
        raise _bad(f"body.{exc}.") from None
    return await _get_profile(request)


async def _get_users(request: web.Request) -> web.Response:
    state = _state(request)
    return json_answer([_user_json(u) for u in state.auth.users()])


async def _add_user(request: web.Request) -> web.Response:
    state = _state(request)
    body = _object(await _body(request), "body", ("email", "password", "roles", "totp"))
    for name in ("email", "password"):
        if name not in body:
            raise _bad(f"body.{name}: is required.")
    email = _text(body["email"], "body.email", 254)
    password = _text(body["password"], "body.password", 256)
    roles: tuple[str, ...] = (FULL_ADMIN_ROLE,)
    if "roles" in body:
        raw = body["roles"]
        if not isinstance(raw, list) or len(raw) > 100:
            raise _bad("body.roles: must be a JSON array of at most 100 role names.")
        roles = tuple(_text(r, f"body.roles[{i}]", 100) for i, r in enumerate(raw))
    totp = body.get("totp")
    if totp is not None:
        totp = _text(totp, "body.totp", 64)
    user = UserSpec(email, password, roles, totp)
    state.auth.add_user(user)
    return json_answer(_user_json(user), status=201)


async def _expire_tokens(request: web.Request) -> web.Response:
    state = _state(request)
    state.auth.expire_tokens()
    return _no_content()


async def _counts(request: web.Request) -> web.Response:
    state = _state(request)
    return json_answer({spec.path: state.store.count(spec) for spec in ENTITIES_BY_PATH.values()})


async def _seed_all(request: web.Request) -> web.Response:
    state = _state(request)
    parsed = parse_seed(await _body(request))
    stored = {
        name: [state.store.insert(name, record) for record in records]
        for name, records in parsed.items()
    }
    return json_answer(stored, status=201)


async def _list_records(request: web.Request) -> web.Response:
    state = _state(request)
    return json_answer(state.store.all(_collection(request)))


async def _seed(request: web.Request) -> web.Response:
    state = _state(request)
    spec = _collection(request)
    body = await _body(request)
    if isinstance(body, list):
        records = _records(spec, body, "body")
    else:
        records = [check_record(spec, body, "body")]
    return json_answer([state.store.insert(spec, r) for r in records], status=201)


async def _get_record(request: web.Request) -> web.Response:
    state = _state(request)
    spec = _collection(request)
    text = request.match_info["id"]
    if not text.isdigit() or not 1 <= int(text) <= INT32_MAX:
        raise _bad(f"id: must be a whole number from 1 to {INT32_MAX}.")
    record = state.store.get(spec, int(text))
    if record is None:
        raise AdminError(404, "not_found", f"{spec.name} {text} is not in the store.")
    return json_answer(record)


#: The admin API's routes, under ADMIN_PREFIX.
ADMIN_ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/health", _health),
    ("GET", "/openapi.json", _openapi),
    ("GET", "/api-openapi.json", _api_openapi),
    ("POST", "/reset", _reset),
    ("GET", "/stats", _stats),
    ("GET", "/journal", _journal),
    ("GET", "/faults", _get_faults),
    ("PUT", "/faults", _put_faults),
    ("DELETE", "/faults", _clear_faults),
    ("GET", "/limits", _get_limits),
    ("PUT", "/limits", _put_limits),
    ("GET", "/time-scale", _get_time_scale),
    ("PUT", "/time-scale", _put_time_scale),
    ("GET", "/profile", _get_profile),
    ("PUT", "/profile", _put_profile),
    ("GET", "/users", _get_users),
    ("POST", "/users", _add_user),
    ("POST", "/tokens/expire", _expire_tokens),
    ("GET", "/records", _counts),
    ("POST", "/records", _seed_all),
    ("GET", "/records/{collection}", _list_records),
    ("POST", "/records/{collection}", _seed),
    ("GET", "/records/{collection}/{id}", _get_record),
)


def add_admin_routes(app: web.Application) -> None:
    """Register the ``/_emulator/`` routes (the pipeline hands them to admin_middleware);
    their handlers work on the application's ``STATE_KEY``."""
    for method, path, handler in ADMIN_ROUTES:
        app.router.add_route(method, ADMIN_PREFIX + path, handler)


def _fault_rule(item: Any, where: str) -> FaultRule:
    known = ("method", "path", "kind", "probability", "latency", "times")
    body = _object(item, where, known)
    if "kind" not in body:
        raise _bad(f"{where}.kind: is required; one of {', '.join(FAULT_KINDS)}.")
    if body["kind"] not in FAULT_KINDS:
        raise _bad(f"{where}.kind: must be one of {', '.join(FAULT_KINDS)}.")
    kw: dict[str, Any] = {"kind": body["kind"]}
    if "method" in body:
        kw["method"] = _text(body["method"], f"{where}.method", 16)
    if "path" in body:
        kw["path"] = _text(body["path"], f"{where}.path", 500)
    if "probability" in body:
        kw["probability"] = _number(body["probability"], f"{where}.probability", 0, 1)
    if "latency" in body:
        kw["latency"] = _number(body["latency"], f"{where}.latency", 0, MAX_LATENCY)
    if body.get("times") is not None:
        kw["times"] = _integer(body["times"], f"{where}.times", 0, MAX_LIMIT)
    return FaultRule(**kw)
