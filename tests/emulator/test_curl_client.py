"""A client that is not Python (curl) drives a standalone emulator from its two documents
alone: every URL comes from ``/_emulator/openapi.json`` or ``/_emulator/api-openapi.json``
(their ``servers`` entry and an operation's path), never from this test's constants."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import attrs
import pytest

from nexudus_async.testing import EmulatorProcess

CURL = shutil.which("curl")
pytestmark = pytest.mark.skipif(
    CURL is None and not os.environ.get("CI"),
    reason="curl is not installed (.ci/run installs it; in CI this test never skips)",
)


@attrs.frozen
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def curl(method: str, url: str, *options: str) -> Answer:
    """One curl call; status, headers (last ones, lower-case names) and body."""
    assert CURL is not None, "curl is required here"
    result = subprocess.run(
        [CURL, "-sS", "-X", method, "-D", "-", "--max-time", "10", *options, url],
        capture_output=True,
        timeout=30,
        check=True,
    )
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return Answer(int(lines[0].split()[1]), headers, body)


class Document:
    """An OpenAPI document fetched with curl: the URL of an operation, by its operationId."""

    def __init__(self, url: str) -> None:
        self.doc = curl("GET", url).json
        self.base = self.doc["servers"][0]["url"]

    def url(self, operation_id: str, **path_params: object) -> tuple[str, str]:
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                if isinstance(op, dict) and op.get("operationId") == operation_id:
                    for name, value in path_params.items():
                        path = path.replace("{" + name + "}", str(value))
                    return method.upper(), self.base + path
        raise AssertionError(f"{operation_id} is not in the document")

    def call(self, operation_id: str, *options: str, **path_params: object) -> Answer:
        method, url = self.url(operation_id, **path_params)
        return curl(method, url, *options)


def test_curl_drives_the_emulator_from_its_documents_alone() -> None:
    with EmulatorProcess("--no-throttle") as emulator:
        admin = Document(emulator.url + "/_emulator/openapi.json")
        assert admin.base == emulator.url  # the address asked at, whatever the port
        api = Document(admin.url("apiOpenapi")[1])
        assert api.base == emulator.url

        json_body = ("-H", "Content-Type: application/json", "--data-binary")
        assert admin.call("reset").status == 204
        user = {"email": "curl@example.com", "password": "curl-pw", "roles": ["Administrator"]}
        assert admin.call("addUser", *json_body, json.dumps(user)).status == 201

        grant = api.call(
            "createToken",
            "--data-urlencode",
            "grant_type=password",
            "--data-urlencode",
            "username=curl@example.com",
            "--data-urlencode",
            "password=curl-pw",
        )
        assert grant.status == 200 and grant.json["token_type"] == "bearer"
        bearer = ("-H", f"Authorization: Bearer {grant.json['access_token']}")
        wrong = api.call("createToken", *json_body, json.dumps({"grant_type": "password"}))
        assert wrong.status == 400 and "form-encoded" in wrong.json["error_description"]

        record = {"CoworkerId": 42, "BusinessId": 1, "TimePassId": 2, "CreateMultiple": 2}
        created = api.call("createCoworkerTimePass", *bearer, *json_body, json.dumps(record))
        assert created.status == 200 and created.json["Value"] == {"Id": 1}
        listed = api.call("listCoworkerTimePasses", *bearer)
        assert [r["Id"] for r in listed.json["Records"]] == [1, 2]
        one = api.call("getCoworkerTimePass", *bearer, Id=2)
        assert (one.status, one.json["CoworkerId"]) == (200, 42)

        rule = [{"kind": "error500", "method": "POST", "times": 1}]
        assert admin.call("setFaults", *json_body, json.dumps(rule)).json[0]["remaining"] == 1
        failed = api.call("createCoworkerTimePass", *bearer, *json_body, json.dumps(record))
        assert failed.status == 500
        assert admin.call("getFaults").json[0]["remaining"] == 0

        limits = {"min_interval": None, "per_minute": 0}  # every API request throttled
        assert admin.call("setLimits", *json_body, json.dumps(limits)).status == 200
        throttled = api.call("listCoworkerTimePasses", *bearer)
        assert throttled.status == 409 and throttled.body == b""
        assert throttled.headers["retry-after"].isdigit()
        assert int(throttled.headers["retry-after"]) >= 1
        assert int(throttled.headers["x-retry-after-ms"]) > 0
