"""The emulator over TLS: a certificate you give it, or one it makes for this machine.

Making one needs trustme (``pip install 'nexudus-async[emulator-tls]'``): a
fresh certificate authority per run, and a certificate it signs for
``localhost``, ``127.0.0.1`` and ``::1``. Clients then trust the authority's
file (``ca_bundle=``, ``--ca-bundle``, ``NEXUDUS_CA_BUNDLE``), as they would
a company network's own authority.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Sequence

import attrs

__all__ = ["LOCAL_NAMES", "ServerCertificate", "TLSUnavailableError", "make_local_certificate"]

LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
"""The names a made certificate is valid for."""

EXTRA_HINT = "pip install 'nexudus-async[emulator-tls]'"


class TLSUnavailableError(RuntimeError):
    """A certificate cannot be made here: trustme is not installed."""


@attrs.frozen
class ServerCertificate:
    """The files an https emulator serves with."""

    cert_file: str
    """PEM: the server's certificate (and any intermediates)."""
    key_file: str
    """PEM: its private key."""
    ca_file: str | None = None
    """PEM: the authority that signed it, when known: what clients must trust."""

    def server_context(self) -> ssl.SSLContext:
        """A server-side context; ``OSError``/``ssl.SSLError`` name an unusable file."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_local_certificate(
    directory: str | os.PathLike[str], names: Sequence[str] = LOCAL_NAMES
) -> ServerCertificate:
    """A new authority and a certificate it signs for ``names``, written to ``directory``
    (``ca.pem``, ``server.pem``, ``server-key.pem``)."""
    try:
        import trustme
    except ImportError:
        raise TLSUnavailableError(
            f"making a TLS certificate needs trustme: {EXTRA_HINT} "
            "(or give your own with --cert and --key)"
        ) from None
    authority = trustme.CA(organization_unit_name="nexudus-async emulator")
    leaf = authority.issue_cert(*names)
    folder = os.fspath(directory)
    ca_file = os.path.join(folder, "ca.pem")
    cert_file = os.path.join(folder, "server.pem")
    key_file = os.path.join(folder, "server-key.pem")
    authority.cert_pem.write_to_path(ca_file)
    with open(cert_file, "wb") as out:
        for blob in leaf.cert_chain_pems:
            out.write(blob.bytes())
    leaf.private_key_pem.write_to_path(key_file)
    os.chmod(key_file, 0o600)
    return ServerCertificate(cert_file, key_file, ca_file)
