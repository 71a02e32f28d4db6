"""The journal of recent API requests, as the admin API shows it.

Only the method, path, query string, route and status are kept: never a
header or a body, so no ``Authorization`` value, token or password can end up
here. Query parameters whose name says they carry a secret are redacted too.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .values import format_datetime, now

__all__ = ["JOURNAL_SIZE", "RequestJournal", "redact_query"]

#: How many recent requests are kept (older ones fall off).
JOURNAL_SIZE = 1000
_SECRET_WORDS = ("password", "token", "secret", "totp", "authorization", "apikey", "api_key")
REDACTED = "REDACTED"


def redact_query(query: str) -> str:
    """The query string with the values of secret-looking parameters replaced."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_secret(name) for name, _ in pairs):
        return query
    return urlencode([(n, REDACTED if _secret(n) else v) for n, v in pairs])


def _secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


class RequestJournal:
    def __init__(self, size: int = JOURNAL_SIZE) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = itertools.count(1)

    def record(
        self, method: str, path: str, query: str, operation: str | None, status: int | str
    ) -> None:
        self._entries.append(
            {
                "seq": next(self._seq),
                "time": format_datetime(now()),
                "method": method,
                "path": path,
                "query": redact_query(query),
                "operation": operation,
                "status": status,
            }
        )

    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Oldest first; ``limit``: only the most recent ones."""
        items = list(self._entries)
        return items[-limit:] if limit else items

    def clear(self) -> None:
        self._entries.clear()
        self._seq = itertools.count(1)
