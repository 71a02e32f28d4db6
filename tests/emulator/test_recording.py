"""Recording and replay (issue 22), end to end over loopback: the emulator itself as the
"real service" behind the proxy, and an aiohttp stand-in answering the documented
variants and one answer that breaks the document."""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from nexudus_async.testing import EmulatorServer, FaultRule, ThrottleLimits, run_emulator
from nexudus_async.testing.appserver import AppServer
from nexudus_async.testing.cassette import load_cassette
from nexudus_async.testing.proxy import run_proxy
from nexudus_async.testing.replay import run_replay

CTP = "/api/billing/coworkertimepasses"
PTP = "/api/billing/producttimepasses"
EMAIL = "recorder@example.com"
# Characters that URL-encoding and JSON-escaping change, so every encoding is distinct.
PASSWORD = 's3cr+t p&ss=ü/é"'
COOKIE = "session-cookie-value-0123456789"


def basic(email: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def encodings(secret: str) -> set[str]:
    """A secret as a recording could hold it."""
    return {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret, safe=""),
        base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode(),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }


def every_file(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()))


class Client:
    """Raw HTTP to one base URL; every answer as (status, content type, body bytes)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    async def send(self, method: str, path: str, **kw: Any) -> tuple[int, str, bytes]:
        async with self.session.request(method, self.base_url + path, **kw) as response:
            body = await response.read()
            return response.status, response.headers.get("Content-Type", ""), body


@pytest.fixture
async def upstream() -> AsyncIterator[EmulatorServer]:
    async with run_emulator(limits=ThrottleLimits.off()) as emu:
        emu.add_user(EMAIL, PASSWORD)
        yield emu


async def record_a_session(
    client: Client,
) -> tuple[list[tuple[str, str, dict[str, Any]]], dict[str, Any]]:
    """A client's session: tokens, writes, reads; the requests and the secrets it used."""
    form = {"grant_type": "password", "username": EMAIL, "password": PASSWORD}
    status, _, body = await client.send("POST", "/api/token", data=form)
    assert status == 200
    grant = json.loads(body)
    refreshed = await client.send(
        "POST",
        "/api/token",
        data={"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]},
    )
    second = json.loads(refreshed[2])
    bearer = {"Authorization": f"Bearer {second['access_token']}", "Cookie": f"session={COOKIE}"}
    by_basic = {"Authorization": basic(EMAIL, PASSWORD)}
    create = {"CoworkerId": 42, "BusinessId": 1, "TimePassId": 2, "CreateMultiple": 2, "Notes": "é"}
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", CTP + "?page=1&size=5", {"headers": bearer}),
        ("POST", CTP, {"headers": bearer, "json": create}),
        ("GET", CTP + "?page=1&size=5", {"headers": bearer}),  # the same request, a new answer
        ("GET", CTP + "/1", {"headers": by_basic}),
        ("GET", CTP + "/999", {"headers": by_basic}),
        ("GET", CTP + "?CoworkerTimePass_Id=[1,2]&dir=descending", {"headers": by_basic}),
        ("DELETE", CTP + "/2", {"headers": bearer}),
    ]
    secrets = {
        "password": PASSWORD,
        "basic": f"{EMAIL}:{PASSWORD}",
        "cookie": COOKIE,
        **{f"grant {k}": v for k, v in grant.items() if k.endswith("token")},
        **{f"refreshed {k}": v for k, v in second.items() if k.endswith("token")},
    }
    return requests, secrets


async def test_a_recording_holds_no_secret_and_replays_byte_identical_answers(
    upstream: EmulatorServer, tmp_path: Path
) -> None:
    cassette = tmp_path / "cassette"
    drift: list[str] = []
    async with aiohttp.ClientSession() as session:
        async with run_proxy(upstream.base_url, cassette, report=drift.append) as proxy:
            client = Client(session, proxy.base_url)
            requests, secrets = await record_a_session(client)
            proxied = [await client.send(m, path, **kw) for m, path, kw in requests]
        assert [status for status, _, _ in proxied] == [200, 200, 200, 200, 404, 200, 200]
        assert upstream.store.count("coworkertimepasses") == 1  # the proxy forwarded the writes

        # nothing secret on the disk, in any encoding
        text = every_file(cassette)
        for name, secret in secrets.items():
            for encoded in encodings(secret):
                assert encoded not in text, f"the {name} is in the recording as {encoded!r}"
        files = sorted(p.name for p in cassette.iterdir())
        assert files[:3] == [
            "0001-POST-api-token.json",
            "0002-POST-api-token.json",
            "0003-GET-api-billing-coworkertimepasses.json",
        ]
        token_request = json.loads((cassette / files[0]).read_text())["request"]
        assert token_request["body"] == {
            "text": "grant_type=password&username=REDACTED&password=REDACTED"
        }
        headers = dict(json.loads((cassette / files[2]).read_text())["request"]["headers"])
        assert (headers["Authorization"], headers["Cookie"]) == ("REDACTED", "REDACTED")
        # the emulator keeps to its own document: no drift
        assert drift == [] and not (cassette / "drift.json").exists()

        # replay: other credentials, the same answers, byte for byte, in recorded order
        async with run_replay(cassette) as replay:
            client = Client(session, replay.base_url)
            other = {"Authorization": basic("someone@example.com", "other")}
            replayed = [
                await client.send(
                    m, path, headers=other, **{k: v for k, v in kw.items() if k != "headers"}
                )
                for m, path, kw in requests
            ]
            assert replayed == proxied
            status, _, body = await client.send(
                "POST",
                "/api/token",
                data={"grant_type": "password", "username": "x", "password": "y"},
            )
            assert (status, json.loads(body)) == (
                200,
                {
                    "access_token": "REDACTED",
                    "token_type": "bearer",
                    "expires_in": 604799,
                    "refresh_token": "REDACTED",
                },
            )
            again = await client.send("GET", CTP + "?size=5&page=1")  # query in another order
            assert again == proxied[2]  # past the last recording of it: the last answer


async def test_an_unrecorded_request_is_501_naming_it_or_goes_to_the_emulator(
    upstream: EmulatorServer, tmp_path: Path
) -> None:
    cassette = tmp_path / "cassette"
    auth = {"Authorization": basic(EMAIL, PASSWORD)}
    async with aiohttp.ClientSession() as session:
        async with run_proxy(upstream.base_url, cassette, report=lambda line: None) as proxy:
            await Client(session, proxy.base_url).send("GET", CTP + "?page=1", headers=auth)
        async with run_replay(cassette) as replay:
            status, content_type, body = await Client(session, replay.base_url).send(
                "POST", CTP + "?access_token=abcdefgh&page=2", headers=auth, json={"CoworkerId": 1}
            )
            assert (status, content_type) == (501, "application/json; charset=utf-8")
            assert json.loads(body) == {
                "error": "not_recorded",
                "message": f"No recorded answer to POST {CTP}?access_token=REDACTED&page=2 with a "
                f"17-byte body in {cassette} (1 recorded exchange): record it "
                "(--proxy URL --record DIR) or let the emulator answer (--replay-fallthrough).",
            }
        async with run_replay(cassette, fallthrough=True) as replay:
            client = Client(session, replay.base_url)
            status, _, body = await client.send("GET", CTP + "?page=1", headers=auth)
            assert status == 200 and json.loads(body)["TotalItems"] == 0  # recorded
            assert replay.state is not None
            replay.state.store.insert("coworkertimepasses", {"CoworkerId": 7})
            status, _, body = await client.send("GET", CTP + "?page=2&size=1", headers=auth)
            assert status == 401  # not recorded: the stateful emulator, whose users are its own
            admin = {"Authorization": basic("admin@example.com", "demo-password")}
            status, _, body = await client.send("GET", CTP + "?page=1&size=1", headers=admin)
            assert status == 200 and json.loads(body)["TotalItems"] == 1


def stand_in() -> web.Application:
    """The live service's documented variants, and one answer the document forbids."""

    async def list_passes(request: web.Request) -> web.Response:
        # newer pages: get by ids answers a bare array of list records
        return web.json_response([{"Id": 1, "Coworker": 42, "Business": 1, "TimePass": 2}])

    async def one_pass(request: web.Request) -> web.Response:
        return web.json_response("Not found", status=404)  # the older pages' 404

    async def create(request: web.Request) -> web.Response:
        return web.Response(status=429, text="Wait 3 seconds", content_type="text/plain")

    async def product_pass(request: web.Request) -> web.Response:
        record = {"Id": 1, "ProductId": 3, "TimePassId": 2, "PassesIncluded": "lots"}
        return web.json_response(record)

    app = web.Application()
    app.router.add_get(CTP, list_passes)
    app.router.add_get(CTP + "/{Id}", one_pass)
    app.router.add_post(CTP, create)
    app.router.add_get(PTP + "/{Id}", product_pass)
    return app


async def test_drift_is_reported_for_answers_that_break_the_document(tmp_path: Path) -> None:
    cassette = tmp_path / "cassette"
    lines: list[str] = []
    auth = {"Authorization": basic(EMAIL, PASSWORD)}
    body = {"CoworkerId": 42, "BusinessId": 1, "TimePassId": 2, "CreateMultiple": 1}
    async with (
        AppServer(stand_in()) as service,
        aiohttp.ClientSession() as session,
        run_proxy(service.base_url, cassette, report=lines.append) as proxy,
    ):
        client = Client(session, proxy.base_url)
        bare_array = await client.send("GET", CTP + "?CoworkerTimePass_Id=[1]", headers=auth)
        assert bare_array[0] == 200
        throttled = await client.send("POST", CTP, headers=auth, json=body)
        assert throttled == (429, "text/plain; charset=utf-8", b"Wait 3 seconds")
        assert (await client.send("GET", CTP + "/5", headers=auth))[2] == b'"Not found"'
        assert (await client.send("GET", PTP + "/1", headers=auth))[0] == 200
        assert (await client.send("GET", CTP + "?PageNumber=2", headers=auth))[0] == 200
    expected = [
        f"drift: GET {CTP}/5 -> 404: response body $: 'Not found' is not of type object",
        f"drift: GET {PTP}/1 -> 200: response body $.PassesIncluded: 'lots' is not of type integer",
        f"drift: GET {CTP} -> 200: request query PageNumber: is not in the document",
    ]
    assert lines == expected
    report = json.loads((cassette / "drift.json").read_text())
    assert [(d["seq"], d["method"], d["path"], d["status"]) for d in report] == [
        (3, "GET", CTP + "/5", 404),
        (4, "GET", PTP + "/1", 200),
        (5, "GET", CTP, 200),
    ]
    assert report[1]["mismatches"] == [
        {"where": "response body $.PassesIncluded", "problem": "'lots' is not of type integer"}
    ]
    recorded = load_cassette(cassette)
    assert [e.status for e in recorded] == [200, 429, 404, 200, 200]
    assert recorded[1].drift == ()  # 429 "Wait N seconds" and the bare array are documented


CASSETTE = "cassettes/one_pass"  # recorded through the proxy from an emulator


@pytest.mark.nexudus_replay(CASSETTE)
async def test_the_replay_fixture_answers_a_committed_cassette(nexudus_replay: Any) -> None:
    recorded = {e.path: e for e in load_cassette(Path(__file__).parent / CASSETTE)}
    async with aiohttp.ClientSession() as session:
        client = Client(session, nexudus_replay.base_url)
        status, content_type, body = await client.send("GET", CTP + "/1")
        assert (status, body) == (200, recorded[CTP + "/1"].response_body)
        assert json.loads(body)["CoworkerId"] == 42
        assert content_type == "application/json; charset=utf-8"
        assert (await client.send("GET", CTP + "/2"))[0] == 501
    assert nexudus_replay.state is None  # no fallthrough asked


@pytest.mark.nexudus_replay(CASSETTE, fallthrough=True, dir_encoding="zero_one")
async def test_the_replay_fixture_can_fall_through_to_a_configured_emulator(
    nexudus_replay: Any,
) -> None:
    async with aiohttp.ClientSession() as session:
        client = Client(session, nexudus_replay.base_url)
        auth = {"Authorization": basic("admin@example.com", "demo-password")}
        assert (await client.send("GET", CTP + "/1"))[0] == 200  # recorded
        assert (await client.send("GET", CTP + "/2", headers=auth))[0] == 404  # the emulator's
    assert nexudus_replay.state.config.dir_encoding == "zero_one"


async def test_an_upstream_that_does_not_answer_is_a_502_and_not_recorded(
    upstream: EmulatorServer, tmp_path: Path
) -> None:
    upstream.set_faults([FaultRule(kind="drop_before", method="GET")])
    lines: list[str] = []
    async with (
        aiohttp.ClientSession() as session,
        run_proxy(upstream.base_url, tmp_path / "c", report=lines.append) as proxy,
    ):
        auth = {"Authorization": basic(EMAIL, PASSWORD)}
        status, _, body = await Client(session, proxy.base_url).send("GET", CTP, headers=auth)
    assert status == 502
    assert json.loads(body)["error"] == "upstream_failed"
    assert len(lines) == 1 and lines[0].startswith(f"proxy: GET {CTP}: upstream failed: ")
    assert list((tmp_path / "c").iterdir()) == []
