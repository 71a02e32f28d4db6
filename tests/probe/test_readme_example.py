"""The README's "Before you go live" report is what the probe prints on the default emulator."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, run_emulator

README = Path(__file__).resolve().parent.parent.parent / "README.md"
EXAMPLE_URL = "http://127.0.0.1:8080"


def _readme_report() -> str:
    text = README.read_text()
    section = text[text.index("## Before you go live") :]
    match = re.search(r"```text\n(.*?)```", section, re.S)
    assert match is not None, "no text block under '## Before you go live'"
    return match.group(1)


def _comparable(report: str, base_url: str) -> str:
    """Without what depends on the run: the address, the request count (a throttled
    request is resent), and the burst's outcome (whether 3 requests at once arrive
    within the published 100 ms is the machine's business)."""
    report = report.replace(base_url, "URL")
    report = re.sub(r": \d+ requests\n", ": N requests\n", report)
    report = re.sub(
        r"\[[^\]]*\] Throttled answer \(throttle\)\n(?:    .*\n|              .*\n)*\n", "", report
    )
    return report.replace("(not judged: filters, enums, throttle)", "(not judged: filters, enums)")


async def test_the_readme_report_is_the_default_emulators(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUDUS_")}
    env.update(NEXUDUS_EMAIL=DEFAULT_ADMIN_EMAIL, NEXUDUS_PASSWORD=DEFAULT_ADMIN_PASSWORD)
    async with run_emulator() as emu:  # the defaults, as `nexudus-async emulator` runs
        args = ["--base-url", emu.base_url, "--write", "--coworker", "42", "--business", "1",
                "--time-pass", "1"]  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "nexudus_async.cli", "probe", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=env, cwd=tmp_path,
        )  # fmt: skip
        out, err = await proc.communicate()
        base_url = emu.base_url
    assert proc.returncode == 0, err.decode()
    got = _comparable(out.decode(), base_url)
    assert got == _comparable(_readme_report(), EXAMPLE_URL)
    assert "[     ok] Nothing left behind (cleanup)" in got
