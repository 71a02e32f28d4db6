"""Secrets in every encoding stay out of messages and logs; plain http needs an opt-in."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from nexudus_async import AuthenticationError, InputError, NexudusClient, PasswordGrant

from .conftest import BASE, FakeClock, Wire

PASSWORD = "Pw!S3cr3t&x=1 é"
FORMS = (
    PASSWORD,
    "Pw%21S3cr3t%26x%3D1+%C3%A9",  # the form body's encoding
    "Pw%21S3cr3t%26x%3D1%20%C3%A9",
    "Pw%21S3cr3t%26x%3d1+%c3%a9",  # lower-case hex
    "Pw!S3cr3t&x=1 \\u00e9",  # JSON-escaped
)


async def test_a_password_echoed_url_encoded_by_the_token_endpoint_is_redacted(
    wire: Wire, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="nexudus_async")
    echo = "grant_type=password&username=admin%40example.com&password=" + FORMS[1]
    wire.add(
        "POST",
        "/api/token",
        status=400,
        payload={
            "error": "invalid_grant",
            "error_description": f"bad request body: {echo} (also {FORMS[3]}, {FORMS[4]})",
            "Errors": [{"PropertyName": "password", "Message": echo, "AttemptedValue": PASSWORD}],
        },
    )
    grant = PasswordGrant("admin@example.com", PASSWORD, clock=clock)
    async with NexudusClient(BASE, grant, rate_limits=None, clock=clock, sleep=clock.sleep) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.coworker_time_passes.get(1)
    err = info.value
    shown: list[Any] = [str(err), repr(err), err.api_message, caplog.text]
    shown += [err.body.decode("utf-8"), *(str(e) for e in err.errors)]
    shown += [e.attempted_value for e in err.errors]
    text = "\n".join(str(s) for s in shown)
    for form in FORMS:
        assert form not in text
    assert "password=***" in str(err)


def test_plain_http_to_another_host_is_refused_by_default_with_an_input_error() -> None:
    with pytest.raises(InputError, match=r"plain http:// to emulator; use https://") as info:
        NexudusClient("http://emulator:8080", PasswordGrant("a@b.c", PASSWORD))
    assert info.value.field == "base_url"
    assert "allow_insecure_http=True" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_plain_http_is_allowed_with_the_opt_in_and_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="nexudus_async")
    client = NexudusClient(
        "http://emulator:8080", PasswordGrant("a@b.c", PASSWORD), allow_insecure_http=True
    )
    assert client.base_url == "http://emulator:8080"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "plain http:// to emulator" in warnings[0].getMessage()
    assert PASSWORD not in caplog.text
