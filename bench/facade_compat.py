"""Open the facade the way a user would, in one place for every benchmark.

Only the benchmarks' view of the facade lives here (which keyword switches
the limiter off, how to scale it for an emulator), so a change of its API
is adapted once.
"""

from __future__ import annotations

import inspect
from typing import Any

from common import Missing

EMAIL, PASSWORD = "bench@example.com", "bench-password"


def load() -> Any:
    try:
        import nexudus_async.client as facade_mod
    except ImportError as e:
        raise Missing(f"the facade (nexudus_async.client) is not importable: {e}") from e
    if not hasattr(facade_mod, "NexudusClient"):
        raise Missing("nexudus_async.client has no NexudusClient yet")
    return facade_mod


def basic_auth(email: str = EMAIL, password: str = PASSWORD) -> Any:
    from nexudus_async._core.auth import BasicAuth

    return BasicAuth(email, password)


def limits_kwarg(facade_mod: Any) -> str:
    params = inspect.signature(facade_mod.NexudusClient).parameters
    for name in ("rate_limits", "limits"):
        if name in params:
            return name
    raise Missing(f"NexudusClient takes no rate_limits argument: {list(params)}")


def client(
    url: str, *, limits: Any = None, email: str = EMAIL, password: str = PASSWORD, **extra: Any
) -> Any:
    """``NexudusClient`` on ``url``; ``limits=None`` switches the client-side limiter off."""
    mod = load()
    kwargs = {limits_kwarg(mod): limits, **extra}
    return mod.NexudusClient(base_url=url, auth=basic_auth(email, password), **kwargs)


def scaled_limits(time_scale: float) -> Any:
    """The published limits on an emulator clock running ``1/time_scale`` times faster."""
    from nexudus_async._core.throttle import RateLimits

    return RateLimits.published().scaled(time_scale)
