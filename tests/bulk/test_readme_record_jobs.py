"""The README's worked example of update, delete, apply and undo, run as written.

Each ``$ nexudus-async ...`` line of the section runs against the emulator,
after the section's import; the lines shown under it appear in its output in
that order (durations and the lines ``...`` stands for aside).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nexudus_async.demo import sample_path
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, EmulatorConfig

from .threaded_emulator import threaded_emulator

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Bulk update, delete, apply and undo"


def transcript() -> list[tuple[str, list[str]]]:
    """(command, the output lines shown under it), in the section's order."""
    text = README.read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", 1)]
    steps: list[tuple[str, list[str]]] = []
    fence: str | None = None  # the open block's language ("" for a transcript)
    for line in section.splitlines():
        if line.startswith("```"):
            fence = line[3:] if fence is None else None
        elif fence == "" and line.startswith("$ "):
            steps.append((line[2:], []))
        elif fence == "" and steps:
            steps[-1][1].append(line)
    return steps


def _shown(line: str) -> str:
    """A line as compared: a duration left out (``in 0:15 (15.1 s)``)."""
    return re.sub(r" in \d+:\d\d \(\d+\.\d s\)$", "", line)


def _in_order(shown: list[str], output: list[str]) -> None:
    got = [_shown(line) for line in output]
    at = 0
    for line in shown:
        if line.strip() in ("...", "") or line.startswith("  left alone:"):
            continue  # which passes a delete took decides these
        want = _shown(line)
        assert want in got[at:], f"{want!r} not in the output after line {at}:\n" + "\n".join(
            output
        )
        at = got.index(want, at) + 1


@pytest.mark.skipif(shutil.which("printf") is None, reason="the example writes files with printf")
def test_the_readme_worked_example_runs_as_shown(tmp_path: Path) -> None:
    steps = transcript()
    assert len(steps) >= 10
    env = {
        **os.environ,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
        "NEXUDUS_STATE_DIR": str(tmp_path / "state"),
    }
    with threaded_emulator(EmulatorConfig(time_scale=0.01)) as emu:
        env["NEXUDUS_BASE_URL"] = emu.base_url
        shutil.copy(sample_path(), tmp_path / "passes.csv")
        cli = [sys.executable, "-m", "nexudus_async.cli"]
        done = subprocess.run(
            [*cli, "import", "passes.csv", "--time-scale", "0.01", "--progress", "none"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        for command, shown in steps:
            words = shlex.split(command)
            if words[0] == "printf":
                subprocess.run(command, shell=True, cwd=tmp_path, check=True)
                continue
            assert words[0] == "nexudus-async"
            result = subprocess.run(
                [*cli, *words[1:], "--progress", "none"],
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            read_only = "CreatedOn" in command
            assert result.returncode == (2 if read_only else 0), command + "\n" + result.stderr
            assert "Traceback" not in result.stderr
            _in_order(shown, (result.stdout + result.stderr).splitlines())
