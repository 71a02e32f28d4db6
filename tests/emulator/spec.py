"""The OpenAPI document, and a checker that an emulator response is one it describes."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "nexudus-billing.yaml"
_SPEC_URI = "urn:nexudus-billing"


@functools.cache
def load_spec() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open(encoding="utf-8") as fh:
        spec: dict[str, Any] = yaml.load(fh, Loader=loader)
    return spec


@functools.cache
def _registry() -> Registry:
    resource: Resource[Any] = DRAFT202012.create_resource(load_spec())
    registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
    return registry


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (one level at a time until none is left)."""
    while "$ref" in node:
        target: Any = load_spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def schema_validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator for a schema that may ``$ref`` into the document (formats checked)."""
    return _validator(json.dumps(schema, sort_keys=True))


@functools.cache
def _validator(schema_json: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_json)
    wrapped = {"$schema": "https://json-schema.org/draft/2020-12/schema", **_rebase(schema)}
    return jsonschema.Draft202012Validator(
        wrapped,
        registry=_registry(),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def component_validator(name: str) -> jsonschema.Draft202012Validator:
    return schema_validator({"$ref": f"#/components/schemas/{name}"})


def _rebase(node: Any) -> Any:
    """Point local refs at the registered document."""
    if isinstance(node, dict):
        return {
            k: (_SPEC_URI + v if k == "$ref" and v.startswith("#") else _rebase(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


@functools.cache
def _path_patterns() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for template in load_spec()["paths"]:
        regex = re.escape(template).replace(r"\{Id\}", r"[^/]+")
        patterns.append((re.compile(f"^{regex}$"), template))
    # Literal paths before templated ones (commands before {Id}).
    patterns.sort(key=lambda p: "{" in p[1])
    return patterns


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    for pattern, template in _path_patterns():
        if pattern.match(path):
            item = load_spec()["paths"][template]
            op = item.get(method.lower())
            if op is None:
                raise AssertionError(f"{method} {template} is not in the OpenAPI document")
            return template, op
    raise AssertionError(f"{path} is not in the OpenAPI document")


class SpecViolation(AssertionError):
    pass


def check_response(
    method: str,
    path: str,
    status: int,
    headers: dict[str, str],
    body: bytes,
) -> None:
    """Fail unless the document describes this answer: status, content type, body, headers."""
    template, op = operation(method, path)
    where = f"{method} {template} -> {status}"
    responses = op["responses"]
    if str(status) not in responses:
        raise SpecViolation(f"{where}: status not documented ({sorted(responses)})")
    response = resolve(responses[str(status)])
    for name, header in response.get("headers", {}).items():
        value = headers.get(name)
        if value is None:
            if header.get("required"):
                raise SpecViolation(f"{where}: missing header {name}")
            continue
        header_schema = resolve(header.get("schema", {}))
        if header_schema.get("type") == "integer":
            if not re.fullmatch(r"\d+", value):
                raise SpecViolation(f"{where}: header {name}={value!r} is not an integer")
            if int(value) < header_schema.get("minimum", 0):
                raise SpecViolation(f"{where}: header {name}={value!r} is below its minimum")
    content = response.get("content")
    if not content:
        if status == 409 and body:
            raise SpecViolation(f"{where}: throttled answers have an empty body")
        return
    content_type = headers.get("Content-Type", "").split(";")[0].strip()
    if content_type not in content:
        raise SpecViolation(f"{where}: content type {content_type!r} not in {sorted(content)}")
    schema = content[content_type].get("schema")
    if schema is None:
        return
    if content_type == "application/json":
        try:
            instance = json.loads(body)
        except ValueError as exc:
            raise SpecViolation(f"{where}: body is not JSON: {body[:200]!r}") from exc
    else:
        instance = body.decode("utf-8")
    errors = sorted(schema_validator(schema).iter_errors(instance), key=lambda e: e.path)
    if errors:
        detail = "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
        raise SpecViolation(f"{where}: body violates the document: {detail}")
