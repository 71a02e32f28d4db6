"""A small JSON Schema (2020-12) checker for the keywords the API document uses.

The recording proxy checks every exchange against the document at run time, where
only aiohttp, attrs and the standard library may be imported (jsonschema is a test
tool here). :data:`KEYWORDS` lists what is checked and :data:`ANNOTATIONS` what is
only read by people; a test fails when the document starts using anything else, and
another compares the verdicts with jsonschema's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

__all__ = ["ANNOTATIONS", "KEYWORDS", "SchemaChecker", "short"]

KEYWORDS = frozenset(
    {
        "$ref",
        "allOf",
        "anyOf",
        "oneOf",
        "if",
        "then",
        "else",
        "const",
        "enum",
        "type",
        "items",
        "properties",
        "required",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "format",
    }
)
ANNOTATIONS = frozenset(
    {"description", "title", "default", "readOnly", "writeOnly", "examples", "deprecated"}
)

_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$", re.ASCII)
_INT32 = (-(2**31), 2**31 - 1)


def short(value: Any) -> str:
    """A value for a one-line message: its repr, at most 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    if name == "number":
        return True
    return name == "integer" and value == int(value)  # JSON Schema: 2.0 is an integer


def _format_problem(fmt: str, value: Any) -> str | None:
    if fmt == "int32" and _is_type(value, "integer") and not _INT32[0] <= value <= _INT32[1]:
        return f"{short(value)} is not a 32-bit integer"
    if fmt == "date-time" and isinstance(value, str) and not _DATE_TIME.match(value):
        return f"{short(value)} is not an RFC 3339 date-time"
    if fmt == "uuid" and isinstance(value, str) and not _UUID.match(value):
        return f"{short(value)} is not a UUID"
    return None


Problems = list[tuple[str, str]]


class SchemaChecker:
    """``problems(schema, value)``: (where, what) pairs; none means the value is valid."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document

    def resolve(self, node: Any) -> Any:
        """Follow local ``$ref`` chains (``#/components/...``)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            target: Any = self._document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node, seen = target, seen + 1
        return node

    def problems(self, schema: Any, value: Any, where: str = "$") -> Problems:
        if schema is True or schema is None:
            return []
        if schema is False:
            return [(where, "no value is allowed here")]
        found: Problems = []
        if "$ref" in schema:
            found += self.problems(self.resolve(schema), value, where)
        for check in _CHECKS:
            found += check(self, schema, value, where)
        return found

    def valid(self, schema: Any, value: Any) -> bool:
        return not self.problems(schema, value)


def _combinators(c: SchemaChecker, s: Mapping[str, Any], v: Any, where: str) -> Problems:
    found: Problems = []
    for sub in s.get("allOf", ()):
        found += c.problems(sub, v, where)
    if "anyOf" in s and not any(c.valid(sub, v) for sub in s["anyOf"]):
        found.append((where, f"{short(v)} matches none of the {len(s['anyOf'])} alternatives"))
    if "oneOf" in s:
        matching = sum(c.valid(sub, v) for sub in s["oneOf"])
        if matching != 1:
            how = "none" if matching == 0 else "more than one"
            found.append((where, f"{short(v)} matches {how} of the {len(s['oneOf'])} forms"))
    if "if" in s:
        branch = s.get("then") if c.valid(s["if"], v) else s.get("else")
        if branch is not None:
            found += c.problems(branch, v, where)
    return found


def _value(c: SchemaChecker, s: Mapping[str, Any], v: Any, where: str) -> Problems:
    if "const" in s and not (v == s["const"] and type(v) is type(s["const"])):
        return [(where, f"{short(v)} is not {short(s['const'])}")]
    if "enum" in s and not any(
        v == e and isinstance(v, bool) == isinstance(e, bool) for e in s["enum"]
    ):
        return [(where, f"{short(v)} is not one of {short(s['enum'])}")]
    if "type" in s:
        names = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(_is_type(v, name) for name in names):
            return [(where, f"{short(v)} is not of type {' or '.join(names)}")]
    problem = _format_problem(s["format"], v) if "format" in s else None
    return [(where, problem)] if problem else []


def _bounds(c: SchemaChecker, s: Mapping[str, Any], v: Any, where: str) -> Problems:
    found: Problems = []
    if _is_type(v, "number"):
        if "minimum" in s and v < s["minimum"]:
            found.append((where, f"{short(v)} is less than the minimum {s['minimum']}"))
        if "maximum" in s and v > s["maximum"]:
            found.append((where, f"{short(v)} is more than the maximum {s['maximum']}"))
        if "exclusiveMinimum" in s and v <= s["exclusiveMinimum"]:
            found.append((where, f"{short(v)} is not above {s['exclusiveMinimum']}"))
        if "exclusiveMaximum" in s and v >= s["exclusiveMaximum"]:
            found.append((where, f"{short(v)} is not below {s['exclusiveMaximum']}"))
    if isinstance(v, str):
        if len(v) < s.get("minLength", 0):
            found.append((where, f"{short(v)} is shorter than {s['minLength']} characters"))
        if "maxLength" in s and len(v) > s["maxLength"]:
            found.append((where, f"{short(v)} is longer than {s['maxLength']} characters"))
    if isinstance(v, list):
        if len(v) < s.get("minItems", 0):
            found.append((where, f"has {len(v)} items, fewer than {s['minItems']}"))
        if "maxItems" in s and len(v) > s["maxItems"]:
            found.append((where, f"has {len(v)} items, more than {s['maxItems']}"))
    return found


def _containers(c: SchemaChecker, s: Mapping[str, Any], v: Any, where: str) -> Problems:
    found: Problems = []
    if isinstance(v, list) and "items" in s:
        for i, item in enumerate(v):
            found += c.problems(s["items"], item, f"{where}[{i}]")
    if isinstance(v, dict):
        found += [
            (where, f"lacks the required property {n!r}")
            for n in s.get("required", ())
            if n not in v
        ]
        for name, sub in s.get("properties", {}).items():
            if name in v:
                found += c.problems(sub, v[name], f"{where}.{name}")
    return found


_CHECKS: tuple[Callable[[SchemaChecker, Mapping[str, Any], Any, str], Problems], ...] = (
    _combinators,
    _value,
    _bounds,
    _containers,
)
