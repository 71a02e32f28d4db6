"""The pure network settings: which proxy the environment names, a proxy URL's credentials
moved out of it and redacted, a CA bundle that cannot be used."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from nexudus_async import InputError
from nexudus_async._core.network import (
    is_loopback,
    parse_proxy,
    proxy_from_env,
    ssl_context_from_bundle,
)

API = "https://spaces.nexudus.com"


@pytest.mark.parametrize(
    ("env", "target", "expected"),
    [
        ({}, API, None),
        ({"HTTPS_PROXY": "http://p:1"}, API, "http://p:1"),
        ({"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:1"}, API, "http://low:1"),
        ({"HTTPS_PROXY": "p.corp:3128"}, API, "http://p.corp:3128"),  # scheme-less
        ({"HTTP_PROXY": "http://p:1"}, API, None),  # http's proxy is not https's
        ({"HTTP_PROXY": "http://p:1"}, "http://api.example", "http://p:1"),
        ({"HTTP_PROXY": "http://p:1", "REQUEST_METHOD": "GET"}, "http://api.example", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, API, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "nexudus.com"}, API, None),
        ({"HTTPS_PROXY": "http://p:1", "no_proxy": ".nexudus.com"}, API, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "SPACES.Nexudus.com"}, API, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "a.b, spaces.nexudus.com:443"}, API, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "spaces.nexudus.com:8443"}, API, "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "xnexudus.com"}, API, "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "2001:db8::1"}, "https://[2001:db8::1]", None),
        (
            {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "[2001:db8::1]:443"},
            "https://[2001:db8::1]",
            None,
        ),
        ({"HTTPS_PROXY": "http://p:1"}, "https://127.0.0.1:8443", None),  # loopback: direct
        ({"HTTPS_PROXY": "http://p:1"}, "https://localhost", None),
        ({"HTTPS_PROXY": "http://p:1"}, "https://[::1]:8443", None),
        ({"HTTPS_PROXY": ""}, API, None),
    ],
)
def test_which_proxy_the_environment_names(
    env: dict[str, str], target: str, expected: str | None
) -> None:
    proxy = proxy_from_env(target, env)
    assert (proxy.url if proxy is not None else None) == expected


def test_credentials_leave_the_url_for_a_header_and_are_redacted_in_every_form() -> None:
    proxy = parse_proxy("http://me%40corp:p%C3%A4ss%2Fw0rd@proxy.corp:3128")
    token = base64.b64encode("me@corp:päss/w0rd".encode()).decode()
    assert proxy.url == "http://proxy.corp:3128"
    assert proxy.headers == {"Proxy-Authorization": f"Basic {token}"}
    assert repr(proxy) == "Proxy('http://proxy.corp:3128 (with credentials)')"
    leaked = f"a päss/w0rd b p%C3%A4ss%2Fw0rd c p%C3%A4ss%2Fw0rd d Basic {token} e"
    assert proxy.redact(leaked) == "a *** b *** c *** d *** e"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ftp://proxy:2121", "invalid proxy='ftp://proxy:2121': a proxy URL starts with http://"),
        ("http://u:pw@proxy:1/path", "invalid proxy='http://u:***@proxy:1/path': a proxy URL is"),
        ("http://:3128", "invalid proxy="),
    ],
)
def test_a_bad_proxy_url_names_it_without_its_password(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_proxy(text)
    assert str(caught.value).startswith(message)
    assert "pw@" not in str(caught.value)


def test_an_empty_ca_bundle_names_the_setting(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    with pytest.raises(InputError) as caught:
        ssl_context_from_bundle(empty, field="--ca-bundle")
    assert str(caught.value).startswith(f"invalid --ca-bundle={str(empty)!r}: not a PEM file")


def test_a_directory_of_authorities_is_accepted(tmp_path: Path, ca_file: str) -> None:
    context = ssl_context_from_bundle(tmp_path)  # an (empty) openssl-rehash directory
    assert context.check_hostname
    assert ssl_context_from_bundle(ca_file).cert_store_stats()["x509_ca"] == 1


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("[::1]", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("nexudus.test", False),
        ("localhost.corp", False),
    ],
)
def test_what_counts_as_this_machine(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
