"""Schemathesis (pinned 4.32.5) against a standalone emulator process, with the OpenAPI document.

Bounded and deterministic: 25 examples per operation, seed 42, no shrinking,
throttling off. Every check runs, ``positive_data_acceptance`` ("schema-valid
request rejected") included: the document states the API's real constraints
(32-bit integers, Ids >= 1, non-empty command keys and id lists, what each
grant type needs) and the emulator takes what the API takes (``""`` as a null
date or GUID). Two things no schema can say are configured, not hidden:

- ``CreateMultiple`` above the emulator's safety cap, which the API does not
  document (``schemathesis_hooks.py`` sends the cap instead);
- ``runcommand``: whether a ``Key`` is a command of the entity and whether the
  ``Ids`` exist is data (``GET .../commands``, the store), so a 400 naming them
  is a right answer to a schema-valid request there, and only there;
- ``dir``: the pages disagree on its spellings, and an account ignores one it
  does not understand (``EmulatorConfig.dir_encoding``): any value gets the
  list, so the run sends ``descending`` rather than count a 200 as a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

from .spec import SPEC_PATH

HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
#: ``dir`` fixed; runcommand only: 400 (unknown Key or Ids) joins the statuses a valid
#: request may get.
CONFIG = """
[parameters]
"query.dir" = "descending"

[[operations]]
include-path-regex = "/runcommand$"
checks.positive_data_acceptance.expected-statuses = [
  "2XX", "3XX", "400", "401", "403", "404", "409", "429", "5XX",
]
"""

SCHEMATHESIS = (
    "import sys; from schemathesis.cli import schemathesis; "
    "sys.argv[0] = 'st'; sys.exit(schemathesis())"
)


@pytest.fixture
def standalone_url(tmp_path: Path) -> Iterator[str]:
    """``python -m nexudus_async.testing --port 0 --no-throttle``, stopped with SIGTERM."""
    log = tmp_path / "emulator.out"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nexudus_async.testing", "--port", "0", "--no-throttle"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        url = ""
        while time.monotonic() < deadline and proc.poll() is None:
            first = log.read_text().splitlines()[:1]
            if first and first[0].startswith("Nexudus emulator listening on "):
                url = first[0].rsplit(" ", 1)[1]
                break
            time.sleep(0.05)
        assert url, f"the emulator did not start:\n{log.read_text()}"
        yield url
    finally:
        proc.terminate()
        try:
            assert proc.wait(timeout=10) == 0, log.read_text()
        except subprocess.TimeoutExpired:  # pragma: no cover - only when it hangs
            proc.kill()
            proc.wait(timeout=10)
            raise


def test_standalone_emulator_announces_url_and_credentials(
    standalone_url: str, tmp_path: Path
) -> None:
    text = (tmp_path / "emulator.out").read_text()
    assert standalone_url.startswith("http://127.0.0.1:")
    assert f"{DEFAULT_ADMIN_EMAIL} / {DEFAULT_ADMIN_PASSWORD}" in text


def test_schemathesis_finds_nothing(standalone_url: str, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": HOOKS.stem,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(HOOKS.parent), os.environ.get("PYTHONPATH")])
        ),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            SCHEMATHESIS,
            "--config-file",
            str(config),
            "run",
            str(SPEC_PATH),
            "--url",
            standalone_url,
            "--auth",
            f"{DEFAULT_ADMIN_EMAIL}:{DEFAULT_ADMIN_PASSWORD}",
            "--max-examples",
            "25",
            "--seed",
            "42",
            "--no-shrink",
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--max-failures",
            "10",
        ],
        cwd=tmp_path,  # keeps any hypothesis/report files out of the repository
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "passed" in output
