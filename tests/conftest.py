"""Settings for every test of the suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nexudus_async._core.local_limiter import ENV_STATE_DIR


@pytest.fixture(autouse=True, scope="session")
def _shared_limiter_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The command line shares limits through a store in the user's state directory:
    the suite's imports (and their subprocesses) keep theirs in a temporary one."""
    path = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_STATE_DIR, str(path))
        yield path
