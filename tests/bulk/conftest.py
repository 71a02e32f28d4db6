"""Every bulk test keeps its job locks in its own state directory (inherited by subprocesses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexudus_async.bulk.lock import ENV_STATE_DIR


@pytest.fixture(autouse=True)
def job_lock_state_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    path = tmp_path_factory.mktemp("state")
    monkeypatch.setenv(ENV_STATE_DIR, str(path))
    return path
