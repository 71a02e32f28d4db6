"""Settings for every test of the suite.

Hypothesis profiles for the property tests (tests/properties): ``default``, a
bounded, derandomized run, so `make test` stays fast and CI repeatable; ``long``
(``pytest --hypothesis-profile=long``): many more examples, freshly drawn.
Neither has a deadline or a too-slow check: how fast the machine is must not matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from nexudus_async._core.local_limiter import ENV_STATE_DIR

_PATIENT = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=40, derandomize=True, **_PATIENT)
settings.register_profile("long", max_examples=2_000, **_PATIENT)


@pytest.fixture(autouse=True, scope="session")
def _shared_limiter_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The command line shares limits through a store in the user's state directory:
    the suite's imports (and their subprocesses) keep theirs in a temporary one."""
    path = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_STATE_DIR, str(path))
        yield path
