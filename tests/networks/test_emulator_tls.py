"""``python -m nexudus_async.testing --tls`` (and ``--cert/--key``): the standalone emulator
over https, as a user starts it; its options' mistakes are one line, exit 2."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from nexudus_async import BasicAuth, NexudusClient
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD
from nexudus_async.testing.tls import ServerCertificate

START_TIMEOUT = 30.0
AUTH = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
EMULATOR = [sys.executable, "-m", "nexudus_async.testing", "--port", "0", "--no-throttle"]


@contextmanager
def _running(*args: str) -> Iterator[list[str]]:
    """The emulator in a child process; yields the lines it printed up to "Press Ctrl-C"."""
    proc = subprocess.Popen(
        [*EMULATOR, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    buffer = b""
    try:
        deadline = time.monotonic() + START_TIMEOUT
        # os.read, not readline: select() cannot see what a file object already buffered.
        while not lines or not lines[-1].startswith("Press Ctrl-C"):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([proc.stdout], [], [], max(left, 0))
            if not ready:
                pytest.fail(f"the emulator printed no banner in {START_TIMEOUT}s: {lines}")
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                pytest.fail(f"the emulator exited: {lines}")
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            lines += [line.decode() for line in complete]
        yield lines
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()


def _is_file(path: str) -> bool:
    return os.path.isfile(path)


def _field(lines: list[str], label: str) -> str:
    return next(line.split()[1] for line in lines if line.strip().startswith(label))


async def test_tls_makes_an_authority_prints_its_file_and_serves_https() -> None:
    with _running("--tls") as lines:
        url = lines[0].split()[-1]
        ca = _field(lines, "CA:")
        assert url.startswith("https://127.0.0.1:")
        assert lines[1].startswith(f"  API:      {url}/api/billing/")
        assert _is_file(ca)
        ca_line = next(line for line in lines if line.startswith("  CA:"))
        assert ca_line == (
            f"  CA:       {ca}  (trust it: --ca-bundle FILE, NEXUDUS_CA_BUNDLE or ca_bundle=)"
        )
        async with NexudusClient(url, AUTH, ca_bundle=ca, rate_limits=None) as client:
            created = await client.coworker_time_passes.create(
                coworker_id=42, business_id=1, time_pass_id=7
            )
            assert (await client.coworker_time_passes.get(created.id)).coworker_id == 42
    assert not _is_file(ca)  # the made authority lives as long as the emulator


async def test_cert_and_key_serve_https_with_the_given_certificate(
    local_certificate: ServerCertificate, ca_file: str
) -> None:
    with _running("--cert", local_certificate.cert_file, "--key", local_certificate.key_file) as (
        lines
    ):
        url = lines[0].split()[-1]
        assert url.startswith("https://127.0.0.1:")
        assert not any(line.startswith("  CA:") for line in lines)  # the user knows theirs
        async with NexudusClient(url, AUTH, ca_bundle=ca_file, rate_limits=None) as client:
            assert (await client.coworker_time_passes.list()).total_items == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cert", "c.pem"], "--cert and --key go together"),
        (
            ["--tls", "--key", "k.pem"],
            "--tls makes its own certificate: give either --tls or --cert/--key",
        ),
    ],
)
def test_inconsistent_tls_options_are_one_line_exit_2(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [*EMULATOR, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr == f"python -m nexudus_async.testing: error: {message}\n"


def test_an_unusable_certificate_is_one_line_exit_2(tmp_path: object) -> None:
    proc = subprocess.run(
        [*EMULATOR, "--cert", "/nonexistent/c.pem", "--key", "/nonexistent/k.pem"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        "python -m nexudus_async.testing: error: --cert/--key: cannot be used ("
    )
    assert len(proc.stderr.splitlines()) == 1


def test_tls_without_trustme_says_which_extra_to_install() -> None:
    # A plain install has no trustme: the made certificate needs the extra.
    code = (
        "import sys; sys.modules['trustme'] = None\n"
        "from nexudus_async.testing.__main__ import main\n"
        "sys.exit(main(['--tls', '--port', '0']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "python -m nexudus_async.testing: error: --tls: making a TLS certificate needs "
        "trustme: pip install 'nexudus-async[emulator-tls]' (or give your own with --cert "
        "and --key)\n"
    )
