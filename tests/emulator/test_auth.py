"""Authentication: Basic, password and refresh grants, expiry, 401s and per-entity roles."""

from __future__ import annotations

import asyncio

import aiohttp

from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorServer,
    ThrottleLimits,
    run_emulator,
)

from .conftest import CTP, PTP, TOKEN, Api, basic, coworker_pass


async def login(api: Api) -> dict[str, object]:
    reply = await api.token(
        grant_type="password", username=DEFAULT_ADMIN_EMAIL, password=DEFAULT_ADMIN_PASSWORD
    )
    assert reply.status == 200, reply.body
    return dict(reply.json)


async def test_password_grant_answers_a_bearer_token(api: Api) -> None:
    token = await login(api)
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 604799
    assert token["access_token"] and token["refresh_token"]
    reply = await api.get(CTP, authorization=f"Bearer {token['access_token']}")
    assert reply.status == 200


async def test_json_token_request_is_unsupported_grant_type(api: Api) -> None:
    reply = await api.request(
        "POST",
        TOKEN,
        json={"grant_type": "password", "username": DEFAULT_ADMIN_EMAIL, "password": "x"},
        authorization=False,
    )
    assert reply.status == 400
    # the live answer, plus what the endpoint wants (issue 22)
    assert reply.json == {
        "error": "unsupported_grant_type",
        "error_description": "/api/token takes a form-encoded body (Content-Type: "
        "application/x-www-form-urlencoded), not application/json: grant_type=password&"
        "username=...&password=... (&totp=...), or grant_type=refresh_token&refresh_token=...",
    }
    reply = await api.token(grant_type="client_credentials")
    assert reply.status == 400 and reply.json["error"] == "unsupported_grant_type"


async def test_wrong_password_is_401(api: Api) -> None:
    reply = await api.token(grant_type="password", username=DEFAULT_ADMIN_EMAIL, password="nope")
    assert reply.status == 401
    assert reply.json["error"] == "invalid_grant"
    reply = await api.token(grant_type="password", username="who@example.com", password="x")
    assert reply.status == 401


async def test_refresh_tokens_rotate(api: Api) -> None:
    first = await login(api)
    reply = await api.token(grant_type="refresh_token", refresh_token=str(first["refresh_token"]))
    assert reply.status == 200
    second = reply.json
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    # the used refresh token is spent
    reply = await api.token(grant_type="refresh_token", refresh_token=str(first["refresh_token"]))
    assert reply.status == 401
    reply = await api.get(CTP, authorization=f"Bearer {second['access_token']}")
    assert reply.status == 200


async def test_two_factor_users_need_totp(api: Api, emu: EmulatorServer) -> None:
    emu.add_user("2fa@example.com", "pw", totp="123456")
    form = {"grant_type": "password", "username": "2fa@example.com", "password": "pw"}
    assert (await api.token(**form)).status == 401
    assert (await api.token(**form, totp="000000")).status == 401
    assert (await api.token(**form, totp="123456")).status == 200


async def test_bad_credentials_are_401(api: Api) -> None:
    for authorization in (
        None,
        "Bearer nonsense",
        basic(password="wrong"),
        basic(email="nobody@example.com"),
        "Basic !!!notbase64",
        "Digest abc",
    ):
        reply = await api.get(CTP, authorization=authorization)
        assert reply.status == 401, authorization
    reply = await api.post(CTP, coworker_pass(), authorization=None)
    assert reply.status == 401


async def test_expired_tokens_are_401_and_refresh_recovers(session: aiohttp.ClientSession) -> None:
    # token_ttl 604799 s scaled by 1e-6: about 0.6 s of real time.
    async with run_emulator(limits=ThrottleLimits.off(), time_scale=1e-6) as emu:
        api = Api(session, emu)
        token = await login(api)
        assert token["expires_in"] == 1  # never below 1 s
        bearer = f"Bearer {token['access_token']}"
        assert (await api.get(CTP, authorization=bearer)).status == 200
        await asyncio.sleep(0.7)
        assert (await api.get(CTP, authorization=bearer)).status == 401
        reply = await api.token(
            grant_type="refresh_token", refresh_token=str(token["refresh_token"])
        )
        assert reply.status == 200
        fresh = f"Bearer {reply.json['access_token']}"
        assert (await api.get(CTP, authorization=fresh)).status == 200


async def test_expire_tokens_control(api: Api, emu: EmulatorServer) -> None:
    token = await login(api)
    bearer = f"Bearer {token['access_token']}"
    assert (await api.get(CTP, authorization=bearer)).status == 200
    emu.expire_tokens()
    assert (await api.get(CTP, authorization=bearer)).status == 401
    # Basic keeps working
    assert (await api.get(CTP)).status == 200


async def test_roles_are_per_entity_and_action(api: Api, emu: EmulatorServer) -> None:
    emu.add_user(
        "clerk@example.com", "pw", roles=["CoworkerTimePass-List", "CoworkerTimePass-Create"]
    )
    clerk = basic("clerk@example.com", "pw")
    assert (await api.get(CTP, authorization=clerk)).status == 200
    assert (await api.get(f"{CTP}/commands", authorization=clerk)).status == 200
    assert (await api.post(CTP, coworker_pass(), authorization=clerk)).status == 200
    assert (await api.get(f"{CTP}/1", authorization=clerk)).status == 401  # needs -Read
    assert (await api.put(CTP, coworker_pass(Id=1), authorization=clerk)).status == 401
    assert (await api.delete(f"{CTP}/1", authorization=clerk)).status == 401
    runcommand = {"Key": "MARK_AS_USED", "Ids": [1]}
    assert (await api.post(f"{CTP}/runcommand", runcommand, authorization=clerk)).status == 401
    assert (await api.get(PTP, authorization=clerk)).status == 401  # other entity
    assert emu.store.count("coworkertimepasses") == 1
    # the same user through a bearer token has the same roles
    reply = await api.token(grant_type="password", username="clerk@example.com", password="pw")
    bearer = f"Bearer {reply.json['access_token']}"
    assert (await api.get(f"{CTP}/1", authorization=bearer)).status == 401
    assert (await api.get(CTP, authorization=bearer)).status == 200
