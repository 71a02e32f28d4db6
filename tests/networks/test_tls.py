"""The client over TLS against the emulator serving https: trusted, untrusted, wrong
name, expired. A certificate failure is permanent: one attempt, a TLSError."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import trustme

from nexudus_async import (
    BasicAuth,
    BearerToken,
    InputError,
    NexudusClient,
    PasswordGrant,
    TLSError,
    TransportError,
)
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, EmulatorServer
from nexudus_async.testing.tls import ServerCertificate

from .conftest import UNTHROTTLED, CertificateMaker
from .proxy_server import TcpRelay

AUTH = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
CTP = "coworkertimepasses"
#: Words of the libraries underneath, which a user must never have to read.
LIBRARY_WORDS = ("aiohttp", "Client", "SSLCert", "ssl:", "Connector", "Error")


async def _https_emulator(factory: Any, cert: ServerCertificate) -> EmulatorServer:
    server: EmulatorServer = await factory(UNTHROTTLED, tls=cert)
    assert server.base_url.startswith("https://127.0.0.1:")
    return server


async def _create_one(client: NexudusClient) -> int:
    created = await client.coworker_time_passes.create(
        coworker_id=42, business_id=1, time_pass_id=7
    )
    return int(created.id)


# ----------------------------------------------------------------- trusted


async def test_ca_bundle_trusts_the_authority(
    nexudus_emulator_factory: Any, local_certificate: ServerCertificate, ca_file: str
) -> None:
    emu = await _https_emulator(nexudus_emulator_factory, local_certificate)
    async with NexudusClient(emu.base_url, AUTH, ca_bundle=ca_file, rate_limits=None) as client:
        new_id = await _create_one(client)
        page = await client.coworker_time_passes.list(coworker=42)
    assert [p.id for p in page.items] == [new_id]
    assert emu.store.count(CTP, CoworkerId=42) == 1


async def test_an_ssl_context_trusts_the_authority(
    nexudus_emulator_factory: Any, local_certificate: ServerCertificate, ca_file: str
) -> None:
    emu = await _https_emulator(nexudus_emulator_factory, local_certificate)
    context = ssl.create_default_context(cafile=ca_file)
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    async with NexudusClient(emu.base_url, auth, ssl=context, rate_limits=None) as client:
        await _create_one(client)
    assert emu.store.count(CTP, CoworkerId=42) == 1
    assert emu.stats.by_route["POST /api/token"] == 1


async def test_the_pytest_fixture_serves_tls_with_the_authority_it_made(
    nexudus_emulator_factory: Any,
) -> None:
    emu = await nexudus_emulator_factory(UNTHROTTLED, tls=True)
    assert emu.ca_bundle is not None
    async with NexudusClient(
        emu.base_url, AUTH, ca_bundle=emu.ca_bundle, rate_limits=None
    ) as client:
        await _create_one(client)
    assert emu.store.count(CTP, CoworkerId=42) == 1


@pytest.mark.nexudus_emulator(tls=True, limits=UNTHROTTLED.limits)
async def test_the_marker_asks_the_fixture_for_tls(nexudus_emulator: EmulatorServer) -> None:
    assert nexudus_emulator.base_url.startswith("https://")
    assert nexudus_emulator.ca_bundle is not None
    async with NexudusClient(
        nexudus_emulator.base_url, AUTH, ca_bundle=nexudus_emulator.ca_bundle
    ) as client:
        await _create_one(client)


# --------------------------------------------------------------- untrusted


async def _failure_through_relay(
    factory: Any,
    start_relay: Callable[[int], Awaitable[TcpRelay]],
    cert: ServerCertificate,
    *,
    host: str = "127.0.0.1",
    ca_file: str | None = None,
    auth: Any = AUTH,
    call: str = "list",
) -> tuple[TLSError, TcpRelay, EmulatorServer]:
    """One call through a relay that counts connections; the TLSError it raised."""
    emu = await _https_emulator(factory, cert)
    relay = await start_relay(emu.port)
    async with NexudusClient(
        f"https://{host}:{relay.port}", auth, ca_bundle=ca_file, rate_limits=None
    ) as client:
        with pytest.raises(TLSError) as caught:
            if call == "create":
                await _create_one(client)
            else:
                await client.coworker_time_passes.list(coworker=42)
    return caught.value, relay, emu


def _assert_readable(error: TLSError, where: str) -> None:
    text = str(error)
    assert where in error.message
    for word in LIBRARY_WORDS:
        assert word not in error.message, (word, error.message)
    assert "\n" not in text
    assert isinstance(error, TransportError)
    assert isinstance(error.__cause__, aiohttp.ClientConnectorCertificateError)


async def test_an_unknown_authority_fails_once_with_how_to_trust_one(
    nexudus_emulator_factory: Any,
    start_relay: Callable[[int], Awaitable[TcpRelay]],
    local_certificate: ServerCertificate,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="nexudus_async")
    error, relay, emu = await _failure_through_relay(
        nexudus_emulator_factory, start_relay, local_certificate
    )
    where = f"127.0.0.1:{relay.port}"
    assert error.problem == "unknown_authority"
    assert (error.host, error.port) == ("127.0.0.1", relay.port)
    assert error.message == (
        f"cannot trust {where}: its certificate is signed by an authority this machine does "
        "not trust (unable to get local issuer certificate); to trust your network's "
        "authority, pass its certificate file (PEM) as ca_bundle=, or set SSL_CERT_FILE"
    )
    assert str(error) == error.message + " [GET /api/billing/coworkertimepasses]"
    _assert_readable(error, where)
    assert relay.connections == 1  # not retried like a dropped connection
    assert sum(emu.stats.by_route.values()) == 0
    # Nothing above debug: no "retrying" warning for a failure that cannot pass.
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]


async def test_a_post_whose_certificate_fails_was_not_sent_so_its_outcome_is_known(
    nexudus_emulator_factory: Any,
    start_relay: Callable[[int], Awaitable[TcpRelay]],
    local_certificate: ServerCertificate,
) -> None:
    # A create is never resent blindly; a TLS failure is known to have sent nothing.
    error, relay, emu = await _failure_through_relay(
        nexudus_emulator_factory,
        start_relay,
        local_certificate,
        auth=BearerToken("a-token"),
        call="create",
    )
    assert error.problem == "unknown_authority"
    assert (error.method, error.path) == ("POST", "/api/billing/coworkertimepasses")
    assert relay.connections == 1
    assert emu.store.count(CTP) == 0


async def test_a_self_signed_certificate_is_an_unknown_authority(
    nexudus_emulator_factory: Any,
    start_relay: Callable[[int], Awaitable[TcpRelay]],
    make_certificate: CertificateMaker,
    ca_file: str,
) -> None:
    stranger = trustme.CA()
    cert = make_certificate("127.0.0.1", signed_by=stranger)
    error, relay, _ = await _failure_through_relay(
        nexudus_emulator_factory, start_relay, cert, ca_file=ca_file
    )
    assert error.problem == "unknown_authority"
    assert relay.connections == 1


async def test_a_certificate_for_another_name_fails_once_naming_it(
    nexudus_emulator_factory: Any,
    start_relay: Callable[[int], Awaitable[TcpRelay]],
    make_certificate: CertificateMaker,
    ca_file: str,
) -> None:
    cert = make_certificate("api.example.test")
    error, relay, _ = await _failure_through_relay(
        nexudus_emulator_factory, start_relay, cert, host="localhost", ca_file=ca_file
    )
    where = f"localhost:{relay.port}"
    assert error.problem == "wrong_name"
    assert error.message == (
        f"cannot trust {where}: its certificate is for another host name (Hostname "
        "mismatch, certificate is not valid for 'localhost'); check the host in the base URL"
    )
    _assert_readable(error, where)
    assert relay.connections == 1


async def test_an_address_the_certificate_does_not_name_is_a_wrong_name(
    nexudus_emulator_factory: Any,
    start_relay: Callable[[int], Awaitable[TcpRelay]],
    make_certificate: CertificateMaker,
    ca_file: str,
) -> None:
    cert = make_certificate("localhost")
    error, relay, _ = await _failure_through_relay(
        nexudus_emulator_factory, start_relay, cert, ca_file=ca_file
    )
    assert error.problem == "wrong_name"
    assert "IP address mismatch" in error.message
    assert relay.connections == 1


async def test_an_expired_certificate_fails_once_saying_so(
    nexudus_emulator_factory: Any,
    start_relay: Callable[[int], Awaitable[TcpRelay]],
    make_certificate: CertificateMaker,
    ca_file: str,
) -> None:
    cert = make_certificate("127.0.0.1", expired=True)
    error, relay, _ = await _failure_through_relay(
        nexudus_emulator_factory, start_relay, cert, ca_file=ca_file
    )
    where = f"127.0.0.1:{relay.port}"
    assert error.problem == "expired"
    assert error.message == (
        f"cannot trust {where}: its certificate has expired (the server must renew it, or "
        "this machine's clock is wrong)"
    )
    _assert_readable(error, where)
    assert relay.connections == 1


async def test_plain_http_behind_an_https_url_is_a_handshake_failure_not_retried(
    nexudus_emulator_factory: Any, start_relay: Callable[[int], Awaitable[TcpRelay]]
) -> None:
    emu: EmulatorServer = await nexudus_emulator_factory(UNTHROTTLED)  # plain http
    relay = await start_relay(emu.port)
    async with NexudusClient(f"https://127.0.0.1:{relay.port}", AUTH, rate_limits=None) as client:
        with pytest.raises(TLSError) as caught:
            await client.coworker_time_passes.list()
    assert caught.value.problem == "handshake"
    assert caught.value.message.startswith(f"no TLS connection to 127.0.0.1:{relay.port} ")
    assert caught.value.message.endswith("; is it an https:// server?")
    assert relay.connections == 1


# ---------------------------------------------------------------- settings


def test_a_missing_ca_bundle_is_an_input_error_naming_it(tmp_path: Any) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(InputError) as caught:
        NexudusClient(auth=AUTH, ca_bundle=missing)
    assert str(caught.value) == f"invalid ca_bundle={str(missing)!r}: no such file"


def test_a_ca_bundle_that_is_not_pem_is_an_input_error_naming_it(tmp_path: Any) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(InputError) as caught:
        NexudusClient(auth=AUTH, ca_bundle=str(bad))
    assert caught.value.field == "ca_bundle"
    assert str(caught.value).startswith(f"invalid ca_bundle={str(bad)!r}: not a PEM file")


def test_ssl_and_ca_bundle_together_are_refused(ca_file: str) -> None:
    with pytest.raises(ValueError, match=r"either ssl= .* or ca_bundle="):
        NexudusClient(auth=AUTH, ssl=ssl.create_default_context(), ca_bundle=ca_file)
