"""Does one HTTP exchange match the API document? (the recording proxy's drift check)

In the spirit of Prism's validation proxy: the request (path, method, query
parameters, body) and the answer (documented status, content type, body schema,
required headers) are compared with the OpenAPI document, and each difference is
one :class:`Mismatch` naming where it is and what is wrong.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from .schema_check import SchemaChecker, short

__all__ = ["Contract", "Mismatch"]

_FORM = "application/x-www-form-urlencoded"


@attrs.frozen
class Mismatch:
    """``where``: ``request query page``, ``response body $.Records[0].Price``, ...."""

    where: str
    problem: str

    def to_json(self) -> dict[str, str]:
        return {"where": self.where, "problem": self.problem}

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _json(body: bytes) -> tuple[Any, str | None]:
    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal), None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, f"is not JSON ({exc.__class__.__name__})"


class Contract:
    """The API document, indexed for checking exchanges."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.schemas = SchemaChecker(document)
        self._paths: list[tuple[re.Pattern[str], str, Mapping[str, Any]]] = []
        for template, item in document.get("paths", {}).items():
            pattern = re.sub(r"\\\{([^}/]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            self._paths.append((re.compile(f"^{pattern}$"), template, item))
        # literal paths first: /commands is not an {Id}
        self._paths.sort(key=lambda entry: "{" in entry[1])

    def operation(
        self, method: str, path: str
    ) -> tuple[str, Mapping[str, Any] | None, dict[str, str]]:
        """(template or "", the operation or None, path parameters)."""
        for pattern, template, item in self._paths:
            match = pattern.match(path)
            if match:
                return template, item.get(method.lower()), match.groupdict()
        return "", None, {}

    # ---------------------------------------------------------------- request
    def check_request(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        content_type: str | None,
        body: bytes,
    ) -> list[Mismatch]:
        template, op, path_params = self.operation(method, path)
        if not template:
            return [Mismatch("request path", f"{path} is not in the document")]
        if op is None:
            return [Mismatch("request method", f"{method} {template} is not in the document")]
        params = self._parameters(template, op)
        found: list[Mismatch] = []
        for name, text in path_params.items():
            spec = params.get(("path", name))
            if spec is not None:
                found += self._parameter("request path", name, spec, urllib.parse.unquote(text))
        given = {name for name, _ in query}
        for (where, name), spec in params.items():
            if where == "query" and spec.get("required") and name not in given:
                found.append(Mismatch(f"request query {name}", "is required"))
        for name, text in query:
            spec = params.get(("query", name))
            if spec is None:
                found.append(Mismatch(f"request query {name}", "is not in the document"))
            else:
                found += self._parameter("request query", name, spec, text)
        return found + self._request_body(op, content_type, body)

    def _parameters(self, template: str, op: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
        item = self.document["paths"][template]
        out: dict[tuple[str, str], Any] = {}
        for raw in [*item.get("parameters", ()), *op.get("parameters", ())]:
            param = self.schemas.resolve(raw)
            out[(param["in"], param["name"])] = param
        return out

    def _parameter(
        self, where: str, name: str, spec: Mapping[str, Any], text: str
    ) -> list[Mismatch]:
        schema = self.schemas.resolve(spec.get("schema", {}))
        value, problem = _from_text(self.schemas, schema, text)
        if problem is not None:
            return [Mismatch(f"{where} {name}", problem)]
        return [Mismatch(f"{where} {name}", p) for _, p in self.schemas.problems(schema, value)]

    def _request_body(
        self, op: Mapping[str, Any], content_type: str | None, body: bytes
    ) -> list[Mismatch]:
        documented = self.schemas.resolve(op.get("requestBody")) or {}
        content = documented.get("content", {})
        if not body:
            return [Mismatch("request body", "is required")] if documented.get("required") else []
        if not content:
            return [Mismatch("request body", "the operation takes no body")]
        media = _media_type(content_type)
        if media not in content:
            return [
                Mismatch("request content type", f"{media or 'none'} is not {', '.join(content)}")
            ]
        schema = content[media].get("schema", {})
        if media == _FORM:
            value: Any = dict(
                urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            )
        else:
            value, problem = _json(body)
            if problem is not None:
                return [Mismatch("request body", problem)]
        return [Mismatch(f"request body {w}", p) for w, p in self.schemas.problems(schema, value)]

    # --------------------------------------------------------------- response
    def check_response(
        self, method: str, path: str, status: int, headers: Mapping[str, str], body: bytes
    ) -> list[Mismatch]:
        _, op, _ = self.operation(method, path)
        if op is None:
            return []  # the request's own mismatch says it
        responses = op.get("responses", {})
        raw = (
            responses.get(str(status))
            or responses.get(f"{str(status)[0]}XX")
            or responses.get("default")
        )
        if raw is None:
            return [
                Mismatch("response status", f"{status} is not documented ({', '.join(responses)})")
            ]
        response = self.schemas.resolve(raw)
        found = self._headers(response, headers)
        content = response.get("content")
        if not content:
            return found
        media = _media_type(headers.get("Content-Type"))
        if media not in content:
            return [
                *found,
                Mismatch("response content type", f"{media or 'none'} is not {', '.join(content)}"),
            ]
        schema = content[media].get("schema")
        if schema is None or not media.endswith("json"):
            return found
        value, problem = _json(body)
        if problem is not None:
            return [*found, Mismatch("response body", problem)]
        return found + [
            Mismatch(f"response body {w}", p) for w, p in self.schemas.problems(schema, value)
        ]

    def _headers(self, response: Mapping[str, Any], headers: Mapping[str, str]) -> list[Mismatch]:
        found: list[Mismatch] = []
        for name, raw in response.get("headers", {}).items():
            header = self.schemas.resolve(raw)
            value = headers.get(name)
            if value is None:
                if header.get("required"):
                    found.append(Mismatch(f"response header {name}", "is required"))
                continue
            schema = self.schemas.resolve(header.get("schema", {}))
            parsed, problem = _from_text(self.schemas, schema, value)
            problems = (
                [problem] if problem else [p for _, p in self.schemas.problems(schema, parsed)]
            )
            found += [Mismatch(f"response header {name}", p) for p in problems]
        return found


def _from_text(
    checker: SchemaChecker, schema: Mapping[str, Any], text: str
) -> tuple[Any, str | None]:
    """A parameter's text as the value its schema describes (form style, explode=false)."""
    kind = schema.get("type")
    if kind == "array":
        raw = text.strip()
        if raw.startswith("[") and raw.endswith("]"):
            raw = raw[1:-1]
        items = checker.resolve(schema.get("items", {}))
        out = []
        for part in (p for p in raw.split(",") if p.strip()):
            value, problem = _from_text(checker, items, part.strip())
            if problem is not None:
                return None, problem
            out.append(value)
        return out, None
    if kind == "integer":
        if re.fullmatch(r"-?\d+", text.strip(), re.ASCII):
            return int(text), None
        return None, f"{short(text)} is not a whole number"
    if kind == "number":
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            number = Decimal("nan")
        return (number, None) if number.is_finite() else (None, f"{short(text)} is not a number")
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true", None
        return None, f"{short(text)} is not true or false"
    return text, None
