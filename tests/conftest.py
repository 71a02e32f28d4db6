"""Hypothesis profiles for the property tests (tests/properties).

``default``: a bounded, derandomized run, so `make test` stays fast and CI repeatable;
``long`` (``pytest --hypothesis-profile=long``): many more examples, freshly drawn.
Neither has a deadline or a too-slow check: how fast the machine is must not matter.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_PATIENT = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=40, derandomize=True, **_PATIENT)
settings.register_profile("long", max_examples=2_000, **_PATIENT)
