"""The stock openapi-python-client, generated from our own spec at bench time.

Generated with the pinned generator's default templates (httpx transport,
hand-rolled ``from_dict``) into a temporary folder that is never committed,
then imported from there. This is what a user gets without our templates.
"""

from __future__ import annotations

import atexit
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from types import ModuleType

from common import ROOT, Missing

SPEC = os.path.join(ROOT, "openapi", "nexudus-billing.yaml")
_cache: dict[str, object] = {}


def generate() -> tuple[ModuleType, float]:
    """Generate (once per run) and import ``stock_client``; return it and seconds taken."""
    if "mod" in _cache:
        return _cache["mod"], 0.0  # type: ignore[return-value]
    tmp = tempfile.mkdtemp(prefix="nexudus-bench-stock-")
    atexit.register(shutil.rmtree, tmp, True)
    bindir = os.path.dirname(sys.executable)
    exe = os.path.join(bindir, "openapi-python-client")
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    started = time.perf_counter()
    res = subprocess.run(
        [
            exe,
            "generate",
            "--path",
            SPEC,
            "--meta",
            "none",
            "--output-path",
            os.path.join(tmp, "stock_client"),
        ],
        cwd=tmp,  # no ruff config of ours applies to the stock output
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - started
    if res.returncode != 0 or not os.path.isdir(os.path.join(tmp, "stock_client")):
        raise Missing(f"stock generation failed: {res.stdout[-500:]} {res.stderr[-500:]}")
    sys.path.insert(0, tmp)
    mod = importlib.import_module("stock_client")
    _cache["mod"] = mod
    return mod, took


def api(name: str) -> ModuleType:
    """``api("get_coworker_time_pass")`` -> the stock endpoint module."""
    generate()
    return importlib.import_module(f"stock_client.api.coworker_time_passes.{name}")


def model(module: str, cls: str) -> type:
    generate()
    return getattr(importlib.import_module(f"stock_client.models.{module}"), cls)  # type: ignore[no-any-return]
