"""How requests cross a company network: the authorities trusted, and the proxy.

Pure settings, decided once when a client is made (no per-request look-up):

- :func:`ssl_context_from_bundle`: an ``ssl.SSLContext`` that trusts the
  authorities of a PEM file (a company's own, the one a TLS-inspecting proxy
  signs with) instead of the system's.
- :func:`parse_proxy`: a proxy URL, its credentials moved out of the URL into
  a ``Proxy-Authorization`` header, so no URL that aiohttp can put in a
  message or a log holds them.
- :func:`proxy_from_env`: ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` as
  curl, requests and httpx read them (lower case first), from a given
  mapping. A loopback host is always reached directly (as Go's net/http
  does): a local emulator keeps working on a machine whose environment names
  a company proxy that cannot reach this machine's 127.0.0.1.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import ssl
import urllib.parse
from collections.abc import Mapping

import attrs
from yarl import URL

from .errors import InputError

__all__ = [
    "Proxy",
    "is_loopback",
    "parse_proxy",
    "proxy_from_env",
    "ssl_context_from_bundle",
]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost."})
_REDACTED = "***"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@attrs.frozen(repr=False)
class Proxy:
    """An HTTP proxy: its URL without credentials, and the headers that carry them."""

    url: str
    """``http://host:port``: never holds credentials, safe to show."""
    headers: Mapping[str, str] = attrs.field(factory=dict)
    """``Proxy-Authorization`` when the proxy URL had a user and password."""
    _secrets: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        return URL(self.url).host or ""

    @property
    def has_credentials(self) -> bool:
        return bool(self.headers)

    def redact(self, text: str) -> str:
        """``text`` without the proxy's password, in the forms it travels in."""
        for secret in self._secrets:
            text = text.replace(secret, _REDACTED)
        return text

    def describe(self) -> str:
        """The URL, saying whether credentials go with it (never what they are)."""
        return self.url + (" (with credentials)" if self.headers else "")

    def __repr__(self) -> str:
        return f"Proxy({self.describe()!r})"


def _secret_forms(user: str, password: str, header: str) -> tuple[str, ...]:
    forms = {
        password,
        urllib.parse.quote(password, safe=""),
        urllib.parse.quote_plus(password, safe=""),
        header,
        header.removeprefix("Basic "),
    }
    # longest first: a form containing another is replaced whole
    return tuple(sorted((f for f in forms if len(f) >= 3), key=len, reverse=True))


def _shown(url: URL) -> str:
    """The URL as an error message may show it: the password replaced."""
    return str(url.with_password(_REDACTED)) if url.password else str(url)


def parse_proxy(text: str, *, field: str = "proxy") -> Proxy:
    """``http://[user:password@]host[:port]`` (a bare ``host:port`` means http).

    Raises :class:`InputError` naming ``field`` (and never the password).
    """
    raw = text.strip()
    if "://" not in raw:
        raw = "http://" + raw
    try:
        url = URL(raw)
    except ValueError as exc:
        raise InputError(field, _REDACTED, f"not a URL ({exc})") from None
    if url.scheme != "http":
        raise InputError(
            field,
            _shown(url),
            "a proxy URL starts with http:// (the tunnel to an https:// API stays "
            "encrypted end to end through it)",
        )
    if not url.host:
        raise InputError(field, _shown(url), "the proxy URL has no host")
    if url.path not in ("", "/") or url.query_string or url.fragment:
        raise InputError(field, _shown(url), "a proxy URL is http://host:port, nothing after it")
    bare = str(URL.build(scheme="http", host=url.host, port=url.explicit_port))
    if url.user is None and url.password is None:
        return Proxy(bare)
    user, password = url.user or "", url.password or ""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    header = f"Basic {token}"
    secrets = _secret_forms(user, password, header) if password else (header, token)
    return Proxy(bare, {"Proxy-Authorization": header}, secrets)


def _env_proxies(env: Mapping[str, str]) -> dict[str, str]:
    """``scheme -> proxy URL`` and ``"no" -> NO_PROXY``, as urllib reads them (lower case wins)."""
    found: dict[str, str] = {}
    for name in sorted(env, key=lambda n: n == n.lower()):  # upper case first, lower overrides
        value = env[name]
        if value and name.lower().endswith("_proxy"):
            found[name[: -len("_proxy")].lower()] = value
    if "REQUEST_METHOD" in env:
        found.pop("http", None)  # a CGI request's Proxy: header must not choose the proxy
    return found


def _split_port(entry: str) -> tuple[str, str]:
    """``host:port``, ``[v6]:port``, ``[v6]``, a bare IPv6 address or a name."""
    if entry.startswith("["):
        address, _, rest = entry[1:].partition("]")
        return address, rest[1:] if rest.startswith(":") else ""
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        return name, port
    return entry, ""


def _exempt(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` names ``host``: ``*``, the host, or a domain it is in (a leading
    dot optional), each with or without ``:port``; case does not matter."""
    host = host.lower().strip("[]").rstrip(".")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if entry == "*":
            return True
        name, entry_port = _split_port(entry)
        if entry_port and entry_port != str(port):
            continue
        name = name.strip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def proxy_from_env(target_url: str, env: Mapping[str, str] | None = None) -> Proxy | None:
    """The proxy the environment names for ``target_url``, or None to connect directly.

    ``HTTPS_PROXY`` for an https URL, ``HTTP_PROXY`` for http (either case,
    lower case first); ``NO_PROXY`` (``*``, host names and domain suffixes,
    with or without a port) exempts a host, and so is a loopback host always.
    """
    env = os.environ if env is None else env
    target = URL(target_url)
    host = target.host or ""
    if is_loopback(host):
        return None
    proxies = _env_proxies(env)
    chosen = proxies.get(target.scheme)
    if not chosen:
        return None
    if _exempt(host, target.port, proxies.get("no", "")):
        return None
    name = f"{target.scheme.upper()}_PROXY"
    return parse_proxy(chosen, field=name)


def ssl_context_from_bundle(
    ca_bundle: str | os.PathLike[str], *, field: str = "ca_bundle"
) -> ssl.SSLContext:
    """A verifying context that trusts the authorities in ``ca_bundle`` (a PEM file, or a
    directory prepared with ``openssl rehash``) instead of the system's.

    Raises :class:`InputError` naming ``field`` when the file cannot be used.
    """
    path = os.fspath(ca_bundle)
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        raise InputError(field, path, "no such file") from None
    except PermissionError:
        raise InputError(field, path, "the file cannot be read (permission denied)") from None
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        raise InputError(field, path, f"not a PEM file of certificates ({reason})") from None
    except OSError as exc:
        raise InputError(field, path, exc.strerror or str(exc)) from None
