"""The README's first example, run as written against the emulator and type-checked."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nexudus_async.testing import EmulatorConfig, run_emulator

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE_URL = "http://127.0.0.1:8080"


def first_example() -> str:
    text = README.read_text()
    section = text[text.index("## First example") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "README has no python block under '## First example'"
    code = match.group(1)
    assert EXAMPLE_URL in code
    return code


async def test_first_example_runs_as_written(tmp_path: Path) -> None:
    # The published limits at real speed, as `make emulator` runs them: the
    # client's own limiter must keep the example clear of throttling.
    async with run_emulator(EmulatorConfig(time_scale=1.0, seed=7)) as emu:
        script = tmp_path / "example.py"
        script.write_text(first_example().replace(EXAMPLE_URL, emu.base_url))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert proc.returncode == 0, err.decode()[-3000:]
        output = out.decode()
        records = emu.store.all("coworkertimepasses")
        throttled = emu.stats.throttled

    assert "5 passes for customer 42" in output
    assert "MARK_AS_USED" in output
    # five created, one deleted; the first one updated and marked used
    assert len(records) == 4
    first = min(records, key=lambda r: r["Id"])
    assert first["Notes"] == "moved"
    assert first["Used"] is True
    assert first["CoworkerId"] == 42 and first["TimePassId"] == 7  # kept by the merge
    assert max(r["Id"] for r in records) == first["Id"] + 3  # the last one was deleted
    assert throttled == 0


@pytest.mark.skipif(
    shutil.which("mypy", path=str(Path(sys.executable).parent)) is None,
    reason="mypy is not installed next to this interpreter",
)
def test_first_example_is_mypy_strict_clean(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(first_example())
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_money_rule_the_readme_states_is_what_the_client_does() -> None:
    from decimal import Decimal

    from nexudus_async._core.transport import dumps
    from nexudus_async._core.values import check
    from nexudus_async._generated.api import COWORKER_TIME_PASS

    text = " ".join(README.read_text().split())
    assert "`0.1 + 0.2` is the float `0.30000000000000004`, and that is what is sent" in text
    assert 'pass `Decimal("0.3")` (or `0.3`) when you mean 0.3' in text
    assert 'so `12.3` means `Decimal("12.3")`' in text
    price = COWORKER_TIME_PASS.field("Price")
    assert price is not None

    def sent(value: object) -> bytes:
        return dumps({"Price": check(price, value)})

    assert sent(0.1 + 0.2) == b'{"Price":0.30000000000000004}'
    assert sent(Decimal("0.3")) == sent(0.3) == b'{"Price":0.3}'
    assert sent(12.3) == b'{"Price":12.3}' and check(price, 12.3) == Decimal("12.3")
    assert sent(Decimal("12.30")) == b'{"Price":12.30}'
