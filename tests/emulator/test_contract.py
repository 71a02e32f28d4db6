"""The drift check's pieces: the small schema checker agrees with jsonschema on the API
document, knows every keyword the document uses, and the redaction takes out what it must."""

from __future__ import annotations

import base64
import itertools
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from nexudus_async.testing.cassette import REDACTED, Redactor
from nexudus_async.testing.contract import Contract
from nexudus_async.testing.documents import api_document
from nexudus_async.testing.schema_check import ANNOTATIONS, KEYWORDS, SchemaChecker

DOCUMENT = api_document()
CHECKER = SchemaChecker(DOCUMENT)


def schema_keys(node: Any) -> set[str]:
    """Every key used as a keyword in the document's schemas."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key == "properties":
                for sub in value.values():
                    found |= schema_keys(sub)
            elif key in ("items", "if", "then", "else", "not", "additionalProperties"):
                found |= schema_keys(value)
            elif key in ("allOf", "anyOf", "oneOf"):
                for sub in value:
                    found |= schema_keys(sub)
    return found


def every_schema(node: Any) -> list[Any]:
    out = []
    if isinstance(node, dict):
        if isinstance(node.get("schema"), dict):
            out.append(node["schema"])
        for value in node.values():
            out += every_schema(value)
    elif isinstance(node, list):
        for value in node:
            out += every_schema(value)
    return out


def test_the_checker_knows_every_keyword_the_document_uses() -> None:
    used: set[str] = set()
    for schema in [*DOCUMENT["components"]["schemas"].values(), *every_schema(DOCUMENT["paths"])]:
        used |= schema_keys(schema)
    unknown = {k for k in used if not k.startswith("x-")} - KEYWORDS - ANNOTATIONS
    # Keys with a space are YAML artefacts of descriptions with a comma in a flow
    # mapping ({description: 1 ascending, 2 descending.}): no keyword, nothing to check.
    assert {k for k in unknown if " " not in k} == set()


_INT32 = (-(2**31), 2**31 - 1)
FORMATS = FormatChecker()


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or isinstance(value, bool) or _INT32[0] <= value <= _INT32[1]


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    pattern = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
    return not isinstance(value, str) or re.fullmatch(pattern, value, re.ASCII) is not None


@FORMATS.checks("uuid")
def _uuid(value: object) -> bool:
    hexes = r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
    return not isinstance(value, str) or re.fullmatch(hexes, value, re.ASCII) is not None


RECORD = {
    "Id": 7,
    "CoworkerId": 42,
    "BusinessId": 1,
    "TimePassId": 2,
    "ProductId": 3,
    "TariffId": 4,
    "Price": Decimal("12.50"),
    "PassesIncluded": 3,
    "ExpirationType": 2,
    "PassRenewalTime": 1,
    "Name": "Day pass",
    "ExpireDate": "2025-01-15T10:30:00Z",
    "UniqueId": "78cdab59-d42b-4e3c-baf8-01006c3703cc",
    "Used": False,
    "CreateMultiple": 2,
    "SystemId": None,
    "CurrencyId": 1,
}
SAMPLES: dict[str, Any] = {
    "ActionResult": {"Status": 200, "Message": "ok", "Value": {"Id": 1}, "WasSuccessful": True},
    "ErrorEnvelope": {"Status": 400, "Message": "x", "Value": None, "WasSuccessful": False},
    "TokenRequest": {"grant_type": "password", "username": "a", "password": "b"},
    "TokenResponse": {"access_token": "a", "token_type": "bearer", "expires_in": 1},
    "RunCommandRequest": {"Key": "MARK_AS_USED", "Ids": [1, 2]},
    "Command": {"Key": "MARK_AS_USED", "Name": "Mark as used", "Order": 1},
    "CommandParameterDescriptor": {"Name": "DateTime", "Type": "DateTime"},
    "CommandParameter": {"Name": "DateTime", "Value": "2025-01-15T10:30:00Z"},
    "ValidationError": {"Message": "is required", "PropertyName": "CoworkerId"},
    "TokenError": {"error": "invalid_grant", "error_description": "no"},
}
ODD_VALUES = [None, "x", "2025-01-15T10:30:00Z", 1.5, -1, 0, 2**31, True, [], {}, "refresh_token"]


def instances(name: str) -> list[Any]:
    """A plausible instance of a component schema, and that instance broken every way."""
    base = SAMPLES.get(name, RECORD)
    if name.endswith("Page") or name == "PageInfo":
        base = {"Records": [RECORD], "TotalItems": 1, "TotalPages": 1, "CurrentPage": 1}
        base["CurrentPageSize"] = 25
    out: list[Any] = [base, [], "x", None, "ascending", 1]
    for key, value in itertools.product(list(base), ODD_VALUES):
        out.append({**base, key: value})
        out.append({k: v for k, v in base.items() if k != key})
    if "Records" in base:
        out += [
            {**base, "Records": [{**RECORD, k: v}]}
            for k, v in itertools.product(RECORD, ODD_VALUES)
        ]
    return out


@pytest.mark.parametrize("name", sorted(DOCUMENT["components"]["schemas"]))
def test_the_checker_agrees_with_jsonschema_on_the_documents_schemas(name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
    reference = Draft202012Validator(schema, format_checker=FORMATS)
    verdicts = []
    for instance in instances(name):
        plain = json.loads(json.dumps(instance, default=float))  # jsonschema: no Decimal
        expected = reference.is_valid(plain)
        assert CHECKER.valid(schema, instance) is expected, (name, instance)
        verdicts.append(expected)
    assert True in verdicts and False in verdicts  # not a vacuous comparison


def test_a_request_and_an_answer_are_checked_against_their_operation() -> None:
    contract = Contract(DOCUMENT)
    ctp = "/api/billing/coworkertimepasses"
    assert (
        contract.check_request(
            "GET", ctp, [("page", "2"), ("CoworkerTimePass_Id", "[1,2]")], None, b""
        )
        == []
    )
    found = contract.check_request("GET", ctp, [("page", "x"), ("size", "0")], None, b"")
    assert [str(m) for m in found] == [
        "request query page: 'x' is not a whole number",
        "request query size: 0 is less than the minimum 1",
    ]
    assert [str(m) for m in contract.check_request("PATCH", ctp, [], None, b"")] == [
        f"request method: PATCH {ctp} is not in the document"
    ]
    assert [str(m) for m in contract.check_request("GET", "/api/nope", [], None, b"")] == [
        "request path: /api/nope is not in the document"
    ]
    form = b"grant_type=password&username=REDACTED"
    assert [
        str(m)
        for m in contract.check_request(
            "POST", "/api/token", [], "application/x-www-form-urlencoded", form
        )
    ] == ["request body $: lacks the required property 'password'"]
    throttled = contract.check_response("GET", ctp, 409, {"Retry-After": "0.5"}, b"")
    assert [str(m) for m in throttled] == [
        "response header Retry-After: '0.5' is not a whole number"
    ]
    assert [str(m) for m in contract.check_response("GET", ctp, 409, {}, b"")] == [
        "response header Retry-After: is required"
    ]
    assert [str(m) for m in contract.check_response("GET", ctp + "/1", 418, {}, b"")] == [
        "response status: 418 is not documented (200, 401, 404, 409, 429, 500)"
    ]
    html = contract.check_response("GET", ctp + "/1", 200, {"Content-Type": "text/html"}, b"<p>")
    assert [str(m) for m in html] == ["response content type: text/html is not application/json"]


def test_redaction_takes_credentials_out_and_keeps_the_rest() -> None:
    r = Redactor()
    password, token = "p@ss w+rd/é", "tok_0123456789abcdef"
    auth = "Basic " + base64.b64encode(f"me@example.com:{password}".encode()).decode()
    headers = r.headers(
        [
            ("Authorization", auth),
            ("Cookie", "a=b; sid=cookie-secret"),
            ("X-Api-Key", "k-123456"),
            ("Accept", "application/json"),
            ("Connection", "keep-alive"),
        ]
    )
    assert headers == (
        ("Authorization", REDACTED),
        ("Cookie", REDACTED),
        ("X-Api-Key", REDACTED),
        ("Accept", "application/json"),
    )
    form = f"grant_type=refresh_token&refresh_token={token}&totp=123456".encode()
    assert r.body(form, "application/x-www-form-urlencoded") == (
        b"grant_type=refresh_token&refresh_token=REDACTED&totp=REDACTED"
    )
    answer = json.dumps(
        {"access_token": token, "token_type": "bearer", "PassesIncluded": 2}
    ).encode()
    assert json.loads(r.body(answer, "application/json")) == {
        "access_token": REDACTED,
        "token_type": "bearer",
        "PassesIncluded": 2,
    }
    assert r.query([("access_token", token), ("page", "2")]) == (
        ("access_token", REDACTED),
        ("page", "2"),
    )
    # seen once, scrubbed everywhere after, in any encoding
    echoed = (
        f"{password} {token} {base64.b64encode(password.encode()).decode()} p%40ss+w%2Brd%2F%C3%A9"
    )
    assert r.scrub(echoed) == " ".join([REDACTED] * 4)
    assert r.scrub("me@example.com bought a day pass") == "me@example.com bought a day pass"
