"""A base URL that is not one: one line naming where it came from, never a traceback.

Before, ``--base-url notaurl`` (or ``http://[::1``, ``http://h:port``) reached
the client's constructor inside the command and came out as
``error: unexpected ValueError: ...`` with exit status 70.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nexudus_async import NexudusClient
from nexudus_async._core.environment import normalize_base_url

SHOULD_BE = "base_url must be an http(s) URL such as 'https://spaces.nexudus.com'"


@pytest.mark.parametrize(
    "bad", ["http://[::1", "https://h.test:port", "https://bad host.test", "https://\thost.test"]
)
def test_malformed_urls_are_refused_with_the_same_sentence(bad: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalize_base_url(bad)
    assert str(caught.value) == SHOULD_BE
    with pytest.raises(ValueError) as caught:
        NexudusClient(bad, None)
    assert str(caught.value) == SHOULD_BE


def _run(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEXUDUS_")}
    return subprocess.run(
        [sys.executable, "-m", "nexudus_async.cli", *args],
        env={**base, "NEXUDUS_TOKEN": "tok-secret", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text("CoworkerId,BusinessId,TimePassId\n1,2,3\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("notaurl", "'notaurl'"),
        ("http://[::1", "'http://[::1'"),
        ("https://h.test:port", "'https://h.test:port'"),
    ],
)
@pytest.mark.parametrize("command", ["import", "probe", "export"])
def test_the_commands_name_the_option_and_the_value(
    tmp_path: Path, rows: Path, command: str, url: str, shown: str
) -> None:
    args = {
        "import": ["import", str(rows)],
        "probe": ["probe"],
        "export": ["export", "-o", str(tmp_path / "out.csv")],
    }[command]
    proc = _run(tmp_path, *args, "--base-url", url, env={})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1] == f"error: --base-url {shown}: {SHOULD_BE}"
    assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr
    assert proc.stdout == ""


def test_the_environment_variable_is_named_and_credentials_in_it_are_not_shown(
    tmp_path: Path, rows: Path
) -> None:
    proc = _run(tmp_path, "import", str(rows), env={"NEXUDUS_BASE_URL": "nope"})
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == f"error: NEXUDUS_BASE_URL 'nope': {SHOULD_BE}"
    proc = _run(tmp_path, "import", str(rows), "--base-url", "https://me:hunter2@x.test", env={})
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        "error: --base-url (not shown: it holds credentials): "
        "base_url must not contain credentials; pass auth= instead"
    )
    assert "hunter2" not in proc.stderr + proc.stdout
