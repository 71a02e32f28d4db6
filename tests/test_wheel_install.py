"""Installing as the README says: ``make dist``'s wheel installs into a fresh virtualenv and runs.

The virtualenv sees nothing of this one (no system site-packages): pip
installs the wheel and its three runtime dependencies the way a user's pip
does (its download cache makes it quick after the first time), the
dependencies too. Then the
console script runs there: ``--help``, and a dry run of a spreadsheet file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXUDUS_", "VIRTUAL_ENV"))}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=600, env=env, cwd=cwd
    )


@pytest.mark.wheel
def test_the_wheel_installs_into_a_fresh_virtualenv_and_its_command_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # What `make dist` runs: an sdist, then the wheel built from it (so the sdist is complete).
    built = _run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = dist.glob("nexudus_async-*-py3-none-any.whl")
    assert len(list(dist.glob("nexudus_async-*.tar.gz"))) == 1
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.endswith(".lua")}
    assert shipped == {
        f"nexudus_async/_core/{n}.lua" for n in ("clock", "acquire", "throttled", "prime")
    }

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, system_site_packages=False)
    python = env_dir / "bin" / "python"
    # This environment's pip installs into that one (--python): no ensurepip, no .pyc, quick.
    installed = _run(
        sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-compile",
        "--disable-pip-version-check", wheel,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    code = "import aiohttp, attrs, cattrs, nexudus_async as n; print(n.__file__, aiohttp.__file__)"
    where = _run(python, "-c", code, cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert all(p.startswith(str(env_dir)) for p in where.stdout.split()), where.stdout
    # The shared limiter's Lua scripts are package data, read from the installed package.
    scripts = "from nexudus_async._core import redis_limiter as r; print(r._PRIME.source[:2])"
    lua = _run(python, "-c", scripts, cwd=tmp_path)
    assert (lua.returncode, lua.stdout) == (0, "--\n"), lua.stderr

    command = env_dir / "bin" / "nexudus-async"
    helped = _run(command, "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: nexudus-async")
    assert "import" in helped.stdout and "export" in helped.stdout

    sample = tmp_path / "passes.csv"
    sample.write_bytes(
        "CoworkerID;BusinessId;TimePassId;Customer name;Price;ExpireDate\r\n"
        "7;1;2;Zoë Müller;12,30;31/01/2027\r\n"
        "8;1;2;Jürgen;;\r\n".encode("cp1252")
    )
    options = ("--encoding", "cp1252", "--decimal", ",", "--date-format", "%d/%m/%Y")
    dry = _run(command, "import", sample, "--dry-run", *options, "--ignore-columns",
               "Customer name", cwd=tmp_path)  # fmt: skip
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert dry.stderr == ""
    assert f"plan for {sample} (CoworkerTimePass):" in dry.stdout
    assert "  passes:           2" in dry.stdout.splitlines()
    assert dry.stdout.endswith("dry run: nothing was sent\n")
