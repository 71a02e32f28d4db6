"""Redis stays optional: a plain install and a plain import need only aiohttp, attrs, cattrs."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

from packaging.requirements import Requirement


def test_redis_is_an_extra_and_the_runtime_needs_only_three_packages() -> None:
    requires = [Requirement(r) for r in importlib.metadata.requires("nexudus-async") or ()]
    plain = {r.name for r in requires if r.marker is None}
    assert plain == {"aiohttp", "attrs", "cattrs"}
    extras = {str(r.marker) for r in requires if r.name == "redis"}
    assert 'extra == "redis"' in extras


def test_the_client_and_its_limiter_protocol_load_no_redis() -> None:
    code = (
        "import sys, nexudus_async as n; n.NexudusClient; n.Limiter; n.RateLimiter; "
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(out.stdout.split())
    assert "nexudus_async._core.limiter" in loaded
    assert not {m for m in loaded if m == "redis" or m.startswith("redis.")}
