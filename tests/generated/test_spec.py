"""The OpenAPI document: valid, and usable by the stock generator as it is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "nexudus-billing.yaml"
BIN = Path(sys.executable).parent


def test_openapi_spec_validator_accepts_the_spec() -> None:
    validate(yaml.safe_load(SPEC.read_text(encoding="utf-8")))


def test_stock_generator_generates_without_warnings(tmp_path: Path) -> None:
    env = dict(os.environ)
    # its default post hooks call ruff: the pinned one, from the venv
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    out = tmp_path / "stock"
    proc = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(SPEC),
            "--meta",
            "none",
            "--output-path",
            str(out),
            "--fail-on-warning",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Warning" not in proc.stdout + proc.stderr
    assert (out / "api" / "coworker_time_passes" / "list_coworker_time_passes.py").is_file()
