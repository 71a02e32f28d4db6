"""The installed package's surface: its exports, and what importing a part loads."""

from __future__ import annotations

import subprocess
import sys

import pytest

import nexudus_async


def test_every_export_resolves_and_the_lazy_table_matches_all() -> None:
    assert set(nexudus_async._EXPORTS) | {"__version__"} == set(nexudus_async.__all__)
    for name in nexudus_async.__all__:
        assert getattr(nexudus_async, name) is not None, name
    assert set(nexudus_async.__all__) <= set(dir(nexudus_async))


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        nexudus_async.NoSuchThing  # noqa: B018


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(out.stdout.split())


def test_the_emulator_loads_the_descriptors_but_no_client_models_or_pipeline() -> None:
    # It is a pytest plugin in every test run of every user who installed us.
    loaded = _loaded_after("import nexudus_async.testing, nexudus_async.testing.pytest_plugin")
    ours = {m for m in loaded if m.startswith("nexudus_async.")}
    assert "nexudus_async._generated.api" in ours  # the tables come from the spec
    facade = {
        "nexudus_async.client",
        "nexudus_async._core.resource",
        "nexudus_async._core.pipeline",
        "nexudus_async._core.auth",
        "nexudus_async._core.throttle",
        "nexudus_async._core.wire",
        "nexudus_async.bulk",
    }
    assert not ours & facade
    assert not {
        m
        for m in ours
        if m.startswith(("nexudus_async._generated.models", "nexudus_async._generated.api."))
    }
    assert "cattrs" not in loaded


def test_importing_the_client_loads_no_httpx() -> None:
    loaded = _loaded_after("from nexudus_async import NexudusClient")
    assert "nexudus_async.client" in loaded
    assert "httpx" not in loaded
