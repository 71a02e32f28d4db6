"""Certificates for the TLS tests (trustme authorities), and a loopback proxy."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import trustme

from nexudus_async.testing import EmulatorConfig, ThrottleLimits
from nexudus_async.testing.tls import ServerCertificate

from .proxy_server import LoopbackProxy, TcpRelay

#: Throttling off: these tests are about the network, not about timing.
UNTHROTTLED = EmulatorConfig(limits=ThrottleLimits.off())
#: A name only the test proxy resolves (to 127.0.0.1): reaching it proves the proxy was used.
PROXIED_HOST = "nexudus.test"
PROXY_USER = "proxy-user"
PROXY_PASSWORD = "pr0xy p@ss:wörd"

CertificateMaker = Callable[..., ServerCertificate]


@pytest.fixture(autouse=True)
def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own proxy settings must not decide these tests."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.delenv("NEXUDUS_CA_BUNDLE", raising=False)


@pytest.fixture(scope="session")
def authority() -> trustme.CA:
    """The authority the tests trust (a company network's own, say)."""
    return trustme.CA(organization_unit_name="networks tests")


@pytest.fixture(scope="session")
def certs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("certs")


@pytest.fixture(scope="session")
def ca_file(authority: trustme.CA, certs_dir: Path) -> str:
    path = certs_dir / "trusted-ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def make_certificate(authority: trustme.CA, certs_dir: Path) -> CertificateMaker:
    """``make_certificate("127.0.0.1", signed_by=ca, expired=False)``: files an emulator serves."""
    counter = iter(range(1_000_000))

    def make(
        *names: str, signed_by: trustme.CA | None = None, expired: bool = False
    ) -> ServerCertificate:
        ca = signed_by if signed_by is not None else authority
        kw = {}
        if expired:
            now = datetime.datetime.now(datetime.UTC)
            kw = {
                "not_before": now - datetime.timedelta(days=30),
                "not_after": now - datetime.timedelta(days=1),
            }
        leaf = ca.issue_cert(*(names or ("127.0.0.1", "localhost")), **kw)
        n = next(counter)
        cert, key = certs_dir / f"leaf{n}.pem", certs_dir / f"leaf{n}-key.pem"
        leaf.cert_chain_pems[0].write_to_path(str(cert))
        leaf.private_key_pem.write_to_path(str(key))
        return ServerCertificate(str(cert), str(key))

    return make


@pytest.fixture(scope="session")
def local_certificate(make_certificate: CertificateMaker) -> ServerCertificate:
    """Valid for 127.0.0.1 and localhost, signed by the trusted authority."""
    return make_certificate()


@pytest.fixture
async def proxy() -> AsyncIterator[LoopbackProxy]:
    server = LoopbackProxy(hosts={PROXIED_HOST: "127.0.0.1"})
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def proxy_with_password() -> AsyncIterator[LoopbackProxy]:
    server = LoopbackProxy(
        hosts={PROXIED_HOST: "127.0.0.1"}, credentials=(PROXY_USER, PROXY_PASSWORD)
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def start_relay() -> AsyncIterator[Callable[[int], Awaitable[TcpRelay]]]:
    """``relay = await start_relay(port)``: counts the connections made to ``port``."""
    relays: list[TcpRelay] = []

    async def start(port: int) -> TcpRelay:
        relay = TcpRelay(port)
        await relay.start()
        relays.append(relay)
        return relay

    try:
        yield start
    finally:
        for relay in relays:
            await relay.stop()
