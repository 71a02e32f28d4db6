"""Schemathesis (pinned 4.32.5) against the admin API, from the document it serves.

An emulator process started with an admin token, so ``ignored_auth`` can
check that the declared security is enforced; every check runs (the
default; ``--checks all`` would override the per-operation exemption). Bounded and
deterministic: 5 examples per operation, seed 42, no shrinking, one worker.

One exemption: ``positive_data_acceptance`` on the two seeding operations.
The admin document describes a seeded record loosely (any object: its fields
are the Nexudus record's, documented in openapi/nexudus-billing.yaml), while
the emulator checks each field with the API's rules, so a schema-valid object
with an unknown or mistyped field is rightly answered 400.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nexudus_async.testing import EmulatorProcess

SCHEMATHESIS = (
    "import sys; from schemathesis.cli import schemathesis; "
    "sys.argv[0] = 'st'; sys.exit(schemathesis())"
)
TOKEN = "schemathesis-admin-token"
CONFIG = """\
[[operations]]
include-operation-id = ["seedRecords", "seedCollection"]
checks.positive_data_acceptance.enabled = false
# An array past maxItems may also be past the 1 MiB body limit: 413 is a rejection too.
checks.negative_data_rejection.expected-statuses = [
    400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429,
]
"""


def test_schemathesis_finds_nothing_in_the_admin_api(tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    with EmulatorProcess("--no-throttle", admin_token=TOKEN) as emulator:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                SCHEMATHESIS,
                "--config-file",
                str(config),
                "run",
                emulator.url + "/_emulator/openapi.json",  # the document as served
                "--url",
                emulator.url,
                "--header",
                f"Authorization: Bearer {TOKEN}",
                "--max-examples",
                "5",
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
            capture_output=True,
            text=True,
            # a guard against a hang, not a speed requirement: on a loaded machine (a mutation
            # run under nice) these 5 examples per operation took over two minutes
            timeout=900,
            check=False,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "passed" in output and "failed" not in output
