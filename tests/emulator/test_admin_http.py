"""The admin API, driven over HTTP only against an emulator in its own process.

Every admin operation's effect is checked through the Nexudus API itself,
as a test suite in another language would: nothing here reads the emulator's
Python objects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from openapi_spec_validator import validate

from nexudus_async.testing import EmulatorProcess
from nexudus_async.testing.__main__ import parser
from nexudus_async.testing.admin import OPENAPI_PATH
from nexudus_async.testing.config import FAULT_KINDS, FaultKind

from .admin_http import CTP, PTP, Answer, basic, bearer, call, coworker_pass
from .spec import SPEC_PATH

OOOPS = {
    "Status": 500,
    "Message": "Ooops! There was a problem while running this action",
    "Value": None,
    "WasSuccessful": False,
    "Errors": None,
}
DENIED = {"Message": "Authorization has been denied for this request."}
LIMITS_OFF = {
    "enabled": False,
    "min_interval": 0.1,
    "per_minute": 120,
    "per_hour": 5000,
    "per_day": 200000,
    "writes_per_minute": 60,
    "writes_per_day": 5000,
}
JOURNAL_KEYS = ("seq", "time", "method", "path", "query", "operation", "status")
EMPTY_STATS = {
    "requests": 0,
    "by_status": {},
    "throttled": 0,
    "writes": 0,
    "by_route": {},
    "faults": {},
    "by_operation": {},
    "throttled_by": {},
    "executed": {},
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess("--no-throttle") as process:
        yield process


class Http:
    """The emulator at one URL: ``admin(...)`` for /_emulator/, ``api(...)`` as the admin user."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.raw = partial(call, url)

    def admin(self, method: str, path: str, body: Any = None, **kw: Any) -> Answer:
        return call(self.url, method, "/_emulator" + path, body, **kw)

    def api(self, method: str, path: str, body: Any = None, **kw: Any) -> Answer:
        kw.setdefault("authorization", basic())
        return call(self.url, method, path, body, **kw)


@pytest.fixture
def http(emulator: EmulatorProcess) -> Http:
    h = Http(emulator.url)
    assert h.admin("POST", "/reset").status == 204  # every test starts from the start
    return h


def test_health_and_the_served_document_is_the_repository_one(http: Http) -> None:
    health = http.admin("GET", "/health")
    assert (health.status, health.json) == (200, {"status": "ok"})
    doc = http.admin("GET", "/openapi.json")
    assert doc.status == 200
    assert doc.headers["Content-Type"].startswith("application/json")
    stored = json.loads(OPENAPI_PATH.read_text())
    # servers: the address the request came to, whatever the port (issue 22)
    assert doc.json["servers"] == [
        {"url": http.url, "description": "This emulator, as the request reached it."}
    ]
    assert {**doc.json, "servers": stored["servers"]} == stored
    validate(doc.json)  # a valid OpenAPI 3.1 document
    assert doc.json["openapi"].startswith("3.1")
    assert all(path.startswith("/_emulator/") for path in doc.json["paths"])


def test_the_emulated_apis_own_document_is_served_with_this_address(http: Http) -> None:
    doc = http.admin("GET", "/api-openapi.json")
    assert doc.status == 200 and doc.headers["Content-Type"].startswith("application/json")
    assert doc.json["servers"] == [
        {"url": http.url, "description": "This emulator, as the request reached it."}
    ]
    project = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert {**doc.json, "servers": project["servers"]} == project
    validate(doc.json)
    # asked at another spelling of the address, it names that one
    # asked with another Host (a name, a forwarded port), it names that one
    other = call(http.url, "GET", "/_emulator/api-openapi.json", host="localhost:9")
    assert other.json["servers"][0]["url"] == "http://localhost:9"


def test_faults_say_how_many_times_they_have_left_to_fire(http: Http) -> None:
    rules = [
        {"kind": "error500", "method": "POST", "path": CTP, "times": 2},
        {"kind": "latency", "method": "GET", "path": CTP, "latency": 0.0},
    ]
    answer = http.admin("PUT", "/faults", rules)
    assert [(r["fired"], r["remaining"]) for r in answer.json] == [(0, 2), (0, None)]
    assert http.api("POST", CTP, coworker_pass()).status == 500
    assert http.api("GET", CTP).status == 200
    assert [(r["fired"], r["remaining"]) for r in http.admin("GET", "/faults").json] == [
        (1, 1),
        (1, None),
    ]
    assert http.api("POST", CTP, coworker_pass()).status == 500
    assert http.api("POST", CTP, coworker_pass()).status == 200  # spent
    assert [(r["fired"], r["remaining"]) for r in http.admin("GET", "/faults").json] == [
        (2, 0),
        (1, None),
    ]


def test_admin_requests_are_not_api_requests(http: Http) -> None:
    for path in ("/health", "/stats", "/journal", "/faults", "/limits", "/records", "/users"):
        assert http.admin("GET", path).status == 200
    missing = http.admin("GET", "/nope")
    assert (missing.status, missing.json) == (
        404,
        {"error": "not_found", "message": "The admin API has no /_emulator/nope."},
    )
    wrong = http.admin("PATCH", "/faults")
    assert wrong.status == 405 and wrong.headers["Allow"] == "DELETE, GET, PUT"
    assert wrong.json == {"error": "method_not_allowed", "message": "PATCH is not allowed here."}
    # none of that counted, throttled or journaled as API traffic
    assert http.admin("GET", "/stats").json == EMPTY_STATS
    assert http.admin("GET", "/journal").json == {"entries": []}


def test_a_fault_set_over_http_makes_the_next_create_answer_as_configured(http: Http) -> None:
    rule = {"kind": "error500", "method": "POST", "path": CTP, "times": 1}
    answer = http.admin("PUT", "/faults", [rule])
    expected = [{**rule, "probability": 1.0, "latency": 0.05, "fired": 0, "remaining": 1}]
    assert (answer.status, answer.json) == (200, expected)
    assert http.admin("GET", "/faults").json == expected

    failed = http.api("POST", CTP, coworker_pass())
    assert (failed.status, failed.json) == (500, OOOPS)
    assert http.admin("GET", "/records").json["coworkertimepasses"] == 0  # not executed
    created = http.api("POST", CTP, coworker_pass())  # times=1: spent
    assert created.status == 200 and created.json["Value"] == {"Id": 1}

    # drop_after: executed, then the connection closes without an answer
    http.admin("PUT", "/faults", [{"kind": "drop_after", "method": "POST"}])
    with pytest.raises(OSError):
        http.api("POST", CTP, coworker_pass(CoworkerId=43))
    assert [r["CoworkerId"] for r in http.admin("GET", "/records/coworkertimepasses").json] == [
        42,
        43,
    ]
    cleared = http.admin("DELETE", "/faults")
    assert (cleared.status, cleared.body) == (204, b"")
    assert http.admin("GET", "/faults").json == []
    assert http.api("POST", CTP, coworker_pass()).status == 200

    stats = http.admin("GET", "/stats").json
    assert stats["faults"] == {"error500": 1, "drop_after": 1}
    assert stats["by_operation"] == {
        "POST /api/billing/coworkertimepasses": {"500": 1, "200": 2, "dropped": 1}
    }
    assert stats["executed"] == {"POST /api/billing/coworkertimepasses": 3}  # POSTs executed


def test_the_document_and_the_cli_list_every_fault_kind() -> None:
    schemas = json.loads(OPENAPI_PATH.read_text())["components"]["schemas"]
    for name in ("FaultRuleInput", "FaultRule"):
        assert schemas[name]["properties"]["kind"]["enum"] == list(FAULT_KINDS), name
    assert get_args(FaultKind) == FAULT_KINDS
    help_text = parser().format_help()
    assert all(kind in help_text for kind in FAULT_KINDS)
    args = parser().parse_args(["--fault", "ids_array,GET", "--fault", "error500_after,PUT"])
    assert [(r.kind, r.method) for r in args.fault] == [
        ("ids_array", "GET"),
        ("error500_after", "PUT"),
    ]


NEW_KINDS = (
    "validation500",
    "server_message500",
    "error500_after",
    "not_found_string",
    "ids_array",
    "unknown_enum",
)


def test_the_newer_fault_kinds_can_be_set_over_http_and_fire(http: Http) -> None:
    rules = [{"kind": kind, "method": "PATCH", "path": CTP} for kind in NEW_KINDS]
    answer = http.admin("PUT", "/faults", rules)
    assert answer.status == 200
    assert [r["kind"] for r in answer.json] == list(NEW_KINDS)
    assert http.admin("GET", "/faults").json == answer.json

    assert http.api("POST", CTP, coworker_pass(Notes="first")).status == 200
    http.admin("PUT", "/faults", [{"kind": "error500_after", "method": "PUT"}])
    failed = http.api("PUT", CTP, coworker_pass(Id=1, Notes="second"))
    assert (failed.status, failed.json) == (500, OOOPS)
    assert http.admin("GET", "/records/coworkertimepasses/1").json["Notes"] == "second"

    http.admin("PUT", "/faults", [{"kind": "not_found_string", "method": "GET"}])
    missing = http.api("GET", f"{CTP}/1")
    assert (missing.status, missing.body) == (404, b'"Not found"')

    http.admin("PUT", "/faults", [{"kind": "ids_array", "method": "GET", "path": CTP}])
    listed = http.api("GET", f"{CTP}?CoworkerTimePass_Id=%5B1%5D")
    assert listed.status == 200 and [r["Id"] for r in listed.json] == [1]
    assert http.admin("GET", "/stats").json["faults"] == {
        "error500_after": 1,
        "not_found_string": 1,
        "ids_array": 1,
    }
    refused = http.admin("PUT", "/faults", [{"kind": "error501"}])
    assert refused.status == 400
    assert refused.json["message"].startswith("body[0].kind: must be one of latency, ")
    assert refused.json["message"].endswith(", ".join(NEW_KINDS) + ".")


def test_reset_empties_the_store_and_undoes_every_change(http: Http) -> None:
    assert http.api("POST", CTP, coworker_pass(CreateMultiple=3)).status == 200
    http.admin("POST", "/users", {"email": "x@example.com", "password": "pw"})
    http.admin("PUT", "/faults", [{"kind": "error500", "method": "GET", "path": PTP}])
    http.admin("PUT", "/limits", {"per_minute": 5})
    http.admin("PUT", "/time-scale", {"time_scale": 2})
    assert http.admin("GET", "/records").json["coworkertimepasses"] == 3

    reset = http.admin("POST", "/reset")
    assert (reset.status, reset.body) == (204, b"")
    assert http.admin("GET", "/records").json == {
        "coworkertimepasses": 0,
        "producttimepasses": 0,
        "tarifftimepasses": 0,
        "timepasses": 5,  # the seeded definitions
    }
    assert http.api("GET", CTP).json["TotalItems"] == 0
    assert http.api("GET", PTP).status == 200  # the fault is gone
    assert http.api("GET", CTP, authorization=basic("x@example.com", "pw")).status == 401
    assert http.admin("GET", "/faults").json == []
    assert http.admin("GET", "/limits").json == LIMITS_OFF  # as started: --no-throttle
    assert http.admin("GET", "/time-scale").json == {"time_scale": 1.0}
    assert http.api("POST", CTP, coworker_pass()).json["Value"] == {"Id": 1}  # ids restart
    http.admin("POST", "/reset")
    assert http.admin("GET", "/stats").json == EMPTY_STATS
    assert http.admin("GET", "/journal").json == {"entries": []}


def test_stats_count_exactly_what_the_test_sent(http: Http) -> None:
    for _ in range(3):
        assert http.api("GET", CTP).status == 200
    assert http.api("POST", CTP, coworker_pass()).status == 200
    assert http.api("POST", CTP, {}).status == 400
    assert http.api("GET", CTP, authorization="Basic bm9ib2R5Om5v").status == 401
    assert http.api("GET", "/api/billing/nothing").status == 404
    stats = http.admin("GET", "/stats")
    assert stats.status == 200
    assert stats.json == {
        "requests": 7,
        "by_status": {"200": 4, "400": 1, "401": 1, "404": 1},
        "throttled": 0,
        "writes": 1,
        "by_route": {
            "GET /api/billing/coworkertimepasses": 4,
            "POST /api/billing/coworkertimepasses": 2,
        },
        "faults": {},
        "by_operation": {
            "GET /api/billing/coworkertimepasses": {"200": 3, "401": 1},
            "POST /api/billing/coworkertimepasses": {"200": 1, "400": 1},
        },
        "throttled_by": {},
        "executed": {"POST /api/billing/coworkertimepasses": 1},
    }


def test_the_journal_lists_recent_requests_and_never_credentials(http: Http) -> None:
    grant = http.raw(
        "POST",
        "/api/token",
        form={"grant_type": "password", "username": "admin@example.com", "password": "pw-x"},
    )
    assert grant.status == 401
    token = http.raw(
        "POST",
        "/api/token",
        form={
            "grant_type": "password",
            "username": "admin@example.com",
            "password": "demo-password",
        },
    ).json["access_token"]
    assert http.api("GET", CTP + "?page=2&size=5", authorization=bearer(token)).status == 200
    assert http.api("GET", CTP + "?access_token=" + token + "&size=1").status == 200
    assert http.api("DELETE", CTP + "/9").status == 404

    entries = http.admin("GET", "/journal").json["entries"]
    assert all(sorted(e) == sorted(JOURNAL_KEYS) for e in entries)
    assert all(isinstance(e["time"], str) for e in entries)
    op = "GET /api/billing/coworkertimepasses"
    token_op = "POST /api/token"
    assert [tuple(e[k] for k in JOURNAL_KEYS if k != "time") for e in entries] == [
        (1, "POST", "/api/token", "", token_op, 401),
        (2, "POST", "/api/token", "", token_op, 200),
        (3, "GET", CTP, "page=2&size=5", op, 200),
        (4, "GET", CTP, "access_token=REDACTED&size=1", op, 200),
        (5, "DELETE", CTP + "/9", "", "DELETE /api/billing/coworkertimepasses/{Id}", 404),
    ]
    text = http.admin("GET", "/journal").body.decode()
    for secret in (token, "demo-password", "pw-x", basic().split()[1], "Basic", "Bearer"):
        assert secret not in text
    latest = http.admin("GET", "/journal?limit=2").json["entries"]
    assert [e["seq"] for e in latest] == [4, 5]
    bad = http.admin("GET", "/journal?limit=0")
    assert (bad.status, bad.json["error"]) == (400, "bad_request")


def test_a_seeded_record_is_what_the_api_returns(http: Http) -> None:
    record = {"Id": 77, "CoworkerId": 42, "BusinessId": 1, "TimePassId": 3, "Used": True}
    seeded = http.admin("POST", "/records/coworkertimepasses", record)
    assert seeded.status == 201
    [stored] = seeded.json
    assert {k: stored[k] for k in record} == record
    got = http.api("GET", f"{CTP}/77")
    assert (got.status, got.json) == (200, stored)
    assert http.admin("GET", "/records/coworkertimepasses/77").json == stored
    assert http.admin("GET", "/records/coworkertimepasses").json == [stored]
    # the next created record continues after the seeded Id
    assert http.api("POST", CTP, coworker_pass()).json["Value"] == {"Id": 78}

    passes = [{"ProductId": 1, "PassesIncluded": 10}, {"ProductId": 2, "PassesIncluded": 5}]
    many = http.admin("POST", "/records", {"producttimepasses": passes})
    assert many.status == 201
    assert [(r["Id"], r["PassesIncluded"]) for r in many.json["producttimepasses"]] == [
        (1, 10),
        (2, 5),
    ]
    assert http.api("GET", PTP).json["TotalItems"] == 2
    assert http.admin("GET", "/records").json == {
        "coworkertimepasses": 2,
        "producttimepasses": 2,
        "tarifftimepasses": 0,
        "timepasses": 5,  # the seeded definitions
    }

    bad = http.admin("POST", "/records/coworkertimepasses", [{"CoworkerId": 1}, {"Used": "yes"}])
    assert (bad.status, bad.json) == (
        400,
        {"error": "bad_request", "message": 'body[1].Used: must be true or false: "yes".'},
    )
    unknown = http.admin("POST", "/records/coworkertimepasses", {"Colour": "red"})
    assert unknown.json["message"] == "body.Colour: CoworkerTimePass has no such field."
    assert http.admin("GET", "/records").json["coworkertimepasses"] == 2  # all or nothing
    assert http.admin("GET", "/records/invoices").status == 404
    assert http.admin("GET", "/records/coworkertimepasses/5").json == {
        "error": "not_found",
        "message": "CoworkerTimePass 5 is not in the store.",
    }
    assert http.admin("POST", "/records/coworkertimepasses", b"{").json == {
        "error": "bad_request",
        "message": "The body is not valid JSON.",
    }
    huge = http.admin("POST", "/records/coworkertimepasses", [{"Notes": "x" * 1024**2}])
    assert (huge.status, huge.json) == (
        413,
        {"error": "too_large", "message": "The body is larger than 1048576 bytes."},
    )


def test_seeds_may_hold_undocumented_enum_values_the_live_service_stores(http: Http) -> None:
    record = {"ProductId": 1, "TimePassId": 1, "PassesIncluded": 1, "ExpirationType": 0}
    seeded = http.admin("POST", "/records/producttimepasses", record)
    assert seeded.status == 201 and seeded.json[0]["ExpirationType"] == 0
    assert http.api("GET", f"{PTP}/1").json["ExpirationType"] == 0
    for bad in ("0", 2**31, 1.5, True):
        refused = http.admin(
            "POST", "/records/producttimepasses", {**record, "ExpirationType": bad}
        )
        assert refused.status == 400, bad
        assert refused.json["message"].startswith("body.ExpirationType: "), bad


def test_an_added_user_with_a_role_can_list_but_not_create(http: Http) -> None:
    body = {"email": "reader@example.com", "password": "pw", "roles": ["CoworkerTimePass-List"]}
    added = http.admin("POST", "/users", body)
    assert (added.status, added.json) == (
        201,
        {"email": "reader@example.com", "roles": ["CoworkerTimePass-List"], "totp": False},
    )
    reader = basic("reader@example.com", "pw")
    assert http.api("GET", CTP, authorization=reader).status == 200
    refused = http.api("POST", CTP, coworker_pass(), authorization=reader)
    assert (refused.status, refused.json) == (401, DENIED)
    assert http.admin("GET", "/records").json["coworkertimepasses"] == 0
    users = http.admin("GET", "/users")
    assert users.json == [
        {"email": "admin@example.com", "roles": ["Administrator"], "totp": False},
        {"email": "reader@example.com", "roles": ["CoworkerTimePass-List"], "totp": False},
    ]
    assert b"pw" not in users.body and b"demo-password" not in users.body
    missing = http.admin("POST", "/users", {"email": "a@b.c"})
    assert missing.json == {"error": "bad_request", "message": "body.password: is required."}


def test_expired_tokens_answer_401_and_refresh_still_works(http: Http) -> None:
    form = {"grant_type": "password", "username": "admin@example.com", "password": "demo-password"}
    grant = http.raw("POST", "/api/token", form=form).json
    assert http.api("GET", CTP, authorization=bearer(grant["access_token"])).status == 200
    expired = http.admin("POST", "/tokens/expire")
    assert (expired.status, expired.body) == (204, b"")
    answer = http.api("GET", CTP, authorization=bearer(grant["access_token"]))
    assert (answer.status, answer.json) == (401, DENIED)
    refresh = {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    fresh = http.raw("POST", "/api/token", form=refresh).json["access_token"]
    assert http.api("GET", CTP, authorization=bearer(fresh)).status == 200


def test_limits_and_time_scale_change_throttling(http: Http) -> None:
    limits = {
        "min_interval": None,
        "per_minute": 2,
        "per_hour": None,
        "per_day": None,
        "writes_per_minute": None,
        "writes_per_day": None,
    }
    answer = http.admin("PUT", "/limits", limits)
    assert (answer.status, answer.json) == (200, {"enabled": True, **limits})
    assert http.api("GET", CTP).status == 200
    assert http.api("GET", CTP).status == 200
    throttled = http.api("GET", CTP)  # the third in a minute
    assert throttled.status == 409
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60  # whole seconds at scale 1

    scaled = http.admin("PUT", "/time-scale", {"time_scale": 1000})
    assert (scaled.status, scaled.json) == (200, {"time_scale": 1000.0})
    slower = http.api("GET", CTP)  # the window is now 1000 minutes long
    assert slower.status == 409 and int(slower.headers["Retry-After"]) > 3600

    assert http.admin("PUT", "/limits", {"enabled": False}).json["enabled"] is False
    assert http.api("GET", CTP).status == 200
    stats = http.admin("GET", "/stats").json
    assert (stats["throttled"], stats["throttled_by"]) == (2, {"per_minute": 2})
    assert stats["by_status"] == {"200": 3, "409": 2}

    bad = http.admin("PUT", "/time-scale", {"time_scale": 0})
    assert bad.json == {
        "error": "bad_request",
        "message": "body.time_scale: must be a number above 0 to 1000.",
    }
    assert http.admin("PUT", "/limits", {"per_minute": -1}).status == 400
    assert http.admin("PUT", "/limits", {"per_second": 1}).status == 400


def test_seed_file_records_are_there_at_start_and_after_every_reset(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    records = [{"Id": 5, "CoworkerId": 42, "BusinessId": 1, "TimePassId": 2, "Notes": "seeded"}]
    seed.write_text(json.dumps({"coworkertimepasses": records}))
    with EmulatorProcess("--no-throttle", "--seed-file", str(seed)) as process:
        http = Http(process.url)
        assert http.api("GET", f"{CTP}/5").json["Notes"] == "seeded"
        assert http.api("POST", CTP, coworker_pass()).json["Value"] == {"Id": 6}
        assert http.admin("POST", "/reset").status == 204
        assert [r["Id"] for r in http.admin("GET", "/records/coworkertimepasses").json] == [5]


def test_with_an_admin_token_only_the_token_opens_the_admin_api() -> None:
    env = {**os.environ, "NEXUDUS_EMULATOR_ADMIN_TOKEN": "s3cret-admin"}
    with EmulatorProcess("--no-throttle", env=env) as process:
        http = Http(process.url)
        refused = http.admin("GET", "/stats")
        assert refused.status == 401
        assert refused.json == {
            "error": "unauthorized",
            "message": "The emulator admin API needs the admin token given at start-up: "
            "Authorization: Bearer <admin token>.",
        }
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = {
            "error": "unauthorized",
            "message": "The admin token is wrong (API credentials are not accepted here).",
        }
        for credential in (basic(), bearer("s3cret"), "s3cret-admin"):
            answer = http.admin("POST", "/reset", authorization=credential)
            assert (answer.status, answer.json) == (401, wrong)
        ok = http.admin("GET", "/stats", authorization=bearer("s3cret-admin"))
        assert ok.status == 200
        # open: readiness probes and the document
        assert http.admin("GET", "/health").status == 200
        assert http.admin("GET", "/openapi.json").status == 200
        # and the admin token is no API credential
        assert http.api("GET", CTP, authorization=bearer("s3cret-admin")).status == 401


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nexudus_async.testing", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )


def test_the_cli_refuses_bad_input_in_one_line_with_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NEXUDUS_EMULATOR_ADMIN_TOKEN"}
    bad_value = tmp_path / "bad-value.json"
    bad_value.write_text('{"coworkertimepasses": [{"CoworkerId": 1}, {"CoworkerId": "x"}]}')
    bad_json = tmp_path / "bad-json.json"
    bad_json.write_text('{"coworkertimepasses": [\n  {"CoworkerId": 1},\n]}\n')
    prog = "python -m nexudus_async.testing: error: "
    # The standard library's own words for the mistake (they changed in 3.13).
    with pytest.raises(json.JSONDecodeError) as why:
        json.loads(bad_json.read_text())
    where = f"line {why.value.lineno} column {why.value.colno}: {why.value.msg}"
    cases = {
        ("--host", "0.0.0.0"): "--host 0.0.0.0: the admin API of an emulator others can reach "
        "needs a token: give --admin-token (or $NEXUDUS_EMULATOR_ADMIN_TOKEN)",
        ("--seed-file", str(bad_value)): f"--seed-file {bad_value}: "
        'coworkertimepasses[1].CoworkerId: must be a whole number: "x".',
        ("--seed-file", str(bad_json)): f"--seed-file {bad_json}: {where}",
        ("--port", "70000"): "argument --port: '70000' is not a port number (0 to 65535) "
        "(see --help)",
        ("--time-scale", "0"): "argument --time-scale: '0' is not a positive number (see --help)",
    }
    for args, message in cases.items():
        result = run_cli(*args, env=env)
        assert (result.returncode, result.stdout, result.stderr) == (2, "", prog + message + "\n")


def test_nexudus_async_emulator_has_its_own_prog_and_takes_global_options() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "nexudus_async.cli", "emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert help_text.startswith("usage: nexudus-async emulator ")
    for option in ("--host", "--port", "--seed-file", "--time-scale", "--admin-token", "--fault"):
        assert option in help_text
    # -v before the command: starts, answers, stops on SIGTERM with exit 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "nexudus_async.cli", "-v", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    guard = threading.Timer(20, proc.kill)  # bounds the readline below
    guard.start()
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # flushed at once
        assert first.startswith("Nexudus emulator listening on http://127.0.0.1:"), first
        url = first.split()[-1]
        assert call(url, "GET", "/_emulator/health").json == {"status": "ok"}
    finally:
        guard.cancel()
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when it hangs
            proc.kill()
            _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in err
