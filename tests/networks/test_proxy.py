"""The client through a real proxy on loopback: CONNECT tunnels to the https emulator,
plain forwarding to the http one, named with proxy= or found in HTTPS_PROXY/HTTP_PROXY."""

from __future__ import annotations

import base64
import logging
import urllib.parse
from typing import Any

import pytest

from nexudus_async import (
    BasicAuth,
    BearerToken,
    InputError,
    NexudusClient,
    PasswordGrant,
    ProxyError,
    RetryPolicy,
    TLSError,
    TransportError,
)
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, EmulatorServer
from nexudus_async.testing.tls import ServerCertificate

from .conftest import PROXIED_HOST, PROXY_PASSWORD, PROXY_USER, UNTHROTTLED, CertificateMaker
from .proxy_server import LoopbackProxy, Seen

AUTH = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
CTP = "coworkertimepasses"


def _with_credentials(proxy: LoopbackProxy) -> str:
    user = urllib.parse.quote(PROXY_USER, safe="")
    password = urllib.parse.quote(PROXY_PASSWORD, safe="")
    return f"http://{user}:{password}@127.0.0.1:{proxy.port}"


def _secret_forms() -> list[str]:
    """The proxy password as it could leak: raw, URL-encoded, in the Basic header."""
    token = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
    return [
        PROXY_PASSWORD,
        urllib.parse.quote(PROXY_PASSWORD, safe=""),
        urllib.parse.quote_plus(PROXY_PASSWORD, safe=""),
        token,
    ]


def _expected_header() -> str:
    return "Basic " + base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()


async def _create_and_list(client: NexudusClient) -> list[int]:
    await client.coworker_time_passes.create(coworker_id=42, business_id=1, time_pass_id=7)
    page = await client.coworker_time_passes.list(coworker=42)
    return [p.coworker for p in page.items]


# ------------------------------------------------------------ CONNECT to TLS


async def test_a_named_proxy_tunnels_to_the_https_emulator_with_its_credentials(
    nexudus_emulator_factory: Any,
    local_certificate: ServerCertificate,
    ca_file: str,
    proxy_with_password: LoopbackProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    emu: EmulatorServer = await nexudus_emulator_factory(UNTHROTTLED, tls=local_certificate)
    auth = PasswordGrant(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    client = NexudusClient(
        emu.base_url, auth, ca_bundle=ca_file, proxy=_with_credentials(proxy_with_password)
    )
    async with client:
        assert await _create_and_list(client) == [42]
    assert emu.store.count(CTP, CoworkerId=42) == 1
    target = f"127.0.0.1:{emu.port}"
    # One kept-alive tunnel carries the token request, the create and the list.
    assert proxy_with_password.seen == [Seen("CONNECT", target, _expected_header())]
    assert client.proxy == proxy_with_password.url
    shown = repr(client) + caplog.text
    assert f"proxy='{proxy_with_password.url} (with credentials)'" in repr(client)
    for form in _secret_forms():
        assert form not in shown


async def test_https_proxy_from_the_environment_reaches_a_host_only_the_proxy_resolves(
    nexudus_emulator_factory: Any,
    make_certificate: CertificateMaker,
    ca_file: str,
    proxy: LoopbackProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu: EmulatorServer = await nexudus_emulator_factory(
        UNTHROTTLED, tls=make_certificate(PROXIED_HOST)
    )
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "other.example")
    base_url = f"https://{PROXIED_HOST}:{emu.port}"
    async with NexudusClient(base_url, AUTH, ca_bundle=ca_file, rate_limits=None) as client:
        assert client.proxy == proxy.url
        assert await _create_and_list(client) == [42]
    assert proxy.seen == [Seen("CONNECT", f"{PROXIED_HOST}:{emu.port}", None)]
    assert emu.store.count(CTP, CoworkerId=42) == 1


async def test_an_untrusted_certificate_through_the_tunnel_is_one_tls_error(
    nexudus_emulator_factory: Any,
    local_certificate: ServerCertificate,
    proxy: LoopbackProxy,
) -> None:
    emu: EmulatorServer = await nexudus_emulator_factory(UNTHROTTLED, tls=local_certificate)
    async with NexudusClient(emu.base_url, AUTH, proxy=proxy.url, rate_limits=None) as client:
        with pytest.raises(TLSError) as caught:
            await client.coworker_time_passes.list()
    assert caught.value.problem == "unknown_authority"
    assert caught.value.host == "127.0.0.1"
    assert proxy.seen == [Seen("CONNECT", f"127.0.0.1:{emu.port}", None)]  # one attempt


async def test_a_proxy_refusing_the_credentials_is_one_error_without_them(
    nexudus_emulator_factory: Any,
    local_certificate: ServerCertificate,
    ca_file: str,
    proxy_with_password: LoopbackProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    emu: EmulatorServer = await nexudus_emulator_factory(UNTHROTTLED, tls=local_certificate)
    wrong = f"http://{PROXY_USER}:wrong-{urllib.parse.quote(PROXY_PASSWORD)}@127.0.0.1:"
    wrong += str(proxy_with_password.port)
    async with NexudusClient(
        emu.base_url, AUTH, ca_bundle=ca_file, proxy=wrong, rate_limits=None
    ) as client:
        with pytest.raises(TransportError) as caught:
            await client.coworker_time_passes.create(coworker_id=1, business_id=1, time_pass_id=7)
    error = caught.value
    assert type(error) is ProxyError  # nothing was sent: not an unknown outcome
    assert isinstance(error, TransportError)
    assert (error.proxy, error.status) == (proxy_with_password.url, 407)
    assert error.message == (
        f"the proxy {proxy_with_password.url} refused the tunnel (407 Proxy Authentication "
        "Required): it asks for credentials the proxy URL does not carry, or they are wrong "
        "(give them in the URL: http://user:password@host:port)"
    )
    assert len(proxy_with_password.seen) == 1  # permanent: not retried
    shown = str(error) + repr(client) + caplog.text
    for form in (*_secret_forms(), "wrong-"):
        assert form not in shown
    assert emu.store.count(CTP) == 0


# ------------------------------------------------------ plain http forwarding


async def test_a_named_proxy_forwards_plain_http_to_the_loopback_emulator(
    nexudus_emulator_factory: Any, proxy: LoopbackProxy
) -> None:
    emu: EmulatorServer = await nexudus_emulator_factory(UNTHROTTLED)
    async with NexudusClient(emu.base_url, AUTH, proxy=proxy.url, rate_limits=None) as client:
        assert await _create_and_list(client) == [42]
    query = "page=1&size=25&CoworkerTimePass_Coworker=42"
    assert [(s.method, s.target) for s in proxy.seen] == [
        ("POST", f"{emu.base_url}/api/billing/coworkertimepasses"),
        ("GET", f"{emu.base_url}/api/billing/coworkertimepasses?{query}"),
    ]
    assert emu.store.count(CTP, CoworkerId=42) == 1


async def test_http_proxy_from_the_environment_with_insecure_http_to_another_host(
    nexudus_emulator_factory: Any,
    proxy: LoopbackProxy,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emu: EmulatorServer = await nexudus_emulator_factory(UNTHROTTLED)
    monkeypatch.setenv("http_proxy", proxy.url)
    base_url = f"http://{PROXIED_HOST}:{emu.port}"
    async with NexudusClient(base_url, AUTH, allow_insecure_http=True, rate_limits=None) as client:
        assert await _create_and_list(client) == [42]
    assert [s.target.split("?")[0] for s in proxy.seen] == [
        f"{base_url}/api/billing/coworkertimepasses"
    ] * 2
    assert "sending credentials over plain http:// to nexudus.test" in caplog.text


def test_credentials_over_plain_http_through_an_environment_proxy_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    with pytest.raises(
        InputError, match=r"refusing to send credentials over plain http:// to nexudus\.test;"
    ):
        NexudusClient(f"http://{PROXIED_HOST}:8080", AUTH)


def test_credentials_to_loopback_over_plain_http_through_a_remote_proxy_are_refused() -> None:
    # The proxy is another machine: the credentials would cross the network in clear.
    with pytest.raises(InputError) as caught:
        NexudusClient("http://127.0.0.1:8080", AUTH, proxy="http://u:secret-pw@proxy.corp:3128")
    assert str(caught.value) == (
        "invalid base_url='http://127.0.0.1:8080': refusing to send credentials over plain "
        "http:// to 127.0.0.1 through the proxy http://proxy.corp:3128; use https:// (plain "
        "http is only allowed to a loopback address, or with allow_insecure_http=True / "
        "--insecure-http)"
    )
    assert "secret-pw" not in str(caught.value)
    NexudusClient("http://127.0.0.1:8080", AUTH, proxy="http://127.0.0.1:3128")  # both local


# ----------------------------------------------------------- which proxy


def test_the_environment_is_read_once_and_no_proxy_exempts_a_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    assert NexudusClient(auth=AUTH).proxy == "http://proxy.corp:3128"
    assert NexudusClient(auth=AUTH, trust_env=False).proxy is None
    assert NexudusClient(auth=AUTH, proxy="http://other:8080").proxy == "http://other:8080"
    # a loopback emulator is reached directly whatever the environment says
    assert NexudusClient("https://127.0.0.1:8443", AUTH).proxy is None
    assert NexudusClient("https://localhost:8443", AUTH).proxy is None
    monkeypatch.setenv("NO_PROXY", "example.org,.nexudus.com")
    assert NexudusClient(auth=AUTH).proxy is None


def test_a_bad_proxy_is_an_input_error_that_hides_its_password() -> None:
    with pytest.raises(InputError) as caught:
        NexudusClient(auth=AUTH, proxy="socks5://u:hunter22@proxy.corp:1080")
    assert str(caught.value) == (
        "invalid proxy='socks5://u:***@proxy.corp:1080': a proxy URL starts with http:// "
        "(the tunnel to an https:// API stays encrypted end to end through it)"
    )


def test_a_bad_environment_proxy_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.corp:3128")
    with pytest.raises(InputError) as caught:
        NexudusClient(auth=AUTH)
    assert caught.value.field == "HTTPS_PROXY"


async def test_a_proxy_that_cannot_reach_the_api_is_retried_and_a_create_was_not_sent(
    proxy: LoopbackProxy,
) -> None:
    # The proxy answers 502 to CONNECT: the request never left, so even a create is
    # resent (not an unknown outcome), and the failure is a plain TransportError.
    client = NexudusClient(
        "https://unreachable.test",
        BearerToken("a-token"),
        proxy=proxy.url,
        rate_limits=None,
        retry=RetryPolicy(max_retries=2, backoff_initial=0.001, backoff_max=0.002),
    )
    async with client:
        with pytest.raises(TransportError) as caught:
            await client.coworker_time_passes.create(coworker_id=1, business_id=1, time_pass_id=7)
    assert type(caught.value) is TransportError
    assert proxy.seen == [Seen("CONNECT", "unreachable.test:443", None)] * 3
