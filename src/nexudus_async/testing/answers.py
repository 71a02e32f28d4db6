"""The emulated API's answers: JSON bodies, envelopes, 401, 404 and the throttle's 409/429."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._core.decimals import json_dumps
from .entities import EntitySpec
from .validation import FieldError
from .values import format_datetime, now

if TYPE_CHECKING:
    from .state import EmulatorState

THROTTLE_REASON = "You must wait before accessing this url again."
OOOPS = "Ooops! There was a problem while running this action"
#: The older reference pages' answers to an unexpected failure and a missing record.
SERVER_MESSAGE = "An error has occurred."
NOT_FOUND_STRING = "Not found"
#: 003's validation message, as ``validation500`` answers it.
NULL_OR_EMPTY = "may not be null or empty"
DENIED = "Authorization has been denied for this request."
FORM = "application/x-www-form-urlencoded"


def json_answer(body: Any, status: int = 200) -> web.Response:
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
    body = error_envelope(400, f"{first.property_name}: {first.message}", errors)
    return json_answer(body, status=400)


def validation_500(spec: EntitySpec | None) -> web.Response:
    """003's "Example invalid response": a validation failure with status 500.

    It names the entity's first required field (003's own example names ``Name``).
    """
    required = [f.name for f in spec.fields if f.required] if spec is not None else []
    name = required[0] if required else "Name"
    errors = [FieldError(name, NULL_OR_EMPTY, None)]
    return json_answer(error_envelope(500, f"{name}: {NULL_OR_EMPTY}", errors), status=500)


def not_found(spec: EntitySpec, record_id: object, body: str = "envelope") -> web.Response:
    """404: the error envelope, or (``not_found_body="string"``) the JSON string "Not found"."""
    if body == "string":
        return json_answer(NOT_FOUND_STRING, status=404)
    message = f"{spec.name} with Id {record_id} was not found."
    return json_answer(error_envelope(404, message, None), status=404)


def unauthorized() -> web.Response:
    return json_answer({"Message": DENIED}, status=401)


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
