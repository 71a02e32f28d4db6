"""The two OpenAPI documents the emulator serves, each with the address it was asked at.

- ``/_emulator/openapi.json``: the admin API (``admin_openapi.json`` next to this module);
- ``/_emulator/api-openapi.json``: the emulated Nexudus API itself, the project's
  ``openapi/nexudus-billing.yaml`` as JSON (``make generate`` writes it into the
  generated package, so a wheel ships it and reading it needs no YAML parser).

The ``servers`` entry of both is the scheme and ``Host`` the request came with, so a
client generated from a document fetched at ``http://127.0.0.1:PORT`` talks to that
port (the files themselves name the live service and a placeholder).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = [
    "ADMIN_DOCUMENT_PATH",
    "API_DOCUMENT_PATH",
    "admin_document",
    "api_document",
    "served",
]

ADMIN_DOCUMENT_PATH = Path(__file__).with_name("admin_openapi.json")
API_DOCUMENT_PATH = Path(__file__).parent.parent / "_generated" / "openapi.json"


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def admin_document() -> dict[str, Any]:
    """The admin API's document as stored (a copy: callers may change it)."""
    return copy.deepcopy(_load(ADMIN_DOCUMENT_PATH))


def api_document() -> dict[str, Any]:
    """The emulated API's document as the project writes it (a copy)."""
    return copy.deepcopy(_load(API_DOCUMENT_PATH))


def base_url(request: web.Request) -> str:
    """``scheme://host[:port]`` as the client addressed it (its ``Host`` header)."""
    return f"{request.scheme}://{request.host}"


def served(document: dict[str, Any], request: web.Request) -> web.Response:
    """The document with ``servers`` pointing at the address the request came to."""
    document["servers"] = [
        {"url": base_url(request), "description": "This emulator, as the request reached it."}
    ]
    return web.Response(
        text=json.dumps(document, indent=1, ensure_ascii=False), content_type="application/json"
    )
