"""``NexudusClient()`` configured from the environment, as the command line is; NEXUDUS_LOG."""

from __future__ import annotations

import asyncio
import sys

import pytest

from nexudus_async import BasicAuth, BearerToken, InputError, NexudusClient, PasswordGrant
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD
from nexudus_async.testing.server import EmulatorServer

VARIABLES = (
    "NEXUDUS_BASE_URL",
    "NEXUDUS_EMAIL",
    "NEXUDUS_PASSWORD",
    "NEXUDUS_TOKEN",
    "NEXUDUS_LOG",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


async def test_no_arguments_read_the_base_url_and_a_password_grant(
    nexudus_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    nexudus_emulator.store.insert(
        "coworkertimepasses", {"CoworkerId": 42, "BusinessId": 1, "TimePassId": 7}
    )
    monkeypatch.setenv("NEXUDUS_BASE_URL", nexudus_emulator.base_url + "/api/")
    monkeypatch.setenv("NEXUDUS_EMAIL", DEFAULT_ADMIN_EMAIL)
    monkeypatch.setenv("NEXUDUS_PASSWORD", DEFAULT_ADMIN_PASSWORD)
    async with NexudusClient() as client:
        assert client.base_url == nexudus_emulator.base_url
        assert isinstance(client.auth, PasswordGrant) and client.auth.user() == DEFAULT_ADMIN_EMAIL
        page = await asyncio.wait_for(client.coworker_time_passes.list(), 30)
    assert len(page.items) == 1
    assert nexudus_emulator.stats.by_route["POST /api/token"] == 1  # a password grant


def test_a_token_in_the_environment_is_a_bearer_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXUDUS_TOKEN", "tok-123")
    monkeypatch.setenv("NEXUDUS_EMAIL", "someone@example.com")  # the token wins, as in the CLI
    client = NexudusClient()
    assert client.base_url == "https://spaces.nexudus.com"
    assert isinstance(client.auth, BearerToken)
    assert client.auth.cached_authorization() == ("Bearer tok-123", None)


def test_explicit_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXUDUS_BASE_URL", "https://env.example.com")
    monkeypatch.setenv("NEXUDUS_TOKEN", "tok-123")
    auth = BasicAuth("me@example.com", "pw")
    client = NexudusClient("https://given.example.com", auth)
    assert client.base_url == "https://given.example.com" and client.auth is auth
    assert NexudusClient(auth=None).auth is None  # None: no credentials, not the environment


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "set NEXUDUS_EMAIL and NEXUDUS_PASSWORD (a password grant) or NEXUDUS_TOKEN"),
        ({"NEXUDUS_EMAIL": "me@example.com"}, "set NEXUDUS_PASSWORD (a password grant) or"),
        ({"NEXUDUS_PASSWORD": "hunter2"}, "set NEXUDUS_EMAIL (a password grant) or NEXUDUS_TOKEN"),
    ],
)
def test_a_missing_credential_is_one_input_error_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(InputError) as info:
        NexudusClient()
    assert named in str(info.value)
    assert str(info.value).startswith("invalid auth=None: no credentials: pass auth=")
    assert "hunter2" not in str(info.value)


def test_an_unknown_log_level_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXUDUS_LOG", "verbose")
    with pytest.raises(InputError, match=r"invalid NEXUDUS_LOG='verbose': must be info or debug"):
        NexudusClient(auth=None)


_LOGGING_SCRIPT = """
import asyncio
from nexudus_async import NexudusClient, RateLimits
async def main():
    async with NexudusClient(rate_limits=None) as client:
        await client.coworker_time_passes.list()
asyncio.run(main())
"""


@pytest.mark.parametrize("level", ["debug", "INFO", ""])
async def test_nexudus_log_sends_the_logger_to_stderr_without_secrets(
    nexudus_emulator: EmulatorServer, level: str
) -> None:
    env = {
        "NEXUDUS_BASE_URL": nexudus_emulator.base_url,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
        "NEXUDUS_LOG": level,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _LOGGING_SCRIPT,
        env={**env, "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = err.decode()
    assert proc.returncode == 0, text
    if level == "debug":
        assert "DEBUG nexudus_async: POST /api/token -> 200 (attempt 1" in text
        assert "DEBUG nexudus_async: GET /api/billing/coworkertimepasses -> 200" in text
    else:
        assert text == ""  # info: nothing to report on a quiet call; unset: silent
    assert DEFAULT_ADMIN_PASSWORD not in text and "access_token" not in text
