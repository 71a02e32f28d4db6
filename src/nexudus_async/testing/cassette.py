"""Recorded exchanges: redaction, the cassette files, and how a request matches one.

A cassette is a folder with one JSON file per exchange (``0001-GET-api-billing-
coworkertimepasses.json``), in the order they happened, plus ``drift.json``. Every
exchange is redacted in memory before anything is written: ``Authorization``,
``Proxy-Authorization``, cookies, the token form's fields (all but ``grant_type``),
query parameters and JSON properties named like a secret, and then every string
of the exchange is scrubbed of each secret seen so far in any encoding (as sent,
URL-encoded, base64, JSON-escaped). The recorded request is what a replayed
request is compared with, after the same redaction.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "DRIFT_FILE",
    "REDACTED",
    "Cassette",
    "Exchange",
    "Redactor",
    "load_cassette",
    "request_key",
]

REDACTED = "REDACTED"
DRIFT_FILE = "drift.json"
#: Headers never forwarded or recorded as they are (hop-by-hop, or set by the transport).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
        "host",
    }
)
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_NAME = re.compile(
    r"password|passwd|token|secret|totp|session|api[-_]?key|credential|cookie", re.I
)
#: Named like a secret, but not one (an answer's ``"token_type": "bearer"``).
_NOT_SECRET = frozenset({"token_type"})
_FORM = "application/x-www-form-urlencoded"
_KEEP_IN_FORMS = frozenset({"grant_type"})
_SHORTEST_SECRET = 4


def _is_secret_name(name: str) -> bool:
    return name.lower() not in _NOT_SECRET and bool(_SECRET_NAME.search(name))


@attrs.frozen
class Exchange:
    """One request and its answer, as recorded (already redacted)."""

    seq: int
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int
    reason: str
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes
    drift: tuple[dict[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "request": {
                "method": self.method,
                "path": self.path,
                "query": [list(pair) for pair in self.query],
                "headers": [list(pair) for pair in self.request_headers],
                "body": _body_json(self.request_body),
            },
            "response": {
                "status": self.status,
                "reason": self.reason,
                "headers": [list(pair) for pair in self.response_headers],
                "body": _body_json(self.response_body),
            },
            "drift": list(self.drift),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Exchange:
        request, response = data["request"], data["response"]
        return cls(
            seq=int(data["seq"]),
            method=str(request["method"]),
            path=str(request["path"]),
            query=tuple((str(k), str(v)) for k, v in request["query"]),
            request_headers=tuple((str(k), str(v)) for k, v in request["headers"]),
            request_body=_body_bytes(request["body"]),
            status=int(response["status"]),
            reason=str(response["reason"]),
            response_headers=tuple((str(k), str(v)) for k, v in response["headers"]),
            response_body=_body_bytes(response["body"]),
            drift=tuple(data.get("drift", ())),
        )

    @property
    def file_name(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.path).strip("-")[:80] or "root"
        return f"{self.seq:04d}-{self.method}-{slug}.json"

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.request_headers if k.lower() == name.lower()), None)


def _body_json(body: bytes) -> dict[str, str] | None:
    """UTF-8 text as text (readable, byte-exact), anything else as base64."""
    if not body:
        return None
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}


def _body_bytes(data: Mapping[str, str] | None) -> bytes:
    if not data:
        return b""
    if "text" in data:
        return data["text"].encode("utf-8")
    return base64.b64decode(data["base64"])


def request_key(
    method: str, path: str, query: Iterable[tuple[str, str]], body: bytes, content_type: str | None
) -> tuple[Any, ...]:
    """What replay matches on: method, path, query (any order) and body (JSON by value)."""
    value: Any = body
    if body and "json" in (content_type or "").lower():
        try:
            value = json.dumps(json.loads(body), sort_keys=True)
        except (UnicodeDecodeError, ValueError, RecursionError):
            value = body
    return (method.upper(), path, tuple(sorted(query)), value)


class Redactor:
    """Takes secrets out of exchanges; remembers each secret it has seen (in memory only),
    so a token issued in one answer is scrubbed wherever it shows up later."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def learn(self, secret: str) -> None:
        if len(secret) >= _SHORTEST_SECRET and secret != REDACTED:
            self._secrets.add(secret)

    def _variants(self) -> list[str]:
        out: set[str] = set()
        for s in self._secrets:
            out |= {
                s,
                urllib.parse.quote(s, safe=""),
                urllib.parse.quote_plus(s, safe=""),
                base64.b64encode(s.encode()).decode(),
                base64.urlsafe_b64encode(s.encode()).decode(),
                json.dumps(s)[1:-1],
            }
        # the longest first: a secret inside a longer encoded one is replaced whole
        return sorted((v for v in out if len(v) >= _SHORTEST_SECRET), key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for variant in self._variants():
            text = text.replace(variant, REDACTED)
        return text

    # ---------------------------------------------------------------- parts
    def headers(self, headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        out = []
        for name, value in headers:
            lowered = name.lower()
            if lowered in HOP_BY_HOP:
                continue
            if lowered in _SECRET_HEADERS or _is_secret_name(lowered):
                self._learn_header(value)
                value = REDACTED
            out.append((name, value))
        return tuple(out)

    def _learn_header(self, value: str) -> None:
        scheme, _, credentials = value.strip().partition(" ")
        credentials = credentials.strip() or scheme
        self.learn(value.strip())
        self.learn(credentials)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return
            self.learn(decoded)
            self.learn(decoded.partition(":")[2])  # the password (the email is no secret)
        for cookie in value.split(";"):
            self.learn(cookie.partition("=")[2].strip())

    def query(self, pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        out = []
        for name, value in pairs:
            if _is_secret_name(name):
                self.learn(value)
                value = REDACTED
            out.append((name, value))
        return tuple(out)

    def body(self, body: bytes, content_type: str | None) -> bytes:
        media = (content_type or "").split(";")[0].strip().lower()
        if media == _FORM:
            return self._form(body)
        if "json" in media and body:
            try:
                data = json.loads(body)
            except (UnicodeDecodeError, ValueError, RecursionError):
                return body
            cleaned = self._json(data)
            return body if cleaned == data else json.dumps(cleaned).encode("utf-8")
        return body

    def _form(self, body: bytes) -> bytes:
        pairs = urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        out = []
        for name, value in pairs:
            if name not in _KEEP_IN_FORMS:
                if _is_secret_name(name):  # not the user name: records name it (UpdatedBy)
                    self.learn(value)
                value = REDACTED
            out.append((name, value))
        return urllib.parse.urlencode(out).encode("ascii")

    def _json(self, value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if _is_secret_name(str(key)) and isinstance(item, str):
                    self.learn(item)
                    item = REDACTED
                out[key] = self._json(item)
            return out
        if isinstance(value, list):
            return [self._json(item) for item in value]
        return value

    def scrub_exchange(self, exchange: Exchange) -> Exchange:
        """The last pass: every secret seen so far, in any encoding, out of every string."""

        def pairs(items: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
            return tuple((self.scrub(k), self.scrub(v)) for k, v in items)

        def body(data: bytes) -> bytes:
            try:
                return self.scrub(data.decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                return data  # binary: the structural redaction is all there is

        return attrs.evolve(
            exchange,
            path=self.scrub(exchange.path),
            query=pairs(exchange.query),
            request_headers=pairs(exchange.request_headers),
            request_body=body(exchange.request_body),
            reason=self.scrub(exchange.reason),
            response_headers=pairs(exchange.response_headers),
            response_body=body(exchange.response_body),
        )


class Cassette:
    """A folder being recorded into: one file per exchange, and ``drift.json``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        existing = sorted(self.folder.glob("[0-9]*-*.json"))
        self._seq = max((int(p.name.split("-", 1)[0]) for p in existing), default=0)
        drift_file = self.folder / DRIFT_FILE
        self.drift: list[dict[str, Any]] = (
            json.loads(drift_file.read_text(encoding="utf-8")) if drift_file.exists() else []
        )

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def write(self, exchange: Exchange) -> Path:
        """Write one (redacted) exchange; a crash leaves no half-written file."""
        path = self.folder / exchange.file_name
        _write_atomically(path, json.dumps(exchange.to_json(), indent=1, ensure_ascii=False))
        if exchange.drift:
            entry = {"seq": exchange.seq, "method": exchange.method, "path": exchange.path}
            self.drift.append(
                {**entry, "status": exchange.status, "mismatches": list(exchange.drift)}
            )
            _write_atomically(self.folder / DRIFT_FILE, json.dumps(self.drift, indent=1))
        return path


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_cassette(folder: str | Path) -> list[Exchange]:
    """Every exchange of a cassette folder, in recorded order; ValueError names a bad file."""
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"{root}: no such cassette folder")
    out = []
    for path in sorted(root.glob("[0-9]*-*.json")):
        try:
            out.append(Exchange.from_json(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a recorded exchange ({exc})") from None
    return out
