"""``nexudus-async import`` on a company network: a CA bundle (--ca-bundle,
NEXUDUS_CA_BUNDLE, SSL_CERT_FILE), an untrusted certificate (one line, exit 4, one
attempt), and proxies (--proxy, HTTPS_PROXY), as subprocesses against an https
emulator in a thread of the test."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, EmulatorServer
from nexudus_async.testing.tls import ServerCertificate

from .background import Background, background
from .conftest import PROXIED_HOST, PROXY_PASSWORD, PROXY_USER, UNTHROTTLED, CertificateMaker
from .proxy_server import LoopbackProxy, Seen, TcpRelay

CTP = "coworkertimepasses"
ROWS = "CoworkerId,BusinessId,TimePassId,CreateMultiple\n42,1,1,2\n43,1,2,1\n"


@pytest.fixture
def passes_csv(tmp_path: Path) -> Path:
    path = tmp_path / "passes.csv"
    path.write_text(ROWS)
    return path


@pytest.fixture
def servers() -> Iterator[Background]:
    with background() as runner:
        yield runner


def _https_emulator(servers: Background, cert: ServerCertificate) -> EmulatorServer:
    server: EmulatorServer = servers.started(EmulatorServer(UNTHROTTLED, tls=cert))
    return server


def _proxy(servers: Background, credentials: tuple[str, str] | None = None) -> LoopbackProxy:
    """A proxy that resolves PROXIED_HOST: the emulator is reachable by that name only
    through it (and a loopback base URL would not use the environment's proxy)."""
    proxy = LoopbackProxy(hosts={PROXIED_HOST: "127.0.0.1"}, credentials=credentials)
    started: LoopbackProxy = servers.started(proxy)
    return started


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and k not in ("SSL_CERT_FILE", "NEXUDUS_CA_BUNDLE")
    }
    env.update(NEXUDUS_EMAIL=DEFAULT_ADMIN_EMAIL, NEXUDUS_PASSWORD=DEFAULT_ADMIN_PASSWORD)
    env.update(extra)
    return env


def _import(
    csv: Path, base_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    verbose = ["-v"] if "-v" in args else []
    argv = [sys.executable, "-m", "nexudus_async.cli", *verbose, "import", str(csv)]
    argv += ["--base-url", base_url, "--time-scale", "0.01", "--progress", "none"]
    argv += [a for a in args if a != "-v"]
    return subprocess.run(
        argv, env=env or _env(), capture_output=True, text=True, timeout=120, check=False
    )


def _stored(servers: Background, emu: EmulatorServer) -> dict[int, int]:
    def read() -> dict[int, int]:
        return {c: emu.store.count(CTP, CoworkerId=c) for c in (42, 43)}

    return servers.call(read)


# ------------------------------------------------------------------ TLS


def test_an_untrusted_certificate_is_one_line_exit_4_after_one_attempt(
    servers: Background, local_certificate: ServerCertificate, passes_csv: Path
) -> None:
    emu = _https_emulator(servers, local_certificate)
    relay: TcpRelay = servers.started(TcpRelay(emu.port))
    proc = _import(passes_csv, f"https://127.0.0.1:{relay.port}")
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: cannot trust 127.0.0.1:{relay.port}: its certificate is signed by an "
        "authority this machine does not trust (unable to get local issuer certificate); "
        "to trust your network's authority, give its certificate file (PEM) with "
        "--ca-bundle FILE or NEXUDUS_CA_BUNDLE; nothing was sent"
    ]
    assert servers.call(lambda: relay.connections) == 1
    assert servers.call(lambda: sum(emu.stats.by_route.values())) == 0


def test_an_expired_certificate_is_one_line_naming_it(
    servers: Background, make_certificate: CertificateMaker, ca_file: str, passes_csv: Path
) -> None:
    emu = _https_emulator(servers, make_certificate("127.0.0.1", expired=True))
    proc = _import(passes_csv, emu.base_url, "--ca-bundle", ca_file)
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: cannot trust 127.0.0.1:{emu.port}: its certificate has expired (the server "
        "must renew it, or this machine's clock is wrong); nothing was sent"
    ]


@pytest.mark.parametrize("setting", ["--ca-bundle", "NEXUDUS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_each_setting_trusts_the_authority(
    servers: Background,
    local_certificate: ServerCertificate,
    ca_file: str,
    passes_csv: Path,
    setting: str,
) -> None:
    emu = _https_emulator(servers, local_certificate)
    if setting == "--ca-bundle":
        proc = _import(passes_csv, emu.base_url, "--ca-bundle", ca_file)
    else:
        proc = _import(passes_csv, emu.base_url, env=_env(**{setting: ca_file}))
    assert proc.returncode == 0, proc.stderr
    assert _stored(servers, emu) == {42: 2, 43: 1}


def test_a_missing_ca_bundle_is_one_line_and_nothing_sent(
    servers: Background, local_certificate: ServerCertificate, passes_csv: Path, tmp_path: Path
) -> None:
    emu = _https_emulator(servers, local_certificate)
    missing = tmp_path / "company-ca.pem"
    proc = _import(passes_csv, emu.base_url, env=_env(NEXUDUS_CA_BUNDLE=str(missing)))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"error: invalid NEXUDUS_CA_BUNDLE={str(missing)!r}: no such file"
    ]
    assert servers.call(lambda: sum(emu.stats.by_route.values())) == 0


# --------------------------------------------------------------- proxies


def test_import_through_a_proxy_with_credentials_to_the_tls_emulator(
    servers: Background,
    make_certificate: CertificateMaker,
    ca_file: str,
    passes_csv: Path,
    tmp_path: Path,
) -> None:
    emu = _https_emulator(servers, make_certificate(PROXIED_HOST))
    proxy = _proxy(servers, credentials=(PROXY_USER, PROXY_PASSWORD))
    quoted = urllib.parse.quote(PROXY_PASSWORD, safe="")
    proxy_url = f"http://{PROXY_USER}:{quoted}@127.0.0.1:{proxy.port}"
    report = tmp_path / "report.json"
    proc = _import(
        passes_csv,
        f"https://{PROXIED_HOST}:{emu.port}",
        "--ca-bundle",
        ca_file,
        "--report",
        str(report),
        "-v",
        env=_env(HTTPS_PROXY=proxy_url),
    )
    assert proc.returncode == 0, proc.stderr
    assert _stored(servers, emu) == {42: 2, 43: 1}
    header = "Basic " + base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
    seen = servers.call(lambda: list(proxy.seen))
    assert seen and set(seen) == {Seen("CONNECT", f"{PROXIED_HOST}:{emu.port}", header)}
    shown = proc.stdout + proc.stderr + report.read_text()
    json.loads(report.read_text())
    for form in (PROXY_PASSWORD, quoted, header.split()[1]):
        assert form not in shown


def test_https_proxy_reaches_a_host_only_the_proxy_resolves(
    servers: Background, make_certificate: CertificateMaker, ca_file: str, passes_csv: Path
) -> None:
    emu = _https_emulator(servers, make_certificate(PROXIED_HOST))
    proxy = _proxy(servers)
    proc = _import(
        passes_csv,
        f"https://{PROXIED_HOST}:{emu.port}",
        "--proxy",
        proxy.url,
        "--ca-bundle",
        ca_file,
    )
    assert proc.returncode == 0, proc.stderr
    assert _stored(servers, emu) == {42: 2, 43: 1}
    assert servers.call(lambda: {s.target for s in proxy.seen}) == {f"{PROXIED_HOST}:{emu.port}"}


def test_a_proxy_refusing_the_credentials_is_one_line_exit_4(
    servers: Background,
    make_certificate: CertificateMaker,
    ca_file: str,
    passes_csv: Path,
) -> None:
    emu = _https_emulator(servers, make_certificate(PROXIED_HOST))
    proxy = _proxy(servers, credentials=(PROXY_USER, PROXY_PASSWORD))
    proxy_url = f"http://{PROXY_USER}:not-it@127.0.0.1:{proxy.port}"
    base_url = f"https://{PROXIED_HOST}:{emu.port}"
    proc = _import(passes_csv, base_url, "--ca-bundle", ca_file, env=_env(HTTPS_PROXY=proxy_url))
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: the proxy http://127.0.0.1:{proxy.port} refused the tunnel (407 Proxy "
        "Authentication Required): it asks for credentials the proxy URL does not carry, or "
        "they are wrong (give them in the URL: http://user:password@host:port); nothing "
        "was sent"
    ]
    assert servers.call(lambda: len(proxy.seen)) == 1


def test_the_resume_command_keeps_the_ca_bundle_and_a_proxy_without_credentials() -> None:
    from nexudus_async.cli.import_cmd import _resume_hint
    from nexudus_async.cli.main import build_parser

    argv = ["import", "p.csv", "--ca-bundle", "/etc/company ca.pem"]
    args = build_parser().parse_args([*argv, "--proxy", "http://proxy.corp:3128"])
    assert _resume_hint(args) == (
        "nexudus-async import p.csv --ca-bundle '/etc/company ca.pem' "
        "--proxy http://proxy.corp:3128"
    )
    args = build_parser().parse_args([*argv, "--proxy", "http://me:S3cret@proxy.corp:3128"])
    assert "S3cret" not in _resume_hint(args)
    assert _resume_hint(args) == "nexudus-async import p.csv --ca-bundle '/etc/company ca.pem'"
